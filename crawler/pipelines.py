"""Item pipelines: thin adapters from Scrapy to the archive (storage) and the monitors.

NormalizePipeline (100) rejects items without provenance and tidies values;
StorePipeline (400) writes the items that arrive together in one transaction (an item that
fails is retried on its own, so only it is lost), matches every new version against the active
watch topics in that same transaction (so a stored version and its matches are never apart),
and keeps the crawl account: one
``crawl_run`` row per spider run with fetched/new/changed/status/removed/failed counts, the
reasons of every failure, and the source's incremental cursor, which it advances only when the
run stored everything it received.

Spiders that sync incrementally expose ``cursor`` (a dict, filled from the archive here unless
the crawl was started with an explicit one) and ``next_cursor()``; spiders report failures they
handled themselves in ``failures`` (a list of (url, reason)).

In a shared crawl (crawler/scaleout.py) the coordinator's StorePipeline owns the run as above
and announces it; a helper's stores items under that run and, instead of closing the run,
reports its counts, failures and cursor proposal, which the coordinator adds to the account.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from datetime import UTC, datetime
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider, DropItem
from scrapy.http import Response
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from twisted.python.failure import Failure

from crawler.items import PolicyItem
from crawler.scaleout import SharedCrawl, merge_cursors
from crawler.spiders._base import UNUSABLE_STAT
from monitors.matching import MatchDoc
from monitors.text import clean
from storage.archive import (
    Observation, Outcome, Result, ensure_source, lock_observations, needs_index,
    record_observation, records_by_key,
)
from storage.db import check_schema, make_engine, session_factory
from storage.models import CrawlRun, Record, RunStatus, Source
from storage.runs import ERROR_LIMIT, add_error, finish_run, interrupted_runs, start_run
from storage.search import sync_records
from storage.topics import active_matcher, record_matches

logger = logging.getLogger(__name__)

#: Items stored in one transaction at most, and how long the first of them waits for more.
#: One commit per item cost ~10 % of the store time on SQLite (WAL commit, FTS5 segment) and a
#: third of the throughput on PostgreSQL (a WAL flush per commit): bench/RESULTS.md, crawl.
BATCH_ITEMS = 100
BATCH_SECONDS = 0.2


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
            scheme: list(dict.fromkeys(c for c in (clean(v) for v in values if v) if c))
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
        #: This process's part in a shared crawl (crawler/scaleout.py), or None.
        self.shared = SharedCrawl.of(crawler)

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
        try:
            # Two crawls of a new archive start at once: both may insert the source row; the
            # one that loses reads the other's (found by the fault matrix, tests/test_crash.py).
            with self.Session.begin() as session:
                ensure_source(session, getattr(spider, "source_slug", spider.name),
                              kind=getattr(spider, "source_kind", "spider"),
                              title=getattr(spider, "source_title", spider.name),
                              url=getattr(spider, "source_url", None))
        except IntegrityError:
            pass
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
            if self.shared is not None and not self.shared.coordinator:
                # A helper stores under the coordinator's run and leaves the account to it;
                # its spider continues from the cursor the coordinator's run started from.
                run_id = self.shared.run.get("run_id")
                run = session.get(CrawlRun, run_id) if run_id else None
                if run is None or run.status != RunStatus.RUNNING.value:
                    raise CloseSpider("no_shared_crawl")
                if hasattr(spider, "cursor"):
                    spider.cursor = dict(self.shared.run.get("cursor") or {})
            else:
                run = start_run(session, self.source, mode=self.mode, now=self.now(),
                                host=socket.gethostname(), pid=os.getpid())
                if hasattr(spider, "cursor"):
                    run.cursor_before = dict(spider.cursor)
            self.run_id = run.id
            # A crawl killed halfway (closed as interrupted when this one was claimed) is
            # completed by this run: its events are folded into as this run's own.
            self.resumes = interrupted_runs(session, run)
            self.source_id = self.source.id
        if self.shared is not None and self.shared.coordinator:
            self.shared.announce(run_id=run.id, cursor=dict(getattr(spider, "cursor", {})),
                                 clock=self.crawler.settings.get("WATCH_CLOCK"))
        self._pending: list[tuple[PolicyItem, asyncio.Future[Result]]] = []
        self._timer: asyncio.TimerHandle | None = None
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

    async def process_item(self, item: PolicyItem) -> PolicyItem:
        """Store the item, in one transaction with the items that arrive within BATCH_SECONDS
        (up to BATCH_ITEMS); returns once it is committed, DropItem if it could not be."""
        self._counts["items"] += 1
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Result] = loop.create_future()
        self._pending.append((item, future))
        if len(self._pending) >= BATCH_ITEMS:
            self._flush()
        elif self._timer is None:
            self._timer = loop.call_later(BATCH_SECONDS, self._flush)
        self._account(await future)
        return item

    def _flush(self) -> None:
        """Store the waiting items in one transaction; if any of them fails, nothing of the
        batch is kept and each is stored again on its own, so only what fails is lost."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        batch, self._pending = self._pending, []
        if not batch:
            return
        try:
            results = self._store_batch([item for item, _ in batch])
        except SQLAlchemyError as exc:
            # Normal only when the database refused an item; each is stored on its own now.
            logger.warning("store.batch_retried items=%d error=%s", len(batch),
                           type(exc).__name__)
            self.crawler.stats.inc_value("watch/store/batches_retried")
            for item, future in batch:
                try:
                    outcome = self._store_one(item)
                except Exception as exc:  # noqa: BLE001 - handed to the item's own await
                    if not future.done():
                        future.set_exception(exc)
                    continue
                if not future.done():
                    future.set_result(outcome)
            return
        for (_, future), result in zip(batch, results):
            if not future.done():
                future.set_result(result)

    def _store_batch(self, items: list[PolicyItem]) -> list[Result]:
        with self.Session.begin() as session:
            source = session.get(Source, self.source_id)
            assert source is not None
            observations = [_observation(item) for item in items]
            lock_observations(session, source, observations)
            known = records_by_key(session, source, [o.key for o in observations])
            stored = []
            seen: set[str] = set()
            for item, observation in zip(items, observations):
                # A key met again in the batch may have been created by the batch: looked up.
                up_to_date = known if observation.key not in seen else None
                seen.add(observation.key)
                stored.append(self._record(session, source, item, observation, up_to_date))
            sync_records(session, [result.record_id for result, _ in stored
                                   if needs_index(result)])
        self.crawler.stats.inc_value("watch/match/matches", sum(matched for _, matched in stored))
        return [result for result, _ in stored]

    def _store_one(self, item: PolicyItem) -> Result:
        observation = _observation(item)
        for attempt in (1, 2):
            try:
                with self.Session.begin() as session:
                    source = session.get(Source, self.source_id)
                    assert source is not None
                    result, matched = self._record(session, source, item, observation)
                    if needs_index(result):
                        sync_records(session, [result.record_id])
                self.crawler.stats.inc_value("watch/match/matches", matched)
                return result
            except IntegrityError:
                # Another crawler stored the same record between our read and write: read again.
                if attempt == 2:
                    raise
            except SQLAlchemyError as exc:
                self.store_failures += 1
                reason = f"could not store {item.key}: {type(exc).__name__}: {exc}"
                self._errors.append((item.url, reason))
                raise DropItem(f"not stored: {item.key}") from exc
        raise AssertionError("unreachable")

    def _record(self, session: Any, source: Source, item: PolicyItem,
                observation: Observation, known: dict[str, Record] | None = None
                ) -> tuple[Result, int]:
        """Record one observation and match its new version, if any: (result, matches)."""
        now = self.now()
        result = record_observation(
            session, source, observation, now=now, crawl_run_id=self.run_id,
            resumes=self.resumes, index=False, known=known,
        )
        matched = 0
        if result.version_id is not None:
            matched = record_matches(
                session, self.matcher.match(_match_doc(item)), self.topic_ids,
                document_id=result.document_id, version_id=result.version_id, now=now,
                fresh=True,  # record_observation made the version just now
            )
        return result, matched

    def _account(self, result: Result) -> None:
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

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.run_id is None:
            return
        # 2xx answers that were no answer (empty, a maintenance notice: crawler/middlewares.py,
        # or refused by the spider) did not come back in any useful sense.
        self.useful_responses -= min(self.useful_responses,
                                     self.crawler.stats.get_value(UNUSABLE_STAT, 0))
        errors = self._errors + list(getattr(spider, "failures", []))
        cursor = None
        if hasattr(spider, "next_cursor") and self.store_failures == 0:
            cursor = spider.next_cursor()
        if self.shared is not None and not self.shared.coordinator:
            self.shared.report({
                "reason": reason, "fetched": self.fetched, "useful": self.useful_responses,
                "counts": self._counts, "store_failures": self.store_failures,
                "errors": errors[:ERROR_LIMIT], "more_failures": max(0, len(errors) - ERROR_LIMIT),
                "cursor": cursor,
            })
            self.engine.dispose()
            return
        try:
            with self.Session.begin() as session:
                run = session.get(CrawlRun, self.run_id)
                assert run is not None
                run.fetched = self.fetched
                useful = self.useful_responses
                for name, value in self._counts.items():
                    setattr(run, name, value)
                for url, why in errors:
                    add_error(run, url, why)
                if self.shared is not None:
                    useful += self._add_helpers(run, spider, reason, cursor)
                    cursor = self._shared_cursor
                finish_run(session, run, now=self.now(), finish_reason=reason,
                           cursor=cursor, useful_responses=useful)
                logger.info(
                    "crawl_run.finished source=%s run=%s status=%s fetched=%s new=%s changed=%s "
                    "failed=%s", spider.name, run.id, run.status, run.fetched, run.new,
                    run.changed, run.failed,
                )
        finally:
            self.engine.dispose()
            if self.shared is not None:
                self.shared.cleanup()

    def _add_helpers(self, run: CrawlRun, spider: Spider, reason: str,
                     own_cursor: dict[str, Any] | None) -> int:
        """Coordinator: add the helpers' reports to the run and decide the shared cursor.

        The cursor advances only when the whole shared crawl was clean: every member finished,
        nothing failed, nobody was lost, nothing was left in the queue; then it is, per key,
        the newest value any member's spider proposed. Returns the helpers' useful responses.
        """
        assert self.shared is not None
        reports, lost, left = self.shared.collect()
        useful = 0
        for report in reports:
            run.fetched += report["fetched"]
            useful += report["useful"]
            for name, value in report["counts"].items():
                setattr(run, name, getattr(run, name) + value)
            for url, why in report["errors"]:
                add_error(run, url, why)
            run.failed += report["more_failures"]
        for member in lost:
            add_error(run, None, f"helper {member} stopped before it reported: requests it had "
                                 "taken may not have been crawled")
        if left:
            add_error(run, None, f"{left} requests were left in the shared queue")
        clean = (reason == "finished" and run.failed == 0 and own_cursor is not None
                 and all(r["reason"] == "finished" and r["store_failures"] == 0
                         and r["cursor"] is not None for r in reports))
        self._shared_cursor = (
            merge_cursors(dict(getattr(spider, "cursor", {})),
                          [own_cursor or {}] + [r["cursor"] for r in reports])
            if clean else None
        )
        logger.info("shared_crawl.finished source=%s helpers=%s lost=%s clean=%s",
                    spider.name, len(reports), len(lost), clean)
        return useful


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
