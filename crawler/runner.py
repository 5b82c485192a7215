"""Running spiders from our own commands: the real Scrapy engine, settings and pipelines.

``run_jobs`` runs batches of crawl jobs in one process and one reactor: the jobs of a batch run
at the same time (different sources), the batches one after another (the demo replays one
week, then the next). A listener gets progress events for a live display.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scrapy import signals
from scrapy.crawler import AsyncCrawlerRunner, Crawler
from scrapy.settings import Settings
from scrapy.spiderloader import SpiderLoader
from scrapy.utils.log import configure_logging

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
    """Run every batch of jobs to completion. Blocks; call at most once per process."""
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
    from twisted.internet import reactor

    runner = AsyncCrawlerRunner(base)
    loader = SpiderLoader.from_settings(base)
    outcome: list[BaseException] = []

    async def main() -> None:
        for batch in batches:
            tasks = []
            for job in batch:
                settings = base.copy()
                settings.set("WATCH_REPLAY_DIR", str(job.replay_dir) if job.replay_dir else None,
                             priority="cmdline")
                settings.set("WATCH_RECORD_DIR", str(job.record_dir) if job.record_dir else None,
                             priority="cmdline")
                if job.clock:
                    settings.set("WATCH_CLOCK", job.clock, priority="cmdline")
                for key, value in job.settings.items():
                    settings.set(key, value, priority="cmdline")
                crawler = Crawler(loader.load(job.spider), settings)
                if listener is not None:
                    _connect(crawler, job.label or job.spider, listener)
                kwargs = dict(job.spider_kwargs)
                if job.cursor:
                    kwargs["cursor"] = dict(job.cursor)
                tasks.append(runner.crawl(crawler, **kwargs))
            await asyncio.gather(*tasks)

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
