"""The archive on SQLite and PostgreSQL: schema, append-only versions, typed events, idempotency."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, inspect, select, text
from sqlalchemy.exc import IntegrityError

from storage.archive import Observation, Outcome, content_hash, ensure_source, record_observation
from storage.db import (
    check_schema, head_revision, make_engine, refresh_statistics, session_factory, upgrade,
)
from storage.errors import DatabaseUnavailable, SchemaOutOfDate
from storage.models import ChangeEvent, Document, Identifier, Record, Version
from storage.runs import add_error, finish_run, source_health, start_run

T0 = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)

TABLES = {
    "source", "document", "record", "identifier", "version", "change_event", "topic", "match",
    "crawl_run", "digest", "digest_entry",
}


def observation(**overrides: object) -> Observation:
    values: dict[str, object] = {
        "source": "tweedekamer",
        "key": "Document/0001",
        "url": "https://example.test/Document(0001)/resource",
        "fetched_at": T0,
        "title": "Voortgang Actieplan Samen tegen Mensenhandel",
        "text": "Brief regering\nDossier 28638: Mensenhandel",
        "doc_type": "Brief regering",
        "published_at": datetime(2026, 11, 17, tzinfo=UTC),
        "identifiers": (("dossier", "28638"), ("kamerstuk", "kst-28638-250")),
    }
    values.update(overrides)
    return Observation(**values)  # type: ignore[arg-type]


def store(engine: Engine, obs: Observation, now: datetime = T0) -> Outcome:
    Session = session_factory(engine)
    with Session.begin() as session:
        source = ensure_source(session, obs.source, kind="spider", title="Tweede Kamer")
        return record_observation(session, source, obs, now=now).outcome


def count(engine: Engine, model: type) -> int:
    with session_factory(engine)() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def events(engine: Engine) -> list[tuple[str, dict]]:
    with session_factory(engine)() as session:
        return [(e.kind, e.detail) for e in session.scalars(select(ChangeEvent).order_by(ChangeEvent.id))]


def test_migration_creates_every_table_and_is_current(engine: Engine) -> None:
    assert TABLES <= set(inspect(engine).get_table_names())
    check_schema(engine)
    assert upgrade(engine) == (head_revision(), head_revision())


def test_unmigrated_database_is_reported(database_url: str) -> None:
    engine = make_engine(database_url)
    with pytest.raises(SchemaOutOfDate, match="beleidsradar init"):
        check_schema(engine)
    engine.dispose()


def test_sqlite_pragmas(tmp_path) -> None:
    engine = make_engine(str(tmp_path / "a.db"))
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    engine.dispose()


def test_unreachable_databases_raise_our_error(tmp_path) -> None:
    with pytest.raises(DatabaseUnavailable, match="does not exist"):
        make_engine(str(tmp_path / "missing" / "a.db"))
    engine = make_engine("postgresql://nobody@127.0.0.1:1/none")
    with pytest.raises(DatabaseUnavailable):
        check_schema(engine)


def test_new_then_unchanged_is_idempotent(engine: Engine) -> None:
    assert store(engine, observation()) == Outcome.NEW
    assert store(engine, observation(), now=T0 + timedelta(days=1)) == Outcome.UNCHANGED
    # Whitespace and Unicode normal form are not content changes.
    assert store(engine, observation(text="Brief  regering\n\nDossier 28638:   Mensenhandel")) \
        == Outcome.UNCHANGED
    assert (count(engine, Document), count(engine, Record), count(engine, Version)) == (1, 1, 1)
    assert [kind for kind, _ in events(engine)] == ["new"]
    with session_factory(engine)() as session:
        record = session.scalars(select(Record)).one()
        assert record.first_seen_at == T0
        assert record.last_seen_at == T0  # last store call used T0 again
        ids = set(session.execute(select(Identifier.scheme, Identifier.value)))
        assert ids == {("dossier", "28638"), ("kamerstuk", "kst-28638-250")}


def test_content_change_adds_a_version_and_a_changed_event(engine: Engine) -> None:
    store(engine, observation())
    later = T0 + timedelta(days=7)
    changed = observation(
        title="Voortgang Actieplan Samen tegen Mensenhandel (herdruk)",
        text="Brief regering\nDossier 28638: Mensenhandel\nVersie 2",
        fetched_at=later,
    )
    assert store(engine, changed, now=later) == Outcome.CHANGED
    with session_factory(engine)() as session:
        versions = session.scalars(select(Version).order_by(Version.number)).all()
        assert [v.number for v in versions] == [1, 2]
        assert versions[0].title == "Voortgang Actieplan Samen tegen Mensenhandel"  # untouched
        assert versions[1].content_hash == content_hash(changed.title, changed.text)
        document = session.scalars(select(Document)).one()
        assert document.title.endswith("(herdruk)")
        assert document.last_changed_at == later
    kinds = events(engine)
    assert [k for k, _ in kinds] == ["new", "changed"]
    assert kinds[1][1] == {
        "from_version": 1, "words_added": 3, "words_removed": 0, "title_changed": True,
    }


def test_status_facets_make_status_events_not_versions(engine: Engine) -> None:
    zaak = observation(key="Zaak/1", status={"zaak_status": "Vrijgegeven"})
    assert store(engine, zaak) == Outcome.NEW
    voted = observation(key="Zaak/1", status={"besluit": "Stemmen - aangenomen",
                                               "stemming": "Voor 88, Tegen 62"})
    assert store(engine, voted) == Outcome.STATUS
    assert store(engine, voted) == Outcome.UNCHANGED
    assert count(engine, Version) == 1
    kinds = events(engine)
    assert [k for k, _ in kinds] == ["new", "status"]
    assert kinds[1][1] == {"changes": {"besluit": [None, "Stemmen - aangenomen"],
                                       "stemming": [None, "Voor 88, Tegen 62"]}}
    with session_factory(engine)() as session:
        # Facets not mentioned again are kept.
        assert session.scalars(select(Record)).one().status == {
            "zaak_status": "Vrijgegeven", "besluit": "Stemmen - aangenomen",
            "stemming": "Voor 88, Tegen 62",
        }


def test_removed_then_restored(engine: Engine) -> None:
    store(engine, observation())
    gone = observation(removed=True, title="", text="")
    assert store(engine, gone, now=T0 + timedelta(days=1)) == Outcome.REMOVED
    assert store(engine, gone, now=T0 + timedelta(days=2)) == Outcome.IGNORED
    with session_factory(engine)() as session:
        assert session.scalars(select(Document)).one().removed_at == T0 + timedelta(days=1)
    assert store(engine, observation(), now=T0 + timedelta(days=3)) == Outcome.CHANGED
    assert count(engine, Version) == 1  # same content: no new version, but a restore event
    assert [k for k, _ in events(engine)] == ["new", "removed", "changed"]
    assert events(engine)[2][1] == {"restored": True}
    # A removal of something never seen is ignored, not invented.
    assert store(engine, observation(key="Document/never", removed=True)) == Outcome.IGNORED
    assert count(engine, Record) == 1


def test_identifiers_accumulate(engine: Engine) -> None:
    store(engine, observation(identifiers=(("dossier", "28638"),)))
    store(engine, observation(identifiers=(("officielebekendmakingen", "kst-28638-250"),)))
    with session_factory(engine)() as session:
        assert session.scalar(select(func.count(Identifier.id))) == 2


def test_versions_are_unique_per_record(engine: Engine) -> None:
    store(engine, observation())
    Session = session_factory(engine)
    with pytest.raises(IntegrityError), Session.begin() as session:
        version = session.scalars(select(Version)).one()
        session.add(Version(record_id=version.record_id, document_id=version.document_id,
                            number=1, content_hash="x", meta={}, fetched_at=T0))


def test_timestamps_come_back_aware_utc(engine: Engine) -> None:
    store(engine, observation(published_at=datetime.fromisoformat("2026-11-17T00:00:00+01:00")))
    with session_factory(engine)() as session:
        version = session.scalars(select(Version)).one()
        assert version.published_at == datetime(2026, 11, 16, 23, 0, tzinfo=UTC)
        assert version.published_at.tzinfo is not None


def test_crawl_run_account_and_cursor(engine: Engine) -> None:
    Session = session_factory(engine)
    with Session.begin() as session:
        source = ensure_source(session, "tweedekamer", kind="spider", title="Tweede Kamer")
        run = start_run(session, source, mode="live", now=T0)
        run.fetched, run.new = 3, 2
        add_error(run, "https://example.test/p2", "HttpError: 503")
        finish_run(session, run, now=T0, finish_reason="finished",
                   cursor={"Document": "2026-11-20T16:59:01.1234567Z"})
    with Session() as session:
        [health] = source_health(session)
        assert health.health == "partial"
        assert health.cursor == {"Document": "2026-11-20T16:59:01.1234567Z"}
        assert health.last_run is not None and health.last_run.errors == [
            {"url": "https://example.test/p2", "reason": "HttpError: 503"}
        ]
        assert health.last_success_at is None


def test_status_stated_twice_in_one_run_gives_one_event_whatever_the_order(engine: Engine) -> None:
    Session = session_factory(engine)

    def run(observations: list[Observation]) -> list[tuple[str, dict]]:
        with Session.begin() as session:
            source = ensure_source(session, "tweedekamer", kind="spider", title="TK")
            crawl = start_run(session, source, mode="live", now=T0)
            for obs in observations:
                record_observation(session, source, obs, now=T0, crawl_run_id=crawl.id)
            return [(e.kind, e.detail) for e in session.scalars(
                select(ChangeEvent).where(ChangeEvent.crawl_run_id == crawl.id)
                .order_by(ChangeEvent.id))]

    row = observation(key="Zaak/9", status={"afgedaan": "nee"})
    vote = observation(key="Zaak/9", status={"afgedaan": "nee", "besluit": "Stemmen - aangenomen"})
    assert run([row, vote]) == [("new", {"status": {"afgedaan": "nee",
                                                    "besluit": "Stemmen - aangenomen"}})]
    done = observation(key="Zaak/9", status={"afgedaan": "ja"})
    withdrawn = observation(key="Zaak/9", status={"besluit": "Ingetrokken"})
    back = observation(key="Zaak/9", status={"besluit": "Stemmen - aangenomen"})
    assert run([done, withdrawn, back]) == [("status", {"changes": {"afgedaan": ["nee", "ja"]}})]


def test_a_source_is_crawled_by_one_process_at_a_time(engine: Engine) -> None:
    import os
    import socket
    import subprocess
    import sys

    from storage.models import CrawlRun
    from storage.runs import busy_sources

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()  # a pid that no longer lives
    here = socket.gethostname()
    Session = session_factory(engine)
    with Session.begin() as session:
        for slug, host, pid, age in [("a", here, os.getpid(), 0), ("b", here, gone.pid, 0),
                                     ("c", "elders", 1, 1), ("d", "elders", 1, 13)]:
            source = ensure_source(session, slug, kind="spider", title=slug)
            start_run(session, source, mode="live", now=T0 - timedelta(hours=age), host=host,
                      pid=pid)
    with Session.begin() as session:
        busy = busy_sources(session, ["a", "b", "c", "d"], host=here, now=T0,
                            alive=lambda pid: pid == os.getpid())
        assert sorted(b.source for b in busy) == ["a", "c"]
    with Session() as session:
        runs = {r.source.slug: r for r in session.scalars(select(CrawlRun))}
        assert runs["b"].status == runs["d"].status == "failed"
        assert runs["b"].errors[0]["reason"].startswith(f"interrupted: process {gone.pid}")
        assert runs["a"].status == runs["c"].status == "running"


@pytest.mark.postgres
def test_statistics_are_refreshed_where_postgresql_does_not_keep_them(
        postgres_schema_url: str) -> None:
    """With autovacuum off (as on the project machine) a crawl's tables never get statistics
    and the planner scans them; `refresh_statistics` analyzes them then, and only then."""
    engine = make_engine(postgres_schema_url)
    try:
        upgrade(engine)
        with engine.connect() as connection:
            autovacuum = connection.exec_driver_sql("SHOW autovacuum").scalar()
        assert refresh_statistics(engine) is (autovacuum == "off")
        with engine.connect() as connection:
            analyzed = connection.execute(text(
                "SELECT count(*) FROM pg_stat_user_tables WHERE schemaname = current_schema() "
                "AND relname = 'identifier' AND last_analyze IS NOT NULL")).scalar()
        assert analyzed == (1 if autovacuum == "off" else 0)
    finally:
        engine.dispose()


def test_sqlite_needs_no_statistics(tmp_path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'archive.db'}")
    upgrade(engine)
    assert refresh_statistics(engine) is False
    engine.dispose()
