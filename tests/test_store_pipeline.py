"""StorePipeline's batches: items that arrive together share a transaction, and one item the
database refuses costs only that item.

A real replay crawl (CLI subprocess) of the fixture week's Tweede Kamer rows in which one
document carries an identifier PostgreSQL refuses (longer than the column): the batch it is in
fails, is stored again item by item, and the account names the one item that was lost.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from scrapy.crawler import Crawler
from sqlalchemy import select

from crawler.replay import update_manifest
from crawler.runner import project_settings
from crawler.spiders.tweedekamer import TweedekamerSpider
from storage.db import make_engine, session_factory
from storage.models import CrawlRun, Record, Source
from tests.helpers import run_cli

ROOT = Path(__file__).resolve().parent.parent
PAGES = ROOT / "tests" / "fixtures" / "tweedekamer" / "pages" / "visit1"
CURSOR = "2026-11-17T00:00:00Z"

pytestmark = pytest.mark.slow


def rows(entity: str) -> list[dict[str, Any]]:
    pages = json.loads((PAGES / f"{entity}.json").read_text(encoding="utf-8"))
    return [row for page in pages for row in page]


@pytest.mark.postgres
def test_one_refused_item_costs_only_itself(tmp_path: Path, postgres_schema_url: str) -> None:
    from scripts.build_demo_recording import write_visit

    spider = TweedekamerSpider.from_crawler(Crawler(TweedekamerSpider, project_settings()))
    spider.cursor = dict.fromkeys(spider.entities, CURSOR)
    documents = rows("Document")
    bad = documents[3]
    bad["DocumentNummer"] = "2026D" + "9" * 400  # identifier tk-document: over 300 characters
    pages = {e: [rows(e)] for e in spider.entities}
    pages["Document"] = [documents]  # one page: the bad row shares its batch with the others
    folder = tmp_path / "rec"
    recorded_at = datetime(2026, 11, 20, 17, tzinfo=UTC)
    write_visit(spider, folder, pages, recorded_at)
    update_manifest(folder, "tweedekamer", cursor=spider.cursor)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["recorded_at"] = recorded_at.isoformat()
    (folder / "manifest.json").write_text(json.dumps(manifest))

    env = {"BELEIDSRADAR_DATABASE_URL": postgres_schema_url}
    assert run_cli("init", env=env).returncode == 0
    crawl = run_cli("crawl", "tweedekamer", "--replay", str(folder), env=env)
    assert crawl.returncode == 1, crawl.stdout + crawl.stderr  # partial: one item lost

    engine = make_engine(postgres_schema_url)
    with session_factory(engine)() as session:
        keys = set(session.scalars(select(Record.key)))
        assert f"Document/{bad['Id']}" not in keys
        assert {f"Document/{row['Id']}" for row in documents if row is not bad} <= keys
        run = session.scalars(select(CrawlRun)).one()
        assert run.status == "partial" and run.failed == 1
        assert run.errors[0]["reason"].startswith(f"could not store Document/{bad['Id']}")
        # A lost item keeps the cursor where it was (none yet): the next run reads it again.
        assert session.scalars(select(Source.cursor)).one() == {}
    engine.dispose()
