"""Dossiers and procedures: stages from documents and status events, EU ↔ Dutch links, status
events as first-class changes, and the demo recording's cross-source cases."""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from reports.labels import describe_event
from storage.archive import Observation, ensure_source, record_observation
from storage.db import make_engine, session_factory
from storage.models import ChangeEvent, Record, Version
from storage.runs import start_run
from storage.timeline import timeline
from tests.helpers import run_cli

T0 = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def day(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def put(engine: Engine, source: str, key: str, *, title: str, text: str = "",
        doc_type: str | None = None, ids: tuple[tuple[str, str], ...] = (),
        published: datetime | None = None, status: dict[str, str] | None = None,
        meta: dict | None = None, now: datetime = T0, run: bool = False):
    """Store one observation (in a crawl run of its own when ``run``); the result."""
    with session_factory(engine).begin() as session:
        src = ensure_source(session, source, kind="spider", title=source)
        crawl = start_run(session, src, mode="live", now=now).id if run else None
        return record_observation(session, src, Observation(
            source=source, key=key, url=f"https://example.test/{source}/{key}", fetched_at=now,
            title=title, text=text, doc_type=doc_type, published_at=published, identifiers=ids,
            status=status or {}, meta=meta or {}), now=now, crawl_run_id=crawl)


def status_events(engine: Engine, record_id: int) -> list[dict]:
    with session_factory(engine)() as session:
        return [e.detail for e in session.scalars(
            select(ChangeEvent).where(ChangeEvent.record_id == record_id,
                                      ChangeEvent.kind == "status").order_by(ChangeEvent.id))]


# --- status events (item 4) ------------------------------------------------------------------


def test_a_vote_a_stage_change_and_a_withdrawal_are_each_one_status_event(engine: Engine) -> None:
    """Before/after pairs as the sources state them: a TK motion voted on (its Zaak row and the
    Besluit come in one run), the Eerste Kamer's stage of a bill, OEIL's stage of an EU
    procedure, and a motion withdrawn. Each is one `status` event with before and after."""
    motion = dict(title="Motie van het lid Koster c.s. over opvang", doc_type="Motie",
                  ids=(("zaak", "2026Z21495"), ("zaakdocument", "2026Z21495")))
    first = put(engine, "tweedekamer", "Zaak/1", **motion,
                status={"zaak_status": "Vrijgegeven", "afgedaan": "nee"})
    week = T0 + 7 * DAY
    with session_factory(engine).begin() as session:
        src = ensure_source(session, "tweedekamer", kind="spider", title="TK")
        crawl = start_run(session, src, mode="live", now=week).id
        for status in ({"zaak_status": "Vrijgegeven", "afgedaan": "ja"},
                       {"besluit": "Stemmen - aangenomen", "besluit_tekst": "Aangenomen.",
                        "stemming": "Voor 143, Tegen 7", "besluit_datum": "2026-11-24"}):
            record_observation(session, src, Observation(
                source="tweedekamer", key="Zaak/1", url="u", fetched_at=week,
                title=motion["title"], doc_type="Motie", identifiers=motion["ids"],
                status=status), now=week, crawl_run_id=crawl)
    [vote] = status_events(engine, first.record_id)
    assert vote == {"changes": {"afgedaan": ["nee", "ja"],
                                "besluit": [None, "Stemmen - aangenomen"],
                                "besluit_tekst": [None, "Aangenomen."],
                                "stemming": [None, "Voor 143, Tegen 7"],
                                "besluit_datum": [None, "2026-11-24"]}}
    assert "Stemmen - aangenomen" in describe_event("status", vote, "nl")

    bill = dict(title="Wet modernisering strafbaarstelling mensenhandel (36.547)",
                doc_type="Wetsvoorstel", ids=(("dossier", "36547"),))
    page = put(engine, "eerstekamer", "wetsvoorstel-36547", **bill,
               status={"stadium": "Voorbereidend onderzoek", "activiteit": "", "datum": ""})
    put(engine, "eerstekamer", "wetsvoorstel-36547", **bill, now=week, run=True,
        status={"stadium": "Plenaire behandeling gepland", "activiteit": "Plenaire behandeling",
                "datum": "2026-12-08 13:30"})
    [stage] = status_events(engine, page.record_id)
    assert stage["changes"]["stadium"] == ["Voorbereidend onderzoek",
                                           "Plenaire behandeling gepland"]

    oeil = dict(title="Bestrijding van seksueel misbruik van kinderen (herschikking)",
                doc_type="EU-procedure", ids=(("procedure", "2024/0035(COD)"),))
    procedure = put(engine, "europarl", "2024/0035(COD)", **oeil,
                    status={"stadium": "Awaiting Parliament's position in 1st reading"})
    put(engine, "europarl", "2024/0035(COD)", **oeil, now=week, run=True,
        status={"stadium": "Awaiting plenary debate/vote"})
    assert status_events(engine, procedure.record_id) == [{"changes": {"stadium": [
        "Awaiting Parliament's position in 1st reading", "Awaiting plenary debate/vote"]}}]

    other = put(engine, "tweedekamer", "Zaak/2", title="Motie van het lid Smit over meldplicht",
                doc_type="Motie", status={"zaak_status": "Vrijgegeven"})
    put(engine, "tweedekamer", "Zaak/2", title="Motie van het lid Smit over meldplicht",
        doc_type="Motie", status={"zaak_status": "Vrijgegeven", "besluit": "Ingetrokken"},
        now=week, run=True)
    assert status_events(engine, other.record_id) == [
        {"changes": {"besluit": [None, "Ingetrokken"]}}]
    with session_factory(engine)() as session:
        # Status moves a document without a new version.
        assert len(session.scalars(select(Version).where(
            Version.record_id == other.record_id)).all()) == 1


# --- a Dutch bill's stages -------------------------------------------------------------------

BILL = ("Wijziging van het Wetboek van Strafrecht en het Wetboek van Strafvordering ter "
        "implementatie van Richtlijn (EU) 2026/555 van het Europees Parlement en de Raad van 3 "
        "maart 2026 inzake de bestrijding van onlinemisbruik van kinderen")


def bill_archive(engine: Engine) -> dict[str, int]:
    """A bill's life across six sources, as the sources state it (no document of the later
    stages yet: those come in the test)."""
    ids = {}
    ids["consultatie"] = put(
        engine, "internetconsultatie", "onlinemisbruik_kinderen", doc_type="Internetconsultatie",
        title="Wijziging van het Wetboek van Strafrecht en het Wetboek van Strafvordering ter "
              "implementatie van Richtlijn (EU) 2026/555 (onlinemisbruik van kinderen)",
        published=day("2026-04-01"), status={"stadium": "gesloten", "datum": "2026-05-01 23:59"},
        ids=(("internetconsultatie", "onlinemisbruik_kinderen"),)).document_id
    ids["advies"] = put(
        engine, "raadvanstate", "W16.26.00400/II", doc_type="Advies Afdeling advisering Raad van "
        "State", title=BILL, published=day("2026-09-01"), status={"dictum": "opmerkingen"},
        ids=(("rvs_kenmerk", "W16.26.00400/II"),)).document_id
    ids["voorstel"] = put(
        engine, "tweedekamer", "Document/vvw", doc_type="Voorstel van wet",
        title=f"Voorstel van wet — {BILL}", published=day("2026-10-01"),
        ids=(("kamerstuk", "kst-37200-2"), ("dossier", "37200"))).document_id
    ids["zaak"] = put(
        engine, "tweedekamer", "Zaak/wet", doc_type="Wetgeving", title=BILL,
        published=day("2026-10-01"), status={"zaak_status": "Vrijgegeven"},
        ids=(("zaak", "2026Z30000"), ("dossier", "37200"))).record_id
    ids["verslag"] = put(
        engine, "tweedekamer", "Document/verslag", doc_type="Verslag", title="Verslag",
        published=day("2026-10-20"), ids=(("kamerstuk", "kst-37200-5"),
                                          ("dossier", "37200"))).document_id
    # Another bill with nearly the same title, which states its own dossier.
    ids["ander"] = put(
        engine, "raadvanstate", "W16.26.00401/II", doc_type="Advies Afdeling advisering Raad van "
        "State", title=BILL.replace("onlinemisbruik", "offlinemisbruik"),
        published=day("2026-09-02"), ids=(("rvs_kenmerk", "W16.26.00401/II"),
                                          ("dossier", "37201"))).document_id
    return ids


def states(found) -> dict[str, tuple[str, str, str]]:
    return {s.key: (s.state, s.when.date().isoformat() if s.when else "", s.detail)
            for s in found.stages}


def test_a_bills_stages_from_its_documents_and_status_events(engine: Engine) -> None:
    ids = bill_archive(engine)
    with session_factory(engine)() as session:
        before = timeline(session, "37200")
    got = states(before)
    assert got["consultatie"][:2] == ("done", "2026-04-01")
    assert got["consultatie"][2] == "gesloten (2026-05-01)"
    assert got["advies_rvs"] == ("done", "2026-09-01", "W16.26.00400/II · dictum: opmerkingen")
    assert got["ingediend"] == ("done", "2026-10-01", "Voorstel van wet")
    assert got["behandeling_tk"][:2] == ("current", "2026-10-20")
    assert [got[k][0] for k in ("stemming_tk", "behandeling_ek", "stemming_ek", "staatsblad",
                                "inwerkingtreding")] == ["unknown"] * 5
    # Consultation and advice do not state the dossier: linked by title, not counted in it;
    # the other bill's advice states its own dossier and stays out.
    assert before.documents == 3
    assert {(d.kind, d.document_id) for d in before.linked} == {
        ("consultatie", ids["consultatie"]), ("advies RvS", ids["advies"])}
    assert all(d.why.startswith("titel lijkt op het wetsvoorstel (score") for d in before.linked)

    # The TK votes, the Eerste Kamer takes it up and passes it, the Staatsblad publishes it.
    later = T0 + 30 * DAY
    put(engine, "tweedekamer", "Zaak/wet", doc_type="Wetgeving", title=BILL, now=later, run=True,
        published=day("2026-10-01"), ids=(("zaak", "2026Z30000"), ("dossier", "37200")),
        status={"zaak_status": "Vrijgegeven", "besluit": "Stemmen - aangenomen",
                "besluit_tekst": "Aangenomen.", "stemming": "Voor 120, Tegen 30",
                "besluit_datum": "2026-12-15"})
    page = dict(doc_type="Wetsvoorstel", title="Implementatiewet onlinemisbruik (37.200)",
                ids=(("dossier", "37200"),))
    put(engine, "eerstekamer", "wetsvoorstel-37200", **page, published=day("2026-12-16"),
        now=later, status={"stadium": "Voorbereidend onderzoek", "activiteit": "Stemming",
                           "datum": "2027-02-02"})
    put(engine, "eerstekamer", "kst-37200-A", doc_type="Gewijzigd voorstel van wet",
        title="Gewijzigd voorstel van wet — Implementatiewet onlinemisbruik",
        published=day("2026-12-16"), now=later, ids=(("kamerstuk", "kst-37200-A"),
                                                     ("dossier", "37200")))
    with session_factory(engine)() as session:
        during = states(timeline(session, "37200"))
    assert during["behandeling_tk"][0] == "done"
    assert during["stemming_tk"] == ("done", "2026-12-15", "aangenomen (Voor 120, Tegen 30)")
    assert during["behandeling_ek"][0] == "current" and "gepland: Stemming 2027-02-02" in \
        during["behandeling_ek"][2]
    assert during["stemming_ek"] == ("planned", "2027-02-02", "Stemming 2027-02-02")
    # The gewijzigd voorstel (EK, A) is the bill text changed: one document with the voorstel.
    with session_factory(engine)() as session:
        record = session.scalars(select(Record).where(Record.key == "kst-37200-A")).one()
        assert record.document_id == ids["voorstel"]

    voted = later + 60 * DAY
    put(engine, "eerstekamer", "wetsvoorstel-37200", **page, published=day("2026-12-16"),
        now=voted, run=True, status={
            "stadium": "Aangenomen; in werking getreden op 1 juli 2027", "activiteit": "",
            "datum": ""})
    put(engine, "officielebekendmakingen", "stb-2027-45", doc_type="Staatsblad",
        title="Wet van 10 februari 2027 tot implementatie van Richtlijn (EU) 2026/555",
        published=day("2027-02-20"), now=voted,
        ids=(("officielebekendmakingen", "stb-2027-45"), ("dossier", "37200")))
    with session_factory(engine)() as session:
        after = timeline(session, "37200")
    got = states(after)
    assert got["behandeling_ek"][0] == "done"
    assert got["stemming_ek"] == ("done", voted.date().isoformat(),
                                  "Aangenomen; in werking getreden op 1 juli 2027")
    assert got["staatsblad"] == ("done", "2027-02-20", "stb-2027-45")
    assert got["inwerkingtreding"][:2] == ("done", "2027-07-01")
    assert after.current == "Aangenomen; in werking getreden op 1 juli 2027"
    # The timeline holds the status events that moved it.
    assert [e.kind for e in after.entries].count("status") == 2


def test_a_subject_dossier_has_no_bill_stages(engine: Engine) -> None:
    put(engine, "tweedekamer", "Document/1", doc_type="Brief regering",
        title="Voortgang Actieplan Samen tegen Mensenhandel", published=day("2026-11-16"),
        ids=(("kamerstuk", "kst-28638-271"), ("dossier", "28638")))
    with session_factory(engine)() as session:
        found = timeline(session, "28638")
    assert found.documents == 1 and found.stages == [] and found.linked == []


# --- an EU procedure and the Dutch documents about it ------------------------------------------

PROCEDURE = "2026/0101(COD)"
KEY_EVENTS = [
    {"date": "2026-02-01", "event": "Legislative proposal published"},
    {"date": "2026-02-20", "event": "Committee referral announced in Parliament, 1st reading"},
    {"date": "2026-05-12", "event": "Vote in committee, 1st reading"},
    {"date": "2026-05-15", "event": "Committee report tabled for plenary, 1st reading"},
    {"date": "2026-05-20", "event": "Committee decision to enter into interinstitutional "
                                    "negotiations confirmed by plenary (Rule 72)"},
]


def procedure_archive(engine: Engine) -> dict[str, int]:
    ids = {}
    ids["proposal"] = put(
        engine, "eurlex", "52026PC0040", doc_type="proposal", published=day("2026-02-01"),
        title="Voorstel voor een RICHTLIJN ter bestrijding van onlinemisbruik van kinderen",
        ids=(("celex", "52026PC0040"), ("procedure", PROCEDURE))).document_id
    ids["procedure"] = put(
        engine, "europarl", PROCEDURE, doc_type="EU-procedure", published=day("2026-02-01"),
        title="Bestrijding van onlinemisbruik van kinderen", ids=(("procedure", PROCEDURE),),
        status={"stadium": "Awaiting Parliament's position in 1st reading"},
        meta={"key_events": KEY_EVENTS, "instrument": "Directive",
              "proposals": [{"com": "COM(2026)0040", "celex": "52026PC0040"}]}).record_id
    ids["fiche"] = put(
        engine, "tweedekamer", "Document/fiche", doc_type="Brief regering",
        published=day("2026-03-10"), title="Fiche: Richtlijn bestrijding onlinemisbruik",
        text="BNC-fiche over het voorstel COM(2026) 40 van de Commissie.",
        ids=(("kamerstuk", "kst-22112-4400"), ("dossier", "22112"))).document_id
    ids["jbz"] = put(
        engine, "tweedekamer", "Document/jbz", doc_type="Brief regering",
        published=day("2026-06-01"), title="Geannoteerde agenda van de JBZ-Raad van 12 juni 2026",
        text=f"De Raad bespreekt de richtlijn onlinemisbruik ({PROCEDURE}).",
        ids=(("kamerstuk", "kst-32317-990"), ("dossier", "32317"))).document_id
    ids["unrelated"] = put(
        engine, "tweedekamer", "Document/other", doc_type="Brief regering",
        published=day("2026-06-01"), title="Voortgang aanpak stikstof",
        text="Over 2026/0102(COD) en COM(2026) 41.", ids=(("dossier", "35334"),)).document_id
    return ids


def test_an_eu_procedures_stages_and_its_dutch_documents(engine: Engine) -> None:
    ids = procedure_archive(engine)
    with session_factory(engine)() as session:
        before = timeline(session, PROCEDURE)
    got = states(before)
    assert got["voorstel"] == ("done", "2026-02-01", "COM(2026) 40 (52026PC0040)")
    assert got["ep_commissie"] == ("done", "2026-05-15",
                                   "Committee report tabled for plenary, 1st reading")
    # OEIL waits for Parliament while the trilogues run.
    assert got["onderhandelingen"][0] == "current" and "OEIL: Awaiting Parliament's" in \
        got["onderhandelingen"][2]
    assert [got[k][0] for k in ("ep_plenair", "raad", "vastgesteld", "publicatieblad",
                                "omzetting")] == ["unknown"] * 5
    assert before.current == "Awaiting Parliament's position in 1st reading"
    linked = {d.document_id: (d.kind, d.why) for d in before.linked}
    assert linked == {ids["fiche"]: ("BNC-fiche", "noemt COM(2026) 40"),
                      ids["jbz"]: ("JBZ-Raad", f"noemt {PROCEDURE}")}

    # Adopted and published; the Netherlands starts transposing it. Each crawl states OEIL's
    # newest key event as a status facet: the text (and so the stored meta) stays the same.
    done = T0 + 200 * DAY
    for n, (stadium, newest) in enumerate([
            ("Awaiting Council's 1st reading position",
             "2026-09-15: Decision by Parliament, 1st reading"),
            ("Awaiting signature of act",
             "2026-10-01: Act adopted by Council after Parliament's 1st reading"),
            ("Procedure completed", "2026-10-20: Final act published in Official Journal")]):
        put(engine, "europarl", PROCEDURE, doc_type="EU-procedure", published=day("2026-02-01"),
            title="Bestrijding van onlinemisbruik van kinderen", ids=(("procedure", PROCEDURE),),
            now=done + n * DAY, run=True,
            status={"stadium": stadium, "laatste_gebeurtenis": newest, "besluit": "aangenomen",
                    "stemming": "Voor 500, Tegen 50, Onthouding 10",
                    "besluit_datum": "2026-09-15"})
    put(engine, "eurlex", "32026L0555", doc_type="act", published=day("2026-10-10"), now=done,
        title="Richtlijn (EU) 2026/555 ter bestrijding van onlinemisbruik van kinderen",
        ids=(("celex", "32026L0555"), ("procedure", PROCEDURE)))
    bill = put(engine, "tweedekamer", "Document/vvw", doc_type="Voorstel van wet", now=done,
               published=day("2027-01-10"), title=f"Voorstel van wet — {BILL}",
               ids=(("kamerstuk", "kst-37200-2"), ("dossier", "37200")))
    with session_factory(engine)() as session:
        after = timeline(session, PROCEDURE)
        dossier = timeline(session, "37200")
    got = states(after)
    assert got["ep_plenair"] == ("done", "2026-09-15", "aangenomen (Voor 500, Tegen 50, "
                                                       "Onthouding 10)")
    assert got["raad"][:2] == ("done", "2026-10-01")
    assert got["vastgesteld"] == ("done", "2026-10-10", "Richtlijn (EU) 2026/555 (32026L0555)")
    assert got["publicatieblad"][:2] == ("done", "2026-10-20")
    assert got["omzetting"][0] == "current"
    assert got["omzetting"][2] == ("omzettingstermijn: niet in de bronnen; "
                                   "Nederlands wetsvoorstel: 37200")
    assert (bill.document_id in {d.document_id for d in after.linked if d.kind == "implementatie"})
    # And from the bill's side: the procedure it implements.
    assert dossier.procedures == {PROCEDURE: "noemt Richtlijn (EU) 2026/555"}


# --- the demo recording ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("timeline") / "demo"
    result = run_cli("demo", "--dir", str(folder))
    assert result.returncode == 0, result.stderr
    return folder / "beleidsradar.db"


def test_the_demos_cross_source_joins_and_non_joins(demo: Path) -> None:
    engine = make_engine(f"sqlite:///{demo}")
    with session_factory(engine)() as session:
        records = session.scalars(select(Record)).all()
        # No join in the demo is a guess: every one is a shared strong identifier.
        reasons = [r.joined_by for r in records if r.joined_by]
        assert reasons and all("scheme" in reason for reason in reasons)
        by_title = {r.title: r for r in records}
        letter = by_title["Kamerbrief over voortgang Actieplan Samen tegen Mensenhandel"]
        sources = {r.source.slug for r in records if r.document_id == letter.document_id}
        assert sources == {"tweedekamer", "officielebekendmakingen", "rijksoverheid"}
        # The news item announcing that letter is not the letter.
        announcement = by_title["Meer gespecialiseerde opvang voor minderjarige slachtoffers van "
                                "mensenhandel"]
        assert announcement.document_id != letter.document_id
        # The Eerste Kamer's memorie van antwoord and officielebekendmakingen's are one.
        answers = [r for r in records if r.doc_type == "Memorie van antwoord"]
        assert {r.source.slug for r in answers} == {"eerstekamer", "officielebekendmakingen"}
        assert len({r.document_id for r in answers}) == 1
    engine.dispose()


def test_the_demos_press_release_in_a_feed_joins_it(demo: Path, tmp_path: Path) -> None:
    copy = tmp_path / "demo.db"
    shutil.copy(demo, copy)
    engine = make_engine(f"sqlite:///{copy}")
    Session = session_factory(engine)
    with Session() as session:
        news = session.scalars(select(Record).where(Record.title.like("Meer gespecialiseerde%"))
                               ).one()
        version = session.scalars(select(Version).where(Version.record_id == news.id)).one()
        title, text, published = version.title, version.text, version.published_at
    now = T0 + 10 * DAY
    with Session.begin() as session:
        feed = ensure_source(session, "jenv-nieuws", kind="feed", title="JenV nieuws")
        result = record_observation(session, feed, Observation(
            source="jenv-nieuws", key="https://www.justitie.example/opvang", url="https://x",
            fetched_at=now, title=f"{title} | Justitie en Veiligheid", doc_type="Feedbericht",
            text=text.replace("Nieuwsbericht", "Persbericht"), published_at=published), now=now)
        assert result.document_id == news.document_id
        assert session.get(Record, result.record_id).joined_by["why"] == "near-duplicate"
    engine.dispose()


def test_the_demos_status_events(demo: Path) -> None:
    engine = make_engine(f"sqlite:///{demo}")
    with session_factory(engine)() as session:
        rows = session.execute(select(ChangeEvent, Record).join(
            Record, Record.id == ChangeEvent.record_id).where(ChangeEvent.kind == "status")).all()
    by_key: dict[str, list[dict]] = {}
    for event, record in rows:
        by_key.setdefault(record.key, []).append(event.detail["changes"])
    assert by_key["wetsvoorstel-36547"] == [{
        "stadium": ["Voorbereidend onderzoek; nader voorlopig verslag uitgebracht, memorie van "
                    "antwoord gevraagd",
                    "Voorbereidend onderzoek afgerond; plenaire behandeling gepland"],
        "activiteit": ["", "Plenaire behandeling"], "datum": ["", "2026-12-08 13:30"],
        "activiteit_status": ["", "Gepland"]}]
    assert by_key["2024/0035(COD)"][0]["stadium"] == ["Awaiting Parliament's position in 1st "
                                                      "reading", "Awaiting plenary debate/vote"]
    votes = [changes for changes in sum(by_key.values(), []) if "besluit" in changes]
    assert sorted(c["besluit"][1] for c in votes) == ["Stemmen - aangenomen",
                                                     "Stemmen - verworpen"]
    assert all(c["besluit"][0] is None and c["stemming"][0] is None for c in votes)
    engine.dispose()


def test_dossier_and_history_on_the_command_line(demo: Path) -> None:
    db = str(demo)
    bill = run_cli("dossier", "36547", "-d", db)
    assert bill.returncode == 0, bill.stderr
    out = bill.stdout
    assert "Dossier 36547 — Wet modernisering en uitbreiding strafbaarstelling mensenhandel" in out
    assert re.search(r"✓ │ Stemming Tweede Kamer +│ 2025-06-17 │ aangenomen", out)
    assert re.search(r"→ │ Behandeling Eerste Kamer", out)
    assert "gepland: Plenaire behandeling 2026-12-08 13:30" in out
    assert "dossier 36547: 9 documenten" in out

    procedure = run_cli("dossier", "2022/0155(COD)", "-d", db)
    assert procedure.returncode == 0, procedure.stderr
    out = procedure.stdout
    assert "EU-procedure 2022/0155(COD) — Voorschriften ter voorkoming" in out
    assert re.search(r"✓ │ Voorstel van de Commissie +│ 2022-05-11 │ COM\(2022\) 209", out)
    assert re.search(r"→ │ Onderhandelingen \(triloog\)", out)
    assert "Nederlandse documenten over deze procedure" in out
    assert "Stand van zaken triloogonderhandelingen" in out and "noemt 2022/0155(COD)" in out

    implemented = run_cli("dossier", "2022-0426", "-d", db)  # another spelling
    assert implemented.returncode == 0, implemented.stderr
    assert "Nederlands wetsvoorstel: 36835, 37071" in implemented.stdout
    assert re.search(r"✓ │ Publicatie in het Publicatieblad +│ 2024-06-24", implemented.stdout)

    dutch = run_cli("dossier", "37071", "-d", db)
    assert dutch.returncode == 0, dutch.stderr
    assert "EU-procedure 2022/0426(COD) (noemt Richtlijn (EU) 2024/1712)" in dutch.stdout
    assert re.search(r"✓ │ Internetconsultatie +│ 2026-03-02 │ gesloten", dutch.stdout)
    assert "Gekoppeld op titel" in dutch.stdout

    shown = run_cli("history", "2022/0155(COD)", "-d", db)
    assert shown.returncode == 0, shown.stderr
    assert "2022/0155(COD) is een EU-procedure met 4 documenten" in shown.stdout
    assert "record " in shown.stdout and "europarl" in shown.stdout
    dossier = run_cli("history", "36547", "-d", db)
    assert dossier.returncode == 1
    assert "`beleidsradar dossier 36547` shows its timeline" in dossier.stderr


def test_the_dossier_page(demo: Path) -> None:
    from storage.users import add_user
    from web import create_app

    engine = make_engine(f"sqlite:///{demo}")
    with session_factory(engine).begin() as session:
        add_user(session, "lezer", "een-lang-wachtwoord", role="reader", now=T0)
    engine.dispose()
    client = create_app({"DATABASE_URL": f"sqlite:///{demo}", "SECRET_KEY": "k" * 40,
                         "SECURE_COOKIES": False}).test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"',
                      client.get("/inloggen").get_data(as_text=True)).group(1)
    client.post("/inloggen", data={"csrf_token": token, "username": "lezer",
                                   "password": "een-lang-wachtwoord"})
    page = client.get("/dossiers/36547").get_data(as_text=True)
    assert "<h2>Verloop</h2>" in page and "Behandeling Eerste Kamer" in page
    assert "→ loopt" in page and "gepland: Plenaire behandeling 2026-12-08 13:30" in page
    eu = client.get("/dossiers/2022/0426(COD)").get_data(as_text=True)
    assert "Nederlandse documenten over deze procedure" in eu
    assert 'href="/dossiers/37071"' in eu
    client.get("/taal/en?next=/")
    english = client.get("/dossiers/36547").get_data(as_text=True)
    assert "<h2>Stages</h2>" in english and "Senate: treatment" in english
