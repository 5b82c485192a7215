"""eurlex (EUR-Lex / Cellar SPARQL): the documents of the monitored EU procedures and the acts.

Follows SOURCES.md §5. The Publications Office's SPARQL endpoint (§5.2, no registration) is asked,
by POST of ``query=…&format=application/sparql-results+json``:

- per monitored procedure (``WATCH_EURLEX_PROCEDURES``): every work in the procedure's dossier
  (found by the Cellar procedure URI ``…/resource/procedure/2022_155``), plus the works that adopt
  one of them or hold the EP opinion on one (the client query of §5.2);
- per monitored act (``WATCH_EURLEX_ACTS``, CELEX numbers): that work itself.

Both kinds share one SELECT, grouped per work (one result row = one work, so ``LIMIT``/``OFFSET``
pages cleanly): CELEX, the work's date, Dutch and English title, ELI, OJ reference, in force,
resource types, authors, the interinstitutional procedure codes of its dossiers, and
``cmr:lastModificationDate``. Variables a work lacks are simply absent from its row (SPARQL JSON;
§5.2 and shared/fixtures/MANIFEST.md), and ``datum``/``titel_nl``/``titel_en``/``eli``/``oj_id``
carry the names of the client query that recorded the real sample, so that sample parses as is.

Incremental: each query has its own cursor (key ``procedure:2022/0155(COD)`` or
``act:32024L1712``), the newest lastModificationDate received for it. A query with a cursor asks
only for works modified on or after the cursor's day minus ``WATCH_EURLEX_OVERLAP_DAYS``; works
without a modification date always come back, so nothing is lost if Cellar leaves it out. A query
without a cursor (first run, or a procedure or act added to the settings) fetches everything.
Whether Cellar filters on lastModificationDate as expected is **[UNCONFIRMED]** (§5.2):
``WATCH_EURLEX_MODIFIED_FILTER`` = false turns the filter off (every run fetches everything; the
archive keeps what did not change as unchanged). A query's cursor advances only when all its pages
came back and every row parsed.

Items: one per work, key = CELEX (else the Cellar work URI), linked to the EUR-Lex page in Dutch
when Cellar has a Dutch title (else English). Highlight markup and escaped entities inside values
are stripped (§5.7). Failures (HTTP errors, the endpoint's plain-text query errors, the AWS WAF
bot challenge of §5.7, bodies that are not SPARQL JSON results, rows without an id, a query that
never got an answer) are recorded and never stop the other queries. The SOAP search service (§5.5)
needs registration and is not used; Cellar notices (§5.3) are not needed because SPARQL returns
titles and dates. Procedure events (stages, votes) have no documented Cellar properties (§5.2);
they come from the European Parliament (§6).
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import scrapy
from scrapy.crawler import Crawler
from scrapy.http import Response

from crawler.items import PolicyItem
from crawler.spiders._base import FailureAccount, utc_day, well_formed
from monitors import identifiers as ids

SPARQL_JSON = "application/sparql-results+json"
LANGUAGE = "http://publications.europa.eu/resource/authority/language/{}"
PROCEDURE_URI = "http://publications.europa.eu/resource/procedure/{year}_{number}"
LAST_MODIFIED = "<http://publications.europa.eu/ontology/cdm/cmr#lastModificationDate>"
#: Variables every result of our SELECT declares; a response without them answered another query.
REQUIRED_VARS = ("datum", "titel_nl", "titel_en")
_CELEX_SHAPE = re.compile(r"[0-9CE]\d{4}[A-Z]{1,2}\d{4}(?:\(\d{2}\))?")
#: Search-highlight markup that leaks into values (§5.7: ``<em>32014R1337</em>``).
_HIGHLIGHT = re.compile(r"</?(?:em|b|strong|i|mark|span|hi)\b[^>]*>", re.IGNORECASE)


@dataclass(frozen=True)
class Watch:
    """One monitored thing and its query: a procedure (``2022/0155(COD)``) or an act (CELEX)."""

    kind: str  # "procedure" or "act"
    value: str

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.value}"


# --- values -----------------------------------------------------------------------------------

def clean(value: str | None) -> str:
    """A value as plain text: entities decoded (also double-escaped ``&amp;#13;``), highlight
    tags removed, whitespace collapsed."""
    if not value:
        return ""
    for _ in range(2):
        decoded = html.unescape(value)
        if decoded == value:
            break
        value = decoded
    return " ".join(_HIGHLIGHT.sub("", value).split())


def row_values(binding: dict[str, Any]) -> dict[str, str]:
    """``{var: value}`` of one SPARQL JSON binding; unbound and empty variables are left out."""
    values = {}
    for name, cell in binding.items():
        if isinstance(cell, dict) and isinstance(cell.get("value"), str):
            text = clean(cell["value"])
            if text:
                values[name] = text
    return values


def parse_time(value: str) -> datetime | None:
    """Cellar dates and timestamps (``2026-11-25``, ``2026-11-25T10:12:31.120+01:00``) as aware
    UTC datetimes; date-only and naive values are taken as UTC."""
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)



def _tail(uri: str) -> str:
    """The code at the end of an authority URI: ``…/corporate-body/COM`` → ``COM``."""
    return uri.rstrip("/").rsplit("/", 1)[-1]


def document_kind(celex: str | None, types: list[str], authors: list[str]) -> str:
    """What the work is, from its CELEX number (SOURCES.md §5.1/5.2), else its resource type or
    author: proposal, position, opinion, act, consolidated act, communication, …"""
    if celex:
        sector, descriptor = celex[0], celex[5:7].rstrip("0123456789")
        if sector == "3":
            return "act"
        if sector == "0":
            return "consolidated act"
        if sector == "6":
            return "judgment"
        if sector == "5":
            if descriptor == "PC":
                # COM documents in a procedure: proposals, and e.g. the communication on the
                # Council's position (Art. 294(6) TFEU), which the resource type tells apart.
                if any(t.startswith("PROP") for t in types) or not types:
                    return "proposal"
                return "communication" if "COMMUNIC" in types else "Commission document"
            return {
                "AP": "position",  # EP legislative resolution / position
                "AG": "position",  # Council position
                "AE": "opinion",  # EESC
                "IR": "opinion",  # Committee of the Regions
                "SC": "staff working document",
                "DC": "communication",
                "JC": "joint communication",
            }.get(descriptor, "preparatory document")
    if any(t.startswith("PROP") for t in types):
        return "proposal"
    by_author = {"CONSIL": "Council document", "EP": "Parliament document",
                 "COM": "Commission document"}
    for author in authors:
        if author in by_author:
            return by_author[author]
    return "document"


# --- queries ----------------------------------------------------------------------------------

SELECT = """PREFIX cdm: <http://publications.europa.eu/ontology/cdm#>
PREFIX owl: <http://www.w3.org/2002/07/owl#>
SELECT ?work (SAMPLE(?celex_) AS ?celex) (SAMPLE(?datum_) AS ?datum)
  (SAMPLE(?titel_nl_) AS ?titel_nl) (SAMPLE(?titel_en_) AS ?titel_en) (SAMPLE(?eli_) AS ?eli)
  (SAMPLE(?oj_id_) AS ?oj_id) (SAMPLE(?in_force_) AS ?in_force) (MAX(?modified_) AS ?modified)
  (GROUP_CONCAT(DISTINCT ?type_; separator=" ") AS ?types)
  (GROUP_CONCAT(DISTINCT ?author_; separator=" ") AS ?authors)
  (GROUP_CONCAT(DISTINCT ?procedure_; separator=" ") AS ?procedures)
  (GROUP_CONCAT(DISTINCT ?relation_; separator=" ") AS ?relations)
WHERE {"""

DETAILS = f"""  OPTIONAL {{ ?work cdm:work_date_document ?datum_ }}
  OPTIONAL {{ ?work cdm:resource_legal_eli ?eli_ }}
  OPTIONAL {{ ?work cdm:work_id_document ?oj_id_ . FILTER(STRSTARTS(STR(?oj_id_), "oj:")) }}
  OPTIONAL {{ ?work cdm:resource_legal_in-force ?in_force_ }}
  OPTIONAL {{ ?work cdm:work_has_resource-type ?type_ }}
  OPTIONAL {{ ?work cdm:work_created_by_agent ?author_ }}
  OPTIONAL {{ ?work cdm:work_part_of_dossier ?dossier_ .
             ?dossier_ cdm:procedure_code_interinstitutional_reference_procedure ?procedure_ }}
  OPTIONAL {{ ?work {LAST_MODIFIED} ?modified_ }}
  OPTIONAL {{ ?nl_ cdm:expression_belongs_to_work ?work ;
               cdm:expression_uses_language <{LANGUAGE.format("NLD")}> ;
               cdm:expression_title ?titel_nl_ }}
  OPTIONAL {{ ?en_ cdm:expression_belongs_to_work ?work ;
               cdm:expression_uses_language <{LANGUAGE.format("ENG")}> ;
               cdm:expression_title ?titel_en_ }}"""


def procedure_uri(canonical: str) -> str:
    """Cellar's procedure resource for ``2022/0155(COD)``: ``…/procedure/2022_155`` (§5.1)."""
    year, number = canonical[:4], int(canonical[5:9])
    return PROCEDURE_URI.format(year=year, number=number)


def selection(watch: Watch) -> str:
    """The graph pattern that picks the works of one watch."""
    if watch.kind == "act":
        return (f"  ?work cdm:resource_legal_id_celex ?celex_ . "
                f'FILTER(STR(?celex_) = "{watch.value}")')
    return f"""  ?dossier owl:sameAs <{procedure_uri(watch.value)}> .
  {{ ?work cdm:work_part_of_dossier ?dossier . BIND("dossier" AS ?relation_) }}
  UNION {{ ?p cdm:work_part_of_dossier ?dossier .
          ?work cdm:resource_legal_adopts_resource_legal ?p . BIND("adopts" AS ?relation_) }}
  UNION {{ ?p cdm:work_part_of_dossier ?dossier .
          ?work cdm:resource_legal_contains_ep_opinion_on_resource_legal ?p .
          BIND("ep_opinion" AS ?relation_) }}
  OPTIONAL {{ ?work cdm:resource_legal_id_celex ?celex_ }}"""


def build_query(watch: Watch, since: date | None, limit: int, offset: int) -> str:
    lines = [SELECT, selection(watch), DETAILS]
    if since is not None:
        # STR(): compares the ISO text, whatever datatype Cellar gives the timestamp.
        lines.append(f'  FILTER(!BOUND(?modified_) || STR(?modified_) >= "{since.isoformat()}")')
    lines.append(f"}}\nGROUP BY ?work\nORDER BY ?work\nLIMIT {limit}\nOFFSET {offset}")
    # Without indentation, to keep the request small (no string literal spans lines).
    return "\n".join(line.strip() for line in "\n".join(lines).splitlines())


# --- spider -----------------------------------------------------------------------------------

class EurlexSpider(FailureAccount, scrapy.Spider):
    name = "eurlex"
    source_title = "EUR-Lex / Cellar (Publicatiebureau van de EU)"
    source_url = "https://eur-lex.europa.eu/"
    #: SOURCES.md §5.8: no documented rate, SPARQL has a query timeout → at most 1 request/s.
    custom_settings = {"DOWNLOAD_DELAY": 1.0, "CONCURRENT_REQUESTS_PER_DOMAIN": 1}

    def __init__(self, *args: Any, cursor: str | dict[str, str] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        #: Per watch key: the newest lastModificationDate received (the original string).
        self.cursor: dict[str, str] = json.loads(cursor) if isinstance(cursor, str) else dict(
            cursor or {})
        self.failures: list[tuple[str | None, str]] = []
        self._newest: dict[str, tuple[datetime, str]] = {}
        self._open: set[str] = set()  # watches whose pages are not all in yet
        self._failed: set[str] = set()
        self._emitted: set[str] = set()
        self._since: dict[str, date | None] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> EurlexSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        spider.endpoint = settings.get("WATCH_EURLEX_SPARQL_URL")
        spider.page_url = settings.get("WATCH_EURLEX_PAGE_URL").rstrip("/") + "/"
        spider.procedures = settings.getlist("WATCH_EURLEX_PROCEDURES")
        spider.acts = settings.getlist("WATCH_EURLEX_ACTS")
        spider.page_size = settings.getint("WATCH_EURLEX_PAGE_SIZE")
        spider.overlap = timedelta(days=settings.getint("WATCH_EURLEX_OVERLAP_DAYS"))
        spider.modified_filter = settings.getbool("WATCH_EURLEX_MODIFIED_FILTER")
        return spider

    # --- requests ---------------------------------------------------------------------------

    def watches(self) -> list[Watch]:
        """The configured procedures and acts, normalised; a value that is neither is a failure."""
        found: dict[str, Watch] = {}
        for value in self.procedures:
            canonical = ids.procedure(str(value))
            if canonical is None:
                self.fail(None, f"WATCH_EURLEX_PROCEDURES: {value!r} is not a procedure number")
                continue
            found.setdefault(f"procedure:{canonical}", Watch("procedure", canonical))
        for value in self.acts:
            celex = ids.celex(str(value))
            if celex is None or not _CELEX_SHAPE.fullmatch(celex):
                self.fail(None, f"WATCH_EURLEX_ACTS: {value!r} is not a CELEX number")
                continue
            found.setdefault(f"act:{celex}", Watch("act", celex))
        return list(found.values())

    def since(self, watch: Watch) -> date | None:
        """The first day a query asks for: its cursor's day minus the overlap; None = everything."""
        stored = self.cursor.get(watch.key)
        if not stored or not self.modified_filter:
            return None
        when = parse_time(stored) or utc_day(stored)
        if when is None:
            self.fail(None, f"cursor {watch.key}: unreadable timestamp {stored!r}; fetching all")
            return None
        return when.date() - self.overlap

    def query(self, watch: Watch, offset: int = 0) -> str:
        """One page of a watch's query (its start day is fixed on first use)."""
        if watch.key not in self._since:
            self._since[watch.key] = self.since(watch)
        return build_query(watch, self._since[watch.key], self.page_size, offset)

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for watch in self.watches():
            self._open.add(watch.key)
            yield self.query_request(watch, 0)

    def query_request(self, watch: Watch, offset: int) -> scrapy.Request:
        """POST ``query=…&format=…`` (§5.2): the query is ~2.5 kB encoded, past the URL length
        Scrapy's UrlLengthMiddleware lets through (2083), which would drop a GET silently."""
        return scrapy.FormRequest(
            self.endpoint, formdata={"query": self.query(watch, offset), "format": SPARQL_JSON},
            callback=self.parse_results, errback=self.on_error, headers={"Accept": SPARQL_JSON},
            cb_kwargs={"watch": watch, "offset": offset},
            # A refused query (HTTP 400) says why in its body: read it instead of dropping it.
            meta={"watch": watch.key, "handle_httpstatus_list": [400]},
        )

    # --- responses --------------------------------------------------------------------------

    def on_error(self, failure: Any) -> None:
        request = getattr(failure, "request", None)
        if request is not None and request.meta.get("watch"):
            self._failed.add(request.meta["watch"])
        super().on_error(failure)

    def _query_failed(self, watch: Watch, url: str, reason: str) -> None:
        self._failed.add(watch.key)
        self.fail(url, f"{watch.key}: {reason}")

    def results(self, response: Response, watch: Watch) -> list[dict[str, Any]] | None:
        """The bindings of a SPARQL JSON response, or None after recording why there are none."""
        waf = response.headers.get(b"x-amzn-waf-action", b"").decode("latin-1").strip()
        if waf:
            self._query_failed(watch, response.url, f"AWS WAF bot check ({waf}, HTTP "
                               f"{response.status}); not retried (SOURCES.md §5.7)")
            return None
        body = response.body.decode("utf-8", errors="replace").strip()
        if response.status == 400:
            first = body.splitlines()[0][:300] if body else "(empty body)"
            self._query_failed(watch, response.url, f"the endpoint refused the query: {first}")
            return None
        try:
            data = json.loads(body)
        except ValueError:
            start = " ".join(body[:120].split()) or "(empty body)"
            self._query_failed(watch, response.url, f"response is not JSON (HTTP "
                               f"{response.status}): {start}")
            return None
        results = data.get("results") if isinstance(data, dict) else None
        head = data.get("head") if isinstance(data, dict) else None
        bindings = results.get("bindings") if isinstance(results, dict) else None
        if not isinstance(bindings, list) or not isinstance(head, dict):
            self._query_failed(watch, response.url, "not SPARQL JSON results (no head or "
                               "results.bindings)")
            return None
        variables = head.get("vars") if isinstance(head.get("vars"), list) else []
        missing = [v for v in REQUIRED_VARS if v not in variables]
        if missing:
            self._query_failed(watch, response.url, f"results lack the variables {missing}: "
                               "they answer a different query")
            return None
        return bindings

    def parse_results(self, response: Response, watch: Watch, offset: int
                      ) -> Iterator[PolicyItem | scrapy.Request]:
        bindings = self.results(response, watch)
        if bindings is None:
            return
        fetched_at = datetime.now(UTC)
        for number, binding in enumerate(bindings, start=offset + 1):
            row = row_values(binding) if isinstance(binding, dict) else {}
            try:
                item = well_formed(self.work_item(row, watch, fetched_at))
            except ValueError as exc:
                # The cursor holds: a row we could not read is asked for again next run.
                self._query_failed(watch, response.url, f"row {number}: {exc}")
                continue
            self._note_modified(watch, row.get("modified", ""))
            if item.key in self._emitted:
                continue  # already yielded this run by another query (an act in a procedure)
            self._emitted.add(item.key)
            yield item
        if len(bindings) >= self.page_size:
            yield self.query_request(watch, offset + self.page_size)
        else:
            self._open.discard(watch.key)

    def _note_modified(self, watch: Watch, value: str) -> None:
        when = parse_time(value) if value else None
        if when is not None and (watch.key not in self._newest
                                 or when > self._newest[watch.key][0]):
            self._newest[watch.key] = (when, value)

    def closed(self, reason: str) -> None:
        """A query that never got an answer (dropped by a middleware, the crawl cut short) is a
        failure too: without this the run would look clean."""
        for key in sorted(self._open - self._failed):
            self._failed.add(key)
            self.fail(self.endpoint, f"{key}: no answer to the query ({reason})")

    def next_cursor(self) -> dict[str, str]:
        """Advanced per query, only when all its pages came back and every row was read."""
        cursor = dict(self.cursor)
        for key, (when, value) in self._newest.items():
            if key in self._open or key in self._failed:
                continue
            stored = parse_time(cursor[key]) if key in cursor else None
            if stored is None or when > stored:
                cursor[key] = value
        return cursor

    # --- items ------------------------------------------------------------------------------

    def work_item(self, row: dict[str, str], watch: Watch, fetched_at: datetime) -> PolicyItem:
        celex = ids.celex(row["celex"]) if row.get("celex") else None
        if celex is None and watch.kind == "act":
            celex = watch.value  # the query named it; results of a CELEX query may omit it
        work = row.get("work", "")
        if work and not work.startswith(("http://", "https://")):
            raise ValueError(f"work is not a URI: {work!r}")
        if not celex and not work:
            raise ValueError("row has neither a CELEX number nor a work URI")
        title_nl, title_en = row.get("titel_nl", ""), row.get("titel_en", "")
        types = list(dict.fromkeys(_tail(t) for t in row.get("types", "").split()))
        authors = list(dict.fromkeys(_tail(a) for a in row.get("authors", "").split()))
        kind = document_kind(celex, types, authors)
        language = "NL" if title_nl else "EN"
        url = f"{self.page_url}{language}/TXT/?uri=CELEX:{celex}" if celex else work

        procedures = [ids.procedure(p) for p in row.get("procedures", "").split()]
        if watch.kind == "procedure":
            procedures.insert(0, watch.value)
        identifiers: dict[str, list[str]] = {}
        if celex:
            identifiers["celex"] = [celex]
        eli = ids.eli(row["eli"]) if row.get("eli") else None
        if eli:
            identifiers["eli"] = [eli]
        found = list(dict.fromkeys(p for p in procedures if p))
        if found:
            identifiers["procedure"] = found
        if "/resource/cellar/" in work:
            identifiers["cellar"] = [_tail(work)]

        status = {}
        in_force = row.get("in_force", "").lower()
        if in_force in ("true", "1", "false", "0"):
            status["in_werking"] = "ja" if in_force in ("true", "1") else "nee"
        datum = row.get("datum", "")
        return PolicyItem(
            source=self.name,
            key=celex or work,
            url=url,
            fetched_at=fetched_at,
            title=title_nl or title_en or f"{kind} {celex or _tail(work)}",
            text="\n".join(dict.fromkeys(t for t in (title_nl, title_en) if t)),
            doc_type=kind,
            published_at=utc_day(datum) if datum else None,
            identifiers=identifiers,
            status=status,
            meta={
                "work": work or None,
                "date": datum or None,
                "authors": authors,
                "resource_types": types,
                "modified": row.get("modified"),
                "oj": row.get("oj_id"),
                "relations": list(dict.fromkeys(row.get("relations", "").split())),
                "title_language": language.lower(),
                **({"title_en": title_en} if title_nl and title_en else {}),
            },
        )
