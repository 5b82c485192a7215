"""The archive's tables, as SQLAlchemy 2 typed models.

A *document* is the work (one Kamerstuk, one ruling); a *record* is one source's copy of it, with
its URL and the identifiers that source states. Every content change of a record is a new
*version* (append-only, identified by a content hash); every movement is a *change event*
(`new`, `changed`, `status`, `removed`). *Crawl runs* account for each visit to a source;
*digests* and the *digest ledger* record what was reported to researchers.

Schema changes go through Alembic (``storage/migrations``); never edit a table without a migration.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated, Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from storage.columns import PortableJSON, UTCDateTime, utcnow

# Deterministic constraint names, so migrations are the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

intpk = Annotated[int, mapped_column(Integer, primary_key=True)]
timestamp = Annotated[datetime, mapped_column(UTCDateTime(), nullable=False)]
opt_timestamp = Annotated[datetime | None, mapped_column(UTCDateTime(), nullable=True)]
json_dict = Annotated[dict[str, Any], mapped_column(PortableJSON, nullable=False, default=dict)]


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class EventKind(enum.StrEnum):
    """What happened to a document, as the digest reports it."""

    NEW = "new"
    CHANGED = "changed"
    STATUS = "status"
    REMOVED = "removed"


class RunStatus(enum.StrEnum):
    """How a crawl run ended."""

    RUNNING = "running"
    OK = "ok"
    PARTIAL = "partial"  # some requests or items failed; the rest was stored
    FAILED = "failed"  # nothing useful came back


class Source(Base):
    """A source we watch: a built-in spider, or a feed or page a researcher added."""

    __tablename__ = "source"

    id: Mapped[intpk]
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(20))  # spider | feed | page
    title: Mapped[str] = mapped_column(String(300))
    url: Mapped[str | None] = mapped_column(Text)
    config: Mapped[json_dict]
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Incremental-sync position, e.g. {"Document": "2026-11-20T16:59:01.1234567Z"}.
    #: Only advanced to what a completed run actually received.
    cursor: Mapped[json_dict]
    created_at: Mapped[timestamp] = mapped_column(default=utcnow)

    runs: Mapped[list[CrawlRun]] = relationship(back_populates="source")


class Document(Base):
    """The work: one Kamerstuk, one motion, one ruling, however many sources carry it."""

    __tablename__ = "document"

    id: Mapped[intpk]
    title: Mapped[str] = mapped_column(Text, default="")
    doc_type: Mapped[str | None] = mapped_column(String(200))
    published_at: Mapped[opt_timestamp]
    first_seen_at: Mapped[timestamp] = mapped_column(default=utcnow)
    last_changed_at: Mapped[timestamp] = mapped_column(default=utcnow)
    #: Set when every record of the document was removed at its source.
    removed_at: Mapped[opt_timestamp]
    #: Set when this document turned out to be the same work as another and was merged into it.
    merged_into: Mapped[int | None] = mapped_column(ForeignKey("document.id"))

    records: Mapped[list[Record]] = relationship(back_populates="document",
                                                 foreign_keys="Record.document_id")


class Record(Base):
    """One source's copy of a document, keyed by the source's own stable id."""

    __tablename__ = "record"
    __table_args__ = (UniqueConstraint("source_id", "key"),)

    id: Mapped[intpk]
    source_id: Mapped[int] = mapped_column(ForeignKey("source.id"), index=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), index=True)
    #: Source-local identity, e.g. "Document/a108d79f-62cb-4dff-a900-5ae8bcc2aeac".
    key: Mapped[str] = mapped_column(String(500))
    url: Mapped[str] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text, default="")
    doc_type: Mapped[str | None] = mapped_column(String(200))
    content_hash: Mapped[str] = mapped_column(String(64))
    #: Current status facets, e.g. {"besluit": "Stemmen - aangenomen"}; changes are `status` events.
    status: Mapped[json_dict]
    first_seen_at: Mapped[timestamp] = mapped_column(default=utcnow)
    last_seen_at: Mapped[timestamp] = mapped_column(default=utcnow)
    removed_at: Mapped[opt_timestamp]
    #: When what the record describes is scheduled (its `datum` status facet, e.g. a debate),
    #: indexed so the digest's agenda finds what is coming without scanning the archive.
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    #: Why this record belongs to its document when another record was there first:
    #: {"scheme": ..., "value": ...} (a shared strong identifier), or {"split": ...}.
    joined_by: Mapped[dict[str, Any] | None] = mapped_column(PortableJSON)

    source: Mapped[Source] = relationship()
    document: Mapped[Document] = relationship(back_populates="records")
    identifiers: Mapped[list[Identifier]] = relationship(back_populates="record")
    versions: Mapped[list[Version]] = relationship(
        back_populates="record", order_by="Version.number"
    )


class Identifier(Base):
    """An identifier a source states for a record: kamerstuk kst-36547-3, dossier 36547, …"""

    __tablename__ = "identifier"
    __table_args__ = (
        UniqueConstraint("record_id", "scheme", "value"),
        Index("ix_identifier_scheme_value", "scheme", "value"),
    )

    id: Mapped[intpk]
    record_id: Mapped[int] = mapped_column(ForeignKey("record.id"))
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), index=True)
    scheme: Mapped[str] = mapped_column(String(40))
    value: Mapped[str] = mapped_column(String(300))

    record: Mapped[Record] = relationship(back_populates="identifiers")


class Version(Base):
    """One content state of a record. Inserted, never updated."""

    __tablename__ = "version"
    __table_args__ = (UniqueConstraint("record_id", "number"),)

    id: Mapped[intpk]
    record_id: Mapped[int] = mapped_column(ForeignKey("record.id"))
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text, default="")
    doc_type: Mapped[str | None] = mapped_column(String(200))
    published_at: Mapped[opt_timestamp]
    #: What the source said beyond title and text (dates, actors, links), kept as received.
    meta: Mapped[json_dict]
    fetched_at: Mapped[timestamp]
    crawl_run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_run.id"))
    created_at: Mapped[timestamp] = mapped_column(default=utcnow)

    record: Mapped[Record] = relationship(back_populates="versions")


class ChangeEvent(Base):
    """Something the digest can report: a document appeared, changed, moved, or was removed."""

    __tablename__ = "change_event"
    __table_args__ = (
        CheckConstraint("kind IN ('new', 'changed', 'status', 'removed')", name="kind"),
        Index("ix_change_event_detected_at", "detected_at"),
    )

    id: Mapped[intpk]
    kind: Mapped[str] = mapped_column(String(20))
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), index=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("record.id"), index=True)
    version_id: Mapped[int | None] = mapped_column(ForeignKey("version.id"))
    crawl_run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_run.id"), index=True)
    detected_at: Mapped[timestamp]
    #: For `changed`: word counts added/removed; for `status`: {facet: [before, after]}.
    detail: Mapped[json_dict]

    document: Mapped[Document] = relationship()
    record: Mapped[Record] = relationship()


class Topic(Base):
    """A watch topic: a named, saved query (see the monitors issue for the query language)."""

    __tablename__ = "topic"

    id: Mapped[intpk]
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    query: Mapped[str] = mapped_column(Text)
    #: Optional language variants of the query, e.g. {"en": "...", "nl": "..."}.
    variants: Mapped[json_dict]
    exclusions: Mapped[str] = mapped_column(Text, default="")
    #: {"match": [...], "no_match": [...]}: sentences the topic must and must not match.
    examples: Mapped[json_dict]
    owner: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[timestamp] = mapped_column(default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[timestamp] = mapped_column(default=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(200))


class TopicRevision(Base):
    """Topic history: the whole definition after every change, who made it and when."""

    __tablename__ = "topic_revision"
    __table_args__ = (UniqueConstraint("topic_id", "number"),)

    id: Mapped[intpk]
    topic_id: Mapped[int] = mapped_column(ForeignKey("topic.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    changed_at: Mapped[timestamp]
    changed_by: Mapped[str | None] = mapped_column(String(200))
    #: created | edited | disabled | enabled | imported
    action: Mapped[str] = mapped_column(String(20))
    definition: Mapped[json_dict]


class Match(Base):
    """A topic matched a document version; `reason` says which clause matched where."""

    __tablename__ = "match"
    __table_args__ = (UniqueConstraint("topic_id", "version_id"),)

    id: Mapped[intpk]
    topic_id: Mapped[int] = mapped_column(ForeignKey("topic.id"), index=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("version.id"))
    strength: Mapped[str] = mapped_column(String(20), default="strong")  # strong | weak (fuzzy only)
    reason: Mapped[json_dict]
    matched_at: Mapped[timestamp] = mapped_column(default=utcnow)


class CrawlRun(Base):
    """The account of one visit to one source: what was fetched, new, changed, failed, and why."""

    __tablename__ = "crawl_run"

    id: Mapped[intpk]
    source_id: Mapped[int] = mapped_column(ForeignKey("source.id"), index=True)
    started_at: Mapped[timestamp]
    finished_at: Mapped[opt_timestamp]
    status: Mapped[str] = mapped_column(String(20), default=RunStatus.RUNNING.value)
    #: Where responses came from: "live", or "replay:<dir>".
    mode: Mapped[str] = mapped_column(String(500), default="live")
    fetched: Mapped[int] = mapped_column(Integer, default=0)  # responses received
    items: Mapped[int] = mapped_column(Integer, default=0)  # items the spider produced
    new: Mapped[int] = mapped_column(Integer, default=0)
    changed: Mapped[int] = mapped_column(Integer, default=0)
    status_changes: Mapped[int] = mapped_column(Integer, default=0)
    removed: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)  # failed requests + failed items
    #: Up to ERROR_LIMIT entries of {"url": ..., "reason": ...}.
    errors: Mapped[list[dict[str, Any]]] = mapped_column(PortableJSON, default=list)
    cursor_before: Mapped[json_dict]
    cursor_after: Mapped[json_dict]
    finish_reason: Mapped[str | None] = mapped_column(String(100))
    #: Which process runs it (while status is running): to refuse a second crawl of the same
    #: source, and to recognise a run whose process died.
    host: Mapped[str | None] = mapped_column(String(255))
    pid: Mapped[int | None] = mapped_column(Integer)

    source: Mapped[Source] = relationship(back_populates="runs")


class Digest(Base):
    """A digest as built (and possibly sent), kept so it can be shown or re-sent exactly."""

    __tablename__ = "digest"

    id: Mapped[intpk]
    week: Mapped[str] = mapped_column(String(10))  # ISO week, e.g. "2026-W48"
    lang: Mapped[str] = mapped_column(String(5), default="nl")
    created_at: Mapped[timestamp] = mapped_column(default=utcnow)
    #: The topic definitions used, as they were at build time.
    topics: Mapped[list[dict[str, Any]]] = mapped_column(PortableJSON, default=list)
    html: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text, default="")
    markdown: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[opt_timestamp]
    #: The built digest as data (reports.digest.Digest.to_dict), to render or send it again
    #: exactly as it was.
    data: Mapped[json_dict]


class DigestEntry(Base):
    """The ledger: which change event a digest reported, under which topic."""

    __tablename__ = "digest_entry"
    __table_args__ = (UniqueConstraint("digest_id", "event_id", "topic_id"),)

    id: Mapped[intpk]
    digest_id: Mapped[int] = mapped_column(ForeignKey("digest.id"), index=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("change_event.id"), index=True)
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("topic.id"))


class Subscriber(Base):
    """Someone who receives the digest by mail, for the topics they subscribed to."""

    __tablename__ = "subscriber"

    id: Mapped[intpk]
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    lang: Mapped[str] = mapped_column(String(5), default="nl")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[timestamp] = mapped_column(default=utcnow)


class Subscription(Base):
    __tablename__ = "subscription"
    __table_args__ = (UniqueConstraint("subscriber_id", "topic_id"),)

    id: Mapped[intpk]
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscriber.id"), index=True)
    topic_id: Mapped[int] = mapped_column(ForeignKey("topic.id"), index=True)


class Delivery(Base):
    """One mail of one digest to one subscriber: sent, or failed with the reason."""

    __tablename__ = "delivery"
    __table_args__ = (UniqueConstraint("digest_id", "subscriber_id"),)

    id: Mapped[intpk]
    digest_id: Mapped[int] = mapped_column(ForeignKey("digest.id"), index=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscriber.id"), index=True)
    status: Mapped[str] = mapped_column(String(20))  # sending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    topics: Mapped[list[str]] = mapped_column(PortableJSON, default=list)
    message_id: Mapped[str | None] = mapped_column(String(300))
    updated_at: Mapped[timestamp] = mapped_column(default=utcnow)


class User(Base):
    """Someone who signs in to the web UI. ``role``: reader, editor (topics, sources) or admin
    (users too). Passwords are stored as salted scrypt hashes, never as text."""

    __tablename__ = "app_user"
    __table_args__ = (CheckConstraint("role IN ('reader', 'editor', 'admin')", name="role"),)

    id: Mapped[intpk]
    username: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(10), default="reader")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[timestamp] = mapped_column(default=utcnow)


class Judgement(Base):
    """A researcher's verdict on a document for a topic (relevant or not) and/or a note.

    Append-only like the rest of the archive: a new judgement by the same user on the same
    document and topic supersedes the earlier one, which stays as history."""

    __tablename__ = "judgement"
    __table_args__ = (
        CheckConstraint("verdict IS NULL OR verdict IN ('relevant', 'not_relevant')",
                        name="verdict"),
        Index("ix_judgement_document_topic", "document_id", "topic_id"),
    )

    id: Mapped[intpk]
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), index=True)
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("topic.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    verdict: Mapped[str | None] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[timestamp] = mapped_column(default=utcnow)


# --- search index (migration 0008) ----------------------------------------------------------

from datetime import date  # noqa: E402  (appended section: the search index)

from sqlalchemy import Date  # noqa: E402


class SearchEntry(Base):
    """The search index: one row per record, for its current version (``storage.search``):
    what filters, facets and sorting read. Its tokens are in ``SearchTerms``. Kept in the same
    transaction as the archive's changes."""

    __tablename__ = "search_index"

    record_id: Mapped[int] = mapped_column(ForeignKey("record.id"), primary_key=True,
                                           autoincrement=False)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("version.id"))
    source_id: Mapped[int] = mapped_column(ForeignKey("source.id"), index=True)
    doc_type: Mapped[str | None] = mapped_column(String(200))
    #: Publication day (else the day fetched), Europe/Amsterdam: the period filter and sort.
    day: Mapped[date] = mapped_column(Date, index=True)
    #: Publication day only (``datum:`` in a query, as the matcher reads it).
    published_on: Mapped[date | None] = mapped_column(Date)
    removed: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Of the record's stated identifiers when indexed: re-index when they change.
    identifiers_hash: Mapped[str] = mapped_column(String(32))


class SearchTerms(Base):
    """A search index row's tokens (stems, folded forms, reversed stems, identifier hashes) as
    plain words, apart from ``search_index`` so that the rows counted and sorted stay small.
    SQLite indexes them with FTS5 (``search_fts``), PostgreSQL with ``tsvector`` columns
    ``tsv``/``title_tsv`` (GIN); both kept by triggers of migration 0008, not in this model."""

    __tablename__ = "search_terms"

    record_id: Mapped[int] = mapped_column(ForeignKey("search_index.record_id"),
                                           primary_key=True, autoincrement=False)
    title_terms: Mapped[str] = mapped_column(Text, default="")
    body_terms: Mapped[str] = mapped_column(Text, default="")
    terms: Mapped[str] = mapped_column(Text, default="")


# --- title keys (migration 0009) ------------------------------------------------------------

from sqlalchemy import BigInteger  # noqa: E402  (appended section: identity's blocking index)


class TitleKey(Base):
    """Blocking keys of a record's title (``storage.identity``): a near-duplicate, a re-issue
    marked "(gewijzigd)" or a consultation of a bill is found through a few indexed key
    lookups within a date window, never by scanning the archive. ``key`` is a 64-bit hash of
    the record's family and a pair of its title's longest content words (or, for the family
    ``=``, of the whole normalised title); ``day`` its publication day (Amsterdam), else the
    day first seen."""

    __tablename__ = "title_key"
    __table_args__ = (Index("ix_title_key_key_day", "key", "day", "source_id", "record_id"),)

    record_id: Mapped[int] = mapped_column(ForeignKey("record.id"), primary_key=True,
                                           autoincrement=False)
    key: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    source_id: Mapped[int] = mapped_column(ForeignKey("source.id"))
    day: Mapped[date] = mapped_column(Date)

#: Search counts a result's documents per topic from (document, topic) pairs (migration 0008).
Index("ix_match_document_topic", Match.document_id, Match.topic_id)
