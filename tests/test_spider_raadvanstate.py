"""The Raad van State adviezen spider: overview and paging by publication date, the advies page
read by labels, kenmerk/dossier/dictum, the keyword filter, the cursor, layout drift and failures."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
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
from crawler.spiders.raadvanstate import RaadvanstateSpider, dictum_kind
from monitors.identifiers import kamerstuk, rvs_kenmerk
from scripts import demo_raadvanstate as demo
from tests.helpers import make_spider

FIXTURES = Path(__file__).parent / "fixtures" / "raadvanstate"
PAGES = FIXTURES / "demo"
SITE = "https://www.raadvanstate.nl"
LISTING = f"{SITE}/adviezen/zoeken-in-adviezen/"
ADVIES = f"{SITE}/adviezen/@143210/w16-26-00312-ii/"


def spider(**kwargs) -> RaadvanstateSpider:
    return make_spider(RaadvanstateSpider, **kwargs)


def starts(s: RaadvanstateSpider) -> list[Request]:
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
    path = PAGES / name if (PAGES / name).exists() else FIXTURES / name
    return path.read_text(encoding="utf-8")


def advice_request(s: RaadvanstateSpider, advice_id: str = "143210") -> Request:
    [listing] = starts(s)
    requests = answer(listing, page("week48-zoeken.html"))
    return next(r for r in requests if r.cb_kwargs.get("advice_id") == advice_id)


def the_advice(body: str | None = None, **kwargs) -> tuple[RaadvanstateSpider, list]:
    s = spider(cursor={"published": "2026-11-16"}, **kwargs)
    request = advice_request(s)
    return s, answer(request, body if body is not None else page("advies-w16-26-00312-ii.html"))


@pytest.mark.parametrize(("spelling", "canonical"), [
    ("W16.23.00354/II", "W16.23.00354/II"),
    ("w16-23-00354-ii", "W16.23.00354/II"),
    ("advies van 13 maart 2019, nr. W16.19.0054/II)", "W16.19.0054/II"),
    ("No.W04.12.0508/I 's-Gravenhage", "W04.12.0508/I"),
    ("W13.21.0153/III", "W13.21.0153/III"),
    ("/adviezen/@143210/w06-26-00305-iv/", "W06.26.00305/IV"),
    ("W16.23.00354", None),
    ("AW16.23.00354/II", None),
])
def test_rvs_kenmerk_spellings(spelling: str, canonical: str | None) -> None:
    assert rvs_kenmerk(spelling) == canonical


OPMERKINGEN = ("De Afdeling advisering van de Raad van State heeft een aantal opmerkingen bij het "
               "voorstel en adviseert daarmee rekening te houden voordat het voorstel bij de "
               "Tweede Kamer der Staten-Generaal wordt ingediend.")
GEEN = ("De Afdeling advisering van de Raad van State heeft geen opmerkingen bij het "
        "ontwerpbesluit en adviseert het vast te stellen.")
TENZIJ = ("De Afdeling advisering van de Raad van State heeft bezwaren tegen het voorstel en "
          "adviseert het voorstel niet bij de Tweede Kamer der Staten-Generaal in te dienen, "
          "tenzij het is aangepast.")
NEGATIEF = ("De Afdeling advisering van de Raad van State adviseert het voorstel niet bij de "
            "Tweede Kamer der Staten-Generaal in te dienen.")


@pytest.mark.parametrize(("sentence", "kind"), [
    (OPMERKINGEN, "opmerkingen"),
    (GEEN, "geen opmerkingen"),
    (TENZIJ, "niet indienen, tenzij aangepast"),
    (NEGATIEF, "negatief"),
    ("De Afdeling advisering van de Raad van State heeft zwaarwegende bezwaren.", "bezwaren"),
    ("De Afdeling advisering van de Raad van State is van oordeel dat.", None),
])
def test_dictum_in_a_few_words(sentence: str, kind: str | None) -> None:
    assert dictum_kind(sentence) == kind


def test_the_overview_since_the_cursor_minus_overlap() -> None:
    s = spider(cursor={"published": "2026-11-16"})
    [listing] = starts(s)
    assert listing.url == LISTING and listing.cb_kwargs == {"page": 1}
    assert listing.errback is not None
    assert s.since() == date(2026, 11, 14)
    requests = answer(listing, page("week48-zoeken.html"))
    # 23 and 16 November are in; 9 November is older: no details, and no next page either.
    assert [r.url for r in requests] == [
        ADVIES,
        f"{SITE}/adviezen/@143207/w06-26-00305-iv/",
        f"{SITE}/adviezen/@143120/w06-26-00287-iv/",
        f"{SITE}/adviezen/@143118/w10-26-00281-iv/",
    ]
    assert requests[0].cb_kwargs["listed_title"].startswith(
        "Wijziging van het Wetboek van Strafrecht en het Wetboek van Strafvordering")
    assert all(r.errback is not None for r in requests)
    assert RaadvanstateSpider.custom_settings == {"DOWNLOAD_DELAY": 1.0}
    # The first run, without a cursor, looks WATCH_TK_INITIAL_DAYS back.
    assert spider().since(date(2026, 11, 27)) == date(2026, 11, 20)


def test_paging_follows_next_until_older_adviezen_or_the_limit() -> None:
    s = spider(cursor={"published": "2026-10-01"})
    [listing] = starts(s)
    first = answer(listing, page("week48-zoeken.html"))
    [following] = [r for r in first if r.callback == s.parse_listing]
    assert following.url == f"{LISTING}?pager_page=1" and following.cb_kwargs == {"page": 2}
    assert len([r for r in first if r.callback == s.parse_advice]) == 5
    second = answer(following, page("zoeken-pagina-2.html"))
    # 2 Nov, 26 Oct and 19 Oct are in; 28 Sep is older, so page 3 is not asked for.
    assert [r.cb_kwargs["advice_id"] for r in second] == ["142990", "142931", "142902"]

    limited = spider(cursor={"published": "2026-10-01"})
    limited.max_pages = 1
    [listing] = starts(limited)
    assert all(r.callback == limited.parse_advice
               for r in answer(listing, page("week48-zoeken.html")))
    assert limited.crawler.stats.get_value("watch/raadvanstate/page_limit") == 1


def test_an_advies_every_field() -> None:
    s, [item] = the_advice()
    assert isinstance(item, PolicyItem)
    assert item.source == "raadvanstate"
    assert item.key == "W16.26.00312/II"
    assert item.url == ADVIES
    assert item.fetched_at.tzinfo is not None
    assert item.title == (
        "Wijziging van het Wetboek van Strafrecht en het Wetboek van Strafvordering ter "
        "implementatie van Richtlijn (EU) 2024/1712 van het Europees Parlement en de Raad van "
        "13 juni 2024 tot wijziging van Richtlijn 2011/36/EU inzake de voorkoming en bestrijding "
        "van mensenhandel en de bescherming van slachtoffers ervan")
    assert item.doc_type == "Advies Afdeling advisering Raad van State"
    assert item.published_at == datetime(2026, 11, 23, tzinfo=UTC)  # a Monday
    assert item.published_at.weekday() == 0
    assert item.identifiers == {"rvs_kenmerk": ["W16.26.00312/II"], "dossier": ["37071"]}
    assert item.status == {"dictum": "opmerkingen"}
    dictum = OPMERKINGEN
    lines = item.text.splitlines()
    assert lines[:4] == [item.title, "Kenmerk: W16.26.00312/II",
                         "Ministerie: Justitie en Veiligheid", "Soort advies: Wetsvoorstel"]
    # The summary: the opening paragraphs, up to the first sub-heading of the advice.
    assert lines[4].startswith("Bij Kabinetsmissive van 1 oktober 2026")
    assert lines[6].startswith("De Afdeling advisering van de Raad van State maakt opmerkingen")
    assert lines[7:] == [f"Dictum: {dictum}"]
    assert "1. Inhoud van het voorstel" not in item.text
    assert item.meta == {
        "advies_id": "143210",
        "datum_advies": "2026-11-18",
        "datum_publicatie": "2026-11-23",
        "ministerie": "Justitie en Veiligheid",
        "soort_advies": "Wetsvoorstel",
        "dictum": dictum,
        "vindplaats": "37071",
        "trefwoorden": ["mensenhandel", "273f", "uitbuiting", "2024/1712"],
    }
    assert NormalizePipeline.from_crawler(s.crawler).process_item(item) is item
    assert s.failures == [] and s.next_cursor() == {"published": "2026-11-23"}


def test_a_cited_kamerstuk_a_stated_dictum_and_a_summary_section() -> None:
    body = page("advies-w16-26-00312-ii.html").replace(
        "<dd>37071</dd>",
        "<dd>Kamerstukken II 2026/27, 37071, nr. 4</dd>\n      <dt>Dictum</dt>\n"
        "      <dd>Met opmerkingen</dd>",
    ).replace('<section class="advies__tekst">',
              '<section><h2>Samenvatting</h2><p>De Afdeling maakt opmerkingen over de samenloop '
              'met het wetsvoorstel mensenhandel.</p></section>\n    <section class="advies__tekst">')
    _, [item] = the_advice(body)
    assert item.identifiers == {"rvs_kenmerk": ["W16.26.00312/II"], "kamerstuk": ["kst-37071-4"],
                                "dossier": ["37071"]}
    assert kamerstuk("Kamerstukken II 2026/27, 37071, nr. 4") == "kst-37071-4"
    assert item.meta["dictum"] == "Met opmerkingen" and item.status == {"dictum": "opmerkingen"}
    assert item.text.splitlines()[4:] == [
        "De Afdeling maakt opmerkingen over de samenloop met het wetsvoorstel mensenhandel.",
        "Dictum: Met opmerkingen"]


@pytest.mark.parametrize(("stated", "identifiers"), [
    ("Staatscourant 2024, 13885", {"officielebekendmakingen": ["stcrt-2024-13885"]}),
    ("stcrt-2024-13885", {"officielebekendmakingen": ["stcrt-2024-13885"]}),
    ("36 800 VI", {"dossier": ["36800-VI"]}),
    ("Kamerstukken I 2025/26, 36547, E", {"dossier": ["36547"]}),
    ("nog niet bekend", {}),
])
def test_what_the_kamerstuk_label_may_hold(stated: str, identifiers: dict) -> None:
    _, [item] = the_advice(page("advies-w16-26-00312-ii.html").replace(
        "<dd>37071</dd>", f"<dd>{stated}</dd>"))
    assert item.identifiers == {"rvs_kenmerk": ["W16.26.00312/II"], **identifiers}
    assert item.meta["vindplaats"] == stated


def test_without_labels_the_address_and_the_text_still_say_kenmerk_and_ministry() -> None:
    body = page("advies-w16-26-00312-ii.html")
    for cut in ("<dt>Kenmerk</dt>\n      <dd>W16.26.00312/II</dd>",
                "<dt>Ministerie</dt>\n      <dd>Justitie en Veiligheid</dd>",
                "<dt>Kamerstuknummer</dt>\n      <dd>37071</dd>"):
        assert cut in body
        body = body.replace(cut, "")
    _, [item] = the_advice(body)
    assert item.key == "W16.26.00312/II"  # from /adviezen/@143210/w16-26-00312-ii/
    assert item.meta["ministerie"] == "Minister van Justitie en Veiligheid"  # "op voordracht van"
    assert item.identifiers == {"rvs_kenmerk": ["W16.26.00312/II"]}


def test_off_topic_adviezen_are_counted_and_still_move_the_cursor() -> None:
    s = spider(cursor={"published": "2026-11-16"})
    request = advice_request(s, "143207")
    assert answer(request, page("advies-w06-26-00305-iv.html")) == []
    assert s.crawler.stats.get_value("watch/raadvanstate/off_topic") == 1
    assert s.failures == [] and s.next_cursor() == {"published": "2026-11-23"}


@pytest.mark.parametrize(("cut", "replacement", "reason"), [
    ("<h1>", "<p>", "has no title (h1)"),
    ("<dd>W16.26.00312/II</dd>", "<dd>onbekend</dd>", "states kenmerk 'onbekend', which is not"),
    ("<dd>18 november 2026</dd>", "<dd>-</dd>", None),  # one date is enough
    ("<h2>Volledige tekst</h2>", "<h2>Bijlagen</h2>", "has no text (Samenvatting / Volledige"),
])
def test_an_advies_page_that_drifted_fails_naming_the_part(
        cut: str, replacement: str, reason: str | None) -> None:
    body = page("advies-w16-26-00312-ii.html")
    assert cut in body
    s, results = the_advice(body.replace(cut, replacement))
    if reason is None:
        assert len(results) == 1 and results[0].meta["datum_advies"] is None
        assert s.failures == []
        return
    assert results == []
    [(url, why)] = s.failures
    assert url == ADVIES and reason in why
    assert s.next_cursor() == {"published": "2026-11-16"}  # a failed run keeps the cursor


def test_an_advies_page_without_any_date_fails() -> None:
    body = page("advies-w16-26-00312-ii.html").replace(
        "<dd>18 november 2026</dd>", "<dd>-</dd>").replace("<dd>23 november 2026</dd>", "<dd>-</dd>")
    s, results = the_advice(body)
    assert results == [] and "states no date (Datum advies / Datum publicatie)" in s.failures[0][1]


def test_an_overview_without_adviezen_fails() -> None:
    s = spider(cursor={"published": "2026-11-16"})
    [listing] = starts(s)
    emptied = page("week48-zoeken.html").split('<ol class="search-results">')[0] + "</main></html>"
    assert answer(listing, emptied) == []
    [(url, why)] = s.failures
    assert url == LISTING and "links to no advies (/adviezen/@<id>/…)" in why
    assert s.next_cursor() == {"published": "2026-11-16"}
    # An empty list is no answer: a run of only such answers is failed, not partial.
    assert s.crawler.stats.get_value("watch/answers/unusable") == 1


def test_an_undated_listing_is_fetched_and_the_advies_date_decides() -> None:
    s = spider(cursor={"published": "2026-11-20"})
    [listing] = starts(s)
    undated = page("week48-zoeken.html")
    for day in ("23-11-2026", "18-11-2026", "16-11-2026", "11-11-2026", "09-11-2026",
                "04-11-2026"):
        undated = undated.replace(day, "")
    requests = answer(listing, undated)
    assert len([r for r in requests if r.callback == s.parse_advice]) == 5
    older = next(r for r in requests if r.cb_kwargs.get("advice_id") == "143120")
    assert answer(older, page("advies-w06-26-00287-iv.html")) == []  # 16 Nov < 18 Nov
    assert s.crawler.stats.get_value("watch/raadvanstate/off_topic") is None


def test_an_entry_that_is_one_link_is_dated_by_its_meta_not_its_title() -> None:
    s = spider(cursor={"published": "2026-11-16"})
    [listing] = starts(s)
    body = ("<html><body><main><ul>"
            "<li><a href='/adviezen/@1/w16-26-00001-ii/'><h2>Richtlijn van 13 juni 2024</h2>"
            "<span>Datum publicatie: 23-11-2026</span></a></li>"
            "<li><a href='/adviezen/@2/w16-26-00002-ii/'><h2>Wet per 1 januari 2027</h2>"
            "<span>Datum publicatie: 02-11-2026</span></a></li>"
            "</ul><a href='?pager_page=1'>Volgende</a></main></body></html>")
    entries = s.advice_entries(lxml.html.fromstring(body), LISTING)
    assert [(e[0], e[3]) for e in entries] == [("1", date(2026, 11, 23)), ("2", date(2026, 11, 2))]
    assert [r.cb_kwargs["advice_id"] for r in answer(listing, body)] == ["1"]  # and no page 2


def test_garbage_and_error_status_are_failures() -> None:
    s = spider(cursor={"published": "2026-11-16"})
    [listing] = starts(s)
    json_body = TextResponse(url=listing.url, body=b"[]", request=listing, encoding="utf-8",
                             headers={"Content-Type": "application/json"})
    assert list(listing.callback(json_body, **listing.cb_kwargs)) == []
    request = advice_request(s)
    binary = Response(url=request.url, body=b"%PDF-1.7", request=request,
                      headers={"Content-Type": "application/pdf"})
    assert list(request.callback(binary, **request.cb_kwargs)) == []
    response = HtmlResponse(url=request.url, status=503, body=b"", request=request)
    failure = Failure(HttpError(response, "Ignoring non-200 response"))
    failure.request = request
    request.errback(failure)
    assert [(url, why.split(":")[0]) for url, why in s.failures] == [
        (LISTING, "overview of adviezen is not an HTML page (application/json)"),
        (ADVIES, "advies page @143210 is not an HTML page (application/pdf)"),
        (ADVIES, "HTTP 503 Service Unavailable"),
    ]
    assert s.next_cursor() == {"published": "2026-11-16"}


def replay(s: RaadvanstateSpider, folder: Path) -> tuple[list[PolicyItem], list[str]]:
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
    cursors = {}
    for visit, recorded_at in weeks.items():
        demo.write(tmp_path / str(visit), visit, recorded_at)
        cursors[visit] = read_manifest(tmp_path / str(visit))["sources"]["raadvanstate"]["cursor"]

    first = spider(cursor=cursors[1])
    items, missing = replay(first, tmp_path / "1")
    assert missing == [] and first.failures == [] and items == []
    assert first.crawler.stats.get_value("watch/raadvanstate/off_topic") == 3
    assert first.next_cursor() == cursors[2]  # visit 2 starts where visit 1 left off

    second = spider(cursor=cursors[2])
    items, missing = replay(second, tmp_path / "2")
    assert missing == [] and second.failures == []
    [advies] = items
    assert advies.key == "W16.26.00312/II" and advies.identifiers["dossier"] == ["37071"]
    assert advies.published_at - datetime(2026, 11, 23, tzinfo=UTC) == timedelta(0)
    assert second.crawler.stats.get_value("watch/raadvanstate/off_topic") == 3
    assert second.next_cursor() == {"published": "2026-11-23"}


def test_fixture_notes_name_every_file() -> None:
    notes = (FIXTURES / "NOTES.md").read_text(encoding="utf-8")
    for path in FIXTURES.rglob("*.html"):
        assert path.name in notes, path.name
