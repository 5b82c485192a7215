"""European Parliament: the monitored EU procedures, their stage, documents and plenary votes.

Follows SOURCES.md §6. For every procedure in ``WATCH_EP_PROCEDURES`` (any spelling; normalised
with ``monitors.identifiers.procedure``) the spider runs one chain of requests:

1. the EP Open Data API v2 procedure ``procedures/{year}-{number}`` (JSON-LD: ids relative to
   ``@base``, titles as language maps, Dutch preferred, English as fallback). Every document of
   the procedure whose kind is in ``WATCH_EP_DOCUMENT_ENDPOINTS`` (reports A, motions B, joint
   motions RC, adopted texts TA) is fetched by id and becomes an item of its own (key = the EP
   reference, ``A-10-2025-0006``);
2. the Legislative Observatory (OEIL) procedure file: "Stage reached in procedure" becomes the
   ``stadium`` status facet (so a stage change is a ``status`` event in the archive), the newest
   key event the ``laatste_gebeurtenis`` facet; all key events, subjects, rapporteurs, the
   documentation gateway and the final act are meta. A page without the stage row is layout
   drift: a failure, and no procedure item rather than an empty one. The optional "Forecasts"
   section (indicative plenary sitting dates, expected Council steps) is meta too, and its
   earliest row dated on or after the crawl's day (``WATCH_CLOCK`` in a replay, else today) gives
   the facets ``datum`` (ISO day), ``activiteit_status`` "Voorzien" and ``verwacht`` (the
   forecast's subject), which put the EU date in the digest's agenda; with no such row the three
   are sent empty, which clears them. A Forecasts section that no longer reads (columns, a date
   not dd/mm/yyyy) is a failure that costs only those facets: the item is stored without them,
   so the archive keeps the forecast it knew;
3. when a plenary vote on the file is known (an OEIL key event "Results of vote in Parliament" or
   "Decision by Parliament", or a vote event in the API), the doceo vote-results XML
   ``PV-{term}-{date}-VOT_EN.xml`` of the newest such sitting: the final vote on the file's
   report gives the facets ``besluit`` (aangenomen/verworpen), ``stemming`` (counts) and
   ``besluit_datum``.

The chain ends in one item per procedure (key = ``2022/0155(COD)``), so the archive sees one
consistent observation per run. Forecasts are facets, not content: a moved forecast is a
``status`` event, never a new version. The API part is optional for that item (the API's
procedure list is known to be incomplete, §6.1): when it fails, the failure is recorded and the
item is built from OEIL alone; the change fingerprint is built from the OEIL part only, so an API
outage does not show up as a new version. A failed vote file likewise costs only the vote facets.

The API documents a User-Agent convention and about 500 requests per 5 minutes [reported]; OEIL
and www.europarl.europa.eu sit behind a bot-filtering CDN that may answer an empty HTTP 202
(§6.3), so a 2xx without the expected format is a failure too. This spider therefore waits at
least one second between requests to each host (``custom_settings``).

[UNCONFIRMED] in SOURCES.md, kept in settings: the ``adopted-texts/{id}`` path for TA documents
(``WATCH_EP_DOCUMENT_ENDPOINTS``), the doceo VOT URL pattern (``WATCH_EP_DOCEO_URL``), the OEIL
host (``WATCH_EP_OEIL_URL``).
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import parse_qs, quote, urljoin, urlsplit
from zoneinfo import ZoneInfo

import lxml.html
import scrapy
from lxml import etree
from scrapy.crawler import Crawler
from scrapy.http import Response
from twisted.python.failure import Failure

from crawler.items import PolicyItem
from crawler.spiders._base import FailureAccount, cut_off, utc_day, well_formed, xml_safe
from monitors import identifiers as ids

JSONLD = "application/ld+json"
DEFAULT_BASE = "https://data.europarl.europa.eu/"
#: Languages for titles, in order of preference (researchers read Dutch; English always exists).
LANGUAGES = ("nl", "en")

#: API work types as researchers name them.
WORK_TYPES = {
    "REPORT_PLENARY": "Verslag (EP)",
    "ADOPTED_TEXT": "Aangenomen tekst (EP)",
    "RESOLUTION_MOTION": "Ontwerpresolutie (EP)",
    "RESOLUTION_MOTION_JOINT": "Gezamenlijke ontwerpresolutie (EP)",
}
#: VOT ``result`` values → the ``besluit`` facet.
RESULTS = {"ADOPTED": "aangenomen", "REJECTED": "verworpen", "LAPSED": "vervallen"}
#: API activity types that are a plenary vote on the file.
VOTE_ACTIVITIES = {"PLENARY_VOTE", "PLENARY_VOTE_RESULTS"}
#: OEIL key events that are a plenary vote on the file.
VOTE_EVENTS = ("Results of vote in Parliament", "Decision by Parliament")
#: OEIL's Forecasts columns: the date, and the subject (seen as "Subject"; "Event" accepted too).
FORECAST_SUBJECT_COLUMNS = ("Subject", "Event")
#: The ``activiteit_status`` of a forecast: an indicative date, not a fixed one.
FORECAST_STATUS = "Voorzien"
#: Plenary sittings and Council meetings are dated in Brussels/Strasbourg time.
BRUSSELS = ZoneInfo("Europe/Brussels")
#: First day of each parliamentary term (for a VOT file name when OEIL links none).
TERMS = ((date(2024, 7, 16), 10), (date(2019, 7, 2), 9), (date(2014, 7, 1), 8))

_DDMMYYYY = re.compile(r"^(\d{2})/(\d{2})/(\d{4})$")
_VOT_LINK = re.compile(r"PV-(\d{1,2})-(\d{4}-\d{2}-\d{2})-VOT", re.IGNORECASE)
_COM = re.compile(r"\bCOM\(\d{4}\)\d{4}")
_EP_DOC_ID = re.compile(r"^(?:eli/dl/doc/)?([A-Z]+)-\d{1,2}-\d{4}-\d{4}$")


class SourceFormatError(ValueError):
    """A response does not have the shape this spider was written for (format or layout drift)."""


def _clean(value: str | None) -> str:
    return " ".join((value or "").split())



def in_language(values: Any, languages: tuple[str, ...] = LANGUAGES) -> str:
    """The text of a JSON-LD language map in the first language it has (``{"nl": …, "en": …}``)."""
    if isinstance(values, str):
        return _clean(values)
    if not isinstance(values, dict):
        return ""
    for language in languages:
        if _clean(values.get(language)):
            return _clean(values[language])
    return ""


def parliamentary_term(day: date) -> int:
    for start, term in TERMS:
        if day >= start:
            return term
    raise ValueError(f"no parliamentary term known for {day}")


# --- API v2 (JSON-LD) ---------------------------------------------------------------------------


def jsonld_graph(body: bytes) -> tuple[str, list[dict[str, Any]]]:
    """``(@base, data)`` of an API v2 response; SourceFormatError when it is not one."""
    try:
        document = json.loads(body)
    except ValueError as exc:
        raise SourceFormatError(f"response is not JSON ({exc})") from exc
    if not isinstance(document, dict) or "data" not in document:
        raise SourceFormatError("not a JSON-LD API v2 response (no 'data')")
    base = DEFAULT_BASE
    context = document.get("@context")
    for entry in context if isinstance(context, list) else [context]:
        if isinstance(entry, dict) and entry.get("@base"):
            base = entry["@base"]
    data = document["data"]
    data = data if isinstance(data, list) else [data]
    return base, [node for node in data if isinstance(node, dict)]


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _last_segment(value: Any) -> str:
    return value.rsplit("/", 1)[-1] if isinstance(value, str) else ""


def api_procedure(body: bytes, reference: str) -> dict[str, Any]:
    """What the API says about a procedure: titles, stage, events, documents."""
    base, data = jsonld_graph(body)
    process = next((node for node in data if node.get("type") == "Process"), None)
    if process is None:
        raise SourceFormatError("no Process in the response")
    label = process.get("label") or ""
    if ids.procedure(label) != reference:
        stated = label or process.get("process_id") or "nothing"
        raise SourceFormatError(f"the API answered procedure {stated}, not {reference}")
    events = []
    for event in process.get("consists_of") or []:
        if not isinstance(event, dict):
            continue
        events.append({
            "id": event.get("activity_id") or _last_segment(event.get("id")),
            "type": event.get("type"),
            "date": event.get("activity_date"),
            "activity": _last_segment(event.get("had_activity_type")) or None,
            "documents": [_last_segment(d) for d in _strings(event.get("based_on_a_realization_of"))
                          + _strings(event.get("decided_on_a_realization_of"))],
        })
    return {
        "id": urljoin(base, process.get("id") or ""),
        "base": base,
        "label": label,
        "titles": process.get("process_title") or {},
        "process_type": _last_segment(process.get("process_type")) or None,
        "stage": _last_segment(process.get("current_stage")) or None,
        "documents": [_last_segment(d) for d in _strings(process.get("created_a_realization_of"))],
        "events": events,
    }


# --- OEIL procedure file (HTML) -----------------------------------------------------------------


def _section(document: Any, heading: str) -> Any | None:
    """The section (``div.erpl-product-content``) whose ``h2`` says ``heading``."""
    for h2 in document.iter("h2"):
        if _clean(h2.text_content()) == heading:
            found = h2.xpath("ancestor::div[contains(concat(' ', normalize-space(@class), ' '), "
                             "' erpl-product-content ')][1]")
            return found[0] if found else None
    return None


def _iso(value: str) -> str:
    match = _DDMMYYYY.match(_clean(value))
    if not match:
        raise SourceFormatError(f"date {_clean(value)!r} is not dd/mm/yyyy")
    day, month, year = match.groups()
    return f"{year}-{month}-{day}"


def _references(cell: Any, page_url: str) -> list[dict[str, str]]:
    """The references in a table cell: links (with or without text) and plain reference spans."""
    found = []
    for element in cell.iter("a", "span"):
        text = _clean(element.text_content())
        href = element.get("href")
        if element.tag == "a" and href:
            entry = {"url": urljoin(page_url, href)}
            if text:
                entry["ref"] = text
            found.append(entry)
        elif element.tag == "span" and text and element.getparent().tag != "a":
            found.append({"ref": text})
    return found


def _key_events(section: Any, page_url: str) -> list[dict[str, Any]]:
    tables = section.xpath(".//table")
    if not tables:
        raise SourceFormatError("the Key events section has no table: has the page changed?")
    heads = [_clean(th.text_content()) for th in tables[0].xpath(".//thead//th")]
    if heads[:2] != ["Date", "Event"]:
        raise SourceFormatError(f"Key events columns are {heads}, not Date, Event, …")
    events = []
    for row in tables[0].xpath(".//tbody/tr"):
        cells = row.xpath("./td")
        if len(cells) < 2:
            continue
        event: dict[str, Any] = {"date": _iso(cells[0].text_content()),
                                 "event": _clean(cells[1].text_content())}
        references = _references(cells[2], page_url) if len(cells) > 2 else []
        if references:
            event["references"] = references
        summary = cells[3].xpath(".//a/@href") if len(cells) > 3 else []
        if summary:
            event["summary"] = urljoin(page_url, summary[0])
        events.append(event)
    return events


def _forecasts(section: Any | None) -> tuple[list[dict[str, str]], list[str]]:
    """The Forecasts table as ``[{date, event}]``, and what could not be read in it.

    The section is optional (files with nothing scheduled have none). A row whose date is not
    dd/mm/yyyy, or a table without a Date and a Subject/Event column, is reported, not raised:
    the rest of the procedure file is still good."""
    if section is None:
        return [], []
    tables = section.xpath(".//table")
    if not tables:
        return [], ["the Forecasts section has no table: has the page changed?"]
    heads = [_clean(th.text_content()) for th in tables[0].xpath(".//thead//th")]
    subject = next((heads.index(h) for h in FORECAST_SUBJECT_COLUMNS if h in heads), None)
    if "Date" not in heads or subject is None:
        return [], [f"Forecasts columns are {heads}, not Date, Subject"]
    when = heads.index("Date")
    forecasts, problems = [], []
    for row in tables[0].xpath(".//tbody/tr"):
        cells = row.xpath("./td")
        if len(cells) <= max(when, subject):
            if _clean(row.text_content()):
                problems.append(f"a Forecasts row has {len(cells)} cells, not {len(heads)}: "
                                f"{_clean(row.text_content())[:80]!r}")
            continue
        event = _clean(cells[subject].text_content())
        try:
            day = _iso(cells[when].text_content())
        except SourceFormatError as exc:
            problems.append(f"forecast {event[:80]!r}: {exc}")
            continue
        forecasts.append({"date": day, "event": event})
    return forecasts, problems


def _gateway(section: Any | None, page_url: str) -> list[dict[str, Any]]:
    if section is None:
        return []
    rows = []
    for item in section.xpath(".//li[contains(@class, 'es_accordion-item')]"):
        institution = _clean(" ".join(item.xpath("./button//span[contains(@class, 't-x')]//text()")))
        for row in item.xpath(".//tbody/tr"):
            kind = _clean(" ".join(row.xpath("./th//text()")))
            cells = row.xpath("./td")
            dates = [c for c in cells if _DDMMYYYY.match(_clean(c.text_content()))]
            refs = [r for c in cells if "w-25" in (c.get("class") or "")
                    for r in _references(c, page_url)]
            rows.append({"institution": institution, "type": kind,
                         "date": _iso(dates[0].text_content()) if dates else None,
                         "references": refs})
    return rows


def _labelled_paragraphs(section: Any) -> dict[str, list[str]]:
    """Basic information: ``<p class="font-weight-bold">Label</p><p>value<br/>value</p>``."""
    found: dict[str, list[str]] = {}
    for label in section.xpath(".//p[contains(@class, 'font-weight-bold')]"):
        following = label.getnext()
        if following is not None and following.tag == "p":
            found[_clean(label.text_content())] = [
                _clean(t) for t in following.itertext() if _clean(t)]
    return found


def oeil_file(body: str, reference: str, page_url: str) -> dict[str, Any]:
    """The procedure file's facts; SourceFormatError when the page lacks what it must have."""
    document = lxml.html.fromstring(xml_safe(body))
    page_title = _clean(document.findtext(".//title") or "")
    if "Procedure File" not in page_title:
        raise SourceFormatError(f"not an OEIL procedure file (title {page_title[:80]!r})")
    if ids.procedure(page_title) != reference:
        raise SourceFormatError(f"the page is the file of {ids.procedure(page_title)}, "
                                f"not {reference}")
    technical_section = _section(document, "Technical information")
    technical = {}
    if technical_section is not None:
        for row in technical_section.xpath(".//tr[th]"):
            technical[_clean(row.xpath("./th")[0].text_content())] = _clean(
                " ".join(row.xpath("./td//text()")))
    stage = technical.get("Stage reached in procedure")
    if not stage:
        raise SourceFormatError("no 'Stage reached in procedure' on the procedure file: "
                                "has the page changed?")
    events_section = _section(document, "Key events")
    if events_section is None:
        raise SourceFormatError("no 'Key events' section on the procedure file: "
                                "has the page changed?")
    basic_section = _section(document, "Basic information")
    basic = _labelled_paragraphs(basic_section) if basic_section is not None else {}
    headline = document.xpath("//h2[contains(@class, 'es_title-h2') and contains(@class, 'mb-3')]")
    final_section = _section(document, "Final act")
    final_acts = []
    if final_section is not None:
        for link in final_section.xpath(".//a[contains(@href, 'numdoc=')]"):
            numdoc = parse_qs(urlsplit(link.get("href")).query).get("numdoc", [""])[0]
            final_acts.append({"title": _clean(link.text_content()),
                               "celex": ids.celex(numdoc), "url": link.get("href")})
    forecasts, forecast_problems = _forecasts(_section(document, "Forecasts"))
    return {
        "title": _clean(headline[0].text_content()) if headline else "",
        "stage": stage,
        "status": " ".join(basic.get("Status", [])) or None,
        "subjects": basic.get("Subject", []),
        "procedure_type": technical.get("Procedure type"),
        "instrument": technical.get("Legislative instrument"),
        "committee_dossier": technical.get("Committee dossier") or None,
        "key_events": _key_events(events_section, page_url),
        "gateway": _gateway(_section(document, "Documentation gateway"), page_url),
        "rapporteurs": list(dict.fromkeys(
            _clean(s.text_content()) for s in document.xpath("//a[contains(@class, 'rapporteur')]"))),
        "final_acts": final_acts,
        "forecasts": forecasts,
        "forecast_problems": forecast_problems,
    }


def next_forecast(forecasts: list[dict[str, str]], today: date) -> dict[str, str] | None:
    """The earliest forecast dated ``today`` or later (the first listed, on a tie)."""
    ahead = [f for f in forecasts if f["date"] >= today.isoformat()]
    return min(ahead, key=lambda f: f["date"]) if ahead else None


# --- Plenary votes (doceo VOT XML) --------------------------------------------------------------


def _local(element: Any) -> str:
    return etree.QName(element).localname


def _children(element: Any, name: str) -> list[Any]:
    return [c for c in element.iter() if isinstance(c.tag, str) and _local(c) == name]


def _child_text(element: Any, name: str) -> str:
    for child in element:
        if isinstance(child.tag, str) and _local(child) == name:
            return _clean("".join(child.itertext()))
    return ""


def plenary_vote(body: bytes, reference: str, documents: set[str]) -> dict[str, Any] | None:
    """The final vote on the file in a VOT file, or None when the sitting did not vote on it.

    A vote is on the file when it names one of the file's EP documents (``document@documentNumber``
    or the report number in ``label``) or the procedure itself (a label such as
    "Proposal for a regulation (COM(2024)0043 – C9-0010/2024 – 2024/0021(COD))").
    """
    try:
        root = etree.fromstring(body, parser=etree.XMLParser(resolve_entities=False,
                                                             no_network=True))
    except etree.XMLSyntaxError as exc:
        raise SourceFormatError(f"response is not XML ({exc})") from exc
    sittings = _children(root, "sitting")
    if _local(root) != "file" or not sittings:
        raise SourceFormatError(f"not a plenary vote-results file (root element {_local(root)})")
    sitting = sittings[0]
    matched = []
    for vote in _children(sitting, "vote"):
        label, title = _child_text(vote, "label"), _child_text(vote, "title")
        named = {ids.ep_document(d.get("documentNumber") or "") for d in _children(vote, "document")}
        named.add(ids.ep_document(label))
        procedures = ids.mentions(f"{label}\n{title}").get("procedure", set())
        if (named & documents) or reference in procedures:
            matched.append(vote)
    if not matched:
        return None
    vote = matched[-1]
    votings = [v for v in _children(vote, "voting")
               if v.get("result") and v.get("type") != "TITLE_BLOCK"]
    if not votings:
        return None
    final = votings[-1]
    counts = {name: final.get(attribute) for name, attribute in (
        ("Voor", "numberFavor"), ("Tegen", "numberAgainst"), ("Onthouding", "numberAbstention"))}
    return {
        "sitting": (sitting.get("date") or "")[:10],
        "file_version": root.get("version"),
        "last_update": sitting.get("lastUpdate"),
        "title": _child_text(vote, "title"),
        "label": _child_text(vote, "label"),
        "dlv_id": vote.get("dlvId"),
        "voting_id": final.get("votingId"),
        "voting": _child_text(final, "label") or _child_text(final, "title")
        or _child_text(final, "amendmentSubject"),
        "result": final.get("result"),
        "result_type": final.get("resultType"),
        "counts": {k: int(v) for k, v in counts.items() if v and v.isdigit()},
        "voters": int(final.get("votersCount")) if (final.get("votersCount") or "").isdigit()
        else None,
        # RAISE_HAND votes carry the file's generation time here, not the time of the vote.
        "timestamp": final.get("voteTimestamp"),
    }


# --- The spider ---------------------------------------------------------------------------------


@dataclass
class ProcedureRun:
    """What one procedure's chain of requests has gathered so far."""

    reference: str
    api: dict[str, Any] | None = None
    oeil: dict[str, Any] | None = None
    oeil_url: str = ""
    vote: dict[str, Any] | None = None
    vote_url: str | None = None
    documents: set[str] = field(default_factory=set)
    #: What the procedure item lacks because a request failed for a passing reason (a 5xx, a
    #: timeout, a cut answer): the item is then not stored this run, rather than stored without
    #: it and changed back on the next (two versions, two digest entries, for nothing).
    missing: str | None = None


def _not_found(failure: Failure) -> bool:
    """A 404: the resource does not exist (for good), unlike a server or network failure."""
    response = getattr(failure.value, "response", None)
    return response is not None and response.status == 404


class EuroparlSpider(FailureAccount, scrapy.Spider):
    name = "europarl"
    source_title = "Europees Parlement — Legislative Observatory en open data"
    source_url = "https://oeil.secure.europarl.europa.eu/oeil/en/"
    #: ~500 requests per 5 minutes reported for the API and a bot-filtering CDN in front of the
    #: other hosts (SOURCES.md §6.1, §6.3): at most one request per second per host, not
    #: randomised below that (AutoThrottle never goes under DOWNLOAD_DELAY).
    custom_settings = {"DOWNLOAD_DELAY": 1.0, "RANDOMIZE_DOWNLOAD_DELAY": False,
                       "AUTOTHROTTLE_START_DELAY": 1.0}

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.failures: list[tuple[str | None, str]] = []
        self.clock: datetime | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> EuroparlSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        clock = settings.get("WATCH_CLOCK")
        spider.clock = datetime.fromisoformat(clock) if clock else None
        spider.api_url = settings.get("WATCH_EP_API_URL").rstrip("/") + "/"
        spider.oeil_base = settings.get("WATCH_EP_OEIL_URL")
        spider.doceo_url = settings.get("WATCH_EP_DOCEO_URL").rstrip("/") + "/"
        spider.endpoints = settings.getdict("WATCH_EP_DOCUMENT_ENDPOINTS")
        spider.procedures = []
        for value in settings.getlist("WATCH_EP_PROCEDURES"):
            reference = ids.procedure(value)
            if reference is None:
                raise ValueError(f"WATCH_EP_PROCEDURES: {value!r} is not a procedure number")
            spider.procedures.append(reference)
        spider.procedures = list(dict.fromkeys(spider.procedures))
        return spider

    def today(self) -> date:
        """The day that counts as today for forecasts (the recording's, in a replay)."""
        now = self.clock or datetime.now(UTC)
        if now.tzinfo is None:
            now = now.replace(tzinfo=UTC)
        return now.astimezone(BRUSSELS).date()

    # --- URLs ------------------------------------------------------------------------------

    def procedure_url(self, reference: str) -> str:
        year, number = reference[:4], reference[5:9]
        return f"{self.api_url}procedures/{year}-{number}?format={quote(JSONLD, safe='')}"

    def document_url(self, identifier: str) -> str | None:
        match = _EP_DOC_ID.match(identifier)
        endpoint = self.endpoints.get(match.group(1)) if match else None
        if not endpoint:
            return None
        return f"{self.api_url}{endpoint}/{identifier}?format={quote(JSONLD, safe='')}"

    def oeil_url(self, reference: str) -> str:
        return f"{self.oeil_base}?reference={quote(reference, safe='/()')}"

    def votes_url(self, term: int, sitting: str) -> str:
        return f"{self.doceo_url}PV-{term}-{sitting}-VOT_EN.xml"

    def reading_url(self, reference: str) -> str:
        """Where a researcher reads an EP document: its doceo page in Dutch."""
        return f"{self.doceo_url}{reference}_NL.html"

    # --- requests --------------------------------------------------------------------------

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for reference in self.procedures:
            run = ProcedureRun(reference)
            yield scrapy.Request(
                self.procedure_url(reference), callback=self.parse_procedure,
                errback=self.procedure_failed, cb_kwargs={"run": run},
                headers={"Accept": JSONLD}, dont_filter=True,
            )

    def _oeil_request(self, run: ProcedureRun) -> scrapy.Request:
        run.oeil_url = self.oeil_url(run.reference)
        return scrapy.Request(run.oeil_url, callback=self.parse_oeil, errback=self.on_error,
                              cb_kwargs={"run": run}, dont_filter=True)

    def procedure_failed(self, failure: Failure) -> Iterator[scrapy.Request]:
        """The API is optional for the procedure item: record the failure, go on to OEIL (a
        procedure the API does not have is stored without it; one it failed to give is not
        stored this run)."""
        self.on_error(failure)
        run = failure.request.cb_kwargs["run"]
        if not _not_found(failure):
            run.missing = "its API record"
        yield self._oeil_request(run)

    def votes_failed(self, failure: Failure) -> Iterator[PolicyItem]:
        """Without the vote file the procedure item still has its stage (if the file does not
        exist; if it failed to come, the item waits for the next run)."""
        self.on_error(failure)
        run = failure.request.cb_kwargs["run"]
        if not _not_found(failure):
            run.missing = "its vote result"
        yield from self._procedure_items(run)

    def _procedure_items(self, run: ProcedureRun) -> Iterator[PolicyItem]:
        if run.missing:
            self.fail(run.oeil_url or None, f"{run.reference}: not stored this run, as "
                      f"{run.missing} did not come; the next run stores it whole")
            return
        yield self.procedure_item(run)

    # --- callbacks -------------------------------------------------------------------------

    def parse_procedure(self, response: Response, run: ProcedureRun
                        ) -> Iterator[scrapy.Request]:
        try:
            run.api = api_procedure(response.body, run.reference)
        except (SourceFormatError, KeyError, TypeError, ValueError, AttributeError) as exc:
            self.fail(response.url, f"{run.reference}: {exc}")
            run.missing = "its API record"
        if run.api is not None:
            for identifier in run.api["documents"]:
                if (reference := ids.ep_document(identifier)) is not None:
                    run.documents.add(reference)
                url = self.document_url(identifier)
                if url is not None:
                    yield scrapy.Request(url, callback=self.parse_document, errback=self.on_error,
                                         cb_kwargs={"procedure": run.reference},
                                         headers={"Accept": JSONLD})
        yield self._oeil_request(run)

    def parse_document(self, response: Response, procedure: str) -> Iterator[PolicyItem]:
        try:
            item = well_formed(self.document_item(response.body, procedure))
        except (SourceFormatError, KeyError, TypeError, ValueError, AttributeError) as exc:
            self.fail(response.url, f"document of {procedure}: {exc}")
        else:
            yield item

    def parse_oeil(self, response: Response, run: ProcedureRun
                   ) -> Iterator[PolicyItem | scrapy.Request]:
        if not hasattr(response, "text"):
            self.fail(response.url, f"{run.reference}: the procedure file is not a text page")
            return
        if (why := cut_off(response)) is not None:
            self.fail(response.url, f"{run.reference}: procedure file: {why}")
            return
        try:
            run.oeil = oeil_file(response.text, run.reference, response.url)
        except (SourceFormatError, etree.ParserError, ValueError) as exc:
            self.fail(response.url, f"{run.reference}: {exc}")
            return
        for problem in run.oeil["forecast_problems"]:
            self.fail(response.url, f"{run.reference}: {problem}; the forecast facets are left "
                      "as they were")
        for reference in self._oeil_documents(run.oeil):
            run.documents.add(reference)
        sitting = self.vote_sitting(run)
        if sitting is None:
            yield from self._procedure_items(run)
            return
        run.vote_url = self.votes_url(*sitting)
        # Two files can have been voted in one sitting: each chain asks for the file itself.
        yield scrapy.Request(run.vote_url, callback=self.parse_votes, errback=self.votes_failed,
                             cb_kwargs={"run": run}, dont_filter=True)

    def parse_votes(self, response: Response, run: ProcedureRun) -> Iterator[PolicyItem]:
        try:
            run.vote = plenary_vote(response.body, run.reference, run.documents)
        except SourceFormatError as exc:
            self.fail(response.url, f"{run.reference}: {exc}")
        else:
            if run.vote is None:
                self.logger.info("europarl.no_vote procedure=%s url=%s", run.reference,
                                 response.url)
        yield from self._procedure_items(run)

    # --- what the chain knows ---------------------------------------------------------------

    @staticmethod
    def _oeil_documents(oeil: dict[str, Any]) -> list[str]:
        refs = [r.get("ref", "") + " " + r.get("url", "")
                for row in [*oeil["key_events"], *oeil["gateway"]]
                for r in row.get("references", [])]
        return list(dict.fromkeys(d for d in map(ids.ep_document, refs) if d))

    def vote_sitting(self, run: ProcedureRun) -> tuple[int, str] | None:
        """(term, date) of the newest sitting that voted on the file, if any is known."""
        found: dict[str, int | None] = {}
        for event in (run.oeil or {}).get("key_events", []):
            links = [_VOT_LINK.search(r.get("url", "")) for r in event.get("references", [])]
            link = next((m for m in links if m), None)
            if link:
                found[link.group(2)] = int(link.group(1))
            elif event["event"].startswith(VOTE_EVENTS):
                found.setdefault(event["date"], None)
        for event in (run.api or {}).get("events", []):
            if event.get("date") and (event.get("activity") in VOTE_ACTIVITIES
                                      or event.get("type") == "Decision"):
                found.setdefault(event["date"][:10], None)
        if not found:
            return None
        newest = max(found)
        term = found[newest] or parliamentary_term(date.fromisoformat(newest))
        return term, newest

    # --- items -----------------------------------------------------------------------------

    def procedure_item(self, run: ProcedureRun) -> PolicyItem:
        oeil, api = run.oeil or {}, run.api or {}
        assert oeil, "the procedure item needs the OEIL file"
        events = oeil["key_events"]
        proposals = list(dict.fromkeys(
            m.group() for e in events for r in e.get("references", [])
            for m in _COM.finditer(r.get("ref", ""))))
        api_titles = [in_language(api.get("titles"), (lang,)) for lang in LANGUAGES] if api else []
        title = in_language(api.get("titles")) or oeil["title"] or run.reference
        stable = [
            oeil["title"], f"Procedure {run.reference}", oeil.get("procedure_type") or "",
            oeil.get("instrument") or "",
            *(f"Onderwerp: {subject}" for subject in oeil["subjects"]),
            *(f"Voorstel: {com} (CELEX {ids.celex(com)})" for com in proposals),
            *(f"Eindhandeling: {act['title']}" + (f" (CELEX {act['celex']})" if act["celex"]
                                                   else "") for act in oeil["final_acts"]),
        ]
        stable = [line for line in stable if line]
        text = "\n".join(dict.fromkeys([*filter(None, api_titles), *stable]))
        status = {"stadium": oeil["stage"]}
        if events:
            newest = max(events, key=lambda e: e["date"])
            newest = [e for e in events if e["date"] == newest["date"]][-1]
            status["laatste_gebeurtenis"] = f"{newest['date']}: {newest['event']}"
        if run.vote:
            vote = run.vote
            status["besluit"] = RESULTS.get(vote["result"], vote["result"].lower())
            if vote["counts"]:
                status["stemming"] = ", ".join(f"{k} {v}" for k, v in vote["counts"].items())
            status["besluit_datum"] = vote["sitting"]
        if not oeil["forecast_problems"]:
            forecast = next_forecast(oeil["forecasts"], self.today())
            status.update({
                "datum": forecast["date"] if forecast else "",
                "activiteit_status": FORECAST_STATUS if forecast else "",
                "verwacht": forecast["event"] if forecast else "",
            })
        proposal_event = next((e for e in events if e["event"] == "Legislative proposal published"),
                              events[0] if events else None)
        identifiers: dict[str, list[str]] = {"procedure": [run.reference]}
        if run.documents:
            identifiers["ep_document"] = sorted(run.documents)
        meta: dict[str, Any] = {
            "stage": oeil["stage"],
            "status": oeil["status"],
            "procedure_type": oeil["procedure_type"],
            "instrument": oeil["instrument"],
            "subjects": oeil["subjects"],
            "rapporteurs": oeil["rapporteurs"],
            "committee_dossier": oeil["committee_dossier"],
            "key_events": events,
            "documentation_gateway": oeil["gateway"],
            "proposals": [{"com": com, "celex": ids.celex(com)} for com in proposals],
            "final_acts": oeil["final_acts"],
            "forecasts": oeil["forecasts"],
        }
        if oeil["forecast_problems"]:
            meta["forecast_problems"] = oeil["forecast_problems"]
        if api:
            meta["api"] = {"id": api["id"], "label": api["label"], "stage": api["stage"],
                           "process_type": api["process_type"], "events": api["events"],
                           "documents": api["documents"]}
        if run.vote:
            meta["vote"] = {**run.vote, "url": run.vote_url}
        return PolicyItem(
            source=self.name,
            key=run.reference,
            url=run.oeil_url,
            fetched_at=datetime.now(UTC),
            title=title,
            text=text,
            doc_type="EU-procedure",
            published_at=utc_day(proposal_event["date"]) if proposal_event else None,
            identifiers=identifiers,
            status=status,
            meta=meta,
            fingerprint="\n".join(dict.fromkeys(stable)),
        )

    def document_item(self, body: bytes, procedure: str) -> PolicyItem:
        base, data = jsonld_graph(body)
        work = next((node for node in data if node.get("type") == "Work"), None)
        if work is None:
            raise SourceFormatError("no Work in the response")
        reference = ids.ep_document(work.get("identifier") or work.get("id") or "")
        if reference is None:
            raise SourceFormatError(f"no EP document reference in {work.get('id')!r}")
        expressions = {_last_segment(e.get("id")): e for e in work.get("is_realized_by") or []
                       if isinstance(e, dict)}
        titles = work.get("title_dcterms") or {}
        title = in_language(titles) or reference
        alternative = next((in_language(expressions[lang].get("title_alternative"), (lang,))
                            for lang in LANGUAGES if lang in expressions
                            and in_language(expressions[lang].get("title_alternative"), (lang,))),
                           "")
        work_type = _last_segment(work.get("work_type"))
        doc_type = WORK_TYPES.get(work_type) or work_type.replace("_", " ").capitalize() or None
        procedures = {procedure}
        for linked in _strings(work.get("inverse_created_a_realization_of")):
            number = _last_segment(linked)
            procedures |= {p for p in self.procedures if p[:9] == number.replace("-", "/")}
        procedures |= ids.mentions(f"{title}\n{alternative}").get("procedure", set())
        identifiers: dict[str, list[str]] = {"ep_document": [reference],
                                             "procedure": sorted(procedures)}
        celexes = sorted({c for key, value in work.items() if "celex" in key.lower()
                          for v in _strings(value) if (c := ids.celex(v))})
        if celexes:
            identifiers["celex"] = celexes
        files = {}
        for lang in LANGUAGES:
            for manifestation in (expressions.get(lang) or {}).get("is_embodied_by") or []:
                kind = _last_segment(manifestation.get("format")).lower()
                target = manifestation.get("is_exemplified_by")
                if kind and isinstance(target, str):
                    files.setdefault(lang, {})[kind] = urljoin(base, target)
        english = in_language(titles, ("en",))
        text = "\n".join(dict.fromkeys(filter(None, [
            title, english, alternative, doc_type, reference, *sorted(procedures)])))
        return PolicyItem(
            source=self.name,
            key=reference,
            url=self.reading_url(reference),
            fetched_at=datetime.now(UTC),
            title=title,
            text=text,
            doc_type=doc_type,
            published_at=utc_day(work.get("document_date")),
            identifiers=identifiers,
            meta={
                "id": urljoin(base, work.get("id") or ""),
                "work_type": work_type,
                "parliamentary_term": _last_segment(work.get("parliamentary_term")) or None,
                "document_date": work.get("document_date"),
                "eurovoc": _strings(work.get("is_about")),
                "subject_matter": [_last_segment(s) for s in
                                   _strings(work.get("isAboutSubjectMatter"))],
                "derived_from": [d for d in map(ids.ep_document,
                                                _strings(work.get("is_derivative_of"))) if d],
                "procedures": [_last_segment(p) for p in
                               _strings(work.get("inverse_created_a_realization_of"))],
                "files": files,
            },
        )
