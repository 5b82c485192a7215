"""Crawl-run accounting: every visit to a source leaves a row saying what came back and why not."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.columns import jsonable
from storage.models import CrawlRun, Document, Record, RunStatus, Source

#: At most this many error entries are kept per run; the count in `failed` is always complete.
ERROR_LIMIT = 200


def start_run(
    session: Session, source: Source, *, mode: str, now: datetime,
    host: str | None = None, pid: int | None = None,
) -> CrawlRun:
    run = CrawlRun(
        source_id=source.id,
        started_at=now,
        status=RunStatus.RUNNING.value,
        mode=mode,
        host=host,
        pid=pid,
        errors=[],
        cursor_before=dict(source.cursor or {}),
        cursor_after=dict(source.cursor or {}),
    )
    session.add(run)
    session.flush()
    return run


def interrupted_runs(session: Session, run: CrawlRun) -> list[int]:
    """The runs of ``run``'s source that were interrupted just before it (killed, closed as
    ``interrupted``), newest first, up to the last run that ended on its own: ``run`` completes
    their visit, so their unreported events are folded into as its own (record_observation's
    ``resumes``)."""
    earlier = session.scalars(
        select(CrawlRun)
        .where(CrawlRun.source_id == run.source_id, CrawlRun.id != run.id,
               CrawlRun.started_at <= run.started_at)
        .order_by(CrawlRun.started_at.desc(), CrawlRun.id.desc())
        .limit(20)
    ).all()
    resumed = []
    for previous in earlier:
        if previous.finish_reason != "interrupted":
            break
        resumed.append(previous.id)
    return resumed


def add_error(run: CrawlRun, url: str | None, reason: str) -> None:
    """Count a failure and keep its reason (the first ERROR_LIMIT of them)."""
    run.failed += 1
    if len(run.errors) < ERROR_LIMIT:
        run.errors = [*run.errors, {"url": url, "reason": reason}]


def finish_run(
    session: Session,
    run: CrawlRun,
    *,
    now: datetime,
    finish_reason: str,
    cursor: dict[str, Any] | None,
    useful_responses: int | None = None,
) -> CrawlRun:
    """Close the run, decide its status and, if given, advance the source's cursor.

    ``useful_responses`` counts successful (2xx) responses that were answers (not empty, not a
    maintenance notice: crawler/middlewares.py); a run with failures that stored nothing and
    got no such response is ``failed``, otherwise ``partial``.
    """
    run.finished_at = now
    run.finish_reason = finish_reason
    stored = run.new + run.changed + run.status_changes + run.removed + run.unchanged
    if finish_reason != "finished" and not run.errors:
        add_error(run, None, f"crawl stopped early: {finish_reason}")
    useful = run.fetched if useful_responses is None else useful_responses
    if run.failed == 0:
        run.status = RunStatus.OK.value
    elif stored > 0 or useful > 0:
        run.status = RunStatus.PARTIAL.value
    else:
        run.status = RunStatus.FAILED.value
    if cursor is not None:
        source = session.get(Source, run.source_id)
        assert source is not None
        source.cursor = jsonable(cursor)
        run.cursor_after = jsonable(cursor)
    return run


@dataclass(frozen=True)
class SourceHealth:
    slug: str
    title: str
    kind: str
    records: int
    documents: int
    last_run: CrawlRun | None
    last_success_at: datetime | None
    cursor: dict[str, Any]

    @property
    def health(self) -> str:
        """ok | partial | failed | never — of the most recent run."""
        if self.last_run is None:
            return "never"
        return self.last_run.status


def source_health(session: Session) -> list[SourceHealth]:
    """Every known source with its record count, last run and last successful run."""
    result = []
    for source in session.scalars(select(Source).order_by(Source.slug)):
        last = session.scalars(
            select(CrawlRun)
            .where(CrawlRun.source_id == source.id)
            .order_by(CrawlRun.started_at.desc(), CrawlRun.id.desc())
            .limit(1)
        ).one_or_none()
        last_ok = session.scalar(
            select(func.max(CrawlRun.finished_at)).where(
                CrawlRun.source_id == source.id, CrawlRun.status == RunStatus.OK.value
            )
        )
        records = session.scalar(
            select(func.count(Record.id)).where(Record.source_id == source.id)
        ) or 0
        documents = session.scalar(
            select(func.count(func.distinct(Document.id)))
            .join(Record, Record.document_id == Document.id)
            .where(Record.source_id == source.id)
        ) or 0
        result.append(
            SourceHealth(
                slug=source.slug, title=source.title, kind=source.kind, records=records,
                documents=documents, last_run=last, last_success_at=last_ok,
                cursor=dict(source.cursor or {}),
            )
        )
    return result


@dataclass(frozen=True)
class Busy:
    source: str
    host: str | None
    pid: int | None
    started_at: datetime


#: A run on another machine that has not finished after this long is taken to have died.
STALE_AFTER = timedelta(hours=12)


def busy_sources(
    session: Session, slugs: list[str], *, host: str, alive: Callable[[int], bool],
    now: datetime,
) -> list[Busy]:
    """Sources a live process is crawling now. Runs left `running` by a process that is gone
    (this machine: its pid no longer lives; elsewhere: older than STALE_AFTER) are closed as
    interrupted, with the reason in their account, so they never block again."""
    busy = []
    rows = session.execute(
        select(CrawlRun, Source.slug).join(Source, CrawlRun.source_id == Source.id)
        .where(Source.slug.in_(slugs), CrawlRun.status == RunStatus.RUNNING.value)
    ).all()
    for run, slug in rows:
        if run.host == host:
            running = run.pid is not None and alive(run.pid)
        else:
            running = now - run.started_at < STALE_AFTER
        if running:
            busy.append(Busy(slug, run.host, run.pid, run.started_at))
            continue
        run.status = RunStatus.FAILED.value
        run.finished_at = now
        run.finish_reason = "interrupted"
        add_error(run, None, f"interrupted: process {run.pid} on {run.host} ended without "
                             "finishing this run")
    session.flush()
    return busy
