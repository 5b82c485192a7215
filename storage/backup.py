"""Backups of the archive, and putting one back.

SQLite: SQLite's online backup API (``sqlite3.Connection.backup``) copies one consistent
snapshot of the archive in a single step. In WAL mode a crawl keeps writing meanwhile; the copy
is what the archive held when the backup started. The backup is a self-contained SQLite file
(rollback journal, so one file), written next to its destination and renamed into place.

PostgreSQL: ``pg_dump --format=custom`` of the archive's schema (its own consistent snapshot;
writers are not blocked) and ``pg_restore`` in one transaction (``--clean --if-exists
--single-transaction --exit-on-error``): a restore that fails leaves the target as it was. The
dump names its schema; a restore puts it back under that name, so the target URL must use the
same schema (``public`` unless its ``search_path`` says otherwise).

A restore refuses a target that holds anything beyond what ``beleidsradar init`` writes (the
default topics) unless ``force`` is given; afterwards the schema is upgraded to this code's
migrations (an older backup) and checked.
"""

from __future__ import annotations

import os
import secrets
import shutil
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, inspect, make_url, text

from storage.db import check_schema, current_revision, make_engine, normalise_url, upgrade
from storage.errors import StorageError

#: What `beleidsradar init` writes: an archive holding only these rows counts as empty.
INIT_AUTHOR = "beleidsradar init"
#: search_state: the search columns' change numbers (migration 0010), no content.
INIT_TABLES = {"alembic_version", "topic", "topic_revision", "search_state"}
PG_DUMP_MAGIC = b"PGDMP"
SQLITE_MAGIC = b"SQLite format 3\x00"


class BackupError(StorageError):
    """A backup or restore cannot be made: says why, nothing was changed."""


def backend(url: str) -> str:
    """``sqlite`` or ``postgresql``."""
    name = make_url(normalise_url(url)).get_backend_name()
    if name not in ("sqlite", "postgresql"):
        raise BackupError(f"backups are made of SQLite and PostgreSQL archives, not {name}")
    return name


def is_empty(engine: Engine) -> bool:
    """True when the archive holds nothing beyond what ``beleidsradar init`` writes."""
    with engine.connect() as connection:
        derived: tuple[str, ...] = ()
        if engine.dialect.name == "sqlite":  # FTS5 tables and their shadow tables: an index
            derived = tuple(row[0] for row in connection.execute(text(
                "SELECT name FROM sqlite_master WHERE sql LIKE 'CREATE VIRTUAL TABLE%'")))
        for table in inspect(connection).get_table_names():
            if table in INIT_TABLES or table.startswith(derived):
                continue
            if connection.execute(text(f'SELECT 1 FROM "{table}" LIMIT 1')).first():
                return False
        if "topic_revision" in inspect(connection).get_table_names():
            other = connection.execute(text(
                "SELECT 1 FROM topic_revision WHERE changed_by IS NULL OR changed_by <> :init "
                "LIMIT 1"), {"init": INIT_AUTHOR}).first()
            if other:
                return False
    return True


def backup(url: str, target: Path) -> dict[str, Any]:
    """Write a backup of the archive at ``url`` to ``target`` (which must not exist yet)."""
    kind = backend(url)
    if kind == "postgresql":
        _tool("pg_dump")
    if target.exists():
        raise BackupError(f"{target} exists: choose another name or remove it first")
    if not target.parent.is_dir():
        raise BackupError(f"folder {target.parent} does not exist")
    engine = make_engine(url)
    try:
        if current_revision(engine) is None:  # any version: a backup before an upgrade is wise
            raise BackupError("the database holds no archive (no schema): nothing to back up")
    finally:
        engine.dispose()
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        if kind == "sqlite":
            _sqlite_backup(_sqlite_path(url), partial)
        else:
            _pg_dump(url, partial)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return {"backend": kind, "file": str(target), "bytes": target.stat().st_size}


def restore(url: str, source: Path, *, force: bool = False) -> dict[str, Any]:
    """Put the backup ``source`` into the archive at ``url``; refuses a non-empty archive
    unless ``force``. Returns (before, after) schema revisions after the upgrade."""
    kind = backend(url)
    if kind == "postgresql":
        _tool("pg_restore")
    if not source.is_file():
        raise BackupError(f"backup file {source} does not exist")
    head = source.read_bytes()[:16] if source.stat().st_size else b""
    expected = SQLITE_MAGIC if kind == "sqlite" else PG_DUMP_MAGIC
    if not head.startswith(expected):
        other = ("a SQLite backup" if head.startswith(SQLITE_MAGIC) else
                 "a pg_dump backup" if head.startswith(PG_DUMP_MAGIC) else "not a backup")
        raise BackupError(f"{source} is {other}; a {kind} archive is restored from a backup "
                          f"`beleidsradar backup` made of a {kind} archive")
    engine = make_engine(url)
    try:
        if not force and not is_empty(engine):
            raise BackupError("the archive is not empty: restoring would replace what it holds; "
                              "use --force to replace it")
    finally:
        engine.dispose()
    if kind == "sqlite":
        _sqlite_restore(source, _sqlite_path(url))
    else:
        _pg_restore(url, source)
    engine = make_engine(url)
    try:
        before, after = upgrade(engine)
        check_schema(engine)
    finally:
        engine.dispose()
    return {"backend": kind, "schema_before": before, "schema_after": after}


# --- SQLite ----------------------------------------------------------------------------------


def _sqlite_path(url: str) -> Path:
    database = make_url(normalise_url(url)).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database has nothing to back up")
    return Path(database)


def _connect(path: Path, *, create: bool) -> sqlite3.Connection:
    if not create and not path.is_file():
        raise BackupError(f"database {path} does not exist")
    try:
        return sqlite3.connect(path, timeout=30)
    except sqlite3.Error as exc:
        raise BackupError(f"cannot open {path}: {exc}") from exc


def _sqlite_backup(path: Path, target: Path) -> None:
    source = _connect(path, create=False)
    destination = _connect(target, create=True)
    try:
        # One step (pages=-1): a single read transaction, so one consistent snapshot; in WAL
        # mode writers carry on meanwhile.
        source.backup(destination)
        destination.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        problem = destination.execute("PRAGMA quick_check").fetchone()[0]
        if problem != "ok":
            raise BackupError(f"the copy does not check out: {problem}")
    except sqlite3.Error as exc:
        raise BackupError(f"backup of {path} failed: {exc}") from exc
    finally:
        destination.close()
        source.close()


def _sqlite_restore(source_path: Path, target: Path) -> None:
    if not target.parent.is_dir():
        raise BackupError(f"folder {target.parent} does not exist")
    source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True)
    try:
        problem = source.execute("PRAGMA quick_check").fetchone()[0]
        tables = {r[0] for r in source.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.Error as exc:
        source.close()
        raise BackupError(f"{source_path} cannot be read: {exc}") from exc
    if problem != "ok" or "alembic_version" not in tables:
        source.close()
        raise BackupError(f"{source_path} is not a backup of a beleidsradar archive"
                          + (f" ({problem})" if problem != "ok" else ""))
    destination = _connect(target, create=True)
    try:
        source.backup(destination)  # replaces every page of the target, under its lock
        if "search_state" in tables:
            # Another archive now: processes that counted searches in the old one (their
            # in-memory columns, storage/search_columns.py) must not take it for the same.
            with destination:
                destination.execute("UPDATE search_state SET value = ? WHERE name = 'instance'",
                                    (secrets.randbits(62),))
    except sqlite3.Error as exc:
        raise BackupError(f"restore into {target} failed: {exc}") from exc
    finally:
        destination.close()
        source.close()


# --- PostgreSQL ------------------------------------------------------------------------------


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not installed: backups of a PostgreSQL archive need the "
                          "PostgreSQL client tools (e.g. `apt install postgresql-client`) of the "
                          "server's major version or newer")
    return found


def _pg_environment(url: str) -> dict[str, str]:
    """libpq settings for the archive's URL (as environment: no password on a command line)."""
    parsed = make_url(normalise_url(url))
    env = dict(os.environ)
    for variable, value in (("PGHOST", parsed.host), ("PGPORT", parsed.port),
                            ("PGUSER", parsed.username), ("PGPASSWORD", parsed.password),
                            ("PGDATABASE", parsed.database),
                            ("PGOPTIONS", parsed.query.get("options"))):
        if value:
            env[variable] = str(value if not isinstance(value, tuple) else value[0])
    return env


def _schema(url: str) -> str:
    """The schema the archive at ``url`` lives in (the first of its search_path)."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            current = connection.execute(text("SELECT current_schema()")).scalar()
            if current:
                return str(current)
            path = str(connection.execute(text("SELECT current_setting('search_path')")).scalar())
    finally:
        engine.dispose()
    first = path.split(",")[0].strip().strip('"')
    return first or "public"


def _run(command: list[str], url: str, what: str) -> str:
    result = subprocess.run(command, env=_pg_environment(url), capture_output=True, text=True,
                            check=False)
    if result.returncode != 0:
        lines = [line for line in result.stderr.strip().splitlines() if line.strip()]
        raise BackupError(f"{what} failed: {lines[0] if lines else f'exit {result.returncode}'}")
    return result.stdout


def _pg_dump(url: str, target: Path) -> None:
    _run([_tool("pg_dump"), "--format=custom", f"--schema={_schema(url)}",
          f"--file={target}"], url, "pg_dump")


def dumped_schema(source: Path, url: str) -> str:
    """The schema a pg_dump backup holds (from its table of contents)."""
    listing = _run([_tool("pg_restore"), "--list", str(source)], url, "pg_restore --list")
    for line in listing.splitlines():
        parts = line.split()
        if not line.startswith(";") and len(parts) >= 6 and parts[3] == "SCHEMA":
            return parts[5]
    raise BackupError(f"{source} holds no schema: not a backup `beleidsradar backup` made")


def _pg_restore(url: str, source: Path) -> None:
    restore_tool = _tool("pg_restore")
    schema, target = dumped_schema(source, url), _schema(url)
    if schema != target:
        raise BackupError(f"the backup holds schema {schema!r}, the archive's URL uses "
                          f"{target!r}: restore into a database whose search_path is {schema}")
    parsed = make_url(normalise_url(url))
    database = parsed.database or parsed.username or "postgres"
    _run([restore_tool, "--clean", "--if-exists", "--single-transaction", "--exit-on-error",
          "--no-owner", "--no-privileges", f"--dbname={database}", str(source)], url,
         "pg_restore")
