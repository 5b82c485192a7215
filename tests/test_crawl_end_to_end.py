"""The real crawl, end to end: CLI → Scrapy engine → spider → pipelines → archive, on both databases.

Runs `beleidsradar crawl --replay` in a subprocess (the reactor cannot restart inside pytest) on
the bundled two-visit recording, and checks the archive against what the recorded pages say,
worked out here independently of the spider.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from crawler.spiders.tweedekamer import parse_time
from storage.db import make_engine, session_factory
from storage.models import ChangeEvent, CrawlRun, Document, Record, Source, Version
from tests.helpers import run_cli

ROOT = Path(__file__).resolve().parent.parent
PAGES = ROOT / "tests" / "fixtures" / "tweedekamer" / "pages"
DEMO = ROOT / "crawler" / "recordings" / "demo"
VISIT1, VISIT2 = DEMO / "1-week47", DEMO / "2-week48"

pytestmark = pytest.mark.slow


def cli(*args: str, database: str) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, env={"BELEIDSRADAR_DATABASE_URL": database})


def rows(visit: str, entity: str) -> list[dict[str, Any]]:
    pages = json.loads((PAGES / visit / f"{entity}.json").read_text(encoding="utf-8"))
    return [row for page in pages for row in page]


def expected_keys(visit: str) -> set[str]:
    """Record keys a visit's rows should produce: documents, cases (also via decisions),
    activities, commitments."""
    keys = {f"Document/{r['Id']}" for r in rows(visit, "Document") if not r["Verwijderd"]}
    keys |= {f"Zaak/{r['Id']}" for r in rows(visit, "Zaak") if not r["Verwijderd"]}
    keys |= {f"Activiteit/{r['Id']}" for r in rows(visit, "Activiteit") if not r["Verwijderd"]}
    keys |= {f"Toezegging/{r['Id']}" for r in rows(visit, "Toezegging") if not r["Verwijderd"]}
    for besluit in rows(visit, "Besluit"):
        if not besluit["Verwijderd"]:
            keys |= {f"Zaak/{z['Id']}" for z in besluit["Zaak"] if not z["Verwijderd"]}
    return keys


def newest(visit: str, entity: str) -> str:
    return max((r["ApiGewijzigdOp"] for r in rows(visit, entity)), key=parse_time)


@pytest.fixture
def archive(database_url: str) -> str:
    result = cli("init", database=database_url)
    assert result.returncode == 0, result.stderr
    return database_url


def snapshot(url: str) -> dict[str, Any]:
    engine = make_engine(url)
    with session_factory(engine)() as session:
        state = {
            "records": session.scalar(select(func.count(Record.id))),
            "documents": session.scalar(select(func.count(Document.id))),
            "versions": session.scalar(select(func.count(Version.id))),
            "events": Counter(session.scalars(select(ChangeEvent.kind)).all()),
            "keys": set(session.scalars(select(Record.key).join(Source).where(
                Source.slug == "tweedekamer")).all()),
            "all_keys": set(session.scalars(select(Record.key)).all()),
            "cursor": session.scalars(select(Source.cursor).where(
                Source.slug == "tweedekamer")).one(),
        }
    engine.dispose()
    return state


def test_two_weekly_visits_end_to_end(archive: str) -> None:
    # The Tweede Kamer end to end; week 48 adds officielebekendmakingen (the other sources of
    # the recording have their own replay tests).
    first = cli("crawl", "tweedekamer", "--replay", str(VISIT1), database=archive)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "tweedekamer" in first.stdout and "ok" in first.stdout
    after1 = snapshot(archive)
    keys1 = expected_keys("visit1")
    assert after1["keys"] == keys1
    assert after1["records"] == after1["versions"] == len(keys1)
    # A motion's zaak and its document are one work (identifier "zaakdocument"): one document,
    # two records, and the second record's arrival is a change of the document.
    motions = {z["Nummer"] for z in rows("visit1", "Zaak") if z["Soort"] in ("Motie", "Brief regering", "Amendement")}
    documents_of_motions = [d for d in rows("visit1", "Document") if any(
        z["Nummer"] in motions and z["Soort"] == d["Soort"].split(" (")[0]
        for z in d["Zaak"])]
    joins = len(documents_of_motions)
    assert joins > 0
    assert after1["documents"] == len(keys1) - joins
    assert after1["events"] == {"new": len(keys1) - joins, "changed": joins}
    # The cursor is the newest ApiGewijzigdOp actually received, per entity, as the API wrote it.
    assert after1["cursor"] == {e: newest("visit1", e)
                                for e in ("Document", "Zaak", "Activiteit", "Besluit",
                                          "Toezegging")}
    assert after1["cursor"]["Document"] == "2026-11-20T15:22:25.6762961Z"

    # The same week again: nothing new, nothing duplicated.
    again = cli("crawl", "tweedekamer", "--replay", str(VISIT1), database=archive)
    assert again.returncode == 0, again.stdout + again.stderr
    after_again = snapshot(archive)
    assert {k: after_again[k] for k in ("records", "versions", "events")} == {
        k: after1[k] for k in ("records", "versions", "events")}

    # The next week starts from the stored cursor: every URL it asks must be in the recording,
    # or the replay fails loudly and this exits non-zero.
    second = cli("crawl", "tweedekamer", "officielebekendmakingen", "--replay", str(VISIT2),
                 database=archive)
    assert second.returncode == 0, second.stdout + second.stderr
    after2 = snapshot(archive)
    assert after2["keys"] == keys1 | expected_keys("visit2")
    # Week 48 also replays officielebekendmakingen: the same Kamerstuk joins its TK document.
    assert after2["all_keys"] - after2["keys"] == {
        "kst-28638-271", "kst-36547-E", "ah-tk-20262027-412", "stcrt-2026-31234"}

    engine = make_engine(archive)
    Session = session_factory(engine)
    v1_docs = {r["Id"]: r for r in rows("visit1", "Document")}
    v2_docs = rows("visit2", "Document")
    changed = [r for r in v2_docs if r["Id"] in v1_docs and not r["Verwijderd"]
               and r != v1_docs[r["Id"]]]
    repeated = [r for r in v2_docs if r["Id"] in v1_docs and r == v1_docs[r["Id"]]]
    deleted = [r for r in v2_docs if r["Verwijderd"]]
    assert changed and repeated and deleted, "the recording must exercise all three cases"
    with Session() as session:
        def record(key: str) -> Record:
            return session.scalars(select(Record).where(Record.key == key)).one()

        def kinds(rec: Record) -> list[str]:
            return list(session.scalars(select(ChangeEvent.kind).where(
                ChangeEvent.record_id == rec.id).order_by(ChangeEvent.id)))

        for row in changed:
            rec = record(f"Document/{row['Id']}")
            assert [v.number for v in rec.versions] == [1, 2]
            assert kinds(rec) == ["new", "changed"]
        for row in repeated:
            rec = record(f"Document/{row['Id']}")
            assert len(rec.versions) == 1 and kinds(rec) == ["new"]
        for row in deleted:
            rec = record(f"Document/{row['Id']}")
            assert rec.removed_at is not None and kinds(rec)[-1] == "removed"
            assert session.get(Document, rec.document_id).removed_at is not None

        # Every decision of week 48 is a status event on its motion, with the vote tally.
        for besluit in rows("visit2", "Besluit"):
            for zaak in besluit["Zaak"]:
                rec = record(f"Zaak/{zaak['Id']}")
                assert rec.status["besluit"] == besluit["BesluitSoort"]
                voor = sum(s["FractieGrootte"] for s in besluit["Stemming"]
                           if s["Soort"] == "Voor" and not s["Verwijderd"])
                assert f"Voor {voor}" in rec.status["stemming"]
                if zaak["Id"] not in {r["Id"] for r in rows("visit1", "Zaak")}:
                    continue
                status_events = session.scalars(select(ChangeEvent).where(
                    ChangeEvent.record_id == rec.id, ChangeEvent.kind == "status")).all()
                assert any("besluit" in e.detail["changes"] for e in status_events)

        # Activities that moved (Gepland → Uitgevoerd) have a status event saying so.
        v1_acts = {r["Id"]: r for r in rows("visit1", "Activiteit")}
        for act in rows("visit2", "Activiteit"):
            before = v1_acts.get(act["Id"])
            if before and before["Status"] != act["Status"]:
                rec = record(f"Activiteit/{act['Id']}")
                changes = [e.detail["changes"] for e in session.scalars(select(ChangeEvent).where(
                    ChangeEvent.record_id == rec.id, ChangeEvent.kind == "status"))]
                assert {"activiteit_status": [before["Status"], act["Status"]]} in [
                    {k: v for k, v in c.items() if k == "activiteit_status"} for c in changes]

        # Every version was matched against the default topics as it was stored.
        from storage.models import Match, Topic

        def topics_of(rec: Record) -> set[str]:
            return set(session.scalars(
                select(Topic.slug).join(Match, Match.topic_id == Topic.id)
                .where(Match.document_id == rec.document_id)))

        for row in changed:
            rec = record(f"Document/{row['Id']}")
            assert "actieplan-mensenhandel" in topics_of(rec)
            assert session.scalar(select(func.count(Match.id)).join(
                Version, Match.version_id == Version.id).where(
                Version.record_id == rec.id,
                Match.topic_id == select(Topic.id).where(Topic.slug == "actieplan-mensenhandel")
                .scalar_subquery())) == 2  # once per version of this record
        off_topic = session.scalars(select(Record).where(Record.title.contains("tikstof"))).all()
        assert off_topic and all(topics_of(rec) == set() for rec in off_topic)

        # No duplicate versions or events anywhere, and every run is accounted for.
        assert session.scalar(select(func.count()).select_from(
            select(Version.record_id, Version.number).group_by(Version.record_id, Version.number)
            .having(func.count() > 1).subquery())) == 0
        runs = session.scalars(select(CrawlRun).join(Source).where(
            Source.slug == "tweedekamer").order_by(CrawlRun.id)).all()
        assert [r.status for r in runs] == ["ok", "ok", "ok"]
        sru_letter = record("kst-28638-271")
        assert sru_letter.joined_by["scheme"] == "kamerstuk"
        assert sru_letter.document_id == record(f"Document/{changed[0]['Id']}").document_id
        assert runs[0].new == len(keys1) and runs[1].new == 0
        assert runs[1].unchanged == runs[1].items
        # Changed: the letter's new version, and the commitment fulfilled by it (its text
        # gains the letter's number).
        toezeggingen_changed = [r for r in rows("visit2", "Toezegging")
                                if r.get("KamerbriefNakoming")]
        assert runs[2].removed == len(deleted)
        assert runs[2].changed == len(changed) + len(toezeggingen_changed) == 2
        assert runs[2].cursor_before == after1["cursor"]
    engine.dispose()

    sources = cli("sources", database=archive)
    assert sources.returncode == 0, sources.stderr
    assert "tweedekamer" in sources.stdout and "ok" in sources.stdout


def test_visit_two_on_an_empty_archive_misses_and_says_which_url(archive: str) -> None:
    # Without the stored cursor the spider asks for a different window, which was not recorded.
    result = cli("crawl", "--replay", str(VISIT2), database=archive)
    assert result.returncode == 1
    assert "no recorded response" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stderr.strip().splitlines() == [
        "beleidsradar: not every source finished cleanly: tweedekamer"]
    engine = make_engine(archive)
    with session_factory(engine)() as session:
        run = session.scalars(select(CrawlRun).join(Source).where(
            Source.slug == "tweedekamer")).one()
        assert run.status == "failed"
        assert all("gegevensmagazijn.tweedekamer.nl" in e["url"] for e in run.errors)
        # A failed run does not move the cursor.
        assert session.scalars(select(Source.cursor).where(
            Source.slug == "tweedekamer")).one() == {}
    engine.dispose()


def test_live_crawl_over_http_records_what_replay_then_reproduces(tmp_path: Path) -> None:
    """Live mode, unchanged, against a loopback server answering like the TK API (gzip and all):
    `crawl --record` writes a recording; `crawl --replay` of it gives the same archive."""
    from storage.archive import ensure_source
    from storage.db import upgrade
    from tests.loopback import serve_recording

    live_db, replay_db = str(tmp_path / "live.db"), str(tmp_path / "replay.db")
    start = json.loads((VISIT1 / "manifest.json").read_text())["sources"]["tweedekamer"]["cursor"]
    for url in (live_db, replay_db):
        engine = make_engine(url)
        upgrade(engine)
        with session_factory(engine).begin() as session:
            # An operator's archive that last synced up to the start of week 47.
            ensure_source(session, "tweedekamer", kind="spider", title="TK").cursor = start
        engine.dispose()

    recording = tmp_path / "recording"
    with serve_recording(VISIT1, "https://gegevensmagazijn.tweedekamer.nl") as base:
        env_base = {"BELEIDSRADAR_TK_ODATA_URL": f"{base}/OData/v4/2.0/"}
        live = subprocess.run(
            [sys.executable, "-c", "import cli; cli.main()", "crawl", "tweedekamer", "--record",
             str(recording)],
            capture_output=True, text=True, cwd=ROOT, timeout=300,
            env={**os.environ, "COLUMNS": "200", "BELEIDSRADAR_DATABASE_URL": live_db, **env_base},
        )
        assert live.returncode == 0, live.stdout + live.stderr
    manifest = json.loads((recording / "manifest.json").read_text())
    assert manifest["sources"]["tweedekamer"]["cursor"] == start
    metas = [json.loads(p.read_text()) for p in recording.glob("responses/127.0.0.1/*.json")]
    assert any(m["url"].endswith("/robots.txt") and m["status"] == 404 for m in metas)
    odata = [p.with_suffix(".body") for p, m in zip(
        sorted(recording.glob("responses/127.0.0.1/*.json")),
        [json.loads(p.read_text()) for p in sorted(recording.glob("responses/127.0.0.1/*.json"))],
        strict=True) if "/OData/" in m["url"]]
    assert len(odata) == len(list(
        (VISIT1 / "responses" / "gegevensmagazijn.tweedekamer.nl").rglob("*.body")))
    assert all(b.read_bytes().startswith(b"{") for b in odata)  # sent gzipped, stored plain

    replay = subprocess.run(
        [sys.executable, "-c", "import cli; cli.main()", "crawl", "--replay", str(recording)],
        capture_output=True, text=True, cwd=ROOT, timeout=300,
        env={**os.environ, "COLUMNS": "200", "BELEIDSRADAR_DATABASE_URL": replay_db, **env_base},
    )
    assert replay.returncode == 0, replay.stdout + replay.stderr

    def content(url: str) -> set[tuple[str, str]]:
        engine = make_engine(url)
        with session_factory(engine)() as session:
            result = set(session.execute(
                select(Record.key, Version.content_hash).join(Version, Version.record_id == Record.id)
            ).all())
        engine.dispose()
        return {(key, digest) for key, digest in result}

    live_content = content(live_db)
    assert {key for key, _ in live_content} == expected_keys("visit1")
    assert content(replay_db) == live_content
