"""Identity: records join the document they share a strong identifier with; merges; splits."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, func, select

from reports.history import diff_text, word_diff
from storage.archive import Observation, Outcome, ensure_source, record_observation
from storage.db import session_factory
from storage.identity import find_by_identifier, resolve, split_record
from storage.models import ChangeEvent, Document, Identifier, Record, Version
from tests.helpers import run_cli

ROOT = Path(__file__).resolve().parent.parent
T0 = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)


def store(engine: Engine, source: str, key: str, ids: tuple[tuple[str, str], ...],
          title: str = "Voortgang Actieplan Samen tegen Mensenhandel", now: datetime = T0):
    with session_factory(engine).begin() as session:
        src = ensure_source(session, source, kind="spider", title=source)
        return record_observation(session, src, Observation(
            source=source, key=key, url=f"https://example.test/{source}/{key}", fetched_at=now,
            title=title, identifiers=ids), now=now)


def test_a_shared_strong_identifier_joins_the_document(engine: Engine) -> None:
    first = store(engine, "tweedekamer", "Document/1",
                  (("kamerstuk", "kst-28638-271"), ("dossier", "28638")))
    second = store(engine, "officielebekendmakingen", "kst-28638-271",
                   (("kamerstuk", "kst-28638-271"),), title="Kamerstuk 28638, nr. 271")
    assert second.outcome == Outcome.NEW and second.document_id == first.document_id
    # Sharing only a weak identifier (a dossier) joins nothing.
    third = store(engine, "tweedekamer", "Document/2", (("dossier", "28638"),))
    assert third.document_id != first.document_id
    with session_factory(engine)() as session:
        record = session.get(Record, second.record_id)
        assert record.joined_by["scheme"] == "kamerstuk"
        assert record.joined_by["value"] == "kst-28638-271"
        [event] = session.scalars(select(ChangeEvent).where(
            ChangeEvent.record_id == second.record_id)).all()
        assert event.kind == "changed"
        assert event.detail["joined"]["source"] == "officielebekendmakingen"


def test_an_identifier_stated_later_merges_two_documents(engine: Engine) -> None:
    tk = store(engine, "tweedekamer", "Document/1", (("tk-document", "2026D47830"),))
    obl = store(engine, "officielebekendmakingen", "kst-28638-271",
                (("kamerstuk", "kst-28638-271"),))
    assert tk.document_id != obl.document_id
    later = T0 + timedelta(days=7)
    merged = store(engine, "tweedekamer", "Document/1",
                   (("tk-document", "2026D47830"), ("kamerstuk", "kst-28638-271")), now=later)
    assert merged.outcome == Outcome.CHANGED
    with session_factory(engine)() as session:
        keep = min(tk.document_id, obl.document_id)
        gone = max(tk.document_id, obl.document_id)
        assert session.get(Document, gone).merged_into == keep
        assert resolve(session, gone) == keep
        assert set(session.scalars(select(Record.document_id))) == {keep}
        assert set(session.scalars(select(Version.document_id))) == {keep}
        assert set(session.scalars(select(Identifier.document_id))) == {keep}
        assert find_by_identifier(session, "kst-28638-271") == [keep]
        assert find_by_identifier(session, "28638-271") == [keep]


def test_split_undoes_a_wrong_join(engine: Engine) -> None:
    first = store(engine, "tweedekamer", "Document/1", (("kamerstuk", "kst-28638-271"),))
    wrong = store(engine, "elders", "x", (("kamerstuk", "kst-28638-271"),), title="Iets anders")
    Session = session_factory(engine)
    with Session.begin() as session:
        document = split_record(session, session.get(Record, wrong.record_id), now=T0)
        new_id = document.id
    with Session() as session:
        record = session.get(Record, wrong.record_id)
        assert record.document_id == new_id != first.document_id
        assert record.joined_by["split"]["from_document"] == first.document_id
        assert session.scalar(select(func.count(Version.id)).where(
            Version.document_id == new_id)) == 1
        assert session.get(Document, new_id).title == "Iets anders"


def test_word_diff() -> None:
    runs = word_diff("Motie over opvang van slachtoffers", "Gewijzigde motie over opvang van "
                     "minderjarige slachtoffers")
    assert diff_text(runs) == ("[-Motie-] {+Gewijzigde motie+} over opvang van "
                               "{+minderjarige+} slachtoffers")


def test_history_and_split_from_the_command_line(tmp_path: Path) -> None:
    demo = tmp_path / "demo"

    cli = run_cli
    assert cli("demo", "--dir", str(demo)).returncode == 0
    db = str(demo / "beleidsradar.db")
    shown = cli("history", "kst-28638-271", "-d", db)
    assert shown.returncode == 0, shown.stderr
    assert "verschil versie 1 → 2:" in shown.stdout and "{+2 2026-11-23+}" in shown.stdout
    assert "hoort bij dit document door: gedeeld kenmerk zaakdocument:2026Z21198" in shown.stdout
    missing = cli("history", "kst-1-1", "-d", db)
    assert missing.returncode == 1 and "no document 'kst-1-1'" in missing.stderr
    record_id = next(line.split()[1] for line in shown.stdout.splitlines()
                     if line.startswith("record ") and "Zaak/" in line)
    split = cli("documents", "split", record_id, "-d", db)
    assert split.returncode == 0 and f"Record {record_id} staat nu in document" in split.stdout
    again = cli("documents", "split", record_id, "-d", db)
    assert again.returncode == 1 and "only record" in again.stderr
    shutil.rmtree(demo)
