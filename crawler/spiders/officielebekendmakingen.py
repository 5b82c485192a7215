"""officielebekendmakingen (KOOP SRU at repository.overheid.nl): official publications.

Follows SOURCES.md §3. Kamerstukken of both chambers (including Eerste Kamer letters such as
kst-36547-B), Kamervragen and answers (Aanhangsel), Handelingen, Staatscourant and Staatsblad,
found by CQL queries per monitored dossier and per watch term, each limited to what changed
since the cursor (``dt.modified``, day resolution, minus an overlap), paged with
``startRecord`` until ``nextRecordPosition`` is absent. SRU reports errors as diagnostics inside
HTTP 200 responses: those are failures. XML is read by local names, so records with and without
namespace prefixes parse alike.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode, urljoin

import scrapy
from lxml import etree
from scrapy.crawler import Crawler
from scrapy.http import Response
from twisted.python.failure import Failure

from crawler.items import PolicyItem
from crawler.spiders._base import FailureAccount, titled, utc_day

CELEX_IN_URL = re.compile(r"CELEX[:%]3A?([0-9CE]\d{4}[A-Z]{1,2}\d{4})", re.IGNORECASE)


def _local(element: Any) -> str:
    return etree.QName(element).localname


def _find(element: Any, *names: str) -> Any | None:
    """The first descendant with this chain of local names (namespace-agnostic)."""
    current = [element]
    for name in names:
        current = [c for parent in current for c in parent.iter() if
                   isinstance(c.tag, str) and _local(c) == name and c is not parent]
        if not current:
            return None
    return current[0]


def _text(element: Any, *names: str) -> str:
    found = _find(element, *names)
    return " ".join("".join(found.itertext()).split()) if found is not None else ""


def _all(element: Any, name: str) -> list[Any]:
    return [c for c in element.iter() if isinstance(c.tag, str) and _local(c) == name]



class OfficielebekendmakingenSpider(FailureAccount, scrapy.Spider):
    name = "officielebekendmakingen"
    source_title = "officielebekendmakingen.nl (KOOP SRU)"
    source_url = "https://zoek.officielebekendmakingen.nl/"

    def __init__(self, *args: Any, cursor: str | dict[str, str] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.cursor: dict[str, str] = json.loads(cursor) if isinstance(cursor, str) else dict(
            cursor or {})
        self.failures: list[tuple[str | None, str]] = []
        self._newest: str | None = None
        self._open: set[str] = set()  # queries whose pages are not all in yet
        self._failed_queries: set[str] = set()
        self._since: date | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any
                     ) -> OfficielebekendmakingenSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        spider.base_url = settings.get("WATCH_SRU_URL")
        spider.dossiers = settings.getlist("WATCH_SRU_DOSSIERS")
        spider.terms = settings.getlist("WATCH_SRU_TERMS")
        spider.page_size = settings.getint("WATCH_SRU_PAGE_SIZE")
        spider.overlap = timedelta(days=settings.getint("WATCH_SRU_OVERLAP_DAYS"))
        spider.initial = timedelta(days=settings.getint("WATCH_TK_INITIAL_DAYS"))
        return spider

    # --- requests ---------------------------------------------------------------------------

    def since(self, today: date | None = None) -> date:
        stored = self.cursor.get("modified")
        if stored:
            return date.fromisoformat(stored) - self.overlap
        return (today or datetime.now(UTC).date()) - self.initial

    def queries(self, since: date) -> list[str]:
        base = "c.product-area==officielepublicaties"
        changed = f"dt.modified>={since.isoformat()}"
        found = [f"{base} AND w.dossiernummer=={d} AND {changed}" for d in self.dossiers]
        found += [f'{base} AND cql.textAndIndexes="{t}" AND {changed}' for t in self.terms]
        return found

    def query_url(self, query: str, start: int = 1) -> str:
        params = {"operation": "searchRetrieve", "version": "2.0", "recordSchema": "gzd",
                  "startRecord": str(start), "maximumRecords": str(self.page_size),
                  "query": query}
        return f"{self.base_url}?{urlencode(params, quote_via=quote)}"

    async def start(self) -> AsyncIterator[scrapy.Request]:
        self._since = self.since()
        for query in self.queries(self._since):
            self._open.add(query)
            yield self._request(query, 1)

    def _request(self, query: str, start: int) -> scrapy.Request:
        return scrapy.Request(self.query_url(query, start), callback=self.parse_page,
                              errback=self.on_error, cb_kwargs={"query": query},
                              meta={"query": query}, headers={"Accept": "application/xml"})

    # --- parsing ----------------------------------------------------------------------------

    def on_error(self, failure: Failure) -> None:
        request = getattr(failure, "request", None)
        if request is not None:
            self._failed_queries.add(request.meta.get("query", ""))
        super().on_error(failure)

    def parse_page(self, response: Response, query: str) -> Iterator[PolicyItem | scrapy.Request]:
        if "fout404" in response.url or "Errors/404" in response.url:
            self._failed_queries.add(query)
            self.fail(response.url, "redirected to the site's 'not found' page")
            return
        try:
            root = etree.fromstring(response.body, parser=etree.XMLParser(resolve_entities=False,
                                                                         no_network=True))
        except etree.XMLSyntaxError as exc:
            self._failed_queries.add(query)
            self.fail(response.url, f"response is not XML ({exc})")
            return
        diagnostics = _all(root, "diagnostic")
        if diagnostics:
            self._failed_queries.add(query)
            message = _text(diagnostics[0], "message") or _text(diagnostics[0], "details")
            uri = _text(diagnostics[0], "uri")
            self.fail(response.url, f"SRU diagnostic {uri}: {message}")
            return
        if _local(root) != "searchRetrieveResponse":
            self._failed_queries.add(query)
            self.fail(response.url, f"not an SRU response (root element {_local(root)})")
            return
        fetched_at = datetime.now(UTC)
        for record in _all(root, "record"):
            try:
                item = self.record_item(record, fetched_at)
            except (ValueError, KeyError) as exc:
                self.fail(response.url, f"record {_text(record, 'recordPosition')}: {exc}")
                continue
            modified = item.meta.get("modified") or ""
            if modified and (self._newest is None or modified > self._newest):
                self._newest = modified
            yield item
        next_position = _text(root, "nextRecordPosition")
        if next_position.isdigit():
            yield self._request(query, int(next_position))
        else:
            self._open.discard(query)

    def next_cursor(self) -> dict[str, str]:
        """Advanced only when every query's pages all came back."""
        if self._open or self._failed_queries:
            return dict(self.cursor)
        if self._newest:
            return {"modified": max(self._newest, self.cursor.get("modified", ""))}
        if self._since is not None and "modified" not in self.cursor:
            return {"modified": self._since.isoformat()}
        return dict(self.cursor)

    def record_item(self, record: Any, fetched_at: datetime) -> PolicyItem:
        original = _find(record, "originalData")
        meta = original if original is not None else record
        identifier = _text(meta, "owmskern", "identifier")
        if not identifier:
            raise ValueError("record has no dcterms:identifier")
        kind = _text(meta, "owmskern", "type")
        title = _text(meta, "tpmeta", "documenttitel") or _text(meta, "owmskern", "title")
        title = titled(title, _text(meta, "tpmeta", "dossiertitel"))
        dossier = _text(meta, "tpmeta", "dossiernummer")
        subrubriek = _text(meta, "tpmeta", "subrubriek")
        indieners = [" ".join("".join(e.itertext()).split()) for e in _all(meta, "indiener")]
        abstract = _text(meta, "owmsmantel", "abstract")
        ids: dict[str, list[str]] = {"officielebekendmakingen": [identifier]}
        if identifier.startswith("kst-"):
            ids["kamerstuk"] = [identifier]
        if dossier:
            ids["dossier"] = [dossier]
        question = _text(meta, "tpmeta", "vraagnummer")
        if question:
            ids["zaak"] = [question]
        main = _text(meta, "tpmeta", "hoofddocument")
        if main:
            ids["hoofddocument"] = [main]
        celexes = sorted({m.group(1).upper() for e in _all(meta, "source")
                          for m in CELEX_IN_URL.finditer("".join(e.itertext()))})
        if celexes:
            ids["celex"] = celexes
        links = {e.get("manifestation"): (e.text or "").strip() for e in _all(record, "itemUrl")
                 if e.get("manifestation")}
        links = {k: v for k, v in links.items() if v.startswith(("http://", "https://"))}
        preferred = _text(record, "enrichedData", "preferredUrl")
        if not preferred.startswith(("http://", "https://")):
            preferred = ""
        url = preferred or links.get("html") or urljoin(
            "https://zoek.officielebekendmakingen.nl/", f"{identifier}.html")
        when = (_text(meta, "owmsmantel", "available") or _text(meta, "owmsmantel", "issued")
                or _text(meta, "owmsmantel", "date"))
        text_lines = [kind, subrubriek, title, _text(meta, "owmskern", "title"), abstract,
                      _text(meta, "tpmeta", "dossiertitel"),
                      *[f"Indiener: {name}" for name in indieners]]
        text = "\n".join(dict.fromkeys(line for line in text_lines if line))
        return PolicyItem(
            source=self.name,
            key=identifier,
            url=url,
            fetched_at=fetched_at,
            title=title or identifier,
            text=text,
            doc_type=subrubriek or kind or None,
            published_at=utc_day(when) if when else None,
            identifiers=ids,
            meta={
                "type": kind,
                "creator": _text(meta, "owmskern", "creator"),
                "modified": _text(meta, "owmskern", "modified"),
                "vergaderjaar": _text(meta, "tpmeta", "vergaderjaar"),
                "publicatienaam": _text(meta, "tpmeta", "publicatienaam"),
                "links": links,
            },
        )
