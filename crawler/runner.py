"""Running spiders from our own commands: the real Scrapy engine, settings and pipelines.

``run_jobs`` runs batches of crawl jobs in one process and one reactor: the jobs of a batch run
at the same time (different sources), the batches one after another (the demo replays one
week, then the next). A listener gets progress events for a live display.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scrapy import signals
from scrapy.crawler import AsyncCrawlerRunner, Crawler
from scrapy.settings import Settings
from scrapy.spiderloader import SpiderLoader
from scrapy.utils.log import configure_logging
from sqlalchemy.exc import SQLAlchemyError

from storage.db import make_engine, refresh_statistics
from storage.errors import DatabaseUnavailable
from storage.search_columns import prune_match_log

logger = logging.getLogger(__name__)

#: listener(source, event) with event in {"response", "item", "dropped", "error", "closed"}.
Listener = Callable[[str, str], None]


@dataclass
class CrawlJob:
    spider: str
    replay_dir: Path | None = None
    record_dir: Path | None = None
    #: Explicit start cursor (from a recording's manifest); None = the archive's stored cursor.
    cursor: dict[str, Any] | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    #: How progress events name this job (default: the spider name).
    label: str | None = None
    #: The time the archive records for this crawl (replay: the recording's), or None for now.
    clock: str | None = None
    #: Arguments for the spider (a researcher-added source: its slug, URL and title).
    spider_kwargs: dict[str, Any] = field(default_factory=dict)


def project_settings(**overrides: Any) -> Settings:
    """Our Scrapy settings (crawler/settings.py) plus overrides, independent of the cwd."""
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    for key, value in overrides.items():
        settings.set(key, value, priority="cmdline")
    return settings


#: Spiders that serve researcher-added sources (one crawl per configured source), not sources.
GENERIC_SPIDERS = {"feed", "page"}


def spider_names() -> list[str]:
    """The built-in sources: every spider except the generic feed and page spiders."""
    return sorted(set(SpiderLoader.from_settings(project_settings()).list()) - GENERIC_SPIDERS)


def enabled_sources() -> list[str]:
    """The built-in sources to visit by default: WATCH_SOURCES, or all when it is empty.
    An unknown name there is an error, not a silently skipped source."""
    names = spider_names()
    chosen = project_settings().getlist("WATCH_SOURCES")
    unknown = sorted(set(chosen) - set(names))
    if unknown:
        raise ValueError(f"WATCH_SOURCES names unknown sources: {', '.join(unknown)}; "
                         f"known: {', '.join(names)}")
    return [name for name in names if name in chosen] if chosen else names


def run_jobs(
    batches: Sequence[Sequence[CrawlJob]],
    *,
    database_url: str,
    log_level: str = "ERROR",
    log_file: str | None = None,
    listener: Listener | None = None,
) -> None:
    """Run every batch of jobs to completion. Blocks; call at most once per process.

    With WATCH_REDIS_URL set, each live crawl of a shareable source is the coordinator of a
    shared crawl (crawler/scaleout.py); ScaleOutError if Redis or the archive cannot do that.
    """
    base = _base_settings(database_url, log_level, log_file)
    from crawler.scaleout import check_setup, coordinates

    if any(coordinates(_job_settings(base, job), job.spider)
           for batch in batches for job in batch):
        check_setup(base.get("WATCH_REDIS_URL"), database_url)
    runner = AsyncCrawlerRunner(base)
    loader = SpiderLoader.from_settings(base)

    async def main() -> None:
        for batch in batches:
            tasks = []
            for job in batch:
                crawler = Crawler(loader.load(job.spider), _job_settings(base, job))
                if listener is not None:
                    _connect(crawler, job.label or job.spider, listener)
                kwargs = dict(job.spider_kwargs)
                if job.cursor:
                    kwargs["cursor"] = dict(job.cursor)
                tasks.append(runner.crawl(crawler, **kwargs))
            await asyncio.gather(*tasks)

    _run_reactor(main)
    _after_crawls(database_url)


def _after_crawls(database_url: str) -> None:
    """After the crawls: the archive's statistics, where the server does not keep them; the
    search columns' log of moved matches, when it has grown (SQLite)."""
    try:
        engine = make_engine(database_url)
    except DatabaseUnavailable:
        return
    try:
        if refresh_statistics(engine):
            logger.info("archive statistics refreshed (PostgreSQL autovacuum is off)")
        with engine.begin() as connection:
            if removed := prune_match_log(connection):
                logger.info("search: %d logged match moves removed; columns reload", removed)
    except SQLAlchemyError as exc:  # a crawl's result does not depend on it
        logger.warning("archive upkeep after the crawls failed: %s", exc)
    finally:
        engine.dispose()


def _job_settings(base: Settings, job: CrawlJob) -> Settings:
    settings = base.copy()
    settings.set("WATCH_REPLAY_DIR", str(job.replay_dir) if job.replay_dir else None,
                 priority="cmdline")
    settings.set("WATCH_RECORD_DIR", str(job.record_dir) if job.record_dir else None,
                 priority="cmdline")
    if job.clock:
        settings.set("WATCH_CLOCK", job.clock, priority="cmdline")
    for key, value in job.settings.items():
        settings.set(key, value, priority="cmdline")
    return settings


def _base_settings(database_url: str, log_level: str, log_file: str | None) -> Settings:
    base = project_settings(
        WATCH_DATABASE_URL=database_url,
        LOG_LEVEL=log_level,
        LOG_FILE=log_file,
        LOG_INSTALL_ROOT_HANDLER=True,
    )
    configure_logging(base)
    logging.getLogger("scrapy").setLevel(log_level)

    from scrapy.utils.reactor import install_reactor

    install_reactor("twisted.internet.asyncioreactor.AsyncioSelectorReactor")
    return base


def _run_reactor(main: Callable[[], Any]) -> None:
    """Run ``main()`` (a coroutine function) on the reactor until it returns; re-raise its
    exception."""
    from twisted.internet import reactor

    outcome: list[BaseException] = []

    def _start() -> None:
        task = asyncio.ensure_future(main())

        def _done(fut: asyncio.Future[None]) -> None:
            if fut.exception() is not None:
                outcome.append(fut.exception())  # type: ignore[arg-type]
            reactor.stop()  # type: ignore[attr-defined]

        task.add_done_callback(_done)

    reactor.callWhenRunning(_start)  # type: ignore[attr-defined]
    reactor.run(installSignalHandlers=True)  # type: ignore[attr-defined]
    if outcome:
        raise outcome[0]


def run_worker(
    sources: Sequence[str],
    *,
    database_url: str,
    wait: float | None = None,
    once: bool = False,
    log_level: str = "ERROR",
    log_file: str | None = None,
    listener: Listener | None = None,
    say: Callable[[str], None] = print,
) -> dict[str, int]:
    """Help the shared crawls of ``sources`` as coordinators announce them (crawler/scaleout.py).

    ``once``: stop when each source has been helped once; ``wait``: give up when nothing was
    announced within this many seconds. Otherwise runs until interrupted. Blocks; call at most
    once per process. Returns how many crawls of each source were helped; ``say`` hears what
    happens (waiting, joined, done with how many items this process stored).
    """
    from crawler.scaleout import (
        SHAREABLE, ScaleOutError, announced, check_setup, crawl_settings, join, new_member,
        redis_client,
    )

    base = _base_settings(database_url, log_level, log_file)
    redis_url = base.get("WATCH_REDIS_URL")
    check_setup(redis_url, database_url)
    unshareable = [s for s in sources if s not in SHAREABLE]
    if unshareable:
        raise ScaleOutError(f"{', '.join(unshareable)} cannot be shared; these can: "
                            f"{', '.join(sorted(SHAREABLE))}")
    prefix = base.get("WATCH_REDIS_PREFIX")
    redis = redis_client(redis_url)
    runner = AsyncCrawlerRunner(base)
    loader = SpiderLoader.from_settings(base)
    helped = dict.fromkeys(sources, 0)
    items = dict.fromkeys(sources, 0)

    def count(source: str, event: str) -> None:
        if event == "item":
            items[source] += 1
        elif event == "closed":
            say(f"{source}: done, {items[source]} items stored by this worker")
        if listener is not None:
            listener(source, event)

    async def main() -> None:
        say(f"waiting for shared crawls of {', '.join(sources)}")
        started = time.monotonic()
        seen: set[str] = set()
        running: dict[str, Any] = {}
        while True:
            for source in sources:
                if (source in running and not running[source].done()) or (once and helped[source]):
                    continue
                info = announced(redis, prefix, source)
                if info is None or info["crawl_id"] in seen:
                    continue
                seen.add(info["crawl_id"])
                member = new_member()
                if not join(redis, prefix, source, info["crawl_id"], member):
                    continue
                settings = base.copy()
                if info.get("clock"):
                    settings.set("WATCH_CLOCK", info["clock"], priority="cmdline")
                shared = crawl_settings(redis_url, prefix, source, role="helper",
                                        crawl_id=info["crawl_id"], run=info, member=member,
                                        concurrency=base.getint("CONCURRENT_REQUESTS_PER_DOMAIN"))
                for key, value in shared.items():
                    settings.set(key, value, priority="cmdline")
                crawler = Crawler(loader.load(source), settings)
                items[source] = 0
                _connect(crawler, source, count)
                say(f"{source}: joined crawl {info['crawl_id']} (run {info['run_id']}) as {member}")
                running[source] = asyncio.ensure_future(
                    runner.crawl(crawler, cursor=dict(info["cursor"])))
                helped[source] += 1
            if once and all(helped.values()):
                break
            if wait is not None and not any(helped.values()) \
                    and time.monotonic() - started > wait:
                break
            await asyncio.sleep(0.5)
        await asyncio.gather(*running.values())

    _run_reactor(main)
    return helped


def _connect(crawler: Crawler, name: str, listener: Listener) -> None:
    def on(event: str) -> Callable[..., None]:
        def handler(*_args: Any, **_kwargs: Any) -> None:
            listener(name, event)

        return handler

    # Keep references: Scrapy's signal manager holds only weak references to receivers.
    crawler._watch_handlers = [  # type: ignore[attr-defined]
        (on("response"), signals.response_received),
        (on("item"), signals.item_scraped),
        (on("dropped"), signals.item_dropped),
        (on("error"), signals.spider_error),
        (on("closed"), signals.spider_closed),
    ]
    for handler, signal in crawler._watch_handlers:  # type: ignore[attr-defined]
        crawler.signals.connect(handler, signal=signal)
