"""Crawl throughput: the full pipeline against bare Scrapy, over loopback HTTP.

    .venv/bin/python bench/bench_crawl.py [--pages 3000] [--rows 10] [--databases sqlite,postgres]
                                          [--modes bare,spider,pipeline] [--profile FILE]

Generates a Tweede Kamer OData recording of ``--pages`` pages (``--rows`` rows each) in the
real wire format (Document, Zaak, Activiteit, Besluit and Toezegging rows in the shape of
tests/fixtures/tweedekamer, with Dutch policy titles, dossiers, actors, motions that join their
documents and votes that update their motions), serves it over real HTTP from a separate
process (tests/loopback.py), and crawls it, each crawl in a fresh process:

- ``bare``: a plain Scrapy spider that requests the same pages, parses each page's JSON and
  yields one dict per row, following ``@odata.nextLink``; no pipelines. The baseline.
- ``spider``: our TweedekamerSpider, no pipelines: what our parsing into PolicyItems costs.
- ``pipeline``: our spider with our pipelines (NormalizePipeline → StorePipeline: identify,
  store with versions/events/search index, match against the 16 default topics) into a fresh
  archive, once per database in ``--databases``.
- ``store`` (not run by default): the storing alone, without HTTP or Scrapy's engine: the
  recording's pages parsed by our spider in-process, the items normalised, then stored in
  batches of BATCH_ITEMS through StorePipeline's own batch write into a fresh archive; CPU
  per item of the storing only. Much steadier than a whole crawl on a noisy machine: the
  one to compare two versions of the storing with.
- ``again`` (not run by default; after ``pipeline``): the same crawl into the archive the
  pipeline crawl left: the weekly re-crawl, in which nearly every item is one the archive
  holds unchanged.

All crawls use the same settings: politeness off (no delay, no AutoThrottle, 16 concurrent
requests per host), so the crawler, not the rules for real sites, is measured. Targets
(issue 9): the pipeline keeps at least half of bare Scrapy's items/s, and stores at least
1,000 items/s on SQLite. Prints the figures; ``--profile FILE`` writes a pyinstrument profile
(HTML) of the SQLite pipeline crawl; ``--batch-items N`` stores N items per transaction instead
of the pipeline's BATCH_ITEMS (``1``: one transaction per item, as before the batching).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ORIGIN = "https://gegevensmagazijn.tweedekamer.nl"
RECORDED_AT = datetime(2026, 11, 27, 17, 0, tzinfo=UTC)
CURSOR_START = datetime(2026, 11, 20, 0, 0, tzinfo=UTC)
POSTGRES_URL = os.environ.get(
    "BELEIDSRADAR_TEST_POSTGRES_URL", "postgresql+psycopg://root@127.0.0.1:5432/test"
)
#: Share of the pages per entity set (the TK API's week: mostly documents and cases).
ENTITY_SHARE = {"Document": 0.40, "Zaak": 0.30, "Activiteit": 0.10, "Besluit": 0.10,
                "Toezegging": 0.10}
BENCH_SETTINGS = {
    "DOWNLOAD_DELAY": 0,
    "AUTOTHROTTLE_ENABLED": False,
    "CONCURRENT_REQUESTS": 16,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 16,
    "LOG_LEVEL": "ERROR",
}

SUBJECTS_ON = [
    "mensenhandel", "arbeidsuitbuiting in distributiecentra", "seksuele uitbuiting van minderjarigen",
    "loverboys", "de opvang van slachtoffers van mensenhandel", "seksueel geweld tegen kinderen",
    "online seksueel misbruik van kinderen", "grooming en sextortion", "de Hervormingsagenda Jeugd",
    "het Nationaal Actieprogramma seksueel grensoverschrijdend gedrag", "de herziening van art. 273f Sr",
    "de implementatie van Richtlijn (EU) 2024/1712", "de CSAM-verordening (chatcontrole)",
    "gesloten jeugdhulp",
]
SUBJECTS_OFF = [
    "stikstof en natuurherstel", "de woningmarkt", "het Belastingplan 2027", "defensiematerieel",
    "het mbo", "de zorgverzekering", "de energietransitie", "het openbaar vervoer in de regio",
    "de landbouw", "de pensioentransitie", "de arbeidsmarkt", "de kinderopvangtoeslag",
    "vergunningverlening", "het lerarentekort", "Schiphol en de luchtvaart", "grensbewaking",
    "de Wet open overheid", "netcongestie", "de asielketen", "de Nationale Politie",
]
FRAMES = [
    "Voortgangsbrief over {s}", "Vragen van het lid {n} over {s}",
    "Antwoord op vragen van het lid {n} over {s} en {t}", "Kabinetsreactie op het rapport over {s}",
    "Verslag van een commissiedebat over {s} en {t}", "Nota van wijziging inzake {s}",
    "Geannoteerde agenda van de JBZ-Raad: {s}", "Stand van zaken {s} in relatie tot {t}",
    "Reactie op verzoek commissie over {s}", "Beleidsreactie op het onderzoek naar {s}",
]
MOTION_FRAMES = [
    "Motie van het lid {n} over {s}", "Motie van de leden {n} en {m} over {s}",
    "Gewijzigde motie van het lid {n} c.s. over {s} (t.v.v. {k})",
]
PEOPLE = [("J.T. Koster", "GroenLinks-PvdA"), ("M.E. Verhoeven", "CDA"), ("S. Aydin", "NSC"),
          ("P. de Graaf", "VVD"), ("L. Hoekstra", "D66"), ("R. van der Werf", "PVV"),
          ("M. Bikker", "ChristenUnie"), ("K. Mutluer", "GroenLinks-PvdA"), ("U. Ellian", "VVD"),
          ("A. Podt", "D66"), ("F.N. Smit", "SP"), ("H. Dobbe", "SP")]
MINISTERS = [("Staatssecretaris van Justitie en Veiligheid", "Justitie en Veiligheid"),
             ("Minister van Sociale Zaken en Werkgelegenheid", "Sociale Zaken en Werkgelegenheid"),
             ("Staatssecretaris van Volksgezondheid, Welzijn en Sport",
              "Volksgezondheid, Welzijn en Sport"),
             ("Minister van Asiel en Migratie", "Asiel en Migratie")]
DOSSIERS = [(28638, None, "Mensenhandel"), (36547, None, "Wijziging van het Wetboek van "
             "Strafrecht in verband met de modernisering van de strafbaarstelling van mensenhandel"),
            (31015, None, "Kindermishandeling"), (31839, None, "Jeugdzorg"),
            (34843, None, "Zeden"), (22112, None, "Nieuwe Commissievoorstellen en "
             "initiatieven van de lidstaten van de Europese Unie"), (32317, None, "JBZ-Raad"),
            (35334, None, "Problematiek rondom stikstof en PAS"), (32847, None, "Integrale "
             "visie op de woningmarkt"), (36600, "VI", "Vaststelling van de begrotingsstaten "
             "van het Ministerie van Justitie en Veiligheid (VI) voor het jaar 2027"),
            (29383, None, "Beleid ten aanzien van het mbo"), (27830, None, "Materieelprojecten")]
COMMITTEES = ["vaste commissie voor Justitie en Veiligheid", "vaste commissie voor Sociale Zaken "
              "en Werkgelegenheid", "vaste commissie voor Volksgezondheid, Welzijn en Sport",
              "vaste commissie voor Landbouw, Visserij, Voedselzekerheid en Natuur"]


# --- the recording ----------------------------------------------------------------------------


class Rows:
    """Synthetic TK OData rows in the fixture's shape; ids and numbers deterministic per seed."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.clock = CURSOR_START
        self.zaak_number = 20000
        self.document_number = 47000
        self.volgnummer: dict[int, int] = {}
        self.motions: list[dict[str, Any]] = []

    def uid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def tick(self) -> str:
        """The next ApiGewijzigdOp, as the API writes it (7 fractional digits, Z)."""
        self.clock += timedelta(milliseconds=self.rng.randint(50, 900))
        return self.clock.strftime("%Y-%m-%dT%H:%M:%S.%f") + "1Z"

    def subject(self) -> tuple[str, bool]:
        on = self.rng.random() < 0.15
        return self.rng.choice(SUBJECTS_ON if on else SUBJECTS_OFF), on

    def title(self, frames: list[str]) -> str:
        s, on = self.subject()
        t = self.rng.choice(SUBJECTS_ON if on and self.rng.random() < 0.5 else SUBJECTS_OFF)
        (n, _), (m, _) = self.rng.sample(PEOPLE, 2)
        return self.rng.choice(frames).format(s=s, t=t, n=n.split()[-1], m=m.split()[-1],
                                              k=self.rng.randint(30000, 36999))

    def dossier(self) -> dict[str, Any]:
        number, toevoeging, title = self.rng.choice(DOSSIERS)
        return {"Id": self.uid(), "Titel": title, "Citeertitel": None, "Alias": None,
                "Nummer": number, "Toevoeging": toevoeging, "HoogsteVolgnummer": 400,
                "Afgesloten": False, "Kamer": "Tweede Kamer", "Verwijderd": False}

    def actors(self, key: str, owner: str, count: int) -> list[dict[str, Any]]:
        roles = ["Indiener", "Medeindiener", "Medeindiener"]
        return [{"Id": self.uid(), key: owner, "ActorNaam": name, "ActorFractie": party,
                 "Functie": "Tweede Kamerlid", "Relatie": roles[min(i, 2)],
                 "Verwijderd": False}
                for i, (name, party) in enumerate(self.rng.sample(PEOPLE, count))]

    def zaak(self, soort: str | None = None) -> dict[str, Any]:
        soort = soort or self.rng.choice(["Motie", "Motie", "Brief regering", "Schriftelijke vragen",
                                          "Wetgeving", "Amendement", "Verzoek"])
        title = self.title(MOTION_FRAMES if soort == "Motie" else FRAMES)
        self.zaak_number += 1
        zaak_id = self.uid()
        row = {
            "Id": zaak_id, "Nummer": f"2026Z{self.zaak_number:05d}", "Soort": soort,
            "Titel": title.split(" over ")[-1][:1].upper() + title.split(" over ")[-1][1:],
            "Citeertitel": None, "Alias": None, "Status": "Vrijgegeven", "Onderwerp": title,
            "GestartOp": (self.clock - timedelta(days=self.rng.randint(0, 30))).strftime(
                "%Y-%m-%dT00:00:00+01:00"),
            "Organisatie": "Tweede Kamer", "Vergaderjaar": "2026-2027",
            "Volgnummer": self.rng.randint(0, 400), "HuidigeBehandelstatus": None,
            "Afgedaan": self.rng.random() < 0.3, "GrootProject": False,
            "Kabinetsappreciatie": self.rng.choice([None, "Oordeel Kamer", "Ontraden"])
            if soort == "Motie" else None,
            "GewijzigdOp": self.clock.strftime("%Y-%m-%dT%H:%M:%S+01:00"),
            "ApiGewijzigdOp": self.tick(), "Verwijderd": False,
            "Kamerstukdossier": [self.dossier()] if soort != "Schriftelijke vragen" else [],
            "ZaakActor": self.actors("Zaak_Id", zaak_id, self.rng.randint(1, 3)),
        }
        if soort == "Motie":
            self.motions.append(row)
        return row

    def document(self) -> dict[str, Any]:
        zaak = self.zaak()
        soort = {"Motie": "Motie", "Brief regering": "Brief regering",
                 "Schriftelijke vragen": "Schriftelijke vragen", "Amendement": "Amendement",
                 "Wetgeving": "Memorie van toelichting", "Verzoek": "Brief commissie"}[zaak["Soort"]]
        dossiers = [dict(d) for d in zaak["Kamerstukdossier"]]
        volgnummer = -1
        if dossiers and soort != "Brief commissie":
            number = dossiers[0]["Nummer"]
            self.volgnummer[number] = volgnummer = self.volgnummer.get(number, 280) + 1
        self.document_number += 1
        doc_id, version_id = self.uid(), self.uid()
        external = (f"kst-{dossiers[0]['Nummer']}-{volgnummer}" if volgnummer > 0
                    else f"kv-tk-{zaak['Nummer']}" if soort == "Schriftelijke vragen" else None)
        return {
            "Id": doc_id, "Soort": soort, "DocumentNummer": f"2026D{self.document_number:05d}",
            "Titel": zaak["Titel"], "Onderwerp": zaak["Onderwerp"],
            "Datum": self.clock.strftime("%Y-%m-%dT00:00:00+01:00"), "Vergaderjaar": "2026-2027",
            "Kamer": 2, "Volgnummer": volgnummer, "Citeertitel": None, "Alias": None,
            "DatumRegistratie": self.clock.strftime("%Y-%m-%dT00:00:00+01:00"),
            "Aanhangselnummer": None, "Organisatie": "Tweede Kamer",
            "ContentType": "application/pdf", "ContentLength": self.rng.randint(20000, 900000),
            "GewijzigdOp": self.clock.strftime("%Y-%m-%dT%H:%M:%S+01:00"),
            "ApiGewijzigdOp": self.tick(), "Verwijderd": False,
            "HuidigeDocumentVersie_Id": version_id,
            "Kamerstukdossier": dossiers,
            "DocumentVersie": [{"Id": version_id, "Status": "Definitief", "Versienummer": 1,
                                "Extensie": ".pdf", "Verwijderd": False, "Document_Id": doc_id,
                                "Datum": self.clock.strftime("%Y-%m-%dT00:00:00+01:00"),
                                "ExterneIdentifier": external}],
            "Zaak": [{k: v for k, v in zaak.items() if k not in ("Kamerstukdossier", "ZaakActor")}],
            "DocumentActor": [{**a, "Document_Id": doc_id} for a in zaak["ZaakActor"]],
        }

    def activiteit(self) -> dict[str, Any]:
        when = self.clock + timedelta(days=self.rng.randint(1, 40), hours=self.rng.randint(0, 6))
        subject, _ = self.subject()
        zaken = [self.zaak("Brief regering") for _ in range(self.rng.randint(1, 3))]
        return {
            "Id": self.uid(), "Soort": self.rng.choice(["Commissiedebat", "Plenair debat",
                                                         "Technische briefing", "Procedurevergadering"]),
            "Nummer": f"2026A{self.rng.randint(7000, 9999):05d}",
            "Onderwerp": subject[:1].upper() + subject[1:], "DatumSoort": "Dag",
            "Datum": when.strftime("%Y-%m-%dT10:00:00+01:00"),
            "Aanvangstijd": when.strftime("%Y-%m-%dT10:00:00+01:00"),
            "Eindtijd": when.strftime("%Y-%m-%dT14:00:00+01:00"),
            "Locatie": self.rng.choice(["Thorbeckezaal", "Wttewaall van Stoetwegenzaal",
                                        "Groen van Prinstererzaal"]),
            "Besloten": False, "Status": self.rng.choice(["Gepland", "Gepland", "Verplaatst"]),
            "Vergaderjaar": "2026-2027", "Voortouwnaam": self.rng.choice(COMMITTEES),
            "GewijzigdOp": self.clock.strftime("%Y-%m-%dT%H:%M:%S+01:00"),
            "ApiGewijzigdOp": self.tick(), "Verwijderd": False,
            "Zaak": [{k: v for k, v in z.items() if k not in ("Kamerstukdossier", "ZaakActor")}
                     for z in zaken],
            "Agendapunt": [{"Id": self.uid(), "Onderwerp": z["Onderwerp"], "Volgorde": i,
                            "Verwijderd": False} for i, z in enumerate(zaken)],
        }

    def besluit(self) -> dict[str, Any]:
        motion = self.rng.choice(self.motions) if self.motions else self.zaak("Motie")
        voor = self.rng.randint(40, 110)
        votes = [{"Id": self.uid(), "Soort": "Voor", "FractieGrootte": voor, "ActorFractie": "VVD",
                  "Vergissing": False, "Verwijderd": False},
                 {"Id": self.uid(), "Soort": "Tegen", "FractieGrootte": 150 - voor,
                  "ActorFractie": "PVV", "Vergissing": False, "Verwijderd": False}]
        return {
            "Id": self.uid(), "StemmingsSoort": "Met handopsteken",
            "BesluitSoort": "Stemmen - aangenomen" if voor > 75 else "Stemmen - verworpen",
            "BesluitTekst": "Aangenomen." if voor > 75 else "Verworpen.", "Status": "Besluit",
            "GewijzigdOp": self.clock.strftime("%Y-%m-%dT%H:%M:%S+01:00"),
            "ApiGewijzigdOp": self.tick(), "Verwijderd": False,
            "Zaak": [motion], "Stemming": votes,
            "Agendapunt": {"Id": self.uid(), "Activiteit": {
                "Datum": self.clock.strftime("%Y-%m-%dT00:00:00+01:00")}},
        }

    def toezegging(self) -> dict[str, Any]:
        functie, ministerie = self.rng.choice(MINISTERS)
        subject, _ = self.subject()
        due = self.clock + timedelta(days=self.rng.randint(10, 200))
        return {
            "Id": self.uid(), "Nummer": f"TZ202611-{self.rng.randint(1, 999):03d}",
            "Aanmaakdatum": self.clock.strftime("%Y-%m-%dT%H:%M:%S+01:00"),
            "ActiviteitNummer": f"2026A{self.rng.randint(6000, 7999):05d}",
            "Naam": "Brouwer, H.J.", "Functie": functie, "Status": "Openstaand",
            "DatumNakoming": due.strftime("%Y-%m-%dT00:00:00Z"), "KamerbriefNakoming": None,
            "Ministerie": ministerie,
            "Tekst": f"De bewindspersoon zegt toe de Kamer voor {due:%-d %B %Y} te informeren over "
                     f"{subject}, inclusief de resultaten van de evaluatie en de vervolgstappen.",
            "GewijzigdOp": self.clock.strftime("%Y-%m-%dT%H:%M:%S+01:00"),
            "ApiGewijzigdOp": self.tick(), "Verwijderd": False,
        }


def make_recording(folder: Path, pages: int, rows: int, seed: int = 1) -> dict[str, int]:
    """Write the recording (replay layout) and its manifest; returns pages per entity."""
    from scrapy.crawler import Crawler

    from crawler.replay import update_manifest, write_response
    from crawler.runner import project_settings
    from crawler.spiders.tweedekamer import TweedekamerSpider

    spider = TweedekamerSpider.from_crawler(Crawler(TweedekamerSpider, project_settings(
        WATCH_TK_ODATA_URL=f"{ORIGIN}/OData/v4/2.0/")))
    rng = random.Random(seed)
    make = Rows(rng)
    cursor = {e: CURSOR_START.strftime("%Y-%m-%dT%H:%M:%SZ") for e in ENTITY_SHARE}
    spider.cursor = cursor
    counts = {e: max(1, round(pages * share)) for e, share in ENTITY_SHARE.items()}
    counts["Document"] += pages - sum(counts.values())
    headers = {"Content-Type": ["application/json; odata.metadata=minimal; charset=utf-8"],
               "OData-Version": ["4.0"]}
    # Zaken first, so votes (Besluit) can name motions that exist; the chains still interleave
    # in the crawl, as the real API's entity sets do.
    for entity in ("Zaak", "Document", "Activiteit", "Besluit", "Toezegging"):
        url = spider.query_url(entity, spider.since(entity))
        builder = getattr(make, entity.lower())
        for number in range(counts[entity]):
            page: dict[str, Any] = {"value": [builder() for _ in range(rows)]}
            next_url = None
            if number + 1 < counts[entity]:
                next_url = f"{url.split('&$skip=')[0]}&$skip={(number + 1) * rows}"
                page["@odata.nextLink"] = next_url
            write_response(folder, url, status=200, headers=headers,
                           body=json.dumps(page, separators=(",", ":")).encode(),
                           recorded_at=RECORDED_AT)
            url = next_url or url
    update_manifest(folder, "tweedekamer", cursor=cursor)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest.update(recorded_at=RECORDED_AT.isoformat(), pages=pages, rows=rows, seed=seed)
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=1))
    return counts


# --- the server (a process of its own) -----------------------------------------------------


def serve(folder: Path) -> None:
    from tests.loopback import serve_recording

    with serve_recording(folder, ORIGIN) as base:
        print(base, flush=True)
        sys.stdin.read()  # until the parent closes our stdin


class Server:
    def __init__(self, folder: Path):
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(folder)], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, text=True, cwd=ROOT)
        assert self.process.stdout is not None
        self.base = self.process.stdout.readline().strip()

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=10)


# --- one crawl (in a process of its own: one reactor per process) --------------------------


def bare_spider_class(base: str, start_urls: list[str]) -> type:
    import scrapy

    class BareSpider(scrapy.Spider):
        """Requests the pages, parses the JSON, one dict per row, follows nextLink."""

        name = "bare"

        async def start(self):  # type: ignore[no-untyped-def]
            for url in start_urls:
                yield scrapy.Request(url, headers={"Accept": "application/json"})

        def parse(self, response):  # type: ignore[no-untyped-def]
            page = json.loads(response.body)
            for row in page["value"]:
                yield {"id": row["Id"], "changed": row["ApiGewijzigdOp"], "row": row}
            if page.get("@odata.nextLink"):
                yield response.follow(page["@odata.nextLink"], headers={"Accept": "application/json"})

    return BareSpider


SQLITE_ARCHIVE = Path("/tmp/beleidsradar-bench-crawl.db")


def archive_url(database: str) -> str:
    """Where the pipeline crawls store on ``database``."""
    if database == "sqlite":
        return f"sqlite:///{SQLITE_ARCHIVE}"
    return f"{POSTGRES_URL}?options=-csearch_path%3Dbench_crawl"


def prepare_archive(database: str) -> str:
    """A fresh archive with the default topics; returns its URL."""
    from sqlalchemy import text

    from monitors.topics import DEFAULT_TOPICS, load_topics
    from storage.db import make_engine, session_factory, upgrade
    from storage.topics import import_topics

    if database == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{SQLITE_ARCHIVE}{suffix}").unlink(missing_ok=True)
    else:
        admin = make_engine(POSTGRES_URL)
        with admin.begin() as connection:
            connection.execute(text("DROP SCHEMA IF EXISTS bench_crawl CASCADE"))
            connection.execute(text("CREATE SCHEMA bench_crawl"))
        admin.dispose()
    url = archive_url(database)
    engine = make_engine(url)
    upgrade(engine)
    with session_factory(engine).begin() as session:
        import_topics(session, load_topics(DEFAULT_TOPICS), by="bench", now=RECORDED_AT)
    engine.dispose()
    return url


def rss_kib() -> tuple[int, int]:
    """(current RSS, peak RSS) of this process in KiB, from /proc."""
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0])
    return fields["VmRSS"], fields["VmHWM"]


def crawl_once(mode: str, base: str, folder: Path, database: str | None,
               profile: str | None, rss_every: int = 0) -> dict[str, Any]:
    from scrapy import signals
    from scrapy.crawler import AsyncCrawlerRunner, Crawler
    from scrapy.utils.log import configure_logging
    from scrapy.utils.reactor import install_reactor

    from crawler.runner import project_settings
    from crawler.spiders.tweedekamer import TweedekamerSpider

    if os.environ.get("BENCH_BATCH_ITEMS"):
        import crawler.pipelines

        crawler.pipelines.BATCH_ITEMS = int(os.environ["BENCH_BATCH_ITEMS"])
    manifest = json.loads((folder / "manifest.json").read_text())
    cursor = manifest["sources"]["tweedekamer"]["cursor"]
    url = None
    if database:
        url = archive_url(database) if mode == "again" else prepare_archive(database)
    settings = project_settings(WATCH_TK_ODATA_URL=f"{base}/OData/v4/2.0/",
                                WATCH_CLOCK=manifest["recorded_at"], **BENCH_SETTINGS)
    if url:
        settings.set("WATCH_DATABASE_URL", url, priority="cmdline")
    else:
        settings.set("ITEM_PIPELINES", {}, priority="cmdline")
    configure_logging(settings)
    install_reactor("twisted.internet.asyncioreactor.AsyncioSelectorReactor")
    from twisted.internet import reactor

    kwargs: dict[str, Any] = {}
    if mode == "bare":
        probe = TweedekamerSpider.from_crawler(Crawler(TweedekamerSpider, settings.copy()))
        probe.cursor = cursor
        spidercls: type = bare_spider_class(base, [probe.query_url(e, probe.since(e))
                                                   for e in probe.entities])
    else:
        spidercls = TweedekamerSpider
        kwargs["cursor"] = dict(cursor)
    crawler = Crawler(spidercls, settings)
    times: dict[str, float] = {}
    counts = {"items": 0}

    def opened(spider: Any) -> None:
        times["opened"] = time.perf_counter()
        times["cpu_opened"] = time.process_time()

    samples: list[tuple[int, int, int]] = []

    def item(item: Any, response: Any, spider: Any) -> None:
        counts["items"] += 1
        if rss_every and counts["items"] % rss_every == 0:
            samples.append((counts["items"], *rss_kib()))

    def closed(spider: Any, reason: str) -> None:
        times["closed"] = time.perf_counter()
        times["cpu_closed"] = time.process_time()
        counts["reason"] = reason  # type: ignore[assignment]

    crawler._bench = [opened, item, closed]  # type: ignore[attr-defined] # strong references
    crawler.signals.connect(opened, signal=signals.spider_opened)
    crawler.signals.connect(item, signal=signals.item_scraped)
    crawler.signals.connect(closed, signal=signals.spider_closed)
    runner = AsyncCrawlerRunner(settings)
    profiler = None
    if profile:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.002)
        profiler.start()

    async def main() -> None:
        try:
            await runner.crawl(crawler, **kwargs)
        finally:
            reactor.stop()  # type: ignore[attr-defined]

    import asyncio

    reactor.callWhenRunning(lambda: asyncio.ensure_future(main()))  # type: ignore[attr-defined]
    reactor.run()  # type: ignore[attr-defined]
    if profiler is not None:
        profiler.stop()
        Path(profile).write_text(profiler.output_html())  # type: ignore[arg-type]
        print(profiler.output_text(unicode=False, color=False, show_all=False)[:12000],
              file=sys.stderr)
    stats = crawler.stats.get_stats() if crawler.stats else {}
    seconds = times["closed"] - times["opened"]
    result = {"mode": mode, "database": database, "items": counts["items"],
              "seconds": round(seconds, 3), "items_per_s": round(counts["items"] / seconds, 1),
              # CPU time of the crawl process per item: less sensitive to other load than items/s.
              "cpu_ms_per_item": round((times["cpu_closed"] - times["cpu_opened"]) * 1000
                                       / max(1, counts["items"]), 3),
              "load_average": round(os.getloadavg()[0], 2),
              "responses": stats.get("response_received_count", 0),
              "reason": counts.get("reason"),
              "stored": {k.split("/")[-1]: v for k, v in stats.items()
                         if k.startswith("watch/store/")},
              "matches": stats.get("watch/match/matches", 0)}
    if url:
        result["archive"] = archive_counts(url)
    if rss_every:
        result["rss"] = samples
    return result


def store_once(folder: Path, database: str) -> dict[str, Any]:
    """Parse the recording's pages in-process, then store the items as StorePipeline does."""
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import TextResponse
    from scrapy.statscollectors import MemoryStatsCollector

    from crawler.pipelines import BATCH_ITEMS, NormalizePipeline, StorePipeline
    from crawler.replay import read_response
    from crawler.runner import project_settings
    from crawler.spiders.tweedekamer import TweedekamerSpider

    manifest = json.loads((folder / "manifest.json").read_text())
    url = prepare_archive(database)
    settings = project_settings(WATCH_DATABASE_URL=url, WATCH_CLOCK=manifest["recorded_at"])
    crawler = Crawler(TweedekamerSpider, settings)
    crawler.stats = MemoryStatsCollector(crawler)
    spider = TweedekamerSpider.from_crawler(crawler)
    spider.cursor = dict(manifest["sources"]["tweedekamer"]["cursor"])
    crawler.spider = spider
    normalize = NormalizePipeline(crawler)
    # The pages the spider asks for, in its order (each entity's next links followed).
    pending = [(spider.query_url(entity, spider.since(entity)), entity)
               for entity in spider.entities]
    items = []
    while pending:
        page_url, entity = pending.pop(0)
        found = read_response(folder, page_url)
        if found is None:
            raise SystemExit(f"not in the recording: {page_url}")
        response = TextResponse(url=page_url, body=found[1], encoding="utf-8",
                                request=Request(page_url))
        for out in spider.parse_page(response, entity):
            if isinstance(out, Request):
                pending.append((out.url, out.meta["entity"]))
            else:
                items.append(normalize.process_item(out))
    store = StorePipeline(crawler)
    store.open_spider()
    cpu, started = time.process_time(), time.perf_counter()
    for start in range(0, len(items), BATCH_ITEMS):
        store._store_batch(items[start:start + BATCH_ITEMS])
    cpu, seconds = time.process_time() - cpu, time.perf_counter() - started
    store.engine.dispose()
    return {"mode": "store", "database": database, "items": len(items),
            "seconds": round(seconds, 3), "items_per_s": round(len(items) / seconds, 1),
            "cpu_ms_per_item": round(cpu * 1000 / max(1, len(items)), 3),
            "load_average": round(os.getloadavg()[0], 2), "archive": archive_counts(url)}


def archive_counts(url: str) -> dict[str, Any]:
    from sqlalchemy import func, select

    from storage.db import make_engine, session_factory
    from storage.models import CrawlRun, Document, Record, Version

    engine = make_engine(url)
    with session_factory(engine)() as session:
        run = session.scalars(select(CrawlRun).order_by(CrawlRun.id.desc())).first()
        counts = {
            "records": session.scalar(select(func.count(Record.id))),
            "documents": session.scalar(select(func.count(Document.id))),
            "versions": session.scalar(select(func.count(Version.id))),
            "run_status": run.status if run else None,
            "run_failed": run.failed if run else None,
        }
    engine.dispose()
    return counts


def run_child(mode: str, base: str, folder: Path, database: str | None,
              profile: str | None = None, rss_every: int = 0) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", mode, "--base", base, "--data", str(folder),
               "--rss-every", str(rss_every)]
    if database:
        command += ["--database", database]
    if profile:
        command += ["--profile", profile]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"{mode} crawl failed:\n{done.stdout}\n{done.stderr}")
    if profile:
        print(done.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=3000)
    parser.add_argument("--rows", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--modes", default="bare,spider,pipeline")
    parser.add_argument("--data", default=None, help="Recording folder (default: under /tmp).")
    parser.add_argument("--batch-items", type=int, default=None,
                        help="Items per transaction in the pipeline (default: its BATCH_ITEMS).")
    parser.add_argument("--profile", default=None,
                        help="Write a pyinstrument HTML profile of the SQLite pipeline crawl here.")
    # Internal: the server process and the crawl processes.
    parser.add_argument("--serve", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--base", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--database", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--rss-every", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.serve:
        serve(Path(args.serve))
        return
    if args.batch_items:
        os.environ["BENCH_BATCH_ITEMS"] = str(args.batch_items)  # read by the crawl processes
    if args.child == "store":
        print(json.dumps(store_once(Path(args.data), args.database)))
        return
    if args.child:
        result = crawl_once(args.child, args.base, Path(args.data), args.database, args.profile,
                            args.rss_every)
        print(json.dumps(result))
        return

    folder = Path(args.data or f"/tmp/beleidsradar-bench-crawl-{args.pages}x{args.rows}-{args.seed}")
    if not (folder / "manifest.json").exists():
        started = time.perf_counter()
        counts = make_recording(folder, args.pages, args.rows, args.seed)
        print(f"recording: {args.pages} pages × {args.rows} rows {counts} written to {folder} "
              f"in {time.perf_counter() - started:.1f} s")
    print(f"python {platform.python_version()}, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.2f}")
    server = Server(folder)
    results = []
    try:
        modes = args.modes.split(",")
        for mode in modes:
            if mode in ("pipeline", "again", "store"):
                for database in args.databases.split(","):
                    profile = args.profile if database == "sqlite" and mode == "pipeline" else None
                    results.append(run_child(mode, server.base, folder, database, profile))
                    print(json.dumps(results[-1]))
            else:
                results.append(run_child(mode, server.base, folder, None))
                print(json.dumps(results[-1]))
    finally:
        server.close()
    bare = next((r for r in results if r["mode"] == "bare"), None)
    print()
    print(f"{'crawl':<22} {'items':>8} {'seconds':>8} {'items/s':>9} {'of bare':>8} "
          f"{'CPU ms/item':>12} {'load':>5}")
    for r in results:
        label = r["mode"] + (f" ({r['database']})" if r["database"] else "")
        share = f"{r['items_per_s'] / bare['items_per_s']:.2f}" if bare else "—"
        print(f"{label:<22} {r['items']:>8} {r['seconds']:>8.1f} {r['items_per_s']:>9,.0f} "
              f"{share:>8} {r['cpu_ms_per_item']:>12.2f} {r['load_average']:>5.1f}")


if __name__ == "__main__":
    main()
