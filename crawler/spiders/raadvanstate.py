"""Raad van State, Afdeling advisering: the published advisory opinions (adviezen) on bills and
regulations.

Follows SOURCES.md §8.3. Since 1 May 2022 (Woo) the Afdeling advisering publishes on Monday at
10:00 the adviezen it adopted at its meeting of the Wednesday before, so one run a week, after
Monday 10:00 (Amsterdam), sees each batch once. No API or feed was found ([UNCONFIRMED]); the
spider reads the overview of adviezen (``WATCH_RAADVANSTATE_LISTING_URL``, assumed to list the
newest publications first: [UNCONFIRMED]) and follows its next-page links while the listed
adviezen are not older than the cursor (the newest publication date seen, minus
``WATCH_RAADVANSTATE_OVERLAP_DAYS``; on the first run ``WATCH_TK_INITIAL_DAYS`` back), at most
``WATCH_RAADVANSTATE_MAX_PAGES`` pages. Each advies page
(``/adviezen/@{id}/{kenmerk-slug}/``) gives the title, the kenmerk (``W16.23.00354/II``,
identifier scheme ``rvs_kenmerk``), the dates of the advice and of its publication, the ministry,
the kind of proposal, the bill's kamerstuk dossier when the page states it (scheme ``dossier``,
and ``kamerstuk`` when it cites one; a cited Staatscourant publication of the advies, SOURCES.md
§8.3 route (b), as ``officielebekendmakingen``), the text's summary and the dictum.

Only adviezen whose title or summary contains a monitored keyword
(``WATCH_RAADVANSTATE_KEYWORDS``) become items; the others are counted (stat
``watch/raadvanstate/off_topic``). The cursor advances over both, only when the run had no failure.

Pages are read by meaning (labels such as "Kenmerk" and "Datum publicatie", the heading "Volledige
tekst"), not by position. An overview without advies links, or an advies page without a title,
a date or any text, fails loudly with the missing part named.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, timedelta
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
    section,
    text_of,
)
from monitors.identifiers import kamerstuk, rvs_kenmerk
from monitors.text import fold

_ADVICE_PATH = re.compile(r"^/adviezen/@(\d+)/([^/?#]+)/?$")
_DOSSIER = re.compile(r"(?<!\d)(\d{2}\s?\d{3})(?:[\s-]+([A-Z]{1,5})\b)?(?![\d/])")
#: A publication in the Staatscourant or Staatsblad, cited or as its officielebekendmakingen id.
_PUBLICATION = re.compile(r"\b(?:(stcrt|stb)-((?:19|20)\d{2})-(\d+)|(Staatscourant|Staatsblad)\s+"
                          r"((?:19|20)\d{2})\s*,?\s*(?:nr\.\s*)?(\d+))\b", re.IGNORECASE)
_VOORDRACHT = re.compile(
    r"op voordracht van (?:de|het) ((?:Minister|Staatssecretaris)[^,.;]*?)(?:,| mede namens| bij de)")
#: The Afdeling's closing verdict, as its adviezen word it.
_DICTUM = re.compile(r"De Afdeling advisering van de Raad van State (?:heeft|adviseert|geeft|kan|is|"
                     r"acht|onderschrijft)[^.]*\.")

KENMERK_LABELS = ("kenmerk", "adviesnummer", "nummer", "zaaknummer")
ADVICE_DATE_LABELS = ("datum advies", "vastgesteld", "datum vaststelling", "adviesdatum")
PUBLISHED_LABELS = ("datum publicatie", "publicatiedatum", "gepubliceerd", "openbaar gemaakt",
                    "datum openbaarmaking")
MINISTRY_LABELS = ("ministerie", "verantwoordelijk ministerie", "departement", "indiener")
KIND_LABELS = ("soort advies", "soort", "type advies", "type")
DOSSIER_LABELS = ("kamerstuknummer", "kamerstuk", "kamerstukken", "dossiernummer", "dossier",
                  "vindplaats")
DICTUM_LABELS = ("dictum",)
SUMMARY_HEADINGS = ("samenvatting", "korte inhoud", "inhoud advies")
TEXT_HEADINGS = ("volledige tekst", "tekst van het advies", "advies")
#: How much of the text stands in for a summary when the page has none (whole paragraphs).
SUMMARY_CHARS = 1200


def official_publication(value: str) -> str | None:
    """The officielebekendmakingen id of a cited Staatscourant/Staatsblad publication
    ("Staatscourant 2024, 13885" → ``stcrt-2024-13885``), or None."""
    match = _PUBLICATION.search(value)
    if not match:
        return None
    prefix, year, number, name, cited_year, cited_number = match.groups()
    if prefix:
        return f"{prefix.lower()}-{year}-{number}"
    return f"{'stcrt' if name.lower() == 'staatscourant' else 'stb'}-{cited_year}-{cited_number}"


def dictum_kind(sentence: str) -> str | None:
    """The dictum in a few words, from the Afdeling's closing sentence (None when unclear)."""
    folded = fold(sentence)
    if re.search(r"\bniet\b.*\b(in te dienen|vast te stellen)\b", folded):
        return "niet indienen, tenzij aangepast" if "tenzij" in folded else "negatief"
    if "bezwaren" in folded or "bezwaar" in folded:
        return "bezwaren"
    if "geen opmerkingen" in folded or "geen inhoudelijke opmerkingen" in folded or (
            "kan zich" in folded and "verenigen" in folded):
        return "geen opmerkingen"
    if "opmerkingen" in folded:
        return "opmerkingen"
    return None


class RaadvanstateSpider(FailureAccount, scrapy.Spider):
    name = "raadvanstate"
    source_title = "Raad van State — adviezen van de Afdeling advisering"
    source_url = "https://www.raadvanstate.nl/adviezen/"
    # SOURCES.md §9: no documented limits; one request per second, as for the other page sources.
    custom_settings: ClassVar[dict[str, Any]] = {"DOWNLOAD_DELAY": 1.0}

    def __init__(self, *args: Any, cursor: str | dict[str, str] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        #: {"published": "YYYY-MM-DD"}: the newest publication date seen.
        self.cursor: dict[str, str] = json.loads(cursor) if isinstance(cursor, str) else dict(
            cursor or {})
        self.failures: list[tuple[str | None, str]] = []
        self._since: date | None = None
        self._newest: date | None = None
        self._requested: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> RaadvanstateSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        spider.listing_url = settings.get("WATCH_RAADVANSTATE_LISTING_URL")
        spider.max_pages = settings.getint("WATCH_RAADVANSTATE_MAX_PAGES")
        spider.overlap = timedelta(days=settings.getint("WATCH_RAADVANSTATE_OVERLAP_DAYS"))
        spider.initial = timedelta(days=settings.getint("WATCH_TK_INITIAL_DAYS"))
        spider.keywords = settings.getlist("WATCH_RAADVANSTATE_KEYWORDS")
        spider.failure_url = spider.listing_url
        return spider

    # --- cursor ---------------------------------------------------------------------------------

    def since(self, today: date | None = None) -> date:
        """The oldest publication date this run asks for."""
        stored = self.cursor.get("published")
        if stored:
            return date.fromisoformat(stored) - self.overlap
        return (today or datetime.now(UTC).date()) - self.initial

    def next_cursor(self) -> dict[str, str]:
        """Advanced to the newest publication seen, only when nothing failed."""
        if self.failures:
            return dict(self.cursor)
        if self._newest is not None:
            newest = self._newest.isoformat()
            return {"published": max(newest, self.cursor.get("published", ""))}
        if self._since is not None and "published" not in self.cursor:
            return {"published": self._since.isoformat()}
        return dict(self.cursor)

    # --- requests -------------------------------------------------------------------------------

    async def start(self) -> AsyncIterator[scrapy.Request]:
        self._since = self.since()
        yield self._listing(self.listing_url, 1)

    def _listing(self, url: str, page: int) -> scrapy.Request:
        return scrapy.Request(url, callback=self.parse_listing, errback=self.on_error,
                              cb_kwargs={"page": page}, headers={"Accept": "text/html"})

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

    def advice_entries(self, document: Any, base_url: str
                       ) -> list[tuple[str, str, str, date | None]]:
        """(id, url, title, listed date) of every advies an overview page links to. The listed
        date is the latest date in the advies' own entry outside its links (publication follows
        adoption), None when the entry shows none."""
        root = content_root(document)
        links: dict[str, list[Any]] = {}
        for link in root.iter("a"):
            url = urljoin(base_url, link.get("href") or "")
            match = _ADVICE_PATH.match(urlsplit(url).path)
            if match:
                links.setdefault(match.group(1), []).append(link)
        entries = []
        for advice_id, anchors in links.items():
            box = anchors[0]
            # The entry is the largest ancestor that holds no other advies' link.
            while box.getparent() is not None and box.getparent() is not root:
                parent = box.getparent()
                others = {m.group(1) for a in parent.iter("a")
                          if (m := _ADVICE_PATH.match(urlsplit(
                              urljoin(base_url, a.get("href") or "")).path))}
                if others != {advice_id}:
                    break
                box = parent
            days = self._entry_dates(box)
            url = urljoin(base_url, anchors[0].get("href")).split("#", 1)[0]
            title = next((t for t in (text_of(a) for a in anchors) if t), "")
            entries.append((advice_id, url, title, max(days) if days else None))
        return entries

    @staticmethod
    def _entry_dates(box: Any) -> list[date]:
        """Dates an overview entry states, not those of its title ("… van 13 juni 2024"): first
        outside its links, else (an entry that is one big link) outside its headings."""
        headings = ("h1", "h2", "h3", "h4", "h5", "h6")
        for drop in (("a", *headings), headings):
            bare = copy.deepcopy(box)
            for inner in [e for e in bare.iter(*drop) if e is not bare]:
                inner.drop_tree()
            days = dates_in(text_of(bare))
            if days:
                return days
        return []

    def parse_listing(self, response: Response, page: int) -> Iterator[scrapy.Request]:
        document = self._document(response, "overview of adviezen")
        if document is None:
            return
        entries = self.advice_entries(document, response.url)
        if not entries:
            # The overview always lists adviezen (newest first): without any it is no answer.
            self.refuse(response, f"overview of adviezen (page {page}) links to no advies "
                        "(/adviezen/@<id>/…): an empty list, or has the layout changed?")
            return
        since = self._since or self.since()
        reached_older = False
        for advice_id, url, title, listed in entries:
            if listed is not None and listed < since:
                reached_older = True
                continue
            if advice_id in self._requested:
                continue
            self._requested.add(advice_id)
            yield scrapy.Request(url, callback=self.parse_advice, errback=self.on_error,
                                 cb_kwargs={"advice_id": advice_id, "listed_title": title},
                                 headers={"Accept": "text/html"})
        following = next_page(document, response.url)
        if following and not reached_older:
            if page < self.max_pages:
                yield self._listing(following, page + 1)
            else:
                self.logger.info("raadvanstate.page_limit pages=%s", page)
                self.crawler.stats.inc_value("watch/raadvanstate/page_limit")

    def parse_advice(self, response: Response, advice_id: str, listed_title: str
                     ) -> Iterator[PolicyItem]:
        document = self._document(response, f"advies page @{advice_id}")
        if document is None:
            return
        main = content_root(document)
        title = heading(main) or heading(document)
        if not title:
            self.fail(response.url, "advies page has no title (h1): has the layout changed?")
            return
        fields = labelled_fields(main)
        stated = field(fields, *KENMERK_LABELS)
        kenmerk = rvs_kenmerk(stated) if stated else None
        if stated and kenmerk is None:
            self.fail(response.url, f"advies page states kenmerk {stated!r}, which is not a "
                      "Raad van State kenmerk")
            return
        kenmerk = kenmerk or rvs_kenmerk(urlsplit(response.url).path)
        if kenmerk is None:
            self.fail(response.url, "advies page has no kenmerk (label Kenmerk, or in its "
                      "address): has the layout changed?")
            return
        adopted = dates_in(field(fields, *ADVICE_DATE_LABELS))
        published = dates_in(field(fields, *PUBLISHED_LABELS))
        if not adopted and not published:
            self.fail(response.url, "advies page states no date (Datum advies / Datum "
                      "publicatie): has the layout changed?")
            return
        text_blocks = section(main, *TEXT_HEADINGS)
        summary = self.summary(main, text_blocks)
        if not summary:
            self.fail(response.url, "advies page has no text (Samenvatting / Volledige tekst): "
                      "has the layout changed?")
            return
        full_text = "\n".join(text_of(b) for b in text_blocks)
        when = published[0] if published else adopted[0]
        if self._since is not None and when < self._since:
            return  # listed without a date, and older than this run asks for
        if self._newest is None or when > self._newest:
            self._newest = when
        hits = keyword_hits(f"{title}\n{summary}", self.keywords)
        if not hits:
            self.crawler.stats.inc_value("watch/raadvanstate/off_topic")
            self.logger.debug("raadvanstate.off_topic kenmerk=%s", kenmerk)
            return
        yield self.item(response.url, advice_id, title, kenmerk, fields, summary, full_text,
                        adopted[0] if adopted else None, published[0] if published else None,
                        hits)

    def summary(self, main: Any, text_blocks: list[Any]) -> str:
        """The page's summary section, else the opening paragraphs of the advice text: those
        before its first sub-heading, at most about ``SUMMARY_CHARS`` (whole paragraphs)."""
        stated = section(main, *SUMMARY_HEADINGS)
        if stated:
            return "\n".join(t for t in (text_of(e) for e in stated) if t)
        opening: list[str] = []
        for block in text_blocks:
            for element in block.iter():
                if element.tag in ("h2", "h3", "h4", "h5") and opening:
                    return "\n".join(opening)
                if element.tag == "p" and text_of(element):
                    if opening and sum(map(len, opening)) + len(text_of(element)) > SUMMARY_CHARS:
                        return "\n".join(opening)
                    opening.append(text_of(element))
        return "\n".join(opening)

    def item(self, url: str, advice_id: str, title: str, kenmerk: str, fields: dict[str, str],
             summary: str, full_text: str, adopted: date | None, published: date | None,
             hits: list[str]) -> PolicyItem:
        ministry = field(fields, *MINISTRY_LABELS)
        voordracht = _VOORDRACHT.search(full_text)
        if not ministry and voordracht:
            ministry = voordracht.group(1)
        dictum = field(fields, *DICTUM_LABELS)
        if not dictum:
            sentences = _DICTUM.findall(full_text)
            dictum = sentences[-1] if sentences else ""
        identifiers: dict[str, list[str]] = {"rvs_kenmerk": [kenmerk]}
        cited = field(fields, *DOSSIER_LABELS)
        stuk = kamerstuk(cited) if cited else None
        publication = official_publication(cited) if cited else None
        if stuk:
            identifiers["kamerstuk"] = [stuk]
            identifiers["dossier"] = [stuk.split("-", 1)[1].rsplit("-", 1)[0]]
        elif publication:
            identifiers["officielebekendmakingen"] = [publication]
        elif cited and (number := _DOSSIER.search(cited)):
            digits, toevoeging = number.group(1).replace(" ", ""), number.group(2)
            identifiers["dossier"] = [f"{digits}-{toevoeging}" if toevoeging else digits]
        kind = field(fields, *KIND_LABELS)
        status = {}
        if dictum and (short := dictum_kind(dictum)):
            status["dictum"] = short
        day = published or adopted
        assert day is not None  # parse_advice fails pages without either
        lines = [
            title,
            f"Kenmerk: {kenmerk}",
            f"Ministerie: {ministry}" if ministry else "",
            f"Soort advies: {kind}" if kind else "",
            summary,
            f"Dictum: {dictum}" if dictum else "",
        ]
        return PolicyItem(
            source=self.name,
            key=kenmerk,
            url=url,
            fetched_at=datetime.now(UTC),
            title=title,
            text="\n".join(dict.fromkeys(line for line in lines if line)),
            doc_type="Advies Afdeling advisering Raad van State",
            published_at=midnight_utc(day),
            identifiers=identifiers,
            status=status,
            meta={
                "advies_id": advice_id,
                "datum_advies": adopted.isoformat() if adopted else None,
                "datum_publicatie": published.isoformat() if published else None,
                "ministerie": ministry or None,
                "soort_advies": kind or None,
                "dictum": dictum or None,
                "vindplaats": cited or None,
                "trefwoorden": hits,
            },
        )
