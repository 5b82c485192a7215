"""rijksoverheid.nl: the central government's news and documents (Kamerbrieven, rapporten, …).

Follows SOURCES.md §4. Two routes, chosen by ``WATCH_RIJKSOVERHEID_ROUTE``:

``rss`` (default) — the search RSS that replaced the open data API after the platform
migration of 2 June 2026 (§4.3, [reported]): ``/api/rss?query=<JSON>``, one query per monitored
term (``resultSearchTerm``) with a ``sort_date`` period from the cursor day minus an overlap, no
``content_type`` filter (``pageTitle`` "Zoeken": news, documents and other pages; only news and
documents are kept, told apart by their URL path, since the items carry no type). The feed holds
at most 20 items, ranked by relevance, with no paging: a full feed may hide more, so its period
is halved (at Amsterdam midnights) until every part holds fewer; a single day that is still full
is reported as a failure (items may be missing) without holding the cursor. The first period of
a term is open-ended (``from`` only), so its URL depends on the cursor alone.

``classic`` — the open data API (§4.2, [doc], reported retired): per monitored onderwerp
``/infotypes/news/subjects/{slug}/`` and ``/documents?subject={slug}``, JSON, 200 rows a page,
paged with ``offset`` until a short page; what was not modified since the cursor minus the
overlap is left out here (the API's own ``lastmodifiedsince`` cannot be combined with a subject
in any documented form). A 404/410 or an HTML page instead of JSON/XML is reported as
"classic open data API retired?".

Items are keyed by the RSS ``guid`` (else the link) or the API ``id`` (else ``canonical``);
one crawl yields an item once, whichever of its queries found it first. ``doc_type`` comes from
the URL path (``/actueel/nieuws/`` → Nieuwsbericht, ``/documenten/kamerstukken/`` → Kamerstuk,
refined by the title: "Kamerbrief over …" → "Kamerstuk: Kamerbrief"). Identifiers: a Kamerstuk
that links to exactly one kst-… on officielebekendmakingen (in its description or, with
``WATCH_RIJKSOVERHEID_KAMERSTUK_PAGES``, on its own page), or names one in its title, gets
``kamerstuk`` + ``dossier`` and so joins the parliamentary copy. Kamerstukken only mentioned
(a news item announcing a letter, a letter citing a motion) become ``verwijzing`` + ``dossier``:
``kamerstuk`` names the work itself and would merge the news item into the letter.

The cursor is ``{"date": "YYYY-MM-DD"}``, the Amsterdam day of the last run in which every
request came back fine; the search is by publication date, so the next run starts that day
minus ``WATCH_RIJKSOVERHEID_OVERLAP_DAYS`` (documents carry their document date, often days
before they appear). [UNCONFIRMED]/[reported] parts are settings: the RSS URL, the terms, the
classic base URL and the onderwerp slugs.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import quote, urljoin, urlsplit
from zoneinfo import ZoneInfo

import feedparser
import lxml.html
import scrapy
from lxml import etree
from scrapy.crawler import Crawler
from scrapy.http import Response
from twisted.python.failure import Failure

from crawler.items import PolicyItem
from crawler.spiders._base import FailureAccount, cut_off, web_address, well_formed, xml_safe
from crawler.spiders.feed import SURVIVABLE, html_to_text
from monitors.identifiers import kamerstuk, kamerstukken_in

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
SITE = "https://www.rijksoverheid.nl/"
#: The search RSS returns at most this many items per query (SOURCES.md §4.3, [reported]).
RSS_MAX_ITEMS = 20
#: The classic API's maximum page size (SOURCES.md §4.2, [doc]).
CLASSIC_ROWS = 200
#: Statuses our callbacks handle themselves, to say what they mean (retries happen first).
HANDLED_STATUSES = [400, 401, 403, 404, 410, 429, 500, 502, 503, 504]

#: /documenten/{segment}/… → document type as rijksoverheid.nl labels it.
DOCUMENT_TYPES = {
    "kamerstukken": "Kamerstuk", "rapporten": "Rapport", "publicaties": "Publicatie",
    "besluiten": "Besluit", "toespraken": "Toespraak", "brochures": "Brochure",
    "beleidsnotas": "Beleidsnota", "jaarverslagen": "Jaarverslag", "richtlijnen": "Richtlijn",
    "vergaderstukken": "Vergaderstuk", "woo-besluiten": "Woo-besluit", "videos": "Video",
    "regelingen": "Regeling", "circulaires": "Circulaire", "convenanten": "Convenant",
    "formulieren": "Formulier", "brieven": "Brief",
}
#: A Kamerstuk's kind, from the start of its title ("Kamerbrief over …").
KAMERSTUK_KINDS = [
    (re.compile(r"^kamerbrief\b", re.IGNORECASE), "Kamerbrief"),
    (re.compile(r"^(?:antwoord(?:en)?|beantwoording)\b.*\bkamervragen\b", re.IGNORECASE),
     "Antwoord op Kamervragen"),
    (re.compile(r"^nota naar aanleiding van het (?:nader )?verslag\b", re.IGNORECASE),
     "Nota naar aanleiding van het verslag"),
    (re.compile(r"^memorie van toelichting\b", re.IGNORECASE), "Memorie van toelichting"),
    (re.compile(r"^memorie van antwoord\b", re.IGNORECASE), "Memorie van antwoord"),
    (re.compile(r"^(?:wetsvoorstel|voorstel van wet)\b", re.IGNORECASE), "Wetsvoorstel"),
]
#: Links that name one Kamerstuk on officielebekendmakingen (both hosts, §3.7).
KST_LINK = re.compile(
    r"^https?://(?:zoek\.officielebekendmakingen\.nl|repository\.overheid\.nl)/.*?\b(kst-[^/.?#]+)",
    re.IGNORECASE)
MINISTRY_IN_PATH = re.compile(r"/ministeries/([a-z0-9-]+)/")
HREF = re.compile(r"""href\s*=\s*["']([^"']+)["']""", re.IGNORECASE)


def midnight(day: date) -> datetime:
    """00:00 in Amsterdam on ``day``, as UTC."""
    return datetime.combine(day, time(0), AMSTERDAM).astimezone(UTC)


def iso_ms(moment: datetime) -> str:
    """The instant as JavaScript writes it (the search RSS rejects date-only strings)."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def page_kind(url: str) -> str | None:
    """``news``, ``document`` or None (topic pages, Q&A, agenda…), from the URL path."""
    path = urlsplit(url).path
    if "/nieuws/" in path:
        return "news"
    if "/documenten/" in path:
        return "document"
    return None


def document_type(url: str, title: str, fallback: str = "") -> str:
    """What rijksoverheid.nl calls the item: Nieuwsbericht, Rapport, Kamerstuk: Kamerbrief…"""
    path = urlsplit(url).path
    if "/nieuws/" in path:
        return "Nieuwsbericht"
    segment = path.split("/documenten/", 1)[1].split("/", 1)[0] if "/documenten/" in path else ""
    if segment and not segment.isdigit():
        label = DOCUMENT_TYPES.get(segment, segment.replace("-", " ").capitalize())
    else:
        label = fallback.strip().capitalize() if fallback.strip() else "Document"
    if label == "Kamerstuk":
        for pattern, kind in KAMERSTUK_KINDS:
            if pattern.search(title):
                return f"Kamerstuk: {kind}"
    return label


def parse_when(value: str) -> datetime | None:
    """An API date (ISO, naive = Amsterdam time) as aware UTC."""
    value = (value or "").strip()
    if not value or value.startswith("0000"):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=AMSTERDAM)
    return parsed.astimezone(UTC)


def kst_links(links: list[str]) -> list[str]:
    """The kst-… ids that officielebekendmakingen links point at, canonical, in order."""
    found = []
    for link in links:
        match = KST_LINK.match(link)
        if match and (canonical := kamerstuk(match.group(1))):
            found.append(canonical)
    return list(dict.fromkeys(found))


def looks_like_html(response: Response) -> bool:
    kind = response.headers.get(b"Content-Type", b"").decode("latin-1").lower()
    start = response.body.lstrip()[:200].lower()
    return "html" in kind or start.startswith((b"<!doctype html", b"<html"))


class RijksoverheidSpider(FailureAccount, scrapy.Spider):
    name = "rijksoverheid"
    source_title = "Rijksoverheid.nl — nieuws en documenten"
    source_url = "https://www.rijksoverheid.nl/"
    rss_max_items = RSS_MAX_ITEMS
    classic_rows = CLASSIC_ROWS

    def __init__(self, *args: Any, cursor: str | dict[str, str] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.cursor: dict[str, str] = json.loads(cursor) if isinstance(cursor, str) else dict(
            cursor or {})
        self.failures: list[tuple[str | None, str]] = []
        #: A request failed (or the route is unusable): the cursor must not move.
        self._held = False
        self._today: date | None = None
        self._since: date | None = None
        self._seen: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> RijksoverheidSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        spider.route = (settings.get("WATCH_RIJKSOVERHEID_ROUTE") or "").strip().lower()
        spider.rss_url = settings.get("WATCH_RIJKSOVERHEID_RSS_URL")
        spider.terms = settings.getlist("WATCH_RIJKSOVERHEID_TERMS")
        spider.overlap = timedelta(days=settings.getint("WATCH_RIJKSOVERHEID_OVERLAP_DAYS"))
        spider.kamerstuk_pages = settings.getbool("WATCH_RIJKSOVERHEID_KAMERSTUK_PAGES")
        spider.classic_url = settings.get("WATCH_RIJKSOVERHEID_CLASSIC_URL").rstrip("/") + "/"
        spider.subjects = settings.getlist("WATCH_RIJKSOVERHEID_SUBJECTS")
        spider.initial = timedelta(days=settings.getint("WATCH_TK_INITIAL_DAYS"))
        clock = settings.get("WATCH_CLOCK")
        spider.clock = datetime.fromisoformat(clock) if clock else None
        return spider

    # --- the run's period -------------------------------------------------------------------

    def now(self) -> datetime:
        """The crawl's time: the recording's in a replay (WATCH_CLOCK), else now."""
        return self.clock or datetime.now(UTC)

    def today(self) -> date:
        return self.now().astimezone(AMSTERDAM).date()

    def since(self, today: date | None = None) -> date:
        """First publication day searched: cursor day minus overlap, or the initial window."""
        stored = self.cursor.get("date")
        if stored:
            return date.fromisoformat(stored) - self.overlap
        return (today or self.today()) - self.initial

    def next_cursor(self) -> dict[str, str]:
        """Today, once every request of the run came back fine; never backwards."""
        if self._held or self._today is None:
            return dict(self.cursor)
        return {"date": max(self._today.isoformat(), self.cursor.get("date", ""))}

    def _request_failed(self, url: str | None, reason: str) -> None:
        self._held = True
        self.fail(url, reason)

    def on_error(self, failure: Failure) -> None:
        self._held = True
        super().on_error(failure)

    async def start(self) -> AsyncIterator[scrapy.Request]:
        self._today = self.today()
        self._since = self.since(self._today)
        if self.route == "rss":
            for term in self.terms:
                yield self.rss_request(term, midnight(self._since), None)
        elif self.route == "classic":
            for subject in self.subjects:
                for kind in ("news", "documents"):
                    yield self.classic_request(kind, subject, 0)
        else:
            self._request_failed(None, f"WATCH_RIJKSOVERHEID_ROUTE is {self.route!r}: "
                                       "use 'rss' or 'classic'")

    # --- route rss: the search RSS ----------------------------------------------------------

    def rss_query_url(self, term: str, start: datetime, end: datetime | None) -> str:
        """The search RSS URL for ``term`` published in [start, end) (end None: open)."""
        period: dict[str, str] = {"name": "specificPeriod", "from": iso_ms(start)}
        if end is not None:
            period["to"] = iso_ms(end - timedelta(milliseconds=1))
        query = {
            "filters": [{"field": "sort_date", "type": "all", "values": [period]}],
            "resultSearchTerm": term,
            "pageTitle": "Zoeken",
        }
        encoded = quote(json.dumps(query, separators=(",", ":"), ensure_ascii=False), safe="")
        return f"{self.rss_url}?query={encoded}"

    def rss_request(self, term: str, start: datetime, end: datetime | None) -> scrapy.Request:
        return scrapy.Request(
            self.rss_query_url(term, start, end), callback=self.parse_rss, errback=self.on_error,
            cb_kwargs={"term": term, "start": start, "end": end},
            meta={"handle_httpstatus_list": HANDLED_STATUSES},
            headers={"Accept": "application/rss+xml, application/xml;q=0.9, */*;q=0.5"},
        )

    def split(self, start: datetime, end: datetime | None) -> list[tuple[datetime, datetime]]:
        """Two halves of a period, cut at an Amsterdam midnight; [] for a single day."""
        first = start.astimezone(AMSTERDAM).date()
        last = (end or midnight(self.today() + timedelta(days=1))).astimezone(AMSTERDAM).date()
        days = (last - first).days
        if days <= 1:
            return []
        cut = midnight(first + timedelta(days=days // 2))
        return [(start, cut), (cut, midnight(last))]

    def parse_rss(self, response: Response, term: str, start: datetime,
                  end: datetime | None) -> Iterator[PolicyItem | scrapy.Request]:
        if response.status != 200:
            hint = {404: "the search RSS is gone or moved?", 410: "the search RSS is gone?",
                    500: "the server rejected the JSON query (format changed?)"}.get(
                response.status, "")
            self._request_failed(response.url, f"search RSS for {term!r} answered HTTP "
                                               f"{response.status}" + (f": {hint}" if hint else ""))
            return
        try:
            parsed = self._feed(response)
        except (ValueError, LookupError) as exc:  # e.g. a garbled encoding declaration
            self._request_failed(response.url, f"search RSS for {term!r} cannot be read "
                                               f"({type(exc).__name__}: {exc})")
            return
        if not parsed.get("version") and not parsed.entries:
            what = "an HTML page" if looks_like_html(response) else "something else"
            self._request_failed(
                response.url, f"search RSS for {term!r} answered {what}, not RSS (Content-Type "
                f"{response.headers.get(b'Content-Type', b'?').decode('latin-1')}): the endpoint "
                "moved, or the query format changed?")
            return
        if parsed.get("bozo"):
            problem = parsed.get("bozo_exception")
            if type(problem).__name__ not in SURVIVABLE:
                self._request_failed(response.url, f"search RSS for {term!r} is not well-formed "
                                     f"({type(problem).__name__}: {problem}); "
                                     f"{len(parsed.entries)} items recovered")
        if len(parsed.entries) >= self.rss_max_items:
            halves = self.split(start, end)
            if halves:
                self.crawler.stats.inc_value("watch/rijksoverheid/periods_split")
                for part_start, part_end in halves:
                    yield self.rss_request(term, part_start, part_end)
                return
            self.fail(response.url, f"search RSS for {term!r} is full ({len(parsed.entries)} "
                      f"items) for the single day {start.astimezone(AMSTERDAM).date()}: it "
                      f"returns at most {self.rss_max_items}, so items of that day may be missing")
        fetched_at = datetime.now(UTC)
        for index, entry in enumerate(parsed.entries):
            try:
                item = self.rss_item(entry, term, response.url, fetched_at)
                item = well_formed(item) if item is not None else None
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                self.fail(response.url, f"search RSS for {term!r}, item {index + 1}: "
                                        f"{type(exc).__name__}: {exc}")
                continue
            if item is not None:
                yield from self._emit(item)

    def _feed(self, response: Response) -> Any:
        """feedparser on the bytes, with the response's headers (as crawler.spiders.feed)."""
        headers = {key.decode("latin-1").lower(): response.headers.get(key).decode("latin-1")
                   for key in response.headers}
        headers["content-location"] = response.url
        return feedparser.parse(io.BytesIO(response.body), response_headers=headers)

    def rss_item(self, entry: Any, term: str, feed_url: str,
                 fetched_at: datetime) -> PolicyItem | None:
        link = web_address(urljoin(SITE, (entry.get("link") or "").strip()))
        title = html_to_text(entry.get("title", ""))
        if not title or not (entry.get("link") or "").strip():
            raise ValueError("item without title or link")
        if not link:
            raise ValueError(f"item link {entry.get('link')!r} is not a web address")
        if page_kind(link) is None:
            self.crawler.stats.inc_value("watch/rijksoverheid/other_pages")
            return None
        description = entry.get("summary", "") or ""
        when = entry.get("published_parsed")
        return self.make_item(
            key=(entry.get("id") or "").strip() or link, url=link, title=title,
            description=description, published=datetime(*when[:6], tzinfo=UTC) if when else None,
            fetched_at=fetched_at,
            meta={"route": "rss", "query": term, "guid": entry.get("id", ""),
                  "pubdate": entry.get("published", ""), "feed_url": feed_url},
        )

    # --- route classic: the open data API ---------------------------------------------------

    def classic_query_url(self, kind: str, subject: str, offset: int) -> str:
        paging = f"output=json&rows={self.classic_rows}&offset={offset}"
        if kind == "news":
            return f"{self.classic_url}infotypes/news/subjects/{quote(subject)}/?{paging}"
        return f"{self.classic_url}documents?subject={quote(subject)}&{paging}"

    def classic_request(self, kind: str, subject: str, offset: int) -> scrapy.Request:
        return scrapy.Request(
            self.classic_query_url(kind, subject, offset), callback=self.parse_classic,
            errback=self.on_error, cb_kwargs={"kind": kind, "subject": subject, "offset": offset},
            meta={"handle_httpstatus_list": HANDLED_STATUSES},
            headers={"Accept": "application/json, application/xml;q=0.9"},
        )

    def parse_classic(self, response: Response, kind: str, subject: str,
                      offset: int) -> Iterator[PolicyItem | scrapy.Request]:
        what = f"classic open data API ({kind}, onderwerp {subject!r})"
        if response.status in (404, 410):
            self._request_failed(
                response.url, f"classic open data API retired? HTTP {response.status} for {kind} "
                f"of onderwerp {subject!r} (reported gone since 2 June 2026, SOURCES.md §4.1; "
                "or the onderwerp slug is unknown); set WATCH_RIJKSOVERHEID_ROUTE=rss")
            return
        if response.status != 200:
            self._request_failed(response.url, f"{what} answered HTTP {response.status}")
            return
        if looks_like_html(response):
            self._request_failed(
                response.url, "classic open data API retired? It answered an HTML page "
                f"instead of JSON/XML for {kind} of onderwerp {subject!r} (landed on "
                f"{response.url}); set WATCH_RIJKSOVERHEID_ROUTE=rss")
            return
        try:
            records = self._classic_records(response.body)
        except ValueError as exc:
            self._request_failed(response.url, f"{what}: {exc}")
            return
        fetched_at = datetime.now(UTC)
        assert self._since is not None
        since = midnight(self._since)
        for index, record in enumerate(records):
            try:
                item = well_formed(self.classic_item(record, kind, response.url, fetched_at))
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                self.fail(response.url, f"{what}, record {offset + index + 1}: "
                                        f"{type(exc).__name__}: {exc}")
                continue
            changed = parse_when(str(record.get("lastmodified") or "")) or item.published_at
            if changed is not None and changed < since:
                self.crawler.stats.inc_value("watch/rijksoverheid/older_than_since")
                continue
            yield from self._emit(item)
        if len(records) >= self.classic_rows:
            yield self.classic_request(kind, subject, offset + len(records))

    @staticmethod
    def _classic_records(body: bytes) -> list[dict[str, Any]]:
        """The records of an API answer: a JSON list (or a list in an object), or XML elements
        with a ``title`` child (read by local names)."""
        text = body.lstrip()
        if text[:1] in (b"[", b"{"):
            try:
                data = json.loads(body)
            except ValueError as exc:
                raise ValueError(f"response is not JSON ({exc})") from exc
            if isinstance(data, dict):
                lists = [v for v in data.values() if isinstance(v, list)]
                if len(lists) != 1:
                    raise ValueError("JSON object without one list of records "
                                     f"(keys: {', '.join(sorted(data))})")
                data = lists[0]
            if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
                raise ValueError("JSON that is not a list of records")
            return data
        if text[:1] == b"<":
            try:
                root = etree.fromstring(body, parser=etree.XMLParser(
                    resolve_entities=False, no_network=True))
            except etree.XMLSyntaxError as exc:
                raise ValueError(f"response is not XML ({exc})") from exc
            records = []
            for element in root:
                if not isinstance(element.tag, str):
                    continue
                fields = {etree.QName(c).localname: "".join(c.itertext()).strip()
                          for c in element if isinstance(c.tag, str)}
                if "title" in fields:
                    records.append(fields)
            if len(root) and not records:
                raise ValueError(f"XML without records (root {etree.QName(root).localname})")
            return records
        raise ValueError("response is neither JSON nor XML")

    def classic_item(self, record: dict[str, Any], kind: str, api_url: str,
                     fetched_at: datetime) -> PolicyItem:
        canonical = str(record.get("canonical") or record.get("canonicallink") or "").strip()
        title = html_to_text(str(record.get("title") or ""))
        if not canonical or not title:
            raise ValueError("record without canonical or title")
        url = web_address(urljoin(SITE, canonical))
        if not url:
            raise ValueError(f"canonical {canonical!r} is not a web address")
        published = (parse_when(str(record.get("available") or ""))
                     or parse_when(str(record.get("frontenddate") or ""))
                     or parse_when(str(record.get("lastmodified") or "")))
        kind_type = str(record.get("type") or "")
        if kind == "news" and page_kind(url) is None:
            kind_type = kind_type or "Nieuwsbericht"
        return self.make_item(
            key=str(record.get("id") or "").strip() or url, url=url, title=title,
            description=str(record.get("introduction") or ""), published=published,
            fetched_at=fetched_at, type_fallback=kind_type,
            meta={"route": "classic", "id": record.get("id", ""), "type": record.get("type", ""),
                  "dataurl": record.get("dataurl", ""),
                  "lastmodified": record.get("lastmodified", ""), "api_url": api_url},
        )

    # --- items ------------------------------------------------------------------------------

    def make_item(self, *, key: str, url: str, title: str, description: str,
                  published: datetime | None, fetched_at: datetime, meta: dict[str, Any],
                  type_fallback: str = "") -> PolicyItem:
        doc_type = document_type(url, title, type_fallback)
        summary = html_to_text(description)
        links = list(dict.fromkeys(urljoin(url, h.strip()) for h in HREF.findall(description)))
        ministry = MINISTRY_IN_PATH.search(urlsplit(url).path)
        item = PolicyItem(
            source=self.name, key=key, url=url, fetched_at=fetched_at, title=title,
            text="", doc_type=doc_type, published_at=published, identifiers={},
            meta={**meta, "ministerie": ministry.group(1) if ministry else "",
                  "linked": links, "summary": summary},
        )
        stated = kamerstukken_in(title) if doc_type.startswith("Kamerstuk") else []
        self.identify(item, linked=kst_links(links), stated=stated,
                      mentioned=kamerstukken_in(summary), where="item")
        return item

    def identify(self, item: PolicyItem, *, linked: list[str], stated: list[str],
                 mentioned: list[str], where: str) -> None:
        """Set identifiers and text: the Kamerstuk the item *is* (a Kamerstuk linking to exactly
        one kst-…, or naming one in its title) vs the ones it only refers to."""
        identifiers = item.identifiers
        own = list(identifiers.get("kamerstuk", []))
        if not own and item.doc_type and item.doc_type.startswith("Kamerstuk"):
            candidates = linked or stated
            if len(candidates) == 1:
                own = candidates
                item.meta["kamerstuk_from"] = where
        references = [k for k in dict.fromkeys(
            [*identifiers.get("verwijzing", []), *linked, *stated, *mentioned]) if k not in own]
        dossiers = [k.split("-", 1)[1].rsplit("-", 1)[0] for k in [*own, *references]]
        item.identifiers = {scheme: values for scheme, values in {
            "kamerstuk": own,
            "dossier": list(dict.fromkeys([*identifiers.get("dossier", []), *dossiers])),
            "verwijzing": references,
            "url": [item.url],
        }.items() if values}
        lines = [item.title, item.doc_type or "", item.meta.get("summary", "")]
        lines += [f"Kamerstuk: {k}" for k in own] + [f"Verwijst naar: {k}" for k in references]
        item.text = "\n".join(dict.fromkeys(line for line in lines if line))

    def _emit(self, item: PolicyItem) -> Iterator[PolicyItem | scrapy.Request]:
        """The item once per run; a Kamerstuk without its kst-… first has its page read."""
        if item.key in self._seen:
            self.crawler.stats.inc_value("watch/rijksoverheid/duplicates")
            return
        self._seen.add(item.key)
        if (self.kamerstuk_pages and item.doc_type and item.doc_type.startswith("Kamerstuk")
                and not item.identifiers.get("kamerstuk")):
            yield scrapy.Request(item.url, callback=self.parse_page, errback=self.page_failed,
                                 cb_kwargs={"item": item},
                                 meta={"handle_httpstatus_list": HANDLED_STATUSES},
                                 headers={"Accept": "text/html"})
            return
        yield item

    # --- a Kamerstuk's own page -------------------------------------------------------------

    def parse_page(self, response: Response, item: PolicyItem) -> Iterator[PolicyItem]:
        """Read the kst-… a Kamerstuk page links to; the item is kept whatever the page says."""
        if response.status != 200:
            self._request_failed(response.url, f"Kamerstuk page answered HTTP {response.status}")
            yield item
            return
        if not looks_like_html(response) or not hasattr(response, "text"):
            self._request_failed(response.url, "Kamerstuk page is not HTML (Content-Type "
                                 f"{response.headers.get(b'Content-Type', b'?').decode()})")
            yield item
            return
        if (why := cut_off(response)) is not None:
            self._request_failed(response.url, f"Kamerstuk page: {why}")
            yield item
            return
        try:
            document = lxml.html.fromstring(xml_safe(response.text), base_url=response.url)
        except (etree.ParserError, ValueError) as exc:  # empty, or not HTML at all
            self._request_failed(response.url, f"Kamerstuk page is not HTML ({exc})")
            yield item
            return
        if not document.xpath("//h1"):
            self._request_failed(response.url, "Kamerstuk page has no <h1>: has the page layout "
                                               "changed?")
            yield item
            return
        for element in document.xpath("//script|//style|//nav|//header|//footer"):
            element.drop_tree()
        main = (document.xpath("//main") or document.xpath("//body") or [document])[0]
        links = [urljoin(response.url, href.strip()) for href in main.xpath(".//a/@href")]
        text = " ".join(main.text_content().split())
        self.identify(item, linked=kst_links(links), stated=[], mentioned=kamerstukken_in(text),
                      where="page")
        yield item

    def page_failed(self, failure: Failure) -> Iterator[PolicyItem]:
        self.on_error(failure)
        request = getattr(failure, "request", None)
        if request is not None and "item" in request.cb_kwargs:
            yield request.cb_kwargs["item"]
