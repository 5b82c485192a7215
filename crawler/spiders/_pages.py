"""Reading the HTML pages of sources that have no API (internetconsultatie.nl, raadvanstate.nl).

Such pages change their layout without notice, so nothing here relies on positions or class
names: fields are found by their labels ("Looptijd", "Kenmerk", in ``<dl>``, table rows or
"Label: value" lines), sections by their headings ("Volledige tekst"), the next overview page by
its meaning (``rel="next"``, "Volgende"). A spider that does not find what it needs must say which
part is missing (``FailureAccount.fail``) rather than store an empty item.

Also here: Dutch dates as the sites write them ("24 november 2026", "24-11-2026") and the
keyword filter these spiders apply before storing anything.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urljoin

import lxml.html
from scrapy.http import Response

from crawler.spiders._base import xml_safe
from crawler.spiders.page import page_text
from monitors.text import clean, fold

MONTHS = {
    "januari": 1, "jan": 1, "februari": 2, "feb": 2, "maart": 3, "mrt": 3, "mar": 3,
    "april": 4, "apr": 4, "mei": 5, "juni": 6, "jun": 6, "juli": 7, "jul": 7,
    "augustus": 8, "aug": 8, "september": 9, "sept": 9, "sep": 9, "oktober": 10, "okt": 10,
    "november": 11, "nov": 11, "december": 12, "dec": 12,
}
_DATE_WORDS = re.compile(
    r"\b(\d{1,2})\s+(" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?\s+(\d{4})\b",
    re.IGNORECASE,
)
_DATE_DMY = re.compile(r"\b(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})\b")
_DATE_ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
#: "Label: value" on one line, the way many pages print metadata without a <dl>.
_LABEL_LINE = re.compile(r"^([^\W\d][\w ()/.'-]{0,40}?)\s*:\s+(\S.*)$")
_NEXT_WORDS = {"volgende", "volgende pagina", "next", "›", "»", "volgende »", "volgende ›", ">"}


def dates_in(text: str) -> list[date]:
    """Every date in ``text``, in the order written; impossible dates are skipped."""
    found: list[tuple[int, int, int, int]] = []  # (position, year, month, day)
    for match in _DATE_WORDS.finditer(text):
        day, month, year = match.groups()
        found.append((match.start(), int(year), MONTHS[month.lower()], int(day)))
    for match in _DATE_DMY.finditer(text):
        day, month, year = match.groups()
        found.append((match.start(), int(year), int(month), int(day)))
    for match in _DATE_ISO.finditer(text):
        year, month, day = match.groups()
        found.append((match.start(), int(year), int(month), int(day)))
    days = []
    for _, year, month, day in sorted(found):
        try:
            days.append(date(year, month, day))
        except ValueError:
            continue
    return days


def midnight_utc(day: date) -> datetime:
    """A date-only fact as an aware datetime (the day at 00:00 UTC, as the other spiders do)."""
    return datetime.combine(day, datetime.min.time(), UTC)


def html_document(response: Response) -> Any | None:
    """The parsed page, or None when the response is not an HTML text page."""
    if not hasattr(response, "text"):
        return None
    if not response.text.strip() or "<" not in response.text[:2000]:
        return None
    try:
        return lxml.html.fromstring(xml_safe(response.text), base_url=response.url)
    except (lxml.etree.ParserError, ValueError):
        return None


def content_root(document: Any) -> Any:
    """The main content of a page: <main>, role=main, <article>, else the body."""
    for path in ("//main", "//*[@role='main']", "//article", "//body"):
        found = document.xpath(path)
        if found:
            return found[0]
    return document


def text_of(element: Any) -> str:
    """The element's text with whitespace folded, markup stripped."""
    return clean(element.text_content()) if element is not None else ""


def readable(element: Any) -> str:
    """Readable block text of an element (one block per line), without navigation or noise.

    Works on a copy: ``page_text`` drops the parts it leaves out."""
    return page_text(copy.deepcopy(element))


def heading(root: Any, level: str = "h1") -> str:
    found = root.xpath(f".//{level}")
    return text_of(found[0]) if found else ""


def _label(text: str) -> str:
    return fold(text).rstrip(":").strip()


def labelled_fields(root: Any) -> dict[str, str]:
    """Label → value pairs a page states: ``<dl>`` terms, two-cell table rows, "Label: value"
    lines. Labels are folded ("Datum publicatie:" → "datum publicatie"); the first wins."""
    fields: dict[str, str] = {}
    for term in root.iter("dt"):
        values = []
        for sibling in term.itersiblings():
            if sibling.tag == "dt":
                break
            if sibling.tag == "dd":
                values.append(text_of(sibling))
        fields.setdefault(_label(text_of(term)), " ".join(v for v in values if v))
    for row in root.iter("tr"):
        cells = [c for c in row if c.tag in ("th", "td")]
        if len(cells) == 2:
            fields.setdefault(_label(text_of(cells[0])), text_of(cells[1]))
    for element in root.iter("p", "li", "div", "span"):
        if element.xpath(".//p|.//li|.//div|.//dl|.//table"):
            continue
        match = _LABEL_LINE.match(text_of(element))
        if match:
            fields.setdefault(_label(match.group(1)), match.group(2).strip())
    return {label: value for label, value in fields.items() if label}


def field(fields: dict[str, str], *names: str) -> str:
    """The value of the first of ``names`` the page labels (exact label first, then a label
    that starts with the name, e.g. "datum publicatie advies" for "datum publicatie")."""
    for name in names:
        if fields.get(name):
            return fields[name]
    for name in names:
        for label, value in fields.items():
            if value and label.startswith(name):
                return value
    return ""


def section(root: Any, *names: str) -> list[Any]:
    """The elements under the first heading (h2–h4) named like one of ``names``, up to the next
    heading of the same or a higher level. Empty when no such heading exists."""
    wanted = [fold(n) for n in names]
    for element in root.iter("h2", "h3", "h4"):
        title = fold(text_of(element)).rstrip(":")
        if not any(title == w or title.startswith(w + " ") for w in wanted):
            continue
        level = int(element.tag[1])
        anchor = element
        # A heading alone in its wrapper (<div class="title"><h2>…</h2></div>): go up one level.
        if not list(element.itersiblings()) and element.getparent() is not None:
            anchor = element.getparent()
        body = []
        for sibling in anchor.itersiblings():
            if not isinstance(sibling.tag, str):
                continue
            if sibling.tag in ("h1", "h2", "h3", "h4")[:level]:
                break
            body.append(sibling)
        return body
    return []


def section_text(root: Any, *names: str) -> str:
    return "\n".join(t for t in (readable(e) for e in section(root, *names)) if t)


def paragraphs(elements: Iterable[Any]) -> list[str]:
    """The paragraphs (or, lacking those, the blocks) of some elements, as clean text."""
    found: list[str] = []
    for element in elements:
        parts = [element] if element.tag == "p" else list(element.iter("p"))
        found += [t for t in (text_of(p) for p in parts) if t]
    return found


def next_page(document: Any, base_url: str) -> str | None:
    """The address of the next page of an overview, found by meaning: a rel="next" link, or a
    link labelled "Volgende"/"next"/"›"/"»" (its text, aria-label or title)."""
    for link in document.xpath("//link[@rel='next'][@href] | //a[@rel='next'][@href]"):
        return urljoin(base_url, link.get("href"))
    for link in document.xpath("//a[@href]"):
        labels = [text_of(link), link.get("aria-label") or "", link.get("title") or ""]
        if any(fold(label) in _NEXT_WORDS or fold(label).startswith("volgende pagina")
               for label in labels if label):
            return urljoin(base_url, link.get("href"))
    return None


def keyword_hits(text: str, keywords: Iterable[str]) -> list[str]:
    """The monitored keywords ``text`` contains, case- and accent-insensitively, as substrings
    (Dutch compounds: "arbeidsuitbuiting" contains "uitbuiting", "jeugdhulp" contains "jeugd")."""
    folded = fold(text)
    return [k for k in keywords if k and fold(k) in folded]
