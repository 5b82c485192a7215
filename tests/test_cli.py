"""The command line: help everywhere, one-line errors, the demo as a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.helpers import run_cli

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = ["init", "crawl", "sources", "demo", "topics", "digest", "subscribers", "feeds", "run",
            "history", "documents", "search", "serve", "users", "dossier"]
TOPIC_COMMANDS = ["list", "show", "add", "edit", "disable", "enable", "test", "check", "import",
                  "export"]


cli = run_cli


@pytest.mark.parametrize("command", [None, *COMMANDS, *[f"topics {c}" for c in TOPIC_COMMANDS]])
def test_help_on_every_command(command: str | None) -> None:
    result = cli(*(command.split() if command else []), "--help")
    assert result.returncode == 0, result.stderr
    assert "Usage" in result.stdout
    if command is None:
        for name in COMMANDS:
            assert name in result.stdout


@pytest.mark.parametrize(
    ("args", "message", "code"),
    [
        (["sources", "--database", "/nonexistent/folder/a.db"],
         "beleidsradar: database: folder /nonexistent/folder does not exist", 1),
        (["crawl", "--bogus"], "beleidsradar: No such option: --bogus", 2),
        (["crawl", "nosuchsource"], "beleidsradar: unknown source nosuchsource; known:", 2),
        (["crawl", "--replay", "/nonexistent/rec"],
         "beleidsradar: recording folder /nonexistent/rec does not exist", 2),
        (["crawl", "--replay", "a", "--record", "b"],
         "beleidsradar: --replay and --record exclude each other", 2),
        (["sources", "--database", "postgresql://nobody@127.0.0.1:1/none"],
         "beleidsradar: database: connection", 1),
        (["init", "--database", "notadriver://x"], "beleidsradar: database:", 1),
    ],
)
def test_errors_are_one_line_without_traceback(tmp_path: Path, args, message, code) -> None:
    db = tmp_path / "a.db"
    subprocess.run([sys.executable, "-c", f"import cli; cli.main(['init', '--database', {str(db)!r}])"],
                   cwd=ROOT, check=True, capture_output=True)
    if "--database" not in args:
        args = [*args, "--database", str(db)]
    result = cli(*args)
    assert result.returncode == code
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(message)
    assert "Traceback" not in result.stdout + result.stderr


def test_missing_schema_says_run_init(tmp_path: Path) -> None:
    result = cli("sources", "--database", str(tmp_path / "new.db"))
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "beleidsradar: database: the database has no schema yet: run `beleidsradar init`")


def test_database_from_environment_then_default(tmp_path: Path) -> None:
    env_db = tmp_path / "env.db"
    assert cli("init", env={"BELEIDSRADAR_DATABASE_URL": str(env_db)}).returncode == 0
    assert env_db.exists()
    clean_env = {k: v for k, v in os.environ.items() if k != "BELEIDSRADAR_DATABASE_URL"}
    result = subprocess.run(
        [sys.executable, "-c", "import sys; sys.path.insert(0, %r); import cli; cli.main(['init'])" % str(ROOT)],
        capture_output=True, text=True, cwd=tmp_path, env=clean_env, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "beleidsradar.db").exists()


@pytest.mark.slow
def test_demo_runs_the_real_crawl_into_a_fresh_archive(tmp_path: Path) -> None:
    target = tmp_path / "demo"
    result = cli("demo", "--dir", str(target), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (target / "beleidsradar.db").exists()
    out = result.stdout
    assert str(target / "beleidsradar.db") in out
    assert "Bezoeken (oudste eerst)" in out and "officielebekendmakingen" in out
    assert "Voor 143, Tegen 7" in out  # the vote on the motion in week 48
    assert "Gepland → Uitgevoerd" in out  # the committee debate took place
    assert "removed" in out and "changed" in out
    again = cli("demo", "--dir", str(target), cwd=tmp_path)
    assert again.returncode == 2
    assert "exists and is not empty" in again.stderr
    sources = cli("sources", "--database", str(target / "beleidsradar.db"))
    assert sources.returncode == 0 and "tweedekamer" in sources.stdout
    # Every source of the recording, the researcher-added feed and page too, and how to
    # open the web UI on this archive.
    for slug in ("rijksoverheid", "rechtspraak", "eerstekamer", "internetconsultatie",
                 "raadvanstate", "eurlex", "europarl", "feed-comensha",
                 "page-nationaalrapporteur-publicaties"):
        assert slug in sources.stdout, slug
    assert "beleidsradar serve --database" in out and "log in als demo" in out


def test_replaying_a_recording_adds_the_feeds_and_pages_it_holds(tmp_path: Path) -> None:
    db = str(tmp_path / "a.db")
    assert cli("init", "-d", db).returncode == 0
    week48 = ROOT / "crawler" / "recordings" / "demo" / "2-week48"
    replayed = cli("crawl", "feed-comensha", "page-nationaalrapporteur-publicaties",
                   "--replay", str(week48), "-d", db)
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    assert "bron uit de opname toegevoegd: feed-comensha" in replayed.stdout
    listed = cli("sources", "list", "-d", db)
    assert "feed-comensha (feed)" in listed.stdout and "page-nationaalrapporteur" in listed.stdout


def test_topics_commands_end_to_end(tmp_path: Path) -> None:
    db = str(tmp_path / "a.db")
    init = cli("init", "--database", db)
    assert init.returncode == 0 and "Imported 16 default topics" in init.stdout
    listed = cli("topics", "list", "--database", db)
    assert "herziening-273f" in listed.stdout and "hervormingsagenda-jeugd" in listed.stdout

    added = cli("topics", "add", "loverboys", "--title", "Loverboys", "--query", "loverboy*",
                "--variant", "en=lover boy", "--example-match", "Aanpak loverboys",
                "--by", "anna", "--database", db)
    assert added.returncode == 0, added.stderr
    assert "Aangemaakt: loverboys; 0 treffers" in added.stdout
    again = cli("topics", "add", "loverboys", "--title", "x", "--query", "x", "--database", db)
    assert again.returncode == 1 and "exists" in again.stderr

    bad = cli("topics", "edit", "loverboys", "--query", "loverboy* OR (pooier", "--database", db)
    assert bad.returncode == 2
    assert bad.stderr.splitlines() == [
        "beleidsradar: query: at position 21: expected ')' to close the '(' at position 14",
        "loverboy* OR (pooier",
        "                    ^"]
    edited = cli("topics", "edit", "loverboys", "--query", "loverboy* OR pooierboy*",
                 "--by", "bram", "--database", db)
    assert edited.returncode == 0, edited.stderr
    shown = cli("topics", "show", "loverboys", "--database", db)
    assert "loverboy* OR pooierboy*" in shown.stdout and "anna" in shown.stdout
    assert "bram" in shown.stdout and "edited" in shown.stdout

    assert cli("topics", "disable", "loverboys", "--database", db).returncode == 0
    assert "loverboys" not in cli("topics", "list", "--database", db).stdout
    assert "loverboys" in cli("topics", "list", "--all", "--database", db).stdout

    exported = tmp_path / "topics.toml"
    assert cli("topics", "export", "--out", str(exported), "--database", db).returncode == 0
    other = str(tmp_path / "b.db")
    cli("init", "--database", other)
    imported = cli("topics", "import", str(exported), "--database", other)
    assert imported.returncode == 0, imported.stderr
    assert "1 nieuw, 0 bijgewerkt, 16 ongewijzigd" in imported.stdout
    assert cli("topics", "export", "--database", other).stdout == exported.read_text()

    checked = cli("topics", "check", "--database", db)
    assert checked.returncode == 0 and "0 fout" in checked.stdout


def test_topics_test_shows_hits_reasons_and_weekly_volume(tmp_path: Path) -> None:
    target = tmp_path / "demo"
    assert cli("demo", "--dir", str(target), cwd=tmp_path).returncode == 0
    db = str(target / "beleidsradar.db")
    result = cli("topics", "test", 'dossier:36547 OR "2024/1712"', "--database", db)
    assert result.returncode == 0, result.stderr
    assert "Per week" in result.stdout and "2026-W48" in result.stdout
    assert 'dossier:36547 (dossier) 36547' in result.stdout
    saved = cli("topics", "test", "herziening-273f", "--since", "2026-11-23", "--database", db)
    assert saved.returncode == 0 and "Treffers:" in saved.stdout
    bad = cli("topics", "test", "a OR", "--database", db)
    assert bad.returncode == 2
    assert bad.stderr.splitlines() == [
        "beleidsradar: query: at position 5: expected a word, phrase or field (the query ends "
        "too early)", "a OR", "    ^"]


def test_a_second_crawl_of_a_busy_source_is_refused(tmp_path: Path) -> None:
    import socket
    from datetime import UTC, datetime

    from storage.archive import ensure_source
    from storage.db import make_engine, session_factory
    from storage.runs import start_run

    db = str(tmp_path / "a.db")
    cli("init", "--database", db)
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        engine = make_engine(db)
        with session_factory(engine).begin() as session:
            source = ensure_source(session, "tweedekamer", kind="spider", title="TK")
            start_run(session, source, mode="live", now=datetime.now(UTC),
                      host=socket.gethostname(), pid=holder.pid)
        engine.dispose()
        replay = ROOT / "crawler" / "recordings" / "demo" / "1-week47"
        refused = cli("crawl", "--replay", str(replay), "--database", db)
        assert refused.returncode == 1
        assert refused.stderr.startswith(
            f"beleidsradar: tweedekamer is being crawled by process {holder.pid}")
    finally:
        holder.kill()
        holder.wait()
    # Once that process is gone, its run is closed as interrupted and the crawl goes ahead.
    again = cli("crawl", "--replay", str(replay), "--database", db)
    assert again.returncode == 0, again.stdout + again.stderr
