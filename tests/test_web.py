"""The web app factory: refuses an archive without schema, serves source health as JSON."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from storage.archive import ensure_source
from storage.db import make_engine, session_factory, upgrade
from storage.errors import SchemaOutOfDate
from storage.runs import add_error, finish_run, start_run
from web import create_app


def test_create_app_needs_a_migrated_archive(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        create_app({})
    with pytest.raises(SchemaOutOfDate):
        create_app({"DATABASE_URL": str(tmp_path / "empty.db")})


def test_source_health_json(tmp_path: Path) -> None:
    url = str(tmp_path / "a.db")
    engine = make_engine(url)
    upgrade(engine)
    now = datetime(2026, 11, 27, 17, 0, tzinfo=UTC)
    with session_factory(engine).begin() as session:
        source = ensure_source(session, "tweedekamer", kind="spider", title="Tweede Kamer")
        run = start_run(session, source, mode="live", now=now)
        add_error(run, "https://example.test/x", "HttpError: 503 <script>")
        finish_run(session, run, now=now, finish_reason="finished", cursor=None)
    client = create_app({"DATABASE_URL": url}).test_client()
    response = client.get("/api/bronnen")
    assert response.status_code == 200
    assert response.json == [{
        "bron": "tweedekamer", "titel": "Tweede Kamer", "records": 0, "status": "failed",
        "laatste_run": "2026-11-27T17:00:00+00:00", "laatst_gelukt": None,
        "fouten": [{"url": "https://example.test/x", "reason": "HttpError: 503 <script>"}],
    }]
