"""Web UI users (hashed passwords, roles) and researchers' judgements and notes on documents.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.columns


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('app_user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=100), nullable=False),
    sa.Column('password_hash', sa.String(length=300), nullable=False),
    sa.Column('role', sa.String(length=10), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', storage.columns.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("role IN ('reader', 'editor', 'admin')", name=op.f('ck_app_user_role')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_app_user')),
    sa.UniqueConstraint('username', name=op.f('uq_app_user_username'))
    )
    op.create_table('judgement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('topic_id', sa.Integer(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('verdict', sa.String(length=20), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_at', storage.columns.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("verdict IS NULL OR verdict IN ('relevant', 'not_relevant')", name=op.f('ck_judgement_verdict')),
    sa.ForeignKeyConstraint(['document_id'], ['document.id'], name=op.f('fk_judgement_document_id_document')),
    sa.ForeignKeyConstraint(['topic_id'], ['topic.id'], name=op.f('fk_judgement_topic_id_topic')),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_judgement_user_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_judgement'))
    )
    with op.batch_alter_table('judgement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_judgement_document_id'), ['document_id'], unique=False)
        batch_op.create_index('ix_judgement_document_topic', ['document_id', 'topic_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_judgement_topic_id'), ['topic_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_judgement_user_id'), ['user_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('judgement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_judgement_user_id'))
        batch_op.drop_index(batch_op.f('ix_judgement_topic_id'))
        batch_op.drop_index('ix_judgement_document_topic')
        batch_op.drop_index(batch_op.f('ix_judgement_document_id'))

    op.drop_table('judgement')
    op.drop_table('app_user')
