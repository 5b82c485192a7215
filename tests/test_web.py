"""The web UI: sign-in, roles, CSRF, pages, curation, sources, API, escaping, languages."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from monitors.topics import Topic as TopicDefinition
from reports.deliver import ensure_stored
from reports.periods import week_of
from storage.archive import Observation, ensure_source, record_observation
from storage.db import make_engine, session_factory, upgrade
from storage.errors import SchemaOutOfDate
from storage.models import Judgement, Source, Topic
from storage.runs import add_error, finish_run, start_run
from storage.topics import backfill, save_topic
from storage.users import add_user
from web import create_app
from web.i18n import EN

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
PASSWORD = "correct horse battery"
HOSTILE = '<script>alert("x")</script> mensenhandel <img src=x onerror=alert(1)>'


@dataclass
class Archive:
    url: str
    letter_id: int
    hostile_id: int
    Session: Any

    def client(self) -> FlaskClient:
        app = create_app({"DATABASE_URL": self.url, "SECRET_KEY": "k" * 40,
                          "SECURE_COOKIES": False})
        return app.test_client()


def _observation(key: str, title: str, text: str, *, when: datetime, url: str,
                 ids: tuple[tuple[str, str], ...] = (), doc_type: str = "Brief regering",
                 status: dict[str, str] | None = None) -> Observation:
    return Observation(source="tweedekamer", key=key, url=url, fetched_at=when, title=title,
                       text=text, doc_type=doc_type, published_at=when, identifiers=ids,
                       status=status or {})


def build_archive(url: str) -> Archive:
    engine = make_engine(url)
    upgrade(engine)
    Session = session_factory(engine)
    with Session.begin() as s:
        source = ensure_source(s, "tweedekamer", kind="spider", title="Tweede Kamer")
        letter_ids = (("kamerstuk", "kst-28638-271"), ("dossier", "28638"))
        first = record_observation(s, source, _observation(
            "Document/1", "Voortgang Actieplan Samen tegen Mensenhandel",
            "De staatssecretaris meldt de voortgang van de aanpak van mensenhandel.",
            when=T0, url="https://www.tweedekamer.nl/kamerstukken/brieven_regering/detail?id=1",
            ids=letter_ids), now=T0)
        record_observation(s, source, _observation(
            "Document/1", "Voortgang Actieplan Samen tegen Mensenhandel",
            "De staatssecretaris meldt de voortgang van de aanpak van mensenhandel en "
            "gespecialiseerde opvang voor minderjarige slachtoffers.",
            when=T0 + timedelta(days=2),
            url="https://www.tweedekamer.nl/kamerstukken/brieven_regering/detail?id=1",
            ids=letter_ids), now=T0 + timedelta(days=2))
        hostile = record_observation(s, source, _observation(
            "Document/2", HOSTILE, "Tekst over mensenhandel <b>vet</b>.", when=T0,
            url="javascript:alert(1)", ids=(("dossier", "36547"),)), now=T0)
        record_observation(s, source, _observation(
            "Document/3", "Stikstofbrief", "Over stikstof.", when=T0,
            url="https://www.tweedekamer.nl/3"), now=T0)
        row, _ = save_topic(s, TopicDefinition(slug="mensenhandel", title="Mensenhandel",
                                               query="mensenhandel"), by="test", now=T0)
        backfill(s, [row], now=T0)
        for name, role in (("rita", "reader"), ("erik", "editor"), ("ada", "admin")):
            add_user(s, name, PASSWORD, role, now=T0)
        letter_id, hostile_id = first.document_id, hostile.document_id
    return Archive(url, letter_id, hostile_id, Session)


@pytest.fixture
def archive(tmp_path: Path) -> Archive:
    return build_archive(f"sqlite:///{tmp_path / 'web.db'}")


def csrf(client: FlaskClient, path: str = "/inloggen") -> str:
    page = client.get(path).get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, page[:500]
    return found.group(1)


def login(client: FlaskClient, username: str, password: str = PASSWORD,
          next_path: str | None = None) -> Any:
    token = csrf(client)
    path = "/inloggen" + (f"?next={next_path}" if next_path else "")
    return client.post(path, data={"username": username, "password": password,
                                   "csrf_token": token})


def signed_in(archive: Archive, username: str) -> FlaskClient:
    client = archive.client()
    assert login(client, username).status_code == 302
    return client


# --- the app factory and source health (kept from the foundation) ----------------------------


def test_create_app_needs_a_migrated_archive_and_a_secret(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        create_app({})
    with pytest.raises(ValueError):
        create_app({"DATABASE_URL": str(tmp_path / "x.db")})
    with pytest.raises(SchemaOutOfDate):
        create_app({"DATABASE_URL": str(tmp_path / "empty.db"), "SECRET_KEY": "k" * 40})


def test_source_health_json_and_page_escape_error_text(archive: Archive) -> None:
    now = datetime(2026, 11, 27, 17, 0, tzinfo=UTC)
    with archive.Session.begin() as session:
        source = ensure_source(session, "rechtspraak", kind="spider", title="Rechtspraak")
        run = start_run(session, source, mode="live", now=now)
        add_error(run, "https://example.test/x", "HttpError: 503 <script>")
        finish_run(session, run, now=now, finish_reason="finished", cursor=None)
    client = signed_in(archive, "rita")
    health = {row["bron"]: row for row in client.get("/api/bronnen").json}
    assert health["rechtspraak"] == {
        "bron": "rechtspraak", "titel": "Rechtspraak", "soort": "spider", "records": 0,
        "status": "failed", "laatste_run": "2026-11-27T17:00:00+00:00", "laatst_gelukt": None,
        "fouten": [{"url": "https://example.test/x", "reason": "HttpError: 503 <script>"}],
    }
    page = client.get("/bronnen").get_data(as_text=True)
    assert "HttpError: 503 &lt;script&gt;" in page and "503 <script>" not in page


# --- signing in ----------------------------------------------------------------------------


def test_every_page_needs_a_signed_in_user(archive: Archive) -> None:
    client = archive.client()
    for path in ("/", "/zoeken?q=mensenhandel", f"/documenten/{archive.letter_id}",
                 "/onderwerpen", "/bronnen", "/digests", "/abonnementen", "/dossiers/28638"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/inloggen?next="), path
    api = client.get("/api/topics")
    assert api.status_code == 401 and api.headers["WWW-Authenticate"].startswith("Basic")


def test_sign_in_wrong_password_then_right_and_back_to_the_page_asked_for(
        archive: Archive) -> None:
    client = archive.client()
    wrong = login(client, "rita", "not the password")
    assert wrong.status_code == 401
    assert "Onjuiste gebruikersnaam of wachtwoord." in wrong.get_data(as_text=True)
    assert login(client, "nobody").status_code == 401
    right = login(client, "rita", next_path="/onderwerpen")
    assert right.status_code == 302 and right.headers["Location"] == "/onderwerpen"
    cookie = right.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert client.get("/onderwerpen").status_code == 200


def test_secure_cookies_by_default(archive: Archive) -> None:
    app = create_app({"DATABASE_URL": archive.url, "SECRET_KEY": "k" * 40})
    client = app.test_client()
    response = login(client, "rita")
    assert "Secure" in response.headers["Set-Cookie"]


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/",
                                    "/\\evil.example"])
def test_no_open_redirect_after_sign_in(archive: Archive, target: str) -> None:
    client = archive.client()
    response = login(client, "rita", next_path=target)
    assert response.headers["Location"] == "/"


def test_failed_sign_ins_are_throttled(archive: Archive) -> None:
    from web.common import throttle

    client = archive.client()
    try:
        for _ in range(10):
            login(client, "rita", "wrong password")
        blocked = login(client, "rita")  # right password, but too many failures
        assert blocked.status_code == 401
        assert "Te veel pogingen" in blocked.get_data(as_text=True)
    finally:
        throttle.failures.clear()


def test_a_form_without_the_csrf_token_is_refused(archive: Archive) -> None:
    client = signed_in(archive, "erik")
    response = client.post("/bronnen", data={"kind": "feed", "url": "https://example.invalid/"})
    assert response.status_code == 400
    assert "Het formulier is verlopen" in response.get_data(as_text=True)
    response = client.post("/uitloggen", data={"csrf_token": "forged"})
    assert response.status_code == 400


def test_sign_out_and_password_change_end_the_session(archive: Archive) -> None:
    from storage.users import get_user, set_password

    client = signed_in(archive, "rita")
    assert client.get("/").status_code == 200
    with archive.Session.begin() as session:
        user = get_user(session, "rita")
        assert user is not None
        set_password(user, "another long password")
    assert client.get("/").status_code == 302
    client = signed_in(archive, "erik")
    client.post("/uitloggen", data={"csrf_token": csrf(client, "/")})
    assert client.get("/").status_code == 302


# --- roles ---------------------------------------------------------------------------------


def test_readers_cannot_change_topics_sources_subscriptions_or_users(archive: Archive) -> None:
    client = signed_in(archive, "rita")
    token = csrf(client, "/")
    assert client.get("/onderwerpen/nieuw").status_code == 403
    assert client.post("/onderwerpen/nieuw", data={"csrf_token": token, "slug": "x-y",
                                                  "title": "X", "query": "x",
                                                  "action": "save"}).status_code == 403
    assert client.post("/onderwerpen/mensenhandel/actief",
                       data={"csrf_token": token, "active": "0"}).status_code == 403
    assert client.post("/bronnen", data={"csrf_token": token, "kind": "feed",
                                        "url": "https://example.invalid/"}).status_code == 403
    assert client.post("/abonnementen", data={"csrf_token": token,
                                             "email": "a@b.nl"}).status_code == 403
    assert client.get("/gebruikers").status_code == 403
    page = client.get("/onderwerpen").get_data(as_text=True)
    assert "Nieuw onderwerp" not in page
    editor = signed_in(archive, "erik")
    assert editor.get("/gebruikers").status_code == 403
    assert editor.post("/abonnementen", data={"csrf_token": csrf(editor, "/"),
                                             "email": "a@b.nl"}).status_code == 403


def test_admin_adds_users_and_subscribers(archive: Archive) -> None:
    client = signed_in(archive, "ada")
    token = csrf(client, "/gebruikers")
    client.post("/gebruikers", data={"csrf_token": token, "username": "nina",
                                     "password": "long enough pw", "role": "editor"})
    short = client.post("/gebruikers", data={"csrf_token": token, "username": "kort",
                                             "password": "short", "role": "reader"},
                        follow_redirects=True)
    assert "at least 10 characters" in short.get_data(as_text=True)
    assert "nina" in client.get("/gebruikers").get_data(as_text=True)
    assert login(archive.client(), "nina", "long enough pw").status_code == 302
    client.post("/abonnementen", data={"csrf_token": token, "email": "onderzoek@example.nl",
                                       "name": "Onderzoek", "lang": "en",
                                       "topics": ["mensenhandel"]})
    page = client.get("/abonnementen").get_data(as_text=True)
    assert "onderzoek@example.nl" in page and "mensenhandel" in page


# --- pages ---------------------------------------------------------------------------------


def test_document_page_shows_records_versions_diff_events_and_matches(archive: Archive) -> None:
    client = signed_in(archive, "rita")
    page = client.get(f"/documenten/{archive.letter_id}").get_data(as_text=True)
    assert "Voortgang Actieplan Samen tegen Mensenhandel" in page
    assert "kst-28638-271" in page and 'href="/dossiers/28638"' in page
    assert ("<del>mensenhandel.</del> <ins>mensenhandel en gespecialiseerde opvang voor "
            "minderjarige slachtoffers.</ins>") in page
    assert "Verschil versie 1 → 2" in page
    assert "mensenhandel" in page and 'href="/onderwerpen/mensenhandel"' in page
    side = client.get(f"/documenten/{archive.letter_id}?weergave=naast").get_data(as_text=True)
    assert '<table class="side">' in side
    assert client.get("/documenten/999999").status_code == 404


def test_crawled_text_is_escaped_and_unsafe_links_are_not_linked(archive: Archive) -> None:
    client = signed_in(archive, "rita")
    for path in (f"/documenten/{archive.hostile_id}", "/", "/onderwerpen/mensenhandel",
                 "/dossiers/36547"):
        page = client.get(path).get_data(as_text=True)
        assert "<script>alert" not in page and "<img src=x" not in page, path
        assert "&lt;script&gt;" in page, path
        assert "javascript:alert" not in page, path
    response = client.get("/")
    assert "script-src 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"


def test_dossier_timeline(archive: Archive) -> None:
    client = signed_in(archive, "rita")
    page = client.get("/dossiers/28638").get_data(as_text=True)
    assert "1 documenten in dit dossier" in page
    assert page.index("gepubliceerd") < page.index("gewijzigd")
    assert client.get("/dossiers/niet-een-dossier").status_code == 404
    assert "Niets gevonden" in client.get("/dossiers/2022/0155(COD)").get_data(as_text=True)


def test_home_shows_this_weeks_events_and_the_latest_digest(archive: Archive) -> None:
    with archive.Session() as session:
        del session
    ensure_stored(archive.Session, week_of(T0.date()), T0 + timedelta(days=7))
    client = signed_in(archive, "rita")
    page = client.get("/").get_data(as_text=True)
    assert "Week 2026-W48" in page and "Voortgang Actieplan" in page
    assert "Stikstofbrief" not in page  # events of documents no topic matched stay out
    digests = client.get("/digests").get_data(as_text=True)
    [digest_id] = re.findall(r'href="/digests/(\d+)"', digests)
    shown = client.get(f"/digests/{digest_id}").get_data(as_text=True)
    assert f'src="/digests/{digest_id}/als-verzonden"' in shown and "sandbox=" in shown
    as_sent = client.get(f"/digests/{digest_id}/als-verzonden")
    assert "Voortgang Actieplan" in as_sent.get_data(as_text=True)
    assert "sandbox" in as_sent.headers["Content-Security-Policy"]
    api = client.get("/api/digests").json
    assert api[0]["week"] == "2026-W48" and api[0]["inhoud"]["week"] == "2026-W48"


# --- topics --------------------------------------------------------------------------------


def test_editor_previews_then_saves_a_topic_and_sees_its_history(archive: Archive) -> None:
    client = signed_in(archive, "erik")
    token = csrf(client, "/onderwerpen/nieuw?q=opvang")
    form = {"csrf_token": token, "slug": "opvang-minderjarigen", "title": "Opvang",
            "query": "opvang AND minderjarige", "examples_match": "opvang voor minderjarige"}
    preview = client.post("/onderwerpen/nieuw", data=form | {"action": "preview"})
    text = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "1 documenten in het archief zouden passen" in text
    assert "Voortgang Actieplan" in text
    with archive.Session() as session:
        assert session.query(Topic).filter_by(slug="opvang-minderjarigen").count() == 0
    saved = client.post("/onderwerpen/nieuw", data=form | {"action": "save"})
    assert saved.status_code == 302 and saved.headers["Location"] == \
        "/onderwerpen/opvang-minderjarigen"
    page = client.get("/onderwerpen/opvang-minderjarigen").get_data(as_text=True)
    assert "Voortgang Actieplan" in page and "created" in page and "erik" in page
    edit = client.post("/onderwerpen/opvang-minderjarigen/bewerken",
                       data={"csrf_token": token, "title": "Opvang", "query": "opvang",
                             "action": "save"})
    assert edit.status_code == 302
    history = client.get("/onderwerpen/opvang-minderjarigen").get_data(as_text=True)
    assert "edited" in history
    client.post("/onderwerpen/opvang-minderjarigen/actief", data={"csrf_token": token,
                                                                 "active": "0"})
    assert "disabled" in client.get("/onderwerpen/opvang-minderjarigen").get_data(as_text=True)


def test_a_query_error_is_shown_with_its_position_and_nothing_is_saved(archive: Archive) -> None:
    client = signed_in(archive, "erik")
    token = csrf(client, "/onderwerpen/nieuw")
    response = client.post("/onderwerpen/nieuw", data={
        "csrf_token": token, "slug": "kapot", "title": "Kapot", "query": "mensenhandel AND (",
        "action": "save"})
    assert response.status_code == 422
    assert "Fout in de zoekvraag" in response.get_data(as_text=True)
    assert "position" in response.get_data(as_text=True)
    with archive.Session() as session:
        assert session.query(Topic).filter_by(slug="kapot").count() == 0


# --- curation ------------------------------------------------------------------------------


def test_judgements_and_notes_reach_the_topic_page_and_the_api(archive: Archive) -> None:
    client = signed_in(archive, "rita")
    token = csrf(client, "/")
    client.post(f"/documenten/{archive.hostile_id}/oordeel", data={
        "csrf_token": token, "topic": "mensenhandel", "verdict": "not_relevant",
        "note": "Geen beleid: <i>spam</i>"})
    client.post(f"/documenten/{archive.letter_id}/oordeel", data={
        "csrf_token": token, "topic": "mensenhandel", "verdict": "relevant", "note": ""})
    empty = client.post(f"/documenten/{archive.letter_id}/oordeel",
                        data={"csrf_token": token, "topic": "", "verdict": "", "note": " "},
                        follow_redirects=True)
    assert "give a verdict or a note" in empty.get_data(as_text=True)
    topic = client.get("/onderwerpen/mensenhandel").get_data(as_text=True)
    assert "2 van 2 treffers beoordeeld" in topic and "<strong>50%</strong>" in topic
    assert "Geen beleid: &lt;i&gt;spam&lt;/i&gt;" in topic
    listing = client.get("/onderwerpen").get_data(as_text=True)
    assert "50%" in listing
    document = client.get(f"/api/documents/{archive.hostile_id}").json
    assert document["oordelen"][0]["notitie"] == "Geen beleid: <i>spam</i>"
    assert document["oordelen"][0]["door"] == "rita"
    # A colleague changes her mind: the newest verdict counts, history stays.
    erik = signed_in(archive, "erik")
    erik.post(f"/documenten/{archive.hostile_id}/oordeel", data={
        "csrf_token": csrf(erik, "/"), "topic": "mensenhandel", "verdict": "relevant",
        "note": ""})
    assert "<strong>0%</strong>" in client.get("/onderwerpen/mensenhandel").get_data(
        as_text=True)
    with archive.Session() as session:
        assert session.query(Judgement).count() == 3


# --- sources -------------------------------------------------------------------------------


def test_editor_adds_a_feed_and_a_private_address_is_refused(archive: Archive) -> None:
    client = signed_in(archive, "erik")
    token = csrf(client, "/bronnen")
    refused = client.post("/bronnen", data={"csrf_token": token, "kind": "feed",
                                            "url": "http://127.0.0.1:8080/feed"},
                          follow_redirects=True)
    assert "refused" in refused.get_data(as_text=True)
    bad_selector = client.post("/bronnen", data={
        "csrf_token": token, "kind": "page", "url": "https://example.invalid/p",
        "selector": "div[["}, follow_redirects=True)
    assert "not valid CSS" in bad_selector.get_data(as_text=True)
    added = client.post("/bronnen", data={"csrf_token": token, "kind": "page",
                                          "url": "https://example.invalid/nieuws",
                                          "selector": "main article", "title": "Nieuws"},
                        follow_redirects=True)
    text = added.get_data(as_text=True)
    assert "Toegevoegd: page-example-invalid-nieuws" in text
    assert "Let op:" in text  # the name does not resolve now: accepted, checked on each crawl
    with archive.Session() as session:
        source = session.query(Source).filter_by(slug="page-example-invalid-nieuws").one()
        assert source.kind == "page" and source.config == {"selector": "main article"}
    client.post("/bronnen/page-example-invalid-nieuws/verwijderen", data={"csrf_token": token})
    with archive.Session() as session:
        assert not session.query(Source).filter_by(slug="page-example-invalid-nieuws").one(
        ).active


# --- API and languages ---------------------------------------------------------------------


def test_api_with_http_basic_auth(archive: Archive) -> None:
    import base64

    client = archive.client()

    def basic(user: str, password: str) -> dict[str, str]:
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        return {"Authorization": f"Basic {token}"}

    assert client.get("/api/topics", headers=basic("rita", "wrong")).status_code == 401
    topics = client.get("/api/topics", headers=basic("rita", PASSWORD)).json
    assert topics[0]["slug"] == "mensenhandel" and topics[0]["treffers_sterk"] == 2
    document = client.get(f"/api/documents/{archive.letter_id}",
                          headers=basic("rita", PASSWORD)).json
    assert [v["nummer"] for v in document["records"][0]["versies"]] == [1, 2]
    assert document["records"][0]["kenmerken"] == {"kamerstuk": ["kst-28638-271"],
                                                   "dossier": ["28638"]}
    assert [e["soort"] for e in document["gebeurtenissen"]] == ["new", "changed"]


def test_english_is_selectable_and_every_dutch_text_has_an_english_one(archive: Archive) -> None:
    client = signed_in(archive, "rita")
    response = client.get("/taal/en?next=/onderwerpen")
    assert response.headers["Location"] == "/onderwerpen"
    page = client.get("/onderwerpen").get_data(as_text=True)
    assert ">Search<" in page and ">Topics<" in page and "Zoeken" not in page
    templates = Path(__file__).resolve().parent.parent / "web" / "templates"
    used = set()
    for path in templates.glob("*.html"):
        used |= set(re.findall(r"_\('([^']+)'", path.read_text(encoding="utf-8")))
    for path in (Path(__file__).resolve().parent.parent / "web").glob("*.py"):
        used |= set(re.findall(r'\b_\("([^"]+)"', path.read_text(encoding="utf-8")))
    missing = sorted(text for text in used if text not in EN)
    assert not missing, missing


def test_pages_work_on_postgresql_too(postgres_schema_url: str) -> None:
    archive = build_archive(postgres_schema_url)
    client = signed_in(archive, "rita")
    for path in ("/", f"/documenten/{archive.letter_id}", "/onderwerpen",
                 "/onderwerpen/mensenhandel", "/dossiers/28638", "/bronnen", "/digests",
                 "/api/topics"):
        assert client.get(path).status_code == 200, path


def test_search_page_facets_export_and_colleagues_notes(archive: Archive) -> None:
    client = signed_in(archive, "rita")
    token = csrf(client, "/")
    client.post(f"/documenten/{archive.letter_id}/oordeel", data={
        "csrf_token": token, "topic": "", "verdict": "",
        "note": "Opvang minderjarigen: bespreken in het jaarverslag"})
    page = client.get("/zoeken?q=mensenhandel").get_data(as_text=True)
    assert "2 documenten" in page
    assert "Voortgang Actieplan" in page and "&lt;script&gt;" in page and "<script>" not in page
    assert "<mark>" in page  # the hit is highlighted in the snippet
    assert 'href="/zoeken?q=mensenhandel&amp;bron=tweedekamer"' in page  # a facet link
    notes = client.get("/zoeken?q=jaarverslag+AND+opvang").get_data(as_text=True)
    assert "bespreken in het jaarverslag" in notes and 'id="notities"' in notes
    by_date = client.get("/zoeken?q=mensenhandel&sorteer=datum&bron=tweedekamer")
    assert by_date.status_code == 200
    bad = client.get("/zoeken?q=mensenhandel+AND+(")
    assert bad.status_code == 400 and "Fout in de zoekvraag" in bad.get_data(as_text=True)
    csv_export = client.get("/api/search?q=mensenhandel&format=csv")
    assert csv_export.headers["Content-Type"].startswith("text/csv")
    lines = csv_export.get_data(as_text=True).splitlines()
    assert lines[0].startswith("document,datum,soort,titel") and len(lines) == 3
    # A crawled title starting with "=" cannot become a spreadsheet formula.
    assert all(not cell.startswith("=") for line in lines for cell in line.split(","))
    data = client.get("/api/search?q=mensenhandel&format=json").json
    assert data["total"] == 2 and {d["document"] for d in data["documents"]} == {
        archive.letter_id, archive.hostile_id}
    assert data["facets"]["source"] == [["tweedekamer", 2]]
    changed = client.get("/api/search?q=mensenhandel&gebeurtenis=changed").json
    assert [d["document"] for d in changed["documents"]] == [archive.letter_id]


def test_a_topic_previewed_as_one_query_with_its_variants_and_exclusions() -> None:
    from web.views import topic_as_query

    topic = TopicDefinition(slug="t", title="T", query="mensenhandel",
                            variants={"en": '"human trafficking"'}, exclusions="stikstof")
    assert topic_as_query(topic) == \
        '((mensenhandel) OR ("human trafficking")) AND NOT (stikstof)'
    assert topic_as_query(TopicDefinition(slug="t", title="T", query="a")) == "(a)"
