"""Full-text search of the archive: an index of our own tokens, and queries compiled to it.

The index is one row per record (its current version) in two tables: ``search_index`` holds
what filters, facets and sorting read (document, source, type, day), ``search_terms`` the
tokens ``monitors.matching`` compares, written out as plain ``[a-z0-9]`` words so that neither
database's tokenizer changes them:

=====  ================================================  =========================================
kind   what                                              for
=====  ================================================  =========================================
``s``  the stem of every token, in text order            words, phrases (positions), proximity
``f``  the folded form of every token                    prefix words (``mensenhandel*``)
``r``  the reversed stem, for stems of >= 7 letters      compound heads (``uitbuiting`` finds
                                                         ``arbeidsuitbuiting``: a prefix query on
                                                         the reversed stem)
``i``  a hash of (scheme, canonical identifier), for     ``dossier:``, ``procedure:``, ``celex:``,
       stated and text-mentioned identifiers; dossiers   ``artikel:``, ``kamerstuk:``, ``ecli:``,
       also under every prefix up to a ``-``             ``zaak:``
``b``  the folded source slug                            ``bron:``
``t``  every run of consecutive document-type stems      ``soort:``
=====  ================================================  =========================================

``title_terms`` and ``body_terms`` hold a field's ``s`` tokens in order, then its ``f`` and ``r``
tokens (so a phrase never spans title and text, and a title can be searched on its own);
``terms`` holds the ``i``, ``b`` and ``t`` tokens. SQLite indexes the three columns with FTS5
(table ``search_fts``; titles also alone in ``search_title_fts``, for relevance; both kept by
triggers); PostgreSQL keeps a ``tsvector`` of the distinct tokens
(``tsv``) and one of the title's (``title_tsv``), GIN-indexed and filled by a trigger: no parser
and no stemmer touch them (PostgreSQL's ``dutch`` stemmer is not ours: docs/decisions.md).
Which DDL is where: migration 0008. ``sync_record`` keeps a record's rows in the transaction
that changes the record; merges and splits move ``document_id`` (storage.identity).

Results are documents: a document matches when one of its records' current versions does (as
``backtest(latest_only=True)`` counts). Totals, facets and the page's order are counted in the
database in one statement; the matcher then runs on the page only, for the reasons shown.
Relevance is the same rule on both databases: documents with a query word in the title of a
matching copy first, then newest first.

A query is compiled to two index expressions: a *lower* bound (every record it selects matches)
and an *upper* bound (every matching record is selected). When both render the same the index
answer is exact; otherwise the records between the bounds are checked with the matcher itself,
so search always gives the documents ``backtest(latest_only=True)`` gives. What is exact:

- words (stem or compound head), prefix words, identifier fields, ``bron:``, ``soort:``, and
  AND/OR/NOT of those; ``datum:`` as a top-level AND clause (SQL on the publication day);
- phrases and two-word proximity ``"a b"~N``: exact on SQLite (FTS5 positions); on PostgreSQL
  exact for records whose tsvector keeps the positions of the phrase's words (``zlen``: under
  16,383 tokens; no ``o`` mark: the word not more than 256 times), others with all the words
  are checked;
- fuzzy words, ``datum:`` inside OR/NOT, proximity of 3+ words: superset, checked;
- on SQLite a NOT with nothing positive beside it (``uitbuiting~ NOT arbeid``): superset;
- on PostgreSQL a record too large for a tsvector (1 MB) has none and is always checked.

A query with no index constraint at all (``uitbuiting~``) is a full scan through the matcher.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

import numpy as np
from sqlalchemy import (
    ARRAY,
    Connection,
    Integer,
    String,
    and_,
    any_,
    bindparam,
    case,
    cast,
    column,
    exists,
    extract,
    false,
    func,
    literal,
    literal_column,
    not_,
    or_,
    select,
    table,
    true,
    union_all,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from monitors.matching import (
    COMPOUND_HEAD_MIN,
    LOCAL,
    Matcher,
    MatchDoc,
    Prepared,
    TopicMatch,
    TopicQuery,
    fuzzy_threshold,
    prepare,
)
from monitors import identifiers as ids
from monitors.query import And, Field, Node, Not, Or, Phrase, Word, date_range, parse
from monitors.text import fold, remember, tokens
from storage.models import (
    ChangeEvent,
    Document,
    Identifier,
    Match,
    Record,
    SearchEntry,
    SearchTerms,
    Source,
    Topic,
    Version,
)
from storage.search_columns import Columns, Summary, columns_for, members, summarise

#: Identifier schemes a query field can ask for (others are not indexed).
INDEXED_SCHEMES = ("procedure", "celex", "ecli", "artikel", "kamerstuk", "zaak", "dossier")

#: Facets of a result, in display order.
FACETS = ("topic", "source", "doc_type", "year")

# --- tokens ----------------------------------------------------------------------------------

_PLAIN = re.compile(r"[a-wyz0-9]*")


def encode(text: str) -> str:
    """``text`` as one ``[a-z0-9]`` word, prefix-preserving: ``encode(a)`` starts with
    ``encode(b)`` exactly when ``a`` starts with ``b`` (every character has a code, and no code
    is the start of another: letters and digits stand for themselves, ``x`` is ``xx``, ``-`` is
    ``xh``, anything else ``xu`` + six hex digits)."""
    if _PLAIN.fullmatch(text):
        return text  # most words: nothing to remember
    return _encode(text)


#: Bounded so that a long crawl's memory stays flat (bench/RESULTS.md, memory).
@lru_cache(maxsize=20_000)
def _encode(text: str) -> str:
    out = []
    for ch in text:
        if ("a" <= ch <= "z" and ch != "x") or "0" <= ch <= "9":
            out.append(ch)
        elif ch == "x":
            out.append("xx")
        elif ch == "-":
            out.append("xh")
        else:
            out.append(f"xu{ord(ch):06x}")
    return "".join(out)


def stem_token(stem: str) -> str:
    return "s" + encode(stem)


def folded_token(folded: str) -> str:
    return "f" + encode(folded)


def reversed_token(stem: str) -> str:
    return "r" + encode(stem[::-1])


def id_token(scheme: str, value: str) -> str:
    """An identifier as a token: a 64-bit hash of scheme and canonical value."""
    digest = hashlib.blake2b(f"{scheme}\x00{value}".encode(), digest_size=8).hexdigest()
    return "i" + digest


def source_token(slug: str) -> str:
    return "b" + encode(fold(slug))


def type_token(stems: Sequence[str]) -> str:
    return "t" + encode(" ".join(stems))


#: A word's index tokens (stem, folded, reversed stem or None) by its (folded, stem) forms:
#: most words of a text were indexed before. Bounded like monitors.text's caches (emptied when
#: full, ``monitors.text.remember``), so that a long crawl's memory stays flat.
_WORD_TOKENS: dict[tuple[str, str], tuple[str, str, str | None]] = {}


def _word_tokens(forms: tuple[str, str]) -> tuple[str, str, str | None]:
    found = _WORD_TOKENS.get(forms)
    if found is None:
        folded, word_stem = forms
        found = remember(_WORD_TOKENS, forms, (
            stem_token(word_stem), folded_token(folded),
            reversed_token(word_stem) if len(word_stem) >= COMPOUND_HEAD_MIN else None))
    return found


def _field_terms(forms: Sequence[tuple[str, str]]) -> str:
    """A field's index terms from its words as (folded, stem): the stems in order (for
    phrases), then each distinct folded word and reversed stem once."""
    known = _WORD_TOKENS.get
    per_word = [known(pair) or _word_tokens(pair) for pair in forms]
    extra: dict[str, None] = {}
    for _, folded, reverse in per_word:
        extra[folded] = None
        if reverse is not None:
            extra[reverse] = None
    return " ".join([stem for stem, _, _ in per_word] + list(extra))


def _other_terms(p: Prepared) -> str:
    found: dict[str, None] = {}
    for scheme, values in p.ids.items():
        if scheme not in INDEXED_SCHEMES:
            continue
        for value in values:
            if scheme == "dossier":
                # dossier:36800 finds 36800-VI: every prefix that ends before a '-'.
                parts = value.split("-")
                for n in range(1, len(parts) + 1):
                    found[id_token(scheme, "-".join(parts[:n]))] = None
            else:
                found[id_token(scheme, value)] = None
    for scheme, values in p.mentioned.items():
        for value in values:
            found[id_token(scheme, value)] = None
    if p.doc.source:
        found[source_token(p.doc.source)] = None
    stems = p.type_stems
    for start in range(len(stems)):
        for end in range(start + 1, len(stems) + 1):
            found[type_token(stems[start:end])] = None
    return " ".join(found)


#: In ``terms`` when every token of the two streams lies within the 16,383 positions a
#: PostgreSQL tsvector keeps; and for each stem with more than the 256 positions it keeps per
#: word, ``o`` + that stem. A phrase is then exact from positions unless one of its words is
#: marked (in practice: "de", "van" in a long text).
LENGTH_TOKEN = "zlen"
MAX_POSITIONS = 16_383
MAX_POSITIONS_PER_WORD = 256


def position_tokens(title_terms: str, body_terms: str) -> list[str]:
    """What a tsvector of ``title_terms body_terms …`` keeps of the streams' positions."""
    title = title_terms.split()
    body_stream = [t for t in body_terms.split() if t.startswith("s")]
    counts = Counter(t for t in title if t.startswith("s"))
    counts.update(body_stream)
    found = [LENGTH_TOKEN] if len(title) + len(body_stream) <= MAX_POSITIONS else []
    return found + sorted("o" + t[1:] for t, n in counts.items() if n > MAX_POSITIONS_PER_WORD)


def _overflow_token(stem_token_: str) -> str:
    return "o" + stem_token_[1:]


def local_day(moment: datetime) -> date:
    return moment.astimezone(LOCAL).date()


def entry_values(
    *, title: str, text: str, doc_type: str | None, source: str,
    published_at: datetime | None, fetched_at: datetime,
    identifiers: Mapping[str, Sequence[str]],
) -> dict[str, Any]:
    """The index columns of one version (everything but the keys): what the matcher would see
    of it, as tokens."""
    p = Prepared(MatchDoc(title=title or "", text=text or "", source=source, doc_type=doc_type,
                          published_at=published_at, identifiers=identifiers))
    title_terms, body_terms = _field_terms(p.forms["titel"]), _field_terms(p.forms["tekst"])
    terms = " ".join([_other_terms(p), *position_tokens(title_terms, body_terms)]).strip()
    return {
        "title_terms": title_terms,
        "body_terms": body_terms,
        "terms": terms,
        "doc_type": doc_type,
        "day": local_day(published_at or fetched_at),
        "published_on": local_day(published_at) if published_at else None,
    }


def identifiers_hash(pairs: Iterable[tuple[str, str]]) -> str:
    payload = "\n".join(f"{s}\x00{v}" for s, v in sorted(set(pairs)))
    return hashlib.blake2b(payload.encode(), digest_size=16).hexdigest()


# --- keeping the index -----------------------------------------------------------------------


TERM_COLUMNS = ("title_terms", "body_terms", "terms")


def sync_record(session: Session, record_id: int) -> None:
    """Make the record's index rows say what its current version and identifiers say."""
    sync_records(session, [record_id])


#: Records synced per round of statements in ``sync_records``.
SYNC_CHUNK = 500


def sync_records(session: Session, record_ids: Iterable[int]) -> None:
    """Make these records' index rows say what their current versions and identifiers say.

    Called where the archive changes records (``record_observation``, or a crawl's batch at its
    end); cheap when nothing the index holds changed (same version, same identifiers): then
    only the document, source and removal columns are brought up to date. A batch is read in a
    few statements and written with one statement per table, not a round of ORM work per
    record: the index is a fifth of what storing a new record costs otherwise.
    """
    wanted = sorted(set(record_ids))
    if not wanted:
        return
    session.flush()
    for start in range(0, len(wanted), SYNC_CHUNK):
        _sync_chunk(session, wanted[start:start + SYNC_CHUNK])


def _sync_chunk(session: Session, chunk: list[int]) -> None:
    records = {row.id: row for row in session.execute(
        select(Record.id, Record.document_id, Record.source_id, Record.removed_at)
        .where(Record.id.in_(chunk))).all()}
    latest = (select(Version.record_id, func.max(Version.id).label("version_id"))
              .where(Version.record_id.in_(chunk)).group_by(Version.record_id).subquery())
    versions = {row.record_id: row for row in session.execute(
        select(Version.record_id, Version.id, Version.title, Version.text, Version.doc_type,
               Version.published_at, Version.fetched_at)
        .join(latest, Version.id == latest.c.version_id)).all()}
    entries = {row.record_id: row for row in session.execute(
        select(SearchEntry.record_id, SearchEntry.version_id, SearchEntry.identifiers_hash)
        .where(SearchEntry.record_id.in_(chunk))).all()}
    with_terms = set(session.scalars(
        select(SearchTerms.record_id).where(SearchTerms.record_id.in_(chunk))).all())
    pairs: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for record_id, scheme, value in session.execute(
            select(Identifier.record_id, Identifier.scheme, Identifier.value)
            .where(Identifier.record_id.in_(chunk))).all():
        pairs[record_id].append((scheme, value))
    slugs = dict(session.execute(select(Source.id, Source.slug).where(
        Source.id.in_({r.source_id for r in records.values()}))).all())

    gone, moved, new_entries, new_terms, changed, changed_terms = [], [], [], [], [], []
    for record_id in chunk:
        record, version = records.get(record_id), versions.get(record_id)
        entry = entries.get(record_id)
        if record is None or version is None:
            if entry is not None:
                gone.append(record_id)
            continue
        digest = identifiers_hash(pairs.get(record_id, ()))
        place = {"document_id": record.document_id, "source_id": record.source_id,
                 "removed": record.removed_at is not None}
        if entry is not None and entry.version_id == version.id \
                and entry.identifiers_hash == digest:
            moved.append({"rid": record_id, **place})
            continue
        grouped: dict[str, list[str]] = defaultdict(list)
        for scheme, value in pairs.get(record_id, ()):
            grouped[scheme].append(value)
        values = entry_values(
            title=version.title, text=version.text, doc_type=version.doc_type,
            source=slugs.get(record.source_id, ""), published_at=version.published_at,
            fetched_at=version.fetched_at, identifiers=grouped,
        )
        words = {name: values.pop(name) for name in TERM_COLUMNS}
        values.update(place, version_id=version.id, identifiers_hash=digest)
        if entry is None:
            new_entries.append({"record_id": record_id, **values})
        else:
            changed.append({"rid": record_id, **values})
        if record_id in with_terms:
            changed_terms.append({"rid": record_id, **words})
        else:
            new_terms.append({"record_id": record_id, **words})

    index, terms = SearchEntry.__table__, SearchTerms.__table__
    if gone:
        session.execute(terms.delete().where(terms.c.record_id.in_(gone)))
        session.execute(index.delete().where(index.c.record_id.in_(gone)))
    _update_by_record(session, index, moved)
    _update_by_record(session, index, changed)
    if new_entries:
        session.execute(index.insert(), new_entries)
    add_vocabulary(session.connection(), [*new_terms, *changed_terms])
    if new_terms:
        session.execute(terms.insert(), new_terms)
    _update_by_record(session, terms, changed_terms)
    if gone or moved or changed or new_entries or changed_terms:
        # ORM copies of these rows loaded earlier in the session are stale now.
        for obj in list(session.identity_map.values()):
            if isinstance(obj, (SearchEntry, SearchTerms)) and obj.record_id in chunk:
                session.expire(obj)


def _update_by_record(session: Session, table_: Any, rows: list[dict[str, Any]]) -> None:
    """One UPDATE for all ``rows`` (each ``rid`` and the same columns) of an index table."""
    if rows:
        columns = [name for name in rows[0] if name != "rid"]
        session.execute(table_.update().where(table_.c.record_id == bindparam("rid"))
                        .values({name: bindparam(name) for name in columns}), rows)


_VOCAB = table("search_vocab", column("term"))


def vocabulary_of(words: Mapping[str, str]) -> set[str]:
    """The folded and reversed-stem tokens of a record's term columns (prefix-query targets)."""
    return {t for name in ("title_terms", "body_terms") for t in words.get(name, "").split()
            if t[:1] in ("f", "r")}


def add_vocabulary(connection: Connection, rows: Iterable[Mapping[str, str]]) -> None:
    """SQLite: remember every folded and reversed-stem token indexed (``search_vocab``)."""
    if connection.dialect.name != "sqlite":
        return
    found: set[str] = set()
    for words in rows:
        found |= vocabulary_of(words)
    if found:
        connection.exec_driver_sql("INSERT OR IGNORE INTO search_vocab (term) VALUES (?)",
                                   [(t,) for t in sorted(found)])


def index_rows(connection: Connection, *, batch: int = 1000,
               ) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """Index rows (``search_index``, ``search_terms``) for every record's current version:
    a rebuild, or a migration's backfill.

    Uses the core tables as they are at migration 0008, so the backfill does not depend on
    later changes to the models.
    """
    from storage.columns import UTCDateTime

    version = table("version", column("id"), column("record_id"), column("title"),
                    column("text"), column("doc_type"),
                    column("published_at", UTCDateTime()), column("fetched_at", UTCDateTime()))
    record = table("record", column("id"), column("document_id"), column("source_id"),
                   column("removed_at"))
    source = table("source", column("id"), column("slug"))
    identifier = table("identifier", column("record_id"), column("scheme"), column("value"))
    newest = select(func.max(version.c.id)).group_by(version.c.record_id).scalar_subquery()
    last = 0
    while True:
        rows = connection.execute(
            select(version.c.id, version.c.record_id, version.c.title, version.c.text,
                   version.c.doc_type, version.c.published_at, version.c.fetched_at,
                   record.c.document_id, record.c.source_id, record.c.removed_at, source.c.slug)
            .join(record, record.c.id == version.c.record_id)
            .join(source, source.c.id == record.c.source_id)
            .where(version.c.id.in_(newest), version.c.record_id > last)
            .order_by(version.c.record_id).limit(batch)
        ).all()
        if not rows:
            return
        last = rows[-1].record_id
        pairs: dict[int, list[tuple[str, str]]] = defaultdict(list)
        for record_id, scheme, value in connection.execute(
            select(identifier.c.record_id, identifier.c.scheme, identifier.c.value)
            .where(identifier.c.record_id.in_([r.record_id for r in rows]))
        ):
            pairs[record_id].append((scheme, value))
        for row in rows:
            grouped: dict[str, list[str]] = defaultdict(list)
            for scheme, value in pairs[row.record_id]:
                grouped[scheme].append(value)
            values = entry_values(
                title=row.title, text=row.text, doc_type=row.doc_type, source=row.slug,
                published_at=row.published_at, fetched_at=row.fetched_at, identifiers=grouped,
            )
            words = {name: values.pop(name) for name in TERM_COLUMNS}
            words["record_id"] = row.record_id
            values.update(record_id=row.record_id, document_id=row.document_id,
                          version_id=row.id, source_id=row.source_id,
                          removed=row.removed_at is not None,
                          identifiers_hash=identifiers_hash(pairs[row.record_id]))
            yield values, words


def rebuild(session: Session) -> int:
    """Recreate every index row from the archive; returns the number of records indexed."""
    session.execute(SearchTerms.__table__.delete())
    session.execute(SearchEntry.__table__.delete())
    count = 0
    chunk: list[tuple[dict[str, Any], dict[str, Any]]] = []
    for pair in index_rows(session.connection()):
        chunk.append(pair)
        if len(chunk) >= 1000:
            _insert(session, chunk)
            count += len(chunk)
            chunk = []
    if chunk:
        _insert(session, chunk)
        count += len(chunk)
    return count


def _insert(session: Session, chunk: list[tuple[dict[str, Any], dict[str, Any]]]) -> None:
    session.execute(SearchEntry.__table__.insert(), [entry for entry, _ in chunk])
    session.execute(SearchTerms.__table__.insert(), [words for _, words in chunk])
    add_vocabulary(session.connection(), [words for _, words in chunk])


# --- compiling queries -----------------------------------------------------------------------
#
# An index expression: TRUE, FALSE, a term, a sequence of stems (phrase / proximity), and
# AND, OR, NOT of those. The constructors simplify, so TRUE/FALSE only stand alone.


class _Const:
    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return self.name


TRUE: Any = _Const("TRUE")
FALSE: Any = _Const("FALSE")


@dataclass(frozen=True)
class Term:
    token: str
    prefix: bool = False


@dataclass(frozen=True)
class Seq:
    """Stems in one text field: consecutive (``near`` None), or two stems at most ``near``
    tokens apart."""

    tokens: tuple[str, ...]
    near: int | None = None


@dataclass(frozen=True)
class AllOf:
    parts: tuple[Any, ...]


@dataclass(frozen=True)
class AnyOf:
    parts: tuple[Any, ...]


@dataclass(frozen=True)
class Neg:
    part: Any


def all_of(parts: Iterable[Any]) -> Any:
    flat: list[Any] = []
    for part in parts:
        if part is FALSE:
            return FALSE
        if part is TRUE:
            continue
        flat.extend(part.parts if isinstance(part, AllOf) else [part])
    flat = list(dict.fromkeys(flat))
    return TRUE if not flat else flat[0] if len(flat) == 1 else AllOf(tuple(flat))


def any_of(parts: Iterable[Any]) -> Any:
    flat: list[Any] = []
    for part in parts:
        if part is TRUE:
            return TRUE
        if part is FALSE:
            continue
        flat.extend(part.parts if isinstance(part, AnyOf) else [part])
    flat = list(dict.fromkeys(flat))
    return FALSE if not flat else flat[0] if len(flat) == 1 else AnyOf(tuple(flat))


def negate(part: Any) -> Any:
    if part is TRUE:
        return FALSE
    if part is FALSE:
        return TRUE
    return part.part if isinstance(part, Neg) else Neg(part)


def _word_expr(word_stem: str) -> Any:
    exact = Term(stem_token(word_stem))
    if len(word_stem) >= COMPOUND_HEAD_MIN:
        return any_of([exact, Term(reversed_token(word_stem), prefix=True)])
    return exact


def _phrase_expr(stems: Sequence[str], within: int | None) -> tuple[Any, Any]:
    """(lower, upper) of a phrase: the matcher compares stems only (no compound heads)."""
    if not stems:
        return FALSE, FALSE
    distinct = list(dict.fromkeys(stems))
    if within is not None:
        if len(distinct) == 1:
            term = Term(stem_token(distinct[0]))
            return term, term
        upper = all_of(Term(stem_token(s)) for s in distinct)
        if len(distinct) == 2:
            if within == 0:
                return FALSE, FALSE  # two different stems in a window of one token
            exact = Seq(tuple(stem_token(s) for s in distinct), near=within - 1)
            return exact, exact
        return FALSE, upper
    if len(stems) == 1:
        term = Term(stem_token(stems[0]))
        return term, term
    exact = Seq(tuple(stem_token(s) for s in stems))
    return exact, exact


_NORMALISE = {"procedure": ids.procedure, "celex": ids.celex, "ecli": ids.ecli,
              "artikel": ids.article, "kamerstuk": ids.kamerstuk}


def bounds(node: Node) -> tuple[Any, Any]:
    """(lower, upper) index expressions of a query clause, as the matcher evaluates it."""
    if isinstance(node, And):
        parts = [bounds(c) for c in node.children]
        return all_of(p[0] for p in parts), all_of(p[1] for p in parts)
    if isinstance(node, Or):
        parts = [bounds(c) for c in node.children]
        return any_of(p[0] for p in parts), any_of(p[1] for p in parts)
    if isinstance(node, Not):
        lower, upper = bounds(node.child)
        return negate(upper), negate(lower)
    if isinstance(node, Word):
        parts = list(tokens(node.text))
        if not parts:
            return FALSE, FALSE
        if node.prefix:
            term = Term(folded_token(parts[0].folded), prefix=True)
            return term, term
        if len(parts) > 1:  # "2024/1712": the matcher makes it a phrase
            return _phrase_expr([stem for t in parts for stem in _stems(t.folded)], None)
        exact = _word_expr(parts[0].stem)
        if node.fuzzy is not None and (node.fuzzy or fuzzy_threshold(parts[0].folded)):
            return exact, TRUE  # a near spelling may match anything
        return exact, exact
    if isinstance(node, Phrase):
        stems = [t.stem for word in node.words for t in tokens(word)]
        return _phrase_expr(stems, node.within)
    if isinstance(node, Field):
        term = _field_term(node)
        if term is None:
            return FALSE, TRUE
        return term, term
    raise TypeError(f"unknown query node {node!r}")


def _stems(text: str) -> list[str]:
    return [t.stem for t in tokens(text)]


def _field_term(node: Field) -> Any:
    """The index expression of a field clause, or None when the index cannot tell."""
    name, value = node.name, node.value
    if name in _NORMALISE:
        return Term(id_token(name, _NORMALISE[name](value) or value))
    if name in ("zaak", "dossier"):
        return Term(id_token(name, value.upper()))
    if name == "bron":
        return Term(source_token(value))
    if name == "soort":
        stems = _stems(value)
        return Term(type_token(stems)) if stems else TRUE
    return None  # datum: SQL when it is a top-level AND clause, else checked


def title_terms_of(node: Node, positive: bool = True) -> list[Any]:
    """Terms of the query's words (not under NOT) as they would match in a title: relevance."""
    if isinstance(node, (And, Or)):
        return [t for c in node.children for t in title_terms_of(c, positive)]
    if isinstance(node, Not):
        return title_terms_of(node.child, not positive)
    if not positive:
        return []
    if isinstance(node, Word):
        parts = list(tokens(node.text))
        if not parts:
            return []
        if node.prefix:
            return [Term(folded_token(parts[0].folded), prefix=True)]
        return [_word_expr(t.stem) for t in parts]
    if isinstance(node, Phrase):
        return [Term(stem_token(t.stem)) for w in node.words for t in tokens(w)]
    return []


# --- rendering for the two engines -----------------------------------------------------------


def render_fts5(expr: Any, upper: bool) -> Any:
    """An FTS5 MATCH string for ``expr`` as an upper (superset) or lower (subset) bound, or
    TRUE/FALSE. FTS5's NOT is binary: a NOT with nothing positive beside it is loosened."""
    if expr is TRUE or expr is FALSE:
        return expr
    if isinstance(expr, Term):
        return f'"{expr.token}"' + ("*" if expr.prefix else "")
    if isinstance(expr, Seq):
        if expr.near is None:
            inner = '"' + " ".join(expr.tokens) + '"'
        else:
            inner = "NEAR(" + " ".join(f'"{t}"' for t in expr.tokens) + f", {expr.near})"
        return "{title_terms body_terms} : " + inner
    if isinstance(expr, AnyOf):
        parts = []
        for part in expr.parts:
            rendered = render_fts5(part, upper)
            if rendered is TRUE:
                return TRUE
            if rendered is not FALSE:
                parts.append(rendered)
        return FALSE if not parts else "(" + " OR ".join(parts) + ")"
    if isinstance(expr, AllOf):
        positive, negative = [], []
        for part in expr.parts:
            if isinstance(part, Neg):
                rendered = render_fts5(part.part, not upper)
                if rendered is TRUE:
                    return FALSE
                if rendered is not FALSE:
                    negative.append(rendered)
                continue
            rendered = render_fts5(part, upper)
            if rendered is FALSE:
                return FALSE
            if rendered is not TRUE:
                positive.append(rendered)
        if not positive:
            return TRUE if not negative or upper else FALSE
        text = "(" + " AND ".join(positive) + ")"
        if negative:
            text += " NOT (" + " OR ".join(negative) + ")"
        return "(" + text + ")"
    if isinstance(expr, Neg):
        rendered = render_fts5(expr.part, not upper)
        if rendered is TRUE:
            return FALSE
        if rendered is FALSE:
            return TRUE
        return TRUE if upper else FALSE
    raise TypeError(expr)


def render_tsquery(expr: Any, upper: bool) -> Any:
    """A tsquery string for ``expr`` as an upper or lower bound, or TRUE/FALSE. Phrases use the
    tsvector's positions where they are complete, else (upper bound) the AND of their stems."""
    if expr is TRUE or expr is FALSE:
        return expr
    if isinstance(expr, Term):
        return f"'{expr.token}'" + (":*" if expr.prefix else "")
    if isinstance(expr, Seq):
        # Positions are exact where the record says they are all kept (LENGTH_TOKEN, no
        # overflow mark on the phrase's words); elsewhere (upper bound) all the words.
        every = " & ".join(f"'{t}'" for t in dict.fromkeys(expr.tokens))
        if expr.near is None:
            positional = "(" + " <-> ".join(f"'{t}'" for t in expr.tokens) + ")"
        elif expr.near < 30:
            a, b = expr.tokens
            positional = "(" + " | ".join(
                f"'{x}' <{n}> '{y}'" for n in range(1, expr.near + 2) for x, y in ((a, b), (b, a))
            ) + ")"
        else:
            return f"({every})" if upper else FALSE
        marks = [f"'{_overflow_token(t)}'" for t in dict.fromkeys(expr.tokens)]
        if upper:
            unsure = " | ".join([f"!'{LENGTH_TOKEN}'", *marks])
            return f"({positional} | (({unsure}) & {every}))"
        sure = " & ".join([f"'{LENGTH_TOKEN}'", *(f"!{m}" for m in marks)])
        return f"({sure} & {positional})"
    if isinstance(expr, (AnyOf, AllOf)):
        joiner, absorbing, neutral = (" | ", TRUE, FALSE) if isinstance(expr, AnyOf) \
            else (" & ", FALSE, TRUE)
        parts = []
        for part in expr.parts:
            rendered = render_tsquery(part, upper)
            if rendered is absorbing:
                return absorbing
            if rendered is not neutral:
                parts.append(rendered)
        return neutral if not parts else "(" + joiner.join(parts) + ")"
    if isinstance(expr, Neg):
        rendered = render_tsquery(expr.part, not upper)
        if rendered is TRUE:
            return FALSE
        if rendered is FALSE:
            return TRUE
        return "!" + rendered
    raise TypeError(expr)


# --- the plan of one query -------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """A query compiled for one backend."""

    query: str
    node: Node | None
    lower: Any  # rendered lower bound: a string, TRUE or FALSE
    upper: Any
    #: Top-level ``datum:`` clauses as (first, last, negated), applied in SQL.
    dates: tuple[tuple[date | None, date | None, bool], ...]
    title: Any  # rendered "a query word is in the title" (relevance), or FALSE

    @property
    def exact(self) -> bool:
        """The index answer is the matcher's answer (before PostgreSQL's oversized records)."""
        return self.lower == self.upper

    @property
    def full_scan(self) -> bool:
        return self.upper is TRUE and not self.exact


def compile_query(query: str | Node | None, dialect: str) -> Plan:
    """Compile a query (text, parsed, or empty: everything) for ``dialect``."""
    node = parse(query) if isinstance(query, str) and query.strip() else \
        query if isinstance(query, Node) else None
    text = query if isinstance(query, str) else (str(node) if node is not None else "")
    render = render_fts5 if dialect == "sqlite" else render_tsquery
    if node is None:
        return Plan(text, None, TRUE, TRUE, (), FALSE)
    children = list(node.children) if isinstance(node, And) else [node]
    dates, rest = [], []
    for child in children:
        inner, negated = (child.child, True) if isinstance(child, Not) else (child, False)
        if isinstance(inner, Field) and inner.name == "datum":
            first, last = date_range(inner.value)
            dates.append((first, last, negated))
        else:
            rest.append(child)
    lower, upper = bounds(And(tuple(rest))) if len(rest) > 1 else \
        bounds(rest[0]) if rest else (TRUE, TRUE)
    title = render(any_of(title_terms_of(node)), True)
    return Plan(text, node, render(lower, False), render(upper, True), tuple(dates),
                title if isinstance(title, str) else FALSE)


# --- searching -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchHit:
    document_id: int
    record_id: int
    version_id: int
    title: str
    doc_type: str | None
    day: date
    url: str
    source: str  # the source of the record shown (the document's newest matching copy)
    sources: tuple[str, ...]  # every source that has the document
    identifiers: tuple[tuple[str, str], ...]
    topics: tuple[str, ...]  # topics that matched the document (the match table)
    match: TopicMatch | None  # why: the clauses that fired, with snippets (None: no words)
    removed: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "document": self.document_id, "record": self.record_id, "version": self.version_id,
            "title": self.title, "doc_type": self.doc_type, "date": self.day.isoformat(),
            "url": self.url, "source": self.source, "sources": list(self.sources),
            "identifiers": [f"{s}:{v}" for s, v in self.identifiers],
            "topics": list(self.topics), "removed": self.removed,
            "strength": self.match.strength if self.match else None,
            "hits": [h.as_dict() for h in self.match.hits] if self.match else [],
        }


@dataclass(frozen=True)
class SearchResult:
    query: str
    total: int  # documents
    hits: list[SearchHit]
    #: Per facet (topic, source, doc_type, year): (value, documents), most documents first.
    facets: dict[str, list[tuple[str, int]]]
    exact: bool  # the index alone decided (no record needed the matcher)
    checked: int  # records the matcher checked because the index could not decide
    sort: str = "relevance"
    offset: int = 0
    limit: int = 20

    def as_dict(self) -> dict[str, Any]:
        return {"query": self.query, "total": self.total, "sort": self.sort,
                "offset": self.offset, "limit": self.limit, "exact": self.exact,
                "checked": self.checked,
                "facets": {k: [list(x) for x in v] for k, v in self.facets.items()},
                "hits": [h.as_dict() for h in self.hits]}


_FTS = table("search_fts", column("rowid"), column("search_fts"))
_TITLE_FTS = table("search_title_fts", column("rowid"), column("search_title_fts"))
_SI = SearchEntry.__table__
_ST = SearchTerms.__table__


def _index_predicate(dialect: str, rendered: Any, *, upper: bool,
                     scope: str | None = None) -> ColumnElement[bool]:
    """SQL for "the index selects this row" under a rendered bound (``scope``: a column)."""
    if rendered is TRUE:
        return true()
    if rendered is FALSE:
        return false()
    if dialect == "sqlite":
        match = f"{{{scope}}} : ({rendered})" if scope else rendered
        return _SI.c.record_id.in_(
            select(_FTS.c.rowid).where(_FTS.c.search_fts.op("MATCH")(literal(match)))
        )
    from sqlalchemy.dialects.postgresql import TSQUERY

    vector = literal_column(f"search_terms.{scope or 'tsv'}")
    hit = vector.op("@@")(literal(rendered).cast(TSQUERY))
    if upper:
        hit = or_(hit, vector.is_(None))  # too large for a tsvector: always a candidate
    return _SI.c.record_id.in_(select(_ST.c.record_id).where(hit))


def _in_ids(column_: Any, values: Sequence[int], dialect: str) -> ColumnElement[bool]:
    """``column IN values`` with one bound parameter, whatever the number of values."""
    if dialect == "sqlite":
        return column_.in_(select(literal_column("value")).select_from(
            func.json_each(bindparam(None, json.dumps(list(values))))))
    return column_ == any_(bindparam(None, list(values), type_=ARRAY(Integer)))


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(0), LOCAL)


def _filters(
    *, since: date | None, until: date | None, sources: Sequence[str] | None,
    doc_types: Sequence[str] | None, event_kinds: Sequence[str] | None,
    event_since: date | None, event_until: date | None, topics: Sequence[str] | None,
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if since is not None:
        conditions.append(_SI.c.day >= since)
    if until is not None:
        conditions.append(_SI.c.day <= until)
    if sources:
        conditions.append(_SI.c.source_id.in_(
            select(Source.id).where(Source.slug.in_(list(sources)))))
    if doc_types:
        conditions.append(_SI.c.doc_type.in_(list(doc_types)))
    if event_kinds or event_since or event_until:
        events = select(ChangeEvent.document_id)
        if event_kinds:
            events = events.where(ChangeEvent.kind.in_(list(event_kinds)))
        if event_since:
            events = events.where(ChangeEvent.detected_at >= _start_of(event_since))
        if event_until:
            events = events.where(
                ChangeEvent.detected_at < _start_of(event_until + timedelta(days=1)))
        conditions.append(_SI.c.document_id.in_(events))
    if topics:
        conditions.append(_SI.c.document_id.in_(
            select(Match.document_id).join(Topic, Topic.id == Match.topic_id)
            .where(Topic.slug.in_(list(topics)))))
    return conditions


def _date_conditions(plan: Plan) -> list[ColumnElement[bool]]:
    conditions = []
    for first, last, negated in plan.dates:
        parts = [_SI.c.published_on.is_not(None)]
        if first is not None:
            parts.append(_SI.c.published_on >= first)
        if last is not None:
            parts.append(_SI.c.published_on <= last)
        condition = and_(*parts)
        conditions.append(not_(condition) if negated else condition)
    return conditions


@dataclass
class _Row:
    record_id: int
    document_id: int
    version_id: int
    source_id: int
    doc_type: str | None
    day: date


def _rows(session: Session, conditions: list[ColumnElement[bool]]) -> list[_Row]:
    query = select(_SI.c.record_id, _SI.c.document_id, _SI.c.version_id, _SI.c.source_id,
                   _SI.c.doc_type, _SI.c.day).where(*conditions)
    return [_Row(*r) for r in session.execute(query)]


@dataclass(frozen=True)
class _Loaded:
    doc: MatchDoc  # what the matcher sees of the version
    url: str  # the record's


def _match_docs(session: Session, rows: Sequence[_Row], dialect: str) -> dict[int, _Loaded]:
    """What the matcher sees of these index rows' versions (as ``iter_versions`` builds it)."""
    if not rows:
        return {}
    loaded = session.execute(
        select(Version.id, Version.title, Version.text, Version.doc_type, Version.published_at,
               Record.id, Record.url, Source.slug)
        .join(Record, Version.record_id == Record.id).join(Source, Record.source_id == Source.id)
        .where(_in_ids(Version.id, [r.version_id for r in rows], dialect))
    ).all()
    found: dict[int, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for record_id, scheme, value in session.execute(
        select(Identifier.record_id, Identifier.scheme, Identifier.value)
        .where(_in_ids(Identifier.record_id, [r.record_id for r in rows], dialect))
    ):
        found[record_id][scheme].append(value)
    return {version_id: _Loaded(MatchDoc(
        title=title, text=text_, source=slug, doc_type=doc_type, published_at=published_at,
        identifiers=found.get(record_id, {}),
    ), url) for version_id, title, text_, doc_type, published_at, record_id, url, slug in loaded}


def _checked(session: Session, plan: Plan, conditions: list[ColumnElement[bool]],
             matcher: Matcher | None) -> tuple[ColumnElement[bool] | None, int, list[_Row]]:
    """Which records match: an SQL condition (None: none), how many records the matcher had
    to check, and the rows it accepted. The lower bound selects records that match; records
    between the bounds are read and matched one by one."""
    dialect = session.get_bind().dialect.name
    if plan.upper is FALSE:
        return None, 0, []
    lower = _index_predicate(dialect, plan.lower, upper=False)
    if plan.exact and dialect == "sqlite":
        return lower, 0, []
    if plan.exact:  # PostgreSQL: only records without a tsvector are left to check
        unindexed = literal_column("search_terms.tsv").is_(None)
        undecided = _rows(session, conditions + [
            _SI.c.record_id.in_(select(_ST.c.record_id).where(unindexed))])
    else:
        upper = _index_predicate(dialect, plan.upper, upper=True)
        undecided = _rows(session, conditions + [upper, not_(lower)])
    accepted = []
    for start in range(0, len(undecided), 500):
        chunk = undecided[start:start + 500]
        docs = _match_docs(session, chunk, dialect)
        for row in chunk:
            if matcher is not None and row.version_id in docs and \
                    matcher.match(docs[row.version_id].doc):
                accepted.append(row)
    parts = [lower] if plan.lower is not FALSE else []
    if accepted:
        parts.append(_in_ids(_SI.c.record_id, [r.record_id for r in accepted], dialect))
    return (or_(*parts) if parts else None), len(undecided), accepted


@lru_cache(maxsize=256)
def _compiled_text(query: str, dialect: str) -> Plan:
    return compile_query(query, dialect)


def _compiled(query: str | Node | None, dialect: str) -> Plan:
    """``compile_query``, remembered for query texts (a page of results, the next page, a
    facet clicked: the same query again)."""
    return _compiled_text(query, dialect) if isinstance(query, str) else \
        compile_query(query, dialect)


@lru_cache(maxsize=256)
def _query_matcher(query: str) -> Matcher:
    """The matcher for a search's query (compiled once per query text; it keeps no state)."""
    return Matcher([TopicQuery("zoekvraag", query)])


def search(
    session: Session,
    query: str | Node | None,
    *,
    sort: str = "relevance",
    since: date | None = None,
    until: date | None = None,
    sources: Sequence[str] | None = None,
    doc_types: Sequence[str] | None = None,
    event_kinds: Sequence[str] | None = None,
    event_since: date | None = None,
    event_until: date | None = None,
    topics: Sequence[str] | None = None,
    limit: int = 20,
    offset: int = 0,
    facets: bool = True,
) -> SearchResult:
    """Documents whose records' current versions match ``query`` (the topics' query language;
    empty: every document), with the filters, facets and one page of hits.

    ``since``/``until``: the record's publication day (else the day it was fetched), Amsterdam
    time, inclusive. ``sources``: source slugs; ``doc_types``: document types as stored.
    ``event_kinds``/``event_since``/``event_until``: only documents with such a change event
    detected in that period ("what changed in dossier 36547 since June"). ``topics``: only
    documents a topic (slug) matched. ``facets=False`` skips counting facets (a list without
    a sidebar, such as the CLI's: for large results most of the cost). ``sort``: ``relevance`` (documents with a query word in a
    title first, then newest first) or ``date`` (newest first); ties by document id, newest first.
    A document's date is that of its newest matching record. Raises QuerySyntaxError for a
    malformed query.
    """
    if sort not in ("relevance", "date"):
        raise ValueError(f"sort is relevance or date, not {sort!r}")
    dialect = session.get_bind().dialect.name
    plan = _compiled(query, dialect)
    if dialect == "sqlite":
        _sqlite_read_cache(session)
        plan = _expand_prefixes(session, plan)
    conditions = _filters(since=since, until=until, sources=sources, doc_types=doc_types,
                          event_kinds=event_kinds, event_since=event_since,
                          event_until=event_until, topics=topics) + _date_conditions(plan)
    matcher = _query_matcher(plan.query) if plan.node is not None else None
    matched, checked, accepted = _checked(session, plan, conditions, matcher)
    empty = {name: [] for name in FACETS}
    if matched is None:
        return SearchResult(plan.query, 0, [], empty, exact=checked == 0, checked=checked,
                            sort=sort, offset=offset, limit=limit)
    if dialect == "sqlite" and COUNT_IN_MEMORY and _columns(session).instance is not None:
        total, facets, page = _sqlite_summary(
            session, plan, conditions, matched, accepted, sort=sort, limit=max(0, limit),
            offset=max(0, offset), with_facets=facets)
        hits = _hits(session, page, conditions, matcher, dialect)
        return SearchResult(plan.query, total, hits, facets, exact=checked == 0,
                            checked=checked, sort=sort, offset=offset, limit=limit)
    in_title = false()
    if sort == "relevance" and plan.title is not FALSE:
        if dialect == "sqlite":  # the titles' own FTS5 index (search_title_fts)
            in_title = _SI.c.record_id.in_(select(_TITLE_FTS.c.rowid).where(
                _TITLE_FTS.c.search_title_fts.op("MATCH")(literal(plan.title))))
        else:
            # Per result row, its own title vector: PostgreSQL plans ``record_id IN (titles
            # with a query word)`` as a scan of a list of up to half a million titles per
            # row when that list does not fit work_mem (minutes at 1M documents).
            from sqlalchemy.dialects.postgresql import TSQUERY

            title_hit = literal_column("search_terms.title_tsv").op("@@")(
                literal(plan.title).cast(TSQUERY))
            in_title = exists(select(literal_column("1")).select_from(_ST).where(
                _ST.c.record_id == _SI.c.record_id, title_hit))
    total, facets, page = _summary(session, conditions + [matched], in_title, sort=sort,
                                   limit=max(0, limit), offset=max(0, offset), dialect=dialect,
                                   with_facets=facets)
    hits = _hits(session, page, conditions, matcher, dialect)
    return SearchResult(plan.query, total, hits, facets, exact=checked == 0, checked=checked,
                        sort=sort, offset=offset, limit=limit)


#: A prefix query is expanded into at most this many words (else FTS5 merges the prefix).
MAX_EXPANSION = 20
_PREFIX_TERM = re.compile(r'"([a-z0-9]+)"\*')
#: A token no record has: what an expansion to no words becomes.
NOTHING_TOKEN = "znothing"


def _expand_prefixes(session: Session, plan: Plan) -> Plan:
    """SQLite: write each ``"prefix"*`` of the plan as the OR of the indexed words it stands
    for (``search_vocab``). FTS5 reads a prefix term's merged postings in full even beside a
    rare word in an AND; listed words are skipped through like any other."""
    found: dict[str, str] = {}
    raw = _raw(session)

    def words(match: re.Match[str]) -> str:
        prefix = match.group(1)
        if prefix not in found:
            terms = [term for (term,) in raw.execute(
                "SELECT term FROM search_vocab WHERE term >= ? AND term < ? ORDER BY term "
                "LIMIT ?", (prefix, prefix + "~", MAX_EXPANSION + 1))]
            if len(terms) > MAX_EXPANSION:
                found[prefix] = match.group(0)
            elif not terms:
                found[prefix] = f'"{NOTHING_TOKEN}"'
            else:
                found[prefix] = "(" + " OR ".join(f'"{t}"' for t in terms) + ")"
        return found[prefix]

    def expand(rendered: Any) -> Any:
        return _PREFIX_TERM.sub(words, rendered) if isinstance(rendered, str) else rendered

    lower, upper = expand(plan.lower), expand(plan.upper)
    if plan.exact:
        upper = lower
    return replace(plan, lower=lower, upper=upper, title=expand(plan.title))


#: SQLite page cache (KiB) and memory map for connections that search: a result's index rows
#: are read by record id, and SQLite's default 2 MB cache makes each a system call.
SQLITE_CACHE_KIB = 131_072
SQLITE_MMAP_BYTES = 2**31 - 2**16


def _sqlite_read_cache(session: Session) -> None:
    """Give this SQLite connection a larger page cache and a memory map, once."""
    record = session.connection().connection
    if not record.info.get("search_cache"):
        cursor = record.dbapi_connection.cursor()  # type: ignore[union-attr]
        cursor.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
        cursor.execute(f"PRAGMA mmap_size = {SQLITE_MMAP_BYTES}")
        cursor.close()
        record.info["search_cache"] = True


#: SQLite: count results with the facet columns held in memory (storage/search_columns.py)
#: rather than in SQL (``_summary``, which PostgreSQL uses), once ``load_counts`` loaded them
#: in this process. The same answer; off only in the tests that check that.
COUNT_IN_MEMORY = True


def _raw(session: Session) -> Any:
    """The session's DBAPI connection (sqlite3): the statements below, run as they are."""
    return session.connection().connection.dbapi_connection


def _columns(session: Session) -> Columns:
    return columns_for(str(session.get_bind().url))


def load_counts(session: Session) -> None:
    """SQLite: read the index's facet columns into this process unless it has them (about
    four seconds per million records). Searches of a process that did count from them in
    memory, each bringing them up to date first (a web server: its searches call this
    first); a one-off search (the CLI) counts in SQL rather than load them."""
    if session.get_bind().dialect.name == "sqlite" and COUNT_IN_MEMORY:
        columns = _columns(session)
        if columns.instance is None:
            columns.refresh(_raw(session))


def _sqlite_summary(session: Session, plan: Plan, conditions: list[ColumnElement[bool]],
                    matched: ColumnElement[bool], accepted: Sequence[_Row], *, sort: str,
                    limit: int, offset: int, with_facets: bool,
                    ) -> tuple[int, dict[str, list[tuple[str, int]]], list[int]]:
    """``_summary`` for SQLite: the result's index rows are found in SQL (FTS5 alone when
    nothing else filters), and counted from the in-memory columns."""
    raw = _raw(session)
    columns = _columns(session)
    arrays = columns.refresh(raw)
    record_ids = _result_ids(session, raw, plan, conditions, matched, accepted, arrays)
    known = record_ids < len(arrays.document)
    if not known.all() or (arrays.document[record_ids[known]] < 0).any():
        arrays = columns.refresh(raw)  # a crawl committed between the two reads
        record_ids = record_ids[record_ids < len(arrays.document)]
        record_ids = record_ids[arrays.document[record_ids] >= 0]
    summary = summarise(columns, arrays, record_ids, with_facets=with_facets)
    if sort == "relevance" and isinstance(plan.title, str) and summary.total:
        page = _relevance_page(raw, plan, accepted, summary, limit=limit, offset=offset)
    else:
        page = summary.page(sort=sort, limit=limit, offset=offset)
    return summary.total, _facet_lists(session, summary.counts), page


def _fetch_ids(raw: Any, sql: str, params: Sequence[Any] = ()) -> np.ndarray:
    """The integers an SQLite ``SELECT group_concat(…)`` lists, as an array: one string to
    split instead of a Python row per record (a fifth of the cost for large results)."""
    return _parse_ids(raw.execute(sql, params).fetchone()[0])


def _parse_ids(listed: str | None) -> np.ndarray:
    # numpy's text parser: a sixth of the time of int() per item.
    return np.fromstring(listed, dtype=np.int64, sep=",") if listed else np.zeros(0, np.int64)


_FTS_IDS = "SELECT group_concat(rowid) FROM search_fts WHERE search_fts MATCH ?"


#: Relevance (title hits first): titles with a query word are listed in full when there are
#: at most this many; beyond that, the page is found by reading the titles of the result's
#: documents newest first until it is full (``_scan_page``)...
TITLE_LIST_MAX = 50_000
#: ... reading at most this many documents' titles, else FTS5 intersects the result with the
#: titles (``_intersect_titles``: runs the result's query again).
TITLE_SCAN_MAX = 2_048
_TITLE_IDS = ("SELECT group_concat(rowid) FROM search_title_fts "
              "WHERE search_title_fts MATCH ?")
_TITLE_COUNT = ("SELECT count(*) FROM (SELECT 1 FROM search_title_fts "
                "WHERE search_title_fts MATCH ? LIMIT ?)")
_TITLE_TERM = re.compile(r'"([a-z0-9]+)"(\*?)')


def _relevance_page(raw: Any, plan: Plan, accepted: Sequence[_Row], summary: Summary, *,
                    limit: int, offset: int) -> list[int]:
    """The page in relevance order (documents with a query word in a matching record's title
    first, each group newest first). A title word such as ``kind*`` is in half a million
    titles of a 1M archive: listing those would cost more than the search, but then most of
    the result's documents have it, and the first page is found among the newest few."""
    wanted = offset + limit
    if wanted <= 0:
        return []
    if raw.execute(_TITLE_COUNT, (plan.title, TITLE_LIST_MAX + 1)).fetchone()[0] \
            <= TITLE_LIST_MAX:
        titled = _fetch_ids(raw, _TITLE_IDS, (plan.title,))
    else:
        check = _title_check(plan.title)
        page = _scan_page(raw, summary, check, wanted) if check is not None else None
        if page is not None:
            return page[offset:wanted]
        titled = _intersect_titles(raw, plan, accepted)
    return summary.page(sort="relevance", limit=limit, offset=offset,
                        in_title=members(summary.record_ids, np.sort(titled)))


def _title_check(title: str) -> Callable[[str], bool] | None:
    """``title`` (an OR of tokens and token prefixes, as ``compile_query`` renders a query's
    title words) as a test of a record's ``title_terms``; None for anything else."""
    if re.sub(r"[()\s]|\bOR\b", "", _TITLE_TERM.sub("", title)):
        return None
    exact = {token for token, star in _TITLE_TERM.findall(title) if not star}
    prefixes = tuple(token for token, star in _TITLE_TERM.findall(title) if star)

    def check(terms: str) -> bool:
        return any(word in exact or word.startswith(prefixes) for word in terms.split())

    return check


def _scan_page(raw: Any, summary: Summary, check: Callable[[str], bool],
               wanted: int) -> list[int] | None:
    """The first ``wanted`` documents in relevance order, from the titles of the result's
    documents read newest first; None when TITLE_SCAN_MAX documents did not fill it."""
    order = summary.newest_first()
    titled: list[int] = []
    plain: list[int] = []
    for start in range(0, len(order), 256):
        if start >= TITLE_SCAN_MAX:
            return None
        positions = order[start:start + 256]
        records = summary.records_of(positions)
        listed = ",".join(str(r) for r in np.concatenate(records))
        titles = dict(raw.execute(
            f"SELECT record_id, title_terms FROM search_terms WHERE record_id IN ({listed})"))
        for position, record_ids in zip(positions, records):
            document = int(summary.documents[position])
            if any(check(titles.get(int(r), "")) for r in record_ids):
                titled.append(document)
            else:
                plain.append(document)
        if len(titled) >= wanted:
            return titled[:wanted]
    return titled + plain  # every document read: the whole order


def _intersect_titles(raw: Any, plan: Plan, accepted: Sequence[_Row]) -> np.ndarray:
    """Records of the result with a query word in the title (and maybe others): the index's
    part of the result intersected with the title condition inside FTS5, which skips through
    the postings; records the matcher accepted looked up apart."""
    if not isinstance(plan.lower, str):
        return _fetch_ids(raw, _TITLE_IDS, (plan.title,))
    found = _fetch_ids(raw, _FTS_IDS, (f"({plan.lower}) AND {{title_terms}} : ({plan.title})",))
    if accepted:
        listed = ",".join(str(row.record_id) for row in accepted)
        found = np.union1d(found, _fetch_ids(raw, f"{_TITLE_IDS} AND rowid IN ({listed})",
                                             (plan.title,)))
    return found


def _result_ids(session: Session, raw: Any, plan: Plan, conditions: list[ColumnElement[bool]],
                matched: ColumnElement[bool], accepted: Sequence[_Row],
                arrays: Any) -> np.ndarray:
    """The index rows (record ids) of a result, as an array."""
    extra = np.fromiter((row.record_id for row in accepted), np.int64, len(accepted))
    if not conditions and plan.lower is TRUE:  # every record
        return np.nonzero(arrays.document >= 0)[0].astype(np.int64)
    if not conditions and isinstance(plan.lower, str):  # the FTS5 index alone
        found = _fetch_ids(raw, _FTS_IDS, (plan.lower,))
        return np.union1d(found, extra) if len(extra) else found
    if not conditions and plan.lower is FALSE:
        return np.unique(extra)
    return np.sort(_parse_ids(session.scalar(select(func.group_concat(_SI.c.record_id))
                                             .where(*conditions, matched))))


def _summary(session: Session, conditions: list[ColumnElement[bool]],
             in_title: ColumnElement[bool], *, sort: str, limit: int, offset: int,
             dialect: str, with_facets: bool = True,
             ) -> tuple[int, dict[str, list[tuple[str, int]]], list[int]]:
    """Total, facets and the page's document ids in order, in one statement: the matching
    records are found once (a materialised CTE ``m``), grouped by document once (``d``), and
    counted in the database. A document's facet values come from ``d`` when its matching
    records agree on source and type (nearly always); the others are listed separately."""
    m = select(_SI.c.document_id, _SI.c.source_id, _SI.c.doc_type, _SI.c.day,
               case((in_title, 1), else_=0).label("t")).where(*conditions) \
        .cte("m").prefix_with("MATERIALIZED")
    d = select(m.c.document_id, func.max(m.c.day).label("day"), func.max(m.c.t).label("t"),
               func.min(m.c.source_id).label("s0"), func.max(m.c.source_id).label("s1"),
               func.min(m.c.doc_type).label("k0"), func.max(m.c.doc_type).label("k1")) \
        .group_by(m.c.document_id).cte("d").prefix_with("MATERIALIZED")
    single = and_(d.c.s0 == d.c.s1, or_(d.c.k0 == d.c.k1, d.c.k0.is_(None)))
    order = [d.c.t.desc()] if sort == "relevance" else []
    order += [d.c.day.desc(), d.c.document_id.desc()]
    page = select(d.c.document_id, d.c.t, d.c.day).order_by(*order).limit(limit) \
        .offset(offset).subquery("page")
    # SQLite stores a day as ISO text: its first four characters are cheaper than STRFTIME.
    year = func.substr(d.c.day, 1, 4) if dialect == "sqlite" else \
        cast(extract("year", d.c.day), Integer)
    text_ = String()
    none = cast(literal_column("''"), text_)

    def kind(name: str) -> Any:
        return literal_column(f"'{name}'", text_)

    arms = [select(kind("total"), none, none, none, func.count()).select_from(d)]
    if with_facets:
        arms += _facet_arms(m, d, single, year, kind, none, text_)
    arms.append(select(kind("page"), cast(page.c.day, text_), none, cast(page.c.t, text_),
                       page.c.document_id))
    statement = union_all(*arms)
    return _read_summary(session, statement, sort)


def _facet_arms(m: Any, d: Any, single: Any, year: Any, kind: Any, none: Any,
                text_: Any) -> list[Any]:
    return [
        select(kind("group"), cast(d.c.s0, text_), cast(d.c.k0, text_), cast(year, text_),
               func.count()).where(single).group_by(d.c.s0, d.c.k0, year),
        select(kind("year"), none, none, cast(year, text_), func.count())
        .where(not_(single)).group_by(year),
        select(kind("mixed"), cast(m.c.source_id, text_), cast(m.c.doc_type, text_), none,
               m.c.document_id).distinct()
        .join(d, d.c.document_id == m.c.document_id).where(not_(single)),
        # Probing (document, topic) pairs per result document: cost follows the result.
        select(kind("topic"), cast(Match.topic_id, text_), none, none,
               func.count(func.distinct(Match.document_id)))
        .where(Match.document_id.in_(select(d.c.document_id))).group_by(Match.topic_id),
    ]


def _read_summary(session: Session, statement: Any, sort: str,
                  ) -> tuple[int, dict[str, list[tuple[str, int]]], list[int]]:
    total = 0
    counts: dict[str, Counter[str]] = {name: Counter() for name in FACETS}
    mixed: dict[str, set[tuple[str, str | None]]] = defaultdict(set)
    ranked = []
    for row_kind, a, b, c, n in session.execute(statement):
        if row_kind == "total":
            total = n
        elif row_kind == "group":
            counts["source"][a] += n
            if b is not None:
                counts["doc_type"][b] += n
            counts["year"][str(c)] += n
        elif row_kind == "year":
            counts["year"][str(c)] += n
        elif row_kind == "mixed":
            mixed[n].add((a, b))
        elif row_kind == "topic":
            counts["topic"][a] += n
        else:
            ranked.append((n, int(c), _as_date(a)))
    for values in mixed.values():
        counts["source"].update({source for source, _ in values})
        counts["doc_type"].update({kind_ for _, kind_ in values if kind_ is not None})
    if sort == "relevance":
        ranked.sort(key=lambda x: (x[1], x[2], x[0]), reverse=True)
    else:
        ranked.sort(key=lambda x: (x[2], x[0]), reverse=True)
    return total, _facet_lists(session, counts), [document_id for document_id, _, _ in ranked]


def _facet_lists(session: Session, counts: Mapping[str, Counter[str]],
                 ) -> dict[str, list[tuple[str, int]]]:
    """Facet counts (sources and topics by id) as the lists a result shows: by name, the
    largest first (years newest first)."""
    names = {"source": {str(i): slug for i, slug in session.execute(
                 select(Source.id, Source.slug))} if counts["source"] else {},
             "topic": {str(i): slug for i, slug in session.execute(
                 select(Topic.id, Topic.slug))} if counts["topic"] else {}}
    facets: dict[str, list[tuple[str, int]]] = {}
    for name in FACETS:
        values = [(names[name].get(k, k) if name in names else k, v)
                  for k, v in counts[name].items()]
        if name == "year":
            facets[name] = sorted(values, reverse=True)
        else:
            facets[name] = sorted(values, key=lambda x: (-x[1], x[0]))
    return facets


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def find(session: Session, query: str | Node | None, **filters: Any) -> dict[int, int]:
    """Every matching document (``search``'s filters) → the version shown for it (its newest
    matching record's): a whole result at once, e.g. to store a topic's matches."""
    dialect = session.get_bind().dialect.name
    plan = compile_query(query, dialect)
    if dialect == "sqlite":
        plan = _expand_prefixes(session, plan)
    matcher = Matcher([TopicQuery("zoekvraag", plan.query)]) if plan.node is not None else None
    conditions = _filters(**{
        name: filters.get(name) for name in ("since", "until", "sources", "doc_types",
                                             "event_kinds", "event_since", "event_until",
                                             "topics")}) + _date_conditions(plan)
    matched, _, _ = _checked(session, plan, conditions, matcher)
    if matched is None:
        return {}
    best: dict[int, _Row] = {}
    for row in _rows(session, conditions + [matched]):
        current = best.get(row.document_id)
        if current is None or (_as_date(row.day), row.version_id) > \
                (_as_date(current.day), current.version_id):
            best[row.document_id] = row
    return {document_id: row.version_id for document_id, row in best.items()}


def _hits(session: Session, page: Sequence[int], conditions: list[ColumnElement[bool]],
          matcher: Matcher | None, dialect: str) -> list[SearchHit]:
    """The page's documents as hits: the newest of each document's records that pass the
    filters and match (the matcher decides here, and says why)."""
    if not page:
        return []
    candidates: dict[int, list[_Row]] = defaultdict(list)
    for row in _rows(session, [_in_ids(_SI.c.document_id, page, dialect), *conditions]):
        candidates[row.document_id].append(row)
    for rows in candidates.values():
        rows.sort(key=lambda r: (_as_date(r.day), r.version_id), reverse=True)
    docs = _match_docs(session, [r for rows in candidates.values() for r in rows], dialect)
    identifiers: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for document_id, scheme, value in session.execute(
        select(Identifier.document_id, Identifier.scheme, Identifier.value)
        .where(_in_ids(Identifier.document_id, page, dialect)).order_by(Identifier.id)
    ):
        identifiers[document_id].append((scheme, value))
    sources: dict[int, list[str]] = defaultdict(list)
    for document_id, slug in session.execute(
        select(Record.document_id, Source.slug).join(Source, Source.id == Record.source_id)
        .where(_in_ids(Record.document_id, page, dialect)).order_by(Record.id)
    ):
        sources[document_id].append(slug)
    topics: dict[int, set[str]] = defaultdict(set)
    for document_id, slug in session.execute(
        select(Match.document_id, Topic.slug).join(Topic, Topic.id == Match.topic_id)
        .where(_in_ids(Match.document_id, page, dialect))
    ):
        topics[document_id].add(slug)
    removed = dict(session.execute(
        select(Document.id, Document.removed_at).where(_in_ids(Document.id, page, dialect))
    ).all())
    # The page's documents are known to match: evaluate the query for its reasons without
    # the matcher's trigger pre-check (a necessary condition, so the answer is the same).
    topic = matcher.topics[0] if matcher is not None else None
    hits = []
    for document_id in page:
        shown, why = None, None
        for row in candidates.get(document_id, []):
            if row.version_id not in docs:
                continue
            why = topic.evaluate(prepare(docs[row.version_id].doc)) if topic is not None else None
            if why is not None or topic is None:
                shown = row
                break
        if shown is None:  # not expected: the index and the matcher agree
            continue
        loaded = docs[shown.version_id]
        hits.append(SearchHit(
            document_id=document_id, record_id=shown.record_id, version_id=shown.version_id,
            title=loaded.doc.title, doc_type=loaded.doc.doc_type, day=_as_date(shown.day),
            url=loaded.url, source=loaded.doc.source,
            sources=tuple(dict.fromkeys(sources[document_id])),
            identifiers=tuple(dict.fromkeys(identifiers[document_id])),
            topics=tuple(sorted(topics[document_id])), match=why,
            removed=removed.get(document_id) is not None,
        ))
    return hits


def scan(session: Session, query: str, **filters: Any) -> set[int]:
    """The documents a full scan through the matcher finds (``backtest(latest_only=True)``),
    for the same period filter: what ``search`` must agree with (tests, benchmarks)."""
    from storage.topics import backtest

    result = backtest(session, Matcher([TopicQuery("zoekvraag", query)]), latest_only=True,
                      since=filters.get("since"), until=filters.get("until"))
    return {h.document_id for h in result.hits}
