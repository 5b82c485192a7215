"""Topic examples and topic history (topic_revision).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.columns
from sqlalchemy.dialects import postgresql

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('topic_revision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('topic_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('changed_at', storage.columns.UTCDateTime(timezone=True), nullable=False),
    sa.Column('changed_by', sa.String(length=200), nullable=True),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('definition', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['topic_id'], ['topic.id'], name=op.f('fk_topic_revision_topic_id_topic')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_topic_revision')),
    sa.UniqueConstraint('topic_id', 'number', name=op.f('uq_topic_revision_topic_id_number'))
    )
    with op.batch_alter_table('topic_revision', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_topic_revision_topic_id'), ['topic_id'], unique=False)

    with op.batch_alter_table('topic', schema=None) as batch_op:
        batch_op.add_column(sa.Column('examples', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False, server_default=sa.text("'{}'")))



def downgrade() -> None:
    with op.batch_alter_table('topic', schema=None) as batch_op:
        batch_op.drop_column('examples')

    with op.batch_alter_table('topic_revision', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_topic_revision_topic_id'))

    op.drop_table('topic_revision')
