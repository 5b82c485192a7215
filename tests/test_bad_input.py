"""Bad input from users: one clear line (``beleidsradar: …``), a non-zero exit, and an archive
exactly as it was (every table dumped before and after).

The command runs in-process through ``cli.main`` (what the console script calls: the same
error handlers and exit codes), which keeps these many cases quick; the unreachable-database
cases also run as a real process, as a user would.
"""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, text

import cli
from storage.db import make_engine
from tests.helpers import ROOT, run_cli

DEMO_WEEK47 = ROOT / "crawler" / "recordings" / "demo" / "1-week47"


def dump(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in a stable order."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            tables = inspect(connection).get_table_names()
            found = {}
            for name in sorted(tables):
                rows = connection.execute(text(f'SELECT * FROM "{name}"')).all()
                found[name] = sorted((tuple(row) for row in rows), key=repr)
            return found
    finally:
        engine.dispose()


class Ran:
    def __init__(self, returncode: int, stdout: str, stderr: str):
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


def run_main(capsys: pytest.CaptureFixture[str], *args: str,
             env: dict[str, str] | None = None) -> Ran:
    """``beleidsradar ARGS`` through cli.main in this process: exit code and output."""
    capsys.readouterr()
    saved = {k: os.environ.get(k) for k in env or {}}
    os.environ.update(env or {})
    try:
        cli.main(list(args))
        code = 0
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    out = capsys.readouterr()
    return Ran(code, out.out, out.err)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An archive with the default topics, a subscriber and a feed."""
    path = tmp_path_factory.mktemp("bad-input") / "template.db"
    database = ["--database", str(path)]
    for args in (["init"], ["subscribers", "add", "anna@example.org", "--topic", "herziening-273f"],
                 ["sources", "add", "feed", "https://www.example.org/feed.xml", "--slug",
                  "feed-voorbeeld"]):
        try:
            cli.main([*args, *database])
        except SystemExit as exit_:
            assert not exit_.code, args
    return path


@pytest.fixture
def archive(template: Path, tmp_path: Path) -> Path:
    path = tmp_path / "archive.db"
    shutil.copy(template, path)
    return path


@pytest.fixture
def refused(archive: Path, capsys: pytest.CaptureFixture[str]) -> Any:
    """Run a command on the archive; its exit code and stderr, after checking the archive did
    not change and no traceback was printed."""

    def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
        url = f"sqlite:///{archive}"
        before = dump(url)
        result = run_main(capsys, *args, "--database", str(archive), env=env)
        assert "Traceback" not in result.stdout + result.stderr, result.stderr
        assert dump(url) == before, "the archive changed"
        return result.returncode, result.stderr.strip()

    return run


BROKEN_TOML = {
    "syntax": "[[topic]\nslug = 'x'\n",
    "unterminated": "[[topic]]\nslug = 'x\n",
    "not topics": "title = 'geen onderwerpen'\n",
    "bad query in the second topic": (
        "[[topic]]\nslug = 'goed-onderwerp'\ntitle = 'Goed'\nquery = 'mensenhandel'\n\n"
        "[[topic]]\nslug = 'fout-onderwerp'\ntitle = 'Fout'\nquery = '((mensenhandel'\n"),
    "bad slug": "[[topic]]\nslug = 'Geen Slug!'\ntitle = 'X'\nquery = 'a'\n",
    "missing query": "[[topic]]\nslug = 'zonder-vraag'\ntitle = 'X'\n",
    "wrong type": "[[topic]]\nslug = 'lijst-titel'\ntitle = ['X']\nquery = 'a'\n",
    "not UTF-8": b"[[topic]]\nslug = 'x'\ntitle = '\xff'\n",
}


@pytest.mark.parametrize("case", sorted(BROKEN_TOML))
def test_a_broken_toml_import_changes_nothing(refused: Any, tmp_path: Path, case: str) -> None:
    path = tmp_path / "topics.toml"
    content = BROKEN_TOML[case]
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    code, message = refused("topics", "import", str(path))
    assert code == 2, message
    assert message.startswith("beleidsradar: topics: ") and len(message.splitlines()) == 1, message


MALFORMED_QUERIES = [  # (command, query): every command with several kinds of mistake
    ("topics add", "((mensenhandel"), ("topics add", "datum:>9999-12-31"),
    ("topics add", "(" * 500 + "a" + ")" * 500),
    ("topics edit", "mensenhandel OR"), ("topics edit", "onbekend:veld"),
    ("topics test", '"seksuele uitbuiting'), ("topics test", "NOT a"),
    ("search", "uitbuiting~20"), ("search", "datum:2026-13"), ("search", ")"),
]


@pytest.mark.parametrize(("command", "query"), MALFORMED_QUERIES)
def test_a_malformed_query_changes_nothing(refused: Any, command: str, query: str) -> None:
    args = {"topics add": ["topics", "add", "nieuw-onderwerp", "--title", "Nieuw", "--query"],
            "topics edit": ["topics", "edit", "herziening-273f", "--query"],
            "topics test": ["topics", "test"], "search": ["search"]}[command]
    code, message = refused(*args, query)
    assert code == 2, message
    first, *pointer = message.splitlines()
    assert first.startswith("beleidsradar: query: at position "), message
    assert pointer == [query, pointer[1]] and pointer[1].strip() == "^", message


@pytest.mark.parametrize(("args", "expected", "code"), [
    (["crawl", "geen-bron"], "beleidsradar: unknown source geen-bron; known: ", 2),
    (["crawl", "tweedekamer", "geen-bron"], "beleidsradar: unknown source geen-bron; known: ", 2),
    # A replay adds the feeds and pages of its recording: not when a name is wrong.
    (["crawl", "--replay", str(DEMO_WEEK47), "geen-bron"],
     "beleidsradar: unknown source geen-bron; known: ", 2),
    (["sources", "remove", "geen-bron"], "beleidsradar: no feed or page 'geen-bron'", 1),
    (["sources", "remove", "tweedekamer"], "beleidsradar: no feed or page 'tweedekamer'", 1),
    (["subscribers", "add", "bob@example.org", "--topic", "geen-onderwerp"],
     "beleidsradar: no topic 'geen-onderwerp'", 1),
    (["topics", "disable", "geen-onderwerp"], "beleidsradar: no topic 'geen-onderwerp'", 1),
    (["digest", "--week", "2026-W99"], "beleidsradar: 2026 has no week 99", 2),
    (["digest", "--week", "week 48"], "beleidsradar: not an ISO week: 'week 48'", 2),
    (["digest", "--send", "--week", "2026-W54"], "beleidsradar: 2026 has no week 54", 2),
    (["digest", "--resend", "--week", "2026-W47"],
     "beleidsradar: no digest of 2026-W47 was stored; use --send", 1),
    (["feeds", "--out", "feeds", "--week", "2026-W00"], "beleidsradar: 2026 has no week 0", 2),
    (["run", "--now", "maandag"], "beleidsradar: --now takes an ISO time, not 'maandag'", 2),
])
def test_unknown_sources_topics_and_weeks_change_nothing(refused: Any, args: list[str],
                                                         expected: str, code: int) -> None:
    returncode, message = refused(*args)
    assert returncode == code, message
    assert message.startswith(expected) and len(message.splitlines()) == 1, message


def test_an_unreachable_smtp_server_is_one_line_and_only_the_ledger_changes(
        archive: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """By design (docs/decisions.md) the week's digest is stored once and each delivery is
    ledgered, so a later run retries exactly the failed ones (tests/test_digest.py): only those
    tables change; nothing else in the archive does."""
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {"BELEIDSRADAR_SMTP_HOST": "127.0.0.1", "BELEIDSRADAR_SMTP_PORT": str(port),
           "BELEIDSRADAR_SMTP_ATTEMPTS": "1"}
    url = f"sqlite:///{archive}"
    before = dump(url)
    result = run_main(capsys, "digest", "--send", "--week", "2026-W47", "--database",
                      str(archive), env=env)
    assert result.returncode == 1
    assert result.stderr.strip() == ("beleidsradar: not delivered to anna@example.org "
                                     "(see the table; run again to retry)")
    assert "Connection" in result.stdout and "refused" in result.stdout  # the table says why
    after = dump(url)
    assert {t for t in after if after[t] != before[t]} <= {"digest", "digest_entry", "delivery"}
    engine = make_engine(url)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT status FROM delivery")).scalars().all() == [
            "failed"]
    engine.dispose()


@pytest.mark.parametrize("kind", ["not a database", "a folder", "missing folder", "no server"])
def test_an_unreachable_database_is_one_line(tmp_path: Path, kind: str,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    target = {"not a database": tmp_path / "kapot.db", "a folder": tmp_path / "map.db",
              "missing folder": tmp_path / "nergens" / "archief.db",
              "no server": "postgresql://niemand@127.0.0.1:1/geen"}[kind]
    if kind == "not a database":
        target.write_bytes(b"dit is geen SQLite-bestand " * 100)
    elif kind == "a folder":
        target.mkdir()
    before = target.read_bytes() if kind == "not a database" else None
    for args in (["sources"], ["topics", "list"], ["search", "mensenhandel"], ["init"]):
        # One as a user runs it (its own process), the rest through cli.main.
        real = args == ["sources"] and kind == "not a database"
        result = run_cli(*args, "--database", str(target)) if real else \
            run_main(capsys, *args, "--database", str(target))
        assert result.returncode == 1, (args, result.stderr)
        message = result.stderr.strip()
        assert message.startswith("beleidsradar: database: ") and len(message.splitlines()) == 1, \
            (args, result.stderr)
        assert "Traceback" not in result.stdout + result.stderr
    if before is not None:
        assert target.read_bytes() == before
    assert not (tmp_path / "nergens").exists()


def test_the_dump_sees_a_change(archive: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The comparison above would notice: a real change shows in the dump."""
    url = f"sqlite:///{archive}"
    before = dump(url)
    assert run_main(capsys, "topics", "disable", "herziening-273f", "--database", str(archive)
                    ).returncode == 0
    after = dump(url)
    assert after != before and after["topic"] != before["topic"]
