"""Item pipelines: thin adapters from Scrapy to the archive (storage) and the monitors.

NormalizePipeline (100) rejects items without provenance and tidies values;
StorePipeline (400) writes each item in its own transaction, matches every new version against
the active watch topics in that same transaction (so a stored version and its matches are never
apart), and keeps the crawl account: one
``crawl_run`` row per spider run with fetched/new/changed/status/removed/failed counts, the
reasons of every failure, and the source's incremental cursor, which it advances only when the
run stored everything it received.

Spiders that sync incrementally expose ``cursor`` (a dict, filled from the archive here unless
the crawl was started with an explicit one) and ``next_cursor()``; spiders report failures they
handled themselves in ``failures`` (a list of (url, reason)).
"""

from __future__ import annotations

import logging
import os
import socket
from datetime import UTC, datetime
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.http import Response
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from twisted.python.failure import Failure

from crawler.items import PolicyItem
from monitors.matching import MatchDoc
from monitors.text import clean
from storage.archive import Observation, Outcome, ensure_source, record_observation
from storage.db import check_schema, make_engine, session_factory
from storage.models import CrawlRun, Source
from storage.runs import add_error, finish_run, start_run
from storage.topics import active_matcher, record_matches

logger = logging.getLogger(__name__)


class NormalizePipeline:
    """Provenance present, datetimes aware, text tidy; invalid items are dropped and counted."""

    def __init__(self, crawler: Crawler):
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> NormalizePipeline:
        return cls(crawler)

    def process_item(self, item: Any) -> PolicyItem:
        if not isinstance(item, PolicyItem):
            raise DropItem(f"not a PolicyItem: {type(item).__name__}")
        missing = [name for name in ("source", "key", "url") if not getattr(item, name)]
        if missing:
            self.stats.inc_value("watch/normalize/invalid")
            raise DropItem(f"item without {', '.join(missing)}: {item.key or item.url}")
        for name in ("fetched_at", "published_at"):
            value = getattr(item, name)
            if value is not None and value.tzinfo is None:
                self.stats.inc_value("watch/normalize/invalid")
                raise DropItem(f"naive datetime in {name} of {item.key}")
        item.title = clean(item.title)
        item.identifiers = {
            scheme: list(dict.fromkeys(clean(v) for v in values if v and clean(v)))
            for scheme, values in item.identifiers.items()
        }
        item.status = {k: clean(v) for k, v in item.status.items() if v is not None}
        return item


class StorePipeline:
    """Writes items to the archive and keeps the run's account."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.database_url: str = crawler.settings.get("WATCH_DATABASE_URL")
        replay = crawler.settings.get("WATCH_REPLAY_DIR")
        record = crawler.settings.get("WATCH_RECORD_DIR")
        self.mode = f"replay:{replay}" if replay else (f"record:{record}" if record else "live")
        self.fetched = 0
        self.useful_responses = 0
        self.store_failures = 0
        self.run_id: int | None = None
        clock = crawler.settings.get("WATCH_CLOCK")
        self.fixed_now = datetime.fromisoformat(clock) if clock else None
        if self.fixed_now is not None and self.fixed_now.tzinfo is None:
            raise ValueError(f"WATCH_CLOCK needs a time zone: {clock!r}")

    def now(self) -> datetime:
        """The time the archive records: real time, or the recording's time in replay."""
        return self.fixed_now or datetime.now(UTC)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        pipeline = cls(crawler)
        crawler.signals.connect(pipeline.response_received, signal=signals.response_received)
        crawler.signals.connect(pipeline.spider_error, signal=signals.spider_error)
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    @property
    def spider(self) -> Spider:
        spider = self.crawler.spider
        assert spider is not None
        return spider

    def open_spider(self) -> None:
        self.engine = make_engine(self.database_url)
        check_schema(self.engine)
        self.Session = session_factory(self.engine)
        spider = self.spider
        with self.Session.begin() as session:
            # Researcher-added feeds and pages share one spider class; their slug is their own.
            self.source = ensure_source(
                session, getattr(spider, "source_slug", spider.name),
                kind=getattr(spider, "source_kind", "spider"),
                title=getattr(spider, "source_title", spider.name),
                url=getattr(spider, "source_url", None),
            )
            if hasattr(spider, "cursor") and not spider.cursor:
                spider.cursor = dict(self.source.cursor or {})
            # Topics are compiled once per crawl; a topic changed mid-crawl applies next run
            # (and saving a topic backfills the archive anyway).
            self.matcher, self.topic_ids = active_matcher(session)
            run = start_run(session, self.source, mode=self.mode, now=self.now(),
                            host=socket.gethostname(), pid=os.getpid())
            if hasattr(spider, "cursor"):
                run.cursor_before = dict(spider.cursor)
            self.run_id = run.id
            self.source_id = self.source.id
        self._errors: list[tuple[str | None, str]] = []
        self._counts: dict[str, int] = dict.fromkeys(
            ("items", "new", "changed", "status_changes", "removed", "unchanged"), 0
        )

    def response_received(self, response: Response, request: Any, spider: Spider) -> None:
        if response.url.endswith("/robots.txt"):
            return  # politeness traffic, not the source's content
        self.fetched += 1
        if 200 <= response.status < 300:
            self.useful_responses += 1

    def spider_error(self, failure: Failure, response: Response, spider: Spider) -> None:
        self._errors.append((response.url, f"spider error: {failure.getErrorMessage()}"))

    def process_item(self, item: PolicyItem) -> PolicyItem:
        self._counts["items"] += 1
        observation = _observation(item)
        for attempt in (1, 2):
            try:
                with self.Session.begin() as session:
                    source = session.get(Source, self.source_id)
                    assert source is not None
                    now = self.now()
                    result = record_observation(
                        session, source, observation, now=now, crawl_run_id=self.run_id,
                    )
                    if result.version_id is not None:
                        matched = record_matches(
                            session, self.matcher.match(_match_doc(item)), self.topic_ids,
                            document_id=result.document_id, version_id=result.version_id,
                            now=now,
                        )
                        self.crawler.stats.inc_value("watch/match/matches", matched)
                break
            except IntegrityError:
                # Another crawler stored the same record between our read and write: read again.
                if attempt == 2:
                    raise
            except SQLAlchemyError as exc:
                self.store_failures += 1
                reason = f"could not store {item.key}: {type(exc).__name__}: {exc}"
                self._errors.append((item.url, reason))
                raise DropItem(f"not stored: {item.key}") from exc
        self.crawler.stats.inc_value(f"watch/store/{result.outcome.value}")
        if result.outcome == Outcome.NEW:
            self._counts["new"] += 1
        elif result.outcome == Outcome.CHANGED:
            self._counts["changed"] += 1
        elif result.outcome == Outcome.REMOVED:
            self._counts["removed"] += 1
        elif result.outcome in (Outcome.UNCHANGED, Outcome.IGNORED):
            self._counts["unchanged"] += 1
        if result.status_changed:
            self._counts["status_changes"] += 1
        return item

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.run_id is None:
            return
        errors = self._errors + list(getattr(spider, "failures", []))
        cursor = None
        if hasattr(spider, "next_cursor") and self.store_failures == 0:
            cursor = spider.next_cursor()
        try:
            with self.Session.begin() as session:
                run = session.get(CrawlRun, self.run_id)
                assert run is not None
                run.fetched = self.fetched
                for name, value in self._counts.items():
                    setattr(run, name, value)
                for url, why in errors:
                    add_error(run, url, why)
                finish_run(session, run, now=self.now(), finish_reason=reason,
                           cursor=cursor, useful_responses=self.useful_responses)
                logger.info(
                    "crawl_run.finished source=%s run=%s status=%s fetched=%s new=%s changed=%s "
                    "failed=%s", spider.name, run.id, run.status, run.fetched, run.new,
                    run.changed, run.failed,
                )
        finally:
            self.engine.dispose()


def _observation(item: PolicyItem) -> Observation:
    identifiers = tuple(
        (scheme, value) for scheme, values in item.identifiers.items() for value in values
    )
    return Observation(
        source=item.source, key=item.key, url=item.url, fetched_at=item.fetched_at,
        title=item.title, text=item.text, doc_type=item.doc_type,
        published_at=item.published_at, identifiers=identifiers, status=dict(item.status),
        meta=dict(item.meta), removed=item.removed, fingerprint=item.fingerprint,
    )


def _match_doc(item: PolicyItem) -> MatchDoc:
    return MatchDoc(
        title=item.title, text=item.text, source=item.source, doc_type=item.doc_type,
        published_at=item.published_at, identifiers=item.identifiers,
    )
