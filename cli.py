"""The `beleidsradar` command: set up the archive, crawl sources, show their health, run the demo.

A composition root (with crawler/settings.py): it reads the database URL from ``--database``,
else ``BELEIDSRADAR_DATABASE_URL``, else ``./beleidsradar.db``, wires the crawler to the archive,
and turns every expected failure into one line on stderr and a non-zero exit code.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.live import Live
from rich.text import Text
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError

try:  # Typer ≥ 0.26 vendors its own copy of Click.
    from typer._click import exceptions as click_exceptions
except ImportError:  # pragma: no cover - older Typer uses Click itself
    from click import exceptions as click_exceptions  # type: ignore[no-redef]

from crawler.replay import RecordingError, read_manifest, update_manifest
from crawler.runner import CrawlJob, run_jobs, spider_names
from crawler.scaleout import ScaleOutError
from storage.db import check_schema, make_engine, normalise_url, session_factory, upgrade
from storage.errors import StorageError
from storage.queries import EventRow, events_of_runs, last_run_id, runs_after, totals
from reports.digest import build_digest
from reports.labels import describe_event
from reports.periods import LOCAL, Week, last_complete_week, parse_week, week_of
from reports.deliver import deliver, ensure_stored
from reports.feeds import atom_feed
from reports.mail import MailSettings
from reports.render import render
from storage.digests import deliveries, stored_digest, subscribe, subscriber_topics, subscribers
from storage.runs import source_health
from storage.topics import (
    backfill,
    backtest,
    definition_of,
    get_topic,
    import_topics,
    list_topics,
    recent_matches,
    revisions,
    save_topic,
    set_active,
    topic_counts,
    weeks_between,
)
from monitors.errors import MonitorError, QuerySyntaxError
from monitors.matching import Matcher, TopicQuery
from monitors.query import parse
from monitors.topics import DEFAULT_TOPICS, Topic, check_examples, dump_topics, load_topics

DEFAULT_DATABASE = "beleidsradar.db"
DEMO_RECORDING = Path(__file__).resolve().parent / "crawler" / "recordings" / "demo"

console = Console()
errors = Console(stderr=True)

app = typer.Typer(
    name="beleidsradar",
    help="Beleidsradar: watch Dutch and EU policy sources for the National Rapporteur's researchers.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--database",
        "-d",
        help="Archive: SQLite file or SQLAlchemy URL. Default: $BELEIDSRADAR_DATABASE_URL, "
        "else ./beleidsradar.db.",
        show_default=False,
    ),
]


class CommandError(Exception):
    """An expected failure: printed as one line, exit code ``code``."""

    def __init__(self, message: str, code: int = 1):
        super().__init__(message)
        self.code = code


def _now() -> datetime:
    return datetime.now(UTC)


def _who(by: str | None) -> str:
    return by or os.environ.get("BELEIDSRADAR_USER") or os.environ.get("USER") or "cli"


def database_url(option: str | None) -> str:
    return option or os.environ.get("BELEIDSRADAR_DATABASE_URL") or DEFAULT_DATABASE


def _describe(url: str) -> str:
    """The database for messages, without a password."""
    from sqlalchemy import make_url

    return make_url(normalise_url(url)).render_as_string(hide_password=True)


@contextmanager
def _archive(url: str, *, require_schema: bool = True) -> Iterator[Any]:
    engine = make_engine(url)
    try:
        if require_schema:
            check_schema(engine)
        yield session_factory(engine)
    finally:
        engine.dispose()


# --- init ------------------------------------------------------------------------------------


@app.command()
def init(database: DatabaseOption = None) -> None:
    """Create the archive, or upgrade its schema to this version."""
    url = database_url(database)
    before, after, imported = _init_archive(url)
    if before == after:
        console.print(f"Archive {_describe(url)} is up to date (schema {after}).")
    elif before is None:
        console.print(f"Created archive {_describe(url)} (schema {after}).")
    else:
        console.print(f"Upgraded archive {_describe(url)} from schema {before} to {after}.")
    if imported:
        console.print(f"Imported {imported[0]} default topics from {DEFAULT_TOPICS.name} "
                      f"({imported[1]} matches in the archive).")


@app.command("backup")
def backup_command(
    file: Annotated[Path, typer.Argument(help="Where to write the backup (must not exist yet).")],
    database: DatabaseOption = None,
) -> None:
    """Back up the archive: SQLite's online backup (safe while a crawl writes), or pg_dump."""
    from storage.backup import BackupError, backup

    try:
        result = backup(database_url(database), file)
    except BackupError as exc:
        raise CommandError(f"backup: {exc}") from None
    console.print(f"Reservekopie ({result['backend']}): {file} ({result['bytes']:,} bytes)")


@app.command("restore")
def restore_command(
    file: Annotated[Path, typer.Argument(help="A backup made by `beleidsradar backup`.")],
    force: Annotated[bool, typer.Option(
        "--force", help="Replace an archive that holds more than `init` puts in it.")] = False,
    database: DatabaseOption = None,
) -> None:
    """Put a backup back into the archive (refused for a non-empty archive without --force);
    the schema is upgraded to this version afterwards."""
    from storage.backup import BackupError, restore

    url = database_url(database)
    try:
        result = restore(url, file, force=force)
    except BackupError as exc:
        raise CommandError(f"restore: {exc}") from None
    upgraded = (f", schema {result['schema_before']} → {result['schema_after']}"
                if result["schema_before"] != result["schema_after"] else "")
    console.print(f"Teruggezet uit {file} in {_describe(url)}{upgraded}.")


def _init_archive(url: str) -> tuple[str | None, str, tuple[int, int] | None]:
    """Upgrade the schema; a new archive (no topics yet) gets the default topics."""
    engine = make_engine(url)
    try:
        before, after = upgrade(engine)
    finally:
        engine.dispose()
    with _archive(url) as Session, Session.begin() as session:
        if list_topics(session):
            return before, after, None
        created, _, matches = import_topics(
            session, load_topics(DEFAULT_TOPICS), by="beleidsradar init", now=_now()
        )
    return before, after, (len(created), matches)


# --- crawl -----------------------------------------------------------------------------------


class Progress:
    """Live per-source counters fed by crawler signals (called from the reactor thread)."""

    def __init__(self, sources: list[str]):
        self.lock = threading.Lock()
        self.state = {s: {"response": 0, "item": 0, "dropped": 0, "error": 0} for s in sources}
        self.closed: set[str] = set()
        self.pass_label = ""

    def __call__(self, source: str, event: str) -> None:
        with self.lock:
            if event == "closed":
                self.closed.add(source)
            else:
                self.state.setdefault(source, {"response": 0, "item": 0, "dropped": 0, "error": 0})
                self.state[source][event] = self.state[source].get(event, 0) + 1

    def __rich__(self) -> Table:
        table = Table(title=self.pass_label or None, box=None, padding=(0, 2))
        table.add_column("bron")
        table.add_column("antwoorden", justify="right")
        table.add_column("items", justify="right")
        table.add_column("fouten", justify="right")
        table.add_column("")
        with self.lock:
            for source, counts in self.state.items():
                done = source in self.closed
                table.add_row(
                    source, str(counts["response"]), str(counts["item"]),
                    str(counts["error"] + counts["dropped"]),
                    "[green]klaar[/]" if done else "[yellow]bezig…[/]",
                )
        return table


def _run_with_progress(
    batches: list[list[CrawlJob]], url: str, *, verbose: bool, log_file: str | None
) -> None:
    sources = [job.label or job.spider for batch in batches for job in batch]
    progress = Progress(sources)
    with Live(progress, console=console, refresh_per_second=8, transient=False):
        run_jobs(
            batches,
            database_url=url,
            # Failures are in the run account and printed after the table; the log is for -v.
            log_level="INFO" if verbose or log_file else "CRITICAL",
            log_file=log_file,
            listener=progress,
        )


def _summary_table(runs: list[Any], slugs: dict[int, str], title: str) -> Table:
    table = Table(title=title)
    for column in ("bron", "status", "opgehaald", "nieuw", "gewijzigd", "status-wijz.",
                   "verwijderd", "ongewijzigd", "mislukt"):
        table.add_column(column, justify="left" if column in ("bron", "status") else "right")
    table.add_column("eerste fout", overflow="fold", max_width=60)
    colours = {"ok": "green", "partial": "yellow", "failed": "red", "running": "red"}
    for run in runs:
        first = run.errors[0]["reason"] if run.errors else ""
        table.add_row(
            slugs.get(run.source_id, "?"),
            f"[{colours.get(run.status, 'white')}]{run.status}[/]",
            str(run.fetched), str(run.new), str(run.changed), str(run.status_changes),
            str(run.removed), str(run.unchanged), str(run.failed), first,
        )
    return table


def _print_errors(runs: list[Any], slugs: dict[int, str], limit: int = 5) -> None:
    for run in runs:
        for error in run.errors[:limit]:
            console.print(f"{slugs.get(run.source_id, '?')}: {error['reason']}\n    {error['url']}",
                          markup=False, highlight=False, soft_wrap=True)
        if len(run.errors) > limit:
            console.print(f"{slugs.get(run.source_id, '?')}: … {run.failed - limit} meer "
                          "(beleidsradar sources toont de laatste)", markup=False)


def _finished_runs(url: str, after: int) -> tuple[list[Any], dict[int, str]]:
    from sqlalchemy import select

    from storage.models import Source

    with _archive(url) as Session, Session() as session:
        # Only this process's runs: a crawl started at the same moment by another process
        # accounts for its own (its runs may still be running).
        runs = [run for run in runs_after(session, after) if run.pid in (None, os.getpid())]
        slugs = dict(session.execute(select(Source.id, Source.slug)).all())
        session.expunge_all()
    return runs, slugs


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _claim(url: str, slugs: list[str]) -> list[Any]:
    """Sources another live process is crawling; stale `running` runs are closed on the way."""
    import socket

    from storage.runs import busy_sources

    with _archive(url) as Session, Session.begin() as session:
        return busy_sources(session, slugs, host=socket.gethostname(), alive=_pid_alive,
                            now=_now())


def _known_sources(url: str | None) -> dict[str, tuple[str, dict[str, Any]]]:
    """Every crawlable source: slug → (spider name, spider arguments).

    Built-in sources are spiders; feeds and pages researchers added live in the archive and
    are crawled by the generic feed and page spiders, one crawl per source.
    """
    known: dict[str, tuple[str, dict[str, Any]]] = {slug: (slug, {}) for slug in spider_names()}
    if url is not None:
        from sqlalchemy import select

        from storage.models import Source

        with _archive(url) as Session, Session() as session:
            for source in session.scalars(select(Source).where(
                    Source.kind.in_(("feed", "page")), Source.active.is_(True))):
                known[source.slug] = (source.kind, {
                    "source": source.slug, "url": source.url or "", "title": source.title,
                    **({"selector": source.config.get("selector")}
                       if source.config.get("selector") else {}),
                })
    return known


def _register_recorded_sources(url: str, recording: Path) -> list[str]:
    """Researcher-added feeds and pages a recording holds (its manifest says how they were
    configured) are added to the archive when it does not have them, so they can be replayed."""
    from sqlalchemy import select

    from crawler.sources import SourceRefused, add_source
    from storage.models import Source

    added = []
    recorded = {slug: facts["researcher_added"] for slug, facts in
                read_manifest(recording).get("sources", {}).items()
                if isinstance(facts, dict) and facts.get("researcher_added")}
    if not recorded:
        return added
    from sqlalchemy.exc import IntegrityError

    with _archive(url) as Session:
        try:
            with Session.begin() as session:
                for slug, config in sorted(recorded.items()):
                    if session.scalars(select(Source).where(Source.slug == slug)).first():
                        continue
                    try:
                        add_source(session, kind=config["kind"], url=config["url"], slug=slug,
                                   title=config.get("title"), selector=config.get("selector"),
                                   now=_now())
                    except SourceRefused:
                        # "exists": a crawl started at the same moment added it between the
                        # check above and add_source's own (SQLite reads are not one snapshot).
                        if session.scalars(select(Source).where(Source.slug == slug)).first():
                            continue
                        raise
                    added.append(slug)
        except IntegrityError:
            added = []  # a crawl started at the same moment added them first
    for slug in added:
        console.print(f"  bron uit de opname toegevoegd: {slug} ({recorded[slug]['url']})")
    return added


def _default_sources(known: dict[str, tuple[str, dict[str, Any]]]) -> list[str]:
    """What `crawl` without names and `run` visit: the enabled built-in sources (WATCH_SOURCES)
    and every researcher-added feed and page."""
    from crawler.runner import enabled_sources

    try:
        enabled = set(enabled_sources())
    except ValueError as exc:
        raise CommandError(str(exc), code=2) from None
    return [slug for slug, (spider, _) in known.items() if spider in ("feed", "page")
            or slug in enabled]


def _jobs_for(
    sources: list[str], replay: Path | None, record: Path | None,
    known: dict[str, tuple[str, dict[str, Any]]] | None = None,
) -> list[CrawlJob]:
    manifest: dict[str, Any] = read_manifest(replay) if replay else {}
    known = known or _known_sources(None)
    jobs = []
    for slug in sources:
        cursor = None
        if replay is not None:
            cursor = manifest.get("sources", {}).get(slug, {}).get("cursor")
        label = f"{slug} ({replay.name})" if replay is not None else slug
        # A replay happens at the recording's time, so its events land in the recorded week.
        clock = manifest.get("recorded_at") if replay is not None else None
        spider, spider_kwargs = known[slug]
        jobs.append(CrawlJob(spider, replay_dir=replay, record_dir=record, cursor=cursor,
                             label=label, clock=clock, spider_kwargs=spider_kwargs))
    return jobs


@app.command()
def crawl(
    sources: Annotated[
        list[str] | None,
        typer.Argument(help="Source slugs to crawl (default: all). See `beleidsradar sources`."),
    ] = None,
    replay: Annotated[
        Path | None,
        typer.Option("--replay", help="Serve responses from this recording, not the network."),
    ] = None,
    record: Annotated[
        Path | None,
        typer.Option("--record", help="Write every live response into this recording folder."),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show Scrapy's log.")] = False,
    log_file: Annotated[
        str | None, typer.Option("--log-file", help="Write Scrapy's log to this file.")
    ] = None,
    database: DatabaseOption = None,
) -> None:
    """Crawl sources into the archive, with live progress and a summary per source.

    Exits 1 when any source did not finish cleanly (the table says why).
    """
    url = database_url(database)
    if replay is not None and record is not None:
        raise CommandError("--replay and --record exclude each other", code=2)
    if replay is not None:
        # Names are checked first: a mistyped name must not leave the recording's feeds added.
        recorded = read_manifest(replay).get("sources", {})
        names = list(dict.fromkeys([*_known_sources(url), *recorded]))
        unknown = [s for s in sources or [] if s not in names]
        if unknown:
            raise CommandError(f"unknown source {', '.join(unknown)}; known: {', '.join(names)}",
                               code=2)
        _register_recorded_sources(url, replay)
    known = _known_sources(url)
    if not sources and replay is not None:
        # Replaying without naming sources replays what the recording holds.
        sources = sorted(read_manifest(replay).get("sources", {})) or None
    chosen = list(dict.fromkeys(sources or _default_sources(known)))
    unknown = [s for s in chosen if s not in known]
    if unknown:
        raise CommandError(
            f"unknown source {', '.join(unknown)}; known: {', '.join(known)}", code=2
        )
    jobs = _jobs_for(chosen, replay, record, known)
    busy = _claim(url, chosen)
    if busy:
        raise CommandError("; ".join(
            f"{b.source} is being crawled by process {b.pid} on {b.host} since "
            f"{_when(b.started_at)}" for b in busy) + ": try again when it has finished")
    with _archive(url) as Session, Session() as session:
        before = last_run_id(session)
    _run_with_progress([jobs], url, verbose=verbose, log_file=log_file)
    runs, slugs = _finished_runs(url, before)
    if record is not None:
        for run in runs:
            update_manifest(
                record, slugs[run.source_id], cursor=run.cursor_before,
                recorded_at=datetime.now(UTC).isoformat(),
            )
    console.print(_summary_table(runs, slugs, "Crawl"))
    _print_errors(runs, slugs)
    missing = set(chosen) - {slugs[r.source_id] for r in runs}
    if missing:
        raise CommandError(f"no crawl run was recorded for {', '.join(sorted(missing))}")
    bad = [slugs[r.source_id] for r in runs if r.status != "ok"]
    if bad:
        raise CommandError(f"not every source finished cleanly: {', '.join(bad)}")


@app.command()
def worker(
    sources: Annotated[
        list[str] | None,
        typer.Argument(help="Sources whose shared crawls to help (default: every shareable "
                            "enabled source)."),
    ] = None,
    once: Annotated[bool, typer.Option(
        "--once", help="Stop after helping one crawl of each source.")] = False,
    wait: Annotated[float | None, typer.Option(
        "--wait", help="Give up when no crawl was announced within this many seconds.")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show Scrapy's log.")] = False,
    log_file: Annotated[
        str | None, typer.Option("--log-file", help="Write Scrapy's log to this file.")
    ] = None,
    database: DatabaseOption = None,
) -> None:
    """Help shared crawls: take requests from the Redis queue that a `crawl` on any machine
    seeded, and store into the same PostgreSQL archive (needs BELEIDSRADAR_REDIS_URL).

    The crawl's account and cursor stay with the `crawl` that started it (README: Scale-out).
    """
    from crawler.runner import enabled_sources, run_worker
    from crawler.scaleout import SHAREABLE

    url = database_url(database)
    try:
        enabled = enabled_sources()
    except ValueError as exc:
        raise CommandError(str(exc), code=2) from None
    chosen = list(dict.fromkeys(sources or [s for s in enabled if s in SHAREABLE]))
    helped = run_worker(
        chosen, database_url=url, wait=wait, once=once,
        log_level="INFO" if verbose or log_file else "CRITICAL", log_file=log_file,
        say=lambda line: console.print(line, markup=False, highlight=False),
    )
    for source, count in helped.items():
        console.print(f"{source}: {count} gedeelde crawl(s) geholpen", markup=False)
    if not any(helped.values()):
        raise CommandError(f"no shared crawl of {', '.join(chosen)} was announced"
                           + (f" within {wait:g} s" if wait is not None else ""))


# --- sources ---------------------------------------------------------------------------------


def _when(value: datetime | None) -> str:
    return value.astimezone().strftime("%Y-%m-%d %H:%M") if value else "—"


sources_app = typer.Typer(help="Sources: health of each; add or remove the feeds and pages "
                                "researchers watch.")
app.add_typer(sources_app, name="sources")
sources_add_app = typer.Typer(help="Watch a feed or a web page.", no_args_is_help=True)
sources_app.add_typer(sources_add_app, name="add")


@sources_app.callback(invoke_without_command=True)
def sources_main(ctx: typer.Context, database: DatabaseOption = None) -> None:
    """List every source with its last run and health (also: sources list)."""
    if ctx.invoked_subcommand is None:
        sources_command(database)


def _add_source(kind: str, url: str, title: str | None, slug: str | None,
                selector: str | None, database: str | None) -> None:
    from crawler.sources import SourceRefused, add_source

    with _archive(database_url(database)) as Session, Session.begin() as session:
        try:
            added = add_source(session, kind=kind, url=url, title=title, slug=slug,
                               selector=selector, now=_now())
        except SourceRefused as exc:
            raise CommandError(str(exc), code=2) from None
        slug = added.source.slug
    if added.warning:
        console.print(Text(f"let op: {added.warning}", style="yellow"))
    console.print(f"Toegevoegd: {slug} ({kind}) {url}")


@sources_add_app.command("feed")
def sources_add_feed(
    url: str,
    title: Annotated[str | None, typer.Option("--title")] = None,
    slug: Annotated[str | None, typer.Option("--slug", help="Default: made from the URL.")] = None,
    database: DatabaseOption = None,
) -> None:
    """Watch an RSS or Atom feed; every new or changed entry is archived and matched."""
    _add_source("feed", url, title, slug, None, database)


@sources_add_app.command("page")
def sources_add_page(
    url: str,
    selector: Annotated[str | None, typer.Option(
        "--selector", help="CSS selector of the part of the page that matters.")] = None,
    title: Annotated[str | None, typer.Option("--title")] = None,
    slug: Annotated[str | None, typer.Option("--slug", help="Default: made from the URL.")] = None,
    database: DatabaseOption = None,
) -> None:
    """Watch a web page; each real change of its text is a new version with a diff."""
    _add_source("page", url, title, slug, selector, database)


@sources_app.command("remove")
def sources_remove(slug: str, database: DatabaseOption = None) -> None:
    """Stop watching a feed or page (its archive stays)."""
    from crawler.sources import SourceRefused, remove_source

    with _archive(database_url(database)) as Session, Session.begin() as session:
        try:
            remove_source(session, slug)
        except SourceRefused as exc:
            raise CommandError(str(exc)) from None
    console.print(f"{slug}: wordt niet meer gevolgd.")


@sources_app.command("list")
def sources_command(database: DatabaseOption = None) -> None:
    """List every source with its last run and health."""
    url = database_url(database)
    with _archive(url) as Session, Session() as session:
        health = {h.slug: h for h in source_health(session)}
    table = Table(title=f"Bronnen in {_describe(url)}")
    table.add_column("bron", no_wrap=True)
    table.add_column("status")
    table.add_column("records", justify="right")
    table.add_column("laatste run", no_wrap=True)
    table.add_column("uitkomst", overflow="fold")
    colours = {"ok": "green", "partial": "yellow", "failed": "red", "never": "dim",
               "running": "yellow"}
    for slug in sorted(set(health) | set(_known_sources(url))):
        h = health.get(slug)
        if h is None:
            table.add_row(slug, "[dim]nooit[/]", "0", "—", "")
            continue
        run = h.last_run
        outcome = (f"{run.fetched} opgehaald, {run.new} nieuw, "
                   f"{run.changed + run.status_changes + run.removed} gewijzigd, "
                   f"{run.failed} mislukt") if run else ""
        status = f"[{colours.get(h.health, 'white')}]{h.health}[/]"
        if h.health not in ("ok", "never"):
            status += f"\n[dim]laatst gelukt {_when(h.last_success_at)}[/]"
        table.add_row(
            f"{slug} [dim]({h.kind})[/]" if h.kind != "spider" else slug,
            status, str(h.records), _when(run.started_at if run else None), outcome,
        )
    console.print(table)
    for h in health.values():
        if h.cursor:
            console.print(Text(f"{h.slug}: cursor " + ", ".join(
                f"{k}={v}" for k, v in sorted(h.cursor.items())), style="dim"))
    for h in health.values():
        if h.last_run and h.last_run.errors:
            console.print(f"[bold]{h.slug}[/]: laatste fout: {h.last_run.errors[-1]['reason']}",
                          markup=True, highlight=False)


# --- demo ------------------------------------------------------------------------------------


def _reference(ids: dict[str, list[str]]) -> str:
    for scheme in ("kamerstuk", "officielebekendmakingen", "zaak", "tk-activiteit",
                   "tk-document"):
        if ids.get(scheme):
            extra = ids.get("dossier", [])
            return ids[scheme][0] + (f" (dossier {extra[0]})" if extra and scheme != "kamerstuk"
                                     else "")
    return ""


def _event_line(row: EventRow) -> str:
    if row.event.kind == "new":
        return ""
    return describe_event(row.event.kind, row.event.detail or {}, "nl")


@app.command()
def demo(
    directory: Annotated[
        Path | None,
        typer.Option("--dir", help="Folder for the demo archive (default: a new folder here)."),
    ] = None,
) -> None:
    """Crawl the bundled Tweede Kamer recording (two weekly visits) into a fresh archive.

    Runs the real Scrapy engine, spider and pipelines on recorded responses: no network needed.
    """
    if directory is None:
        directory = Path(f"beleidsradar-demo-{datetime.now().strftime('%Y%m%d-%H%M%S')}")
    if directory.exists() and any(directory.iterdir()):
        raise CommandError(f"{directory} exists and is not empty; choose another --dir", code=2)
    visits = sorted(p for p in DEMO_RECORDING.iterdir() if (p / "manifest.json").exists()) \
        if DEMO_RECORDING.is_dir() else []
    if not visits:
        raise CommandError(f"the bundled recording is missing from {DEMO_RECORDING}")
    directory.mkdir(parents=True, exist_ok=True)
    db_path = directory.resolve() / "beleidsradar.db"
    url = str(db_path)
    _, _, imported = _init_archive(url)
    console.print(f"Archief aangemaakt: [bold]{db_path}[/] met {imported[0] if imported else 0} "
                  f"onderwerpen uit {DEFAULT_TOPICS.name}")
    for visit in visits:
        note = read_manifest(visit).get("description", "")
        console.print(f"  opname [bold]{visit.name}[/]: {note}")

    for visit in visits:
        _register_recorded_sources(url, visit)  # the feed and page a researcher added
    known = _known_sources(url)
    batches = [_jobs_for(sorted(read_manifest(visit).get("sources", {})), visit, None, known)
               for visit in visits]
    _run_with_progress(batches, url, verbose=False, log_file=str(directory / "crawl.log"))

    runs, slugs = _finished_runs(url, 0)
    console.print(_summary_table(runs, slugs, "Bezoeken (oudste eerst)"))
    last_visit_runs = [r for r in runs if r.started_at == max(x.started_at for x in runs)]
    with _archive(url) as Session, Session() as session:
        total = totals(session)
        rows = events_of_runs(session, [r.id for r in last_visit_runs]) if len(runs) > 1 else []
    console.print(
        f"Opgeslagen: {total.documents} documenten, {total.records} records, "
        f"{total.versions} versies, {total.identifiers} identificatoren; gebeurtenissen: "
        + ", ".join(f"{n} {k}" for k, n in sorted(total.events.items()))
    )
    if rows:
        table = Table(title=f"Wat er bij het laatste bezoek ({visits[-1].name}) veranderde")
        table.add_column("", no_wrap=True)
        table.add_column("document", ratio=3)
        table.add_column("wat", ratio=2)
        labels = {"new": "nieuw", "changed": "gewijzigd", "status": "status",
                  "removed": "verwijderd"}
        order = {"status": 0, "changed": 1, "removed": 2, "new": 3}
        for row in sorted(rows, key=lambda r: order.get(r.event.kind, 9)):
            title = row.record.title if len(row.record.title) <= 100 \
                else row.record.title[:99] + "…"
            kind = row.record.doc_type or ""
            heading = title if not kind or title.startswith(kind) else f"{kind}: {title}"
            document = Text(heading)
            document.append("\n" + _reference(row.identifiers), style="dim")
            table.add_row(labels.get(row.event.kind, row.event.kind), document,
                          Text(_event_line(row)))
        console.print(table)
    with _archive(url) as Session, Session() as session:
        counts = topic_counts(session)
        topics_table = Table(title="Onderwerpen: documenten met een treffer (na beide bezoeken)")
        topics_table.add_column("onderwerp")
        topics_table.add_column("documenten", justify="right")
        topics_table.add_column("voorbeeld", overflow="fold")
        for row in list_topics(session, active_only=True):
            strong, weak = counts.get(row.id, (0, 0))
            example = recent_matches(session, row, limit=1)
            sample = Text("")
            if example:
                match, document = example[0]
                sample = Text(document.title[:80] + "\n", style="dim")
                sample.append_text(_hit_text(match.reason["hits"][0]))
            topics_table.add_row(Text(row.title), f"{strong + weak}", sample)
        console.print(topics_table)
    # The digest of the week of the last visit, as researchers would get it on Monday.
    last_visit = read_manifest(visits[-1]).get("recorded_at")
    demo_week = week_of(datetime.fromisoformat(last_visit).astimezone(LOCAL).date()) \
        if last_visit else last_complete_week(_now())
    # Stored like a Monday digest, so the web UI shows it as the latest one.
    from storage.models import Digest as DigestRow

    with _archive(url) as Session:
        digest_id = ensure_stored(Session, demo_week, _now())
        with Session() as session:
            stored = session.get(DigestRow, digest_id)
            assert stored is not None
            bodies = {"html": stored.html, "txt": stored.text}
    digest_files = []
    for fmt, body in bodies.items():
        path = directory / f"weekoverzicht-{demo_week.label}.{fmt}"
        path.write_text(body, encoding="utf-8")
        digest_files.append(path)
    console.print(f"Weekoverzicht {demo_week.label}: {digest_files[0]} (ook als "
                  f"{digest_files[1].name})")
    import secrets as secrets_module

    from storage.users import add_user

    password = secrets_module.token_urlsafe(12)
    with _archive(url) as Session, Session.begin() as session:
        add_user(session, "demo", password, "admin", now=_now())
    console.print(
        f"Archief: {db_path}\nLog: {directory / 'crawl.log'}\n"
        f"Web UI: beleidsradar serve --database {db_path}\n"
        f"        open http://127.0.0.1:8000/ en log in als [bold]demo[/] met wachtwoord "
        f"[bold]{password}[/] (alleen voor dit demo-archief)\n"
        f"Verder: beleidsradar --help, of beleidsradar sources --database {db_path}"
    )
    bad = [r for r in runs if r.status != "ok"]
    if bad or len(runs) != sum(len(batch) for batch in batches):
        raise CommandError("the demo crawl did not finish cleanly (see the tables above)")


# --- search ----------------------------------------------------------------------------------


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="A query in the topics' language (README).")],
    fmt: Annotated[str, typer.Option("--format", help="table, json or csv.")] = "table",
    sort: Annotated[str, typer.Option("--sort", help="date or relevance.")] = "date",
    since: Annotated[str | None, typer.Option("--since", help="First day (YYYY-MM-DD).")] = None,
    until: Annotated[str | None, typer.Option("--until", help="Last day (YYYY-MM-DD).")] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many documents.")] = 50,
    event: Annotated[list[str] | None, typer.Option(
        "--event", help="Only documents with a change event of this kind (new, changed, status, "
                        "removed); repeatable.")] = None,
    changed_since: Annotated[str | None, typer.Option(
        "--changed-since", help="Only documents with a change event (of --event's kinds) from "
                                "this day on (YYYY-MM-DD).")] = None,
    database: DatabaseOption = None,
) -> None:
    """Search the archive with the query language topics use: the same query finds the same
    documents as a topic with that query (the search index narrows, the matcher decides)."""
    import csv
    import json as json_module

    from storage.models import EventKind
    from storage.search import search as search_archive

    if fmt not in ("table", "json", "csv"):
        raise CommandError(f"--format is table, json or csv, not {fmt!r}", code=2)
    if sort not in ("date", "relevance"):
        raise CommandError(f"--sort is date or relevance, not {sort!r}", code=2)
    kinds = [k.value for k in EventKind]
    for kind in event or []:
        if kind not in kinds:
            raise CommandError(f"--event is one of {', '.join(kinds)}, not {kind!r}", code=2)
    parse(query)
    first, last = _day_option(since, "--since"), _day_option(until, "--until")
    changed_from = _day_option(changed_since, "--changed-since")
    schemes = ("kamerstuk", "dossier", "zaak", "procedure", "celex", "ecli",
               "officielebekendmakingen")
    with _archive(database_url(database)) as Session, Session() as session:
        result = search_archive(session, query, sort=sort, since=first, until=last,
                                event_kinds=event or None, event_since=changed_from,
                                limit=max(0, limit), facets=False)
    hits = result.hits
    rows = [{
        "document": h.document_id, "datum": h.day.isoformat(), "soort": h.doc_type or "",
        "titel": h.title, "bron": h.source,
        "kenmerken": " ".join(f"{s}:{v}" for s, v in h.identifiers if s in schemes),
        "sterkte": h.match.strength if h.match else "",
        "waarom": " | ".join(f"{x.clause} ({x.field}): {x.snippet}"
                             for x in (h.match.hits[:3] if h.match else ())),
    } for h in hits]
    if fmt == "json":
        sys.stdout.write(json_module.dumps({"query": query, "total": result.total,
                                            "documents": rows}, ensure_ascii=False, indent=1))
        sys.stdout.write("\n")
        return
    if fmt == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]) if rows else ["document"])
        writer.writeheader()
        writer.writerows(rows)
        return
    table = Table(title=f"{result.total} documenten voor: {query}")
    for column in ("#", "datum", "soort", "document", "waarom"):
        table.add_column(column, overflow="fold")
    for hit, row in zip(hits, rows, strict=True):
        label = Text(row["titel"])
        label.append(f"\n{row['kenmerken']} · {row['bron']}", style="dim")
        table.add_row(str(row["document"]), row["datum"], Text(row["soort"]), label,
                      Text("\n").join(_hit_text(x) for x in (hit.match.hits[:2] if hit.match
                                                             else ())))
    console.print(table)


# --- documents: history and identity --------------------------------------------------------


def _document_or_fail(session: Any, ref: str) -> int:
    from storage.identity import find_by_identifier, resolve
    from storage.models import Document

    if ref.isdigit() and session.get(Document, int(ref)) is not None:
        return resolve(session, int(ref))
    found = find_by_identifier(session, ref)
    if not found:
        raise CommandError(f"no document {ref!r}: give our id or an identifier such as "
                           "kst-36547-3, 2026Z21495 or 2022/0155(COD)")
    if len(found) > 1:
        from storage.timeline import timeline_key

        try:
            scheme, key = timeline_key(ref)
        except ValueError:
            scheme, key = "", ref
        if scheme == "procedure":
            # The procedure's own record (the European Parliament's procedure file) is "it";
            # the rest are its documents, which the timeline shows.
            own = [d for d in found if (doc := session.get(Document, d)) is not None
                   and doc.doc_type == "EU-procedure"]
            if len(own) == 1:
                console.print(Text(f"{key} is een EU-procedure met {len(found)} documenten: "
                                   f"hieronder haar procedure-record; de tijdlijn toont "
                                   f"beleidsradar dossier '{key}'", style="cyan"))
                return own[0]
        if scheme in ("procedure", "dossier"):
            what = "an EU procedure" if scheme == "procedure" else "a dossier"
            raise CommandError(f"{ref!r} is {what} with {len(found)} documents "
                               f"({', '.join(map(str, found))}): "
                               f"`beleidsradar dossier {key}` shows its timeline; give one of "
                               "those ids for one document")
        raise CommandError(f"{ref!r} names {len(found)} documents ({', '.join(map(str, found))}); "
                           "give one of those ids")
    return found[0]


@app.command()
def history(
    ref: Annotated[str, typer.Argument(help="Our document id, or an identifier (kst-36547-3, "
                                            "2026Z21495, 2022/0155(COD), …).")],
    from_version: Annotated[int | None, typer.Option("--from", help="Diff from this version.")
                            ] = None,
    to_version: Annotated[int | None, typer.Option("--to", help="Diff to this version.")] = None,
    database: DatabaseOption = None,
) -> None:
    """Show a document's records, versions and events, and a word-level diff of its changes."""
    from sqlalchemy import select

    from reports.history import diff_text, word_diff
    from storage.identity import describe_join
    from storage.models import ChangeEvent, Document, Identifier, Record, Source, Version

    with _archive(database_url(database)) as Session, Session() as session:
        document_id = _document_or_fail(session, ref)
        document = session.get(Document, document_id)
        assert document is not None
        console.print(Text(f"#{document.id} {document.title}", style="bold"))
        console.print(Text(f"{document.doc_type or ''} · eerst gezien {_when(document.first_seen_at)}"
                           + (" · verwijderd bij de bron" if document.removed_at else ""),
                           style="dim"))
        for record in session.scalars(select(Record).where(Record.document_id == document_id)
                                      .order_by(Record.id)):
            source = session.get(Source, record.source_id)
            ids = session.execute(select(Identifier.scheme, Identifier.value)
                                  .where(Identifier.record_id == record.id)
                                  .order_by(Identifier.id)).all()
            console.print(Text(f"\nrecord {record.id} · {source.slug if source else '?'} · "
                               f"{record.key}", style="bold"))
            console.print(Text(record.url))
            console.print(Text(", ".join(f"{s}:{v}" for s, v in ids), style="dim"))
            if record.joined_by:
                why = describe_join(record.joined_by)
                console.print(Text(f"hoort bij dit document door: {why}", style="cyan"))
            versions = session.scalars(select(Version).where(Version.record_id == record.id)
                                       .order_by(Version.number)).all()
            if (record.joined_by or {}).get("why") == "re-issue" and versions:
                # What the re-issue changed: the original (the document's first record) as it
                # was, against this record's first version.
                original = session.scalars(
                    select(Version).join(Record, Record.id == Version.record_id)
                    .where(Record.document_id == document_id, Record.id != record.id)
                    .order_by(Record.id, Version.number.desc()).limit(1)).first()
                if original is not None:
                    runs = word_diff(original.title + "\n" + original.text,
                                     versions[0].title + "\n" + versions[0].text)
                    console.print(Text(f"verschil origineel (record {original.record_id} versie "
                                       f"{original.number}) → deze heruitgave:", style="bold"))
                    console.print(Text(diff_text(runs)))
            table = Table(box=None, padding=(0, 1))
            for column in ("versie", "opgeslagen", "titel"):
                table.add_column(column, overflow="fold")
            for version in versions:
                table.add_row(str(version.number), _when(version.created_at), Text(version.title))
            console.print(table)
            if len(versions) >= 2:
                by_number = {v.number: v for v in versions}
                a = by_number.get(from_version or versions[-2].number)
                b = by_number.get(to_version or versions[-1].number)
                if a is None or b is None:
                    raise CommandError(f"record {record.id} has versions "
                                       f"{', '.join(str(v.number) for v in versions)}")
                runs = word_diff(a.title + "\n" + a.text, b.title + "\n" + b.text)
                console.print(Text(f"verschil versie {a.number} → {b.number}:", style="bold"))
                console.print(Text(diff_text(runs)))
        events = Table(title="Gebeurtenissen")
        for column in ("wanneer", "soort", "record", "wat"):
            events.add_column(column, overflow="fold")
        for event in session.scalars(select(ChangeEvent).where(
                ChangeEvent.document_id == document_id).order_by(ChangeEvent.id)):
            events.add_row(_when(event.detected_at), event.kind, str(event.record_id),
                           Text(describe_event(event.kind, event.detail or {}, "nl")))
        console.print(events)


documents_app = typer.Typer(help="Documents: undo a wrong join.", no_args_is_help=True)
app.add_typer(documents_app, name="documents")


@documents_app.command("split")
def documents_split(
    record_id: Annotated[int, typer.Argument(help="The record to take out (see history).")],
    database: DatabaseOption = None,
) -> None:
    """Take a record out of its document into a document of its own (undo a wrong join)."""
    from storage.identity import split_record
    from storage.models import Record

    with _archive(database_url(database)) as Session, Session.begin() as session:
        record = session.get(Record, record_id)
        if record is None:
            raise CommandError(f"no record {record_id}")
        from sqlalchemy import func, select

        siblings = session.scalar(select(func.count(Record.id)).where(
            Record.document_id == record.document_id))
        if siblings == 1:
            raise CommandError(f"record {record_id} is the only record of its document")
        before = record.document_id
        document = split_record(session, record, now=_now())
    console.print(f"Record {record_id} staat nu in document #{document.id} (was #{before}).")


# --- digest ----------------------------------------------------------------------------------


def _week_option(value: str | None) -> Week:
    if value is None:
        return last_complete_week(_now())
    try:
        return parse_week(value)
    except ValueError as exc:
        raise CommandError(str(exc), code=2) from None


@app.command()
def digest(
    week: Annotated[str | None, typer.Option(
        "--week", help="ISO week, e.g. 2026-W48 (default: the last complete week).")] = None,
    lang: Annotated[str, typer.Option("--lang", help="nl or en.")] = "nl",
    fmt: Annotated[str, typer.Option("--format", help="html, md or txt.")] = "txt",
    out: Annotated[Path | None, typer.Option("--out", help="Write to this file.")] = None,
    topic: Annotated[list[str] | None, typer.Option(
        "--topic", help="Only these topics (slugs); repeatable.")] = None,
    send_mail: Annotated[bool, typer.Option(
        "--send", help="Store this week's digest (once) and mail each subscriber their topics.")
    ] = False,
    resend: Annotated[bool, typer.Option(
        "--resend", help="Mail the stored digest again, also to who already received it.")
    ] = False,
    to: Annotated[str | None, typer.Option(
        "--to", help="With --send/--resend: only this subscriber.")] = None,
    database: DatabaseOption = None,
) -> None:
    """Build the weekly digest of an ISO week (Europe/Amsterdam) and print, write or mail it.

    With --send the week's digest is stored with the topic definitions used and a ledger of
    the events it reports, and mailed; running it again only retries failed deliveries.
    """
    if lang not in ("nl", "en"):
        raise CommandError(f"--lang is nl or en, not {lang!r}", code=2)
    if fmt not in ("html", "md", "txt"):
        raise CommandError(f"--format is html, md or txt, not {fmt!r}", code=2)
    chosen = _week_option(week)
    if send_mail or resend:
        _send_digest(database_url(database), chosen, resend=resend, to=to)
        return
    with _archive(database_url(database)) as Session, Session() as session:
        if topic:
            unknown = [s for s in topic if get_topic(session, s) is None]
            if unknown:
                raise CommandError(f"no topic {', '.join(unknown)} (see beleidsradar topics list)")
        built = build_digest(session, chosen, lang=lang, topic_slugs=topic)
    text = render(built, fmt)
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")
        console.print(f"Weekoverzicht {chosen.label} ({fmt}, {lang}): {out}")


def mail_settings() -> MailSettings:
    """SMTP settings from the environment (see README, "Mail")."""
    env = os.environ.get
    tls = env("BELEIDSRADAR_SMTP_TLS", "none")
    if tls not in ("none", "starttls", "ssl"):
        raise CommandError(f"BELEIDSRADAR_SMTP_TLS is none, starttls or ssl, not {tls!r}")
    try:
        port = int(env("BELEIDSRADAR_SMTP_PORT", "465" if tls == "ssl" else "25"))
        attempts = int(env("BELEIDSRADAR_SMTP_ATTEMPTS", "3"))
        backoff = float(env("BELEIDSRADAR_SMTP_BACKOFF", "2"))
    except ValueError as exc:
        raise CommandError(f"SMTP setting: {exc}") from None
    return MailSettings(
        host=env("BELEIDSRADAR_SMTP_HOST", "localhost"), port=port, tls=tls,
        user=env("BELEIDSRADAR_SMTP_USER") or None, password=env("BELEIDSRADAR_SMTP_PASSWORD"),
        sender=env("BELEIDSRADAR_SMTP_FROM", "beleidsradar@localhost"),
        attempts=max(1, attempts), backoff=backoff,
    )


def _send_digest(url: str, week: Week, *, resend: bool, to: str | None) -> None:
    settings = mail_settings()
    with _archive(url) as Session:
        if resend:
            with Session() as session:
                row = stored_digest(session, week.label)
                if row is None:
                    raise CommandError(f"no digest of {week.label} was stored; use --send")
                digest_id = row.id
        else:
            digest_id = ensure_stored(Session, week, _now())
        results = deliver(Session, digest_id, settings, now=_now, resend=resend, only=to)
    if to is not None and not results:
        raise CommandError(f"no active subscriber {to!r} (see beleidsradar subscribers list)")
    table = Table(title=f"Verzending weekoverzicht {week.label}")
    for column in ("abonnee", "onderwerpen", "status", "pogingen", "fout"):
        table.add_column(column, overflow="fold")
    labels = {"sent": "[green]verzonden[/]", "failed": "[red]mislukt[/]",
              "already-sent": "al verzonden", "uncertain": "[yellow]onzeker[/]",
              "no-topics": "[dim]geen onderwerpen[/]"}
    for result in results:
        table.add_row(Text(result.email), Text(", ".join(result.topics)),
                      labels.get(result.status, result.status), str(result.attempts),
                      Text(result.error or ""))
    console.print(table)
    if not results:
        console.print("Geen abonnees: het weekoverzicht is opgeslagen maar niet gemaild.")
    bad = [r.email for r in results if r.status in ("failed", "uncertain")]
    if bad:
        raise CommandError(f"not delivered to {', '.join(bad)} (see the table; run again to retry)")


@app.command()
def feeds(
    out: Annotated[Path, typer.Option("--out", help="Folder for the Atom files.")],
    weeks: Annotated[int, typer.Option("--weeks", help="How many recent weeks to include.")] = 4,
    until: Annotated[str | None, typer.Option(
        "--week", help="Newest week to include (default: the current week).")] = None,
    lang: Annotated[str, typer.Option("--lang", help="nl or en.")] = "nl",
    database: DatabaseOption = None,
) -> None:
    """Write Atom feeds of the recent digests: alle.xml, and <topic>.xml per topic."""
    if lang not in ("nl", "en"):
        raise CommandError(f"--lang is nl or en, not {lang!r}", code=2)
    now = _now()
    # The current week too by default: feeds are read during the week, not only on Monday.
    week = _week_option(until) if until else week_of(now.astimezone(LOCAL).date())
    chosen = []
    for _ in range(max(1, weeks)):
        chosen.append(week)
        week = week.previous()
    with _archive(database_url(database)) as Session, Session() as session:
        built = [build_digest(session, w, lang=lang) for w in chosen]
    out.mkdir(parents=True, exist_ok=True)
    base = "tag:beleidsradar,2026"
    written = [out / "alle.xml"]
    (out / "alle.xml").write_bytes(atom_feed(built, slug=None, title="Beleidsradar",
                                             base_id=base, updated=now, lang=lang))
    for topic in built[0].topics:
        path = out / f"{topic.slug}.xml"
        path.write_bytes(atom_feed(built, slug=topic.slug, title=f"Beleidsradar: {topic.title}",
                                   base_id=base, updated=now, lang=lang))
        written.append(path)
    console.print(f"{len(written)} feeds in {out}")


# --- run: what is due -------------------------------------------------------------------------

WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


def _schedule() -> tuple[float, int, int]:
    """(crawl every N hours, digest weekday 0-6, digest hour) from the environment."""
    env = os.environ.get
    day = env("BELEIDSRADAR_DIGEST_DAY", "monday").lower()
    if day not in WEEKDAYS:
        raise CommandError(f"BELEIDSRADAR_DIGEST_DAY is a weekday in English, not {day!r}")
    try:
        every = float(env("BELEIDSRADAR_CRAWL_EVERY_HOURS", "24"))
        hour = int(env("BELEIDSRADAR_DIGEST_HOUR", "8"))
    except ValueError as exc:
        raise CommandError(f"schedule setting: {exc}") from None
    return every, WEEKDAYS.index(day), hour


def _due_digests(session: Any, now: datetime, weekday: int, hour: int) -> list[Week]:
    """Weeks whose digest moment has passed, that were watched and not yet sent (oldest first).

    A week is watched when a crawl ran before it ended; its digest moment is the configured
    weekday and hour after it ended. Missed moments (machine off) are caught up.
    """
    from sqlalchemy import func, select

    from storage.models import CrawlRun

    first_run = session.scalar(select(func.min(CrawlRun.started_at)))
    if first_run is None:
        return []
    due = []
    week = last_complete_week(now)
    for _ in range(8):  # catch up at most eight weeks
        moment = datetime.combine(week.next().monday + timedelta(days=weekday),
                                  time(hour), LOCAL)
        if week.end <= first_run:
            break
        if moment <= now:
            stored = stored_digest(session, week.label)
            if stored is None or any(d.status == "failed" for d, _ in deliveries(session, stored)):
                due.append(week)  # not built yet, or a delivery to retry
        week = week.previous()
    return list(reversed(due))


@app.command()
def run(
    now_option: Annotated[str | None, typer.Option(
        "--now", help="Act as if it were this ISO time (for testing schedules).")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show Scrapy's log.")] = False,
    database: DatabaseOption = None,
) -> None:
    """Do what is due: crawl sources not crawled for a day, then send every digest due.

    Meant for cron or a systemd timer every 30 minutes (README). Missed digests are caught up
    once; nothing is sent twice. Exits 1 when a source or a delivery failed.
    """
    url = database_url(database)
    try:
        now = datetime.fromisoformat(now_option) if now_option else _now()
    except ValueError:
        raise CommandError(f"--now takes an ISO time, not {now_option!r}", code=2) from None
    if now.tzinfo is None:
        raise CommandError("--now needs a time zone, e.g. 2026-11-30T09:00+01:00", code=2)
    every, weekday, hour = _schedule()
    problems = []

    from sqlalchemy import func, select

    from storage.models import CrawlRun, Source

    with _archive(url) as Session, Session() as session:
        last = dict(session.execute(
            select(Source.slug, func.max(CrawlRun.started_at))
            .join(CrawlRun, CrawlRun.source_id == Source.id).group_by(Source.slug)
        ).all())
        before = last_run_id(session)
    known = _known_sources(url)
    due_sources = [slug for slug in _default_sources(known)
                   if slug not in last or now - last[slug] >= timedelta(hours=every) * 0.95]
    for busy in _claim(url, due_sources):
        console.print(f"Crawl: {busy.source} wordt al gecrawld (proces {busy.pid} op "
                      f"{busy.host}); overgeslagen.")
        due_sources.remove(busy.source)
    if due_sources:
        console.print(f"Crawl: {', '.join(due_sources)}")
        jobs = _jobs_for(due_sources, None, None, known)
        for job in jobs:
            job.clock = now.isoformat() if now_option else None
        _run_with_progress([jobs], url, verbose=verbose, log_file=None)
        runs, slugs = _finished_runs(url, before)
        console.print(_summary_table(runs, slugs, "Crawl"))
        _print_errors(runs, slugs)
        problems += [f"crawl of {slugs[r.source_id]}: {r.status}" for r in runs
                     if r.status != "ok"]
    else:
        console.print("Crawl: niets te doen (elke bron is recent gecontroleerd).")

    with _archive(url) as Session:
        with Session() as session:
            weeks = _due_digests(session, now, weekday, hour)
        if not weeks:
            console.print("Weekoverzicht: niets te doen.")
        for week in weeks:
            digest_id = ensure_stored(Session, week, now)
            results = deliver(Session, digest_id, mail_settings(), now=lambda: now)
            sent = sum(r.status == "sent" for r in results)
            console.print(f"Weekoverzicht {week.label}: opgeslagen, {sent} mail(s) verzonden.")
            problems += [f"digest {week.label} to {r.email}: {r.status} ({r.error})"
                         for r in results if r.status in ("failed", "uncertain")]
    if problems:
        raise CommandError("; ".join(problems))


# --- subscribers -----------------------------------------------------------------------------

subscribers_app = typer.Typer(help="Who receives the digest, for which topics.",
                              no_args_is_help=True)
app.add_typer(subscribers_app, name="subscribers")


@subscribers_app.command("add")
def subscribers_add(
    email: str,
    topic: Annotated[list[str], typer.Option("--topic", help="Topic slug; repeatable.")],
    name: Annotated[str, typer.Option("--name")] = "",
    lang: Annotated[str, typer.Option("--lang", help="nl or en.")] = "nl",
    database: DatabaseOption = None,
) -> None:
    """Subscribe someone to topics (replaces their earlier topics)."""
    if "@" not in email or any(c.isspace() for c in email):
        raise CommandError(f"not an e-mail address: {email!r}", code=2)
    if lang not in ("nl", "en"):
        raise CommandError(f"--lang is nl or en, not {lang!r}", code=2)
    with _archive(database_url(database)) as Session, Session.begin() as session:
        rows = [_topic_or_fail(session, slug) for slug in topic]
        subscribe(session, email=email, name=name, lang=lang, topics=rows, now=_now())
    console.print(f"{email}: {', '.join(topic)}")


@subscribers_app.command("list")
def subscribers_list(database: DatabaseOption = None) -> None:
    """List subscribers and their topics."""
    with _archive(database_url(database)) as Session, Session() as session:
        table = Table(title="Abonnees")
        for column in ("e-mail", "naam", "taal", "actief", "onderwerpen"):
            table.add_column(column, overflow="fold")
        for person in subscribers(session, active_only=False):
            table.add_row(Text(person.email), Text(person.name), person.lang,
                          "ja" if person.active else "nee",
                          ", ".join(subscriber_topics(session, person)))
    console.print(table)


@subscribers_app.command("remove")
def subscribers_remove(email: str, database: DatabaseOption = None) -> None:
    """Stop mailing someone (their delivery history stays)."""
    with _archive(database_url(database)) as Session, Session.begin() as session:
        person = next((p for p in subscribers(session, active_only=False) if p.email == email),
                      None)
        if person is None:
            raise CommandError(f"no subscriber {email!r}")
        person.active = False
    console.print(f"{email}: uitgeschreven.")


# --- web UI: users and serve ----------------------------------------------------------------

users_app = typer.Typer(help="Who may sign in to the web UI, and with which role.",
                        no_args_is_help=True)
app.add_typer(users_app, name="users")


def _password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = typer.prompt("Wachtwoord", hide_input=True)
    if typer.prompt("Nog een keer", hide_input=True) != first:
        raise CommandError("the passwords differ")
    return first


@users_app.command("add")
def users_add(
    username: str,
    role: Annotated[str, typer.Option("--role", help="reader, editor or admin.")] = "reader",
    password_stdin: Annotated[bool, typer.Option(
        "--password-stdin", help="Read the password from the first line of stdin.")] = False,
    database: DatabaseOption = None,
) -> None:
    """Add a web UI user (the password is asked for, or read from stdin)."""
    from storage.users import UserError, add_user

    password = _password(password_stdin)
    with _archive(database_url(database)) as Session, Session.begin() as session:
        try:
            add_user(session, username, password, role, now=_now())
        except UserError as exc:
            raise CommandError(str(exc), code=2) from None
    console.print(f"Gebruiker {username} ({role}) toegevoegd.")


@users_app.command("password")
def users_password(username: str, password_stdin: Annotated[bool, typer.Option(
        "--password-stdin")] = False, database: DatabaseOption = None) -> None:
    """Set a new password (signs the user out everywhere)."""
    from storage.users import UserError, get_user, set_password

    password = _password(password_stdin)
    with _archive(database_url(database)) as Session, Session.begin() as session:
        user = get_user(session, username)
        if user is None:
            raise CommandError(f"no user {username!r}")
        try:
            set_password(user, password)
        except UserError as exc:
            raise CommandError(str(exc), code=2) from None
    console.print(f"Wachtwoord van {username} gewijzigd.")


@users_app.command("list")
def users_list(database: DatabaseOption = None) -> None:
    """List the web UI users and their roles."""
    from storage.users import list_users

    with _archive(database_url(database)) as Session, Session() as session:
        table = Table(title="Gebruikers")
        for column in ("gebruiker", "rol", "actief", "sinds"):
            table.add_column(column)
        for user in list_users(session):
            table.add_row(user.username, user.role, "ja" if user.active else "nee",
                          _when(user.created_at))
    console.print(table)


def secret_key() -> str:
    """BELEIDSRADAR_SECRET_KEY, or a random key kept in beleidsradar-secret.key (mode 600)."""
    import secrets as secrets_module

    from_env = os.environ.get("BELEIDSRADAR_SECRET_KEY", "").strip()
    if from_env:
        return from_env
    path = Path(os.environ.get("BELEIDSRADAR_SECRET_KEY_FILE", "beleidsradar-secret.key"))
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    key = secrets_module.token_urlsafe(48)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(key + "\n")
    return key


@app.command()
def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port")] = 8000,
    threads: Annotated[int, typer.Option("--threads", help="Worker threads.")] = 8,
    database: DatabaseOption = None,
) -> None:
    """Serve the web UI with a production WSGI server (waitress).

    Cookies are marked Secure unless the address is loopback (plain HTTP on this machine);
    behind a TLS proxy set BELEIDSRADAR_BEHIND_PROXY=1 so the client's scheme is trusted."""
    import ipaddress

    from waitress import serve as waitress_serve

    from web import create_app

    url = database_url(database)
    from storage.search import load_counts

    with _archive(url) as Session, Session() as session:
        # A clear error now if the archive is missing or out of date; search's counts loaded.
        load_counts(session)
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    flask_app = create_app({"DATABASE_URL": url, "SECRET_KEY": secret_key(),
                            "SECURE_COOKIES": not loopback})
    wsgi = flask_app.wsgi_app
    behind_proxy = os.environ.get("BELEIDSRADAR_BEHIND_PROXY", "") in ("1", "true", "yes")
    if behind_proxy:
        from werkzeug.middleware.proxy_fix import ProxyFix

        flask_app.wsgi_app = ProxyFix(wsgi, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]
    console.print(f"Beleidsradar op http://{host}:{port}/ ({_describe(url)}); Ctrl-C stopt.")
    waitress_serve(flask_app, host=host, port=port, threads=threads, ident="beleidsradar")


@app.command()
def dossier(
    key: Annotated[str, typer.Argument(help="A dossier number (36547) or an EU procedure "
                                            "(2022/0155(COD), any spelling).")],
    database: DatabaseOption = None,
) -> None:
    """The stages and timeline of a bill or EU procedure: its documents, everything that
    happened to them, and the documents on the other side (Dutch documents about an EU
    procedure; the EU procedure a bill implements)."""
    from storage.timeline import timeline

    with _archive(database_url(database)) as Session, Session() as session:
        try:
            found = timeline(session, key)
        except ValueError as exc:
            raise CommandError(str(exc), code=2) from None
    name = "Dossier" if found.scheme == "dossier" else "EU-procedure"
    console.print(Text(f"{name} {found.key}" + (f" — {found.title}" if found.title else ""),
                       style="bold"))
    if found.current:
        console.print(Text(f"stand volgens de bron: {found.current}"))
    for procedure, why in found.procedures.items():
        console.print(Text(f"EU-procedure {procedure} ({why}): beleidsradar dossier "
                           f"'{procedure}'", style="cyan"))
    if found.stages:
        stages = Table(title="Verloop")
        for column in ("", "stadium", "datum", "toelichting", "documenten"):
            stages.add_column(column, overflow="fold")
        marks = {"done": "✓", "current": "→", "planned": "…", "unknown": "·"}
        for stage in found.stages:
            day = stage.when.astimezone(LOCAL).date().isoformat() if stage.when else ""
            detail = stage.detail or ("niet in het archief" if stage.state == "unknown" else "")
            stages.add_row(marks[stage.state], stage.label, day, Text(detail),
                           " ".join(f"#{d}" for d in stage.document_ids))
        console.print(stages)
    table = Table(title=f"{found.scheme} {found.key}: {found.documents} documenten")
    for column in ("wanneer", "wat", "document", "bron"):
        table.add_column(column, overflow="fold")
    for entry in found.entries:
        what = {"published": "gepubliceerd", "new": "nieuw", "changed": "gewijzigd",
                "status": "status", "removed": "verwijderd"}[entry.kind]
        if entry.kind in ("changed", "status"):
            what += ": " + describe_event(entry.kind, entry.detail, "nl")
        table.add_row(_when(entry.when), what, Text(f"#{entry.document_id} {entry.title}"),
                      entry.source)
    console.print(table)
    if found.linked:
        title = ("Nederlandse documenten over deze procedure" if found.scheme == "procedure"
                 else "Gekoppeld op titel")
        linked = Table(title=title)
        for column in ("datum", "soort", "document", "waarom"):
            linked.add_column(column, overflow="fold")
        for link in found.linked:
            day = link.when.astimezone(LOCAL).date().isoformat() if link.when else ""
            dossiers = f" (dossier {', '.join(link.dossiers)})" if link.dossiers else ""
            linked.add_row(day, link.kind, Text(f"#{link.document_id} {link.title}{dossiers}"),
                           Text(link.why))
        console.print(linked)


# --- topics ----------------------------------------------------------------------------------

topics_app = typer.Typer(help="Watch topics: list, show, add, edit, disable, test, import, export.",
                         no_args_is_help=True)
app.add_typer(topics_app, name="topics")

ByOption = Annotated[
    str | None, typer.Option("--by", help="Who makes the change (default: $BELEIDSRADAR_USER, $USER).")
]


def _topic_or_fail(session: Any, slug: str) -> Any:
    row = get_topic(session, slug)
    if row is None:
        raise CommandError(f"no topic {slug!r} (see beleidsradar topics list)")
    return row


def _variants(values: list[str] | None) -> dict[str, str]:
    variants = {}
    for value in values or []:
        language, sep, query = value.partition("=")
        if not sep or not language.strip():
            raise CommandError(f"--variant takes LANG=QUERY, e.g. en='\"human trafficking\"', "
                               f"not {value!r}", code=2)
        variants[language.strip()] = query
    return variants


def _hit_text(hit: dict[str, Any] | Any) -> Text:
    """'clause' in field: …snippet with the hit in bold… (crawled text is never markup)."""
    get = hit.get if isinstance(hit, dict) else lambda k: getattr(hit, k)
    start, end = get("mark")
    snippet = get("snippet")
    text = Text(f"{get('clause')} ", style="cyan")
    text.append(f"({get('field')}{', vaag' if get('fuzzy') else ''}) ", style="dim")
    text.append(snippet[:start])
    text.append(snippet[start:end], style="bold yellow")
    text.append(snippet[end:])
    return text


@topics_app.command("list")
def topics_list(
    all_: Annotated[bool, typer.Option("--all", help="Also disabled topics.")] = False,
    database: DatabaseOption = None,
) -> None:
    """List the watch topics with how many documents they match."""
    with _archive(database_url(database)) as Session, Session() as session:
        rows = list_topics(session, active_only=not all_)
        counts = topic_counts(session)
        table = Table(title="Onderwerpen")
        for column in ("onderwerp", "titel", "actief", "documenten", "waarvan vaag",
                       "gewijzigd", "door"):
            table.add_column(column, overflow="fold")
        for row in rows:
            strong, weak = counts.get(row.id, (0, 0))
            table.add_row(row.slug, Text(row.title), "ja" if row.active else "nee",
                          str(strong + weak), str(weak), _when(row.updated_at),
                          Text(row.updated_by or ""))
    console.print(table)


@topics_app.command("show")
def topics_show(slug: str, database: DatabaseOption = None) -> None:
    """Show one topic: its definition, its history and its latest matches with reasons."""
    with _archive(database_url(database)) as Session, Session() as session:
        row = _topic_or_fail(session, slug)
        console.print(Text(f"{row.title}  ({row.slug})", style="bold"))
        if row.description:
            console.print(Text(row.description))
        console.print(Text("query: ", style="dim") + Text(row.query))
        for language, query in sorted((row.variants or {}).items()):
            console.print(Text(f"variant {language}: ", style="dim") + Text(query))
        if row.exclusions:
            console.print(Text("uitsluitingen: ", style="dim") + Text(row.exclusions))
        console.print(Text(f"actief: {'ja' if row.active else 'nee'}; eigenaar: "
                           f"{row.owner or '—'}", style="dim"))
        history = Table(title="Geschiedenis")
        for column in ("#", "wanneer", "door", "wat", "query"):
            history.add_column(column, overflow="fold")
        for revision in revisions(session, row):
            history.add_row(str(revision.number), _when(revision.changed_at),
                            Text(revision.changed_by or ""), revision.action,
                            Text(revision.definition.get("query", "")))
        console.print(history)
        matches = Table(title="Laatste treffers")
        for column in ("document", "sterkte", "waarom"):
            matches.add_column(column, overflow="fold")
        for match, document in recent_matches(session, row):
            reasons = Text("\n").join(_hit_text(h) for h in match.reason.get("hits", [])[:3])
            matches.add_row(Text(f"{document.title}\n#{document.id}"), match.strength, reasons)
        console.print(matches)


def _save_and_match(url: str, topic: Topic, by: str | None, *, action: str | None = None) -> None:
    for query in (topic.query, *topic.variants.values(), topic.exclusions):
        if query.strip():
            parse(query)  # a QuerySyntaxError is shown with a pointer to the position
    problems = check_examples(topic)
    with _archive(url) as Session, Session.begin() as session:
        row, created = save_topic(session, topic, by=_who(by), now=_now(), action=action)
        count = backfill(session, [row], now=_now())
    verb = "Aangemaakt" if created else "Bijgewerkt"
    console.print(f"{verb}: {topic.slug}; {count} treffers in het archief.")
    for problem in problems:
        console.print(Text(f"let op: {problem}", style="yellow"))


@topics_app.command("add")
def topics_add(
    slug: Annotated[str, typer.Argument(help="Permanent name: lower-case letters, digits, hyphens.")],
    title: Annotated[str, typer.Option("--title", help="Title researchers see.")],
    query: Annotated[str, typer.Option("--query", help="The query (see README: query language).")],
    description: Annotated[str, typer.Option("--description")] = "",
    exclude: Annotated[str, typer.Option("--exclude", help="A query that vetoes a match.")] = "",
    variant: Annotated[list[str] | None, typer.Option(
        "--variant", help="LANG=QUERY, e.g. en='\"human trafficking\"'; repeatable.")] = None,
    owner: Annotated[str | None, typer.Option("--owner")] = None,
    example_match: Annotated[list[str] | None, typer.Option(
        "--example-match", help="A sentence the topic must match; repeatable.")] = None,
    example_no_match: Annotated[list[str] | None, typer.Option(
        "--example-no-match", help="A sentence it must not match; repeatable.")] = None,
    by: ByOption = None,
    database: DatabaseOption = None,
) -> None:
    """Add a topic and match the whole archive against it."""
    url = database_url(database)
    with _archive(url) as Session, Session() as session:
        if get_topic(session, slug) is not None:
            raise CommandError(f"topic {slug!r} exists; use beleidsradar topics edit {slug}")
    topic = Topic(slug=slug, title=title, query=query, description=description,
                  variants=_variants(variant), exclusions=exclude, owner=owner,
                  examples_match=list(example_match or []),
                  examples_no_match=list(example_no_match or []))
    _save_and_match(url, topic, by)


@topics_app.command("edit")
def topics_edit(
    slug: str,
    title: Annotated[str | None, typer.Option("--title")] = None,
    query: Annotated[str | None, typer.Option("--query")] = None,
    description: Annotated[str | None, typer.Option("--description")] = None,
    exclude: Annotated[str | None, typer.Option("--exclude")] = None,
    variant: Annotated[list[str] | None, typer.Option(
        "--variant", help="LANG=QUERY (LANG= with nothing after removes it); repeatable.")] = None,
    owner: Annotated[str | None, typer.Option("--owner")] = None,
    by: ByOption = None,
    database: DatabaseOption = None,
) -> None:
    """Change a topic; the archive is matched again against the new definition."""
    url = database_url(database)
    with _archive(url) as Session, Session() as session:
        topic = definition_of(_topic_or_fail(session, slug))
    if title is not None:
        topic.title = title
    if query is not None:
        topic.query = query
    if description is not None:
        topic.description = description
    if exclude is not None:
        topic.exclusions = exclude
    if owner is not None:
        topic.owner = owner
    for language, text in _variants(variant).items():
        if text.strip():
            topic.variants[language] = text
        else:
            topic.variants.pop(language, None)
    _save_and_match(url, topic, by, action="edited")


def _set_active(slug: str, active: bool, by: str | None, database: str | None) -> None:
    with _archive(database_url(database)) as Session, Session.begin() as session:
        row = _topic_or_fail(session, slug)
        set_active(session, row, active, by=_who(by), now=_now())
    console.print(f"{slug}: {'aan' if active else 'uit'}gezet.")


@topics_app.command("disable")
def topics_disable(slug: str, by: ByOption = None, database: DatabaseOption = None) -> None:
    """Stop matching new items against a topic (its history and matches stay)."""
    _set_active(slug, False, by, database)


@topics_app.command("enable")
def topics_enable(slug: str, by: ByOption = None, database: DatabaseOption = None) -> None:
    """Match new items against a disabled topic again."""
    _set_active(slug, True, by, database)


def _day_option(value: str | None, name: str) -> Any:
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise CommandError(f"{name} takes a date like 2026-06-01, not {value!r}", code=2) from None


@topics_app.command("test")
def topics_test(
    query: Annotated[str, typer.Argument(help="A query, or the slug of a saved topic.")],
    since: Annotated[str | None, typer.Option("--since", help="First day (YYYY-MM-DD).")] = None,
    until: Annotated[str | None, typer.Option("--until", help="Last day (YYYY-MM-DD).")] = None,
    limit: Annotated[int, typer.Option("--limit", help="How many documents to list.")] = 20,
    database: DatabaseOption = None,
) -> None:
    """Show what a query (or saved topic) would have matched in the archive, week by week."""
    first, last = _day_option(since, "--since"), _day_option(until, "--until")
    with _archive(database_url(database)) as Session, Session() as session:
        saved = get_topic(session, query)
        target = definition_of(saved).as_query() if saved else TopicQuery("test", query)
        result = backtest(session, Matcher([target]), since=first, until=last)
    table = Table(title=f"Treffers: {len(result.hits)} van {result.documents_checked} documenten")
    for column in ("datum", "soort", "document", "waarom"):
        table.add_column(column, overflow="fold")
    for hit in result.hits[:limit]:
        reasons = Text("\n").join(_hit_text(h) for h in hit.match.hits[:3])
        label = Text(hit.title)
        label.append(f"\n#{hit.document_id} · {hit.source}" +
                     (" · vaag" if hit.match.strength == "weak" else ""), style="dim")
        table.add_row(hit.day.isoformat(), Text(hit.doc_type or ""), label, reasons)
    console.print(table)
    if result.hits:
        days = [h.day for h in result.hits]
        volume = Table(title="Per week")
        volume.add_column("week")
        volume.add_column("documenten", justify="right")
        volume.add_column("")
        peak = max(result.weekly.values())
        for week in weeks_between(first or min(days), last or max(days)):
            count = result.weekly.get(week, 0)
            volume.add_row(week, str(count), "█" * max(0, round(30 * count / peak)))
        console.print(volume)


def _load_topics(path: Path) -> list[Topic]:
    try:
        return load_topics(path)
    except UnicodeDecodeError as exc:
        raise CommandError(f"topics: cannot read {path}: not UTF-8 (byte {exc.start})",
                           code=2) from None


@topics_app.command("check")
def topics_check(
    path: Annotated[Path | None, typer.Argument(
        help="A topics TOML file (default: the topics in the archive).")] = None,
    database: DatabaseOption = None,
) -> None:
    """Validate topics and run their example sentences; exits 1 if any example fails."""
    if path is not None:
        topics = _load_topics(path)
    else:
        with _archive(database_url(database)) as Session, Session() as session:
            topics = [definition_of(r) for r in list_topics(session)]
    problems = [p for t in topics for p in check_examples(t)]
    for problem in problems:
        console.print(Text(problem, style="red"))
    examples = sum(len(t.examples_match) + len(t.examples_no_match) for t in topics)
    console.print(f"{len(topics)} onderwerpen, {examples} voorbeelden, {len(problems)} fout.")
    if problems:
        raise CommandError(f"{len(problems)} example(s) do not behave as their topic says")


@topics_app.command("import")
def topics_import(
    path: Annotated[Path, typer.Argument(help="A topics TOML file (see monitors/topics.toml).")],
    by: ByOption = None,
    database: DatabaseOption = None,
) -> None:
    """Create or update topics from a TOML file; changed topics are matched against the archive."""
    topics = _load_topics(path)
    if not topics:
        raise CommandError(f"topics: {path} holds no [[topic]] tables", code=2)
    with _archive(database_url(database)) as Session, Session.begin() as session:
        created, updated, matches = import_topics(session, topics, by=_who(by), now=_now())
    console.print(f"{len(created)} nieuw, {len(updated)} bijgewerkt, "
                  f"{len(topics) - len(created) - len(updated)} ongewijzigd; {matches} treffers.")


@topics_app.command("export")
def topics_export(
    out: Annotated[Path | None, typer.Option("--out", help="File to write (default: stdout).")] = None,
    database: DatabaseOption = None,
) -> None:
    """Write every topic as TOML (import reads it back to the same topics)."""
    with _archive(database_url(database)) as Session, Session() as session:
        text = dump_topics([definition_of(r) for r in list_topics(session)])
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")
        console.print(f"Geschreven: {out}")


# --- entry point -----------------------------------------------------------------------------


def _database_error(exc: BaseException) -> str:
    """A driver's error in one line ("file is not a database"), without SQLAlchemy's trailer."""
    original = getattr(exc, "orig", None) or exc
    lines = str(original).strip().splitlines()
    return lines[0] if lines else type(original).__name__


def _fail(message: str, code: int) -> NoReturn:
    errors.print(f"beleidsradar: {message}", markup=False, highlight=False, soft_wrap=True)
    raise SystemExit(code)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: expected failures become one line and an exit code."""
    handlers: list[tuple[type[BaseException], Callable[[BaseException], tuple[str, int]]]] = [
        (CommandError, lambda e: (str(e), e.code)),  # type: ignore[attr-defined]
        (StorageError, lambda e: (f"database: {e}", 1)),
        (SQLAlchemyError, lambda e: (f"database: {_database_error(e)}", 1)),
        (RecordingError, lambda e: (str(e), 2)),
        (ScaleOutError, lambda e: (f"scale-out: {e}", 2)),
        (QuerySyntaxError, lambda e: (f"query: {e}\n{e.pointer()}", 2)),  # type: ignore[attr-defined]
        (MonitorError, lambda e: (f"topics: {e}", 2)),
        (click_exceptions.UsageError, lambda e: (f"{e.format_message()} (try --help)", 2)),  # type: ignore[attr-defined]
        (click_exceptions.ClickException, lambda e: (e.format_message(), 1)),  # type: ignore[attr-defined]
        (typer.Abort, lambda e: ("aborted", 130)),
    ]
    try:
        app(args=argv, standalone_mode=False, prog_name="beleidsradar")
    except typer.Exit as exit_:
        raise SystemExit(exit_.exit_code) from None
    except BaseException as exc:  # noqa: BLE001 - re-raised unless it is one we expect
        if type(exc).__name__ == "NoArgsIsHelpError":
            raise SystemExit(2) from None  # the help text was printed already
        for kind, handle in handlers:
            if isinstance(exc, kind):
                message, code = handle(exc)
                _fail(message, code)
        raise


if __name__ == "__main__":
    main(sys.argv[1:])
