"""The internetconsultatie.nl spider: overviews and paging, consultation + description pages,
the keyword filter and its cursor, open → closed as a status facet, layout drift and failures."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from pathlib import Path

import lxml.html
import pytest
from scrapy import Request
from scrapy.http import HtmlResponse, Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawler.items import PolicyItem
from crawler.pipelines import NormalizePipeline
from crawler.replay import read_manifest, read_response
from crawler.spiders._pages import dates_in, keyword_hits, labelled_fields, next_page
from crawler.spiders.internetconsultatie import InternetconsultatieSpider, status_word
from scripts import demo_internetconsultatie as demo
from tests.helpers import make_spider

FIXTURES = Path(__file__).parent / "fixtures" / "internetconsultatie"
PAGES = FIXTURES / "demo"
SITE = "https://www.internetconsultatie.nl"


def spider(**kwargs) -> InternetconsultatieSpider:
    return make_spider(InternetconsultatieSpider, **kwargs)


def starts(s: InternetconsultatieSpider) -> list[Request]:
    async def collect() -> list[Request]:
        return [r async for r in s.start()]

    return asyncio.run(collect())


def answer(request: Request, body: bytes | str, status: int = 200) -> list:
    if isinstance(body, str):
        body = body.encode("utf-8")
    response = HtmlResponse(url=request.url, body=body, status=status, request=request,
                            encoding="utf-8", headers={"Content-Type": "text/html; charset=utf-8"})
    return list(request.callback(response, **request.cb_kwargs))


def page(name: str) -> str:
    return (PAGES / name).read_text(encoding="utf-8")


def follow(s: InternetconsultatieSpider, slug: str, main: str, b1: str | None = None,
           overview: str = "week48-open.html") -> list:
    """Overview → the consultation's page → its description page; what the last one yields."""
    open_request, _ = starts(s)
    listed = [r for r in answer(open_request, page(overview)) if r.cb_kwargs.get("slug") == slug]
    assert listed, f"{slug} not in {overview}"
    [description] = answer(listed[0], main)
    return answer(description, b1 if b1 is not None else page(f"{slug}-b1.html"))


def test_the_two_overviews_are_where_the_settings_say() -> None:
    open_request, closed_request = starts(spider())
    assert open_request.url == f"{SITE}/"
    assert closed_request.url == f"{SITE}/geslotenconsultaties/"
    assert open_request.cb_kwargs == {"overview": "open", "page": 1}
    assert closed_request.cb_kwargs == {"overview": "gesloten", "page": 1}
    assert open_request.errback is not None and closed_request.errback is not None
    assert InternetconsultatieSpider.custom_settings == {"DOWNLOAD_DELAY": 1.0}


def test_an_overview_lists_consultations_by_slug_and_skips_site_pages() -> None:
    s = spider()
    open_request, _ = starts(s)
    requests = answer(open_request, page("week48-open.html"))
    assert [r.cb_kwargs["slug"] for r in requests] == [
        "verwijzingsmechanisme_mensenhandel", "energielabel_utiliteitsgebouwen",
        "geluidregels_windturbines", "huurprijzen_woonruimte_2027"]
    assert requests[0].url == f"{SITE}/verwijzingsmechanisme_mensenhandel"
    assert requests[0].cb_kwargs["listed_title"] == (
        "Ontwerpbesluit nationaal verwijzingsmechanisme voor slachtoffers van mensenhandel")
    assert all(r.errback is not None for r in requests)  # and no /geslotenconsultaties/ link


def test_consultation_links_are_found_by_address_not_markup() -> None:
    body = lxml.html.fromstring(
        "<html><body><nav><a href='/mensenhandel'>niet in de inhoud</a></nav><main>"
        "<p><a href='https://internetconsultatie.nl/Mensenhandel/'>Modernisering 273f</a></p>"
        "<table><tr><td><a href='/wet_x'>Wet X</a></td></tr></table>"
        "<a href='/wet_x/b1'>tab</a><a href='/favicon.ico'>icoon</a><a href='/?pagina=2'>2</a>"
        "<a href='/Privacy'>Privacy</a><a href='https://www.overheid.nl/andere'>elders</a>"
        "</main></body></html>")
    assert spider().consultation_links(body, f"{SITE}/") == [
        ("mensenhandel", "https://internetconsultatie.nl/Mensenhandel/", "Modernisering 273f"),
        ("wet_x", f"{SITE}/wet_x", "Wet X"),
    ]


def test_a_new_open_consultation_every_field() -> None:
    s = spider()
    open_request, _ = starts(s)
    consultation = answer(open_request, page("week48-open.html"))[0]
    [description] = answer(consultation, page("verwijzingsmechanisme_mensenhandel.html"))
    assert description.url == f"{SITE}/verwijzingsmechanisme_mensenhandel/b1"
    [item] = answer(description, page("verwijzingsmechanisme_mensenhandel-b1.html"))
    assert isinstance(item, PolicyItem)
    assert item.source == "internetconsultatie"
    assert item.key == "verwijzingsmechanisme_mensenhandel"
    assert item.url == f"{SITE}/verwijzingsmechanisme_mensenhandel"
    assert item.fetched_at.tzinfo is not None
    assert item.title == ("Ontwerpbesluit nationaal verwijzingsmechanisme voor slachtoffers van "
                          "mensenhandel")
    assert item.doc_type == "Internetconsultatie"
    assert item.published_at == datetime(2026, 11, 24, tzinfo=UTC)
    assert item.identifiers == {"internetconsultatie": ["verwijzingsmechanisme_mensenhandel"]}
    assert item.status == {"stadium": "open", "datum": "2026-12-22 23:59",
                           "activiteit_status": "Gepland"}
    lines = item.text.splitlines()
    assert lines[:4] == [item.title, "Organisatie: Ministerie van Justitie en Veiligheid",
                         "Type regeling: AMvB", "Onderwerpen: Criminaliteit; Slachtofferzorg"]
    assert "Wat is de aanleiding?" in lines  # the description, headings and all
    assert any("Richtlijn (EU) 2024/1712" in line for line in lines)
    assert lines[-3:] == [
        "Document: Ontwerpbesluit nationaal verwijzingsmechanisme slachtoffers mensenhandel",
        "Document: Nota van toelichting",
        "Document: Bijlage: schema signalering, identificatie en verwijzing"]
    # Tab labels, navigation, footer and the cookie banner are not description.
    for noise in ("Beschrijving", "Reacties", "Gesloten consultaties", "Privacy", "cookies"):
        assert noise not in lines
    assert item.meta == {
        "ministerie": "Ministerie van Justitie en Veiligheid",
        "type_regeling": "AMvB",
        "onderwerpen": "Criminaliteit; Slachtofferzorg",
        "startdatum": "2026-11-24",
        "einddatum": "2026-12-22",
        "looptijd": "24 november 2026 t/m 22 december 2026",
        "status_op_pagina": "Open",
        "overzichten": ["open"],
        "reacties": "6",
        "documenten": [
            {"titel": "Ontwerpbesluit nationaal verwijzingsmechanisme slachtoffers mensenhandel",
             "url": f"{SITE}/verwijzingsmechanisme_mensenhandel/document/13512"},
            {"titel": "Nota van toelichting",
             "url": f"{SITE}/verwijzingsmechanisme_mensenhandel/document/13513"},
            {"titel": "Bijlage: schema signalering, identificatie en verwijzing",
             "url": f"{SITE}/verwijzingsmechanisme_mensenhandel/document/13514"},
        ],
        "beschrijving_url": f"{SITE}/verwijzingsmechanisme_mensenhandel/b1",
        "trefwoorden": ["mensenhandel", "seksueel", "kinderen", "jeugd", "minderjarig",
                        "uitbuiting", "Nationaal Rapporteur", "2024/1712"],
    }
    assert NormalizePipeline.from_crawler(s.crawler).process_item(item) is item
    assert s.failures == []


def test_open_then_closed_is_a_status_change_not_a_new_text() -> None:
    [week47] = follow(spider(), "jeugdwet_reikwijdte_jeugdhulp",
                      page("jeugdwet_reikwijdte_jeugdhulp-week47.html"),
                      overview="week47-open.html")
    s = spider()
    _, closed_request = starts(s)
    listed = answer(closed_request, page("week48-gesloten-1.html"))
    [description] = answer(listed[0], page("jeugdwet_reikwijdte_jeugdhulp-week48.html"))
    [week48] = answer(description, page("jeugdwet_reikwijdte_jeugdhulp-b1.html"))
    assert week47.key == week48.key == "jeugdwet_reikwijdte_jeugdhulp"
    assert week47.status == {"stadium": "open", "datum": "2026-11-24 23:59",
                             "activiteit_status": "Gepland"}
    assert week48.status == {"stadium": "gesloten", "datum": "2026-11-24 23:59",
                             "activiteit_status": "Gesloten"}
    # The response count moved (412 → 537) but it is not content: same title, same text.
    assert (week47.title, week47.text) == (week48.title, week48.text)
    assert (week47.meta["reacties"], week48.meta["reacties"]) == ("412", "537")
    assert week48.meta["overzichten"] == ["gesloten"]
    assert week47.doc_type == "Internetconsultatie"
    assert {"jeugd", "seksueel", "uitbuiting"} <= set(week47.meta["trefwoorden"])


def test_without_a_stated_status_the_overview_that_lists_it_decides() -> None:
    main = page("jeugdwet_reikwijdte_jeugdhulp-week48.html").replace(
        "<dt>Status</dt>\n          <dd>Gesloten</dd>\n", "")
    assert "<dt>Status</dt>" not in main
    s = spider()
    _, closed_request = starts(s)
    listed = answer(closed_request, page("week48-gesloten-1.html"))
    [description] = answer(listed[0], main)
    [item] = answer(description, page("jeugdwet_reikwijdte_jeugdhulp-b1.html"))
    assert item.status["stadium"] == "gesloten" and item.meta["status_op_pagina"] is None


def test_closed_overview_pages_until_the_last_or_the_limit() -> None:
    s = spider()
    _, closed_request = starts(s)
    first = answer(closed_request, page("week47-gesloten-1.html"))
    consultations = [r for r in first if r.callback == s.parse_consultation]
    [next_page_request] = [r for r in first if r.callback == s.parse_overview]
    assert [r.cb_kwargs["slug"] for r in consultations] == ["accijns_tabak_2027",
                                                            "visserij_aanlandplicht"]
    assert next_page_request.url == f"{SITE}/geslotenconsultaties/?pagina=2"
    assert next_page_request.cb_kwargs == {"overview": "gesloten", "page": 2}
    last = answer(next_page_request, page("week47-gesloten-2.html"))
    assert [r.cb_kwargs["slug"] for r in last] == ["implementatie_richtlijn_mensenhandel"]

    limited = spider()
    limited.page_limits["gesloten"] = 1
    _, closed_request = starts(limited)
    requests = answer(closed_request, page("week47-gesloten-1.html"))
    assert all(r.callback == limited.parse_consultation for r in requests)
    assert limited.crawler.stats.get_value("watch/internetconsultatie/page_limit") == 1


def test_a_consultation_in_both_overviews_is_fetched_once() -> None:
    s = spider()
    open_request, closed_request = starts(s)
    answer(open_request, page("week47-open.html"))
    again = answer(closed_request, page("week48-gesloten-1.html"))  # lists the Jeugdwet one too
    assert [r.cb_kwargs["slug"] for r in again if r.callback == s.parse_consultation] == [
        "accijns_tabak_2027"]


def test_off_topic_is_counted_not_stored_and_not_fetched_again() -> None:
    s = spider()
    assert follow(s, "huurprijzen_woonruimte_2027", page("huurprijzen_woonruimte_2027.html")) == []
    assert s.crawler.stats.get_value("watch/internetconsultatie/off_topic") == 1
    cursor = s.next_cursor()
    assert cursor == {"keywords": s.keyword_digest, "off_topic": ["huurprijzen_woonruimte_2027"]}

    later = spider(cursor=cursor)
    open_request, _ = starts(later)
    slugs = [r.cb_kwargs["slug"] for r in answer(open_request, page("week48-open.html"))]
    assert "huurprijzen_woonruimte_2027" not in slugs and len(slugs) == 3
    assert later.crawler.stats.get_value("watch/internetconsultatie/off_topic_known") == 1
    assert later.next_cursor()["off_topic"] == ["huurprijzen_woonruimte_2027"]

    # Another keyword list: the old verdicts no longer hold.
    changed = spider(cursor=cursor)
    changed.keywords = [*changed.keywords, "huurprijs"]
    open_request, _ = starts(changed)
    assert len(answer(open_request, page("week48-open.html"))) == 4
    # A verdict on a consultation no longer listed is dropped; a run that listed nothing keeps all.
    pruned = spider(cursor={**cursor, "off_topic": ["weg", "huurprijzen_woonruimte_2027"]})
    assert pruned.next_cursor()["off_topic"] == ["weg", "huurprijzen_woonruimte_2027"]
    open_request, _ = starts(pruned)
    answer(open_request, page("week48-open.html"))
    assert pruned.next_cursor()["off_topic"] == ["huurprijzen_woonruimte_2027"]


def test_keywords_are_case_insensitive_substrings() -> None:
    words = ["uitbuiting", "jeugd", "Nationaal Rapporteur", "273f", "2024/1712"]
    assert keyword_hits("Aanpak van ARBEIDSUITBUITING in de Jeugdhulp", words) == [
        "uitbuiting", "jeugd"]
    assert keyword_hits("de nationaal rapporteur en artikel 273f Sr; Richtlijn 2024/1712",
                        words) == ["Nationaal Rapporteur", "273f", "2024/1712"]
    assert keyword_hits("Huurprijzen woonruimte", words) == []


def test_dutch_dates_and_labels() -> None:
    assert dates_in("24 november 2026 t/m 22 december 2026") == [date(2026, 11, 24),
                                                                 date(2026, 12, 22)]
    assert dates_in("van 2-3-2026 tot en met 13 apr. 2026, en 2026-05-01; niet 31-02-2026") == [
        date(2026, 3, 2), date(2026, 4, 13), date(2026, 5, 1)]
    root = lxml.html.fromstring(
        "<div><dl><dt>Looptijd:</dt><dd>1 mei 2026</dd><dd>tot 2 juni 2026</dd></dl>"
        "<table><tr><th>Organisatie</th><td>Ministerie van Financiën</td></tr></table>"
        "<p><strong>Status:</strong> Gesloten</p></div>")
    assert labelled_fields(root) == {"looptijd": "1 mei 2026 tot 2 juni 2026",
                                     "organisatie": "Ministerie van Financiën",
                                     "status": "Gesloten"}
    assert (status_word("Gesloten"), status_word("Open voor reacties"), status_word("?")) == (
        "gesloten", "open", None)
    nav = lxml.html.fromstring('<div><a href="?p=3" aria-label="Volgende pagina">›</a></div>')
    assert next_page(nav, f"{SITE}/geslotenconsultaties/") == f"{SITE}/geslotenconsultaties/?p=3"


@pytest.mark.parametrize(("cut", "replacement", "reason"), [
    ("<dt>Looptijd</dt>\n          <dd>24 november 2026 t/m 22 december 2026</dd>", "",
     "states no consultation period (Looptijd"),
    ("<dt>Organisatie</dt>\n          <dd>Ministerie van Justitie en Veiligheid</dd>", "",
     "names no ministry (Organisatie)"),
    ('<h1>Ontwerpbesluit nationaal verwijzingsmechanisme voor slachtoffers van mensenhandel</h1>',
     "", "has no title (h1)"),
])
def test_a_consultation_page_that_drifted_fails_naming_the_part(
        cut: str, replacement: str, reason: str) -> None:
    main = page("verwijzingsmechanisme_mensenhandel.html")
    assert cut in main
    s = spider()
    open_request, _ = starts(s)
    consultation = answer(open_request, page("week48-open.html"))[0]
    assert answer(consultation, main.replace(cut, replacement)) == []
    [(url, why)] = s.failures
    assert url == f"{SITE}/verwijzingsmechanisme_mensenhandel" and reason in why
    assert s.next_cursor() == {}  # a failed run keeps the cursor


def test_a_description_page_without_description_fails() -> None:
    b1 = page("verwijzingsmechanisme_mensenhandel-b1.html")
    emptied = b1.split('<div class="consultation__description">')[0] + "</article></main></body></html>"
    s = spider()
    assert follow(s, "verwijzingsmechanisme_mensenhandel",
                  page("verwijzingsmechanisme_mensenhandel.html"), emptied) == []
    [(url, why)] = s.failures
    assert url.endswith("/verwijzingsmechanisme_mensenhandel/b1")
    assert "has no description text" in why


def test_an_overview_without_consultations_fails() -> None:
    s = spider()
    open_request, _ = starts(s)
    maintenance = ("<html><body><main><h1>Onderhoud</h1><p>Internetconsultatie.nl is tijdelijk "
                   "niet beschikbaar.</p><a href='/Contact'>Contact</a></main></body></html>")
    assert answer(open_request, maintenance) == []
    [(url, why)] = s.failures
    assert url == f"{SITE}/" and "links to no consultation" in why


def test_garbage_is_a_failure() -> None:
    s = spider()
    open_request, closed_request = starts(s)
    json_body = TextResponse(url=open_request.url, body=b'{"error": "rate limited"}',
                             request=open_request, encoding="utf-8",
                             headers={"Content-Type": "application/json"})
    assert list(open_request.callback(json_body, **open_request.cb_kwargs)) == []
    binary = Response(url=closed_request.url, body=b"%PDF-1.7", request=closed_request,
                      headers={"Content-Type": "application/pdf"})
    assert list(closed_request.callback(binary, **closed_request.cb_kwargs)) == []
    assert [why for _, why in s.failures] == [
        "overview of open consultations is not an HTML page (application/json)",
        "overview of gesloten consultations is not an HTML page (application/pdf)"]


def test_an_error_status_fails_that_request_only_and_holds_the_cursor() -> None:
    s = spider(cursor={"keywords": "x", "off_topic": []})
    open_request, _ = starts(s)
    first, second = answer(open_request, page("week48-open.html"))[:2]
    response = HtmlResponse(url=first.url, status=404, body=b"Niet gevonden", request=first)
    failure = Failure(HttpError(response, "Ignoring non-200 response"))
    failure.request = first  # what Scrapy attaches before calling the errback
    first.errback(failure)
    [(url, why)] = s.failures
    assert url == f"{SITE}/verwijzingsmechanisme_mensenhandel" and why == "HTTP 404 Not Found"
    [description] = answer(second, page("energielabel_utiliteitsgebouwen.html"))
    assert answer(description, page("energielabel_utiliteitsgebouwen-b1.html")) == []
    assert s.next_cursor() == {"keywords": "x", "off_topic": []}


def replay(s: InternetconsultatieSpider, folder: Path) -> tuple[list[PolicyItem], list[str]]:
    """Crawl a recording through the spider's callbacks; the items and any unrecorded URLs."""
    pending, items, missing = starts(s), [], []
    while pending:
        request = pending.pop(0)
        found = read_response(folder, request.url)
        if found is None:
            missing.append(request.url)
            continue
        meta, body = found
        response = HtmlResponse(url=request.url, status=meta["status"], body=body,
                                headers=meta["headers"], request=request)
        for result in request.callback(response, **request.cb_kwargs):
            (pending if isinstance(result, Request) else items).append(result)
    return items, missing


def test_the_demo_weeks_answer_every_request(tmp_path: Path) -> None:
    weeks = {1: datetime(2026, 11, 20, 17, tzinfo=UTC), 2: datetime(2026, 11, 27, 17, tzinfo=UTC)}
    for visit, recorded_at in weeks.items():
        demo.write(tmp_path / str(visit), visit, recorded_at)

    first = spider()
    items, missing = replay(first, tmp_path / "1")
    assert missing == [] and first.failures == []
    assert {i.key: i.status["stadium"] for i in items} == {
        "jeugdwet_reikwijdte_jeugdhulp": "open", "implementatie_richtlijn_mensenhandel": "gesloten"}
    assert first.crawler.stats.get_value("watch/internetconsultatie/off_topic") == 4
    assert "cursor" not in read_manifest(tmp_path / "1")["sources"]["internetconsultatie"]

    # Visit 2 starts where visit 1 left off: the manifest's cursor is visit 1's next cursor.
    cursor = read_manifest(tmp_path / "2")["sources"]["internetconsultatie"]["cursor"]
    assert cursor == first.next_cursor()
    second = spider(cursor=cursor)
    items, missing = replay(second, tmp_path / "2")
    assert missing == [] and second.failures == []
    assert {i.key: i.status["stadium"] for i in items} == {
        "verwijzingsmechanisme_mensenhandel": "open", "jeugdwet_reikwijdte_jeugdhulp": "gesloten",
        "implementatie_richtlijn_mensenhandel": "gesloten"}
    assert second.crawler.stats.get_value("watch/internetconsultatie/off_topic") == 1
    assert second.crawler.stats.get_value("watch/internetconsultatie/off_topic_known") == 4
    new = next(i for i in items if i.key == "verwijzingsmechanisme_mensenhandel")
    assert new.published_at == datetime(2026, 11, 24, tzinfo=UTC)
    # Without the cursor (a fresh archive) visit 2 is fully recorded as well.
    fresh = spider()
    items, missing = replay(fresh, tmp_path / "2")
    assert missing == [] and len(items) == 3


def test_fixture_notes_name_every_file() -> None:
    notes = (FIXTURES / "NOTES.md").read_text(encoding="utf-8")
    for path in FIXTURES.rglob("*.html"):
        assert path.name in notes, path.name


def without_classes(html: str) -> str:
    """The page after a redesign that renamed every class and id (the fault matrix's
    format change, tests/faults.py)."""
    import re

    return re.sub(r"""\s(?:class|id)\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]+)""", "", html)


@pytest.mark.parametrize(("slug", "main", "overview"), [
    ("verwijzingsmechanisme_mensenhandel", "verwijzingsmechanisme_mensenhandel.html",
     "week48-open.html"),  # open: "Deze consultatie is geopend. U kunt reageren tot en met …"
    ("jeugdwet_reikwijdte_jeugdhulp", "jeugdwet_reikwijdte_jeugdhulp-week48.html",
     "week48-gesloten-1.html"),  # closed: "Deze consultatie is gesloten. …"
])
def test_a_lead_paragraph_that_lost_its_class_is_still_read_and_the_drift_logged(
        slug: str, main: str, overview: str) -> None:
    def crawl(page_html: str) -> tuple[PolicyItem, InternetconsultatieSpider]:
        s = spider()
        requests = [r for r in starts(s) if r.cb_kwargs["overview"] == (
            "gesloten" if "gesloten" in overview else "open")]
        listed = [r for r in answer(requests[0], page(overview)) if r.cb_kwargs.get("slug") == slug]
        [description] = answer(listed[0], page_html)
        [item] = answer(description, page(f"{slug}-b1.html"))
        return item, s

    marked, clean = crawl(page(main))
    assert clean.failures == []
    lead = lxml.html.fromstring(page(main)).xpath("//p[contains(@class, 'intro')]")[0]
    assert lead.text_content() in marked.text.splitlines()

    drifted, s = crawl(without_classes(page(main)))
    assert "class=" not in without_classes(page(main))
    # The same text (no false "changed" version), not the notice about responding …
    assert drifted.text == marked.text
    assert "Deze consultatie is" not in drifted.text
    # … and, as nothing was lost, a warning and a crawl stat rather than a failure every run
    # (the class is [UNCONFIRMED]: the live site may never have used it).
    assert s.failures == []
    assert s.crawler.stats.get_value("watch/drift/lead_paragraph_unmarked") == 1


def test_a_page_without_any_lead_paragraph_is_drift_but_the_item_is_kept() -> None:
    main = page("verwijzingsmechanisme_mensenhandel.html")
    lead = ('<p class="consultation__intro">Met dit ontwerpbesluit wordt een formeel nationaal '
            "verwijzingsmechanisme ingericht voor de vroegtijdige identificatie, ondersteuning "
            "en doorverwijzing van slachtoffers van mensenhandel.</p>")
    assert lead in main
    s = spider()
    [item] = follow(s, "verwijzingsmechanisme_mensenhandel", main.replace(lead, ""))
    assert "vroegtijdige identificatie" not in item.text
    assert "Deze consultatie is geopend" not in item.text  # the notice is no lead
    assert "Reageer op deze consultatie" not in item.text  # nor a button
    [(url, why)] = s.failures
    assert url == f"{SITE}/verwijzingsmechanisme_mensenhandel"
    assert why == ("consultation page marks no lead paragraph (class 'intro' or 'lead') and its "
                   "content has no paragraph that could be one; has the layout changed?")


def test_an_empty_overview_is_no_answer() -> None:
    s = spider()
    open_request, _ = starts(s)
    empty = page("week48-open.html")
    root = lxml.html.fromstring(empty)
    for link in root.xpath("//main//a"):
        link.drop_tree()
    assert answer(open_request, lxml.html.tostring(root, encoding="unicode")) == []
    [(url, why)] = s.failures
    assert url == f"{SITE}/" and "links to no consultation" in why
    # Not a response that came back: a run of only such answers is failed, not partial.
    assert s.crawler.stats.get_value("watch/answers/unusable") == 1
