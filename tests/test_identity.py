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
    assert "verschil versie 1 → 2:" in shown.stdout and "{+2 (2026-11-23)+}" in shown.stdout
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


# --- near-duplicates, re-issues, the blocking index (identity issue, items 1, 2 and 5) -------

from storage.db import _alembic_config  # noqa: E402
from storage.identity import (  # noqa: E402
    NEAR_DUPLICATE, compare_titles, describe_join, exact_key, pair_keys, reissue_of, title_shape,
)
from storage.models import TitleKey  # noqa: E402

DAY = timedelta(days=1)
#: The demo recording's rijksoverheid.nl press release (23 November 2026), as a ministry's feed
#: might carry it too.
PRESS_TITLE = "Meer gespecialiseerde opvang voor minderjarige slachtoffers van mensenhandel"
PRESS_TEXT = (
    "Minderjarige slachtoffers van mensenhandel krijgen sneller een plek in gespecialiseerde "
    "opvang. Het aantal plekken voor jongeren die seksueel zijn uitgebuit, groeit in 2027. Dat "
    "schrijft de staatssecretaris van Justitie en Veiligheid in de Kamerbrief over de voortgang "
    "van het Actieplan Samen tegen Mensenhandel. De opvang wordt verspreid over het land zodat "
    "jongeren dichter bij huis geholpen kunnen worden.")
PUBLISHED = datetime(2026, 11, 23, 13, 30, tzinfo=UTC)


def put(engine: Engine, source: str, key: str, *, title: str, text: str = "",
        doc_type: str | None = None, ids: tuple[tuple[str, str], ...] = (),
        published: datetime | None = PUBLISHED, kind: str = "spider", now: datetime = T0,
        status: dict[str, str] | None = None):
    with session_factory(engine).begin() as session:
        src = ensure_source(session, source, kind=kind, title=source)
        return record_observation(session, src, Observation(
            source=source, key=key, url=f"https://example.test/{source}/{key}", fetched_at=now,
            title=title, text=text, doc_type=doc_type, published_at=published,
            identifiers=ids, status=status or {}), now=now)


def joined_by(engine: Engine, record_id: int) -> dict | None:
    with session_factory(engine)() as session:
        return session.get(Record, record_id).joined_by


def news(engine: Engine, **overrides):
    values = {"title": PRESS_TITLE, "text": f"{PRESS_TITLE}\nNieuwsbericht\n{PRESS_TEXT}",
              "doc_type": "Nieuwsbericht"}
    values.update(overrides)
    return put(engine, "rijksoverheid", "nieuws/opvang", **values)


def test_titles_are_compared_without_boilerplate_case_or_inflection() -> None:
    letter = title_shape("Kamerbrief over voortgang Actieplan Samen tegen Mensenhandel")
    tk = title_shape("Voortgang Actieplan Samen tegen Mensenhandel (november 2026)")
    obl = title_shape("Brief van de staatssecretaris van Justitie en Veiligheid over de voortgang "
                      "van het Actieplan Samen tegen Mensenhandel")
    assert letter.stems == obl.stems and set(letter.stems) < set(tk.stems)
    assert tk.marks == {"november", "2026"} and not letter.marks
    assert title_shape("Nieuwsbericht: " + PRESS_TITLE + " | Ministerie van JenV").stems == \
        title_shape(PRESS_TITLE.upper()).stems
    # Alike titles share a blocking key; the rule then decides.
    assert set(pair_keys("brief", letter)) & set(pair_keys("brief", tk))
    assert compare_titles(letter, tk, NEAR_DUPLICATE["brief"]) is not None
    june = title_shape("Voortgang Actieplan Samen tegen Mensenhandel (juni 2026)")
    assert compare_titles(june, tk, NEAR_DUPLICATE["brief"]) is None


def test_the_same_press_release_on_two_sites_is_one_document(engine: Engine) -> None:
    first = news(engine)
    feed = put(engine, "jenv-feed", "https://www.justitie.example/nieuws/1", kind="feed",
               doc_type="Feedbericht", title=f"Nieuwsbericht: {PRESS_TITLE} | Justitie en Veiligheid",
               text=PRESS_TEXT + " Lees ook de Kamerbrief.", published=PUBLISHED + DAY,
               ids=(("url", "https://www.justitie.example/nieuws/1"),), now=T0 + DAY)
    assert feed.document_id == first.document_id
    reason = joined_by(engine, feed.record_id)
    assert reason["why"] == "near-duplicate" and reason["family"] == "bericht"
    assert reason["score"] >= 90 and reason["text_score"] >= 80 and reason["days"] == 1
    assert reason["title"] == PRESS_TITLE and reason["record"] == first.record_id
    assert describe_join(reason).startswith(f"bijna-duplicaat van record {first.record_id}")
    with session_factory(engine)() as session:
        [event] = session.scalars(select(ChangeEvent).where(
            ChangeEvent.record_id == feed.record_id)).all()
        assert event.kind == "changed" and event.detail["joined"]["source"] == "jenv-feed"
        # A wrong join is undone like any other; the reason stays on record.
        split_record(session, session.get(Record, feed.record_id), now=T0 + 2 * DAY)
        record = session.get(Record, feed.record_id)
        assert record.document_id != first.document_id
        assert record.joined_by["split"]["was"]["why"] == "near-duplicate"
        session.commit()


FEED = {"kind": "feed", "doc_type": "Feedbericht"}
NOT_JOINED = {
    # A news item announcing a letter is not the letter: another family, another title.
    "announcement vs letter": (
        {"source": "tweedekamer", "doc_type": "Brief regering",
         "title": "Voortgang Actieplan Samen tegen Mensenhandel (november 2026)"},
        {"source": "rijksoverheid", "doc_type": "Nieuwsbericht", "title": PRESS_TITLE,
         "text": PRESS_TEXT}),
    # One source states two things with two keys, however alike.
    "same source": (
        {"source": "rijksoverheid", "doc_type": "Nieuwsbericht", "title": PRESS_TITLE},
        {"source": "rijksoverheid", "doc_type": "Nieuwsbericht", "title": PRESS_TITLE}),
    # A TK Document and a Zaak with the same title (a question's Zaak holds the answer too).
    "two TK kinds": (
        {"source": "tweedekamer", "doc_type": "Schriftelijke vragen",
         "title": "Vragen van de leden Koster en Smit over uitbuiting van arbeidsmigranten"},
        {"source": "tweedekamer", "doc_type": "Schriftelijke vragen",
         "title": "Vragen van de leden Koster en Smit over uitbuiting van arbeidsmigranten"}),
    "outside the window": (
        {"source": "rijksoverheid", "doc_type": "Nieuwsbericht", "title": PRESS_TITLE},
        {"source": "jenv-feed", **FEED, "title": PRESS_TITLE, "published": PUBLISHED + 5 * DAY}),
    "other numbers": (
        {"source": "rijksoverheid", "doc_type": "Nieuwsbericht",
         "title": "Kabinet maakt 200 extra opvangplekken vrij voor slachtoffers mensenhandel"},
        {"source": "jenv-feed", **FEED,
         "title": "Kabinet maakt 300 extra opvangplekken vrij voor slachtoffers mensenhandel"}),
    "same title, other text": (
        {"source": "rijksoverheid", "doc_type": "Nieuwsbericht", "title": PRESS_TITLE,
         "text": PRESS_TEXT},
        {"source": "jenv-feed", **FEED, "title": PRESS_TITLE,
         "text": "Het kabinet stelt een nieuwe wet voor over de energietransitie en de "
                 "verduurzaming van woningen. Gemeenten krijgen meer geld voor warmtenetten en "
                 "isolatie, en huurders een subsidie voor zonnepanelen op hun dak in 2028."}),
    "too short a title": (
        {"source": "rijksoverheid", "doc_type": "Nieuwsbericht", "title": "Opvang slachtoffers"},
        {"source": "jenv-feed", **FEED, "title": "Opvang slachtoffers"}),
    "different Kamerstukken": (
        {"source": "tweedekamer", "doc_type": "Brief regering", "ids": (
            ("kamerstuk", "kst-28638-271"),),
         "title": "Voortgang Actieplan Samen tegen Mensenhandel"},
        {"source": "rijksoverheid", "doc_type": "Kamerstuk: Kamerbrief", "ids": (
            ("kamerstuk", "kst-28638-280"),),
         "title": "Kamerbrief over voortgang Actieplan Samen tegen Mensenhandel"}),
}


def test_what_is_not_a_near_duplicate(engine: Engine) -> None:
    """Every case in one archive (a fresh PostgreSQL schema per case costs seconds): each case
    two months after the one before, further apart than any window."""
    for n, case in enumerate(sorted(NOT_JOINED)):
        before, after = NOT_JOINED[case]
        shift = timedelta(days=60 * n)
        first = put(engine, key=f"{case}/one", **{
            **before, "published": before.get("published", PUBLISHED) + shift})
        second = put(engine, key=f"{case}/two", **{
            **after, "published": after.get("published", PUBLISHED) + shift})
        assert second.document_id != first.document_id, case
        assert joined_by(engine, second.record_id) is None, case


def test_a_letter_without_its_kst_link_joins_the_tk_letter_by_title(engine: Engine) -> None:
    """rijksoverheid.nl's route `classic` has no kst link: the demo's Kamerbrief, dated a week
    after the TK's Datum, still lands on the TK letter; a second copy from the same site does
    not land there again."""
    tk = put(engine, "tweedekamer", "Document/92ae", doc_type="Brief regering",
             title="Voortgang Actieplan Samen tegen Mensenhandel (november 2026)",
             published=datetime(2026, 11, 15, 23, tzinfo=UTC),
             ids=(("kamerstuk", "kst-28638-271"), ("dossier", "28638")))
    site = put(engine, "rijksoverheid", "documenten/kamerbrief-voortgang",
               doc_type="Kamerstuk: Kamerbrief",
               title="Kamerbrief over voortgang Actieplan Samen tegen Mensenhandel",
               published=datetime(2026, 11, 22, 23, tzinfo=UTC), now=T0 + 7 * DAY)
    assert site.document_id == tk.document_id
    reason = joined_by(engine, site.record_id)
    assert reason["family"] == "brief" and reason["score"] == 100 and reason["days"] == 7
    again = put(engine, "rijksoverheid", "documenten/kamerbrief-voortgang-2",
                doc_type="Kamerstuk: Kamerbrief",
                title="Kamerbrief over voortgang Actieplan Samen tegen Mensenhandel",
                published=datetime(2026, 11, 22, 23, tzinfo=UTC), now=T0 + 7 * DAY)
    assert again.document_id != tk.document_id


REISSUES = {
    # before (the original) → after (the re-issue) → what joined_by says
    "herdruk (SRU id -n1)": (
        {"source": "officielebekendmakingen", "key": "kst-36547-3", "doc_type": "Memorie van "
         "toelichting", "title": "Memorie van toelichting",
         "ids": (("officielebekendmakingen", "kst-36547-3"), ("kamerstuk", "kst-36547-3"))},
        {"source": "officielebekendmakingen", "key": "kst-36547-3-n1",
         "doc_type": "Memorie van toelichting", "title": "Memorie van toelichting",
         "ids": (("officielebekendmakingen", "kst-36547-3-n1"),)},
        "herdruk", "herdruk van kst-36547-3"),
    "gewijzigde motie (t.v.v.)": (
        {"source": "tweedekamer", "key": "Document/m1", "doc_type": "Motie",
         "title": "Motie van het lid Koster c.s. over een landelijk dekkend aanbod",
         "ids": (("kamerstuk", "kst-28638-273"), ("dossier", "28638"))},
        {"source": "tweedekamer", "key": "Document/m2", "doc_type": "Motie (gewijzigd/nader)",
         "title": "Gewijzigde motie van het lid Koster c.s. over een landelijk dekkend aanbod "
                  "(t.v.v. 28638-273)",
         "ids": (("kamerstuk", "kst-28638-280"), ("dossier", "28638"))},
        "gewijzigde motie", "gewijzigde motie, vervangt kst-28638-273"),
    "gewijzigd amendement (ter vervanging van nr.)": (
        {"source": "officielebekendmakingen", "key": "kst-36547-9", "doc_type": "Amendement",
         "title": "Amendement van het lid Ellian over de strafmaat",
         "ids": (("kamerstuk", "kst-36547-9"), ("dossier", "36547"))},
        {"source": "officielebekendmakingen", "key": "kst-36547-14", "doc_type": "Amendement",
         "title": "Gewijzigd amendement van het lid Ellian ter vervanging van nr. 9 over de "
                  "strafmaat", "ids": (("kamerstuk", "kst-36547-14"), ("dossier", "36547"))},
        "gewijzigd amendement", "gewijzigd amendement, vervangt kst-36547-9"),
    "rectificatie (Staatscourant)": (
        {"source": "officielebekendmakingen", "key": "stcrt-2026-31234", "doc_type":
         "Staatscourant", "title": "Advies W16.26.00187/II en nader rapport",
         "ids": (("officielebekendmakingen", "stcrt-2026-31234"),)},
        {"source": "officielebekendmakingen", "key": "stcrt-2026-40001", "doc_type":
         "Staatscourant", "title": "Rectificatie advies en nader rapport",
         "text": "In Staatscourant 2026, 31234 is abusievelijk een onjuiste datum vermeld.",
         "ids": (("officielebekendmakingen", "stcrt-2026-40001"),)},
        "rectificatie", "rectificatie van stcrt-2026-31234"),
    "EU corrigendum": (
        {"source": "eurlex", "key": "32024L1712", "doc_type": "act",
         "title": "Richtlijn (EU) 2024/1712 van het Europees Parlement en de Raad",
         "ids": (("celex", "32024L1712"), ("procedure", "2022/0426(COD)"))},
        {"source": "eurlex", "key": "http://publications.europa.eu/resource/cellar/c0rr",
         "doc_type": "document", "title": "Rectificatie van Richtlijn (EU) 2024/1712 van het "
         "Europees Parlement en de Raad van 13 juni 2024", "ids": ()},
        "rectificatie", "rectificatie van 32024L1712"),
    "gewijzigd voorstel van wet (Eerste Kamer, A)": (
        {"source": "tweedekamer", "key": "Document/vvw", "doc_type": "Voorstel van wet",
         "title": "Voorstel van wet — Wijziging van het Wetboek van Strafrecht",
         "ids": (("kamerstuk", "kst-36547-2"), ("dossier", "36547"))},
        {"source": "eerstekamer", "key": "kst-36547-A", "doc_type": "Gewijzigd voorstel van wet",
         "title": "Gewijzigd voorstel van wet — Wet modernisering strafbaarstelling mensenhandel",
         "ids": (("kamerstuk", "kst-36547-A"), ("dossier", "36547"))},
        "gewijzigd voorstel van wet", "gewijzigd voorstel van wet (dossier 36547)"),
    "gewijzigd EU-voorstel": (
        {"source": "eurlex", "key": "52022PC0209", "doc_type": "proposal",
         "title": "Voorstel voor een verordening ter voorkoming van seksueel misbruik van kinderen",
         "ids": (("celex", "52022PC0209"), ("procedure", "2022/0155(COD)"))},
        {"source": "eurlex", "key": "52024PC0999", "doc_type": "proposal",
         "title": "Gewijzigd voorstel voor een verordening ter voorkoming van seksueel misbruik",
         "ids": (("celex", "52024PC0999"), ("procedure", "2022/0155(COD)"))},
        "gewijzigd EU-voorstel", "gewijzigd voorstel in 2022/0155(COD)"),
    "(gewijzigd) in the title": (
        {"source": "rijksoverheid", "key": "documenten/factsheet", "doc_type": "Publicatie",
         "title": "Factsheet aanpak mensenhandel en uitbuiting 2026"},
        {"source": "rijksoverheid", "key": "documenten/factsheet-2", "doc_type": "Publicatie",
         "title": "Factsheet aanpak mensenhandel en uitbuiting 2026 (gewijzigd)"},
        "gewijzigde versie", "gewijzigde versie van 'Factsheet aanpak mensenhandel en "
                             "uitbuiting 2026'"),
}


def test_reissues_and_corrections_change_the_same_document(engine: Engine) -> None:
    """Every case in one archive; their identifiers and titles do not meet."""
    for case in sorted(REISSUES):
        before, after, kind, value = REISSUES[case]
        original = put(engine, **before)
        reissued = put(engine, **after, now=T0 + DAY)
        assert reissued.document_id == original.document_id, case
        reason = joined_by(engine, reissued.record_id)
        assert (reason.get("kind") or reason.get("reissue")) == kind, case
        assert reason["why"] == "re-issue" and reason["value"] == value, case
        with session_factory(engine)() as session:
            [event] = session.scalars(select(ChangeEvent).where(
                ChangeEvent.record_id == reissued.record_id)).all()
            assert event.kind == "changed" and event.detail["joined"]["value"] == value, case


def test_a_herdruk_with_its_canonical_kamerstuk_is_joined_and_says_so(engine: Engine) -> None:
    """The crawler stores the kamerstuk of kst-36547-3-n1 as kst-36547-3 (its canonical form),
    so the strong identifier joins; the reason notes the herdruk."""
    first = put(engine, "officielebekendmakingen", "kst-36547-3", title="Memorie van toelichting",
                ids=(("officielebekendmakingen", "kst-36547-3"), ("kamerstuk", "kst-36547-3")))
    again = put(engine, "officielebekendmakingen", "kst-36547-3-n1", title="Memorie van toelichting",
                ids=(("officielebekendmakingen", "kst-36547-3-n1"), ("kamerstuk", "kst-36547-3")))
    assert again.document_id == first.document_id
    reason = joined_by(engine, again.record_id)
    assert reason["scheme"] == "kamerstuk" and reason["reissue"] == "herdruk"
    assert describe_join(reason) == "gedeeld kenmerk kamerstuk:kst-36547-3 (herdruk)"


def test_what_is_not_a_reissue() -> None:
    # A letter that mentions a changed motion is not that motion.
    assert reissue_of("Brief over de afhandeling van moties", "De gewijzigde motie van het lid "
                      "Koster (t.v.v. 28638-273) is uitgevoerd.", "Brief regering",
                      (("kamerstuk", "kst-28638-281"),)) is None
    # "(t.v.v.)" naming itself, or no reference at all.
    assert reissue_of("Gewijzigde motie van het lid Smit", "", "Motie (gewijzigd/nader)",
                      (("kamerstuk", "kst-31015-300"),)) is None
    # A kamerstuk number without the reprint suffix.
    assert reissue_of("Memorie van toelichting", "", None,
                      (("officielebekendmakingen", "kst-36547-3"),)) is None
    # A correction names what it corrects: a Staatsblad, a Kamerstuk, an EU act.
    assert reissue_of("Rectificatie", "In Stb. 2025, 123 staat een fout.", None, ()).targets == (
        ("officielebekendmakingen", "stb-2025-123"),)


def test_an_implementation_bill_does_not_join_the_directive_it_names(engine: Engine) -> None:
    """officielebekendmakingen states the EU act a publication rests on as `celex`
    (dcterms:source): a reference, not the publication's identity."""
    act = put(engine, "eurlex", "32024L1712", doc_type="act", title="Richtlijn (EU) 2024/1712",
              ids=(("celex", "32024L1712"),))
    bill = put(engine, "officielebekendmakingen", "kst-37071-2", doc_type="Voorstel van wet",
               title="Voorstel van wet ter implementatie van Richtlijn (EU) 2024/1712",
               ids=(("kamerstuk", "kst-37071-2"), ("celex", "32024L1712")))
    assert bill.document_id != act.document_id
    # The same CELEX from an EU source is still one work.
    again = put(engine, "europarl", "TA-9-2024-0309", doc_type="Aangenomen tekst (EP)",
                title="Wetgevingsresolutie", ids=(("celex", "32024L1712"),))
    assert again.document_id == act.document_id


def test_a_changed_title_is_indexed_again(engine: Engine) -> None:
    first = news(engine)
    news(engine, title="Sneller gespecialiseerde opvang voor minderjarige slachtoffers",
         now=T0 + DAY)
    with session_factory(engine)() as session:
        keys = set(session.scalars(select(TitleKey.key).where(
            TitleKey.record_id == first.record_id)))
    shape = title_shape("Sneller gespecialiseerde opvang voor minderjarige slachtoffers")
    assert keys == set(pair_keys("bericht", shape)) | {exact_key(shape)}


def test_the_migration_indexes_the_titles_already_stored(database_url: str) -> None:
    from alembic import command
    from sqlalchemy import text

    from storage.db import make_engine, upgrade

    engine = make_engine(database_url)
    command.upgrade(_alembic_config(engine), "0008")
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO source (id, slug, kind, title, config, active, cursor, created_at) "
            "VALUES (1, 'rijksoverheid', 'spider', 'r', '{}', true, '{}', '2026-11-20')"))
        connection.execute(text(
            "INSERT INTO document (id, title, first_seen_at, last_changed_at) "
            "VALUES (1, 't', '2026-11-20', '2026-11-20')"))
        connection.execute(text(
            "INSERT INTO record (id, source_id, document_id, key, url, title, doc_type, "
            "content_hash, status, first_seen_at, last_seen_at) VALUES (1, 1, 1, 'k', 'u', "
            ":title, 'Nieuwsbericht', 'h', '{}', '2026-11-20', '2026-11-20')"),
            {"title": PRESS_TITLE})
    upgrade(engine)
    with session_factory(engine)() as session:
        rows = session.scalars(select(TitleKey)).all()
        assert {row.key for row in rows} == set(pair_keys("bericht", title_shape(PRESS_TITLE))) \
            | {exact_key(title_shape(PRESS_TITLE))}
        assert {row.day.isoformat() for row in rows} == {"2026-11-20"}
    engine.dispose()


def test_history_shows_why_a_reissue_belongs_and_what_it_changed(tmp_path: Path) -> None:
    from storage.db import make_engine, upgrade

    db = tmp_path / "archive.db"
    engine = make_engine(f"sqlite:///{db}")
    upgrade(engine)
    put(engine, "tweedekamer", "Document/m1", doc_type="Motie",
        title="Motie van het lid Koster c.s. over een landelijk dekkend aanbod",
        text="verzoekt de regering te zorgen voor opvang",
        ids=(("kamerstuk", "kst-28638-273"), ("dossier", "28638")))
    changed = put(engine, "tweedekamer", "Document/m2", doc_type="Motie (gewijzigd/nader)",
                  title="Gewijzigde motie van het lid Koster c.s. over een landelijk dekkend "
                        "aanbod (t.v.v. 28638-273)",
                  text="verzoekt de regering te zorgen voor gespecialiseerde opvang",
                  ids=(("kamerstuk", "kst-28638-280"), ("dossier", "28638")), now=T0 + DAY)
    engine.dispose()
    shown = run_cli("history", "kst-28638-280", "-d", str(db))
    assert shown.returncode == 0, shown.stderr
    assert ("hoort bij dit document door: heruitgave: gewijzigde motie, vervangt kst-28638-273 "
            "(t.v.v. 28638-273)") in shown.stdout
    assert "verschil origineel (record 1 versie 1) → deze heruitgave:" in shown.stdout
    assert "{+gespecialiseerde+} opvang" in shown.stdout
    split = run_cli("documents", "split", str(changed.record_id), "-d", str(db))
    assert split.returncode == 0 and "staat nu in document" in split.stdout
