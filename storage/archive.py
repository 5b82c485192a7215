"""Recording what a source said: records, append-only versions and typed change events.

``record_observation`` is the one way anything enters the archive. It is idempotent: feeding the
same observation twice stores nothing the second time, so a re-run crawl (or a source that
re-publishes a burst of unchanged rows) never duplicates records, versions or events.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo
from typing import Any

from sqlalchemy import bindparam, or_, select, text, update
from sqlalchemy.orm import Session, selectinload

from monitors.text import clean, word_runs, words
from storage.columns import jsonable
from storage.fastinsert import FastInsert
from storage.identity import (
    STRONG_SCHEMES, RecordFacts, find_document, find_join, index_title, join_reason,
    merge_documents, record_day,
)
from storage.models import (
    ChangeEvent, CrawlRun, DigestEntry, Document, EventKind, Identifier, Record, RunStatus, Source,
    Version,
)
from storage.search import sync_record


AMSTERDAM = ZoneInfo("Europe/Amsterdam")


@dataclass(frozen=True)
class Observation:
    """What one source said about one record at one moment: the archive's input.

    ``key`` is the source's own stable id for the record (never a row number); ``identifiers``
    are the (scheme, value) pairs the source states, e.g. ("kamerstuk", "kst-36547-3").
    ``status`` holds facets of where the item stands (a vote, a stage); a change of a facet is a
    ``status`` event, not a new version. ``removed`` marks a deletion at the source.
    """

    source: str
    key: str
    url: str
    fetched_at: datetime
    title: str = ""
    text: str = ""
    doc_type: str | None = None
    published_at: datetime | None = None
    identifiers: tuple[tuple[str, str], ...] = ()
    status: Mapping[str, str] = field(default_factory=dict)
    meta: Mapping[str, Any] = field(default_factory=dict)
    removed: bool = False
    #: Compared instead of title + text when given (noise masked by the spider).
    fingerprint: str | None = None


class Outcome(enum.StrEnum):
    NEW = "new"
    CHANGED = "changed"  # content changed (a status facet may have changed too)
    STATUS = "status"  # only status facets changed
    UNCHANGED = "unchanged"
    REMOVED = "removed"
    IGNORED = "ignored"  # a removal of something we never had, or already removed


@dataclass(frozen=True)
class RecordedEvent:
    """What a Result tells of a change event it recorded (the row is ``ChangeEvent`` ``id``)."""

    id: int
    kind: str
    detail: Mapping[str, Any]

    @classmethod
    def of(cls, event: ChangeEvent) -> RecordedEvent:
        return cls(event.id, event.kind, event.detail)


@dataclass
class Result:
    outcome: Outcome
    record_id: int | None = None
    document_id: int | None = None
    version_id: int | None = None
    events: list[RecordedEvent] = field(default_factory=list)

    @property
    def status_changed(self) -> bool:
        return any(e.kind == EventKind.STATUS for e in self.events)


def scheduled_from(status: Mapping[str, Any]) -> datetime | None:
    """The moment a `datum` status facet ("2026-12-03 10:00", Amsterdam time) names, in UTC."""
    value = str(status.get("datum") or "").strip()
    if not value:
        return None  # most records: no strptime failures to pay for
    for pattern in ("%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            local = datetime.strptime(value[:16] if " " in value else value[:10], pattern)
        except ValueError:
            continue
        return local.replace(tzinfo=AMSTERDAM).astimezone(UTC)
    return None


def content_hash(title: str, text: str, fingerprint: str | None = None) -> str:
    """SHA-256 of the normalised title and text (or the fingerprint): what counts as 'the
    content changed'."""
    payload = clean(title) + "\n" + clean(text if fingerprint is None else fingerprint)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def ensure_source(
    session: Session, slug: str, *, kind: str, title: str, url: str | None = None
) -> Source:
    """The Source row for ``slug``, created on first use."""
    source = session.scalars(select(Source).where(Source.slug == slug)).one_or_none()
    if source is None:
        source = Source(slug=slug, kind=kind, title=title, url=url, config={}, cursor={})
        session.add(source)
        session.flush()
    return source


#: Built once: building the statement cost as much as running it (bench/RESULTS.md, crawl).
_RECORD_BY_KEY = select(Record).where(Record.source_id == bindparam("source_id"),
                                      Record.key == bindparam("key"))


def record_observation(
    session: Session,
    source: Source,
    obs: Observation,
    *,
    now: datetime,
    crawl_run_id: int | None = None,
    resumes: Collection[int] = (),
    index: bool = True,
    known: Mapping[str, Record] | None = None,
) -> Result:
    """Store ``obs`` and return what it meant. The caller owns the transaction (commit/rollback).

    ``resumes`` names interrupted earlier runs of the source that this run completes: status
    changes fold into their unreported events as into this run's own, so a crawl killed halfway
    and run again leaves the events one clean run would have left. ``index=False``: the caller
    brings the search index up to date itself, before it commits (``needs_index`` and
    ``storage.search.sync_records``, for a batch at once). ``known``: the source's records read
    for a batch at once (``records_by_key``, after ``lock_observations``) and still up to date
    for ``obs.key``: a key missing from it has no record yet.
    """
    lock_observations(session, source, [obs])
    if known is not None:
        record = known.get(obs.key)
    else:
        record = session.scalars(_RECORD_BY_KEY, {"source_id": source.id, "key": obs.key}
                                 ).one_or_none()

    if obs.removed:
        result = _remove(session, record, now=now, crawl_run_id=crawl_run_id)
    elif record is None:
        result = _create(session, source, obs, now=now, crawl_run_id=crawl_run_id)
    else:
        result = _update(session, record, obs, now=now, crawl_run_id=crawl_run_id,
                         resumes=resumes)
    if index and needs_index(result):
        # The search index follows in the same transaction (a new version, identifiers, a
        # merge, a removal or restoration); cheap when none of that changed.
        sync_record(session, result.record_id)
    return result


#: Keys per query of ``records_by_key`` (SQLite allows 32,766 bound parameters).
KEYS_PER_QUERY = 500


def records_by_key(session: Session, source: Source, keys: Collection[str]) -> dict[str, Record]:
    """The source's records with these keys and their identifiers, read in two queries per
    ``KEYS_PER_QUERY``: a batch's lookups at once instead of one ORM query per observation
    (each of which also flushed the batch's earlier changes first)."""
    wanted = sorted(set(keys))
    found: dict[str, Record] = {}
    for start in range(0, len(wanted), KEYS_PER_QUERY):
        chunk = wanted[start:start + KEYS_PER_QUERY]
        for record in session.scalars(select(Record)
                                      .where(Record.source_id == source.id, Record.key.in_(chunk))
                                      .options(selectinload(Record.identifiers))):
            found[record.key] = record
    return found


def needs_index(result: Result) -> bool:
    """Whether the search index must look at the record ``result`` is about."""
    return result.record_id is not None and result.outcome is not Outcome.IGNORED


def lock_observations(session: Session, source: Source, observations: Sequence[Observation]
                      ) -> None:
    """PostgreSQL: make concurrent writers (the processes of a shared crawl, crawler/scaleout.py)
    take turns on the same record and on records sharing a strong identifier, as one process
    would: otherwise two could each create the record, or each miss the other's document and
    start a second one for the same work. Transaction-scoped advisory locks, all of a
    transaction's taken at once in one global order (a caller storing several observations in
    one transaction passes them all first), so two transactions never wait on each other.
    SQLite has one writer anyway."""
    bind = session.get_bind()
    if bind.dialect.name != "postgresql" or not observations:
        return
    names = [f"record:{source.id}:{obs.key}" for obs in observations]
    names += [f"id:{scheme}:{value}" for obs in observations for scheme, value in obs.identifiers
              if scheme in STRONG_SCHEMES]
    keys = sorted({int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big",
                                  signed=True) for name in names})
    # The select list is evaluated left to right: the locks are taken in the sorted order.
    session.execute(text("SELECT " + ", ".join(
        f"pg_advisory_xact_lock(:k{i})" for i in range(len(keys)))),
        {f"k{i}": key for i, key in enumerate(keys)})


# The rows of a new record, written on the driver's cursor (storage/fastinsert.py): Core's
# execute cost as much per statement as the database's work (bench/RESULTS.md, crawl).
_INSERT_DOCUMENT = FastInsert(Document.__table__, (
    "title", "doc_type", "published_at", "first_seen_at", "last_changed_at"), returning_id=True)
_INSERT_RECORD = FastInsert(Record.__table__, (
    "source_id", "document_id", "key", "url", "title", "doc_type", "content_hash", "status",
    "scheduled_at", "first_seen_at", "last_seen_at", "joined_by"), returning_id=True)
_INSERT_VERSION = FastInsert(Version.__table__, (
    "record_id", "document_id", "number", "content_hash", "title", "text", "doc_type",
    "published_at", "meta", "fetched_at", "crawl_run_id", "created_at"), returning_id=True)
_INSERT_EVENT = FastInsert(ChangeEvent.__table__, (
    "kind", "document_id", "record_id", "version_id", "crawl_run_id", "detected_at", "detail"),
    returning_id=True)
_INSERT_IDENTIFIER = FastInsert(Identifier.__table__, ("record_id", "document_id", "scheme",
                                                       "value"))


def _create(
    session: Session, source: Source, obs: Observation, *, now: datetime, crawl_run_id: int | None
) -> Result:
    """A record the source states for the first time. Its rows are written with one statement
    each (document, record, identifiers, title keys, version, event) on the driver's cursor: no
    ORM unit of work, which cost three quarters of storing a new record (bench/RESULTS.md,
    crawl)."""
    title = clean(obs.title)
    digest = content_hash(obs.title, obs.text, obs.fingerprint)
    # A shared strong identifier, a re-issue, or a near-duplicate (storage.identity).
    facts = _facts(source, obs, seen_at=now)
    join = find_join(session, facts)
    connection = session.connection()
    if join is not None:
        document_id = join.document_id
        _touch_document(session, document_id, now)
        joined_by: dict[str, Any] | None = join.reason
    else:
        document_id = _INSERT_DOCUMENT.one(
            connection,
            {"title": title, "doc_type": obs.doc_type, "published_at": obs.published_at,
             "first_seen_at": now, "last_changed_at": now},
        )
        joined_by = None
    record_id = _INSERT_RECORD.one(
        connection,
        {"source_id": source.id, "document_id": document_id, "key": obs.key, "url": obs.url,
         "title": title, "doc_type": obs.doc_type, "content_hash": digest,
         "status": dict(obs.status), "scheduled_at": scheduled_from(obs.status),
         "first_seen_at": now, "last_seen_at": now, "joined_by": joined_by},
    )
    _add_identifiers(session, _NewRecord(record_id, document_id), obs.identifiers, fresh=True)
    index_title(session, record_id, facts, fresh=True)
    version_id = _INSERT_VERSION.one(
        connection,
        _version_row(record_id, document_id, obs, number=1, digest=digest,
                     crawl_run_id=crawl_run_id, now=now),
    )
    detail: dict[str, Any] = {"status": dict(obs.status)} if obs.status else {}
    if joined_by is not None:
        # The work was known already: to the document this is another copy of it.
        detail["joined"] = {**joined_by, "source": source.slug, "title": title}
    kind = EventKind.NEW if joined_by is None else EventKind.CHANGED
    row = _event_row(kind, record_id, document_id, version_id, now=now,
                     crawl_run_id=crawl_run_id, detail=detail)
    event_id = _INSERT_EVENT.one(connection, row)
    event = RecordedEvent(event_id, row["kind"], row["detail"])
    return Result(Outcome.NEW, record_id, document_id, version_id, [event])


_TOUCH_DOCUMENT = (update(Document.__table__)
                   .where(Document.__table__.c.id == bindparam("document_id"))
                   .values(last_changed_at=bindparam("changed_at")))


def _touch_document(session: Session, document_id: int, now: datetime) -> None:
    """The document changed ``now``: its ORM copy if the session holds one, else one UPDATE
    (loading it to set one column cost ~0.4 ms, a query and a flush of the batch so far)."""
    document = session.identity_map.get(Session.identity_key(Document, document_id))
    if document is not None:
        document.last_changed_at = now
    else:
        session.connection().execute(_TOUCH_DOCUMENT, {"document_id": document_id,
                                                       "changed_at": now})


@dataclass(frozen=True)
class _NewRecord:
    """What ``_add_identifiers`` reads of a record written without the ORM."""

    id: int
    document_id: int


def _update(
    session: Session, record: Record, obs: Observation, *, now: datetime, crawl_run_id: int | None,
    resumes: Collection[int] = (),
) -> Result:
    record.last_seen_at = now
    record.url = obs.url or record.url
    events: list[ChangeEvent] = []
    if _add_identifiers(session, record, obs.identifiers):
        # A new strong identifier may reveal that another document is the same work.
        other = find_document(session, obs.identifiers, exclude=record.document_id,
                              source=record.source.slug)
        if other is not None:
            keep, gone = sorted((other[0], record.document_id))
            merge_documents(session, keep, gone, now=now)
            session.refresh(record)
            events.append(_event(
                session, EventKind.CHANGED, record, None, now=now, crawl_run_id=crawl_run_id,
                detail={"joined": {**join_reason(*other[1]), "source": record.source.slug,
                                   "title": record.title}},
            ))
    version: Version | None = None
    restored = record.removed_at is not None

    digest = content_hash(obs.title, obs.text, obs.fingerprint)
    if digest != record.content_hash or restored:
        previous = session.scalars(
            select(Version)
            .where(Version.record_id == record.id)
            .order_by(Version.number.desc())
            .limit(1)
        ).one()
        if digest != record.content_hash:
            version = _add_version(
                session, record, obs, number=previous.number + 1, digest=digest,
                crawl_run_id=crawl_run_id, now=now,
            )
        detail = _diff_summary(previous, obs) if version is not None else {}
        if restored:
            detail["restored"] = True
            record.removed_at = None
        if (record.title, record.doc_type) != (clean(obs.title), obs.doc_type):
            facts = _facts(record.source, obs, seen_at=record.first_seen_at)
            index_title(session, record.id, facts, fresh=False)
        record.content_hash = digest
        record.title = clean(obs.title)
        record.doc_type = obs.doc_type
        events.append(
            _event(session, EventKind.CHANGED, record, version, now=now,
                   crawl_run_id=crawl_run_id, detail=detail)
        )

    # A facet sent empty where the record has none is no change (a spider that starts to send
    # a facet, empty when there is nothing to say, must not make a status event of that).
    status_changes = {
        facet: [record.status.get(facet), value]
        for facet, value in obs.status.items()
        if record.status.get(facet) != value and not (facet not in record.status and value == "")
    }
    if status_changes:
        record.status = {**record.status, **obs.status}
        record.scheduled_at = scheduled_from(record.status)
        if not _fold_into_run_event(session, record, status_changes, crawl_run_id, resumes):
            events.append(
                _event(session, EventKind.STATUS, record, version, now=now,
                       crawl_run_id=crawl_run_id, detail={"changes": status_changes})
            )

    if not events:
        return Result(Outcome.UNCHANGED, record.id, record.document_id)

    document = session.get(Document, record.document_id)
    assert document is not None
    document.last_changed_at = now
    document.removed_at = None
    if version is not None:
        document.title = record.title
        document.doc_type = obs.doc_type or document.doc_type
        document.published_at = obs.published_at or document.published_at
    outcome = Outcome.CHANGED if events[0].kind == EventKind.CHANGED else Outcome.STATUS
    return Result(
        outcome, record.id, record.document_id, version.id if version else None,
        [RecordedEvent.of(event) for event in events],
    )


def _facts(source: Source, obs: Observation, *, seen_at: datetime) -> RecordFacts:
    return RecordFacts(
        source_id=source.id, source=source.slug, source_kind=source.kind, title=obs.title,
        text=obs.text, doc_type=obs.doc_type, day=record_day(obs.published_at, seen_at),
        identifiers=tuple(obs.identifiers),
    )


def _fold_into_run_event(
    session: Session,
    record: Record,
    changes: dict[str, list[str | None]],
    crawl_run_id: int | None,
    resumes: Collection[int] = (),
) -> bool:
    """Merge status changes into this run's earlier event for the record, if there is one.

    A source can state one record several times in a run (a motion's own row, then the vote on
    it); the order is up to the source and the network. Folding makes the outcome independent
    of that order: a record new in this run gets one `new` event with its final status, and an
    existing one gets one `status` event from its state before the run to its state after.
    Events of the interrupted runs this run ``resumes``, and of another crawl process's run of
    the same source going on at the same time (two crawls started at once share the work; a
    crawl process records its pid), count as this run's,
    unless a digest has reported them already (a reported event is never rewritten).
    """
    if crawl_run_id is None:
        return False
    earlier = session.scalars(
        select(ChangeEvent)
        .where(
            ChangeEvent.record_id == record.id,
            or_(ChangeEvent.crawl_run_id.in_([crawl_run_id, *resumes]),
                ChangeEvent.crawl_run_id.in_(select(CrawlRun.id).where(
                    CrawlRun.source_id == record.source_id, CrawlRun.pid.is_not(None),
                    CrawlRun.status == RunStatus.RUNNING.value))),
            ChangeEvent.kind.in_([EventKind.NEW.value, EventKind.STATUS.value]),
            ~select(DigestEntry.id).where(DigestEntry.event_id == ChangeEvent.id).exists(),
        )
        .order_by(ChangeEvent.id.desc())
        .limit(1)
    ).one_or_none()
    if earlier is None:
        return False
    if earlier.kind == EventKind.NEW.value:
        earlier.detail = {**earlier.detail, "status": dict(record.status)}
        return True
    merged = {facet: list(pair) for facet, pair in earlier.detail.get("changes", {}).items()}
    for facet, (before, after) in changes.items():
        merged[facet] = [merged[facet][0] if facet in merged else before, after]
    earlier.detail = {
        **earlier.detail,
        "changes": {facet: pair for facet, pair in merged.items() if pair[0] != pair[1]},
    }
    return True


def _remove(
    session: Session, record: Record | None, *, now: datetime, crawl_run_id: int | None
) -> Result:
    if record is None or record.removed_at is not None:
        return Result(Outcome.IGNORED, record.id if record else None)
    record.removed_at = now
    record.last_seen_at = now
    event = _event(session, EventKind.REMOVED, record, None, now=now, crawl_run_id=crawl_run_id,
                   detail={})
    session.flush()
    remaining = session.scalars(
        select(Record.id).where(
            Record.document_id == record.document_id, Record.removed_at.is_(None)
        )
    ).first()
    if remaining is None:
        document = session.get(Document, record.document_id)
        assert document is not None
        document.removed_at = now
        document.last_changed_at = now
    return Result(Outcome.REMOVED, record.id, record.document_id, None,
                  [RecordedEvent.of(event)])


def _add_identifiers(
    session: Session, record: Record | _NewRecord, identifiers: tuple[tuple[str, str], ...], *,
    fresh: bool = False,
) -> bool:
    """Add the identifiers the record did not have yet; True if a strong one was among them.

    ``fresh``: the record was created in this transaction and has none yet; they are written
    in one statement (no lookup, no ORM unit of work: bench/RESULTS.md, crawl benchmark)."""
    if not identifiers:
        return False
    if fresh:
        unique = list(dict.fromkeys(identifiers))
        _INSERT_IDENTIFIER.many(session.connection(), [
            {"record_id": record.id, "document_id": record.document_id, "scheme": scheme,
             "value": value} for scheme, value in unique])
        return any(scheme in STRONG_SCHEMES for scheme, _ in unique)
    assert isinstance(record, Record)
    # Read with the record by ``records_by_key``, else loaded here; kept up to date below.
    existing = {(identifier.scheme, identifier.value) for identifier in record.identifiers}
    added_strong = added = False
    for scheme, value in dict.fromkeys(identifiers):
        if (scheme, value) not in existing:
            record.identifiers.append(
                Identifier(
                    record_id=record.id, document_id=record.document_id, scheme=scheme, value=value
                )
            )
            added = True
            added_strong = added_strong or scheme in STRONG_SCHEMES
    if added:
        session.flush()
    return added_strong


def _add_version(
    session: Session,
    record: Record,
    obs: Observation,
    *,
    number: int,
    digest: str,
    crawl_run_id: int | None,
    now: datetime,
) -> Version:
    version = Version(**_version_row(record.id, record.document_id, obs, number=number,
                                     digest=digest, crawl_run_id=crawl_run_id, now=now))
    session.add(version)
    session.flush()
    return version


def _version_row(record_id: int, document_id: int, obs: Observation, *, number: int, digest: str,
                 crawl_run_id: int | None, now: datetime) -> dict[str, Any]:
    return {
        "record_id": record_id,
        "document_id": document_id,
        "number": number,
        "content_hash": digest,
        "title": clean(obs.title),
        "text": obs.text,
        "doc_type": obs.doc_type,
        "published_at": obs.published_at,
        "meta": jsonable({**obs.meta, **({"fingerprint": obs.fingerprint}
                                         if obs.fingerprint is not None else {})}),
        "fetched_at": obs.fetched_at,
        "crawl_run_id": crawl_run_id,
        "created_at": now,
    }


def _event(
    session: Session,
    kind: EventKind,
    record: Record,
    version: Version | None,
    *,
    now: datetime,
    crawl_run_id: int | None,
    detail: dict[str, Any],
) -> ChangeEvent:
    event = ChangeEvent(**_event_row(kind, record.id, record.document_id,
                                     version.id if version else None, now=now,
                                     crawl_run_id=crawl_run_id, detail=detail))
    session.add(event)
    session.flush()
    return event


def _event_row(kind: EventKind, record_id: int, document_id: int, version_id: int | None, *,
               now: datetime, crawl_run_id: int | None, detail: dict[str, Any]
               ) -> dict[str, Any]:
    return {"kind": kind.value, "document_id": document_id, "record_id": record_id,
            "version_id": version_id, "crawl_run_id": crawl_run_id, "detected_at": now,
            "detail": jsonable(detail)}


def _diff_summary(previous: Version, obs: Observation) -> dict[str, Any]:
    """Word counts added and removed between the previous version and this observation."""
    # Where the spider masked noise, the summary counts only what really changed.
    old_text = (previous.meta or {}).get("fingerprint", previous.text)
    new_text = obs.fingerprint if obs.fingerprint is not None else obs.text
    before = words(previous.title) + words(old_text)
    after = words(obs.title) + words(new_text)
    runs = word_runs(before, after)
    added = sum(len(run) for op, run in runs if op == "+")
    removed = sum(len(run) for op, run in runs if op == "-")
    return {
        "from_version": previous.number,
        "words_added": added,
        "words_removed": removed,
        "title_changed": clean(previous.title) != clean(obs.title),
    }
