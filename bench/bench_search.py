"""Archive search at scale: the index (storage.search) against a naive LIKE scan.

    .venv/bin/python bench/bench_search.py build [--documents 1000000] [--db PATH]
    .venv/bin/python bench/bench_search.py run [--db PATH] [--runs 5] [--like]
    .venv/bin/python bench/bench_search.py postgres [--db PATH] [--url URL] [--documents N]

``build`` generates a synthetic archive into a SQLite file (default
/tmp/beleidsradar-bench-search.db, reused by the other commands): N documents of Dutch
policy text over three years, in the shapes the sources give (TK metadata-length items, letters,
long official publications and rulings; ~250 words on average), with dossier, kamerstuk, zaak
and EU identifiers, mentions in the text (COM(2022) 209, art. 273f Sr, 2022/0155(COD)), 3 % of
documents carried by two sources, 10 % with a second version and a `changed` event, and about
7 % on one of the monitored subjects. Records go in through the same index code as the archive
(``entry_values``, the FTS5 triggers); the 16 default topics' matches are stored from search.

``run`` times ``search()`` (relevance order, page of 20 with snippets, facets, total) for the
16 default topics' queries: one warm-up and ``--runs`` timed runs each, p50/p95 over all runs,
and with ``--like`` one naive scan per query (``LIKE '%word%'`` over the current versions'
title and text, identifiers by equality) as the baseline. ``postgres`` copies the archive into
a PostgreSQL schema (its triggers build the tsvectors) and times the same queries there.
Target (issue 8): p95 under 100 ms on SQLite at 1M documents.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, select, text  # noqa: E402

from monitors.query import And, Field, Node, Not, Or, Phrase, Word, parse  # noqa: E402
from monitors.topics import DEFAULT_TOPICS, load_topics  # noqa: E402
from storage.db import make_engine, session_factory, upgrade  # noqa: E402
from storage.models import (  # noqa: E402
    ChangeEvent, Document, Identifier, Match, Record, SearchEntry, SearchTerms, Source, Topic,
    Version,
)
from storage.search import (  # noqa: E402
    LENGTH_TOKEN, TERM_COLUMNS, add_vocabulary, entry_values, find, identifiers_hash,
    load_counts, position_tokens, search,
)

DEFAULT_DB = "/tmp/beleidsradar-bench-search.db"
START = datetime(2024, 1, 1, tzinfo=UTC)
DAYS = 3 * 365

SOURCES = [  # slug, share, document types
    ("tweedekamer", 0.60, ["Brief regering", "Motie", "Amendement", "Schriftelijke vragen",
                           "Antwoord schriftelijke vragen", "Verslag van een commissiedebat",
                           "Nota van wijziging", "Memorie van toelichting", "Besluitenlijst"]),
    ("officielebekendmakingen", 0.22, ["Kamerstuk", "Staatscourant", "Staatsblad",
                                       "Aanhangsel van de Handelingen"]),
    ("rechtspraak", 0.08, ["Uitspraak"]),
    ("eurlex", 0.05, ["Voorstel voor een verordening", "Voorstel voor een richtlijn",
                      "Mededeling"]),
    ("rijksoverheid", 0.05, ["Nieuwsbericht", "Rapport", "Kamerbrief"]),
]

#: Monitored subjects (what the default topics look for), and others.
ON = [
    "mensenhandel", "arbeidsuitbuiting", "seksuele uitbuiting", "loverboys", "pooierboys",
    "slachtoffers van mensenhandel", "seksueel geweld tegen kinderen",
    "online seksueel misbruik van kinderen", "grooming", "sextortion",
    "de Hervormingsagenda Jeugd", "de Deskundigencommissie Jeugd",
    "het Nationaal Actieprogramma seksueel grensoverschrijdend gedrag",
    "de Regeringscommissaris seksueel grensoverschrijdend gedrag", "art. 273f Sr",
    "Richtlijn (EU) 2024/1712", "de herziene EU-richtlijn mensenhandel",
    "procedure 2022/0155(COD)", "chatcontrole", "de interim-verordening CSAM",
    "mensensmokkel vanuit Noord-Afrika", "uitbuiting van migranten in Libië",
    "de Wet Nationaal Rapporteur", "de kerndoelen seksuele vorming",
    "georganiseerd seksueel geweld", "hulp aan slachtoffers van uitbuiting",
    "signalering van mensenhandel", "identificatie van slachtoffers",
    "het Actieplan Samen tegen Mensenhandel", "de strafbaarstelling mensenhandel",
]
OFF = [
    "stikstof", "de woningmarkt", "het belastingplan", "defensiematerieel", "het mbo",
    "de zorgverzekering", "natuurherstel", "de energietransitie", "het openbaar vervoer",
    "de landbouw", "pensioenen", "de arbeidsmarkt", "kinderopvangtoeslag",
    "vergunningverlening", "het lerarentekort", "de luchtvaart", "grensbewaking",
    "de Wet open overheid", "de asielinstroom", "netcongestie", "de gaswinning in Groningen",
    "jeugdcriminaliteit", "de ggz", "de huisartsenzorg", "studiefinanciering", "de wolf",
    "drinkwater", "de Noordzee", "digitale weerbaarheid", "cybercrime", "de politiecapaciteit",
    "het gevangeniswezen", "de rechtsbijstand", "de Omgevingswet", "het klimaatfonds",
    "de toeslagenaffaire", "de spreiding van asielzoekers", "het armoedebeleid",
    "de mijnbouw", "de dijkversterking", "de kinderopvang", "het passend onderwijs",
    "de jeugdzorg", "de verkeersveiligheid", "de sportakkoorden", "het erfgoed",
    "de ontwikkelingssamenwerking", "de handelspolitiek", "de Europese begroting",
    "de gemeentefinanciën",
]
MINISTRIES = ["Justitie en Veiligheid", "Sociale Zaken en Werkgelegenheid",
              "Volksgezondheid, Welzijn en Sport", "Onderwijs, Cultuur en Wetenschap",
              "Binnenlandse Zaken en Koninkrijksrelaties", "Financiën",
              "Infrastructuur en Waterstaat", "Economische Zaken", "Buitenlandse Zaken",
              "Landbouw, Visserij, Voedselzekerheid en Natuur", "Asiel en Migratie"]
ORGS = ["de Inspectie Justitie en Veiligheid", "het WODC", "de Raad van State",
        "de Algemene Rekenkamer", "het CBS", "de Arbeidsinspectie", "de politie", "de KMar",
        "het Openbaar Ministerie", "de VNG", "het Centraal Planbureau", "de Kinderombudsman",
        "het Verwey-Jonker Instituut", "de Raad voor de rechtspraak", "Europol",
        "de Europese Commissie", "de Nederlandse Zorgautoriteit", "het RIVM", "Rijkswaterstaat",
        "de Belastingdienst", "het UWV", "de IND", "het COA", "de Onderwijsinspectie"]
#: Organisations that only come up in texts on the monitored subjects.
ON_ORGS = ["de Nationaal Rapporteur", "CoMensha", "Fier", "het Expertisecentrum Mensenhandel "
           "en Mensensmokkel", "Centrum Kinderhandel Mensenhandel"]
NAMES = ["Koster", "Verhoeven", "Aydin", "De Graaf", "Hoekstra", "Van der Werf", "Bikker",
         "Mutluer", "Ellian", "Podt", "Van Nispen", "Michon", "Kathmann", "Vondeling",
         "Bruyning", "Ceder", "Dobbe", "Van Dijk", "Six Dijkstra", "Boswijk", "Paternotte",
         "Van Zanten", "Rajkowski", "Sneller", "Timmermans", "Omtzigt", "Wilders", "Klaver",
         "Jetten", "Bontenbal", "Eerdmans", "Stoffer", "Van der Plas", "Dassen", "Ouwehand"]
PLACES = ["Amsterdam", "Rotterdam", "Den Haag", "Utrecht", "Eindhoven", "Groningen", "Tilburg",
          "Almere", "Breda", "Nijmegen", "Apeldoorn", "Arnhem", "Haarlem", "Enschede",
          "Zaanstad", "Amersfoort", "Maastricht", "Zwolle", "Leiden", "Dordrecht", "Venlo",
          "Emmen", "Westland", "Deventer", "Delft", "Heerlen", "Alkmaar", "Helmond", "Lelystad"]
PREFIXES = ["arbeids", "woning", "zorg", "jeugd", "energie", "stikstof", "belasting",
            "onderwijs", "veiligheids", "migratie", "asiel", "kinder", "gemeente", "pensioen",
            "natuur", "water", "verkeers", "uitvoerings", "toezichts", "handhavings",
            "informatie", "vergunning", "subsidie", "gezondheids", "klimaat", "landbouw",
            "defensie", "politie", "rechts", "straf", "grens", "data", "zeden", "opvang"]
HEADS = ["beleid", "plan", "wet", "agenda", "programma", "markt", "fonds", "regeling",
         "tekort", "aanpak", "monitor", "rapportage", "verordening", "richtlijn", "akkoord",
         "overleg", "opgave", "strategie", "kader", "handel", "toeslag", "zorg",
         "hulp", "inspectie", "keten", "instroom", "signalen", "capaciteit", "middelen"]
SENTENCES = [
    "De minister van {ministry} informeert de Kamer over {s}.",
    "In deze brief ga ik in op de stand van zaken rond {s} en de uitvoering van de motie van "
    "het lid {name} over de {compound}.",
    "Het kabinet wil {s} aanpakken met een nieuwe {compound} en {amount} extra voor {org}.",
    "Uit het rapport van {org} blijkt dat {s} in {year} is toegenomen, vooral in {place}.",
    "De Kamer, gehoord de beraadslaging, verzoekt de regering om {s} te betrekken bij de "
    "{compound}, en gaat over tot de orde van de dag.",
    "Tijdens het commissiedebat van {day} is uitgebreid gesproken over {s} en de {compound}.",
    "Ik zal uw Kamer voor de zomer van {year} informeren over de voortgang van {s}.",
    "Het wetsvoorstel regelt {s} en wijzigt daartoe de {compound}.",
    "Zie ook Kamerstukken II {year}/{year1}, {dossier}, nr. {n}.",
    "Het voorstel van de Europese Commissie (COM({year}) {n}) over {s} is besproken in de "
    "JBZ-Raad.",
    "Vragen van het lid {name} aan de minister van {ministry} over {s} ({zaak}).",
    "De {compound} en de {compound} worden in {year} geëvalueerd door {org}.",
    "Gemeenten zoals {place} en {place} melden knelpunten bij de {compound}.",
    "Het budget voor de {compound} bedraagt {amount} per jaar tot en met {year1}.",
    "Daarnaast is overleg gevoerd met {org} en {org} over de uitvoering.",
    "De rechtbank {place} oordeelde op {day} dat de verdachte zich schuldig maakte aan {s}.",
    "Ook de motie-{name} (Kamerstuk {dossier}-{n}) vraagt aandacht voor {s}.",
    "In {place} loopt een pilot met een {compound} waarin {org} samenwerkt met de gemeente.",
]
#: Phrases that appear in texts about monitored subjects, to give topic queries real hits.
ON_DETAIL = [
    "Het Actieplan Samen tegen Mensenhandel wordt versterkt.",
    "De voortgang van het actieplan wordt jaarlijks gerapporteerd.",
    "Slachtoffers herkennen blijft moeilijk voor professionals.",
    "Art. 273f Sr wordt gemoderniseerd en de strafbaarstelling uitgebreid.",
    "De implementatie van de richtlijn in Nederlands recht moet voor 15 juli 2026 klaar zijn.",
    "De verordening ter voorkoming en bestrijding van seksueel misbruik van kinderen ligt in "
    "de triloog; procedure 2022/0155(COD).",
    "Over de detectie van CSAM bestaan zorgen over end-to-end-versleuteling.",
    "Opsporing en vervolging van mensenhandel krijgen prioriteit bij het OM.",
    "Hulp en opvang voor slachtoffers van seksueel geweld worden uitgebreid.",
    "De herschikking van Richtlijn 2011/93/EU (COM(2024) 60) versterkt de bescherming van "
    "kinderen.",
    "Het gerechtshof bevestigde de veroordeling wegens uitbuiting.",
    "Migratieroutes via de Middellandse Zee worden gebruikt door mensensmokkelaars.",
]


def _weighted_source(rng: random.Random) -> tuple[str, list[str]]:
    roll = rng.random()
    for slug, share, kinds in SOURCES:
        if roll < share:
            return slug, kinds
        roll -= share
    return SOURCES[0][0], SOURCES[0][2]


def _sentence(rng: random.Random, subject: str, dossier: str, on: bool = False) -> str:
    year = rng.randint(2019, 2026)
    orgs = ORGS + ON_ORGS if on else ORGS
    fill = {
        "s": subject, "ministry": rng.choice(MINISTRIES), "org": rng.choice(orgs),
        "name": rng.choice(NAMES), "place": rng.choice(PLACES), "year": year,
        "year1": year + 1, "dossier": dossier, "n": rng.randint(1, 400),
        "zaak": f"{year}Z{rng.randint(1, 24999):05d}",
        "day": f"{rng.randint(1, 28)} {rng.choice(['januari', 'maart', 'juni', 'oktober'])}",
        "amount": f"€ {rng.randint(1, 900)} miljoen",
    }
    template = rng.choice(SENTENCES)
    while "{compound}" in template:
        template = template.replace(
            "{compound}", rng.choice(PREFIXES) + rng.choice(HEADS), 1)
    while "{place}" in template:
        template = template.replace("{place}", rng.choice(PLACES), 1)
    while "{org}" in template:
        template = template.replace("{org}", rng.choice(orgs), 1)
    return template.format(**fill)


def make_document(i: int, rng: random.Random) -> dict[str, Any]:
    """One document: its text, type, source(s), date and identifiers."""
    on = rng.random() < 0.07
    subject = rng.choice(ON if on else OFF)
    slug, kinds = _weighted_source(rng)
    kind = rng.choice(kinds)
    dossier = str(rng.choice([28638, 36547, 31839, 34843, 31015, 22112, 32317]) if on and
                  rng.random() < 0.4 else rng.randint(21000, 37000))
    roll = rng.random()
    sentences = rng.randint(2, 8) if roll < 0.7 else rng.randint(15, 45) if roll < 0.95 \
        else rng.randint(80, 200)
    body = [_sentence(rng, subject if rng.random() < 0.5 else rng.choice(OFF), dossier, on)
            for _ in range(sentences)]
    if on:
        body.insert(rng.randint(0, len(body)), rng.choice(ON_DETAIL))
    title = rng.choice([
        f"Voortgangsbrief over {subject}", f"Motie van het lid {rng.choice(NAMES)} over {subject}",
        f"Vragen van het lid {rng.choice(NAMES)} over {subject}",
        f"Kabinetsreactie op het rapport over {subject}",
        f"Verslag van een commissiedebat over {subject} en {rng.choice(OFF)}",
        f"Nota van wijziging inzake {subject}", f"Geannoteerde agenda JBZ-Raad: {subject}",
        f"Uitspraak over {subject}", f"{kind} over {subject}",
    ])
    published = START + timedelta(minutes=rng.randrange(DAYS * 24 * 60))
    number = rng.randint(1, 400)
    ids = [("dossier", dossier), ("kamerstuk", f"kst-{dossier}-{number}")]
    if slug == "tweedekamer":
        ids.append(("zaak", f"{published.year}Z{rng.randint(1, 24999):05d}"))
    if slug == "eurlex":
        ids.append(("celex", f"5{published.year}PC{rng.randint(1, 999):04d}"))
    if slug == "rechtspraak":
        ids = [("ecli", f"ECLI:NL:RB{rng.choice(['AMS', 'DHA', 'ROT', 'GEL'])}:"
                        f"{published.year}:{rng.randint(1, 9999)}")]
    return {"title": title, "text": "\n".join(body), "kind": kind, "slug": slug,
            "published": published, "ids": ids,
            "second": rng.random() < 0.03 and slug == "tweedekamer",
            "changed": rng.random() < 0.10}


def make_chunk(task: tuple[int, int, int, int, dict[str, int]]) -> dict[str, list[dict]]:
    """Rows for documents first..last-1 (deterministic per chunk), index rows included."""
    first, last, total, seed, source_ids = task
    rng = random.Random(seed * 1_000_003 + first)
    rows: dict[str, list[dict]] = {k: [] for k in ("document", "record", "version",
                                                   "identifier", "event", "index", "terms")}
    for i in range(first, last):
        d = make_document(i, rng)
        when = d["published"]
        rows["document"].append({"id": i, "title": d["title"], "doc_type": d["kind"],
                                 "published_at": when, "first_seen_at": when,
                                 "last_changed_at": when})
        copies = [(i, d["slug"], d["ids"])]
        if d["second"]:
            copies.append((total + i, "officielebekendmakingen", [d["ids"][1]]))
        for record_id, slug, ids in copies:
            rows["record"].append({
                "id": record_id, "source_id": source_ids[slug], "document_id": i,
                "key": f"{slug}/{i}", "url": f"https://example.test/{slug}/{i}",
                "title": d["title"], "doc_type": d["kind"], "content_hash": f"{record_id:064x}",
                "status": {}, "first_seen_at": when, "last_seen_at": when})
            for scheme, value in ids:
                rows["identifier"].append({"record_id": record_id, "document_id": i,
                                           "scheme": scheme, "value": value})
            text_now = d["text"]
            versions = [(record_id, 1, d["text"], when)]
            if d["changed"]:
                text_now = d["text"] + "\nGewijzigd: " + _sentence(rng, rng.choice(OFF), "0")
                versions.append((2 * total + record_id, 2, text_now, when + timedelta(days=9)))
            for version_id, number, body, fetched in versions:
                rows["version"].append({
                    "id": version_id, "record_id": record_id, "document_id": i,
                    "number": number, "content_hash": f"{version_id:064x}", "title": d["title"],
                    "text": body, "doc_type": d["kind"], "published_at": when, "meta": {},
                    "fetched_at": fetched, "created_at": fetched})
                rows["event"].append({"kind": "new" if number == 1 else "changed",
                                      "document_id": i, "record_id": record_id,
                                      "version_id": version_id, "detected_at": fetched,
                                      "detail": {}})
            grouped: dict[str, list[str]] = {}
            for scheme, value in ids:
                grouped.setdefault(scheme, []).append(value)
            values = entry_values(title=d["title"], text=text_now, doc_type=d["kind"],
                                  source=slug, published_at=when, fetched_at=versions[-1][3],
                                  identifiers=grouped)
            words = {name: values.pop(name) for name in TERM_COLUMNS}
            values.update(record_id=record_id, document_id=i, version_id=versions[-1][0],
                          source_id=source_ids[slug], removed=False,
                          identifiers_hash=identifiers_hash(ids))
            rows["index"].append(values)
            rows["terms"].append({"record_id": record_id, **words})
    return rows


def build(path: str, documents: int, seed: int) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(path + suffix).unlink(missing_ok=True)
    engine = make_engine(path)
    upgrade(engine)
    started = time.perf_counter()
    with session_factory(engine).begin() as session:
        for slug, _, _ in SOURCES:
            session.add(Source(slug=slug, kind="spider", title=slug, config={}, cursor={}))
        for topic in load_topics(DEFAULT_TOPICS):
            session.add(Topic(slug=topic.slug, title=topic.title, query=topic.query,
                              variants={}, examples={}, created_at=START, updated_at=START))
    with engine.connect() as connection:
        source_ids = dict(connection.execute(select(Source.slug, Source.id)).all())
    chunk = 5_000
    tasks = [(first, min(first + chunk, documents + 1), documents, seed, source_ids)
             for first in range(1, documents + 1, chunk)]
    done = 0
    with multiprocessing.get_context("fork").Pool(2) as pool:
        for rows in pool.imap(make_chunk, tasks):
            with engine.begin() as connection:
                for model, key in ((Document, "document"), (Record, "record"),
                                   (Version, "version"), (Identifier, "identifier"),
                                   (ChangeEvent, "event"), (SearchEntry, "index"),
                                   (SearchTerms, "terms")):
                    connection.execute(insert(model), rows[key])
                add_vocabulary(connection, rows["terms"])
            done += len(rows["document"])
            if done % 100_000 < chunk:
                print(f"  {done:,} documents, {time.perf_counter() - started:.0f} s", flush=True)
    loaded = time.perf_counter() - started
    # The default topics' matches, stored from search (the archive would have them).
    with session_factory(engine).begin() as session:
        for topic in session.scalars(select(Topic)):
            rows = [{"topic_id": topic.id, "document_id": d, "version_id": v,
                     "strength": "strong", "reason": {}, "matched_at": START}
                    for d, v in find(session, topic.query).items()]
            if rows:
                session.execute(insert(Match), rows)
    with engine.begin() as connection:
        connection.execute(text("ANALYZE"))
    engine.dispose()
    size = sum(os.path.getsize(path + s) for s in ("", "-wal") if os.path.exists(path + s))
    print(f"built {documents:,} documents in {time.perf_counter() - started:.0f} s "
          f"(rows and index {loaded:.0f} s, then topic matches and ANALYZE); "
          f"{size / 1e9:.1f} GB")


# --- the naive baseline ----------------------------------------------------------------------


def like_condition(node: Node, params: dict[str, Any]) -> str:
    """The query as a naive SQL condition on version v: LIKE for words, equality for ids."""
    def param(value: Any) -> str:
        name = f"p{len(params)}"
        params[name] = value
        return f":{name}"

    if isinstance(node, And):
        return "(" + " AND ".join(like_condition(c, params) for c in node.children) + ")"
    if isinstance(node, Or):
        return "(" + " OR ".join(like_condition(c, params) for c in node.children) + ")"
    if isinstance(node, Not):
        return f"NOT {like_condition(node.child, params)}"
    if isinstance(node, (Word, Phrase)):
        words = node.words if isinstance(node, Phrase) else (node.text,)
        pattern = param("%" + " ".join(words) + "%")
        return f"(v.title LIKE {pattern} OR v.text LIKE {pattern})"
    if isinstance(node, Field):
        if node.name in ("bron", "soort", "datum"):
            return "1 = 1"
        return (f"EXISTS (SELECT 1 FROM identifier i WHERE i.record_id = v.record_id AND "
                f"i.scheme = {param(node.name)} AND (i.value = {param(node.value)} OR "
                f"i.value LIKE {param(node.value + '-%')}))")
    raise TypeError(node)


def like_scan(session: Any, query: str) -> int:
    params: dict[str, Any] = {}
    condition = like_condition(parse(query), params)
    return session.execute(text(
        "SELECT count(DISTINCT v.document_id) FROM version v WHERE v.id IN "
        "(SELECT max(id) FROM version GROUP BY record_id) AND " + condition), params).scalar()


# --- timing ----------------------------------------------------------------------------------


def time_queries(url: str, runs: int, like: bool, label: str) -> None:
    engine = make_engine(url)
    Session = session_factory(engine)
    topics = load_topics(DEFAULT_TOPICS)
    with Session() as session:
        documents = session.scalar(select(Document.id).order_by(Document.id.desc()).limit(1))
    print(f"{label}: {documents:,} documents; {runs} timed runs per query after one warm-up")
    if label == "SQLite":
        with Session() as session:
            started = time.perf_counter()
            load_counts(session)
            print(f"facet columns read into memory in {time.perf_counter() - started:.2f} s "
                  "(once per process; later changes are read as they come)")
    print(f"{'topic':42} {'docs':>7} {'exact':>5} {'checked':>7} {'median ms':>9} "
          + (f"{'LIKE s':>8}" if like else ""))
    every: list[float] = []
    cpu: list[float] = []
    like_total = index_total = 0.0
    for topic in topics:
        timings = []
        for run in range(runs + 1):
            with Session() as session:
                started, started_cpu = time.perf_counter(), time.process_time()
                result = search(session, topic.query, limit=20)
                elapsed = time.perf_counter() - started
                spent_cpu = time.process_time() - started_cpu
            if run:
                timings.append(elapsed)
                cpu.append(spent_cpu)
        every.extend(timings)
        line = (f"{topic.slug:42} {result.total:>7,} {'yes' if result.exact else 'no':>5} "
                f"{result.checked:>7,} {statistics.median(timings) * 1000:>9.1f}")
        if like:
            with Session() as session:
                started = time.perf_counter()
                like_scan(session, topic.query)
                spent = time.perf_counter() - started
            like_total += spent
            index_total += statistics.median(timings)
            line += f" {spent:>8.2f}"
        print(line, flush=True)
    def percentile(values: list[float], share: float) -> float:
        values = sorted(values)
        return values[min(len(values) - 1, max(0, int(round(share * len(values))) - 1))]

    print(f"{label}: p50 {percentile(every, 0.5) * 1000:.1f} ms, p95 "
          f"{percentile(every, 0.95) * 1000:.1f} ms, max {max(every) * 1000:.1f} ms over "
          f"{len(every)} searches (wall clock; load average {os.getloadavg()[0]:.1f})")
    print(f"{label}: this process's CPU time per search: p50 {percentile(cpu, 0.5) * 1000:.1f}"
          f" ms, p95 {percentile(cpu, 0.95) * 1000:.1f} ms"
          + (" (SQLite runs in-process: the whole cost)" if label == "SQLite" else
             " (the database server's time is not in it)"))
    import storage.search as search_module

    variants = [("without facets (total + page)", True)]
    if label == "SQLite":  # a one-off search (the CLI) counts in SQL rather than load columns
        variants.append(("without facets, counted in SQL (a one-off search: the CLI)", False))
    for name, in_memory in variants:
        search_module.COUNT_IN_MEMORY = in_memory
        bare: list[float] = []
        bare_cpu: list[float] = []
        for topic in topics:
            for run in range(runs + 1):
                with Session() as session:
                    started, started_cpu = time.perf_counter(), time.process_time()
                    search(session, topic.query, limit=20, facets=False)
                    if run:
                        bare.append(time.perf_counter() - started)
                        bare_cpu.append(time.process_time() - started_cpu)
        print(f"{label} {name}: p50 {percentile(bare, 0.5) * 1000:.1f} ms, p95 "
              f"{percentile(bare, 0.95) * 1000:.1f} ms wall; CPU p50 "
              f"{percentile(bare_cpu, 0.5) * 1000:.1f} ms, p95 "
              f"{percentile(bare_cpu, 0.95) * 1000:.1f} ms")
    search_module.COUNT_IN_MEMORY = True
    if like:
        print(f"naive LIKE scan: {like_total / len(topics):.2f} s per query on average; the "
              f"index is {like_total / index_total:,.0f}x faster (sum of medians)")
    engine.dispose()


# --- PostgreSQL ------------------------------------------------------------------------------

COPY_TABLES = [  # in foreign-key order (search_terms' trigger builds the tsvectors)
    ("source", ["id", "slug", "kind", "title", "url", "config", "active", "cursor",
                "created_at"]),
    ("document", ["id", "title", "doc_type", "published_at", "first_seen_at",
                  "last_changed_at", "removed_at", "merged_into"]),
    ("record", ["id", "source_id", "document_id", "key", "url", "title", "doc_type",
                "content_hash", "status", "first_seen_at", "last_seen_at", "removed_at",
                "scheduled_at", "joined_by"]),
    ("version", ["id", "record_id", "document_id", "number", "content_hash", "title", "text",
                 "doc_type", "published_at", "meta", "fetched_at", "crawl_run_id",
                 "created_at"]),
    ("identifier", ["id", "record_id", "document_id", "scheme", "value"]),
    ("change_event", ["id", "kind", "document_id", "record_id", "version_id", "crawl_run_id",
                      "detected_at", "detail"]),
    ("topic", ["id", "slug", "title", "description", "query", "variants", "exclusions",
               "examples", "owner", "active", "created_at", "created_by", "updated_at",
               "updated_by"]),
    ("match", ["id", "topic_id", "document_id", "version_id", "strength", "reason",
               "matched_at"]),
    ("search_index", ["record_id", "document_id", "version_id", "source_id", "doc_type", "day",
                      "published_on", "removed", "identifiers_hash"]),
    ("search_terms", ["record_id", "title_terms", "body_terms", "terms"]),
]
BOOLEAN = {("source", "active"), ("topic", "active"), ("search_index", "removed")}
STAMPS = {"created_at", "published_at", "first_seen_at", "last_changed_at", "removed_at",
          "last_seen_at", "scheduled_at", "fetched_at", "detected_at", "updated_at",
          "matched_at"}


def load_postgres(path: str, url: str, documents: int | None) -> str:
    """Copy the SQLite archive (its first ``documents`` documents) into a fresh schema."""
    import sqlite3

    import psycopg

    schema = "bench_search"
    plain = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as connection:
        connection.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        connection.execute(f"CREATE SCHEMA {schema}")
    target = f"{url}?options=-csearch_path%3D{schema}"
    upgrade(make_engine(target))
    started = time.perf_counter()
    source = sqlite3.connect(path)
    limit = documents or 10**12
    where = {"document": f"id <= {limit}", "search_index": f"document_id <= {limit}",
             "record": f"document_id <= {limit}", "version": f"document_id <= {limit}",
             "identifier": f"document_id <= {limit}", "change_event": f"document_id <= {limit}",
             "match": f"document_id <= {limit}",
             "search_terms": f"record_id IN (SELECT record_id FROM search_index WHERE "
                             f"document_id <= {limit})"}
    gin = {"ix_search_terms_tsv": "tsv", "ix_search_terms_title_tsv": "title_tsv"}
    with psycopg.connect(plain, options=f"-csearch_path={schema}") as connection:
        # Bulk load: build the GIN indexes once at the end instead of row by row.
        for index in gin:
            connection.execute(f"DROP INDEX {index}")
        for name, columns in COPY_TABLES:
            table_started = time.perf_counter()
            query = f"SELECT {', '.join(columns)} FROM {name}"
            if name in where:
                query += f" WHERE {where[name]}"
            quoted = ", ".join(f'"{c}"' for c in columns)
            with connection.cursor().copy(f'COPY "{name}" ({quoted}) FROM STDIN') as copy:
                for row in source.execute(query):
                    values = [bool(v) if (name, c) in BOOLEAN and v is not None
                              else (v + "+00" if c in STAMPS and v is not None else v)
                              for c, v in zip(columns, row)]
                    if name == "search_terms" and LENGTH_TOKEN not in values[3].split():
                        # An archive indexed before the position tokens existed.
                        values[3] = " ".join([values[3], *position_tokens(values[1],
                                                                           values[2])]).strip()
                    copy.write_row(values)
            connection.commit()
            print(f"  {name}: {time.perf_counter() - table_started:.0f} s", flush=True)
        index_started = time.perf_counter()
        connection.execute("SET maintenance_work_mem = '2GB'")
        for index, column_name in gin.items():
            connection.execute(f"CREATE INDEX {index} ON search_terms USING gin ({column_name})")
        connection.commit()
        print(f"  GIN indexes: {time.perf_counter() - index_started:.0f} s", flush=True)
        for name in ("source", "document", "record", "version", "identifier", "change_event",
                     "topic", "match"):
            connection.execute(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                               f"(SELECT coalesce(max(id), 1) FROM {name}))")
        connection.execute("ANALYZE")
        connection.commit()
    print(f"loaded into PostgreSQL schema {schema} in {time.perf_counter() - started:.0f} s")
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["build", "run", "postgres"])
    parser.add_argument("--db", default=DEFAULT_DB)
    parser.add_argument("--documents", type=int, default=None,
                        help="build: how many (default 1,000,000); postgres: load only the "
                             "first N (default all)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--like", action="store_true", help="also time the naive LIKE scan")
    parser.add_argument("--url", default="postgresql+psycopg://root@127.0.0.1:5432/test")
    parser.add_argument("--skip-load", action="store_true",
                        help="postgres: reuse the schema loaded before")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, "
          f"{platform.python_implementation()} {platform.python_version()}, "
          f"{platform.platform()}")
    if args.command == "build":
        build(args.db, args.documents or 1_000_000, args.seed)
    elif args.command == "run":
        time_queries(f"sqlite:///{args.db}", args.runs, args.like, "SQLite")
    else:
        target = f"{args.url}?options=-csearch_path%3Dbench_search" if args.skip_load \
            else load_postgres(args.db, args.url, args.documents)
        time_queries(target, args.runs, args.like, "PostgreSQL")


if __name__ == "__main__":
    main()
