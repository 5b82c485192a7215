"""SQLite counts search results from facet columns held in memory (storage/search_columns.py):
the same totals, facets and pages as counting in SQL, kept up to date as the archive changes.
SQLite only by design: PostgreSQL counts in SQL (tests/test_search.py runs both)."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import Engine, select

import storage.search as search_module
from monitors.matching import MatchDoc
from monitors.topics import DEFAULT_TOPICS, load_topics
from storage.archive import Observation, ensure_source, record_observation
from storage.db import make_engine, session_factory, upgrade
from storage.identity import split_record
from storage.models import Record, Topic
from storage.search import load_counts, search
from storage.search_columns import _page, columns_for, prune_match_log
from storage.topics import active_matcher, backfill, import_topics, record_matches
from tests.test_search import QUERIES, T0, corpus_observations, store

FILTERS = [
    {}, {"sort": "date"}, {"offset": 3, "limit": 4}, {"since": date(2026, 6, 1)},
    {"until": date(2026, 6, 30), "sort": "date"}, {"sources": ["tweedekamer"]},
    {"doc_types": ["Motie", "Brief regering"]}, {"topics": ["mensenhandel"]},
    {"event_kinds": ["new"], "event_since": date(2026, 11, 1)},
]


@pytest.fixture
def sqlite_archive(tmp_path: Path) -> Engine:
    engine = make_engine(str(tmp_path / "archive.db"))
    upgrade(engine)
    store(engine, corpus_observations())
    with session_factory(engine).begin() as session:
        import_topics(session, load_topics(DEFAULT_TOPICS), by="test", now=T0)
    yield engine
    engine.dispose()


def store_and_match(engine: Engine, observations: list[Observation]) -> None:
    """Store as a crawl does: each new version matched against the active topics."""
    with session_factory(engine).begin() as session:
        matcher, topic_ids = active_matcher(session)
        for obs in observations:
            source = ensure_source(session, obs.source, kind="spider", title=obs.source)
            result = record_observation(session, source, obs, now=T0)
            if result.version_id is not None:
                doc = MatchDoc(title=obs.title, text=obs.text, source=obs.source,
                               doc_type=obs.doc_type, published_at=obs.published_at,
                               identifiers={s: [v] for s, v in obs.identifiers})
                record_matches(session, matcher.match(doc), topic_ids,
                               document_id=result.document_id, version_id=result.version_id,
                               now=T0, fresh=True)


def both_ways(engine: Engine, query: str, monkeypatch: pytest.MonkeyPatch,
              **options: object) -> tuple[tuple, tuple]:
    answers = []
    for in_memory in (False, True):
        monkeypatch.setattr(search_module, "COUNT_IN_MEMORY", in_memory)
        with session_factory(engine)() as session:
            load_counts(session)
            result = search(session, query, **options)  # type: ignore[arg-type]
        answers.append((result.total, result.facets, [h.document_id for h in result.hits],
                        [h.version_id for h in result.hits]))
    return answers[0], answers[1]


# Relevance's three ways to the page: titles listed; the newest documents' titles read (as
# for a title word in more than TITLE_LIST_MAX titles); FTS5 intersecting (as when reading
# TITLE_SCAN_MAX documents did not fill the page).
@pytest.mark.parametrize("title_list_max,title_scan_max", [(50_000, 2_048), (0, 2_048), (0, 0)])
def test_counted_in_memory_as_in_sql(sqlite_archive: Engine, monkeypatch: pytest.MonkeyPatch,
                                     title_list_max: int, title_scan_max: int) -> None:
    monkeypatch.setattr(search_module, "TITLE_LIST_MAX", title_list_max)
    monkeypatch.setattr(search_module, "TITLE_SCAN_MAX", title_scan_max)
    queries = QUERIES + [t.query for t in load_topics(DEFAULT_TOPICS)] + ["", "kind* OR motie"]
    differing, nonempty = [], 0
    for query in queries:
        for options in FILTERS:
            in_sql, in_memory = both_ways(sqlite_archive, query, monkeypatch, **options)
            nonempty += in_sql[0] > 0
            if in_sql != in_memory:
                differing.append((query, options, in_sql, in_memory))
    assert not differing
    assert nonempty > len(queries)  # the comparison compared results, not empty lists


def test_columns_follow_the_archive(sqlite_archive: Engine,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    engine = sqlite_archive

    def agree(query: str) -> int:
        in_sql, in_memory = both_ways(engine, query, monkeypatch)
        assert in_sql == in_memory
        return in_sql[0]

    assert agree("slavernijverleden") == 0
    columns = columns_for(str(engine.url))
    reloads = columns.reload

    def observation(key: str, title: str, **fields: object) -> Observation:
        values = {"source": "tweedekamer", "key": key, "url": f"https://example.test/{key}",
                  "fetched_at": T0, "title": title, "text": "Over mensenhandel.",
                  "doc_type": "Motie", "published_at": T0, **fields}
        return Observation(**values)  # type: ignore[arg-type]

    # New records and their matches (as a crawl stores them): read as changes, no reload.
    a = observation("m1", "Motie over slavernijverleden", text="Een motie.")
    b = observation("m2", "Motie slavernijverleden (publicatie)", doc_type="Kamerstuk",
                    source="officielebekendmakingen", published_at=T0 - timedelta(days=400),
                    identifiers=(("kamerstuk", "kst-36999-7"),))
    store_and_match(engine, [a, b])
    assert agree("slavernijverleden") == 2
    # A merge moves index rows and matches to the other document: its type, year and topic
    # facets change; the moved matches are read from the log, nothing is loaded again.
    store_and_match(engine, [replace(a, identifiers=(("kamerstuk", "kst-36999-7"),))])
    assert agree("slavernijverleden") == 1
    # Stored, matched and merged between two searches: the match is read once, as it is now.
    c = observation("m3", "Brief over slavernijverleden en uitbuiting")
    d = observation("m4", "Brief slavernijverleden", source="officielebekendmakingen",
                    doc_type="Kamerstuk", text="Gepubliceerd.",
                    identifiers=(("kamerstuk", "kst-36999-9"),))
    store_and_match(engine, [d, c])  # the older document stays: c's match moves
    store_and_match(engine, [replace(c, identifiers=(("kamerstuk", "kst-36999-9"),))])
    assert agree("slavernijverleden") == 2
    # Records split off again: their matches move with them (m4's document keeps none).
    for key, documents in (("m3", 3), ("m2", 4)):
        with session_factory(engine).begin() as session:
            record = session.scalars(select(Record).where(Record.key == key)).one()
            split_record(session, record, now=T0)
        assert agree("slavernijverleden") == documents
    assert agree("mensenhandel") > 0
    assert columns.reload == reloads and columns.log_max > 0
    # A move this process has not read yet, then the log emptied (after a crawl, when it has
    # grown): the columns load again rather than miss the move (m6's match moves to the
    # document of m5, which no topic matched before).
    store_and_match(engine, [observation("m5", "Motie slavernijverleden", text="Een motie.",
                                         identifiers=(("kamerstuk", "kst-36999-11"),))])
    loud = observation("m6", "Brief slavernijverleden", text="Over mensenhandel.")
    store_and_match(engine, [loud])
    assert agree("slavernijverleden") == 6
    with session_factory(engine).begin() as session:
        assert prune_match_log(session.connection(), keep=10_000) == 0  # not grown: kept
    store_and_match(engine, [replace(loud, identifiers=(("kamerstuk", "kst-36999-11"),))])
    with session_factory(engine).begin() as session:
        assert prune_match_log(session.connection(), keep=0) > 0
    assert agree("slavernijverleden") == 5
    assert columns.reload == reloads + 1
    reloads = columns.reload
    # A topic matched again (its matches deleted and written anew): everything reloaded.
    with session_factory(engine).begin() as session:
        topics = session.scalars(select(Topic).where(Topic.slug == "mensenhandel")).all()
        backfill(session, topics, now=T0)
    assert agree("mensenhandel") > 0 and columns.reload > reloads
    # Another archive file at the same path is not taken for this one.
    engine.dispose()
    path = Path(str(engine.url.database))
    path.unlink()
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    fresh = make_engine(str(path))
    upgrade(fresh)
    with session_factory(fresh)() as session:
        load_counts(session)
        result = search(session, "")
        assert result.total == 0 and result.facets["source"] == []
    store(fresh, [a])
    with session_factory(fresh)() as session:
        assert search(session, "").total == 1
    fresh.dispose()


def test_page_order_and_selection() -> None:
    rng = random.Random(7)
    for size in (1, 5, 40, 400):
        documents = np.array(sorted(rng.sample(range(1, 5000), size)), np.int64)
        days = np.array([rng.randrange(19000, 19010) for _ in range(size)], np.int32)
        titled = np.array([rng.random() < 0.3 for _ in range(size)], np.bool_)
        for sort in ("relevance", "date"):
            def key(i: int) -> tuple:
                lead = (bool(titled[i]),) if sort == "relevance" else ()
                return (*lead, int(days[i]), int(documents[i]))
            expected = [int(documents[i]) for i in sorted(range(size), key=key, reverse=True)]
            for offset, limit in ((0, 20), (0, 1), (3, 7), (size - 1, 5), (size, 5), (0, 0)):
                assert _page(documents, days, titled, sort=sort, limit=limit,
                             offset=offset) == expected[offset:offset + limit]
