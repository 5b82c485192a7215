"""SQLite: the search index's facet columns held in memory, to count large results.

A search on SQLite finds its records with FTS5 in a few milliseconds, but counting what it
found in SQL (the documents, their newest day, facets by source, type, year and topic, the
page in relevance order) cost about 6 µs per matching record: 300 ms for the 50,000 documents
of a broad topic in a 1-million-document archive (bench/RESULTS.md, archive search). Here the
few columns those counts read (document, source, type, day of every index row; the documents
of every topic) are arrays in the searching process, and a result is counted with numpy in a
fraction of that. This is what search engines call doc values or a field cache.

The arrays are brought up to date before every search by reading only what changed: each
``search_index`` row carries the change number of its last change (``seq``, kept by triggers
of migration 0010); new ``match`` rows are read by id, matches moved to another document (a
merge, a split) from a log the triggers keep; rare operations that delete (a topic
re-matched, a record gone) bump a ``reload`` number, after which everything is loaded again
(about four seconds per million records); so does emptying the log of moves when it has grown
(``prune_match_log``, after crawls). PostgreSQL keeps counting in
SQL (storage.search._summary); both give the same answer (tests/test_search_columns.py).
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np

#: julianday() of 1970-01-01 00:00: days are held as days since then.
_EPOCH_JULIAN = 2440587.5
_ROW = ("SELECT record_id, document_id, source_id, doc_type, "
        f"CAST(julianday(day) - {_EPOCH_JULIAN} AS INTEGER) FROM search_index")
_STATE = "SELECT name, value FROM search_state WHERE name IN ('instance', 'seq', 'reload')"
_MOVES = ("SELECT id, match_id, old_document, old_topic, new_document, new_topic "
          "FROM search_match_log WHERE id > ? ORDER BY id")


class Columns:
    """One archive's facet columns in this process (one per database file, shared by the
    threads of a web server; ``refresh`` under a lock, reads of a consistent set of arrays)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.instance: int | None = None
        self.seq = -1
        self.reload = -1
        self.match_max = 0
        self.log_max = 0
        self.arrays = _Arrays.empty()
        self.kinds: dict[str | None, int] = {None: 0}
        self.kind_names: list[str | None] = [None]
        #: topic id → document id → its match rows (a document counts while it has one)
        self.topic_docs: dict[int, dict[int, int]] = {}
        self.topic_arrays: dict[int, np.ndarray] = {}
        self.max_document = 0

    def refresh(self, connection: Any) -> _Arrays:
        """Bring the columns up to what ``connection`` (sqlite3) sees; return them. Everything
        is read in one transaction (one snapshot), so that new matches and the log of moved
        ones are read as of the same moment."""
        with self.lock:
            own = not connection.in_transaction
            if own:
                connection.execute("BEGIN")
            try:
                self._refresh(connection)
            finally:
                if own:
                    connection.execute("COMMIT")
            return self.arrays

    def _refresh(self, connection: Any) -> None:
        state = dict(connection.execute(_STATE).fetchall())
        instance, seq, reload = state["instance"], state["seq"], state["reload"]
        if instance != self.instance or reload > self.reload:
            self._load_all(connection, instance, seq, reload)
            return
        if seq > self.seq:  # (an older snapshot, the caller's transaction, changes nothing)
            self._apply(connection.execute(f"{_ROW} WHERE seq > ?", (self.seq,)).fetchall())
            self.seq = seq
        counted = self.match_max
        self._add_matches(connection.execute(
            'SELECT id, document_id, topic_id FROM "match" WHERE id > ?', (counted,)).fetchall())
        for log_id, match_id, old_document, old_topic, new_document, new_topic in \
                connection.execute(_MOVES, (self.log_max,)).fetchall():
            self.log_max = max(self.log_max, log_id)
            if match_id <= counted:  # a newer match was read as it is now
                self._count(old_topic, old_document, -1)
                self._count(new_topic, new_document, +1)

    def _load_all(self, connection: Any, instance: int, seq: int, reload: int) -> None:
        self.arrays = _Arrays.empty()
        self.kinds, self.kind_names = {None: 0}, [None]
        self.topic_docs, self.topic_arrays, self.match_max, self.max_document = {}, {}, 0, 0
        self._apply(connection.execute(_ROW).fetchall())
        self._add_matches(connection.execute(
            'SELECT id, document_id, topic_id FROM "match"').fetchall())
        self.log_max = connection.execute(
            "SELECT coalesce(max(id), 0) FROM search_match_log").fetchone()[0]
        self.instance, self.seq, self.reload = instance, seq, reload

    def _apply(self, rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        record_ids, documents, sources, kinds, days = zip(*rows)
        codes = [self._kind(kind) for kind in kinds]
        ids = np.fromiter(record_ids, np.int64, len(rows))
        arrays = self.arrays.grown(int(ids.max()) + 1)
        arrays.document[ids] = documents
        arrays.source[ids] = sources
        arrays.kind[ids] = codes
        arrays.day[ids] = days
        self.max_document = max(self.max_document, max(documents))
        self.arrays = arrays

    def _kind(self, kind: str | None) -> int:
        code = self.kinds.get(kind)
        if code is None:
            code = self.kinds[kind] = len(self.kind_names)
            self.kind_names.append(kind)
        return code

    def _add_matches(self, rows: list[tuple[int, int, int]]) -> None:
        for match_id, document_id, topic_id in rows:
            self._count(topic_id, document_id, +1)
            self.match_max = max(self.match_max, match_id)

    def _count(self, topic_id: int, document_id: int, change: int) -> None:
        documents = self.topic_docs.setdefault(topic_id, {})
        left = documents.get(document_id, 0) + change
        if left > 0:
            documents[document_id] = left
        else:
            documents.pop(document_id, None)
        self.topic_arrays.pop(topic_id, None)
        self.max_document = max(self.max_document, document_id)

    def topics(self) -> list[tuple[int, np.ndarray]]:
        """Each topic's matched documents as an array (built once per change)."""
        with self.lock:
            for topic_id, documents in self.topic_docs.items():
                if topic_id not in self.topic_arrays:
                    self.topic_arrays[topic_id] = np.fromiter(documents, np.int64,
                                                              len(documents))
            return list(self.topic_arrays.items())


@dataclass(frozen=True)
class _Arrays:
    """The columns by record id (document -1: no index row with that id)."""

    document: np.ndarray
    source: np.ndarray
    kind: np.ndarray
    day: np.ndarray

    @classmethod
    def empty(cls) -> _Arrays:
        return cls(np.full(0, -1, np.int64), np.zeros(0, np.int32), np.zeros(0, np.int32),
                   np.zeros(0, np.int32))

    def grown(self, size: int) -> _Arrays:
        """These arrays if they hold ``size`` ids, else copies with room for a quarter more
        (a new set of arrays: a search reading the old ones meanwhile is not disturbed)."""
        if size <= len(self.document):
            return self
        size = max(size, len(self.document) * 5 // 4)

        def grow(array: np.ndarray, fill: int) -> np.ndarray:
            bigger = np.full(size, fill, array.dtype)
            bigger[:len(array)] = array
            return bigger

        return _Arrays(grow(self.document, -1), grow(self.source, 0), grow(self.kind, 0),
                       grow(self.day, 0))


_COLUMNS: dict[str, Columns] = {}
_COLUMNS_LOCK = threading.Lock()


#: Moves of matches the log keeps for processes whose columns have not read them yet; at the
#: end of a crawl with more than this, the log is emptied and every process loads its columns
#: again once (about four seconds per million records).
MATCH_LOG_MAX = 100_000


def prune_match_log(connection: Any, keep: int = MATCH_LOG_MAX) -> int:
    """SQLite: empty the log of moved matches when it holds more than ``keep`` moves, telling
    every process to load its columns again (so none misses a move it had not read yet).
    ``connection``: a SQLAlchemy connection in a transaction. Returns the moves removed."""
    if connection.dialect.name != "sqlite":
        return 0
    held = connection.exec_driver_sql("SELECT count(*) FROM search_match_log").scalar()
    if held <= keep:
        return 0
    connection.exec_driver_sql("DELETE FROM search_match_log")
    connection.exec_driver_sql(
        "UPDATE search_state SET value = value + 1 WHERE name = 'reload'")
    return int(held)


def columns_for(database: str) -> Columns:
    """The columns of the archive at ``database`` (a file path) in this process."""
    with _COLUMNS_LOCK:
        return _COLUMNS.setdefault(database, Columns())


@dataclass
class Summary:
    """A result counted: its documents (ascending), each one's date (its newest matching
    record's day), which document each of ``record_ids`` belongs to, and the facets."""

    record_ids: np.ndarray
    documents: np.ndarray
    days: np.ndarray
    which: np.ndarray
    #: facet name → Counter of source ids / type names / years / topic ids (as text)
    counts: dict[str, Counter[str]]

    @property
    def total(self) -> int:
        return len(self.documents)

    def page(self, *, sort: str, limit: int, offset: int,
             in_title: np.ndarray | None = None) -> list[int]:
        """The page's document ids; ``in_title``: which of ``record_ids`` have a query word in
        the title (relevance: such documents first)."""
        titled = np.zeros(len(self.documents), np.bool_)
        if in_title is not None and sort == "relevance":
            titled[self.which[in_title]] = True
        return _page(self.documents, self.days, titled, sort=sort, limit=limit, offset=offset)

    def newest_first(self) -> np.ndarray:
        """Indexes into ``documents``, newest first (ties: the newest document id first)."""
        return np.lexsort((self.documents, self.days))[::-1]

    def records_of(self, positions: np.ndarray) -> list[np.ndarray]:
        """For documents at these positions (into ``documents``), their result records."""
        if not hasattr(self, "_by_document"):
            order = np.argsort(self.which, kind="stable")
            self._by_document = (order, np.searchsorted(self.which[order],
                                                        np.arange(len(self.documents) + 1)))
        order, bounds = self._by_document
        return [self.record_ids[order[bounds[p]:bounds[p + 1]]] for p in positions]


def summarise(columns: Columns, arrays: _Arrays, record_ids: np.ndarray, *,
              with_facets: bool) -> Summary:
    """Count a result (its index rows ``record_ids``) as storage.search._summary does in SQL:
    documents, each dated by its newest matching record; facets per document (a document
    counts once for each source and type among its matching records, for the year of its
    date, for each topic that matched it)."""
    counts: dict[str, Counter[str]] = {name: Counter() for name in
                                       ("topic", "source", "doc_type", "year")}
    if len(record_ids) == 0:
        empty = np.zeros(0, np.int64)
        return Summary(record_ids, empty, np.zeros(0, np.int32), empty, counts)
    documents_of = arrays.document[record_ids]
    days_of = arrays.day[record_ids]
    documents, which = _grouped(documents_of)
    days = np.full(len(documents), np.iinfo(np.int32).min, np.int32)
    np.maximum.at(days, which, days_of)
    if with_facets:
        _facets(columns, arrays, record_ids, documents, which, days, counts)
    return Summary(record_ids, documents, days, which, counts)


def _facets(columns: Columns, arrays: _Arrays, record_ids: np.ndarray, documents: np.ndarray,
            which: np.ndarray, days: np.ndarray, counts: dict[str, Counter[str]]) -> None:
    years, per_year = np.unique(
        days.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970,
        return_counts=True)
    counts["year"].update({str(y): int(n) for y, n in zip(years, per_year)})
    for name, column in (("source", arrays.source), ("doc_type", arrays.kind)):
        values = column[record_ids].astype(np.int64)
        width = int(values.max()) + 1
        if len(documents) < len(record_ids):  # (document, value) once per document
            values = _distinct(which * width + values) % width
        per_value = np.bincount(values, minlength=width)
        for value in np.nonzero(per_value)[0]:
            if name == "source":
                counts[name][str(value)] = int(per_value[value])
            elif value != 0:  # documents without a type are not counted under one
                kind = columns.kind_names[value]
                counts[name][str(kind)] = int(per_value[value])
    in_result = np.zeros(max(columns.max_document, int(documents.max())) + 1, np.bool_)
    in_result[documents] = True
    for topic_id, matched in columns.topics():
        # (a newer document than this result's, matched since another thread's refresh)
        matched = matched[matched < len(in_result)]
        found = int(np.count_nonzero(in_result[matched]))
        if found:
            counts["topic"][str(topic_id)] = found


def _grouped(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(values, return_inverse=True)`` by one stable sort (numpy's own is slower
    on these sizes)."""
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    first = np.empty(len(values), np.bool_)
    first[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    which = np.empty(len(values), np.int64)
    which[order] = np.cumsum(first) - 1
    return ordered[first], which


def _distinct(values: np.ndarray) -> np.ndarray:
    """The distinct values, sorted (numpy 2's hashing ``np.unique`` is slower here)."""
    ordered = np.sort(values)
    first = np.empty(len(ordered), np.bool_)
    first[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    return ordered[first]


def members(values: np.ndarray, sorted_set: np.ndarray) -> np.ndarray:
    """Which of ``values`` are in ``sorted_set`` (ascending): ``np.isin`` by binary search."""
    if len(sorted_set) == 0:
        return np.zeros(len(values), np.bool_)
    found = np.searchsorted(sorted_set, values)
    return sorted_set[np.minimum(found, len(sorted_set) - 1)] == values


def _page(documents: np.ndarray, days: np.ndarray, titled: np.ndarray, *, sort: str,
          limit: int, offset: int) -> list[int]:
    """The page's document ids: newest first (title hits first for relevance), ties by the
    newest document id, as ``ORDER BY t DESC, day DESC, document_id DESC``."""
    wanted = offset + limit
    if wanted <= 0 or offset >= len(documents):
        return []
    keys = (documents, days, titled) if sort == "relevance" else (documents, days)
    if wanted < len(documents) // 4:
        # Only the first `wanted` in order are needed: select candidates by the leading key
        # first (argpartition is linear), then order just those.
        lead = days.astype(np.int64) + (titled.astype(np.int64) << 32 if sort == "relevance"
                                        else 0)
        cut = np.partition(lead, len(lead) - wanted)[len(lead) - wanted]
        chosen = np.nonzero(lead >= cut)[0]
        order = chosen[np.lexsort(tuple(key[chosen] for key in keys))[::-1]]
    else:
        order = np.lexsort(keys)[::-1]
    return [int(d) for d in documents[order[offset:wanted]]]
