"""The Eerste Kamer bill-page spider: requests, every field, planned steps, layouts, drift, demo."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse, Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawler.items import PolicyItem
from crawler.pipelines import NormalizePipeline
from crawler.replay import read_manifest, read_response
from crawler.spiders.eerstekamer import EerstekamerSpider, find_when
from tests.helpers import make_spider

FIXTURES = Path(__file__).parent / "fixtures" / "eerstekamer"
DEMO = FIXTURES / "demo"
SITE = "https://www.eerstekamer.nl"
PAGE_36547 = f"{SITE}/wetsvoorstel/36547_wet_modernisering_en"
PAGE_36835 = f"{SITE}/wetsvoorstel/36835_implementatiewet_herziene"
WEEK47 = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)
WEEK48 = datetime(2026, 11, 27, 17, 0, tzinfo=UTC)
SHORT = "Wet modernisering en uitbreiding strafbaarstelling mensenhandel"


def spider(clock: datetime = WEEK48, **settings) -> EerstekamerSpider:
    s = make_spider(EerstekamerSpider)
    s.clock = clock
    for name, value in settings.items():
        setattr(s, name, value)
    return s


def requests_of(s: EerstekamerSpider) -> list[Request]:
    async def collect() -> list[Request]:
        return [r async for r in s.start()]

    return asyncio.run(collect())


def visit(s: EerstekamerSpider, body: bytes | str, *, dossier: str = "36547",
          url: str = PAGE_36547, content_type: str = "text/html; charset=utf-8") -> list:
    """What the spider makes of ``body`` as the (redirected) page of bill ``dossier``."""
    if isinstance(body, str):
        body = body.encode("utf-8")
    request = Request(f"{SITE}/wetsvoorstel/{dossier}", callback=s.parse_bill,
                      errback=s.on_error, cb_kwargs={"dossier": dossier})
    cls = HtmlResponse if "html" in content_type else TextResponse
    response = cls(url=url, body=body, request=request, headers={"Content-Type": content_type},
                   encoding="utf-8")
    return list(request.callback(response, **request.cb_kwargs))


def page(name: str) -> str:
    path = DEMO / name if (DEMO / name).exists() else FIXTURES / name
    return path.read_text(encoding="utf-8")


def by_key(items: list[PolicyItem]) -> dict[str, PolicyItem]:
    return {item.key: item for item in items}


# --- requests ---------------------------------------------------------------------------------


def test_one_request_per_monitored_bill_by_its_bare_number() -> None:
    s = spider()
    assert s.bills == ["36547", "36835"]  # the 273f bill and the 2024/1712 implementation bill
    first, second = requests_of(s)
    assert [first.url, second.url] == [f"{SITE}/wetsvoorstel/36547", f"{SITE}/wetsvoorstel/36835"]
    assert first.callback == s.parse_bill and first.errback == s.on_error
    assert first.cb_kwargs == {"dossier": "36547"} and second.cb_kwargs == {"dossier": "36835"}
    assert s.custom_settings["DOWNLOAD_DELAY"] >= 1.0  # SOURCES.md §9: 1 request a second


def test_the_url_pattern_and_slugged_entries_are_settings() -> None:
    s = spider(bill_url="https://ek.example/wv/{nummer}/",
               bills=["36547_wet_modernisering_en", "kamerstuk-x"])
    [request] = requests_of(s)
    assert request.url == "https://ek.example/wv/36547_wet_modernisering_en/"
    assert request.cb_kwargs == {"dossier": "36547"}
    [(url, reason)] = s.failures
    assert url is None and "'kamerstuk-x' does not start with a dossier number" in reason


# --- the bill and its kamerstukken ---------------------------------------------------------


def test_the_bill_item_every_field_in_week48() -> None:
    s = spider()
    items = visit(s, page("wetsvoorstel-36547-week48.html"))
    assert [i.key for i in items] == ["wetsvoorstel-36547", "kst-36547-A", "kst-36547-B",
                                      "kst-36547-C", "kst-36547-D", "kst-36547-E"]
    bill = items[0]
    assert bill.source == "eerstekamer"
    assert bill.url == PAGE_36547  # where the redirect landed
    assert bill.title == f"{SHORT} (36.547)"
    assert bill.text == (
        f"{SHORT} (36.547)\n"
        "Wijziging van het Wetboek van Strafrecht en het Wetboek van Strafrecht BES en andere "
        "wetten in verband met de modernisering van de strafbaarstelling van mensenhandel en de "
        "introductie van de zelfstandige strafbaarstelling van ernstige benadeling en van "
        "voordeeltrekking\n"
        "Wetsvoorstel 36547 (Eerste Kamer)\n"
        "Commissie: Justitie en Veiligheid (J&V)\n"
        "Ministerie: Justitie en Veiligheid")
    assert bill.doc_type == "Wetsvoorstel"
    assert bill.published_at == datetime(2025, 6, 17, tzinfo=UTC)  # "Datum aanhangig"
    assert bill.identifiers == {"dossier": ["36547"]}
    assert bill.status == {
        "stadium": "Voorbereidend onderzoek afgerond; plenaire behandeling gepland",
        "activiteit": "Plenaire behandeling",
        "datum": "2026-12-08 13:30",
        "activiteit_status": "Gepland",
    }
    assert bill.fingerprint is None and bill.removed is False
    assert bill.fetched_at.tzinfo is not None
    meta = bill.meta
    assert meta["status"] == "In behandeling"
    assert meta["stand_van_zaken"] == bill.status["stadium"]
    assert meta["commissie"] == "Justitie en Veiligheid (J&V)"
    assert meta["ministerie"] == "Justitie en Veiligheid"
    assert meta["volledige_titel"].startswith("Wijziging van het Wetboek van Strafrecht")
    assert meta["eerste_kamer_stukken"] == [f"kst-36547-{x}" for x in "ABCDE"]
    assert meta["overige_stukken"] == []
    assert meta["tweede_kamer_stukken"] == 3
    assert meta["activiteiten"][0] == {
        "datum": "2025-06-24",
        "omschrijving": "Procedurevergadering commissie J&V: inbreng voor het voorlopig verslag "
                        "op 15 juli 2025"}
    assert meta["activiteiten"][-1] == {"datum": "2026-12-08 13:30",
                                        "omschrijving": "Plenaire behandeling"}
    # Planned label and planned activity name the same step once; the vote comes after it.
    assert meta["gepland"] == [{"activiteit": "Plenaire behandeling", "datum": "2026-12-08 13:30"},
                               {"activiteit": "Stemming", "datum": "2026-12-15"}]
    assert meta["page_title"].endswith(f"{SHORT} (36.547)")
    json.dumps(meta)  # stored as JSON
    assert s.failures == []


def test_a_kamerstuk_item_every_field_joins_by_its_kamerstuk_identifier() -> None:
    s = spider()
    items = by_key(visit(s, page("wetsvoorstel-36547-week48.html")))
    stuk = items["kst-36547-E"]
    assert stuk.source == "eerstekamer"
    assert stuk.url == f"{SITE}/behandeling/20261124/memorie_van_antwoord/info"
    assert stuk.title == f"Memorie van antwoord — {SHORT}"
    assert stuk.text == f"Memorie van antwoord\n{SHORT}\nKamerstuk Eerste Kamer 36547, E"
    assert stuk.doc_type == "Memorie van antwoord"
    assert stuk.published_at == datetime(2026, 11, 24, tzinfo=UTC)
    assert stuk.identifiers == {"kamerstuk": ["kst-36547-E"], "dossier": ["36547"]}
    assert stuk.status == {}
    assert stuk.meta == {"letter": "E", "wetsvoorstel": "36547", "bill_page": PAGE_36547,
                         "datum": "2026-11-24",
                         "links": {"eerstekamer": stuk.url}}
    assert items["kst-36547-A"].doc_type == "Gewijzigd voorstel van wet"
    assert items["kst-36547-C"].title == f"Nota naar aanleiding van het verslag — {SHORT}"
    normalize = NormalizePipeline.from_crawler(s.crawler)
    for item in items.values():
        assert normalize.process_item(item) is item


def test_week47_has_nothing_planned_and_the_facets_say_so_explicitly() -> None:
    items = by_key(visit(spider(clock=WEEK47), page("wetsvoorstel-36547-week47.html")))
    assert sorted(items) == ["kst-36547-A", "kst-36547-B", "kst-36547-C", "kst-36547-D",
                             "wetsvoorstel-36547"]
    # The archive merges facets: a step that is no longer planned must be cleared, so the
    # agenda facets are always sent, empty when nothing lies ahead.
    assert items["wetsvoorstel-36547"].status == {
        "stadium": "Voorbereidend onderzoek; nader voorlopig verslag uitgebracht, memorie van "
                   "antwoord gevraagd",
        "activiteit": "", "datum": "", "activiteit_status": ""}


@pytest.mark.parametrize(("today", "expected"), [
    (datetime(2026, 12, 8, 9, 0, tzinfo=UTC), ("Plenaire behandeling", "2026-12-08 13:30")),
    (datetime(2026, 12, 9, 9, 0, tzinfo=UTC), ("Stemming", "2026-12-15")),  # no time given
    (datetime(2026, 12, 15, 22, 30, tzinfo=UTC), ("Stemming", "2026-12-15")),  # 23:30 there
    (datetime(2026, 12, 15, 23, 30, tzinfo=UTC), ("", "")),  # 00:30 in Amsterdam: the 15th is over
])
def test_only_steps_from_today_on_are_planned(today: datetime, expected: tuple[str, str]) -> None:
    [bill, *_] = visit(spider(clock=today), page("wetsvoorstel-36547-week48.html"))
    assert (bill.status["activiteit"], bill.status["datum"]) == expected
    assert bill.status["activiteit_status"] == ("Gepland" if expected[0] else "")


def test_a_committee_step_in_the_activities_is_planned_too() -> None:
    items = visit(spider(), page("wetsvoorstel-36835.html"), dossier="36835", url=PAGE_36835)
    bill, stuk = items
    assert bill.key == "wetsvoorstel-36835" and stuk.key == "kst-36835-A"
    assert bill.status == {
        "stadium": "Voorbereidend onderzoek; inbreng voorlopig verslag op 15 december 2026",
        "activiteit": "Inbreng voorlopig verslag commissie J&V",
        "datum": "2026-12-15", "activiteit_status": "Gepland"}
    assert "Richtlijn (EU) 2024/1712" in bill.text  # what topic matching reads


def test_another_layout_with_the_same_meaning_gives_the_same_items() -> None:
    """Table instead of dl, h3 'Kamerstukken Eerste Kamer', no '(EK, X)' markers but
    lower-case officielebekendmakingen links, numeric dates, the plan only in the procedure."""
    s = spider()
    items = by_key(visit(s, page("wetsvoorstel-36547-other-layout.html")))
    assert sorted(items) == ["kst-36547-A", "kst-36547-B", "kst-36547-E", "wetsvoorstel-36547"]
    stuk = items["kst-36547-E"]
    assert stuk.identifiers == {"kamerstuk": ["kst-36547-E"], "dossier": ["36547"]}
    assert stuk.url == "https://zoek.officielebekendmakingen.nl/kst-36547-e.html"
    assert stuk.meta["links"] == {"officielebekendmakingen": stuk.url}
    assert stuk.published_at == datetime(2026, 11, 24, tzinfo=UTC)
    bill = items["wetsvoorstel-36547"]
    assert bill.title == f"{SHORT} (36.547)"
    assert bill.status == {
        "stadium": "Voorbereidend onderzoek afgerond; plenaire behandeling gepland",
        "activiteit": "Plenaire behandeling", "datum": "2026-12-08 13:30",
        "activiteit_status": "Gepland"}
    assert bill.meta["commissie"] == "Justitie en Veiligheid (J&V)"
    # Listed documents without a kamerstuk letter are kept as such, not failures.
    assert bill.meta["overige_stukken"] == ["25-11-2026 Brief van de commissie aan de minister",
                                            "24-11-2026 Korte aantekening commissie J&V"]
    assert "Volg de Eerste Kamer" not in bill.text  # the footer is not the page
    assert s.failures == []


def test_a_row_whose_letter_and_link_disagree_fails_alone() -> None:
    html = page("wetsvoorstel-36547-week48.html").replace(
        'href="/behandeling/20250716/voorlopig_verslag/info"',
        'href="https://zoek.officielebekendmakingen.nl/kst-36547-c.html"')
    s = spider()
    items = by_key(visit(s, html))
    assert "kst-36547-B" not in items and "kst-36547-E" in items and "wetsvoorstel-36547" in items
    [(url, reason)] = s.failures
    assert url == PAGE_36547
    assert reason == ("bill 36547: Eerste Kamer stuk '16 juli 2025 Voorlopig verslag (EK, B)': "
                      "says letter B but links to kst-36547-C")


# --- failures ---------------------------------------------------------------------------------

WEEK48_HTML = page("wetsvoorstel-36547-week48.html")


@pytest.mark.parametrize(("html", "reason"), [
    (WEEK48_HTML.replace("<dt class=\"cell medium-4\">Status</dt>", "<dt>Opmerking</dt>")
     .replace("<dt class=\"cell medium-4\">Stand van zaken</dt>", "<dt>Toelichting</dt>"),
     "no 'Stand van zaken' or 'Status' on the page"),
    (WEEK48_HTML.replace("<h2>Eerste Kamer stukken</h2>", "<h2>Documenten</h2>")
     .replace("<h2>Tweede Kamer stukken</h2>", "<h2>Meer</h2>")
     .replace("<h2>Activiteiten</h2>", "<h2>Verloop</h2>")
     .replace("<h2>Planning</h2>", "<h2>Vooruitblik</h2>"),
     "no 'Eerste Kamer stukken', 'Tweede Kamer stukken' or 'Activiteiten' section"),
    (WEEK48_HTML.replace("<h2>Eerste Kamer stukken</h2>", "<h2>Documenten</h2>")
     .replace("<h2>Tweede Kamer stukken</h2>", "<h2>Meer</h2>"),
     "no Eerste Kamer stukken and no 'Tweede Kamer stukken' found"),
    (WEEK48_HTML.replace("(EK, ", "(I, "),
     "the 'Eerste Kamer stukken' section has rows, but none with a kamerstuk letter"),
    (WEEK48_HTML.replace("(36.547)", "").replace("<dt class=\"cell medium-4\">Kamerstuknummer",
                                                 "<dt>Kenmerk"),
     "no bill title with a dossier number"),
    (WEEK48_HTML.replace("(36.547)", "(36.548)").replace(">36.547<", ">36.548<"),
     "the page is about bill 36548, not 36547 (wrong redirect or URL pattern?)"),
    (("<html><head><title>Zoeken</title></head><body><main><h1>Zoekresultaten</h1>"
      "<p>Geen resultaten</p></main></body></html>"), "no bill title with a dossier number"),
])
def test_a_page_without_the_expected_parts_fails_loudly(html: str, reason: str) -> None:
    s = spider()
    assert visit(s, html) == []  # no half-empty items
    [(url, why)] = s.failures
    assert url == PAGE_36547
    assert why.startswith("bill 36547: ") and reason in why
    if "has the page" not in reason:
        assert why.endswith("has the page layout changed?")


def test_an_empty_body_is_not_a_page() -> None:
    s = spider()
    assert visit(s, "") == []
    assert s.failures == [(PAGE_36547, "bill 36547: not an HTML page (text/html; charset=utf-8; "
                                       "the body is empty)")]


def test_a_bill_still_at_the_tweede_kamer_has_no_ek_items_but_is_followed() -> None:
    start, end = WEEK48_HTML.index("<h2>Eerste Kamer stukken</h2>"), WEEK48_HTML.index(
        "<h2>Activiteiten</h2>")
    s = spider()
    items = visit(s, WEEK48_HTML[:start] + WEEK48_HTML[end:])
    assert [i.key for i in items] == ["wetsvoorstel-36547"]
    assert items[0].meta["eerste_kamer_stukken"] == [] and s.failures == []


@pytest.mark.parametrize(("body", "content_type", "what"), [
    (b'{"error": "maintenance"}', "application/json", 'JSON ({"error": "maint…)'),
    (b'{"error": "maintenance"}', "text/html", 'JSON ({"error": "maint…)'),
    (b"%PDF-1.7 \x00\x01\x02", "application/pdf", r"binary data (%PDF-1.7 \x00\x01\x02…)"),
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "application/octet-stream",
     r"binary data (%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1…)"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "text/html; charset=utf-8",
     r"binary data (\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR…)"),
    (b"Bill 36547 is not available", "application/octet-stream",
     "plain text (Bill 36547 is no…)"),
])
def test_garbage_is_a_failure(body: bytes, content_type: str, what: str) -> None:
    s = spider()
    assert visit(s, body, content_type=content_type) == []
    [(url, reason)] = s.failures
    assert url == PAGE_36547
    assert reason == f"bill 36547: not an HTML page ({content_type}; the body is {what})"


@pytest.mark.parametrize("content_type", ["application/octet-stream", "binary/octet-stream",
                                          "text/plain", None])
@pytest.mark.parametrize("response_class", [Response, TextResponse, HtmlResponse])
def test_a_page_labelled_as_something_else_is_still_read(
        content_type: str | None, response_class: type[Response]) -> None:
    """A server that mislabels its HTML (Scrapy picks the response class from the label and
    the body, so any of the three may arrive) does not fail the source: the body decides."""
    labelled = spider()
    expected = visit(labelled, WEEK48_HTML)
    assert labelled.failures == [] and expected

    s = spider()
    request = Request(f"{SITE}/wetsvoorstel/36547", callback=s.parse_bill, errback=s.on_error,
                      cb_kwargs={"dossier": "36547"})
    headers = {"Content-Type": content_type} if content_type else {}
    response = response_class(url=PAGE_36547, body=WEEK48_HTML.encode("utf-8"), request=request,
                              headers=headers)
    items = list(request.callback(response, **request.cb_kwargs))
    assert s.failures == []
    assert [(i.key, i.title, i.text, i.status) for i in items] == [
        (i.key, i.title, i.text, i.status) for i in expected]


def test_an_error_status_is_a_failure_through_the_errback() -> None:
    s = spider()
    [request, _] = requests_of(s)
    response = HtmlResponse(url=request.url, status=404, body=b"<html>Niet gevonden</html>",
                            request=request)
    failure = Failure(HttpError(response, "Ignoring non-200 response"))
    failure.request = request  # what Scrapy attaches before calling the errback
    request.errback(failure)
    assert s.failures == [(f"{SITE}/wetsvoorstel/36547",
                           "HTTP 404 Not Found")]


def test_dates_in_the_spellings_the_page_uses() -> None:
    assert find_when("dinsdag 8 december 2026, 13.30 uur")[0].facet == "2026-12-08 13:30"
    assert find_when("08-12-2026 om 13:30")[0].facet == "2026-12-08 13:30"
    assert find_when("2026-12-08")[0].facet == "2026-12-08"
    assert find_when("15 December 2026 (inbreng)")[0].facet == "2026-12-15"
    assert find_when("31 februari 2026") is None
    assert find_when("Justitie en Veiligheid") is None


# --- the demo weeks ---------------------------------------------------------------------------


def replay_visit(folder: Path, clock: datetime) -> tuple[list[PolicyItem], EerstekamerSpider]:
    """Every request of a visit answered from the recording (redirects followed), as the engine
    would: a request without a recorded response fails the test."""
    s = spider(clock=clock)
    items: list[PolicyItem] = []
    for request in requests_of(s):
        url = request.url
        for _ in range(3):
            found = read_response(folder, url)
            assert found is not None, f"no recorded response for {url}"
            meta, body = found
            if meta["status"] in (301, 302):
                url = meta["headers"]["Location"][0]
                continue
            assert meta["status"] == 200
            response = HtmlResponse(url=url, body=body, request=request,
                                    headers=meta["headers"])
            items += list(request.callback(response, **request.cb_kwargs))
            break
    return items, s


def test_the_demo_answers_every_request_of_both_visits(tmp_path: Path) -> None:
    from scripts.demo_eerstekamer import write

    write(tmp_path / "1", 1, WEEK47)
    write(tmp_path / "2", 2, WEEK48)
    assert read_manifest(tmp_path / "1")["sources"] == {"eerstekamer": {}}
    first, s1 = replay_visit(tmp_path / "1", WEEK47)
    second, s2 = replay_visit(tmp_path / "2", WEEK48)
    assert s1.failures == [] and s2.failures == []
    one, two = by_key(first), by_key(second)
    # Week 48: the memorie van antwoord is new, the 273f bill moved to a planned plenary.
    assert set(two) - set(one) == {"kst-36547-E"}
    assert one["wetsvoorstel-36547"].status["datum"] == ""
    assert two["wetsvoorstel-36547"].status["datum"] == "2026-12-08 13:30"
    assert one["wetsvoorstel-36547"].text == two["wetsvoorstel-36547"].text  # a status change
    assert two["wetsvoorstel-36547"].url == PAGE_36547
    # The implementation bill did not change.
    for key in ("wetsvoorstel-36835", "kst-36835-A"):
        a, b = one[key], two[key]
        assert (a.title, a.text, a.status, a.url) == (b.title, b.text, b.status, b.url)


def test_fixture_notes_name_every_file() -> None:
    notes = (FIXTURES / "NOTES.md").read_text(encoding="utf-8")
    for path in FIXTURES.rglob("*.html"):
        assert path.name in notes, path.name


# --- in the archive ---------------------------------------------------------------------------


def test_in_the_archive_week48_is_a_status_event_a_new_stuk_joined_with_its_publication(
        engine) -> None:
    from lxml import etree
    from sqlalchemy import select

    from crawler.pipelines import _observation
    from crawler.spiders.officielebekendmakingen import OfficielebekendmakingenSpider
    from storage.archive import Outcome, ensure_source, record_observation
    from storage.db import session_factory
    from storage.models import ChangeEvent, Record

    def store(item: PolicyItem, now: datetime):
        with session_factory(engine).begin() as session:
            source = ensure_source(session, item.source, kind="spider", title=item.source)
            return record_observation(session, source, _observation(item), now=now)

    for item in visit(spider(clock=WEEK47), page("wetsvoorstel-36547-week47.html")):
        assert store(item, WEEK47).outcome == Outcome.NEW
    results = {item.key: store(item, WEEK48)
               for item in visit(spider(), page("wetsvoorstel-36547-week48.html"))}
    assert results["wetsvoorstel-36547"].outcome == Outcome.STATUS  # no new version
    assert results["kst-36547-E"].outcome == Outcome.NEW
    assert {results[f"kst-36547-{x}"].outcome for x in "ABCD"} == {Outcome.UNCHANGED}
    # officielebekendmakingen publishes the same memorie van antwoord: one document.
    records = etree.fromstring((FIXTURES.parent / "officielebekendmakingen" /
                                "sru-page1-of-2.xml").read_bytes())
    ob = make_spider(OfficielebekendmakingenSpider)
    [published] = [ob.record_item(r, WEEK48) for r in records.iter("{*}record")
                   if b"kst-36547-E" in etree.tostring(r)]
    joined = store(published, WEEK48)
    assert joined.document_id == results["kst-36547-E"].document_id
    with session_factory(engine)() as session:
        bill = session.scalars(select(Record).where(Record.key == "wetsvoorstel-36547")).one()
        assert bill.scheduled_at == datetime(2026, 12, 8, 12, 30, tzinfo=UTC)  # 13:30 CET
        [event] = session.scalars(select(ChangeEvent).where(
            ChangeEvent.record_id == bill.id, ChangeEvent.kind == "status")).all()
        assert event.detail["changes"] == {
            "stadium": [("Voorbereidend onderzoek; nader voorlopig verslag uitgebracht, "
                         "memorie van antwoord gevraagd"),
                        "Voorbereidend onderzoek afgerond; plenaire behandeling gepland"],
            "activiteit": ["", "Plenaire behandeling"],
            "datum": ["", "2026-12-08 13:30"],
            "activiteit_status": ["", "Gepland"],
        }


@pytest.mark.slow
def test_the_demo_weeks_through_the_real_crawler(tmp_path: Path) -> None:
    """`beleidsradar crawl --replay` on the demo weeks: the recorded redirect is followed by
    Scrapy itself, the run is clean, and week 48 changes only what the story says."""
    from sqlalchemy import select

    from scripts.demo_eerstekamer import write
    from storage.db import make_engine, session_factory
    from storage.models import ChangeEvent, CrawlRun, Record
    from tests.helpers import run_cli

    database = f"sqlite:///{tmp_path / 'archive.db'}"
    env = {"BELEIDSRADAR_DATABASE_URL": database}
    assert run_cli("init", env=env).returncode == 0
    for number, at in ((1, WEEK47), (2, WEEK48)):
        folder = tmp_path / f"visit{number}"
        write(folder, number, at)
        manifest = folder / "manifest.json"
        manifest.write_text(json.dumps({**json.loads(manifest.read_text(encoding="utf-8")),
                                        "recorded_at": at.isoformat()}), encoding="utf-8")
        result = run_cli("crawl", "--replay", str(folder), "eerstekamer", env=env)
        assert result.returncode == 0, result.stdout + result.stderr
    engine = make_engine(database)
    with session_factory(engine)() as session:
        runs = session.scalars(select(CrawlRun).order_by(CrawlRun.id)).all()
        assert [(r.status, r.fetched, r.new, r.status_changes, r.failed) for r in runs] == [
            ("ok", 2, 7, 0, 0), ("ok", 2, 1, 1, 0)]  # redirects not counted
        urls = {r.key: r.url for r in session.scalars(select(Record))}
        assert urls["wetsvoorstel-36547"] == PAGE_36547 and urls["wetsvoorstel-36835"] == PAGE_36835
        second = session.scalars(select(ChangeEvent).where(
            ChangeEvent.crawl_run_id == runs[1].id)).all()
        assert sorted((e.kind, e.record.key) for e in second) == [
            ("new", "kst-36547-E"), ("status", "wetsvoorstel-36547")]
    engine.dispose()
