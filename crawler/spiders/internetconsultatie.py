"""internetconsultatie.nl: the government's public consultations on draft laws and regulations.

Follows SOURCES.md §8.1. There is no API or feed (none found: [UNCONFIRMED]), so the spider reads
the site's pages, politely (one request per second, as the known crawler of this site does):

1. the overview of open consultations (``WATCH_INTERNETCONSULTATIE_OPEN_URL``, the home page;
   [UNCONFIRMED]) and of closed ones (``WATCH_INTERNETCONSULTATIE_CLOSED_URL``,
   ``/geslotenconsultaties/``), each followed through its next-page links up to a page limit;
2. per consultation (keyed on its slug, ``/{slug}``): its page, for the title, the ministry
   ("Organisatie"), the status, the consultation period ("Looptijd") and the documents
   (``/{slug}/document/{id}``);
3. its description tab ``/{slug}/b1``.

Only consultations whose title or description contains one of the monitored keywords
(``WATCH_INTERNETCONSULTATIE_KEYWORDS``) become items; the others are counted (stat
``watch/internetconsultatie/off_topic``) and remembered in the cursor, so later runs do not fetch
them again while they stay listed (the verdicts are forgotten when the keyword list changes).

A consultation is one item (key = slug) whose status facets say where it stands: ``stadium``
"open" or "gesloten" (the open→closed step is a ``status`` event, not a new version), and the
closing date as ``datum`` ("YYYY-MM-DD 23:59", the end of the last day one can respond, Amsterdam
time) with ``activiteit_status`` "Gepland" while the consultation is open — so an open
consultation on a watched topic appears in the digest's agenda with its deadline — and
"Gesloten" afterwards.

The pages are read by meaning (headings, labels such as "Looptijd" and "Organisatie", links to
``/{slug}/document/…``), not by position; a page that lacks the title, the period, the ministry or
the description fails loudly, naming the missing part, instead of producing an empty item.
The one part found by a class name is the consultation's lead paragraph (``class`` containing
"intro" or "lead"): when no paragraph is so marked, the first substantial paragraph between the
title and the first section heading is read instead (``lead_paragraph``; not the notice that
says whether one can still respond, nor a paragraph that is only a link), so the text stays the
same; as the mark itself is [UNCONFIRMED], that is a warning in the log (and the crawl stat
``watch/drift/lead_paragraph_unmarked``), and a failure only when no paragraph can be read.
An overview that links to no consultation at all is no answer (``refuse``): the site always
lists some.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import urljoin, urlsplit

import scrapy
from scrapy.crawler import Crawler
from scrapy.http import Response

from crawler.items import PolicyItem
from crawler.spiders._base import FailureAccount, cut_off
from crawler.spiders._pages import (
    content_root,
    dates_in,
    field,
    heading,
    html_document,
    keyword_hits,
    labelled_fields,
    midnight_utc,
    next_page,
    readable,
    text_of,
)
from monitors.text import fold

#: First path segments of the site's own pages: never a consultation slug.
SITE_PAGES = {
    "geslotenconsultaties", "zoeken", "veelgesteldevragen", "overinternetconsultatie", "over",
    "privacy", "toegankelijkheid", "contact", "cookies", "content", "scripts", "account",
    "inloggen", "nieuwsbrief", "help", "sitemap", "rss", "english", "en",
}
_SLUG = re.compile(r"^/([A-Za-z0-9][A-Za-z0-9_-]*)/?$")

#: How pages label what we need (folded); the first one present counts.
PERIOD_LABELS = ("looptijd", "consultatieperiode", "consultatietermijn", "periode")
START_LABELS = ("startdatum", "begindatum", "geopend op", "datum opening", "start")
END_LABELS = ("einddatum", "sluitingsdatum", "sluit op", "reageren kan tot", "datum sluiting")
MINISTRY_LABELS = ("organisatie", "ministerie", "verantwoordelijk ministerie", "departement",
                   "organisatie(s)")
KIND_LABELS = ("type regeling", "soort regeling", "type", "soort")
TOPIC_LABELS = ("onderwerpen", "onderwerp", "thema's", "thema")
STATUS_LABELS = ("status",)
RESPONSES_LABELS = ("aantal reacties", "reacties")

OPEN, CLOSED = "open", "gesloten"
#: The shortest text a description page must have (besides the title) to count as one; also
#: the shortest paragraph that can be a lead paragraph.
MIN_DESCRIPTION = 40
#: How the site marks a consultation's lead paragraph (a class name containing one of these).
LEAD_CLASSES = ("intro", "lead")
#: The notice on a consultation page that says whether one can respond: not its lead.
_STATE_NOTICE = re.compile(r"\bdeze consultatie\b|\bu kunt\b.*\breageren\b|\breageer\b|"
                           r"\breageren (?:kan|is mogelijk)\b", re.IGNORECASE)
#: Where a paragraph is navigation, a form or a list, not prose.
_NOT_PROSE = {"nav", "header", "footer", "form", "aside", "dl", "table", "ul", "ol", "li",
              "button", "label"}


def lead_paragraph(main: Any) -> tuple[str, bool]:
    """The consultation's lead paragraph, and whether the page marked it as such.

    Marked: every ``<p>`` whose class contains "intro" or "lead". Else the first substantial
    paragraph of the content after the title (h1) and before the first section heading: at least
    MIN_DESCRIPTION characters, not inside navigation, lists or forms, not the notice about
    responding ("Deze consultatie is geopend. U kunt reageren tot en met …", which changes when
    the consultation closes), not a paragraph that is only a link. ("", False) when there is
    none."""
    condition = " or ".join(f"contains(@class, '{name}')" for name in LEAD_CLASSES)
    marked = [text_of(p) for p in main.xpath(f".//p[{condition}]")]
    if any(marked):
        return " ".join(t for t in marked if t), True
    started = not main.xpath(".//h1")
    for element in main.iter():
        if not isinstance(element.tag, str):
            continue
        if element.tag == "h1":
            started = True
            continue
        if not started:
            continue
        if element.tag in ("h2", "h3", "h4", "h5", "h6"):
            break
        if element.tag != "p" or any(a.tag in _NOT_PROSE for a in element.iterancestors()):
            continue
        text = text_of(element)
        links = " ".join(text_of(a) for a in element.iter("a"))
        if len(text) < MIN_DESCRIPTION or _STATE_NOTICE.search(text) or (
                links and len(links) >= len(text) - 2):
            continue
        return text, False
    return "", False


def _bare_host(url: str) -> str:
    """The host without "www.": the site links itself both ways."""
    return (urlsplit(url).hostname or "").lower().removeprefix("www.")


def status_word(value: str) -> str | None:
    """"open" or "gesloten" from how the site states a status, or None when it says neither."""
    folded = fold(value)
    if any(word in folded for word in ("gesloten", "afgerond", "beeindigd", "verlopen")):
        return CLOSED
    if any(word in folded for word in ("open", "geopend", "actueel", "loopt")):
        return OPEN
    return None


class InternetconsultatieSpider(FailureAccount, scrapy.Spider):
    name = "internetconsultatie"
    source_title = "internetconsultatie.nl — consultaties over voorgenomen regelgeving"
    source_url = "https://www.internetconsultatie.nl/"
    # SOURCES.md §8.1 and §9: the known crawler of this site waits a second between requests.
    custom_settings: ClassVar[dict[str, Any]] = {"DOWNLOAD_DELAY": 1.0}

    def __init__(self, *args: Any, cursor: str | dict[str, Any] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        #: {"keywords": digest of the keyword list, "off_topic": [slugs judged off-topic]}
        self.cursor: dict[str, Any] = json.loads(cursor) if isinstance(cursor, str) else dict(
            cursor or {})
        self.failures: list[tuple[str | None, str]] = []
        self._listed: dict[str, set[str]] = {}  # slug → overviews that list it this run
        self._requested: set[str] = set()
        self._off_topic: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any
                     ) -> InternetconsultatieSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        spider.open_url = settings.get("WATCH_INTERNETCONSULTATIE_OPEN_URL")
        spider.closed_url = settings.get("WATCH_INTERNETCONSULTATIE_CLOSED_URL")
        spider.page_limits = {OPEN: settings.getint("WATCH_INTERNETCONSULTATIE_OPEN_PAGES"),
                              CLOSED: settings.getint("WATCH_INTERNETCONSULTATIE_CLOSED_PAGES")}
        spider.keywords = settings.getlist("WATCH_INTERNETCONSULTATIE_KEYWORDS")
        spider.failure_url = spider.open_url
        return spider

    # --- the cursor: verdicts on consultations that are off-topic ------------------------------

    @property
    def keyword_digest(self) -> str:
        """Identifies the keyword list the stored verdicts were made with."""
        words = sorted({fold(k) for k in self.keywords})
        return hashlib.sha256(json.dumps(words).encode()).hexdigest()[:16]

    def known_off_topic(self) -> set[str]:
        if self.cursor.get("keywords") != self.keyword_digest:
            return set()
        return set(self.cursor.get("off_topic") or [])

    def next_cursor(self) -> dict[str, Any]:
        """The off-topic verdicts of consultations still listed; unchanged after any failure."""
        if self.failures or not self._listed:
            return dict(self.cursor)
        verdicts = (self.known_off_topic() | self._off_topic) & set(self._listed)
        return {"keywords": self.keyword_digest, "off_topic": sorted(verdicts)}

    # --- requests -------------------------------------------------------------------------------

    async def start(self) -> AsyncIterator[scrapy.Request]:
        yield self._overview(self.open_url, OPEN, 1)
        yield self._overview(self.closed_url, CLOSED, 1)

    def _overview(self, url: str, overview: str, page: int) -> scrapy.Request:
        return scrapy.Request(url, callback=self.parse_overview, errback=self.on_error,
                              cb_kwargs={"overview": overview, "page": page},
                              headers={"Accept": "text/html"})

    # --- parsing --------------------------------------------------------------------------------

    def _document(self, response: Response, what: str) -> Any | None:
        document = html_document(response)
        if document is None:
            kind = response.headers.get("Content-Type", b"?").decode("latin-1")
            self.fail(response.url, f"{what} is not an HTML page ({kind})")
        elif (why := cut_off(response)) is not None:
            self.fail(response.url, f"{what}: {why}")
            return None
        return document

    def consultation_links(self, document: Any, base_url: str) -> list[tuple[str, str, str]]:
        """(slug, url, title) of every consultation an overview links to, in page order."""
        host = _bare_host(base_url)
        found: dict[str, tuple[str, str, str]] = {}
        for link in content_root(document).iter("a"):
            url = urljoin(base_url, link.get("href") or "")
            parts = urlsplit(url)
            match = _SLUG.match(parts.path)
            if _bare_host(url) != host or not match or parts.query:
                continue
            slug = match.group(1)
            if slug.lower() in SITE_PAGES or slug.lower() in found:
                continue
            found[slug.lower()] = (slug.lower(), url.split("#", 1)[0], text_of(link))
        return list(found.values())

    def parse_overview(self, response: Response, overview: str, page: int
                       ) -> Iterator[scrapy.Request]:
        document = self._document(response, f"overview of {overview} consultations")
        if document is None:
            return
        entries = self.consultation_links(document, response.url)
        if not entries:
            # The site always lists consultations: an overview without any is no answer.
            self.refuse(response, f"overview of {overview} consultations (page {page}) links "
                        "to no consultation (/<slug>): an empty list, or has the layout changed?")
            return
        known_off_topic = self.known_off_topic()
        for slug, url, title in entries:
            self._listed.setdefault(slug, set()).add(overview)
            if slug in self._requested:
                continue
            self._requested.add(slug)
            if slug in known_off_topic:
                self.crawler.stats.inc_value("watch/internetconsultatie/off_topic_known")
                continue
            yield scrapy.Request(url, callback=self.parse_consultation, errback=self.on_error,
                                 cb_kwargs={"slug": slug, "listed_title": title},
                                 headers={"Accept": "text/html"})
        following = next_page(document, response.url)
        if following and page < self.page_limits[overview]:
            yield self._overview(following, overview, page + 1)
        elif following:
            self.logger.info("internetconsultatie.page_limit overview=%s pages=%s", overview, page)
            self.crawler.stats.inc_value("watch/internetconsultatie/page_limit")

    def parse_consultation(self, response: Response, slug: str, listed_title: str
                           ) -> Iterator[scrapy.Request]:
        document = self._document(response, f"consultation page of {slug}")
        if document is None:
            return
        main = content_root(document)
        title = heading(main) or heading(document)
        if not title:
            self.fail(response.url, "consultation page has no title (h1): has the layout changed?")
            return
        fields = labelled_fields(main)
        start, end = self._period(fields)
        if start is None or end is None:
            self.fail(response.url, "consultation page states no consultation period (Looptijd, "
                      "or start and end date): has the layout changed?")
            return
        ministry = field(fields, *MINISTRY_LABELS)
        if not ministry:
            self.fail(response.url, "consultation page names no ministry (Organisatie): has the "
                      "layout changed?")
            return
        stated_status = field(fields, *STATUS_LABELS)
        intro, marked = lead_paragraph(main)
        if not marked and intro:
            # The mark is [UNCONFIRMED] (SOURCES.md §8): reading the paragraph by its place
            # loses nothing, so this is a warning in the log, not a failure every run.
            self.logger.warning("%s marks no lead paragraph (class 'intro' or 'lead'); read the "
                                "first paragraph of the content instead", response.url)
            self.crawler.stats.inc_value("watch/drift/lead_paragraph_unmarked")
        elif not marked:
            # Format drift that loses text: the item is still made, without a lead.
            self.fail(response.url, "consultation page marks no lead paragraph (class 'intro' or "
                      "'lead') and its content has no paragraph that could be one; has the "
                      "layout changed?")
        documents = []
        for link in main.iter("a"):
            url = urljoin(response.url, link.get("href") or "")
            if f"/{slug}/document/" in urlsplit(url).path.lower() and all(
                    d["url"] != url for d in documents):
                documents.append({"titel": text_of(link), "url": url})
        tab = next((urljoin(response.url, a.get("href")) for a in main.iter("a")
                    if (a.get("href") or "").rstrip("/").lower().endswith(f"/{slug}/b1")), None)
        description_url = tab or f"{response.url.split('?')[0].rstrip('/')}/b1"
        facts = {
            "slug": slug,
            "url": response.url,
            "title": title,
            "listed_title": listed_title,
            "ministerie": ministry,
            "type": field(fields, *KIND_LABELS),
            "onderwerpen": field(fields, *TOPIC_LABELS),
            "status_stated": stated_status,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "looptijd": field(fields, *PERIOD_LABELS),
            "reacties": field(fields, *RESPONSES_LABELS),
            "intro": intro,
            "documenten": documents,
        }
        yield scrapy.Request(description_url, callback=self.parse_description,
                             errback=self.on_error, cb_kwargs={"facts": facts},
                             headers={"Accept": "text/html"})

    def _period(self, fields: dict[str, str]) -> tuple[Any, Any]:
        period = dates_in(field(fields, *PERIOD_LABELS))
        if len(period) >= 2:
            return period[0], period[-1]
        starts, ends = dates_in(field(fields, *START_LABELS)), dates_in(field(fields, *END_LABELS))
        return (starts[0] if starts else None), (ends[-1] if ends else None)

    def parse_description(self, response: Response, facts: dict[str, Any]
                          ) -> Iterator[PolicyItem]:
        slug = facts["slug"]
        document = self._document(response, f"description page of {slug}")
        if document is None:
            return
        main = content_root(document)
        # The tab labels ("Consultatie", "Beschrijving", …) and the title are not description.
        own = {fold(text_of(a)) for a in main.iter("a")
               if f"/{slug}" in urlsplit(urljoin(response.url, a.get("href") or "")).path.lower()}
        own |= {fold(facts["title"]), fold(heading(main))}
        lines = [line for line in readable(main).splitlines() if fold(line) not in own]
        description = "\n".join(lines)
        if max((len(line) for line in lines), default=0) < MIN_DESCRIPTION:
            self.fail(response.url, "description page (/b1) has no description text: has the "
                      "layout changed?")
            return
        hits = keyword_hits("\n".join((facts["title"], facts["intro"], description)),
                            self.keywords)
        if not hits:
            self._off_topic.add(slug)
            self.crawler.stats.inc_value("watch/internetconsultatie/off_topic")
            self.logger.debug("internetconsultatie.off_topic slug=%s", slug)
            return
        yield self.item(facts, description, hits, response.url)

    def stadium(self, facts: dict[str, Any]) -> str:
        """What the page says, else which overview listed the consultation (closed wins)."""
        stated = status_word(facts["status_stated"]) if facts["status_stated"] else None
        if stated:
            return stated
        return CLOSED if CLOSED in self._listed.get(facts["slug"], set()) else OPEN

    def item(self, facts: dict[str, Any], description: str, hits: list[str],
             description_url: str) -> PolicyItem:
        stadium = self.stadium(facts)
        start = datetime.fromisoformat(facts["start"]).date()
        lines = [
            facts["title"],
            f"Organisatie: {facts['ministerie']}",
            f"Type regeling: {facts['type']}" if facts["type"] else "",
            f"Onderwerpen: {facts['onderwerpen']}" if facts["onderwerpen"] else "",
            facts["intro"],
            description,
            *[f"Document: {d['titel']}" for d in facts["documenten"]],
        ]
        return PolicyItem(
            source=self.name,
            key=facts["slug"],
            url=facts["url"],
            fetched_at=datetime.now(UTC),
            title=facts["title"],
            text="\n".join(dict.fromkeys(line for line in lines if line)),
            doc_type="Internetconsultatie",
            published_at=midnight_utc(start),
            identifiers={"internetconsultatie": [facts["slug"]]},
            status={
                "stadium": stadium,
                "datum": f"{facts['end']} 23:59",
                "activiteit_status": "Gepland" if stadium == OPEN else "Gesloten",
            },
            meta={
                "ministerie": facts["ministerie"],
                "type_regeling": facts["type"] or None,
                "onderwerpen": facts["onderwerpen"] or None,
                "startdatum": facts["start"],
                "einddatum": facts["end"],
                "looptijd": facts["looptijd"] or None,
                "status_op_pagina": facts["status_stated"] or None,
                "overzichten": sorted(self._listed.get(facts["slug"], set())),
                "reacties": facts["reacties"] or None,
                "documenten": facts["documenten"],
                "beschrijving_url": description_url,
                "trefwoorden": hits,
            },
        )
