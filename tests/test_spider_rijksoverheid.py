"""rijksoverheid.nl: the search RSS route (queries, periods, the 20-item cap, dedupe, Kamerstuk
pages), the classic open data API route, failures of either, the cursor and the demo weeks."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from scrapy import Request
from scrapy.http import Headers
from scrapy.responsetypes import responsetypes
from twisted.python.failure import Failure

from crawler.items import PolicyItem
from crawler.pipelines import NormalizePipeline
from crawler.replay import read_manifest, read_response
from crawler.spiders.rijksoverheid import RijksoverheidSpider, document_type
from monitors.identifiers import kamerstuk, kamerstukken_in
from scripts import demo_rijksoverheid
from tests.helpers import make_spider

FIXTURES = Path(__file__).parent / "fixtures" / "rijksoverheid"
RSS = {"Content-Type": "application/rss+xml; charset=utf-8"}
HTML = {"Content-Type": "text/html; charset=utf-8"}
JSON = {"Content-Type": "application/json; charset=utf-8"}
XML = {"Content-Type": "application/xml; charset=utf-8"}
CLOCK = "2026-11-27T17:00:00+00:00"
LETTER_URL = ("https://www.rijksoverheid.nl/documenten/kamerstukken/2026/11/23/kamerbrief-over-"
              "voortgang-actieplan-samen-tegen-mensenhandel")


def spider(route: str = "rss", **kwargs) -> RijksoverheidSpider:
    s = make_spider(RijksoverheidSpider, **kwargs)
    s.route = route
    s.clock = datetime.fromisoformat(CLOCK)
    return s


def start(s: RijksoverheidSpider) -> list[Request]:
    async def collect() -> list[Request]:
        return [r async for r in s.start()]

    return asyncio.run(collect())


def answer(request: Request, body: bytes | str, headers: dict[str, str] | None = None,
           status: int = 200, url: str | None = None) -> list:
    if isinstance(body, str):
        body = (FIXTURES / body).read_bytes()
    headers = Headers(headers if headers is not None else RSS)
    cls = responsetypes.from_args(headers=headers, url=url or request.url, body=body)
    response = cls(url=url or request.url, status=status, headers=headers, body=body,
                   request=request)
    return list(request.callback(response, **request.cb_kwargs))


def query_of(request: Request) -> dict:
    return json.loads(parse_qs(urlsplit(request.url).query)["query"][0])


def items(results: list) -> list[PolicyItem]:
    return [r for r in results if isinstance(r, PolicyItem)]


def requests(results: list) -> list[Request]:
    return [r for r in results if isinstance(r, Request)]


# --- search RSS: requests ---------------------------------------------------------------------


def test_one_search_per_term_from_the_cursor_day_minus_overlap() -> None:
    s = spider(cursor={"date": "2026-11-20"})
    s.terms = ["mensenhandel", "seksueel misbruik"]
    first, second = start(s)
    assert first.url.startswith("https://www.rijksoverheid.nl/api/rss?query=%7B%22filters%22")
    assert query_of(first) == {
        "filters": [{"field": "sort_date", "type": "all", "values": [
            {"name": "specificPeriod", "from": "2026-11-05T23:00:00.000Z"}]}],
        "resultSearchTerm": "mensenhandel",
        "pageTitle": "Zoeken",
    }
    assert query_of(second)["resultSearchTerm"] == "seksueel misbruik"
    assert "seksueel%20misbruik" in second.url and " " not in second.url
    assert first.cb_kwargs["end"] is None and first.errback == s.on_error
    # First run: the initial window (WATCH_TK_INITIAL_DAYS) back from the clock's day.
    assert spider().since() == date(2026, 11, 20)
    # Summer time: midnight in Amsterdam is 22:00 UTC.
    summer = spider(cursor={"date": "2026-07-15"})
    summer.terms = ["mensenhandel"]
    [request] = start(summer)
    assert query_of(request)["filters"][0]["values"][0]["from"] == "2026-06-30T22:00:00.000Z"


def test_settings_choose_url_terms_and_overlap() -> None:
    s = make_spider(RijksoverheidSpider)
    assert s.route == "rss" and s.rss_url == "https://www.rijksoverheid.nl/api/rss"
    assert "mensenhandel" in s.terms and s.overlap.days == 14 and s.kamerstuk_pages is True
    assert s.classic_url == "https://opendata.rijksoverheid.nl/v1/"


# --- search RSS: items ------------------------------------------------------------------------


def test_a_search_feed_every_field_of_a_news_item_and_the_kinds() -> None:
    s = spider(cursor={"date": "2026-11-20"})
    s.terms = ["mensenhandel"]
    [request] = start(s)
    results = answer(request, "search-rss-mensenhandel.xml")
    assert s.failures == []
    news, memorie, monitor, rapport = items(results)
    letter_page, answers_page = requests(results)

    assert news.source == "rijksoverheid"
    assert news.key == "6f1c2b0e-4d1a-4c57-9a8e-2b7f0c9d3e41"
    assert news.url == ("https://www.rijksoverheid.nl/actueel/nieuws/2026/11/23/meer-"
                        "gespecialiseerde-opvang-voor-minderjarige-slachtoffers-van-mensenhandel")
    assert news.title == ("Meer gespecialiseerde opvang voor minderjarige slachtoffers van "
                          "mensenhandel")
    assert news.doc_type == "Nieuwsbericht"
    assert news.published_at == datetime(2026, 11, 23, 14, 30, tzinfo=UTC)
    assert news.fetched_at.tzinfo is not None
    summary = ("Minderjarige slachtoffers van mensenhandel krijgen sneller een plek in "
               "gespecialiseerde opvang. Dat schrijft de staatssecretaris van Justitie en "
               "Veiligheid in de Kamerbrief over de voortgang van het Actieplan Samen tegen "
               "Mensenhandel (Kamerstuk 28638, nr. 271).")
    assert news.text.splitlines() == [news.title, "Nieuwsbericht", summary,
                                      "Verwijst naar: kst-28638-271"]
    # A news item only refers to the letter: no `kamerstuk` (that would merge it into the letter).
    assert news.identifiers == {"dossier": ["28638"], "verwijzing": ["kst-28638-271"],
                                "url": [news.url]}
    assert news.status == {} and news.removed is False
    assert news.meta == {
        "route": "rss", "query": "mensenhandel", "guid": news.key,
        "pubdate": "Mon, 23 Nov 2026 14:30:00 GMT", "feed_url": request.url,
        "ministerie": "", "linked": [LETTER_URL], "summary": summary,
    }
    assert NormalizePipeline.from_crawler(s.crawler).process_item(news) is news

    # A Kamerstuk linking to one kst-… on officielebekendmakingen is that Kamerstuk.
    assert memorie.doc_type == "Kamerstuk: Memorie van antwoord"
    assert memorie.identifiers == {"kamerstuk": ["kst-36547-E"], "dossier": ["36547"],
                                   "url": [memorie.url]}
    assert memorie.meta["kamerstuk_from"] == "item"
    assert memorie.published_at == datetime(2026, 11, 22, 23, 0, tzinfo=UTC)  # local midnight
    assert "Kamerstuk: kst-36547-E" in memorie.text

    # Ministry from the path; an entity in the title; a spaced citation in the description.
    assert monitor.title == ("Slachtoffermonitor mensenhandel 2021–2025: meer minderjarige "
                             "slachtoffers in beeld")
    assert monitor.meta["ministerie"] == "ministerie-van-justitie-en-veiligheid"
    assert monitor.identifiers["verwijzing"] == ["kst-28638-262"]
    assert rapport.doc_type == "Rapport" and "kamerstuk" not in rapport.identifiers

    # Kamerstukken without a kst-… in the feed: their page is read first; the Q&A page is skipped.
    assert letter_page.url == LETTER_URL and letter_page.errback == s.page_failed
    assert letter_page.cb_kwargs["item"].doc_type == "Kamerstuk: Kamerbrief"
    assert answers_page.cb_kwargs["item"].doc_type == "Kamerstuk: Antwoord op Kamervragen"
    assert s.crawler.stats.get_value("watch/rijksoverheid/other_pages") == 1
    assert s.next_cursor() == {"date": "2026-11-27"}


def test_the_kamerstuk_page_names_the_letter_and_what_it_refers_to() -> None:
    s = spider(cursor={"date": "2026-11-20"})
    s.terms = ["mensenhandel"]
    [request] = start(s)
    page_request = requests(answer(request, "search-rss-mensenhandel.xml"))[0]
    [letter] = answer(page_request, "kamerbrief-page.html", HTML)
    assert letter.key == "b3a9e4d2-7c61-4f0b-8d25-91e6a7c4f012"
    assert letter.title == "Kamerbrief over voortgang Actieplan Samen tegen Mensenhandel"
    assert letter.doc_type == "Kamerstuk: Kamerbrief"
    # The link in the page's menu (outside <main>) does not count; the motion is a reference.
    assert letter.identifiers == {"kamerstuk": ["kst-28638-271"], "dossier": ["28638"],
                                  "verwijzing": ["kst-28638-265"], "url": [LETTER_URL]}
    assert letter.meta["kamerstuk_from"] == "page"
    assert letter.text.splitlines() == [
        letter.title, "Kamerstuk: Kamerbrief",
        ("De staatssecretaris van Justitie en Veiligheid informeert de Tweede Kamer over de "
         "voortgang van het Actieplan Samen tegen Mensenhandel."),
        "Kamerstuk: kst-28638-271", "Verwijst naar: kst-28638-265"]
    assert s.failures == [] and s.next_cursor() == {"date": "2026-11-27"}


def test_pages_can_be_switched_off() -> None:
    s = spider(cursor={"date": "2026-11-20"})
    s.terms, s.kamerstuk_pages = ["mensenhandel"], False
    [request] = start(s)
    results = answer(request, "search-rss-mensenhandel.xml")
    assert requests(results) == [] and len(items(results)) == 6


@pytest.mark.parametrize(("status", "body", "reason"), [
    (200, b"<html><body><main><p>Nieuwe site</p></main></body></html>", "has no <h1>"),
    (404, b"<html><body><h1>Niet gevonden</h1></body></html>", "answered HTTP 404"),
    (200, b"%PDF-1.7", "not HTML"),
])
def test_a_failing_kamerstuk_page_keeps_the_item_and_holds_the_cursor(status, body, reason
                                                                      ) -> None:
    s = spider(cursor={"date": "2026-11-20"})
    s.terms = ["mensenhandel"]
    [request] = start(s)
    page_request = requests(answer(request, "search-rss-mensenhandel.xml"))[0]
    headers = {"Content-Type": "application/pdf"} if body.startswith(b"%PDF") else HTML
    [letter] = answer(page_request, body, headers, status=status)
    assert letter.key == "b3a9e4d2-7c61-4f0b-8d25-91e6a7c4f012"
    assert letter.identifiers == {"url": [LETTER_URL]}
    [(url, why)] = s.failures
    assert url == LETTER_URL and reason in why
    assert s.next_cursor() == {"date": "2026-11-20"}


def test_a_page_that_cannot_be_fetched_still_yields_its_item() -> None:
    s = spider(cursor={"date": "2026-11-20"})
    s.terms = ["mensenhandel"]
    [request] = start(s)
    page_request = requests(answer(request, "search-rss-mensenhandel.xml"))[0]
    failure = Failure(ConnectionRefusedError("connection refused"))
    failure.request = page_request  # type: ignore[attr-defined]
    [letter] = list(page_request.errback(failure))
    assert letter.url == LETTER_URL
    assert s.failures == [(LETTER_URL, "ConnectionRefusedError: connection refused")]
    assert s.next_cursor() == {"date": "2026-11-20"}


def test_an_item_found_by_several_terms_is_yielded_once() -> None:
    s = spider(cursor={"date": "2026-11-20"})
    s.terms, s.kamerstuk_pages = ["mensenhandel", "uitbuiting"], False
    first, second = start(s)
    assert len(items(answer(first, "search-rss-mensenhandel.xml"))) == 6
    [new] = items(answer(second, "search-rss-uitbuiting.xml"))
    assert new.title == "Arbeidsinspectie vaker op pad bij signalen van uitbuiting"
    assert new.meta["query"] == "uitbuiting"
    assert s.crawler.stats.get_value("watch/rijksoverheid/duplicates") == 2


def test_a_full_feed_is_searched_again_in_halves_down_to_one_day() -> None:
    s = spider(cursor={"date": "2026-11-20"})
    s.terms = ["uitbuiting"]
    [request] = start(s)
    results = answer(request, "search-rss-full-20.xml")
    assert items(results) == []  # the halves will return them
    early, late = requests(results)
    periods = [query_of(r)["filters"][0]["values"][0] for r in (early, late)]
    # 6 Nov up to the end of the clock's day (27 Nov): 22 days, cut after 11.
    assert periods == [
        {"name": "specificPeriod", "from": "2026-11-05T23:00:00.000Z",
         "to": "2026-11-16T22:59:59.999Z"},
        {"name": "specificPeriod", "from": "2026-11-16T23:00:00.000Z",
         "to": "2026-11-27T22:59:59.999Z"},
    ]
    assert s.crawler.stats.get_value("watch/rijksoverheid/periods_split") == 1
    # A single day that is still full: its items are kept, the gap is reported, and the
    # cursor still moves (the next run would find the same full day).
    day = s.rss_request("uitbuiting", early.cb_kwargs["start"],
                        early.cb_kwargs["start"] + (late.cb_kwargs["start"] -
                                                    early.cb_kwargs["start"]) / 11)
    assert s.split(day.cb_kwargs["start"], day.cb_kwargs["end"]) == []
    kept = items(answer(day, "search-rss-full-20.xml"))
    assert len(kept) == 20
    [(url, why)] = s.failures
    assert url == day.url and "full (20 items) for the single day 2026-11-06" in why
    assert s.next_cursor() == {"date": "2026-11-27"}


def test_items_without_title_or_link_are_reported_the_rest_kept() -> None:
    s = spider(cursor={"date": "2026-11-20"})
    s.terms = ["loverboys"]
    [request] = start(s)
    [item] = items(answer(request, "search-rss-drift.xml"))
    # No guid: the link (made absolute) is the key; no pubDate: no date.
    assert item.key == item.url == ("https://www.rijksoverheid.nl/actueel/nieuws/2026/11/24/"
                                    "campagne-tegen-loverboys-van-start")
    assert item.published_at is None
    assert [why for _, why in s.failures] == [
        "search RSS for 'loverboys', item 1: ValueError: item without title or link",
        "search RSS for 'loverboys', item 2: ValueError: item without title or link",
    ]
    assert s.next_cursor() == {"date": "2026-11-27"}  # the request itself came back fine


@pytest.mark.parametrize(("status", "body", "headers", "reason"), [
    (404, b"<html><h1>Pagina niet gevonden</h1></html>", HTML,
     "answered HTTP 404: the search RSS is gone or moved?"),
    (500, b"Internal Server Error", {"Content-Type": "text/plain"},
     "answered HTTP 500: the server rejected the JSON query (format changed?)"),
    (200, b"<!DOCTYPE html><html><body><h1>Zoeken</h1></body></html>", HTML,
     "answered an HTML page, not RSS (Content-Type text/html; charset=utf-8)"),
    (200, b"\x00\x01 binary", {"Content-Type": "application/octet-stream"},
     "answered something else, not RSS"),
])
def test_search_rss_failures_are_explained_and_hold_the_cursor(status, body, headers,
                                                               reason) -> None:
    s = spider(cursor={"date": "2026-11-20"})
    s.terms = ["mensenhandel"]
    [request] = start(s)
    assert answer(request, body, headers, status=status) == []
    [(url, why)] = s.failures
    assert url == request.url and reason in why and "'mensenhandel'" in why
    assert s.next_cursor() == {"date": "2026-11-20"}


def test_a_broken_feed_keeps_what_was_recovered_and_is_reported() -> None:
    s = spider(cursor={"date": "2026-11-20"})
    s.terms, s.kamerstuk_pages = ["mensenhandel"], False
    [request] = start(s)
    broken = (FIXTURES / "search-rss-uitbuiting.xml").read_bytes().replace(
        b"</channel>\n</rss>\n", b"")
    recovered = items(answer(request, broken))
    assert len(recovered) == 3
    [(_, why)] = s.failures
    assert why.startswith("search RSS for 'mensenhandel' is not well-formed")
    assert why.endswith("3 items recovered")
    assert s.next_cursor() == {"date": "2026-11-20"}


def test_the_cursor_never_moves_back_and_needs_a_started_run() -> None:
    s = spider(cursor={"date": "2026-12-01"})
    assert s.next_cursor() == {"date": "2026-12-01"}  # not started: unchanged
    s.terms = []
    start(s)
    assert s.next_cursor() == {"date": "2026-12-01"}


def test_an_unknown_route_is_a_failure_without_requests() -> None:
    s = spider(route="auto", cursor={"date": "2026-11-20"})
    assert start(s) == []
    assert s.failures == [(None, "WATCH_RIJKSOVERHEID_ROUTE is 'auto': use 'rss' or 'classic'")]
    assert s.next_cursor() == {"date": "2026-11-20"}


# --- classic open data API --------------------------------------------------------------------


def classic_requests(s: RijksoverheidSpider) -> dict[tuple[str, str], Request]:
    return {(r.cb_kwargs["kind"], r.cb_kwargs["subject"]): r for r in start(s)}


def test_classic_route_asks_news_and_documents_per_subject() -> None:
    s = spider(route="classic", cursor={"date": "2026-05-15"})
    s.subjects = ["mensenhandel", "seksueel-geweld"]
    found = classic_requests(s)
    assert [r.url for r in found.values()] == [
        ("https://opendata.rijksoverheid.nl/v1/infotypes/news/subjects/mensenhandel/"
         "?output=json&rows=200&offset=0"),
        ("https://opendata.rijksoverheid.nl/v1/documents?subject=mensenhandel&output=json"
         "&rows=200&offset=0"),
        ("https://opendata.rijksoverheid.nl/v1/infotypes/news/subjects/seksueel-geweld/"
         "?output=json&rows=200&offset=0"),
        ("https://opendata.rijksoverheid.nl/v1/documents?subject=seksueel-geweld&output=json"
         "&rows=200&offset=0"),
    ]


def test_classic_json_news_every_field_and_the_since_filter() -> None:
    s = spider(route="classic", cursor={"date": "2026-05-15"})
    s.subjects = ["mensenhandel"]
    request = classic_requests(s)[("news", "mensenhandel")]
    results = answer(request, "classic-news-mensenhandel.json", JSON)
    # Since = 1 May: the 2026-04-02 item was modified on 20 May (kept); 2025 is left out.
    new, modified = items(results)
    assert requests(results) == []  # a short page is the last
    assert new.key == "4b1f0e6a-9c2d-4e57-8a31-5d6c7b8a9f10"
    assert new.url == ("https://www.rijksoverheid.nl/actueel/nieuws/2026/05/12/extra-geld-voor-"
                       "opsporing-van-mensenhandel")
    assert new.title == "Extra geld voor opsporing van mensenhandel"
    assert new.doc_type == "Nieuwsbericht"
    assert new.published_at == datetime(2026, 5, 12, 8, 0, tzinfo=UTC)  # 10:00 CEST
    assert new.text == ("Extra geld voor opsporing van mensenhandel\nNieuwsbericht\nPolitie en "
                        "Koninklijke Marechaussee krijgen extra capaciteit voor de opsporing "
                        "van mensenhandel.")
    assert new.identifiers == {"url": [new.url]}
    assert new.meta["route"] == "classic" and new.meta["type"] == "nieuwsbericht"
    assert new.meta["dataurl"].endswith("/infotypes/news/4b1f0e6a-9c2d-4e57-8a31-5d6c7b8a9f10")
    assert new.meta["lastmodified"] == "2026-05-12T10:03:11"
    assert modified.key == "c2d3e4f5-a6b7-4c8d-9e0f-1a2b3c4d5e6f"
    assert s.crawler.stats.get_value("watch/rijksoverheid/older_than_since") == 1
    assert NormalizePipeline.from_crawler(s.crawler).process_item(new) is new


def test_classic_xml_documents_and_paging() -> None:
    s = spider(route="classic", cursor={"date": "2026-05-15"})
    s.subjects, s.classic_rows = ["mensenhandel"], 2
    request = classic_requests(s)[("documents", "mensenhandel")]
    assert "rows=2&offset=0" in request.url
    results = answer(request, "classic-documents-mensenhandel.xml", XML)
    letter, rapport = items(results)
    [follow] = requests(results)
    assert follow.url.endswith("rows=2&offset=2") and follow.cb_kwargs["offset"] == 2
    assert letter.doc_type == "Kamerstuk: Kamerbrief"
    assert letter.identifiers == {"kamerstuk": ["kst-28638-255"], "dossier": ["28638"],
                                  "url": [letter.url]}
    assert letter.published_at == datetime(2026, 5, 18, 22, 0, tzinfo=UTC)
    assert rapport.doc_type == "Rapport" and rapport.meta["type"] == "Rapport"
    assert answer(follow, b"<documents/>", XML) == []
    assert s.failures == []


@pytest.mark.parametrize(("status", "body", "headers", "url", "reason"), [
    (404, "classic-retired-404.html", HTML, None,
     "classic open data API retired? HTTP 404 for news of onderwerp 'mensenhandel'"),
    (410, b"Gone", {"Content-Type": "text/plain"}, None,
     "classic open data API retired? HTTP 410"),
    (200, "classic-retired-404.html", HTML, "https://www.rijksoverheid.nl/opendata",
     ("classic open data API retired? It answered an HTML page instead of JSON/XML for news "
      "of onderwerp 'mensenhandel' (landed on https://www.rijksoverheid.nl/opendata)")),
    (503, b"", {"Content-Type": "text/plain"}, None, "answered HTTP 503"),
    (200, b"{\"error\": \"no\"}", JSON, None, "JSON object without one list of records"),
    (200, b"<documents><document><x/></document></documents>", XML, None, "XML without records"),
    (200, b"plain text", {"Content-Type": "text/plain"}, None, "neither JSON nor XML"),
])
def test_classic_failures_say_the_api_may_be_retired(status, body, headers, url, reason) -> None:
    s = spider(route="classic", cursor={"date": "2026-05-15"})
    s.subjects = ["mensenhandel"]
    request = classic_requests(s)[("news", "mensenhandel")]
    assert answer(request, body, headers, status=status, url=url) == []
    [(failed_url, why)] = s.failures
    assert reason in why and failed_url == (url or request.url)
    assert s.next_cursor() == {"date": "2026-05-15"}


def test_a_classic_record_without_canonical_is_reported_the_rest_kept() -> None:
    s = spider(route="classic", cursor={"date": "2026-05-15"})
    s.subjects = ["mensenhandel"]
    request = classic_requests(s)[("news", "mensenhandel")]
    records = json.loads((FIXTURES / "classic-news-mensenhandel.json").read_bytes())
    del records[0]["canonical"]
    [kept] = items(answer(request, json.dumps(records).encode(), JSON))
    assert kept.key == "c2d3e4f5-a6b7-4c8d-9e0f-1a2b3c4d5e6f"
    assert s.failures == [(request.url, ("classic open data API (news, onderwerp "
                                         "'mensenhandel'), record 1: ValueError: record "
                                         "without canonical or title"))]
    assert s.next_cursor() == {"date": "2026-11-27"}


# --- kinds and identifiers --------------------------------------------------------------------


@pytest.mark.parametrize(("url", "title", "expected"), [
    ("https://www.rijksoverheid.nl/actueel/nieuws/2026/11/23/x", "X", "Nieuwsbericht"),
    ("https://www.rijksoverheid.nl/documenten/kamerstukken/2026/11/23/x", "Kamerbrief over x",
     "Kamerstuk: Kamerbrief"),
    ("https://www.rijksoverheid.nl/documenten/kamerstukken/2026/11/23/x",
     "Beantwoording Kamervragen over x", "Kamerstuk: Antwoord op Kamervragen"),
    ("https://www.rijksoverheid.nl/documenten/kamerstukken/2026/11/23/x", "Lijst van vragen",
     "Kamerstuk"),
    ("https://www.rijksoverheid.nl/documenten/woo-besluiten/2026/11/23/x", "X", "Woo-besluit"),
    ("https://www.rijksoverheid.nl/documenten/nieuwe-soort/2026/11/23/x", "X", "Nieuwe soort"),
    ("https://www.rijksoverheid.nl/documenten/2026/11/23/x", "X", "Document"),
])
def test_document_types_come_from_the_path_and_the_title(url, title, expected) -> None:
    assert document_type(url, title) == expected


def test_kamerstuk_citations_are_recognised() -> None:
    assert kamerstuk("Kamerstukken II 2023/24, 36547, nr. 3") == "kst-36547-3"
    assert kamerstuk("Kamerstuk 28638, nr. 271") == "kst-28638-271"
    assert kamerstuk("Kamerstukken II 2025/26, 36 800 VI, nr. 12") == "kst-36800-VI-12"
    assert kamerstuk("Kamerstukken I 2025/26, 36 547, E") is None
    assert kamerstuk("kamerstukken 12") is None
    assert kamerstukken_in("zie (Kamerstukken II 2025/26, 28 638, nr. 262), kst-36547-E en "
                           "Kamerstuk 28638, nr. 262.") == ["kst-28638-262", "kst-36547-E"]


# --- the demo weeks ---------------------------------------------------------------------------


def replay(folder: Path, visit: int, recorded_at: datetime) -> tuple[RijksoverheidSpider, list]:
    """Run the visit through the spider's callbacks from the recording, as the replay would."""
    manifest = read_manifest(folder)["sources"]["rijksoverheid"]
    s = make_spider(RijksoverheidSpider, cursor=manifest["cursor"])
    s.clock = recorded_at
    pending, produced = start(s), []
    while pending:
        request = pending.pop(0)
        found = read_response(folder, request.url)
        assert found is not None, f"visit {visit}: no recorded response for {request.url}"
        meta, body = found
        headers = Headers(meta["headers"])
        cls = responsetypes.from_args(headers=headers, url=request.url, body=body)
        response = cls(url=request.url, status=meta["status"], headers=headers, body=body,
                       request=request)
        for result in request.callback(response, **request.cb_kwargs):
            (pending if isinstance(result, Request) else produced).append(result)
    return s, produced


def test_the_demo_weeks_answer_every_request(tmp_path: Path) -> None:
    week47 = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)
    week48 = datetime(2026, 11, 27, 17, 0, tzinfo=UTC)
    demo_rijksoverheid.write(tmp_path / "1", 1, week47)
    demo_rijksoverheid.write(tmp_path / "2", 2, week48)

    s1, first = replay(tmp_path / "1", 1, week47)
    assert s1.failures == [] and s1.next_cursor() == {"date": "2026-11-20"}
    assert [i.title for i in first] == [
        "Staatssecretaris ontvangt Slachtoffermonitor mensenhandel van Nationaal Rapporteur"]

    s2, second = replay(tmp_path / "2", 2, week48)
    assert s2.failures == [] and s2.next_cursor() == {"date": "2026-11-27"}
    by_title = {i.title: i for i in second}
    assert len(second) == 4 == len(by_title)  # found by several terms, yielded once
    news = by_title["Meer gespecialiseerde opvang voor minderjarige slachtoffers van mensenhandel"]
    assert news.published_at == datetime(2026, 11, 23, 14, 30, tzinfo=UTC)
    assert news.meta["linked"] == [LETTER_URL]
    letter = by_title["Kamerbrief over voortgang Actieplan Samen tegen Mensenhandel"]
    assert letter.doc_type == "Kamerstuk: Kamerbrief"
    assert letter.identifiers["kamerstuk"] == ["kst-28638-271"]
    assert "Nationaal Programma Landelijk Gebied: provinciale gebiedsprogramma's goedgekeurd" \
        in by_title
    assert "Staatssecretaris ontvangt Slachtoffermonitor mensenhandel van Nationaal Rapporteur" \
        in by_title


def test_fixture_notes_name_every_file() -> None:
    notes = (FIXTURES / "NOTES.md").read_text(encoding="utf-8")
    for path in FIXTURES.rglob("*"):
        if path.is_file() and path.name != "NOTES.md":
            assert path.name in notes, path.name
