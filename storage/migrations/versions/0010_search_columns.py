"""Search columns (SQLite): a change number on every search index row, a small state table and
a log of matches moved between documents, kept by triggers, so that a searching process can
hold the index's facet columns in memory and bring them up to date by reading only what
changed (storage/search_columns.py).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28
"""

from __future__ import annotations

import secrets

from alembic import op

import storage.columns  # noqa: F401  (the template's import, kept for autogenerate diffs)


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

_BUMP_SEQ = """UPDATE search_state SET value = value + 1 WHERE name = 'seq';
        UPDATE search_index SET seq = (SELECT value FROM search_state WHERE name = 'seq')
        WHERE record_id = new.record_id;"""
_BUMP_RELOAD = "UPDATE search_state SET value = value + 1 WHERE name = 'reload';"

#: ``seq``: the change number of the row's last change of a column the counts read (document,
#: source, type, day). ``reload``: bumped when index rows or matches are deleted (rare: a
#: record without versions, a topic re-matched), after which a reader loads everything
#: again. ``instance``: tells one archive file from another at the same path (a reader's
#: numbers are only comparable within one). Matches moved between documents are logged.
SQLITE_DDL = [
    "ALTER TABLE search_index ADD COLUMN seq INTEGER",
    "UPDATE search_index SET seq = record_id",
    "CREATE INDEX ix_search_index_seq ON search_index (seq)",
    "CREATE TABLE search_state (name VARCHAR(20) NOT NULL PRIMARY KEY, value INTEGER NOT NULL)",
    "INSERT INTO search_state (name, value) "
    "VALUES ('seq', (SELECT coalesce(max(record_id), 0) FROM search_index))",
    "INSERT INTO search_state (name, value) VALUES ('reload', 0)",
    f"INSERT INTO search_state (name, value) VALUES ('instance', {secrets.randbits(62)})",
    f"""CREATE TRIGGER search_index_seq_ai AFTER INSERT ON search_index BEGIN
        {_BUMP_SEQ}
    END""",
    f"""CREATE TRIGGER search_index_seq_au AFTER UPDATE OF document_id, source_id, doc_type, day
        ON search_index
        WHEN old.document_id IS NOT new.document_id OR old.source_id IS NOT new.source_id
          OR old.doc_type IS NOT new.doc_type OR old.day IS NOT new.day
        BEGIN
        {_BUMP_SEQ}
    END""",
    f"""CREATE TRIGGER search_index_reload_ad AFTER DELETE ON search_index BEGIN
        {_BUMP_RELOAD}
    END""",
    f"""CREATE TRIGGER match_reload_ad AFTER DELETE ON "match" BEGIN
        {_BUMP_RELOAD}
    END""",
    # A match moved to another document (documents merged, a record split off): logged with
    # what it was, so a reader moves its count instead of loading everything again.
    "CREATE TABLE search_match_log (id INTEGER NOT NULL PRIMARY KEY, match_id INTEGER NOT NULL, "
    "old_document INTEGER NOT NULL, old_topic INTEGER NOT NULL, "
    "new_document INTEGER NOT NULL, new_topic INTEGER NOT NULL)",
    """CREATE TRIGGER match_log_au AFTER UPDATE OF document_id, topic_id ON "match"
        WHEN old.document_id IS NOT new.document_id OR old.topic_id IS NOT new.topic_id
        BEGIN
        INSERT INTO search_match_log (match_id, old_document, old_topic, new_document, new_topic)
        VALUES (new.id, old.document_id, old.topic_id, new.document_id, new.topic_id);
    END""",
]


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return  # PostgreSQL counts results in SQL (storage.search._summary)
    for statement in SQLITE_DDL:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for name in ("search_index_seq_ai", "search_index_seq_au", "search_index_reload_ad",
                 "match_reload_ad", "match_log_au"):
        op.execute(f"DROP TRIGGER {name}")
    op.execute("DROP TABLE search_match_log")
    op.execute("DROP TABLE search_state")
    op.execute("DROP INDEX ix_search_index_seq")
    op.execute("ALTER TABLE search_index DROP COLUMN seq")
