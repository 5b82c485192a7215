"""Search index: one row per record (its current version) with what filters, facets and sorting
read (search_index), and our own tokens (search_terms); FTS5 on SQLite, tsvector + GIN on
PostgreSQL (both kept by triggers on search_terms); filled for the records already stored.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.columns  # noqa: F401  (the template's import, kept for autogenerate diffs)


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

#: SQLite: FTS5 over the token columns, content read from search_terms (external content).
#: Our tokens are [a-z0-9] words; unicode61 without diacritic removal keeps them as they are.
#: Prefix indexes for 3 and 5 characters (kind letter included) speed up short prefix queries.
SQLITE_DDL = [
    # Every folded and reversed-stem token ever indexed: a prefix query is expanded to the
    # words it stands for, which FTS5 can skip through (a "prefix*" term is merged in full).
    "CREATE TABLE search_vocab (term VARCHAR NOT NULL PRIMARY KEY) WITHOUT ROWID",
    """CREATE VIRTUAL TABLE search_fts USING fts5(
        title_terms, body_terms, terms,
        content='search_terms', content_rowid='record_id',
        tokenize='unicode61 remove_diacritics 0', prefix='3 5'
    )""",
    # Titles alone, for relevance ("a query word in the title"): a query word's postings in
    # titles only are a small fraction of its postings everywhere.
    """CREATE VIRTUAL TABLE search_title_fts USING fts5(
        title_terms, content='search_terms', content_rowid='record_id',
        tokenize='unicode61 remove_diacritics 0', prefix='3 5'
    )""",
    """CREATE TRIGGER search_terms_ai AFTER INSERT ON search_terms BEGIN
        INSERT INTO search_fts(rowid, title_terms, body_terms, terms)
        VALUES (new.record_id, new.title_terms, new.body_terms, new.terms);
        INSERT INTO search_title_fts(rowid, title_terms) VALUES (new.record_id, new.title_terms);
    END""",
    """CREATE TRIGGER search_terms_ad AFTER DELETE ON search_terms BEGIN
        INSERT INTO search_fts(search_fts, rowid, title_terms, body_terms, terms)
        VALUES ('delete', old.record_id, old.title_terms, old.body_terms, old.terms);
        INSERT INTO search_title_fts(search_title_fts, rowid, title_terms)
        VALUES ('delete', old.record_id, old.title_terms);
    END""",
    """CREATE TRIGGER search_terms_au AFTER UPDATE OF title_terms, body_terms, terms
        ON search_terms BEGIN
        INSERT INTO search_fts(search_fts, rowid, title_terms, body_terms, terms)
        VALUES ('delete', old.record_id, old.title_terms, old.body_terms, old.terms);
        INSERT INTO search_fts(rowid, title_terms, body_terms, terms)
        VALUES (new.record_id, new.title_terms, new.body_terms, new.terms);
        INSERT INTO search_title_fts(search_title_fts, rowid, title_terms)
        VALUES ('delete', old.record_id, old.title_terms);
        INSERT INTO search_title_fts(rowid, title_terms) VALUES (new.record_id, new.title_terms);
    END""",
]

#: PostgreSQL: the tokens as a tsvector of the 'simple' configuration (our tokens are plain
#: [a-z0-9] words: the parser keeps them whole and nothing stems them), with positions for
#: phrases, and the title's distinct tokens for relevance. A record whose vector would not be
#: complete (over 1 MB, or a word over 2 KB that the parser would skip) gets none: search
#: then always checks it with the matcher.
POSTGRES_DDL = [
    "ALTER TABLE search_terms ADD COLUMN tsv tsvector, ADD COLUMN title_tsv tsvector",
    """CREATE FUNCTION search_index_vector(words text, positions boolean) RETURNS tsvector
        LANGUAGE plpgsql IMMUTABLE AS $$
    BEGIN
        IF EXISTS (SELECT 1 FROM regexp_split_to_table(words, ' ') AS w
                   WHERE octet_length(w) > 2000) THEN
            RETURN NULL;
        END IF;
        IF positions THEN
            RETURN to_tsvector('simple', words);
        END IF;
        RETURN array_to_tsvector(ARRAY(SELECT DISTINCT w FROM regexp_split_to_table(words, ' ')
                                       AS w WHERE w <> ''));
    EXCEPTION WHEN program_limit_exceeded THEN
        RETURN NULL;
    END $$""",
    """CREATE FUNCTION search_index_tsv() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        NEW.tsv := search_index_vector(
            concat_ws(' ', NEW.title_terms, NEW.body_terms, NEW.terms), true);
        NEW.title_tsv := search_index_vector(NEW.title_terms, false);
        RETURN NEW;
    END $$""",
    """CREATE TRIGGER search_index_tsv BEFORE INSERT OR UPDATE OF title_terms, body_terms, terms
        ON search_terms FOR EACH ROW EXECUTE FUNCTION search_index_tsv()""",
    "CREATE INDEX ix_search_terms_tsv ON search_terms USING gin (tsv)",
    "CREATE INDEX ix_search_terms_title_tsv ON search_terms USING gin (title_tsv)",
    "CREATE INDEX ix_search_terms_unindexed ON search_terms (record_id) WHERE tsv IS NULL",
]


def upgrade() -> None:
    op.create_table('search_index',
    sa.Column('record_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('doc_type', sa.String(length=200), nullable=True),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('published_on', sa.Date(), nullable=True),
    sa.Column('removed', sa.Boolean(), nullable=False),
    sa.Column('identifiers_hash', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['document.id'], name=op.f('fk_search_index_document_id_document')),
    sa.ForeignKeyConstraint(['record_id'], ['record.id'], name=op.f('fk_search_index_record_id_record')),
    sa.ForeignKeyConstraint(['source_id'], ['source.id'], name=op.f('fk_search_index_source_id_source')),
    sa.ForeignKeyConstraint(['version_id'], ['version.id'], name=op.f('fk_search_index_version_id_version')),
    sa.PrimaryKeyConstraint('record_id', name=op.f('pk_search_index'))
    )
    with op.batch_alter_table('search_index', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_search_index_day'), ['day'], unique=False)
        batch_op.create_index(batch_op.f('ix_search_index_document_id'), ['document_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_search_index_source_id'), ['source_id'], unique=False)

    op.create_table('search_terms',
    sa.Column('record_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('title_terms', sa.Text(), nullable=False),
    sa.Column('body_terms', sa.Text(), nullable=False),
    sa.Column('terms', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['record_id'], ['search_index.record_id'], name=op.f('fk_search_terms_record_id_search_index')),
    sa.PrimaryKeyConstraint('record_id', name=op.f('pk_search_terms'))
    )

    # Search counts a result's documents per topic: (document, topic) pairs from the index alone.
    with op.batch_alter_table('match', schema=None) as batch_op:
        batch_op.create_index('ix_match_document_topic', ['document_id', 'topic_id'], unique=False)

    bind = op.get_bind()
    for statement in SQLITE_DDL if bind.dialect.name == "sqlite" else POSTGRES_DDL:
        op.execute(statement)

    # Index what the archive holds already (the triggers fill FTS5 / the tsvectors).
    from storage.search import add_vocabulary, index_rows

    entries = sa.table("search_index", *(sa.column(name) for name in (
        "record_id", "document_id", "version_id", "source_id", "doc_type", "day",
        "published_on", "removed", "identifiers_hash")))
    terms = sa.table("search_terms", *(sa.column(name) for name in (
        "record_id", "title_terms", "body_terms", "terms")))
    chunk: list[tuple[dict, dict]] = []
    for pair in index_rows(bind):
        chunk.append(pair)
        if len(chunk) >= 1000:
            bind.execute(entries.insert(), [entry for entry, _ in chunk])
            bind.execute(terms.insert(), [words for _, words in chunk])
            add_vocabulary(bind, [words for _, words in chunk])
            chunk = []
    if chunk:
        bind.execute(entries.insert(), [entry for entry, _ in chunk])
        bind.execute(terms.insert(), [words for _, words in chunk])
        add_vocabulary(bind, [words for _, words in chunk])


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for name in ("search_terms_ai", "search_terms_ad", "search_terms_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS search_fts")
        op.execute("DROP TABLE IF EXISTS search_title_fts")
        op.execute("DROP TABLE IF EXISTS search_vocab")
    else:
        op.execute("DROP TRIGGER IF EXISTS search_index_tsv ON search_terms")
        op.execute("DROP FUNCTION IF EXISTS search_index_tsv()")
        op.execute("DROP FUNCTION IF EXISTS search_index_vector(text, boolean)")
    op.drop_table('search_terms')
    with op.batch_alter_table('match', schema=None) as batch_op:
        batch_op.drop_index('ix_match_document_topic')
    with op.batch_alter_table('search_index', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_search_index_source_id'))
        batch_op.drop_index(batch_op.f('ix_search_index_document_id'))
        batch_op.drop_index(batch_op.f('ix_search_index_day'))

    op.drop_table('search_index')
