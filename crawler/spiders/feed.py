"""Any RSS or Atom feed a researcher adds (`beleidsradar sources add feed URL`).

One crawl per configured feed source; the source's slug, URL and cursor come from the archive.
The body goes to feedparser as bytes (``BytesIO``) with the response headers, never as a string
it might open. Conditional GET: the ETag / Last-Modified of the last good fetch are sent, and a
304 means nothing changed. ``bozo`` feeds are handled as lemon24's *reader* does: an encoding
override or a non-XML content type is survivable; any other problem is recorded as a failure
of the source, and whatever entries feedparser still recovered are kept. One bad entry never
loses the others.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

import feedparser
import scrapy
from scrapy.http import Response
from w3lib.html import remove_tags, replace_entities

from crawler.items import PolicyItem
from crawler.spiders._base import FailureAccount, web_address, well_formed

#: bozo exceptions that do not make a feed unusable (feedparser names).
SURVIVABLE = ("CharacterEncodingOverride", "NonXMLContentType")


def ends_whole(body: bytes) -> bool:
    """Whether a feed's bytes end with the closing tag of its root (</rss>, </feed>, </rdf:RDF>,
    even without its ">"); a feed cut off in transit does not."""
    tail = body.rstrip()[-64:].lower()
    return any(tag in tail for tag in (b"</rss", b"</feed", b"</rdf:rdf", b"</rdf"))


def html_to_text(value: str) -> str:
    return replace_entities(remove_tags(value or "")).strip()


class FeedSpider(FailureAccount, scrapy.Spider):
    name = "feed"
    user_added = True
    source_kind = "feed"
    source_title = "Feed"

    def __init__(self, *args: Any, source: str = "", url: str = "", title: str = "",
                 cursor: dict[str, str] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if not source or not url:
            raise ValueError("FeedSpider needs source= (the slug) and url=")
        self.source_slug = source
        self.feed_url = url
        self.failure_url = url
        self.source_title = title or url
        self.source_url = url
        self.cursor: dict[str, str] = dict(cursor or {})
        self.failures: list[tuple[str | None, str]] = []
        self._validators: dict[str, str] | None = None

    async def start(self) -> AsyncIterator[scrapy.Request]:
        headers = {"Accept": "application/atom+xml, application/rss+xml, application/xml;q=0.9, "
                             "*/*;q=0.5"}
        if self.cursor.get("etag"):
            headers["If-None-Match"] = self.cursor["etag"]
        if self.cursor.get("last_modified"):
            headers["If-Modified-Since"] = self.cursor["last_modified"]
        yield scrapy.Request(self.feed_url, headers=headers, callback=self.parse_feed,
                             errback=self.on_error, meta={"handle_httpstatus_list": [304]},
                             dont_filter=True)

    def next_cursor(self) -> dict[str, str]:
        """Validators of the last good fetch (kept as they were after a 304 or a failure)."""
        return dict(self._validators) if self._validators is not None else dict(self.cursor)

    def parse_feed(self, response: Response) -> Iterator[PolicyItem]:
        if response.status == 304:
            self.crawler.stats.inc_value("watch/feed/not_modified")
            return
        headers = {key.decode("latin-1").lower(): response.headers.get(key).decode("latin-1")
                   for key in response.headers.keys()}
        headers["content-location"] = response.url
        try:
            parsed = feedparser.parse(io.BytesIO(response.body), response_headers=headers)
        except (ValueError, LookupError) as exc:  # e.g. a garbled encoding declaration
            self.fail(response.url, f"feed cannot be read ({type(exc).__name__}: {exc})")
            return
        entries = list(parsed.entries)
        broken = False
        if parsed.get("bozo"):
            problem = parsed.get("bozo_exception")
            name = type(problem).__name__
            if name not in SURVIVABLE:
                broken = True
                recovered = f"{len(entries)} entries recovered"
                if entries and not ends_whole(response.body):
                    # Cut off in transit: the entry it stops in is only partly there.
                    entries.pop()
                    recovered += (", the last one left out: the feed stops before its closing "
                                  "tag (cut off?)")
                self.fail(response.url, f"feed is not well-formed ({name}: {problem}); "
                                        f"{recovered}")
        if not parsed.entries and not parsed.get("version"):
            self.fail(response.url, "not a feed: neither RSS nor Atom, and no entries "
                                    f"(Content-Type {headers.get('content-type', '?')})")
            return
        fetched_at = datetime.now(UTC)
        for index, entry in enumerate(entries):
            try:
                item = well_formed(self.entry_item(entry, parsed, response.url, fetched_at))
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                self.fail(response.url, f"entry {index + 1}: {type(exc).__name__}: {exc}")
                continue
            yield item
        if broken:
            return  # keep the old validators: a 304 next time must not hide what was missed
        good = {"etag": headers.get("etag", ""), "last_modified": headers.get("last-modified", "")}
        self._validators = {k: v for k, v in good.items() if v}

    def entry_item(self, entry: Any, parsed: Any, feed_url: str,
                   fetched_at: datetime) -> PolicyItem:
        # A link that is no web address (a bare identifier, a typo) is not where to read it.
        link = web_address(urljoin(feed_url, entry.get("link") or "")) if entry.get("link") \
            else ""
        title = html_to_text(entry.get("title", ""))
        parts = [html_to_text(c.get("value", "")) for c in entry.get("content", [])]
        summary = html_to_text(entry.get("summary", ""))
        if summary and summary not in parts:
            parts.insert(0, summary)
        text = "\n".join(p for p in parts if p)
        when = entry.get("published_parsed") or entry.get("updated_parsed")
        published = datetime(*when[:6], tzinfo=UTC) if when else None
        identity = entry.get("id") or link or hashlib.sha256(
            (title + "\n" + text).encode()).hexdigest()[:20]
        if not (title or text or link):
            raise ValueError("entry has no title, text or link")
        return PolicyItem(
            source=self.source_slug,
            key=f"entry/{identity}",
            url=link or feed_url,
            fetched_at=fetched_at,
            title=title or (text[:120] if text else link),
            text=text,
            doc_type="Feedbericht",
            published_at=published,
            identifiers={"url": [link]} if link else {},
            meta={
                "feed": parsed.feed.get("title", ""),
                "feed_url": feed_url,
                "author": entry.get("author", ""),
                "tags": [t.get("term") for t in entry.get("tags", []) if t.get("term")],
            },
        )
