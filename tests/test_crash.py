"""Crash safety: a crawl killed with SIGKILL and run again leaves exactly the archive a clean
crawl leaves, on SQLite and PostgreSQL; two crawls of one source at once either cooperate or the
second refuses, saying who is crawling; a digest send killed halfway never mails anyone twice.

Crawls run as `beleidsradar crawl` in their own process (the demo recording, replayed), and are
killed when the archive shows they got as far as a kill point drawn from a seeded RNG.
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from email import message_from_bytes, policy
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from crawler.replay import read_manifest
from storage.db import make_engine, session_factory
from storage.models import CrawlRun, Source, Version
from tests.faults import (
    DEMO, RECORDINGS, SOURCE_HOSTS, FaultyWeb, canonical_dump, dump_difference, prepare_archive,
)
from tests.helpers import ROOT, run_cli

pytestmark = pytest.mark.slow

WEEKS = [DEMO / "1-week47", DEMO / "2-week48"]
SEED = 20261120
PROGRAM = f"import sys; sys.path.insert(0, {str(ROOT)!r}); import cli; cli.main()"


def start_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """`beleidsradar ARGS` in its own process, not waited for (its pid is the crawler's)."""
    return subprocess.Popen([sys.executable, "-c", PROGRAM, *args], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "COLUMNS": "200", **(env or {})})


def count(url: str, what: Any) -> int:
    engine = make_engine(url)
    try:
        with session_factory(engine)() as session:
            return session.scalar(select(func.count()).select_from(what)) or 0
    finally:
        engine.dispose()


def crawl_week(url: str, week: Path, sources: list[str] | None = None) -> None:
    result = run_cli("crawl", "--replay", str(week), *(sources or []), "-d", url)
    assert result.returncode == 0, result.stdout + result.stderr


def unfinished(url: str, week: Path, since_run: int) -> list[str]:
    """The sources of ``week`` whose crawl since run ``since_run`` did not end on its own: what
    a crawl that resumes must visit (`beleidsradar run` visits what is due, likewise; a source
    that finished has moved its cursor past this recording)."""
    engine = make_engine(url)
    with session_factory(engine)() as session:
        done = set(session.scalars(select(Source.slug).join(CrawlRun).where(
            CrawlRun.id > since_run, CrawlRun.finished_at.is_not(None),
            CrawlRun.finish_reason != "interrupted")))
    engine.dispose()
    return sorted(set(read_manifest(week)["sources"]) - done)


def last_run(url: str) -> int:
    engine = make_engine(url)
    with session_factory(engine)() as session:
        found = session.scalar(select(func.max(CrawlRun.id))) or 0
    engine.dispose()
    return found


def killed_crawl(url: str, week: Path, after_versions: int, sources: list[str]) -> int | None:
    """Replay ``sources`` of ``week`` and SIGKILL the crawl once it has stored
    ``after_versions`` new versions (0: as soon as its crawl runs are open). Returns how many it
    had stored, or None when it finished before the kill point."""
    engine = make_engine(url)
    try:
        with session_factory(engine)() as session:
            versions = session.scalar(select(func.count(Version.id))) or 0
            runs = session.scalar(select(func.count(CrawlRun.id))) or 0
        process = start_cli("crawl", "--replay", str(week), *sources, "-d", url)
        while process.poll() is None:
            with session_factory(engine)() as session:
                stored = (session.scalar(select(func.count(Version.id))) or 0) - versions
                opened = (session.scalar(select(func.count(CrawlRun.id))) or 0) - runs
            if (stored >= after_versions and opened > 0):
                process.send_signal(signal.SIGKILL)
                process.wait()
                return stored
            time.sleep(0.005)
        out, err = process.communicate()
        assert process.returncode == 0, out + err
        return None
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The demo's two weeks crawled once each, without interruption (on SQLite)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('clean') / 'archive.db'}"
    assert run_cli("init", "-d", url).returncode == 0
    dumps, versions = [], []
    for week in WEEKS:
        crawl_week(url, week)
        dumps.append(canonical_dump(url))
        versions.append(count(url, Version))
    return {"url": url, "dumps": dumps, "versions": versions}


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql",
                                                             marks=pytest.mark.postgres)])
def test_a_crawl_killed_at_random_points_and_run_again_is_a_clean_crawl(
        backend: str, clean: dict[str, Any], request: pytest.FixtureRequest,
        tmp_path: Path) -> None:
    url = (f"sqlite:///{tmp_path / 'archive.db'}" if backend == "sqlite"
           else request.getfixturevalue("postgres_schema_url"))
    assert run_cli("init", "-d", url).returncode == 0
    rng = random.Random(f"{SEED}-{backend}")
    week47, week48 = (clean["versions"][0], clean["versions"][1] - clean["versions"][0])
    # Kill points (new versions a crawl has stored when it is killed), drawn once per backend:
    # two in week 47 (the second in the crawl that resumes the first), in week 48 one as soon
    # as the crawl has opened its runs and one in the crawl that resumes it. Each week ends
    # with a crawl that is not killed (or with one that finished before its kill point).
    plan = [(WEEKS[0], [rng.randint(1, week47 // 2), rng.randint(1, week47 // 3)]),
            (WEEKS[1], [0, rng.randint(1, week48 - 1)])]
    kills = []
    for week, points in plan:
        start = last_run(url)
        for after in points:
            if not (rest := unfinished(url, week, start)):
                break
            stored = killed_crawl(url, week, after, rest)
            kills.append((week.name, after, stored))
            if stored is None:  # it finished before the kill point: the week is in
                break
        else:
            if rest := unfinished(url, week, start):
                crawl_week(url, week, rest)
    killed = [k for k in kills if k[2] is not None]
    assert len(killed) >= 3, f"most crawls should have been killed: {kills}"

    after = canonical_dump(url)
    assert after == clean["dumps"][1], (
        f"killed at {kills}:\n"
        + dump_difference(clean["dumps"][1], after))
    # Each killed run is in the account as interrupted, closed by the crawl that came next.
    engine = make_engine(url)
    with session_factory(engine)() as session:
        interrupted = session.scalars(select(CrawlRun).where(
            CrawlRun.finish_reason == "interrupted")).all()
        assert not session.scalars(select(CrawlRun).where(CrawlRun.status == "running")).all()
    engine.dispose()
    assert interrupted and all(r.status == "failed" and "interrupted: process" in
                               r.errors[-1]["reason"] for r in interrupted)


# --- two crawls at once -----------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql",
                                                             marks=pytest.mark.postgres)])
def test_a_second_crawl_of_a_source_being_crawled_is_refused(
        backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    url = (f"sqlite:///{tmp_path / 'archive.db'}" if backend == "sqlite"
           else request.getfixturevalue("postgres_schema_url"))
    with FaultyWeb(RECORDINGS) as web:
        prepare_archive(url, web)
        env = {"BELEIDSRADAR_TK_ODATA_URL":
               web.base("gegevensmagazijn.tweedekamer.nl") + "/OData/v4/2.0/"}
        web.hold(SOURCE_HOSTS["tweedekamer"])
        first = start_cli("crawl", "tweedekamer", "-d", url, env=env)
        try:
            assert web.holding.wait(90), "the first crawl never asked the TK"
            second = run_cli("crawl", "tweedekamer", "-d", url, env=env)
        finally:
            web.release()
        out, err = first.communicate(timeout=120)
    assert first.returncode == 0, out + err
    assert second.returncode == 1
    message = second.stderr.strip()
    assert message.startswith(f"beleidsradar: tweedekamer is being crawled by process "
                              f"{first.pid} on {socket.gethostname()} since ")
    assert message.endswith(": try again when it has finished")
    engine = make_engine(url)
    with session_factory(engine)() as session:
        runs = session.scalars(select(CrawlRun).join(Source).where(
            Source.slug == "tweedekamer")).all()
    engine.dispose()
    assert [(r.status, r.pid) for r in runs] == [("ok", first.pid)]


def test_two_crawls_started_at_once_cooperate_or_one_refuses(
        clean: dict[str, Any], tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'archive.db'}"
    assert run_cli("init", "-d", url).returncode == 0
    both = [start_cli("crawl", "--replay", str(WEEKS[0]), "-d", url) for _ in range(2)]
    results = [(p.wait(timeout=300), *p.communicate()) for p in both]
    refused = [r for r in results if r[0] != 0]
    for code, out, err in refused:
        assert code == 1 and "is being crawled by process" in err, out + err
    assert len(refused) <= 1, results
    after = canonical_dump(url)
    assert after == clean["dumps"][0], dump_difference(clean["dumps"][0], after)


# --- a digest send killed halfway -------------------------------------------------------------


class HoldingInbox:
    """An SMTP inbox that keeps the ``hold``-th message waiting (the sender gets no answer)
    until ``release``; every message it gets counts as delivered, that one too."""

    def __init__(self, hold: int):
        self.hold = hold
        self.received = 0
        self.messages: list[Message] = []
        self.in_flight = threading.Event()
        self.release = threading.Event()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.received += 1
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        if self.received == self.hold:
            self.in_flight.set()
            while not self.release.is_set():
                await asyncio.sleep(0.05)
        return "250 OK"


def test_a_digest_send_killed_halfway_sends_nobody_twice(
        clean: dict[str, Any], tmp_path: Path) -> None:
    from aiosmtpd.controller import Controller

    archive = tmp_path / "archive.db"
    shutil.copy(clean["url"].removeprefix("sqlite:///"), archive)
    url = f"sqlite:///{archive}"
    people = ["anna@nr.example", "ben@nr.example", "chris@nr.example"]
    for email in people:
        assert run_cli("subscribers", "add", email, "--topic", "mensenhandel",
                       "-d", url).returncode == 0
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = HoldingInbox(hold=2)
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    env = {"BELEIDSRADAR_SMTP_HOST": "127.0.0.1", "BELEIDSRADAR_SMTP_PORT": str(port),
           "BELEIDSRADAR_SMTP_FROM": "radar@nr.example", "BELEIDSRADAR_SMTP_ATTEMPTS": "1"}
    try:
        sending = start_cli("digest", "--week", "2026-W48", "--send", "-d", url, env=env)
        assert inbox.in_flight.wait(120), "the second mail never came"
        sending.send_signal(signal.SIGKILL)  # killed while the server holds mail 2
        sending.communicate()
        inbox.release.set()
        assert len(inbox.messages) == 2  # the server did take the second mail
        in_flight = inbox.messages[1]["To"]

        again = run_cli("digest", "--week", "2026-W48", "--send", "-d", url, env=env)
        assert again.returncode == 1, again.stdout + again.stderr
        assert "onzeker" in again.stdout and "al verzonden" in again.stdout
        assert again.stderr.strip().startswith("beleidsradar: not delivered to ")
        once_more = run_cli("digest", "--week", "2026-W48", "--send", "-d", url, env=env)
        assert once_more.returncode == 1
        to = Counter(m["To"] for m in inbox.messages)
        assert sorted(to) == people and set(to.values()) == {1}, to  # everyone once, nobody twice

        # Sending the uncertain one again is the researcher's decision, and it works.
        resent = run_cli("digest", "--week", "2026-W48", "--resend", "--to", in_flight,
                         "-d", url, env=env)
        assert resent.returncode == 0, resent.stdout + resent.stderr
        assert Counter(m["To"] for m in inbox.messages)[in_flight] == 2
    finally:
        inbox.release.set()
        controller.stop()
