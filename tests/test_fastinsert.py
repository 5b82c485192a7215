"""FastInsert (storage/fastinsert.py) stores exactly what a Core insert stores, on each backend,
and fails the way Core fails."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Engine, insert, select, text
from sqlalchemy.exc import IntegrityError

from storage.fastinsert import FastInsert
from storage.models import Document, Record, Source

NOW = datetime(2026, 12, 7, 18, 30, 15, 123456, tzinfo=UTC)
COLUMNS = ("source_id", "document_id", "key", "url", "title", "doc_type", "content_hash",
           "status", "scheduled_at", "first_seen_at", "last_seen_at", "joined_by")


def _raw(engine: Engine, table: str, key_column: str, key: object) -> dict[str, object]:
    """The row as the database holds it (no SQLAlchemy type processing on the way out)."""
    with engine.connect() as connection:
        row = connection.exec_driver_sql(
            f"SELECT * FROM {table} WHERE {key_column} = "
            + ("?" if engine.dialect.name == "sqlite" else "%(v)s"),
            (key,) if engine.dialect.name == "sqlite" else {"v": key}).mappings().one()
    return dict(row)


@pytest.fixture
def source_and_document(engine: Engine) -> tuple[int, int]:
    with engine.begin() as connection:
        source_id = connection.execute(insert(Source.__table__).returning(Source.__table__.c.id),
                                       {"slug": "s", "kind": "k", "title": "S", "config": {},
                                        "cursor": {}}).scalar_one()
        document_id = connection.execute(
            insert(Document.__table__).returning(Document.__table__.c.id),
            {"title": "D", "first_seen_at": NOW, "last_changed_at": NOW}).scalar_one()
    return source_id, document_id


def _record_row(source_id: int, document_id: int, key: str, **changes: object) -> dict:
    row = {"source_id": source_id, "document_id": document_id, "key": key,
           "url": "https://example.org/é", "title": "Wijziging van art. 273f Sr",
           "doc_type": None, "content_hash": "abc", "status": {"stemming": "aangenomen"},
           "scheduled_at": NOW + timedelta(days=2),
           # Another zone: stored as UTC, as Core stores it.
           "first_seen_at": NOW.astimezone(timezone(timedelta(hours=1))),
           "last_seen_at": NOW, "joined_by": None}
    row.update(changes)
    return row


def test_rows_are_stored_exactly_as_core_stores_them(engine, source_and_document):
    source_id, document_id = source_and_document
    fast = FastInsert(Record.__table__, COLUMNS, returning_id=True)
    with engine.begin() as connection:
        core_id = connection.execute(
            insert(Record.__table__).returning(Record.__table__.c.id),
            _record_row(source_id, document_id, "core")).scalar_one()
        fast_id = fast.one(connection, _record_row(source_id, document_id, "fast"))
        joined_id = fast.one(connection, _record_row(source_id, document_id, "joined",
                                                     joined_by={"rule": "kamerstuk"}))
    assert len({core_id, fast_id, joined_id}) == 3
    core, fast_row = _raw(engine, "record", "id", core_id), _raw(engine, "record", "id", fast_id)
    for row in (core, fast_row):
        del row["id"], row["key"]
    assert fast_row == core  # JSON null for None included, timestamps in the same form
    assert _raw(engine, "record", "id", joined_id)["key"] == "joined"
    with engine.connect() as connection:
        loaded = connection.execute(select(Record).where(Record.id == joined_id)).one()
    assert loaded.joined_by == {"rule": "kamerstuk"}
    assert loaded.first_seen_at == NOW and loaded.first_seen_at.tzinfo is not None


def test_many_rows_and_python_defaults(engine):
    # Document.title has default="" (a scalar), first_seen_at default=utcnow (a callable).
    fast = FastInsert(Document.__table__, ("doc_type", "last_changed_at"))
    before = datetime.now(UTC)
    with engine.begin() as connection:
        fast.many(connection, [{"doc_type": "motie", "last_changed_at": NOW},
                               {"doc_type": "brief", "last_changed_at": NOW}])
        fast.many(connection, [])
    with engine.connect() as connection:
        rows = connection.execute(select(Document).order_by(Document.id)).all()
    assert [(r.doc_type, r.title) for r in rows] == [("motie", ""), ("brief", "")]
    assert all(r.first_seen_at >= before - timedelta(seconds=1) for r in rows)


def test_a_refused_row_raises_sqlalchemys_error_and_the_transaction_rolls_back(
        engine, source_and_document):
    source_id, document_id = source_and_document
    fast = FastInsert(Record.__table__, COLUMNS, returning_id=True)
    with pytest.raises(IntegrityError):
        with engine.begin() as connection:
            fast.one(connection, _record_row(source_id, document_id, "twice"))
            fast.one(connection, _record_row(source_id, document_id, "twice"))
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM record")).scalar_one() == 0


def test_unknown_columns_are_refused():
    with pytest.raises(ValueError, match="no column nonsense"):
        FastInsert(Record.__table__, ("key", "nonsense"))
