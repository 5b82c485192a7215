"""Scale-out, for real: two crawler processes share one crawl through Redis into PostgreSQL.

A `beleidsradar worker` and a `beleidsradar crawl` (the coordinator) run as separate processes
against the Tweede Kamer rows of tests/fixtures, re-paged into many small pages and served over
loopback HTTP (tests/loopback.py), with the real Redis (a key prefix of its own, removed after)
and the real PostgreSQL (a schema of its own). Checked: both processes stored items, every
record is stored exactly once with one version and one creation event, nothing is missing, the
one crawl run accounts for every page and item, the cursor advanced as a single crawl would,
and no Redis key is left. Unit tests of the pieces (request serialisation, cursor merge,
finish rule) run without servers.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.utils.request import request_from_dict
from sqlalchemy import func, select

from crawler import scaleout
from crawler.runner import project_settings
from crawler.spiders.tweedekamer import CURSOR_FIELD, TweedekamerSpider, parse_time
from storage.archive import ensure_source
from storage.db import make_engine, session_factory, upgrade
from storage.models import ChangeEvent, CrawlRun, Record, Source, Version
from tests.conftest import IN_CI
from tests.loopback import serve_recording

ROOT = Path(__file__).resolve().parent.parent
PAGES = ROOT / "tests" / "fixtures" / "tweedekamer" / "pages" / "visit1"
ORIGIN = "https://gegevensmagazijn.tweedekamer.nl"
REDIS_URL = os.environ.get("BELEIDSRADAR_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
#: The stored cursor the crawl starts from (the spider asks from 24 h before it).
CURSOR = "2026-11-17T00:00:00Z"
CLI = [sys.executable, "-c", f"import sys; sys.path.insert(0, {str(ROOT)!r}); import cli; cli.main()"]
ROWS_PER_PAGE = 2


# --- pieces, no servers ----------------------------------------------------------------------


class _Spider(Spider):
    name = "s"

    def parse_page(self, response: Any) -> None: ...

    def on_error(self, failure: Any) -> None: ...


def test_requests_travel_as_json_and_come_back_equal() -> None:
    spider = _Spider()
    request = Request("https://example.org/a?b=1", callback=spider.parse_page,
                      errback=spider.on_error, cb_kwargs={"entity": "Document"},
                      meta={"entity": "Document", "retry_times": 2}, method="POST", body=b"\x00q",
                      headers={"Accept": "application/json"}, priority=3)
    data = scaleout.dumps(request.to_dict(spider=spider))
    json.loads(data)  # plain JSON: nothing a reader of Redis could execute
    back = request_from_dict(scaleout.loads(data), spider=spider)
    assert (back.url, back.method, back.body, back.priority) == (request.url, "POST", b"\x00q", 3)
    assert back.headers.getlist("Accept") == [b"application/json"]
    assert back.cb_kwargs == {"entity": "Document"} and back.meta == request.meta
    assert back.callback == spider.parse_page and back.errback == spider.on_error
    with pytest.raises(TypeError):
        scaleout.dumps({"meta": {"when": datetime.now(UTC)}})


def test_cursors_merge_to_the_newest_value_per_key() -> None:
    base = {"Document": "2026-11-16T00:00:00Z", "Zaak": "2026-11-16T00:00:00Z"}
    merged = scaleout.merge_cursors(base, [
        {"Document": "2026-11-20T15:22:25.6762961Z", "Zaak": "2026-11-16T00:00:00Z"},
        # Compared as times, not as text ("...25Z" sorts after "...25.6...Z" as text).
        {"Document": "2026-11-20T15:22:25Z", "Zaak": "2026-11-18T09:00:00Z"},
        {"Besluit": "2026-11-19T10:00:00Z"},
    ])
    assert merged == {"Document": "2026-11-20T15:22:25.6762961Z", "Zaak": "2026-11-18T09:00:00Z",
                      "Besluit": "2026-11-19T10:00:00Z"}
    assert scaleout.merge_cursors({"modified": "2026-11-01"}, []) == {"modified": "2026-11-01"}


def _addon_settings(spider: type[Spider], **overrides: Any) -> Any:
    settings = project_settings(WATCH_REDIS_URL=REDIS_URL, WATCH_REDIS_PREFIX="p", **overrides)
    scaleout.ScaleOut(Crawler(spider, settings)).update_settings(settings)
    return settings


def test_the_addon_makes_live_crawls_of_shareable_sources_coordinate() -> None:
    from crawler.spiders.rechtspraak import RechtspraakSpider

    settings = _addon_settings(TweedekamerSpider)
    assert settings["SCHEDULER"] == "crawler.scaleout.SharedScheduler"
    assert settings["SCHEDULER_QUEUE_KEY"].startswith("p:tweedekamer:")
    assert settings.getdict("SHARED_CRAWL")["role"] == "coordinator"
    # One request at a time per member: the rest of the queue is for the other members.
    assert settings.getint("CONCURRENT_REQUESTS") == 1
    assert "crawler.scaleout.HelperStartMiddleware" in settings.getdict("SPIDER_MIDDLEWARES")
    # State spread over callbacks (rechtspraak counts outstanding requests): never shared.
    for unshared in (_addon_settings(RechtspraakSpider),
                     _addon_settings(TweedekamerSpider, WATCH_REPLAY_DIR="x"),
                     _addon_settings(TweedekamerSpider, WATCH_SCALEOUT_ROLE="off")):
        assert not unshared.getdict("SHARED_CRAWL")
        assert unshared["SCHEDULER"] == "scrapy.core.scheduler.Scheduler"
    plain = project_settings()
    scaleout.ScaleOut(Crawler(TweedekamerSpider, plain)).update_settings(plain)
    assert not plain.getdict("SHARED_CRAWL")


def test_scale_out_refuses_a_sqlite_archive(tmp_path: Path) -> None:
    with pytest.raises(scaleout.ScaleOutError, match="PostgreSQL"):
        scaleout.check_setup(REDIS_URL, str(tmp_path / "archive.db"))
    with pytest.raises(scaleout.ScaleOutError, match="WATCH_REDIS_URL"):
        scaleout.check_setup(None, "postgresql://x@127.0.0.1/test")


# --- two processes ---------------------------------------------------------------------------


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A fresh key prefix on the real Redis; every key under it is removed afterwards."""
    try:
        client = scaleout.redis_client(REDIS_URL)
        client.ping()
    except Exception as exc:  # noqa: BLE001 - any failure: Redis is not there, said below
        message = f"Redis at {REDIS_URL} unavailable: {exc}"
        if IN_CI:
            pytest.fail(message + " (CI=true: the scale-out test must run)", pytrace=False)
        pytest.skip(message)
    prefix = f"test-{uuid.uuid4().hex[:10]}"
    yield prefix
    keys = list(client.scan_iter(match=f"{prefix}:*"))
    if keys:
        client.delete(*keys)


def rows(entity: str) -> list[dict[str, Any]]:
    pages = json.loads((PAGES / f"{entity}.json").read_text(encoding="utf-8"))
    return [row for page in pages for row in page]


def write_recording(folder: Path) -> tuple[int, dict[str, str]]:
    """The fixture week's rows in pages of ROWS_PER_PAGE: (pages written, newest per entity)."""
    from scripts.build_demo_recording import write_visit

    spider = TweedekamerSpider.from_crawler(Crawler(TweedekamerSpider, project_settings(
        WATCH_TK_ODATA_URL=f"{ORIGIN}/OData/v4/2.0/")))
    spider.cursor = dict.fromkeys(spider.entities, CURSOR)
    pages = {e: [rows(e)[i:i + ROWS_PER_PAGE] for i in range(0, len(rows(e)), ROWS_PER_PAGE)]
             for e in spider.entities}
    write_visit(spider, folder, pages, datetime(2026, 11, 20, 17, tzinfo=UTC))
    newest = {e: max((r[CURSOR_FIELD] for r in rows(e)), key=parse_time) for e in spider.entities}
    return sum(len(p) for p in pages.values()), newest


def expected() -> tuple[set[str], int]:
    """Record keys the rows make, and how many items the spider yields for them."""
    keys, items = set(), 0
    for entity in ("Document", "Zaak", "Activiteit", "Toezegging"):
        for row in rows(entity):
            items += 1
            if not row["Verwijderd"]:
                keys.add(f"{entity}/{row['Id']}")
    for besluit in rows("Besluit"):
        if besluit["Verwijderd"]:
            continue
        live = [z for z in besluit["Zaak"] if not z["Verwijderd"]]
        items += len(live)
        keys |= {f"Zaak/{z['Id']}" for z in live}
    return keys, items


@pytest.mark.postgres
@pytest.mark.slow
def test_two_processes_share_one_crawl(tmp_path: Path, postgres_schema_url: str,
                                       redis_prefix: str) -> None:
    url = postgres_schema_url
    engine = make_engine(url)
    upgrade(engine)
    with session_factory(engine).begin() as session:
        source = ensure_source(session, "tweedekamer", kind="spider", title="Tweede Kamer")
        source.cursor = dict.fromkeys(("Document", "Zaak", "Activiteit", "Besluit", "Toezegging"),
                                      CURSOR)
    page_count, newest = write_recording(tmp_path / "rec")
    keys, item_count = expected()

    with serve_recording(tmp_path / "rec", ORIGIN) as base:
        env = {**os.environ, "BELEIDSRADAR_DATABASE_URL": url,
               "BELEIDSRADAR_TK_ODATA_URL": f"{base}/OData/v4/2.0/",
               "BELEIDSRADAR_REDIS_URL": REDIS_URL, "BELEIDSRADAR_REDIS_PREFIX": redis_prefix,
               "COLUMNS": "200"}
        worker = subprocess.Popen(
            [*CLI, "worker", "tweedekamer", "--once", "--wait", "120"], cwd=ROOT, env=env,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            assert worker.stdout is not None
            first = worker.stdout.readline()  # it waits for a crawl before the crawl starts
            assert "waiting for shared crawls of tweedekamer" in first, first
            crawl = subprocess.run([*CLI, "crawl", "tweedekamer"], cwd=ROOT, env=env,
                                   capture_output=True, text=True, timeout=300)
            worker_out = first + worker.communicate(timeout=120)[0]
        finally:
            if worker.poll() is None:
                worker.kill()
    assert crawl.returncode == 0, crawl.stdout + crawl.stderr
    assert worker.returncode == 0, worker_out
    helped = [line for line in worker_out.splitlines() if "items stored by this worker" in line]
    assert helped and int(helped[0].split(", ")[1].split()[0]) > 0, worker_out

    with session_factory(engine)() as session:
        stored = session.scalars(select(Record.key)).all()
        assert len(stored) == len(set(stored))  # exactly once
        assert set(stored) == keys  # nothing lost, nothing invented
        versions = Counter(session.scalars(select(Version.record_id)).all())
        assert set(versions.values()) == {1} and len(versions) == len(keys)
        creations = Counter(session.scalars(select(ChangeEvent.record_id).where(
            ChangeEvent.kind.in_(("new", "changed")))).all())
        assert set(creations.values()) == {1} and len(creations) == len(keys)
        # Votes that reached their motion through the other process still landed on it.
        for besluit in rows("Besluit"):
            for zaak in besluit["Zaak"]:
                record = session.scalars(select(Record).where(
                    Record.key == f"Zaak/{zaak['Id']}")).one()
                assert record.status["besluit"] == besluit["BesluitSoort"]
        runs = session.scalars(select(CrawlRun)).all()
        assert len(runs) == 1  # one crawl, one account
        run = runs[0]
        assert run.status == "ok" and run.failed == 0, run.errors
        assert run.items == item_count
        assert run.fetched == page_count
        # The cursor advanced exactly as one process would have advanced it.
        cursor = session.scalars(select(Source.cursor).where(Source.slug == "tweedekamer")).one()
        assert cursor == newest
        assert session.scalar(select(func.count(Source.id))) == 1
    engine.dispose()
    left = list(scaleout.redis_client(REDIS_URL).scan_iter(match=f"{redis_prefix}:*"))
    assert left == []


def test_a_helper_with_nothing_to_join_closes(redis_prefix: str) -> None:
    settings = project_settings(WATCH_REDIS_URL=REDIS_URL, WATCH_REDIS_PREFIX=redis_prefix,
                                WATCH_SCALEOUT_ROLE="helper")
    scaleout.ScaleOut(Crawler(TweedekamerSpider, settings)).update_settings(settings)
    assert settings.getdict("SHARED_CRAWL")["nothing"] is True


@pytest.mark.postgres
def test_a_worker_with_nothing_to_join_says_so(postgres_schema_url: str, redis_prefix: str) -> None:
    engine = make_engine(postgres_schema_url)
    upgrade(engine)
    engine.dispose()
    env = {**os.environ, "BELEIDSRADAR_DATABASE_URL": postgres_schema_url,
           "BELEIDSRADAR_REDIS_URL": REDIS_URL, "BELEIDSRADAR_REDIS_PREFIX": redis_prefix}
    done = subprocess.run([*CLI, "worker", "tweedekamer", "--once", "--wait", "1"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert "no shared crawl of tweedekamer was announced within 1 s" in done.stderr
    refused = subprocess.run([*CLI, "worker", "rechtspraak", "--once"],
                             cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2 and "cannot be shared" in refused.stderr
