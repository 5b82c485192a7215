"""`beleidsradar backup` and `restore`: a restored archive has exactly the rows of the original,
on SQLite and PostgreSQL; a backup taken while a crawl writes is one consistent snapshot; a
non-empty archive is only replaced with --force; an older backup is upgraded."""

from __future__ import annotations

import sqlite3
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import func, select, text

from monitors.topics import DEFAULT_TOPICS, load_topics
from reports.deliver import ensure_stored
from reports.periods import parse_week
from storage.archive import Observation, ensure_source, record_observation
from storage.backup import backup, is_empty
from storage.db import (_alembic_config, check_schema, current_revision, head_revision,
                        make_engine, session_factory, upgrade)
from storage.digests import subscribe
from storage.models import Record, Version
from storage.runs import finish_run, start_run
from storage.search import search
from storage.topics import backfill, get_topic, import_topics, list_topics
from storage.users import add_user
from tests.helpers import run_cli
from tests.test_bad_input import dump, run_main

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def content(archive: str | dict) -> dict:
    """An archive's dump (or a dump) without the number that tells one SQLite archive file
    from another: a restore gives the restored file a new one (storage/backup.py)."""
    rows = dump(archive) if isinstance(archive, str) else dict(archive)
    if "search_state" in rows:
        rows["search_state"] = [r for r in rows["search_state"] if r[0] != "instance"]
    return rows


def observation(n: int, *, text_suffix: str = "") -> Observation:
    return Observation(
        source="tweedekamer", key=f"Document/{n}", url=f"https://example.org/d/{n}",
        fetched_at=NOW, title=f"Kamerbrief {n} over mensenhandel en uitbuiting",
        text="Voortgang van het Actieplan Samen tegen Mensenhandel; art. 273f Sr." + text_suffix,
        doc_type="Brief regering", published_at=NOW - timedelta(days=n % 5),
        identifiers=(("kamerstuk", f"kst-28638-{n}"), ("dossier", "28638")),
        status={"besluit": "aangenomen"} if n % 2 else {},
    )


def populate(url: str) -> None:
    """An archive with a row in (nearly) every table: topics and their revisions, sources,
    documents, records, identifiers, versions, events, matches, a crawl run, the search index,
    a subscriber, a user and a stored digest."""
    engine = make_engine(url)
    upgrade(engine)
    Session = session_factory(engine)
    with Session.begin() as session:
        import_topics(session, load_topics(DEFAULT_TOPICS), by="beleidsradar init", now=NOW)
        source = ensure_source(session, "tweedekamer", kind="spider", title="TK", url=None)
        run = start_run(session, source, mode="live", now=NOW)
        for n in range(1, 7):
            record_observation(session, source, observation(n), now=NOW, crawl_run_id=run.id)
        record_observation(session, source, observation(1, text_suffix=" Gewijzigd."),
                           now=NOW + timedelta(hours=1), crawl_run_id=run.id)
        finish_run(session, run, now=NOW + timedelta(hours=1), finish_reason="finished",
                   cursor={"Document": "2026-11-24T10:00:00Z"})
        backfill(session, list_topics(session), now=NOW)
        subscribe(session, email="anna@example.org", name="Anna", lang="nl",
                  topics=[get_topic(session, "herziening-273f")], now=NOW)
        add_user(session, "anna", "een lang wachtwoord", "editor", now=NOW)
    ensure_stored(Session, parse_week("2026-W48"), NOW + timedelta(days=7))
    engine.dispose()


def search_titles(url: str) -> list[str]:
    engine = make_engine(url)
    with session_factory(engine)() as session:
        titles = [hit.title for hit in search(session, "mensenhandel", limit=50).hits]
    engine.dispose()
    return titles


def assert_usable(url: str) -> None:
    """The restored archive is at the newest schema and takes new rows (sequences restored)."""
    engine = make_engine(url)
    check_schema(engine)
    with session_factory(engine).begin() as session:
        source = ensure_source(session, "tweedekamer", kind="spider", title="TK", url=None)
        record_observation(session, source, observation(99), now=NOW + timedelta(days=1))
    engine.dispose()


# --- SQLite ----------------------------------------------------------------------------------


def test_sqlite_backup_and_restore_give_the_same_archive(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    original = tmp_path / "archief.db"
    url = f"sqlite:///{original}"
    populate(url)
    before, titles = dump(url), search_titles(url)
    assert before["record"] and before["match"] and before["digest"] and before["search_terms"]

    result = run_cli("backup", str(tmp_path / "kopie.db"), "--database", str(original))
    # (the one real process; the other commands run through cli.main, see test_bad_input)
    assert result.returncode == 0, result.stderr
    assert "Reservekopie (sqlite)" in result.stdout
    backup_file = tmp_path / "kopie.db"
    assert sqlite3.connect(backup_file).execute("PRAGMA journal_mode").fetchone()[0] == "delete"

    elsewhere = tmp_path / "elders" / "archief.db"
    elsewhere.parent.mkdir()
    result = run_main(capsys, "restore", str(backup_file), "--database", str(elsewhere))
    assert result.returncode == 0, result.stderr
    assert content(f"sqlite:///{elsewhere}") == content(before)
    assert search_titles(f"sqlite:///{elsewhere}") == titles and titles
    assert_usable(f"sqlite:///{elsewhere}")

    # The original changes after the backup; restoring it needs --force and undoes the change.
    assert run_main(capsys, "topics", "disable", "herziening-273f",
                    "--database", str(original)).returncode == 0
    changed = dump(url)
    refused = run_main(capsys, "restore", str(backup_file), "--database", str(original))
    assert refused.returncode == 1
    assert refused.stderr.strip() == ("beleidsradar: restore: the archive is not empty: "
                                      "restoring would replace what it holds; use --force to "
                                      "replace it")
    assert dump(url) == changed
    forced = run_main(capsys, "restore", str(backup_file), "--force",
                      "--database", str(original))
    assert forced.returncode == 0, forced.stderr
    assert content(url) == content(before)

    again = run_main(capsys, "backup", str(backup_file), "--database", str(original))
    assert again.returncode == 1 and "exists: choose another name" in again.stderr


def test_a_backup_while_a_crawl_writes_is_one_consistent_snapshot(tmp_path: Path) -> None:
    """A writer stores observations (record, version, index rows in one transaction each) while
    backups are taken: every backup is intact and holds whole transactions only."""
    url = f"sqlite:///{tmp_path / 'archief.db'}"
    populate(url)
    engine = make_engine(url)
    Session = session_factory(engine)
    stop, written = threading.Event(), []

    def crawl() -> None:
        n = 1000
        while not stop.is_set():
            with Session.begin() as session:
                source = ensure_source(session, "tweedekamer", kind="spider", title="TK", url=None)
                record_observation(session, source, observation(n), now=NOW)
            written.append(n)
            n += 1

    writer = threading.Thread(target=crawl)
    writer.start()
    counts = []
    try:
        while len(written) < 5:
            stop.wait(0.01)
        for index in range(4):
            target = tmp_path / f"kopie-{index}.db"
            backup(url, target)
            copy = sqlite3.connect(target)
            assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            records, versions, indexed = (
                copy.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                for table in ("record", "version", "search_index"))
            copy.close()
            # populate() left 6 records with 7 versions; each observation since adds one of
            # each, and its index row, in one transaction: never half an observation.
            assert versions == records + 1 and indexed == records
            counts.append(records)
    finally:
        stop.set()
        writer.join()
    engine.dispose()
    assert len(written) > 5 and counts == sorted(counts)
    with session_factory(make_engine(url))() as session:
        assert session.scalar(select(func.count()).select_from(Record)) >= counts[-1]
        assert session.scalar(select(func.count()).select_from(Version)) >= counts[-1]


def test_an_older_backup_is_upgraded_on_restore(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    old = make_engine(f"sqlite:///{tmp_path / 'oud.db'}")
    command.upgrade(_alembic_config(old), "0007")
    assert current_revision(old) == "0007"
    old.dispose()
    backup(f"sqlite:///{tmp_path / 'oud.db'}", tmp_path / "oud-kopie.db")
    result = run_main(capsys, "restore", str(tmp_path / "oud-kopie.db"),
                     "--database", str(tmp_path / "nieuw.db"))
    assert result.returncode == 0, result.stderr
    assert f"schema 0007 → {head_revision()}" in result.stdout
    assert current_revision(make_engine(f"sqlite:///{tmp_path / 'nieuw.db'}")) == head_revision()


def test_what_restore_refuses(tmp_path: Path,
                              capsys: pytest.CaptureFixture[str]) -> None:
    archive = tmp_path / "archief.db"
    populate(f"sqlite:///{archive}")
    (tmp_path / "notities.txt").write_text("geen reservekopie")
    fresh = tmp_path / "nieuw.db"
    assert run_main(capsys, "init", "--database", str(fresh)).returncode == 0
    assert is_empty(make_engine(f"sqlite:///{fresh}"))  # the default topics do not count
    assert not is_empty(make_engine(f"sqlite:///{archive}"))
    for args, message in [
        (["restore", str(tmp_path / "weg.db")], "restore: backup file "),
        (["restore", str(tmp_path / "notities.txt")], "is not a backup; a sqlite archive is"),
        (["backup", str(tmp_path / "geen-map" / "kopie.db")], "backup: folder "),
    ]:
        before = dump(f"sqlite:///{fresh}")
        result = run_main(capsys, *args, "--database", str(fresh))
        assert result.returncode == 1, result.stderr
        assert result.stderr.startswith("beleidsradar: ") and message in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
        assert dump(f"sqlite:///{fresh}") == before


def test_missing_postgresql_tools_are_named(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """Without pg_dump on the PATH a PostgreSQL backup says what to install (no server needed)."""
    empty_path = tmp_path / "bin"
    empty_path.mkdir()
    for args, tool in ((["backup", str(tmp_path / "kopie.dump")], "pg_dump"),
                       (["restore", str(tmp_path / "kopie.dump")], "pg_restore")):
        result = run_main(capsys, *args, "--database", "postgresql://niemand@127.0.0.1:1/geen",
                          env={"PATH": str(empty_path)})
        assert result.returncode == 1
        assert result.stderr.strip().startswith(
            f"beleidsradar: {args[0]}: {tool} is not installed: backups of a PostgreSQL archive "
            "need the PostgreSQL client tools"), result.stderr


# --- PostgreSQL ------------------------------------------------------------------------------


@pytest.fixture
def other_database(postgres_server: str) -> Iterator[str]:
    """A fresh database on the test server (the restore target), dropped afterwards."""
    name = f"restore_{uuid.uuid4().hex[:10]}"
    admin = make_engine(postgres_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield postgres_server.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.postgres
def test_postgresql_backup_and_restore_give_the_same_archive(
        postgres_schema_url: str, other_database: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    url = postgres_schema_url
    populate(url)
    before, titles = dump(url), search_titles(url)
    assert before["record"] and before["match"] and before["digest"] and before["search_terms"]
    backup_file = tmp_path / "archief.dump"
    result = run_main(capsys, "backup", str(backup_file), "--database", url)
    assert result.returncode == 0, result.stderr
    assert "Reservekopie (postgresql)" in result.stdout
    assert backup_file.read_bytes()[:5] == b"PGDMP"

    # Into another database, under the same schema name (the URL's search_path).
    schema = url.rsplit("%3D", 1)[1]
    target = f"{other_database}?options=-csearch_path%3D{schema}"
    result = run_main(capsys, "restore", str(backup_file), "--database", target)
    assert result.returncode == 0, result.stderr
    assert dump(target) == before
    assert search_titles(target) == titles and titles
    assert_usable(target)

    # Over the original after a change: refused, then replaced with --force.
    assert run_main(capsys, "topics", "disable", "herziening-273f",
                    "--database", url).returncode == 0
    changed = dump(url)
    refused = run_main(capsys, "restore", str(backup_file), "--database", url)
    assert refused.returncode == 1 and "the archive is not empty" in refused.stderr
    assert dump(url) == changed
    forced = run_main(capsys, "restore", str(backup_file), "--force", "--database", url)
    assert forced.returncode == 0, forced.stderr
    assert dump(url) == before
    assert_usable(url)

    # A schema name that does not match is refused before anything is touched.
    wrong = f"{other_database}?options=-csearch_path%3Dpublic"
    mismatch = run_main(capsys, "restore", str(backup_file), "--force", "--database", wrong)
    assert mismatch.returncode == 1
    assert f"the backup holds schema '{schema}', the archive's URL uses 'public'" in \
        mismatch.stderr
    sqlite_backup = run_main(capsys, "restore", str(backup_file), "--database",
                            str(tmp_path / "sqlite.db"))
    assert sqlite_backup.returncode == 1 and "is a pg_dump backup" in sqlite_backup.stderr
