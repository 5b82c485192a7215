"""Title keys: identity's blocking index for near-duplicates, re-issues and title links
(table title_key, one row per key of a record's title), filled for the records already stored.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.columns


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'title_key',
        sa.Column('record_id', sa.Integer(), nullable=False),
        sa.Column('key', sa.BigInteger(), nullable=False),
        sa.Column('source_id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(['record_id'], ['record.id'],
                                name=op.f('fk_title_key_record_id_record')),
        sa.ForeignKeyConstraint(['source_id'], ['source.id'],
                                name=op.f('fk_title_key_source_id_source')),
        sa.PrimaryKeyConstraint('record_id', 'key', name=op.f('pk_title_key')),
    )
    op.create_index('ix_title_key_key_day', 'title_key', ['key', 'day', 'source_id', 'record_id'],
                    unique=False)
    _backfill()


def _backfill(batch: int = 5000) -> None:
    """Keys for the records already in the archive (their newest version's publication day)."""
    from storage.identity import record_day, title_key_rows

    bind = op.get_bind()
    record = sa.table("record", sa.column("id", sa.Integer), sa.column("source_id", sa.Integer),
                      sa.column("title", sa.Text), sa.column("doc_type", sa.String),
                      sa.column("first_seen_at", storage.columns.UTCDateTime(timezone=True)))
    source = sa.table("source", sa.column("id", sa.Integer), sa.column("slug", sa.String),
                      sa.column("kind", sa.String))
    version = sa.table("version", sa.column("record_id", sa.Integer),
                       sa.column("number", sa.Integer),
                       sa.column("published_at", storage.columns.UTCDateTime(timezone=True)))
    title_key = sa.table("title_key", sa.column("record_id", sa.Integer),
                         sa.column("key", sa.BigInteger), sa.column("source_id", sa.Integer),
                         sa.column("day", sa.Date))
    newest = (sa.select(version.c.published_at).where(version.c.record_id == record.c.id)
              .order_by(version.c.number.desc()).limit(1).scalar_subquery())
    query = (sa.select(record.c.id, record.c.source_id, source.c.slug, source.c.kind,
                       record.c.title, record.c.doc_type, record.c.first_seen_at,
                       newest.label("published_at"))
             .join(source, source.c.id == record.c.source_id).order_by(record.c.id))
    after = 0
    while True:
        rows = bind.execute(query.where(record.c.id > after).limit(batch)).all()
        if not rows:
            return
        values = []
        for row in rows:
            day = record_day(row.published_at, row.first_seen_at)
            values += [{"record_id": row.id, "key": key, "source_id": row.source_id, "day": day}
                       for key in title_key_rows(row.slug, row.kind, row.doc_type, row.title)]
        if values:
            bind.execute(title_key.insert(), values)
        after = rows[-1].id


def downgrade() -> None:
    op.drop_index('ix_title_key_key_day', table_name='title_key')
    op.drop_table('title_key')
