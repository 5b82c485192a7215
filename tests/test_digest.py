"""The weekly digest: content per topic, source accounts, rendering, escaping, mail delivery."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import Message
from pathlib import Path

import pytest
from sqlalchemy import func, select

from reports.digest import Digest, build_digest
from reports.periods import last_complete_week, parse_week
from reports.render import render
from storage.archive import Observation, ensure_source, record_observation
from storage.db import make_engine, session_factory
from storage.models import DigestEntry
from storage.topics import active_matcher, record_matches
from monitors.matching import MatchDoc
from tests.helpers import run_cli

ROOT = Path(__file__).resolve().parent.parent
W47, W48 = parse_week("2026-W47"), parse_week("2026-W48")


cli = run_cli


@pytest.fixture(scope="module")
def demo_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo archive: both recorded weeks crawled through the real pipeline."""
    folder = tmp_path_factory.mktemp("digest") / "demo"
    result = cli("demo", "--dir", str(folder))
    assert result.returncode == 0, result.stdout + result.stderr
    return folder / "beleidsradar.db"


@pytest.fixture
def archive(demo_archive: Path, tmp_path: Path) -> str:
    """A private copy of the demo archive for tests that write."""
    copy = tmp_path / "archive.db"
    shutil.copy(demo_archive, copy)
    return str(copy)


def build(url: str, week=W48, **kwargs) -> Digest:
    engine = make_engine(url)
    with session_factory(engine)() as session:
        digest = build_digest(session, week, **kwargs)
    engine.dispose()
    return digest


def test_weeks() -> None:
    assert W48.monday.isoformat() == "2026-11-23" and W48.sunday.isoformat() == "2026-11-29"
    assert W48.start == datetime(2026, 11, 22, 23, 0, tzinfo=UTC)
    assert last_complete_week(datetime(2026, 11, 30, 7, 0, tzinfo=UTC)).label == "2026-W48"
    assert last_complete_week(datetime(2026, 11, 29, 22, 59, tzinfo=UTC)).label == "2026-W47"
    with pytest.raises(ValueError, match="2026-W48"):
        parse_week("week 48")
    with pytest.raises(ValueError, match="no week 54"):
        parse_week("2026-W54")


def test_week_48_per_topic(demo_archive: Path) -> None:
    digest = build(str(demo_archive))
    titles = [t.title for t in digest.topics]
    assert titles == sorted(titles)  # a stable order
    by_slug = {t.slug: t for t in digest.topics}

    actieplan = by_slug["actieplan-mensenhandel"]
    letter = next(e for e in actieplan.entries if "kst-28638-271" in e.references)
    # One letter, seen in TK open data and on officielebekendmakingen.
    assert letter.doc_type == "Brief regering"
    assert letter.sources == ["officielebekendmakingen", "rijksoverheid", "tweedekamer"]
    # This week: officielebekendmakingen published it and rijksoverheid.nl put it online (both
    # joined by the Kamerstuk number), and TK has a new version.
    assert sorted((e.kind, e.detail.get("from_version") or 0,
                   e.detail.get("joined", {}).get("scheme")) for e in letter.events) == [
        ("changed", 0, "kamerstuk"), ("changed", 0, "kamerstuk"), ("changed", 1, None)]
    assert letter.reasons[0].clause == '"samen tegen mensenhandel"'
    # The letter and its TK zaak are one work: links to the file, the publication, the zaak.
    assert {"bestand", "officielebekendmakingen", "bron", "pdf"} <= {link.label for link in
                                                                      letter.links}

    # The motion voted on in week 48 is under the broad topic, with the vote as a status event.
    motion = next(e for t in digest.topics for e in t.entries
                  if "2026Z21495" in e.references)
    [status] = [e for e in motion.events if e.kind == "status"]
    assert status.detail["changes"]["besluit"] == [None, "Stemmen - aangenomen"]
    assert status.detail["changes"]["stemming"] == [None, "Voor 143, Tegen 7"]

    # Every document appears in full once; under its other topics as a reference.
    full = [e.document_id for t in digest.topics for e in t.entries]
    assert len(full) == len(set(full))
    references = [(t.slug, r.document_id, r.under) for t in digest.topics for r in t.see_also]
    assert references and all(doc in full for _, doc, _ in references)
    assert all(under != slug for slug, _, under in references)

    # Counts in the header are over everything shown under the topic.
    for topic in digest.topics:
        shown = topic.entries + topic.weak
        expected = sum(1 for e in shown for k in e.kinds if k == "new")
        expected += sum(
            1 for r in topic.see_also
            for e in (x for t in digest.topics for x in t.entries if x.document_id == r.document_id)
            if "new" in e.kinds
        )
        assert topic.counts["new"] == expected

    # Every source of the demo week, the feed and page a researcher added included, was
    # visited once this week, and every visit went well.
    assert [(s.slug, s.runs, s.last_status) for s in digest.sources] == [
        (slug, 1, "ok") for slug in ("eerstekamer", "eurlex", "europarl", "feed-comensha",
                                     "internetconsultatie", "officielebekendmakingen",
                                     "page-nationaalrapporteur-publicaties", "raadvanstate",
                                     "rechtspraak", "rijksoverheid", "tweedekamer")]
    # The researcher-added feed brought a new item, the page a real change (a new version).
    feed_item = next(e for t in digest.topics for e in t.entries
                     if e.sources == ["feed-comensha"])
    assert feed_item.title.startswith("Reactie CoMensha op de Kamerbrief")
    [page_entry] = [e for t in digest.topics for e in t.entries + t.weak
                    if e.sources == ["page-nationaalrapporteur-publicaties"]][:1]
    assert [ev.kind for ev in page_entry.events] == ["changed"]
    assert digest.unmatched > 0  # stikstof and the housing market are in no topic


def test_week_47_is_the_first_visit(demo_archive: Path) -> None:
    digest = build(str(demo_archive), W47)
    kinds = {k for t in digest.topics for e in t.entries for k in e.kinds}
    assert kinds == {"new", "changed"}
    changes = [ev for t in digest.topics for e in t.entries for ev in e.events
               if ev.kind == "changed"]
    # In a first week, every "change" is a second copy of a work joining it (zaak + document).
    assert changes and all(ev.detail["joined"]["scheme"] == "zaakdocument" for ev in changes)
    assert sum(len(t.entries) for t in digest.topics) > 10


def test_building_again_gives_the_same_digest(demo_archive: Path) -> None:
    first, second = build(str(demo_archive)), build(str(demo_archive))
    assert first.to_dict() == second.to_dict()
    for fmt in ("html", "md", "txt"):
        assert render(first, fmt) == render(second, fmt)
    assert Digest.from_dict(first.to_dict()).to_dict() == first.to_dict()


def test_texts_in_dutch_and_english(demo_archive: Path) -> None:
    nl = render(build(str(demo_archive)), "txt")
    assert "weekoverzicht 2026-W48" in nl and "23-11-2026 t/m 29-11-2026" in nl
    assert "Kamerbrief" in nl and "besluit: Stemmen - aangenomen" in nl
    assert "Bronnen deze week" in nl
    en = render(build(str(demo_archive), lang="en"), "txt")
    assert "weekly digest 2026-W48" in en and "Letter to parliament" in en
    assert "decision: Stemmen - aangenomen" in en and "Sources this week" in en


def test_a_failed_source_is_said_at_the_top(archive: str) -> None:
    engine = make_engine(archive)
    from storage.runs import add_error, finish_run, start_run

    with session_factory(engine).begin() as session:
        # A source the demo does not have, whose only run this week failed.
        source = ensure_source(session, "wetten", kind="spider", title="wetten.overheid.nl")
        run = start_run(session, source, mode="live", now=datetime(2026, 11, 24, tzinfo=UTC))
        add_error(run, "https://wetten.overheid.nl/x", "HttpError: 503 Service Unavailable")
        finish_run(session, run, now=datetime(2026, 11, 24, tzinfo=UTC), finish_reason="finished",
                   cursor=None)
    engine.dispose()
    text = render(build(archive), "txt")
    assert "! Let op: 1 bron(nen) niet (volledig) gecontroleerd" in text
    assert "HttpError: 503 Service Unavailable" in text


def test_hostile_titles_are_escaped_everywhere(archive: str) -> None:
    engine = make_engine(archive)
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)> [mensenhandel](javascript:alert(1))'
    with session_factory(engine).begin() as session:
        source = ensure_source(session, "tweedekamer", kind="spider", title="TK")
        now = datetime(2026, 11, 25, 12, tzinfo=UTC)
        obs = Observation(source="tweedekamer", key="Document/hostile",
                          url="javascript:alert(1)", fetched_at=now, title=hostile, text="",
                          doc_type="Brief regering", published_at=now)
        result = record_observation(session, source, obs, now=now)
        matcher, ids = active_matcher(session)
        record_matches(session, matcher.match(MatchDoc(title=hostile, text="")), ids,
                       document_id=result.document_id, version_id=result.version_id, now=now)
    engine.dispose()
    digest = build(archive)
    html = render(digest, "html")
    assert "<script" not in html and "onerror=alert" not in html.replace("onerror=alert(1)&gt;", "")
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert 'href="javascript:' not in html
    md = render(digest, "md")
    assert "<script" not in md and "](javascript:" not in md
    assert "\\[mensenhandel\\]\\(javascript:alert\\(1\\)\\)" in md


def test_subscriber_view_promotes_entries_of_topics_left_out(demo_archive: Path) -> None:
    digest = build(str(demo_archive))
    reference = next((t.slug, r) for t in digest.topics for r in t.see_also)
    slug, ref = reference
    mine = digest.only_topics({slug})
    [topic] = mine.topics
    assert ref.document_id in [e.document_id for e in topic.entries]
    assert ref.document_id not in [r.document_id for r in topic.see_also]


# --- delivery over real SMTP ------------------------------------------------------------------


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller

    import socket

    with socket.socket() as probe:  # aiosmtpd needs a fixed port: take a free one
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, controller.port
    finally:
        controller.stop()


def smtp_env(port: int) -> dict[str, str]:
    return {"BELEIDSRADAR_SMTP_HOST": "127.0.0.1", "BELEIDSRADAR_SMTP_PORT": str(port),
            "BELEIDSRADAR_SMTP_FROM": "radar@nr.example", "BELEIDSRADAR_SMTP_BACKOFF": "0.05",
            "BELEIDSRADAR_SMTP_ATTEMPTS": "2"}


def test_send_mails_each_subscriber_their_topics_once(archive: str, smtp_server) -> None:
    inbox, port = smtp_server
    assert cli("subscribers", "add", "anna@nr.example", "--topic", "herziening-273f",
               "--topic", "actieplan-mensenhandel", "--name", "Anna", "-d", archive).returncode == 0
    assert cli("subscribers", "add", "ben@nr.example", "--topic", "eu-verordening-csa",
               "--lang", "en", "-d", archive).returncode == 0
    sent = cli("digest", "--week", "2026-W48", "--send", "-d", archive, env=smtp_env(port))
    assert sent.returncode == 0, sent.stdout + sent.stderr
    assert len(inbox.messages) == 2
    anna = next(m for m in inbox.messages if "anna@nr.example" in m["To"])
    assert anna["Subject"] == "Beleidsradar — weekoverzicht 2026-W48"
    assert anna["From"] == "radar@nr.example" and anna["To"] == "Anna <anna@nr.example>"
    assert anna.get_content_type() == "multipart/alternative"
    plain = anna.get_body(preferencelist=("plain",)).get_content()
    html = anna.get_body(preferencelist=("html",)).get_content()
    assert "Actieplan Samen tegen Mensenhandel" in plain and "Herziening art. 273f" in plain
    assert "EU-verordening" not in plain  # not Anna's topic
    assert "<table" in html and "Voortgang Actieplan" in html
    ben = next(m for m in inbox.messages if "ben@nr.example" in m["To"])
    assert ben["Subject"] == "Beleidsradar — weekly digest 2026-W48"

    again = cli("digest", "--week", "2026-W48", "--send", "-d", archive, env=smtp_env(port))
    assert again.returncode == 0 and "al verzonden" in again.stdout
    assert len(inbox.messages) == 2  # nothing twice

    resent = cli("digest", "--week", "2026-W48", "--resend", "--to", "anna@nr.example",
                 "-d", archive, env=smtp_env(port))
    assert resent.returncode == 0, resent.stderr
    assert len(inbox.messages) == 3
    again_plain = inbox.messages[2].get_body(preferencelist=("plain",)).get_content()
    assert again_plain == plain

    engine = make_engine(archive)
    with session_factory(engine)() as session:
        assert session.scalar(select(func.count(DigestEntry.id))) > 0
    engine.dispose()


def test_a_failed_send_is_reported_and_retried_later(archive: str, smtp_server) -> None:
    inbox, port = smtp_server
    cli("subscribers", "add", "anna@nr.example", "--topic", "herziening-273f", "-d", archive)
    closed = smtp_env(1)  # nothing listens on port 1
    failed = cli("digest", "--week", "2026-W48", "--send", "-d", archive, env=closed)
    assert failed.returncode == 1
    assert "mislukt" in failed.stdout and "ConnectionRefusedError" in failed.stdout
    assert failed.stderr.strip() == (
        "beleidsradar: not delivered to anna@nr.example (see the table; run again to retry)")
    retried = cli("digest", "--week", "2026-W48", "--send", "-d", archive, env=smtp_env(port))
    assert retried.returncode == 0, retried.stdout + retried.stderr
    assert len(inbox.messages) == 1 and "verzonden" in retried.stdout


class DroppingInbox(Inbox):
    """A server that takes the message (250 to DATA) and then loses the session: it answers
    QUIT with 421 and closes ("drop"), or resets the connection right after the 250 ("reset")."""

    def __init__(self, how: str) -> None:
        super().__init__()
        self.how = how

    async def handle_DATA(self, server, session, envelope):
        status = await super().handle_DATA(server, session, envelope)
        if self.how == "reset":
            import asyncio

            # After the 250 has been written: the connection goes down with a TCP RST.
            asyncio.get_running_loop().call_soon(server.transport.abort)
        return status

    async def handle_QUIT(self, server, session, envelope):
        return "421 4.4.2 mail.nr.example closing connection" if self.how == "drop" else "221 Bye"


@pytest.mark.parametrize("how", ["drop", "reset"])
def test_a_connection_lost_after_the_message_was_accepted_is_a_sent_digest(
        archive: str, how: str) -> None:
    """DATA answered 250 means the server has the message: what happens to the session after
    that must not make the digest count as unsent, or the retry would mail it twice."""
    import socket

    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = DroppingInbox(how)
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        cli("subscribers", "add", "anna@nr.example", "--topic", "herziening-273f", "-d", archive)
        sent = cli("digest", "--week", "2026-W48", "--send", "-d", archive,
                   env=smtp_env(controller.port))
        assert sent.returncode == 0, sent.stdout + sent.stderr
        assert len(inbox.messages) == 1  # once, not once per attempt
        assert "verzonden" in sent.stdout and "mislukt" not in sent.stdout
        again = cli("digest", "--week", "2026-W48", "--send", "-d", archive,
                    env=smtp_env(controller.port))
        assert again.returncode == 0 and "al verzonden" in again.stdout
        assert len(inbox.messages) == 1  # and not again on the next run
    finally:
        controller.stop()


def test_run_crawls_daily_and_sends_each_due_digest_once(tmp_path: Path, smtp_server) -> None:
    """`beleidsradar run` over a week and a half, live against a loopback copy of the TK API."""
    from tests.loopback import serve_recording

    inbox, port = smtp_server
    db = str(tmp_path / "run.db")
    assert cli("init", "-d", db).returncode == 0
    engine = make_engine(db)
    with session_factory(engine).begin() as session:
        ensure_source(session, "tweedekamer", kind="spider", title="TK").cursor = {
            e: "2026-11-16T00:00:00Z"
            for e in ("Document", "Zaak", "Activiteit", "Besluit", "Toezegging")}
    engine.dispose()
    cli("subscribers", "add", "anna@nr.example", "--topic", "mensenhandel", "-d", db)
    demo = ROOT / "crawler" / "recordings" / "demo"

    def run_at(when: str, visit: str) -> subprocess.CompletedProcess[str]:
        with serve_recording(demo / visit, "https://gegevensmagazijn.tweedekamer.nl") as base:
            return cli("run", "--now", when, "-d", db, env={
                **smtp_env(port), "BELEIDSRADAR_TK_ODATA_URL": f"{base}/OData/v4/2.0/",
                # officielebekendmakingen with nothing to watch: this test is about the TK.
                "BELEIDSRADAR_SRU_DOSSIERS": "[]", "BELEIDSRADAR_SRU_TERMS": "[]",
                "BELEIDSRADAR_SOURCES": '["tweedekamer", "officielebekendmakingen"]'})

    # Friday of week 47: first crawl; no digest yet (week 46 was not watched).
    first = run_at("2026-11-20T17:00:00+00:00", "1-week47")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "Crawl: officielebekendmakingen, tweedekamer" in first.stdout
    assert "Weekoverzicht: niets te doen" in first.stdout
    # An hour later: nothing is due.
    idle = run_at("2026-11-20T18:00:00+00:00", "1-week47")
    assert "Crawl: niets te doen" in idle.stdout and "Weekoverzicht: niets te doen" in idle.stdout
    # Friday of week 48 (the machine was off on Monday): crawl, and catch up week 47's digest.
    second = run_at("2026-11-27T17:00:00+00:00", "2-week48")
    assert second.returncode == 0, second.stdout + second.stderr
    assert "Weekoverzicht 2026-W47: opgeslagen, 1 mail(s) verzonden" in second.stdout
    assert [m["Subject"] for m in inbox.messages] == ["Beleidsradar — weekoverzicht 2026-W47"]
    # Monday 08:30 of week 49: week 48's digest goes out, with the vote of week 48. The crawl
    # asks past the recording and fails: run says so, and the digest still goes.
    third = run_at("2026-11-30T08:30:00+01:00", "2-week48")
    assert third.returncode == 1
    assert "Weekoverzicht 2026-W48: opgeslagen, 1 mail(s) verzonden" in third.stdout
    assert "crawl of tweedekamer: failed" in third.stderr
    assert len(inbox.messages) == 2
    body = inbox.messages[1].get_body(preferencelist=("plain",)).get_content()
    assert "besluit: Stemmen - aangenomen; stemming: Voor 143, Tegen 7" in body
    # Again: nothing is sent twice.
    fourth = run_at("2026-11-30T09:00:00+01:00", "2-week48")
    assert "Weekoverzicht: niets te doen" in fourth.stdout and len(inbox.messages) == 2


def test_agenda_shows_what_was_planned_when_the_week_ended(demo_archive: Path) -> None:
    w47 = {t.slug: t for t in build(str(demo_archive), W47).topics}
    debate, commitment = w47["actieplan-mensenhandel"].agenda
    assert (debate.when, debate.status) == ("2026-11-25 10:00", "Gepland")
    assert debate.title == "Commissiedebat: Mensenhandel en prostitutie"
    # An open commitment (toezegging) with its due date is on the agenda too.
    assert (commitment.when, commitment.status, commitment.doc_type) == (
        "2026-11-30", "Openstaand", "Toezegging")
    assert commitment.title.startswith("TZ202610-087: De staatssecretaris zegt toe")
    # By the end of week 48 the debate took place and the commitment was fulfilled (by
    # kst-28638-271): neither is on the agenda; the commitment made in the debate is.
    w48 = {t.slug: t for t in build(str(demo_archive), W48).topics}
    gone = {debate.document_id, commitment.document_id}
    assert all(a.document_id not in gone for t in w48.values() for a in t.agenda)
    [new] = [a for a in w48["hulp-aan-slachtoffers"].agenda if a.doc_type == "Toezegging"]
    assert (new.when, new.status) == ("2026-12-18", "Openstaand")
    assert new.title.startswith("TZ202611-102: De staatssecretaris zegt toe")
    assert "Agenda (komende weken)" in render(build(str(demo_archive), W47), "txt")


def test_the_agenda_has_the_eu_parliaments_forecast(demo_archive: Path) -> None:
    """OEIL's Forecasts: the recast CSA directive's indicative plenary sitting date, moved in
    week 48 from January 2027 to 14 December 2026, is on week 48's agenda, saying what is
    expected then."""
    digest = build(str(demo_archive))
    w48 = {t.slug: t for t in digest.topics}
    [eu] = [a for a in w48["eu-richtlijn-csa"].agenda if a.doc_type == "EU-procedure"]
    assert (eu.when, eu.status, eu.expected) == (
        "2026-12-14", "Voorzien", "Indicative plenary sitting date, 1st reading")
    assert eu.references == ["2024/0035(COD)"]
    assert eu.link == ("https://oeil.secure.europarl.europa.eu/oeil/en/procedure-file"
                       "?reference=2024/0035(COD)")
    # In week 47 the forecast said January 2027: beyond that week's four weeks ahead.
    w47 = build(str(demo_archive), W47)
    assert not [a for t in w47.topics for a in t.agenda if a.doc_type == "EU-procedure"]

    line = ("2026-12-14 — EU-procedure: Bestrijding van seksueel misbruik en seksuele uitbuiting "
            "van kinderen en van materiaal van seksueel misbruik van kinderen (herschikking) "
            "(Voorzien: Indicative plenary sitting date, 1st reading)")
    assert f"  - {line}" in render(digest, "txt")
    assert "\\(Voorzien: Indicative plenary sitting date, 1st reading\\)" in render(digest, "md")
    html = render(digest, "html")
    assert "(Voorzien: Indicative plenary sitting date, 1st reading)<br>" in html
    # In English the statuses are English; what OEIL says stays as OEIL says it.
    english = render(build(str(demo_archive), lang="en"), "txt")
    assert "(Forecast: Indicative plenary sitting date, 1st reading)" in english
    assert "(Planned)" in english and "(Open)" in english
    assert "(Gepland)" not in english and "Voorzien" not in english


def test_the_agenda_says_which_step_of_a_bill_is_planned(demo_archive: Path) -> None:
    """The Eerste Kamer names the next step on a bill beside its date: the agenda says it; a
    title that starts with its kind does not repeat it."""
    digest = build(str(demo_archive))
    w48 = {t.slug: t for t in digest.topics}
    [bill] = [a for a in w48["herziening-273f"].agenda if a.doc_type == "Wetsvoorstel"]
    assert (bill.when, bill.status, bill.expected) == (
        "2026-12-08 13:30", "Gepland", "Plenaire behandeling")
    text = render(digest, "txt")
    assert ("  - 2026-12-08 13:30 — Wetsvoorstel: Wet modernisering en uitbreiding "
            "strafbaarstelling mensenhandel (36.547) (Gepland: Plenaire behandeling)") in text
    [debate] = [a for t in digest.topics for a in t.agenda
                if a.title.startswith("Rondetafelgesprek")][:1]
    assert f"2026-12-02 09:30 — {debate.title} (Gepland)" in text
    assert "Rondetafelgesprek: Rondetafelgesprek" not in text
    assert "Rondetafelgesprek: Rondetafelgesprek" not in render(digest, "html")


def test_a_digest_stored_before_agenda_items_said_what_is_expected_still_loads(
        demo_archive: Path) -> None:
    data = build(str(demo_archive)).to_dict()
    for topic in data["topics"]:
        for item in topic["agenda"]:
            del item["expected"]
    old = Digest.from_dict(data)
    [eu] = next(t for t in old.topics if t.slug == "eu-richtlijn-csa").agenda
    assert (eu.status, eu.expected) == ("Voorzien", None)
    for fmt, note in (("txt", "(Voorzien)"), ("md", "\\(Voorzien\\)"),
                      ("html", "(Voorzien)<br>")):
        shown = render(old, fmt)
        assert note in shown and "Indicative plenary" not in shown


def test_what_a_forecast_expects_is_escaped(archive: str) -> None:
    engine = make_engine(archive)
    hostile = '<img src=x onerror=alert(1)>*[x](javascript:alert(1))*'
    with session_factory(engine).begin() as session:
        source = ensure_source(session, "europarl", kind="spider", title="EP")
        now = datetime(2026, 11, 25, 12, tzinfo=UTC)
        title = "Procedure over mensenhandel"
        obs = Observation(source="europarl", key="2026/0999(COD)",
                          url="https://oeil.example/2026-0999", fetched_at=now, title=title,
                          text="", doc_type="EU-procedure", published_at=now,
                          identifiers=(("procedure", "2026/0999(COD)"),),
                          status={"datum": "2026-12-10", "activiteit_status": "Voorzien",
                                  "verwacht": hostile})
        result = record_observation(session, source, obs, now=now)
        matcher, ids = active_matcher(session)
        record_matches(session, matcher.match(MatchDoc(title=title, text="")), ids,
                       document_id=result.document_id, version_id=result.version_id, now=now)
    engine.dispose()
    digest = build(archive)
    item = next(a for t in digest.topics for a in t.agenda if a.when == "2026-12-10")
    assert item.expected == hostile
    html = render(digest, "html")
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    md = render(digest, "md")
    assert "<img" not in md and "](javascript:" not in md


def test_atom_feeds_per_topic_and_for_all(demo_archive: Path, tmp_path: Path) -> None:
    import io

    import feedparser

    out = tmp_path / "feeds"
    result = cli("feeds", "--out", str(out), "--week", "2026-W48", "--weeks", "2",
                 "-d", str(demo_archive))
    assert result.returncode == 0, result.stderr
    everything = feedparser.parse(io.BytesIO((out / "alle.xml").read_bytes()))
    assert not everything.bozo and everything.feed.title == "Beleidsradar"
    assert len(everything.entries) > 20
    topic = feedparser.parse(io.BytesIO((out / "herziening-273f.xml").read_bytes()))
    assert not topic.bozo and topic.entries
    # Links as the sources give them: rechtspraak.nl deeplinks are plain http.
    assert all(e.link.startswith(("https://", "http://")) for e in topic.entries)
    assert {e.id for e in topic.entries} <= {e.id for e in everything.entries}


def test_search_finds_what_a_topic_with_the_same_query_matches(archive: str) -> None:
    import json

    from storage.models import Match, Topic

    query = '"2024/1712" OR artikel:273f OR dossier:36547'
    found = cli("search", query, "--format", "json", "--limit", "500", "-d", archive)
    assert found.returncode == 0, found.stderr
    data = json.loads(found.stdout)
    searched = {d["document"] for d in data["documents"]}
    assert data["total"] == len(searched) > 5
    assert cli("topics", "add", "parity", "--title", "Parity", "--query", query,
               "-d", archive).returncode == 0
    engine = make_engine(archive)
    with session_factory(engine)() as session:
        topic_id = session.scalars(select(Topic.id).where(Topic.slug == "parity")).one()
        matched = set(session.scalars(select(Match.document_id).where(Match.topic_id == topic_id)))
    engine.dispose()
    assert searched == matched
    csv_out = cli("search", query, "--format", "csv", "--sort", "relevance", "-d", archive)
    assert csv_out.stdout.splitlines()[0] == "document,datum,soort,titel,bron,kenmerken,sterkte,waarom"
    table = cli("search", "dossier:36547", "-d", archive)
    assert "documenten voor: dossier:36547" in table.stdout
    bad = cli("search", "a (", "-d", archive)
    assert bad.returncode == 2 and "query: at position" in bad.stderr
