"""Topics in the archive: saving with history, matching stored versions, backfill and backtests.

Matching itself is ``monitors.matching``; this module feeds it what the archive holds and writes
``match`` rows (one per topic and version, with the hits as the reason).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from monitors.matching import LOCAL, Matcher, MatchDoc, TopicMatch, prepare
from monitors.topics import Topic as TopicDefinition
from monitors.topics import validate
from storage.fastinsert import FastInsert
from storage.models import Document, Identifier, Match, Record, Source, Topic, TopicRevision, Version


def definition_of(row: Topic) -> TopicDefinition:
    examples = row.examples or {}
    return TopicDefinition(
        slug=row.slug, title=row.title, query=row.query, description=row.description,
        variants=dict(row.variants or {}), exclusions=row.exclusions or "", owner=row.owner,
        active=row.active, examples_match=list(examples.get("match", [])),
        examples_no_match=list(examples.get("no_match", [])),
    )


def get_topic(session: Session, slug: str) -> Topic | None:
    return session.scalars(select(Topic).where(Topic.slug == slug)).one_or_none()


def list_topics(session: Session, *, active_only: bool = False) -> list[Topic]:
    query = select(Topic).order_by(Topic.slug)
    if active_only:
        query = query.where(Topic.active.is_(True))
    return list(session.scalars(query))


def save_topic(
    session: Session, topic: TopicDefinition, *, by: str | None, now: datetime,
    action: str | None = None,
) -> tuple[Topic, bool]:
    """Create or update a topic (validated) and add a revision; returns (row, created)."""
    validate(topic)
    row = get_topic(session, topic.slug)
    created = row is None
    if row is None:
        row = Topic(slug=topic.slug, created_at=now, created_by=by)
        session.add(row)
    row.title = topic.title
    row.description = topic.description
    row.query = topic.query
    row.variants = dict(topic.variants)
    row.exclusions = topic.exclusions
    row.owner = topic.owner
    row.active = topic.active
    row.examples = {"match": list(topic.examples_match),
                    "no_match": list(topic.examples_no_match)}
    row.updated_at = now
    row.updated_by = by
    session.flush()
    _revise(session, row, by=by, now=now, action=action or ("created" if created else "edited"))
    return row, created


def set_active(session: Session, row: Topic, active: bool, *, by: str | None, now: datetime) -> None:
    row.active = active
    row.updated_at = now
    row.updated_by = by
    session.flush()
    _revise(session, row, by=by, now=now, action="enabled" if active else "disabled")


def _revise(session: Session, row: Topic, *, by: str | None, now: datetime, action: str) -> None:
    number = (session.scalar(
        select(func.max(TopicRevision.number)).where(TopicRevision.topic_id == row.id)
    ) or 0) + 1
    session.add(TopicRevision(
        topic_id=row.id, number=number, changed_at=now, changed_by=by, action=action,
        definition=definition_of(row).to_toml_dict() | {"active": row.active},
    ))
    session.flush()


def revisions(session: Session, row: Topic) -> list[TopicRevision]:
    return list(session.scalars(
        select(TopicRevision).where(TopicRevision.topic_id == row.id)
        .order_by(TopicRevision.number)
    ))


def active_matcher(session: Session) -> tuple[Matcher, dict[str, int]]:
    """A Matcher of every active topic, and topic ids by slug."""
    rows = list_topics(session, active_only=True)
    return Matcher(definition_of(r).as_query() for r in rows), {r.slug: r.id for r in rows}


_INSERT_MATCH = FastInsert(Match.__table__, ("topic_id", "document_id", "version_id", "strength",
                                             "reason", "matched_at"))


def record_matches(
    session: Session, matches: Sequence[TopicMatch], topic_ids: dict[str, int], *,
    document_id: int, version_id: int, now: datetime, fresh: bool = False,
) -> int:
    """Store matches of one version (skipping ones already stored); returns how many were new.
    ``fresh``: the version was made in this transaction, so it has none yet."""
    if not matches:
        return 0
    existing = set() if fresh else set(session.scalars(
        select(Match.topic_id).where(Match.version_id == version_id)
    ))
    rows = [{"topic_id": topic_ids[match.topic], "document_id": document_id,
             "version_id": version_id, "strength": match.strength,
             "reason": {"hits": [h.as_dict() for h in match.hits]}, "matched_at": now}
            for match in matches if topic_ids[match.topic] not in existing]
    if rows:
        _INSERT_MATCH.many(session.connection(), rows)
    return len(rows)


@dataclass(frozen=True)
class StoredVersion:
    version: Version
    record: Record
    source: str
    doc: MatchDoc


def iter_versions(
    session: Session, *, latest_only: bool = False, batch: int = 500,
    since: date | None = None, until: date | None = None,
) -> Iterator[StoredVersion]:
    """Stored versions with what matching needs, in batches (identifiers loaded per batch).

    ``since``/``until`` (inclusive, Europe/Amsterdam days) filter on the version's publication
    date, or on when it was fetched if the source gave none.
    """
    query = (
        select(Version, Record, Source.slug)
        .join(Record, Version.record_id == Record.id)
        .join(Source, Record.source_id == Source.id)
        .order_by(Version.id)
    )
    if latest_only:
        newest = (select(func.max(Version.id)).group_by(Version.record_id)).scalar_subquery()
        query = query.where(Version.id.in_(newest))
    last_id = 0
    while True:
        rows = session.execute(query.where(Version.id > last_id).limit(batch)).all()
        if not rows:
            return
        last_id = rows[-1][0].id
        record_ids = {record.id for _, record, _ in rows}
        found: dict[int, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        for record_id, scheme, value in session.execute(
            select(Identifier.record_id, Identifier.scheme, Identifier.value)
            .where(Identifier.record_id.in_(record_ids))
        ):
            found[record_id][scheme].append(value)
        for version, record, slug in rows:
            day = _day(version)
            if (since and day < since) or (until and day > until):
                continue
            yield StoredVersion(version, record, slug, MatchDoc(
                title=version.title, text=version.text, source=slug, doc_type=version.doc_type,
                published_at=version.published_at, identifiers=found.get(record.id, {}),
            ))


def _day(version: Version) -> date:
    return (version.published_at or version.fetched_at).astimezone(LOCAL).date()


def backfill(session: Session, rows: Iterable[Topic], *, now: datetime) -> int:
    """(Re)match every stored version against these topics; returns the number of matches.

    Existing matches of the topics are replaced: after an edit, the old query's matches go.
    """
    rows = list(rows)
    if not rows:
        return 0
    ids = [r.id for r in rows]
    session.execute(delete(Match).where(Match.topic_id.in_(ids)))
    matcher = Matcher(definition_of(r).as_query() for r in rows)
    topic_ids = {r.slug: r.id for r in rows}
    total = 0
    for stored in iter_versions(session):
        matches = matcher.match(stored.doc)
        total += record_matches(session, matches, topic_ids, document_id=stored.version.document_id,
                                version_id=stored.version.id, now=now)
    return total


@dataclass(frozen=True)
class BacktestHit:
    document_id: int
    title: str
    doc_type: str | None
    source: str
    day: date
    match: TopicMatch


@dataclass(frozen=True)
class Backtest:
    hits: list[BacktestHit]
    weekly: dict[str, int]  # ISO week ("2026-W47") → documents first matched that week
    documents_checked: int


def backtest(session: Session, matcher: Matcher, *, since: date | None = None,
             until: date | None = None, latest_only: bool = False) -> Backtest:
    """What ``matcher`` (one topic or query) would have matched: one hit per document (its
    newest matching version), counted per ISO week of publication. ``latest_only`` looks at
    each record's current version only (search: what the archive says now)."""
    best: dict[int, BacktestHit] = {}
    checked: set[int] = set()
    for stored in iter_versions(session, since=since, until=until, latest_only=latest_only):
        checked.add(stored.version.document_id)
        matches = matcher.match(prepare(stored.doc))
        if not matches:
            continue
        best[stored.version.document_id] = BacktestHit(
            stored.version.document_id, stored.version.title, stored.version.doc_type,
            stored.source, _day(stored.version), matches[0],
        )
    weekly: dict[str, int] = defaultdict(int)
    for hit in best.values():
        year, week, _ = hit.day.isocalendar()
        weekly[f"{year}-W{week:02d}"] += 1
    hits = sorted(best.values(), key=lambda h: (h.day, h.document_id), reverse=True)
    return Backtest(hits, dict(sorted(weekly.items())), len(checked))


def weeks_between(first: date, last: date) -> list[str]:
    """Every ISO week label from ``first`` to ``last`` (for volume tables with empty weeks)."""
    labels, day = [], first - timedelta(days=first.weekday())
    while day <= last:
        year, week, _ = day.isocalendar()
        labels.append(f"{year}-W{week:02d}")
        day += timedelta(days=7)
    return labels


def document_ids_matching(session: Session, topic: Topic) -> set[int]:
    return set(session.scalars(select(Match.document_id).where(Match.topic_id == topic.id)))


def topic_counts(session: Session) -> dict[int, tuple[int, int]]:
    """Per topic id: (documents matched strongly, documents matched weakly only)."""
    result: dict[int, tuple[int, int]] = {}
    strong = dict(session.execute(
        select(Match.topic_id, func.count(func.distinct(Match.document_id)))
        .where(Match.strength == "strong").group_by(Match.topic_id)
    ).all())
    every = dict(session.execute(
        select(Match.topic_id, func.count(func.distinct(Match.document_id))).group_by(Match.topic_id)
    ).all())
    for topic_id, total in every.items():
        result[topic_id] = (strong.get(topic_id, 0), total - strong.get(topic_id, 0))
    return result


def recent_matches(session: Session, topic: Topic, limit: int = 10) -> list[tuple[Match, Document]]:
    return list(session.execute(
        select(Match, Document).join(Document, Match.document_id == Document.id)
        .where(Match.topic_id == topic.id).order_by(Match.id.desc()).limit(limit)
    ).all())


def import_topics(
    session: Session, topics: Iterable[TopicDefinition], *, by: str | None, now: datetime,
) -> tuple[list[str], list[str], int]:
    """Create or update topics from definitions and match the archive against the changed ones.

    Returns (created slugs, updated slugs, matches stored). A topic whose definition is the
    same as in the archive is left alone (no revision, no re-matching).
    """
    created, updated, changed_rows = [], [], []
    for topic in topics:
        row = get_topic(session, topic.slug)
        if row is not None and definition_of(row).to_toml_dict() == topic.to_toml_dict() \
                and row.active == topic.active:
            continue
        row, is_new = save_topic(session, topic, by=by, now=now, action="imported")
        (created if is_new else updated).append(topic.slug)
        changed_rows.append(row)
    matches = backfill(session, changed_rows, now=now)
    return created, updated, matches
