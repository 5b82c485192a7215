"""record.scheduled_at: when a debate or meeting is planned, indexed for the agenda.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.columns


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('record', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scheduled_at', storage.columns.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_record_scheduled_at'), ['scheduled_at'], unique=False)

    # Fill it in for records that already carry a date facet.
    from storage.archive import scheduled_from

    bind = op.get_bind()
    record = sa.table("record", sa.column("id", sa.Integer), sa.column("status", sa.JSON),
                      sa.column("scheduled_at", storage.columns.UTCDateTime(timezone=True)))
    for row_id, status in bind.execute(sa.select(record.c.id, record.c.status)).all():
        when = scheduled_from(status or {})
        if when is not None:
            bind.execute(record.update().where(record.c.id == row_id).values(scheduled_at=when))



def downgrade() -> None:
    with op.batch_alter_table('record', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_record_scheduled_at'))
        batch_op.drop_column('scheduled_at')

