"""Initial schema: sources, documents, records, identifiers, versions, change events, topics,
matches, crawl runs, digests and the digest ledger.

Revision ID: 0001
Revises: 
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.columns
from sqlalchemy.dialects import postgresql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('digest',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('week', sa.String(length=10), nullable=False),
    sa.Column('lang', sa.String(length=5), nullable=False),
    sa.Column('created_at', storage.columns.UTCDateTime(timezone=True), nullable=False),
    sa.Column('topics', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('html', sa.Text(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('markdown', sa.Text(), nullable=False),
    sa.Column('sent_at', storage.columns.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_digest'))
    )
    op.create_table('document',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('doc_type', sa.String(length=200), nullable=True),
    sa.Column('published_at', storage.columns.UTCDateTime(timezone=True), nullable=True),
    sa.Column('first_seen_at', storage.columns.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_changed_at', storage.columns.UTCDateTime(timezone=True), nullable=False),
    sa.Column('removed_at', storage.columns.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_document'))
    )
    op.create_table('source',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('url', sa.Text(), nullable=True),
    sa.Column('config', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('cursor', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_at', storage.columns.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_source')),
    sa.UniqueConstraint('slug', name=op.f('uq_source_slug'))
    )
    op.create_table('topic',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=100), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('query', sa.Text(), nullable=False),
    sa.Column('variants', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('exclusions', sa.Text(), nullable=False),
    sa.Column('owner', sa.String(length=200), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', storage.columns.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=True),
    sa.Column('updated_at', storage.columns.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=200), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_topic')),
    sa.UniqueConstraint('slug', name=op.f('uq_topic_slug'))
    )
    op.create_table('crawl_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('started_at', storage.columns.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', storage.columns.UTCDateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('mode', sa.String(length=500), nullable=False),
    sa.Column('fetched', sa.Integer(), nullable=False),
    sa.Column('items', sa.Integer(), nullable=False),
    sa.Column('new', sa.Integer(), nullable=False),
    sa.Column('changed', sa.Integer(), nullable=False),
    sa.Column('status_changes', sa.Integer(), nullable=False),
    sa.Column('removed', sa.Integer(), nullable=False),
    sa.Column('unchanged', sa.Integer(), nullable=False),
    sa.Column('failed', sa.Integer(), nullable=False),
    sa.Column('errors', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('cursor_before', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('cursor_after', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('finish_reason', sa.String(length=100), nullable=True),
    sa.ForeignKeyConstraint(['source_id'], ['source.id'], name=op.f('fk_crawl_run_source_id_source')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crawl_run'))
    )
    with op.batch_alter_table('crawl_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_crawl_run_source_id'), ['source_id'], unique=False)

    op.create_table('record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=500), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('doc_type', sa.String(length=200), nullable=True),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('status', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('first_seen_at', storage.columns.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', storage.columns.UTCDateTime(timezone=True), nullable=False),
    sa.Column('removed_at', storage.columns.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['document_id'], ['document.id'], name=op.f('fk_record_document_id_document')),
    sa.ForeignKeyConstraint(['source_id'], ['source.id'], name=op.f('fk_record_source_id_source')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_record')),
    sa.UniqueConstraint('source_id', 'key', name=op.f('uq_record_source_id_key'))
    )
    with op.batch_alter_table('record', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_record_document_id'), ['document_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_record_source_id'), ['source_id'], unique=False)

    op.create_table('identifier',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('scheme', sa.String(length=40), nullable=False),
    sa.Column('value', sa.String(length=300), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['document.id'], name=op.f('fk_identifier_document_id_document')),
    sa.ForeignKeyConstraint(['record_id'], ['record.id'], name=op.f('fk_identifier_record_id_record')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identifier')),
    sa.UniqueConstraint('record_id', 'scheme', 'value', name=op.f('uq_identifier_record_id_scheme_value'))
    )
    with op.batch_alter_table('identifier', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_identifier_document_id'), ['document_id'], unique=False)
        batch_op.create_index('ix_identifier_scheme_value', ['scheme', 'value'], unique=False)

    op.create_table('version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('doc_type', sa.String(length=200), nullable=True),
    sa.Column('published_at', storage.columns.UTCDateTime(timezone=True), nullable=True),
    sa.Column('meta', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('fetched_at', storage.columns.UTCDateTime(timezone=True), nullable=False),
    sa.Column('crawl_run_id', sa.Integer(), nullable=True),
    sa.Column('created_at', storage.columns.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['crawl_run_id'], ['crawl_run.id'], name=op.f('fk_version_crawl_run_id_crawl_run')),
    sa.ForeignKeyConstraint(['document_id'], ['document.id'], name=op.f('fk_version_document_id_document')),
    sa.ForeignKeyConstraint(['record_id'], ['record.id'], name=op.f('fk_version_record_id_record')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_version')),
    sa.UniqueConstraint('record_id', 'number', name=op.f('uq_version_record_id_number'))
    )
    with op.batch_alter_table('version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_version_document_id'), ['document_id'], unique=False)

    op.create_table('change_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=True),
    sa.Column('crawl_run_id', sa.Integer(), nullable=True),
    sa.Column('detected_at', storage.columns.UTCDateTime(timezone=True), nullable=False),
    sa.Column('detail', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.CheckConstraint("kind IN ('new', 'changed', 'status', 'removed')", name=op.f('ck_change_event_kind')),
    sa.ForeignKeyConstraint(['crawl_run_id'], ['crawl_run.id'], name=op.f('fk_change_event_crawl_run_id_crawl_run')),
    sa.ForeignKeyConstraint(['document_id'], ['document.id'], name=op.f('fk_change_event_document_id_document')),
    sa.ForeignKeyConstraint(['record_id'], ['record.id'], name=op.f('fk_change_event_record_id_record')),
    sa.ForeignKeyConstraint(['version_id'], ['version.id'], name=op.f('fk_change_event_version_id_version')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_change_event'))
    )
    with op.batch_alter_table('change_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_change_event_crawl_run_id'), ['crawl_run_id'], unique=False)
        batch_op.create_index('ix_change_event_detected_at', ['detected_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_change_event_document_id'), ['document_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_change_event_record_id'), ['record_id'], unique=False)

    op.create_table('match',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('topic_id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('strength', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('matched_at', storage.columns.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['document.id'], name=op.f('fk_match_document_id_document')),
    sa.ForeignKeyConstraint(['topic_id'], ['topic.id'], name=op.f('fk_match_topic_id_topic')),
    sa.ForeignKeyConstraint(['version_id'], ['version.id'], name=op.f('fk_match_version_id_version')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_match')),
    sa.UniqueConstraint('topic_id', 'version_id', name=op.f('uq_match_topic_id_version_id'))
    )
    with op.batch_alter_table('match', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_match_document_id'), ['document_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_match_topic_id'), ['topic_id'], unique=False)

    op.create_table('digest_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('digest_id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('topic_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['digest_id'], ['digest.id'], name=op.f('fk_digest_entry_digest_id_digest')),
    sa.ForeignKeyConstraint(['event_id'], ['change_event.id'], name=op.f('fk_digest_entry_event_id_change_event')),
    sa.ForeignKeyConstraint(['topic_id'], ['topic.id'], name=op.f('fk_digest_entry_topic_id_topic')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_digest_entry')),
    sa.UniqueConstraint('digest_id', 'event_id', 'topic_id', name=op.f('uq_digest_entry_digest_id_event_id_topic_id'))
    )
    with op.batch_alter_table('digest_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_digest_entry_digest_id'), ['digest_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_digest_entry_event_id'), ['event_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('digest_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_digest_entry_event_id'))
        batch_op.drop_index(batch_op.f('ix_digest_entry_digest_id'))

    op.drop_table('digest_entry')
    with op.batch_alter_table('match', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_match_topic_id'))
        batch_op.drop_index(batch_op.f('ix_match_document_id'))

    op.drop_table('match')
    with op.batch_alter_table('change_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_change_event_record_id'))
        batch_op.drop_index(batch_op.f('ix_change_event_document_id'))
        batch_op.drop_index('ix_change_event_detected_at')
        batch_op.drop_index(batch_op.f('ix_change_event_crawl_run_id'))

    op.drop_table('change_event')
    with op.batch_alter_table('version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_version_document_id'))

    op.drop_table('version')
    with op.batch_alter_table('identifier', schema=None) as batch_op:
        batch_op.drop_index('ix_identifier_scheme_value')
        batch_op.drop_index(batch_op.f('ix_identifier_document_id'))

    op.drop_table('identifier')
    with op.batch_alter_table('record', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_record_source_id'))
        batch_op.drop_index(batch_op.f('ix_record_document_id'))

    op.drop_table('record')
    with op.batch_alter_table('crawl_run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_crawl_run_source_id'))

    op.drop_table('crawl_run')
    op.drop_table('topic')
    op.drop_table('source')
    op.drop_table('document')
    op.drop_table('digest')
