"""Middlewares for servers that misbehave (found by the fault matrix, docs/reliability.md).

- ``RetryAfterMiddleware`` (in place of Scrapy's RetryMiddleware, 550): a 429 or 503 that says
  ``Retry-After`` is retried after that wait (at most ``WATCH_RETRY_AFTER_MAX`` seconds), not at
  once; a rate limiter refuses a retry that comes too soon, so Scrapy's own retries were spent
  in a second and the source failed.
- ``RedirectMiddleware`` (in place of Scrapy's, 600): a redirected request bypasses the duplicate
  filter and starts its own retry count. A redirect loop (A → B → A) then ends in "max
  redirections reached", an error the spider hears and the crawl account keeps; before, the
  scheduler dropped the second A as a duplicate without a word and the run looked fine. And a
  503 burst on the second hop of a redirect no longer inherits the retries the first hop spent.
- ``CharsetMiddleware`` (580, after decompression): a body that is valid UTF-8 with non-ASCII
  characters but labelled as a single-byte Western charset (``charset=iso-8859-1``, a common
  server default) is read as UTF-8, instead of being archived as mojibake ("cliÃ«nt").
- ``UnusableAnswerMiddleware`` (a spider middleware, 60, after HttpErrorMiddleware): a 2xx
  answer with an empty body, or an HTML maintenance notice in place of the content
  (``unusable_answer`` in crawler/spiders/_base.py), never reaches the callback; the request's
  errback hears ``UnusableAnswer`` with the reason, as it hears an HTTP 503. So a source that
  answers only that way has *failed* (none of its answers counted as coming back), its spider
  holds its cursor as after any failed request, and nothing of the notice is archived (the
  generic page spider, watching a whole page, stored it as a "changed" version before).
"""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.redirect import RedirectMiddleware as ScrapyRedirectMiddleware
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.http import Response, TextResponse

from crawler.spiders._base import UnusableAnswer, count_unusable, unusable_answer

logger = logging.getLogger(__name__)

#: Statuses whose Retry-After is honoured (RFC 9110 §10.2.3: 503 and 3xx; RFC 6585: 429).
RETRY_AFTER_STATUSES = {429, 503}
#: Charsets servers send by default for text they did not label; a UTF-8 body is not in them.
SINGLE_BYTE_CHARSETS = {"iso-8859-1", "iso8859-1", "latin-1", "latin1", "l1", "iso-8859-15",
                        "windows-1252", "cp1252", "us-ascii", "ascii"}
_CHARSET = re.compile(rb"charset\s*=\s*[\"']?([\w.:-]+)", re.IGNORECASE)


def retry_after_seconds(value: bytes | str | None, now: datetime | None = None) -> float | None:
    """Seconds a Retry-After header asks to wait (delay-seconds or an HTTP-date), else None."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class RetryAfterMiddleware(RetryMiddleware):
    """Scrapy's retries, waiting as long as a 429/503 response's Retry-After asks (capped)."""

    def __init__(self, settings: Any):
        super().__init__(settings)
        self.max_wait = settings.getfloat("WATCH_RETRY_AFTER_MAX", 60.0)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RetryAfterMiddleware:
        middleware = cls(crawler.settings)
        middleware.crawler = crawler
        return middleware

    async def process_response(self, request: Request, response: Response,
                               spider: Any = None) -> Request | Response:
        result = super().process_response(request, response)
        if isinstance(result, Request) and response.status in RETRY_AFTER_STATUSES:
            wait = retry_after_seconds(response.headers.get(b"Retry-After"))
            if wait:
                wait = min(wait, self.max_wait)
                self.crawler.stats.inc_value("watch/retry_after/waits")
                logger.info("retry_after.wait url=%s status=%s seconds=%.1f", request.url,
                            response.status, wait)
                await asyncio.sleep(wait)
        return result


class RedirectMiddleware(ScrapyRedirectMiddleware):
    """Scrapy's redirects, but a redirect loop ends in an error instead of a silent drop."""

    def process_response(self, request: Request, response: Response,
                         spider: Any = None) -> Request | Response:
        result = super().process_response(request, response)
        if isinstance(result, Request) and result is not request:
            # Bounded by REDIRECT_MAX_TIMES; fetching one target twice is harmless (recording
            # is idempotent), dropping a loop unheard is not.
            result.dont_filter = True
            # A new URL gets its own retries.
            result.meta.pop("retry_times", None)
        return result


class CharsetMiddleware:
    """Read a UTF-8 body as UTF-8 even when the server labels it Latin-1 or Windows-1252."""

    def __init__(self, crawler: Crawler):
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CharsetMiddleware:
        return cls(crawler)

    def process_response(self, request: Request, response: Response,
                         spider: Any = None) -> Response:
        if not isinstance(response, TextResponse):
            return response
        found = _CHARSET.search(response.headers.get(b"Content-Type") or b"")
        if found is None or found.group(1).decode("ascii", "replace").lower() not in (
                SINGLE_BYTE_CHARSETS):
            return response
        body = response.body
        if body.isascii():
            return response
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            return response  # really a single-byte text
        self.stats.inc_value("watch/charset/utf8_mislabelled")
        return response.replace(encoding="utf-8")


class UnusableAnswerMiddleware:
    """Turn a 2xx answer that is no answer (empty, a maintenance notice) into a failure."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> UnusableAnswerMiddleware:
        return cls(crawler)

    def process_spider_input(self, response: Response, spider: Any = None) -> None:
        reason = unusable_answer(response)
        if reason is None:
            return
        count_unusable(response, self.crawler.stats)
        logger.info("unusable_answer url=%s reason=%s", response.url, reason)
        raise UnusableAnswer(response, reason)
