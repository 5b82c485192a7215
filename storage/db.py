"""Opening the archive: engines, sessions, SQLite pragmas and schema migrations.

SQLite is the default (WAL journal, foreign keys enforced, a busy timeout so a reader never
fails a writer); the same code runs on PostgreSQL. The schema is created and upgraded only by
Alembic (``upgrade``), so a SQLite file and a PostgreSQL database always have the same tables.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from storage.errors import DatabaseUnavailable, SchemaOutOfDate

MIGRATIONS = Path(__file__).parent / "migrations"


def normalise_url(url: str) -> str:
    """Accept a plain file path or a URL; use the psycopg 3 driver for bare postgresql:// URLs."""
    if "://" not in url:
        return f"sqlite:///{Path(url).expanduser().resolve()}"
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url`` with our connection settings; raises DatabaseUnavailable."""
    url = normalise_url(url)
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseUnavailable(f"not a database URL: {url!r}") from exc
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            parent = Path(database).parent
            if not parent.is_dir():
                raise DatabaseUnavailable(f"folder {parent} does not exist (database {database})")
        kwargs.setdefault("connect_args", {}).setdefault("timeout", 30)
    elif parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() == "psycopg":
        # No server-side prepared statements: psycopg prepares a statement run five times on a
        # connection, and PostgreSQL then keeps one generic plan for it, made when the archive's
        # tables were small (or had no statistics: autovacuum off). A long crawl's identity
        # lookups then scanned the identifier table each time, slower with every record stored
        # (bench/RESULTS.md, crawl). Planned per execution, they use the indexes.
        kwargs.setdefault("connect_args", {}).setdefault("prepare_threshold", None)
    try:
        engine = create_engine(url, **kwargs)
    except (ArgumentError, ImportError) as exc:
        raise DatabaseUnavailable(f"cannot use database {url!r}: {exc}") from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


#: The tables a crawl grows, whose statistics the planner needs for the archive's lookups.
GROWING_TABLES = ("document", "record", "identifier", "version", "change_event", "match",
                  "title_key", "search_index", "search_terms")


def refresh_statistics(engine: Engine) -> bool:
    """PostgreSQL with ``autovacuum`` off: ANALYZE the tables a crawl grows, so the planner
    knows their size (without statistics it plans sequential scans for the index sync's
    ``IN (…)`` reads, bench/RESULTS.md, crawl). Returns whether it did; a normal server, or
    SQLite (which plans without statistics), needs nothing."""
    if engine.dialect.name != "postgresql":
        return False
    with engine.begin() as connection:
        if connection.exec_driver_sql("SHOW autovacuum").scalar() != "off":
            return False
        for table in GROWING_TABLES:
            connection.exec_driver_sql(f"ANALYZE {table}")
    return True


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def _alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def head_revision() -> str:
    script = ScriptDirectory.from_config(_alembic_config(create_engine("sqlite://")))
    head = script.get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    except OperationalError as exc:
        raise DatabaseUnavailable(_short(exc)) from exc


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Create or upgrade the schema to the newest migration; returns (before, after)."""
    before = current_revision(engine)
    try:
        command.upgrade(_alembic_config(engine), "head")
    except OperationalError as exc:
        raise DatabaseUnavailable(_short(exc)) from exc
    return before, head_revision()


def check_schema(engine: Engine) -> None:
    """Raise SchemaOutOfDate unless the database is at the newest migration."""
    current = current_revision(engine)
    head = head_revision()
    if current is None:
        raise SchemaOutOfDate("the database has no schema yet: run `beleidsradar init`")
    if current != head:
        raise SchemaOutOfDate(
            f"the database schema is at {current}, this code needs {head}: run `beleidsradar init`"
        )


def _short(exc: SQLAlchemyError) -> str:
    """The first line of a driver error, without SQLAlchemy's background link."""
    message = str(exc.orig if getattr(exc, "orig", None) is not None else exc)
    return message.strip().splitlines()[0] if message.strip() else type(exc).__name__
