"""Read-side queries for the command line and reports: totals and recent change events."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.models import (
    ChangeEvent,
    CrawlRun,
    Document,
    Identifier,
    Record,
    Source,
    Version,
)


@dataclass(frozen=True)
class Totals:
    sources: int
    documents: int
    records: int
    versions: int
    identifiers: int
    events: dict[str, int]


def totals(session: Session) -> Totals:
    def count(column: object) -> int:
        return session.scalar(select(func.count(column))) or 0  # type: ignore[arg-type]

    events = dict(
        session.execute(
            select(ChangeEvent.kind, func.count(ChangeEvent.id)).group_by(ChangeEvent.kind)
        ).all()
    )
    return Totals(
        sources=count(Source.id),
        documents=count(Document.id),
        records=count(Record.id),
        versions=count(Version.id),
        identifiers=count(Identifier.id),
        events=events,
    )


@dataclass(frozen=True)
class EventRow:
    event: ChangeEvent
    record: Record
    source_slug: str
    identifiers: dict[str, list[str]]


def events_of_runs(session: Session, run_ids: Sequence[int]) -> list[EventRow]:
    """The change events the given crawl runs produced, oldest first, with their records."""
    if not run_ids:
        return []
    rows = session.execute(
        select(ChangeEvent, Record, Source.slug)
        .join(Record, ChangeEvent.record_id == Record.id)
        .join(Source, Record.source_id == Source.id)
        .where(ChangeEvent.crawl_run_id.in_(run_ids))
        .order_by(ChangeEvent.id)
    )
    result = []
    for event, record, slug in rows:
        ids: dict[str, list[str]] = {}
        for scheme, value in session.execute(
            select(Identifier.scheme, Identifier.value)
            .where(Identifier.record_id == record.id)
            .order_by(Identifier.id)
        ):
            ids.setdefault(scheme, []).append(value)
        result.append(EventRow(event, record, slug, ids))
    return result


def runs_after(session: Session, run_id: int) -> list[CrawlRun]:
    """Crawl runs with an id above ``run_id`` (the runs one command started), in order."""
    return list(
        session.scalars(select(CrawlRun).where(CrawlRun.id > run_id).order_by(CrawlRun.id))
    )


def last_run_id(session: Session) -> int:
    return session.scalar(select(func.max(CrawlRun.id))) or 0
