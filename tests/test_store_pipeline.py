"""StorePipeline's batches: items that arrive together share a transaction, and one item the
database refuses costs only that item.

A real replay crawl (CLI subprocess) of the fixture week's Tweede Kamer rows in which one
document carries an identifier PostgreSQL refuses (longer than the column): the batch it is in
fails, is stored again item by item, and the account names the one item that was lost. And a
batch that meets a key twice (its records are read by key once per batch) stores it as one
record with two versions, without falling back to item by item.
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


def record_document_page(folder: Path, documents: list[dict[str, Any]]) -> None:
    """A replay recording of the fixture week with ``documents`` as one page of Document
    rows (one page: its rows arrive together, one batch)."""
    from scripts.build_demo_recording import write_visit

    spider = TweedekamerSpider.from_crawler(Crawler(TweedekamerSpider, project_settings()))
    spider.cursor = dict.fromkeys(spider.entities, CURSOR)
    pages = {e: [rows(e)] for e in spider.entities}
    pages["Document"] = [documents]
    recorded_at = datetime(2026, 11, 20, 17, tzinfo=UTC)
    write_visit(spider, folder, pages, recorded_at)
    update_manifest(folder, "tweedekamer", cursor=spider.cursor)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["recorded_at"] = recorded_at.isoformat()
    (folder / "manifest.json").write_text(json.dumps(manifest))


@pytest.mark.postgres
def test_one_refused_item_costs_only_itself(tmp_path: Path, postgres_schema_url: str) -> None:
    documents = rows("Document")
    bad = documents[3]
    bad["DocumentNummer"] = "2026D" + "9" * 400  # identifier tk-document: over 300 characters
    folder = tmp_path / "rec"
    record_document_page(folder, documents)  # the bad row shares its batch with the others

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


def test_a_batch_that_meets_a_key_twice_keeps_both_versions(tmp_path: Path) -> None:
    """A batch reads its records by key at once; a key that comes back later in the same
    batch (here: a row, then its corrected self on the same page) is not in that read, as the
    batch created it: it must become the record's second version, not a second record."""
    documents = rows("Document")
    again = json.loads(json.dumps(documents[0]))
    again["Onderwerp"] = documents[0]["Onderwerp"] + " (gecorrigeerd)"
    folder = tmp_path / "rec"
    record_document_page(folder, documents + [again])

    url = f"sqlite:///{tmp_path / 'a.db'}"
    env = {"BELEIDSRADAR_DATABASE_URL": url}
    assert run_cli("init", env=env).returncode == 0
    log = tmp_path / "crawl.log"
    crawl = run_cli("crawl", "tweedekamer", "--replay", str(folder), "--log-file", str(log),
                    env=env)
    assert crawl.returncode == 0, crawl.stdout + crawl.stderr
    # Stored as one batch, not item by item after the batch failed.
    assert "store.batch_retried" not in log.read_text(encoding="utf-8")
    assert "watch/store/new" in log.read_text(encoding="utf-8")  # (the log is there)

    engine = make_engine(url)
    with session_factory(engine)() as session:
        records = session.scalars(
            select(Record).where(Record.key == f"Document/{documents[0]['Id']}")).all()
        assert len(records) == 1
        versions = sorted(records[0].versions, key=lambda v: v.number)
        assert [v.number for v in versions] == [1, 2]
        assert versions[1].title.endswith("(gecorrigeerd)") or \
            "(gecorrigeerd)" in (versions[1].text or "")
        # Every other row of the page is one record with one version.
        others = session.scalars(select(Record).where(Record.key.in_(
            [f"Document/{row['Id']}" for row in documents[1:]]))).all()
        assert len(others) == len(documents) - 1
        assert all(len(r.versions) == 1 for r in others)
    engine.dispose()
