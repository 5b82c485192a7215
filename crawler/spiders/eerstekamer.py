"""Eerste Kamer (eerstekamer.nl): where the monitored bills stand in the senate.

Follows SOURCES.md §8.2. The site has no API or feed that we know of, so this spider visits the
bill page of each monitored dossier (``WATCH_EK_BILLS``) once per run, politely (one page per
bill, at most one request a second). Whether a bill page needs the site's slug
(``/wetsvoorstel/36547_wet_modernisering_en``) is **[UNCONFIRMED]**: the URL pattern is a setting
(``WATCH_EK_BILL_URL``), the bare number is tried and the site's redirect is followed; an entry of
``WATCH_EK_BILLS`` may also carry the slug (``"36547_wet_modernisering_en"``).

The page is read by meaning, not by position: label/value pairs (``dt``/``dd``, ``th``/``td``,
``Label: value``) are found by their label text ("Stand van zaken", "Status", "Commissie",
"Plenaire behandeling"...), and list or table rows belong to the section whose heading names them
("Eerste Kamer stukken", "Activiteiten", "Tweede Kamer stukken"). When a page no longer has what
a bill page must have (title with the dossier number, a stage, a list of kamerstukken), the bill
fails loudly with what was missing; no half-empty item is stored. Whether an answer is a page at
all is decided by its body, not its Content-Type (``html_page``): a server that labels its pages
``application/octet-stream`` still serves pages, a PDF or JSON in their place is refused.

Items:
- one per bill, key ``wetsvoorstel-{nummer}``: title and committee as text; the stage as status
  facet ``stadium``; the next plenary or committee step that lies ahead (a dated "Plenaire
  behandeling"/"Stemming"/committee label, or a future-dated activity) as facets ``activiteit``,
  ``datum`` ("YYYY-MM-DD HH:MM", Amsterdam time, or "YYYY-MM-DD" when the page gives no time) and
  ``activiteit_status`` = "Gepland", which puts it in the digest's agenda. The archive merges
  facets, so when nothing is planned any more these three are sent empty, which clears them;
- one per Eerste Kamer kamerstuk listed (letters A, B, C…), key ``kst-{nummer}-{LETTER}``, with
  identifier ``kamerstuk`` (upper-case letter: the lower-case URL form ``kst-36547-e`` is
  normalised) so the archive joins it with the same kamerstuk from officielebekendmakingen.

"Today" (what counts as ahead) is ``WATCH_CLOCK`` when set (a replay happens at its recording's
time), else now.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import lxml.html
import scrapy
from lxml import etree
from scrapy.crawler import Crawler
from scrapy.http import HtmlResponse, Response, TextResponse

from crawler.items import PolicyItem
from crawler.spiders._base import (
    FailureAccount, body_described, cut_off, sniff, titled, xml_safe,
)
from monitors import identifiers as ids

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
MONTHS = {name: number for number, name in enumerate(
    ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september",
     "oktober", "november", "december"), start=1)}
_DATE = re.compile(
    r"\b(?P<d>\d{1,2})\s+(?P<month>" + "|".join(MONTHS) + r")\s+(?P<y>\d{4})\b"
    r"|\b(?P<d2>\d{1,2})-(?P<m2>\d{1,2})-(?P<y2>\d{4})\b"
    r"|\b(?P<y3>\d{4})-(?P<m3>\d{2})-(?P<d3>\d{2})\b",
    re.IGNORECASE,
)
#: A time right after a date: "13.30 uur", ", om 13:30".
_TIME = re.compile(r"^[\s,]*(?:om\s+)?(?P<h>[01]?\d|2[0-3])[.:](?P<mi>[0-5]\d)\b(?:\s*uur)?",
                   re.IGNORECASE)
_WEEKDAY = re.compile(r"\b(?:maandag|dinsdag|woensdag|donderdag|vrijdag|zaterdag|zondag)\b,?\s*",
                      re.IGNORECASE)
#: "(36.547)" in a bill title; also "(36547)" and with a toevoeging "(36.600-VI)".
_TITLE_NUMBER = re.compile(r"\(\s*(\d{2})\.?(\d{3})(?:\s*[- ]\s*([A-Z]{1,5}))?\s*\)\s*$")
_NUMBER = re.compile(r"\b(\d{2})\.?(\d{3})\b")
#: The site's marker of an Eerste Kamer stuk in a row: "Memorie van antwoord (EK, E)".
_EK_MARKER = re.compile(r"\(\s*EK\s*,\s*([A-Z]{1,2})\s*\)", re.IGNORECASE)
_TK_MARKER = re.compile(r"\(\s*TK\s*,\s*[^)]*\)", re.IGNORECASE)

DROP_TAGS = ("script", "style", "noscript", "template", "svg", "iframe", "form", "nav", "footer",
             "aside", "button", "select", "input")
HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}

# Labels, by meaning (matched on the casefolded label without a trailing colon).
STAGE_LABEL = re.compile(r"^(stand van zaken|stadium|fase)$")
STATUS_LABEL = re.compile(r"^(status|behandelstatus)$")
COMMITTEE_LABEL = re.compile(r"commissie")
MINISTRY_LABEL = re.compile(r"ministerie")
NUMBER_LABEL = re.compile(r"^(kamerstuknummer|dossiernummer|nummer)$")
PENDING_LABEL = re.compile(r"aanhangig|ingediend|ontvangen")
FULL_TITLE_LABEL = re.compile(r"^(volledige |officiële |officiele )?titel$")
#: Labels that name a plenary or committee step; with a date on or after today it is planned.
STEP_LABEL = re.compile(r"plenair|stemming|debat|vergadering|inbreng|deskundig|gepland|planning|"
                        r"commissie")

# Section headings, by meaning.
SECTIONS = (
    ("ek", re.compile(r"eerste kamer.*stukken|stukken.*eerste kamer|ek-stukken")),
    ("tk", re.compile(r"tweede kamer.*stukken|stukken.*tweede kamer|tk-stukken")),
    ("activiteiten", re.compile(r"activiteit|procedure|wetgevingsproces|^behandeling$|^agenda$|"
                                r"^planning$")),
)

#: Kinds of Eerste Kamer stukken (doc_type), the most specific first.
KINDS = (
    "Gewijzigd voorstel van wet", "Voorstel van wet", "Nader voorlopig verslag",
    "Voorlopig verslag", "Nadere memorie van antwoord", "Memorie van antwoord",
    "Nota naar aanleiding van het verslag", "Eindverslag", "Verslag", "Motie", "Brief",
)


class LayoutChanged(ValueError):
    """The page lacks a part every bill page has: the layout has probably changed."""


class NoLetter(ValueError):
    """A listed document without a kamerstuk letter (a committee letter, a short note)."""


@dataclass(frozen=True)
class When:
    day: date
    time: str | None  # "HH:MM" when the page states it

    @property
    def facet(self) -> str:
        return f"{self.day.isoformat()} {self.time}" if self.time else self.day.isoformat()


def find_when(text: str) -> tuple[When, re.Match[str]] | None:
    """The first date in ``text`` (Dutch month name, dd-mm-yyyy or ISO), with a time after it."""
    match = _DATE.search(text)
    if match is None:
        return None
    g = match.groupdict()
    try:
        if g["d"]:
            day = date(int(g["y"]), MONTHS[g["month"].lower()], int(g["d"]))
        elif g["d2"]:
            day = date(int(g["y2"]), int(g["m2"]), int(g["d2"]))
        else:
            day = date(int(g["y3"]), int(g["m3"]), int(g["d3"]))
    except ValueError:
        return None
    time = _TIME.match(text[match.end():])
    return When(day, f"{int(time['h']):02d}:{time['mi']}" if time else None), match


def squeeze(text: str) -> str:
    return " ".join(text.split())


def element_text(element: Any) -> str:
    return squeeze(" ".join(element.itertext()))


def normal_label(text: str) -> str:
    return squeeze(text).rstrip(":").strip().casefold()


def _day_utc(day: date) -> datetime:
    # Same convention as officielebekendmakingen: a date-only fact at 00:00 UTC.
    return datetime.combine(day, datetime.min.time(), UTC)


@dataclass
class Row:
    """One line of a section list: its text, links, date."""

    text: str
    links: list[str]
    when: When | None


@dataclass
class BillPage:
    title: str
    number: str
    full_title: str
    labels: list[tuple[str, str]]
    sections: dict[str, list[Row]]
    page_title: str

    def label(self, pattern: re.Pattern[str], *, dated: bool | None = None) -> str:
        for label, value in self.labels:
            if pattern.search(label) and (dated is None or (find_when(value) is not None) == dated):
                return value
        return ""


def read_page(html: str, base_url: str) -> BillPage:
    """The parts of a bill page, found by their labels and headings. Raises LayoutChanged."""
    try:
        document = lxml.html.fromstring(xml_safe(html), base_url=base_url)
    except (etree.ParserError, ValueError) as exc:
        raise LayoutChanged(f"not an HTML page ({exc})") from exc
    try:
        document.make_links_absolute(base_url, resolve_base_href=True)
    except ValueError as exc:  # a link with control characters lxml cannot store back
        raise LayoutChanged(f"a link on the page is not a URL ({exc})") from exc
    page_title = squeeze(document.findtext(".//title") or "")
    og_title = next(iter(document.xpath("//meta[@property='og:title']/@content")), "")
    for element in list(document.iter(*DROP_TAGS)):
        if element.getparent() is not None:
            element.drop_tree()
    roots = (document.xpath("//main") or document.xpath("//article")
             or document.xpath("//body") or [document])
    root = roots[0]

    title, number = "", ""
    for heading in root.iter(*HEADINGS):
        text = element_text(heading)
        found = _TITLE_NUMBER.search(text)
        if found:
            title, number = text, found.group(1) + found.group(2)
            break
    if not title and og_title and _TITLE_NUMBER.search(og_title):
        title = squeeze(og_title)
        found = _TITLE_NUMBER.search(title)
        assert found is not None
        number = found.group(1) + found.group(2)

    labels = _labels(root)
    if not number:
        stated = next((v for lab, v in labels if NUMBER_LABEL.search(lab)), "")
        found_number = _NUMBER.search(stated)
        if found_number:
            number = found_number.group(1) + found_number.group(2)
            title = title or squeeze(og_title) or page_title
    if not title or not number:
        raise LayoutChanged("no bill title with a dossier number (a heading like "
                            "'Wet … (36.547)')")

    full_title = next((v for lab, v in labels if FULL_TITLE_LABEL.search(lab)), "")
    if not full_title:
        full_title = _subtitle(root, title)
    return BillPage(title=title, number=number, full_title=full_title, labels=labels,
                    sections=_sections(root), page_title=page_title)


def _labels(root: Any) -> list[tuple[str, str]]:
    """(label, value) pairs wherever the page states them: dl lists, table rows with a th,
    and blocks that read "Label: value"."""
    pairs: list[tuple[str, str]] = []
    for dt in root.iter("dt"):
        values = []
        for sibling in dt.itersiblings():
            if sibling.tag == "dt":
                break
            if sibling.tag == "dd":
                values.append(element_text(sibling))
        if values:
            pairs.append((normal_label(element_text(dt)), squeeze(" ".join(values))))
    for tr in root.iter("tr"):
        th = tr.find("th")
        cells = tr.findall("td")
        if th is not None and cells:
            pairs.append((normal_label(element_text(th)),
                          squeeze(" ".join(element_text(td) for td in cells))))
    for block in root.iter("p", "li", "div", "span"):
        if any(child.tag in ("p", "li", "div", "ul", "ol", "dl", "table") for child in block):
            continue
        text = element_text(block)
        label, colon, value = text.partition(":")
        if colon and value.strip() and len(label) <= 40 and (
                STAGE_LABEL.search(normal_label(label)) or STATUS_LABEL.search(normal_label(label))
                or normal_label(label) in ("plenaire behandeling", "stemming")):
            pairs.append((normal_label(label), squeeze(value)))
    return pairs


def _subtitle(root: Any, title: str) -> str:
    """The bill's long title: the first longer paragraph right after the title heading."""
    for heading in root.iter(*HEADINGS):
        if element_text(heading) == title:
            for sibling in heading.itersiblings():
                if sibling.tag in HEADINGS:
                    break
                if sibling.tag == "p" and len(element_text(sibling)) > 40:
                    return element_text(sibling)
            break
    return ""


def _section_of(heading_text: str) -> str | None:
    text = heading_text.casefold()
    for name, pattern in SECTIONS:
        if pattern.search(text):
            return name
    return None


def _sections(root: Any) -> dict[str, list[Row]]:
    """Rows (innermost li / tr) grouped under the section heading they follow."""
    sections: dict[str, list[Row]] = {}
    current: str | None = None
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        if element.tag in HEADINGS or element.get("role") == "heading":
            current = _section_of(element_text(element))
            if current is not None:
                sections.setdefault(current, [])
            continue
        if current is None or element.tag not in ("li", "tr"):
            continue
        if any(True for _ in element.iterdescendants("li", "tr")) or element.find("th") is not None:
            continue
        text = element_text(element).replace("PDF-document", "").strip()
        if not text:
            continue
        links = [href for href in element.xpath(".//a/@href") if href]
        found = find_when(text)
        sections[current].append(Row(squeeze(text), links, found[0] if found else None))
    return sections


def html_page(response: Response) -> TextResponse | None:
    """The response as an HTML page, or None when its body is not one.

    The body decides, not the label: a page served as ``application/octet-stream`` (or with no
    Content-Type) is read when its body starts like HTML; a body labelled HTML is read unless
    it is empty, binary or JSON (a missing Content-Type counts as HTML). Anything else (a PDF,
    an image, an error in JSON) is refused."""
    kind = sniff(response.body)
    label = (response.headers.get(b"Content-Type") or b"text/html").lower()
    if not (kind == "html" or (b"html" in label and kind in ("xml", "text"))):
        return None
    if isinstance(response, HtmlResponse):
        return response
    return response.replace(cls=HtmlResponse)


class EerstekamerSpider(FailureAccount, scrapy.Spider):
    name = "eerstekamer"
    source_title = "Eerste Kamer — wetsvoorstellen (eerstekamer.nl)"
    source_url = "https://www.eerstekamer.nl/"
    # SOURCES.md §9: no documented limits for eerstekamer.nl; 1 request/s is the advice there.
    custom_settings: ClassVar[dict[str, Any]] = {"DOWNLOAD_DELAY": 1.0,
                                                 "AUTOTHROTTLE_START_DELAY": 1.0}

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.failures: list[tuple[str | None, str]] = []
        self.bill_url = "https://www.eerstekamer.nl/wetsvoorstel/{nummer}"
        self.bills: list[str] = []
        self.clock: datetime | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> EerstekamerSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        spider.bill_url = settings.get("WATCH_EK_BILL_URL")
        spider.bills = [str(b).strip() for b in settings.getlist("WATCH_EK_BILLS")
                        if str(b).strip()]
        clock = settings.get("WATCH_CLOCK")
        spider.clock = datetime.fromisoformat(clock) if clock else None
        return spider

    # --- requests -------------------------------------------------------------------------

    def today(self) -> date:
        """The Amsterdam date that counts as today (the recording's, in a replay)."""
        now = self.clock or datetime.now(UTC)
        if now.tzinfo is None:
            now = now.replace(tzinfo=UTC)
        return now.astimezone(AMSTERDAM).date()

    def page_url(self, entry: str) -> str:
        return self.bill_url.format(nummer=entry)

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for entry in self.bills:
            number = re.match(r"\d+", entry)
            if number is None:
                self.fail(None, f"WATCH_EK_BILLS entry {entry!r} does not start with a dossier "
                          "number")
                continue
            yield scrapy.Request(self.page_url(entry), callback=self.parse_bill,
                                 errback=self.on_error,
                                 cb_kwargs={"dossier": number.group()},
                                 headers={"Accept": "text/html"})

    # --- parsing --------------------------------------------------------------------------

    def parse_bill(self, response: Response, dossier: str) -> Iterator[PolicyItem]:
        page = html_page(response)
        if page is None:
            label = response.headers.get("Content-Type", b"no Content-Type").decode("latin-1")
            self.fail(response.url, f"bill {dossier}: not an HTML page ({label}; "
                      f"{body_described(response.body)})")
            return
        response = page
        if (why := cut_off(response)) is not None:
            self.fail(response.url, f"bill {dossier}: {why}")
            return
        try:
            page = read_page(response.text, response.url)
            if page.number != dossier:
                raise LayoutChanged(f"the page is about bill {page.number}, not {dossier} "
                                    "(wrong redirect or URL pattern?)")
            yield from self.bill_items(page, response.url, dossier)
        except LayoutChanged as exc:
            self.fail(response.url, f"bill {dossier}: {exc}; has the page layout changed?")

    def bill_items(self, page: BillPage, url: str, dossier: str) -> Iterator[PolicyItem]:
        stage = page.label(STAGE_LABEL)
        status = page.label(STATUS_LABEL)
        if not stage and not status:
            raise LayoutChanged("no 'Stand van zaken' or 'Status' on the page")
        if not page.sections:
            raise LayoutChanged("no 'Eerste Kamer stukken', 'Tweede Kamer stukken' or "
                                "'Activiteiten' section")
        fetched_at = datetime.now(UTC)
        short_title = _TITLE_NUMBER.sub("", page.title).strip() or page.title

        # EK stukken: the rows of their own section, and rows elsewhere that carry "(EK, X)".
        candidates = page.sections.get("ek", []) + [
            row for name, rows in page.sections.items() if name != "ek"
            for row in rows if _EK_MARKER.search(row.text)]
        stukken: list[PolicyItem] = []
        others: list[str] = []
        for row in candidates:
            try:
                item = self.kamerstuk_item(row, dossier, short_title, url, fetched_at)
            except NoLetter:
                # A letter of the committee, a short note: listed without a kamerstuk letter.
                others.append(row.text)
                continue
            except ValueError as exc:
                self.fail(url, f"bill {dossier}: Eerste Kamer stuk {row.text!r}: {exc}")
                continue
            if all(s.key != item.key for s in stukken):
                stukken.append(item)
        if page.sections.get("ek") and not stukken:
            raise LayoutChanged("the 'Eerste Kamer stukken' section has rows, but none with a "
                                "kamerstuk letter like '(EK, A)'")
        if not stukken and "tk" not in page.sections:
            raise LayoutChanged("no Eerste Kamer stukken and no 'Tweede Kamer stukken' found")

        activities = [
            {"datum": row.when.facet, "omschrijving": _without_when(row.text)}
            for row in page.sections.get("activiteiten", []) if row.when is not None
        ]
        planned = self.planned_steps(page)
        next_step = planned[0] if planned else None  # the earliest
        committee = page.label(COMMITTEE_LABEL, dated=False)
        ministry = page.label(MINISTRY_LABEL)
        pending = find_when(page.label(PENDING_LABEL, dated=True))
        first_stuk = min((s.published_at for s in stukken if s.published_at), default=None)

        facets = {
            "stadium": stage or status,
            "activiteit": next_step[0] if next_step else "",
            "datum": next_step[1].facet if next_step else "",
            "activiteit_status": "Gepland" if next_step else "",
        }
        text_lines = [page.title, page.full_title, f"Wetsvoorstel {dossier} (Eerste Kamer)",
                      f"Commissie: {committee}" if committee else "",
                      f"Ministerie: {ministry}" if ministry else ""]
        yield PolicyItem(
            source=self.name,
            key=f"wetsvoorstel-{dossier}",
            url=url,
            fetched_at=fetched_at,
            title=page.title,
            text="\n".join(line for line in text_lines if line),
            doc_type="Wetsvoorstel",
            published_at=_day_utc(pending[0].day) if pending else first_stuk,
            identifiers={"dossier": [dossier]},
            status=facets,
            meta={
                "status": status,
                "stand_van_zaken": stage,
                "commissie": committee,
                "ministerie": ministry,
                "volledige_titel": page.full_title,
                "eerste_kamer_stukken": [s.key for s in stukken],
                "overige_stukken": others,
                "tweede_kamer_stukken": len(page.sections.get("tk", [])),
                "activiteiten": activities,
                "gepland": [{"activiteit": what, "datum": when.facet} for what, when in planned],
                "page_title": page.page_title,
            },
        )
        yield from stukken

    def planned_steps(self, page: BillPage) -> list[tuple[str, When]]:
        """Plenary and committee steps dated today or later: from labels and from activities."""
        today = self.today()
        steps: list[tuple[str, When]] = []
        for label, value in page.labels:
            if not STEP_LABEL.search(label):
                continue
            found = find_when(value)
            if found is not None and found[0].day >= today:
                steps.append((label[:1].upper() + label[1:], found[0]))
        for row in page.sections.get("activiteiten", []):
            if row.when is not None and row.when.day >= today:
                steps.append((_without_when(row.text), row.when))
        unique: dict[tuple[str, str], tuple[str, When]] = {}
        for what, when in steps:
            unique.setdefault((what.casefold(), when.facet), (what, when))
        return sorted(unique.values(), key=lambda p: (p[1].day, p[1].time or ""))

    def kamerstuk_item(self, row: Row, dossier: str, short_title: str, page_url: str,
                       fetched_at: datetime) -> PolicyItem:
        letter = ""
        marker = _EK_MARKER.search(row.text)
        if marker:
            letter = marker.group(1).upper()
        linked = {k for href in row.links if (k := ids.kamerstuk(href))}
        for kst in linked:
            parts = kst.split("-")
            if parts[1] != dossier or not parts[-1].isalpha():
                raise ValueError(f"links to {kst}, which is not an Eerste Kamer stuk of {dossier}")
            if letter and parts[-1] != letter:
                raise ValueError(f"says letter {letter} but links to {kst}")
            letter = parts[-1]
        if not letter:
            raise NoLetter("no letter (neither '(EK, X)' nor a kst-…-X link)")
        key = ids.kamerstuk(f"kst-{dossier}-{letter}")
        assert key is not None
        label = _without_when(_TK_MARKER.sub("", _EK_MARKER.sub("", row.text)))
        label = label.strip(" -–—:;,") or f"Eerste Kamer stuk {letter}"
        own = [href for href in row.links if "eerstekamer.nl" in href]
        url = (own or row.links or [page_url])[0]
        kind = next((k for k in KINDS if label.casefold().startswith(k.casefold())),
                    "Kamerstuk (Eerste Kamer)")
        links = {"eerstekamer": own[0]} if own else {}
        published = [h for h in row.links if "officielebekendmakingen.nl" in h]
        if published:
            links["officielebekendmakingen"] = published[0]
        return PolicyItem(
            source=self.name,
            key=key,
            url=url,
            fetched_at=fetched_at,
            title=titled(label, short_title),
            text="\n".join((label, short_title, f"Kamerstuk Eerste Kamer {dossier}, {letter}")),
            doc_type=kind,
            published_at=_day_utc(row.when.day) if row.when else None,
            identifiers={"kamerstuk": [key], "dossier": [dossier]},
            meta={"letter": letter, "wetsvoorstel": dossier, "bill_page": page_url,
                  "datum": row.when.day.isoformat() if row.when else None, "links": links},
        )


def _without_when(text: str) -> str:
    """Row text without its first date (and the time and weekday next to it)."""
    found = find_when(text)
    if found is None:
        return squeeze(text)
    _, match = found
    rest = text[match.end():]
    time = _TIME.match(rest)
    if time:
        rest = rest[time.end():]
    before = _WEEKDAY.sub("", text[:match.start()])
    return squeeze(f"{before} {rest}").strip(" -–—:;,")
