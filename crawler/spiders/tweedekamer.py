"""Tweede Kamer open data (OData v4 "Gegevensmagazijn"): what moved in parliament since the last run.

Follows SOURCES.md §1. Per entity set (Document, Zaak, Activiteit, Besluit by default; see
``WATCH_TK_ENTITIES``) the spider asks for every row whose ``ApiGewijzigdOp`` is after the stored
cursor minus an overlap window, ordered by ``ApiGewijzigdOp``, and follows ``@odata.nextLink``
as given until it is absent. Deleted rows (``Verwijderd: true``) are kept in the query on
purpose: they become ``removed`` items. Each entity's cursor advances only when its whole chain
of pages came back and parsed, and only to the newest ``ApiGewijzigdOp`` actually received.

Items:
- a Document row → the document (kamerstuk, letter, motion text, answer to written questions);
- a Zaak row → the parliamentary case (motion, bill, written questions) with its status;
- a Besluit row → the same Zaak item with the decision and vote tally as status facets, so a
  vote becomes a ``status`` event on the motion;
- an Activiteit row → the debate or meeting, with its status and date as facets.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import scrapy
from scrapy.crawler import Crawler
from scrapy.http import Response

from crawler.items import PolicyItem
from crawler.spiders._base import FailureAccount, titled, well_formed

#: Fields a live row of each entity must have; a missing one means the API changed under us
#: (the v4/2.0 → new-version migration of 2026, SOURCES.md §1.1), which must fail loudly.
REQUIRED_FIELDS = {
    "Document": ("Id", "Soort", "DocumentNummer", "Titel", "Onderwerp", "Datum", "Volgnummer"),
    "Zaak": ("Id", "Nummer", "Soort", "Titel", "Onderwerp"),
    "Activiteit": ("Id", "Nummer", "Soort", "Onderwerp", "Datum", "Status"),
    "Besluit": ("Id", "BesluitSoort", "BesluitTekst"),
    "Toezegging": ("Id", "Nummer", "Tekst", "Status"),
}
#: Toezegging.DatumNakoming when no date was promised (the API writes the minimum date).
NO_DATE = "0001-01-01"
CURSOR_FIELD = "ApiGewijzigdOp"

#: Zaken that are one document: a motion, an amendment, a government letter. Such a zaak and
#: its document are the same work (identifier scheme "zaakdocument"), so the vote on a motion
#: lands on the motion. Document.Soort → the Zaak.Soort it belongs to.
SINGLE_DOCUMENT_ZAKEN = {
    "Motie": "Motie",
    "Motie (gewijzigd/nader)": "Motie",
    "Amendement": "Amendement",
    "Amendement (gewijzigd/nader/vervangend)": "Amendement",
    "Brief regering": "Brief regering",
}


class SourceFormatError(ValueError):
    """A row does not have the shape this spider was written for."""


def parse_time(value: str | None) -> datetime | None:
    """OData timestamps (offset or Z, up to 7 fractional digits) as aware UTC datetimes."""
    if not value:
        return None
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def odata_datetime(value: datetime) -> str:
    """An OData v4 date-time literal (unquoted, whole seconds, UTC): 2026-11-16T00:00:00Z."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def dossier_number(dossier: dict[str, Any]) -> str:
    """Kamerstukdossier number as stored: ``36547`` or ``36800-VI``."""
    toevoeging = (dossier.get("Toevoeging") or "").strip()
    number = str(dossier["Nummer"])
    return f"{number}-{toevoeging}" if toevoeging else number


def document_title(row: dict[str, Any]) -> str:
    """A title a researcher can read in a list: the Onderwerp, with the Titel if it is a label."""
    onderwerp = (row.get("Onderwerp") or "").strip()
    titel = (row.get("Titel") or "").strip()
    if not onderwerp:
        return titel or row["DocumentNummer"]
    return titled(onderwerp, titel)


def _live(rows: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """Expanded rows without the deleted ones."""
    return [row for row in rows or [] if isinstance(row, dict) and not row.get("Verwijderd")]


def _text(*parts: str | None) -> str:
    return "\n".join(part.strip() for part in parts if part and part.strip())


class TweedekamerSpider(FailureAccount, scrapy.Spider):
    name = "tweedekamer"
    source_title = "Tweede Kamer — open data (OData)"
    source_url = "https://opendata.tweedekamer.nl/"

    def __init__(self, *args: Any, cursor: str | dict[str, str] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        #: Per entity: the ApiGewijzigdOp string to continue from (the stored cursor, or the
        #: start recorded in a recording's manifest). Set before the crawl starts.
        self.cursor: dict[str, str] = json.loads(cursor) if isinstance(cursor, str) else dict(
            cursor or {}
        )
        self.failures: list[tuple[str | None, str]] = []
        self._newest: dict[str, tuple[datetime, str]] = {}
        self._since: dict[str, datetime] = {}
        self._completed: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> TweedekamerSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        spider.base_url = settings.get("WATCH_TK_ODATA_URL").rstrip("/") + "/"
        spider.entities = settings.getdict("WATCH_TK_ENTITIES")
        spider.overlap = timedelta(hours=settings.getfloat("WATCH_TK_OVERLAP_HOURS"))
        spider.initial = timedelta(days=settings.getfloat("WATCH_TK_INITIAL_DAYS"))
        return spider

    # --- requests -------------------------------------------------------------------------

    def since(self, entity: str, now: datetime | None = None) -> datetime:
        """Where this run starts for ``entity``: cursor minus overlap, or the initial window."""
        stored = self.cursor.get(entity)
        if stored:
            start = parse_time(stored)
            assert start is not None
            return start - self.overlap
        return (now or datetime.now(UTC)) - self.initial

    def query_url(self, entity: str, since: datetime) -> str:
        config = self.entities[entity]
        params = [
            ("$filter", f"{CURSOR_FIELD} gt {odata_datetime(since)}"),
            ("$orderby", CURSOR_FIELD),
        ]
        if config.get("expand"):
            params.append(("$expand", config["expand"]))
        query = "&".join(f"{key}={quote(value, safe=',()=;$:')}" for key, value in params)
        return f"{self.base_url}{config['entity_set']}?{query}"

    async def start(self) -> AsyncIterator[scrapy.Request]:
        now = datetime.now(UTC)
        for entity in self.entities:
            since = self.since(entity, now)
            # Second precision: the stored cursor is what we asked from if nothing comes back.
            self._since[entity] = since.replace(microsecond=0)
            yield self._request(self.query_url(entity, since), entity)

    def _request(self, url: str, entity: str) -> scrapy.Request:
        return scrapy.Request(
            url,
            callback=self.parse_page,
            errback=self.on_error,
            cb_kwargs={"entity": entity},
            headers={"Accept": "application/json"},
            meta={"entity": entity},
        )

    # --- parsing --------------------------------------------------------------------------

    def parse_page(self, response: Response, entity: str) -> Iterator[PolicyItem | scrapy.Request]:
        try:
            page = json.loads(response.body)
        except ValueError as exc:
            self.fail(response.url, f"response is not JSON ({exc})")
            return
        rows = page.get("value") if isinstance(page, dict) else None
        if not isinstance(rows, list):
            self.fail(response.url, "response has no 'value' list: not an OData collection")
            return
        fetched_at = datetime.now(UTC)
        for row in rows:
            try:
                # A row is all or nothing: its items are checked before any is yielded.
                items = [well_formed(i) for i in self.items_for(entity, row, fetched_at)]
                self._note_newest(entity, row.get(CURSOR_FIELD))
            except (SourceFormatError, KeyError, TypeError, ValueError, AttributeError) as exc:
                row_id = row.get("Id") if isinstance(row, dict) else None
                self.fail(response.url, f"{entity} row {row_id}: {exc}")
                continue
            yield from items
        next_link = page.get("@odata.nextLink")
        if next_link and not isinstance(next_link, str):
            self.fail(response.url, f"@odata.nextLink is {type(next_link).__name__}, not a URL: "
                                    "the remaining pages are missing")
        elif next_link:
            yield self._request(response.urljoin(next_link), entity)
        else:
            self._completed.add(entity)

    def _note_newest(self, entity: str, value: str | None) -> None:
        parsed = parse_time(value)
        if parsed is not None and (
            entity not in self._newest or parsed > self._newest[entity][0]
        ):
            self._newest[entity] = (parsed, value or "")

    def next_cursor(self) -> dict[str, str]:
        """The cursor to store: advanced only for entities whose every page came back."""
        cursor = dict(self.cursor)
        for entity in self._completed:
            if entity in self._newest:
                cursor[entity] = self._newest[entity][1]
            elif entity not in cursor and entity in self._since:
                cursor[entity] = self._since[entity].strftime("%Y-%m-%dT%H:%M:%SZ")
        return cursor

    def items_for(
        self, entity: str, row: dict[str, Any], fetched_at: datetime
    ) -> Iterator[PolicyItem]:
        if not isinstance(row, dict) or "Id" not in row:
            raise SourceFormatError("row has no Id")
        kind = self.entities[entity]["entity_set"]
        if row.get("Verwijderd"):
            if entity == "Besluit":
                # A withdrawn decision does not remove the case; the next Besluit will say more.
                self.crawler.stats.inc_value("watch/tweedekamer/besluit_removed")
                return
            yield PolicyItem(
                source=self.name, key=f"{entity}/{row['Id']}",
                url=self._entity_url(kind, row["Id"]), fetched_at=fetched_at, removed=True,
                meta={CURSOR_FIELD: row.get(CURSOR_FIELD)},
            )
            return
        missing = [name for name in REQUIRED_FIELDS.get(entity, ()) if name not in row]
        if missing:
            raise SourceFormatError(
                f"fields {', '.join(missing)} missing: has the API changed? (SOURCES.md §1.1)"
            )
        if entity == "Document":
            yield self.document_item(row, fetched_at)
        elif entity == "Zaak":
            yield self.zaak_item(row, fetched_at)
        elif entity == "Activiteit":
            yield self.activiteit_item(row, fetched_at)
        elif entity == "Besluit":
            yield from self.besluit_items(row, fetched_at)
        elif entity == "Toezegging":
            yield self.toezegging_item(row, fetched_at)
        else:
            raise SourceFormatError(f"no mapping for entity {entity!r}")

    def toezegging_item(self, row: dict[str, Any], fetched_at: datetime) -> PolicyItem:
        """A commitment a minister made in a debate: its text, who made it, by when it is due.

        Open commitments with a due date are in the digest's agenda: the date is the ``datum``
        facet and the TK status (Openstaand, Voldaan, …) the ``activiteit_status`` facet, so
        a fulfilled commitment is a status event and leaves the agenda."""
        who = ", ".join(v for v in (row.get("Naam"), row.get("Functie")) if v)
        due = (row.get("DatumNakoming") or "")[:10]
        status = {"activiteit_status": row["Status"]}
        if due and due != NO_DATE:
            status["datum"] = due  # a day, no time
        ids: dict[str, list[str]] = {"tk-id": [row["Id"]], "tk-toezegging": [row["Nummer"]]}
        if row.get("ActiviteitNummer"):
            ids["tk-activiteit"] = [row["ActiviteitNummer"]]
        tekst = " ".join((row.get("Tekst") or "").split())
        return PolicyItem(
            source=self.name,
            key=f"Toezegging/{row['Id']}",
            url=self._entity_url("Toezegging", row["Id"]),
            fetched_at=fetched_at,
            title=f"{row['Nummer']}: {tekst[:150]}{'…' if len(tekst) > 150 else ''}",
            text=_text("Toezegging", tekst, who, row.get("Ministerie"),
                       f"Kamerbrief nakoming: {row['KamerbriefNakoming']}"
                       if row.get("KamerbriefNakoming") else None),
            doc_type="Toezegging",
            published_at=parse_time(row.get("Aanmaakdatum")),
            identifiers=ids,
            status=status,
            meta={"Nummer": row["Nummer"], "Naam": row.get("Naam"), "Functie": row.get("Functie"),
                  "Ministerie": row.get("Ministerie"), "DatumNakoming": row.get("DatumNakoming"),
                  "ActiviteitNummer": row.get("ActiviteitNummer"),
                  "GewijzigdOp": row.get("GewijzigdOp"), CURSOR_FIELD: row.get(CURSOR_FIELD)},
        )

    def _entity_url(self, entity_set: str, row_id: str) -> str:
        return f"{self.base_url}{entity_set}({row_id})"

    def document_item(self, row: dict[str, Any], fetched_at: datetime) -> PolicyItem:
        dossiers = _live(row.get("Kamerstukdossier"))
        versions = sorted(_live(row.get("DocumentVersie")), key=lambda v: v.get("Versienummer") or 0)
        current = next(
            (v for v in versions if v.get("Id") == row.get("HuidigeDocumentVersie_Id")),
            versions[-1] if versions else None,
        )
        zaken = _live(row.get("Zaak"))
        actors = _live(row.get("DocumentActor"))

        ids: dict[str, list[str]] = {"tk-id": [row["Id"]], "tk-document": [row["DocumentNummer"]]}
        numbers = [dossier_number(d) for d in dossiers]
        if numbers:
            ids["dossier"] = numbers
        volgnummer = row.get("Volgnummer")
        if isinstance(volgnummer, int) and volgnummer >= 1 and len(numbers) == 1:
            ids["kamerstuk"] = [f"kst-{numbers[0]}-{volgnummer}"]
        for version in versions:
            external = (version.get("ExterneIdentifier") or "").strip()
            if external:
                scheme = "kamerstuk" if external.startswith("kst-") else "officielebekendmakingen"
                ids.setdefault(scheme, [])
                if external not in ids[scheme]:
                    ids[scheme].append(external)
        if zaken:
            ids["zaak"] = [z["Nummer"] for z in zaken if z.get("Nummer")]
        family = SINGLE_DOCUMENT_ZAKEN.get(row.get("Soort") or "")
        single = [z["Nummer"] for z in zaken if z.get("Soort") == family and z.get("Nummer")]
        if single:
            ids["zaakdocument"] = single

        title = document_title(row)
        actor_lines = [
            f"{a.get('Relatie') or 'Actor'}: {a.get('ActorNaam')}"
            + (f" ({a['ActorFractie']})" if a.get("ActorFractie") else "")
            for a in actors
        ]
        version_line = (
            f"Versie {current.get('Versienummer')} ({(current.get('Datum') or '')[:10]})"
            if current else None
        )
        text = _text(
            row.get("Soort"),
            row.get("Titel"),
            row.get("Onderwerp"),
            row.get("Citeertitel"),
            *[f"Dossier {dossier_number(d)}: {d.get('Titel') or ''}" for d in dossiers],
            *actor_lines,
            version_line,
        )
        links = {"bestand": f"{self._entity_url('Document', row['Id'])}/resource"}
        for external in ids.get("kamerstuk", []) + ids.get("officielebekendmakingen", []):
            if any(v.get("ExterneIdentifier") == external for v in versions):
                links["officielebekendmakingen"] = (
                    f"https://zoek.officielebekendmakingen.nl/{external}"
                )
        return PolicyItem(
            source=self.name,
            key=f"Document/{row['Id']}",
            url=links["bestand"],
            fetched_at=fetched_at,
            title=title,
            text=text,
            doc_type=row.get("Soort"),
            published_at=parse_time(row.get("Datum")),
            identifiers=ids,
            meta={
                "DocumentNummer": row["DocumentNummer"],
                "Vergaderjaar": row.get("Vergaderjaar"),
                "Volgnummer": volgnummer,
                "Datum": row.get("Datum"),
                "DatumRegistratie": row.get("DatumRegistratie"),
                "Aanhangselnummer": row.get("Aanhangselnummer"),
                "Organisatie": row.get("Organisatie"),
                "ContentType": row.get("ContentType"),
                "GewijzigdOp": row.get("GewijzigdOp"),
                CURSOR_FIELD: row.get(CURSOR_FIELD),
                "links": links,
                "zaken": [{"Nummer": z.get("Nummer"), "Soort": z.get("Soort")} for z in zaken],
                "versies": [
                    {"Versienummer": v.get("Versienummer"), "Datum": v.get("Datum"),
                     "ExterneIdentifier": v.get("ExterneIdentifier")}
                    for v in versions
                ],
            },
        )

    def zaak_item(
        self, row: dict[str, Any], fetched_at: datetime, extra_status: dict[str, str] | None = None,
        extra_meta: dict[str, Any] | None = None,
    ) -> PolicyItem:
        dossiers = _live(row.get("Kamerstukdossier"))
        actors = _live(row.get("ZaakActor"))
        ids: dict[str, list[str]] = {"tk-id": [row["Id"]], "zaak": [row["Nummer"]]}
        numbers = [dossier_number(d) for d in dossiers]
        if numbers:
            ids["dossier"] = numbers
        if row.get("Soort") in SINGLE_DOCUMENT_ZAKEN.values():
            ids["zaakdocument"] = [row["Nummer"]]
        # Actors with a role in the case itself; committees are listed by name.
        actor_lines = [
            f"{a.get('Relatie') or 'Actor'}: {a.get('ActorNaam')}"
            + (f" ({a['ActorFractie']})" if a.get("ActorFractie") else "")
            for a in sorted(actors, key=lambda a: (a.get("Relatie") or "", a.get("ActorNaam") or ""))
        ]
        text = _text(
            row.get("Soort"),
            row.get("Titel"),
            row.get("Onderwerp"),
            row.get("Citeertitel"),
            *[f"Dossier {dossier_number(d)}: {d.get('Titel') or ''}" for d in dossiers],
            *actor_lines,
        )
        status = {
            facet: str(value)
            for facet, value in (
                ("zaak_status", row.get("Status")),
                ("afgedaan", {True: "ja", False: "nee"}.get(row.get("Afgedaan"))),
                ("kabinetsappreciatie", row.get("Kabinetsappreciatie")),
                ("behandelstatus", row.get("HuidigeBehandelstatus")),
            )
            if value not in (None, "")
        }
        status.update(extra_status or {})
        return PolicyItem(
            source=self.name,
            key=f"Zaak/{row['Id']}",
            url=self._entity_url("Zaak", row["Id"]),
            fetched_at=fetched_at,
            title=row.get("Onderwerp") or row.get("Titel") or row["Nummer"],
            text=text,
            doc_type=row.get("Soort"),
            published_at=parse_time(row.get("GestartOp")),
            identifiers=ids,
            status=status,
            meta={
                "Nummer": row["Nummer"],
                "Vergaderjaar": row.get("Vergaderjaar"),
                "GestartOp": row.get("GestartOp"),
                "GewijzigdOp": row.get("GewijzigdOp"),
                CURSOR_FIELD: row.get(CURSOR_FIELD),
                "actoren": [
                    {"naam": a.get("ActorNaam"), "fractie": a.get("ActorFractie"),
                     "relatie": a.get("Relatie")}
                    for a in actors
                ],
                **(extra_meta or {}),
            },
        )

    def besluit_items(self, row: dict[str, Any], fetched_at: datetime) -> Iterator[PolicyItem]:
        votes = [v for v in _live(row.get("Stemming")) if not v.get("Vergissing")]
        tally: dict[str, int] = {}
        for vote in votes:
            kind = vote.get("Soort") or "?"
            tally[kind] = tally.get(kind, 0) + int(vote.get("FractieGrootte") or 0)
        agendapunt = row.get("Agendapunt") if isinstance(row.get("Agendapunt"), dict) else {}
        activiteit = agendapunt.get("Activiteit") if isinstance(agendapunt, dict) else None
        date = (activiteit or {}).get("Datum") if isinstance(activiteit, dict) else None
        status = {"besluit": row["BesluitSoort"] or row["BesluitTekst"] or "onbekend"}
        if row.get("BesluitTekst"):
            status["besluit_tekst"] = row["BesluitTekst"].strip()
        if tally:
            order = ["Voor", "Tegen", "Niet deelgenomen"]
            kinds = sorted(tally, key=lambda k: order.index(k) if k in order else len(order))
            status["stemming"] = ", ".join(f"{k} {tally[k]}" for k in kinds)
        if date:
            status["besluit_datum"] = date[:10]
        meta = {
            "besluit": {
                "Id": row["Id"],
                "BesluitSoort": row.get("BesluitSoort"),
                "BesluitTekst": row.get("BesluitTekst"),
                "StemmingsSoort": row.get("StemmingsSoort"),
                "Datum": date,
                "stemmen": [
                    {"fractie": v.get("ActorFractie") or v.get("ActorNaam"),
                     "soort": v.get("Soort"), "zetels": v.get("FractieGrootte")}
                    for v in votes
                ],
            }
        }
        zaken = _live(row.get("Zaak"))
        if not zaken:
            raise SourceFormatError("Besluit without a Zaak")
        for zaak in zaken:
            yield self.zaak_item(zaak, fetched_at, extra_status=status, extra_meta=meta)

    def activiteit_item(self, row: dict[str, Any], fetched_at: datetime) -> PolicyItem:
        zaken = _live(row.get("Zaak"))
        punten = sorted(_live(row.get("Agendapunt")), key=lambda p: p.get("Volgorde") or 0)
        ids: dict[str, list[str]] = {"tk-id": [row["Id"]], "tk-activiteit": [row["Nummer"]]}
        if zaken:
            ids["zaak"] = [z["Nummer"] for z in zaken if z.get("Nummer")]
        text = _text(
            row.get("Soort"),
            row.get("Onderwerp"),
            row.get("Voortouwnaam"),
            *[f"Agendapunt: {p.get('Onderwerp')}" for p in punten if p.get("Onderwerp")],
            *[f"Zaak {z.get('Nummer')}: {z.get('Onderwerp') or z.get('Titel') or ''}"
              for z in zaken],
        )
        when = (row.get("Aanvangstijd") or row.get("Datum") or "")
        status = {"activiteit_status": row["Status"]} if row.get("Status") else {}
        if when:
            status["datum"] = when[:16].replace("T", " ")
        if row.get("Locatie"):
            status["locatie"] = row["Locatie"]
        return PolicyItem(
            source=self.name,
            key=f"Activiteit/{row['Id']}",
            url=self._entity_url("Activiteit", row["Id"]),
            fetched_at=fetched_at,
            title=f"{row.get('Soort')}: {row.get('Onderwerp')}",
            text=text,
            doc_type=row.get("Soort"),
            published_at=parse_time(row.get("Datum")),
            identifiers=ids,
            status=status,
            meta={
                "Nummer": row["Nummer"],
                "Datum": row.get("Datum"),
                "Aanvangstijd": row.get("Aanvangstijd"),
                "Eindtijd": row.get("Eindtijd"),
                "Besloten": row.get("Besloten"),
                "Voortouwnaam": row.get("Voortouwnaam"),
                "GewijzigdOp": row.get("GewijzigdOp"),
                CURSOR_FIELD: row.get(CURSOR_FIELD),
                "agendapunten": [p.get("Onderwerp") for p in punten],
            },
        )
