"""Any web page a researcher adds (`beleidsradar sources add page URL [--selector CSS]`).

The changedetection.io idea: fetch the page, keep the part that matters (a CSS selector, else
the main content), extract its text, and let every real change be a new version with a diff.
Noise does not count: scripts, styles, navigation and cookie banners are dropped, and dates,
times and counters are masked in the fingerprint the archive compares (the text itself is kept
as it was). A selector that no longer matches fails loudly instead of recording an empty page.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import lxml.html
import scrapy
from scrapy.http import Response

from crawler.items import PolicyItem
from crawler.spiders._base import FailureAccount, cut_off, xml_safe

DROP_TAGS = ("script", "style", "noscript", "template", "svg", "iframe", "form", "nav",
             "button", "select", "input")
NOISE = re.compile(r"cookie|consent|gdpr|banner|share|social|breadcrumb", re.IGNORECASE)
BLOCK_TAGS = {"p", "div", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "td", "th",
              "table", "section", "article", "header", "footer", "main", "br", "dd", "dt",
              "blockquote", "pre", "figcaption", "aside"}
MONTHS = (r"(?:jan(?:uari|uary)?|feb(?:ruari|ruary)?|maart|march|mar|apr(?:il)?|mei|may|"
          r"jun[ie]?|jul[iy]?|aug(?:ustus|ust)?|sep(?:tember)?|okt(?:ober)?|oct(?:ober)?|"
          r"nov(?:ember)?|dec(?:ember)?)")
#: What is masked in the fingerprint: things that change without the content changing.
MASKS = [
    (re.compile(r"\b\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}\b"), "<datum>"),
    (re.compile(r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?)?\b"), "<datum>"),
    (re.compile(r"\b\d{1,2}\s+" + MONTHS + r"\.?\s+\d{4}\b", re.IGNORECASE), "<datum>"),
    (re.compile(r"\b\d{1,2}[:.]\d{2}(?:\s*uur)?\b"), "<tijd>"),
    (re.compile(r"\b\d[\d.,]*\s+(?:reacties|reactie|views|weergaven|keer bekeken|comments|"
                r"bezoekers|likes)\b", re.IGNORECASE), "<teller>"),
]


def page_text(root: Any) -> str:
    """The readable text of an element: blocks on their own lines, noise left out."""
    for element in list(root.iter(*DROP_TAGS)):
        element.drop_tree()
    for element in list(root.iter()):
        if not isinstance(element.tag, str):
            continue
        marker = f"{element.get('id', '')} {element.get('class', '')} {element.get('role', '')}"
        if element is not root and NOISE.search(marker):
            element.drop_tree()
    parts: list[str] = []

    def walk(element: Any) -> None:
        if not isinstance(element.tag, str):
            if element.tail:
                parts.append(element.tail)
            return
        block = element.tag in BLOCK_TAGS
        if block:
            parts.append("\n")
        if element.text:
            parts.append(element.text)
        for child in element:
            walk(child)
        if block:
            parts.append("\n")
        if element.tail:
            parts.append(element.tail)

    walk(root)
    lines = (" ".join(line.split()) for line in "".join(parts).splitlines())
    return "\n".join(line for line in lines if line)


def fingerprint(text: str) -> str:
    for pattern, mask in MASKS:
        text = pattern.sub(mask, text)
    return text


class PageSpider(FailureAccount, scrapy.Spider):
    name = "page"
    user_added = True
    source_kind = "page"

    def __init__(self, *args: Any, source: str = "", url: str = "", title: str = "",
                 selector: str | None = None, cursor: dict[str, str] | None = None,
                 **kwargs: Any):
        super().__init__(*args, **kwargs)
        if not source or not url:
            raise ValueError("PageSpider needs source= (the slug) and url=")
        self.source_slug = source
        self.page_url = url
        self.failure_url = url
        self.source_title = title or url
        self.source_url = url
        self.selector = selector or None
        self.cursor: dict[str, str] = dict(cursor or {})
        self.failures: list[tuple[str | None, str]] = []

    async def start(self) -> AsyncIterator[scrapy.Request]:
        yield scrapy.Request(self.page_url, callback=self.parse_page, errback=self.on_error,
                             dont_filter=True)

    def parse_page(self, response: Response) -> Iterator[PolicyItem]:
        if not hasattr(response, "text"):
            self.fail(response.url, "not a text page "
                      f"({response.headers.get('Content-Type', b'?').decode()})")
            return
        if (why := cut_off(response)) is not None:
            self.fail(response.url, why)
            return
        try:
            document = lxml.html.fromstring(xml_safe(response.text), base_url=response.url)
        except (lxml.etree.ParserError, ValueError) as exc:  # empty, or not HTML at all
            self.fail(response.url, f"the page is not HTML ({exc})")
            return
        page_title = " ".join(document.findtext(".//title", default="").split())
        if self.selector:
            parts = document.cssselect(self.selector)
            if not parts:
                self.fail(response.url, f"selector {self.selector!r} matched nothing: "
                          "has the page changed?")
                return
        else:
            parts = (document.xpath("//main") or document.xpath("//article")
                     or document.xpath("//body") or [document])[:1]
        text = "\n".join(t for t in (page_text(p) for p in parts) if t)
        if not text:
            self.fail(response.url, "the page has no text where it was expected")
            return
        yield PolicyItem(
            source=self.source_slug,
            key="page",
            url=response.url,
            fetched_at=datetime.now(UTC),
            title=self.source_title if self.source_title != self.page_url else (
                page_title or self.page_url),
            text=text,
            doc_type="Webpagina",
            fingerprint=fingerprint(text),
            meta={"selector": self.selector, "page_title": page_title,
                  "status": response.status},
        )
