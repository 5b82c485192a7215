"""The rechtspraak.nl spider: search URL and cursor, paging, content documents, the article filter,
metadata-only and replaced records, deletions, failures, and the demo week."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.http import XmlResponse
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.statscollectors import MemoryStatsCollector
from twisted.python.failure import Failure

from crawler.items import PolicyItem
from crawler.pipelines import NormalizePipeline
from crawler.replay import read_manifest, read_response
from crawler.runner import project_settings
from crawler.spiders.rechtspraak import RechtspraakSpider, _parse_xml, parse_ruling
from monitors import identifiers as ids
from scripts import demo_rechtspraak
from tests.helpers import make_spider

FIXTURES = Path(__file__).parent / "fixtures" / "rechtspraak"
DEMO = FIXTURES / "demo"
SEARCH = "https://data.rechtspraak.nl/uitspraken/zoeken"
CONTENT = "https://data.rechtspraak.nl/uitspraken/content?id="
SUBJECT = "subject=http://psi.rechtspraak.nl/rechtsgebied%23strafRecht"
WEEK48 = {"modified": "2026-11-19T11:05:13+01:00"}


def spider(**kwargs: Any) -> RechtspraakSpider:
    return make_spider(RechtspraakSpider, **kwargs)


def first_request(s: RechtspraakSpider) -> Request:
    async def collect() -> list[Request]:
        return [r async for r in s.start()]

    [request] = asyncio.run(collect())
    return request


def answer(request: Request, body: bytes | str, status: int = 200) -> list[Any]:
    """Run the request's callback on a response with this body (a fixture name or bytes)."""
    if isinstance(body, str):
        body = (FIXTURES / body).read_bytes()
    response = XmlResponse(url=request.url, body=body, status=status, request=request,
                           headers={"Content-Type": "application/xml; charset=utf-8"})
    return list(request.callback(response, **request.cb_kwargs))


def split(results: list[Any]) -> tuple[list[PolicyItem], list[Request]]:
    return ([r for r in results if isinstance(r, PolicyItem)],
            [r for r in results if isinstance(r, Request)])


def content_request(s: RechtspraakSpider, ecli: str, link: str = "") -> Request:
    """The content request the spider makes for a feed entry (as _entry builds it)."""
    s._since = s._since or s.since()
    s._search_done = True
    return s._content(ecli, {"title": ecli, "updated": "2026-11-24T10:17:52+01:00",
                             "link": link})


# --- search -------------------------------------------------------------------------------------

def test_search_url_starts_at_the_cursor_minus_the_overlap_in_amsterdam_time() -> None:
    request = first_request(spider(cursor=WEEK48))
    assert request.url == (f"{SEARCH}?{SUBJECT}&modified=2026-11-18T11:05:13&max=1000&from=0"
                           "&sort=ASC")
    assert request.errback is not None
    s = spider(cursor={"modified": "2026-06-30T22:30:00Z"})  # summer time: UTC+2
    s.kind = "Conclusie"
    assert first_request(s).url == (f"{SEARCH}?type=Conclusie&{SUBJECT}"
                                    "&modified=2026-06-30T00:30:00&max=1000&from=0&sort=ASC")


def test_without_a_rechtsgebied_the_search_and_the_filter_take_all() -> None:
    s = spider(cursor=WEEK48)
    s.subject = ""
    assert first_request(s).url == (f"{SEARCH}?modified=2026-11-18T11:05:13&max=1000&from=0"
                                    "&sort=ASC")
    s.articles = {"16"}  # "artikel 16" of the Wet WOZ is no Sr article: still not cited
    assert answer(content_request(s, "ECLI:NL:RBAMS:2012:BZ5426"),
                  "content-ECLI_NL_RBAMS_2012_BZ5426.xml") == []
    assert s.counts == {"not_cited": 1}


def test_first_run_searches_the_initial_window_from_the_replay_clock() -> None:
    s = make_spider(RechtspraakSpider)
    assert s.since(datetime(2026, 11, 20, 17, tzinfo=UTC)) == datetime(2026, 11, 13, 17,
                                                                         tzinfo=UTC)
    settings = project_settings(WATCH_CLOCK="2026-11-20T17:00:00+00:00")
    clocked = RechtspraakSpider.from_crawler(Crawler(RechtspraakSpider, settings))
    assert "modified=2026-11-13T18:00:00&" in first_request(clocked).url


def test_the_real_feed_one_content_request_per_ecli_and_no_next_page() -> None:
    s = spider(cursor=WEEK48)
    items, requests = split(answer(first_request(s), "zoeken-atom-feed-10-entries-2016.xml"))
    assert items == [] and len(requests) == 10
    assert requests[0].url == f"{CONTENT}ECLI:NL:RBASS:2004:2178"
    assert requests[-1].url == f"{CONTENT}ECLI:NL:RBASS:2005:2285"
    assert all(r.errback is not None for r in requests)
    # A title wrapped over lines by the saver is read as one line; the link is kept as given.
    entry = requests[2].cb_kwargs["entry"]
    assert entry == {"title": "ECLI:NL:RBASS:2004:2180, Rechtbank Assen, 23-07-2004, AWB 04/12500 "
                              "MVV A S1 en AWB 04/12498 MVV A S2",
                     "updated": "2013-04-25T04:40:52+02:00",
                     "link": "http://uitspraken.rechtspraak.nl/inziendocument?"
                             "id=ECLI:NL:RBASS:2004:2180"}
    assert s.crawler.stats.get_value("watch/rechtspraak/found") == 2209491
    # The search is complete (10 < max), but no content came back yet: the cursor holds.
    assert s._search_done and s.next_cursor() == WEEK48


def test_a_full_page_asks_for_the_next_one_from_the_number_received() -> None:
    s = spider(cursor=WEEK48)
    s.page_size = 10
    _, requests = split(answer(first_request(s), "zoeken-atom-feed-10-entries-2016.xml"))
    follow = requests[-1]
    assert follow.url.endswith("&max=10&from=10&sort=ASC") and follow.callback == s.parse_search
    assert not s._search_done


def test_paging_with_a_repeated_ecli_and_deleted_entries() -> None:
    s = spider(cursor=WEEK48)
    s.page_size = 3
    _, page1 = split(answer(first_request(s), "zoeken-page1-of-3.xml"))
    assert [r.url for r in page1] == [
        f"{CONTENT}ECLI:NL:RBROT:2026:10873", f"{CONTENT}ECLI:NL:RBROT:2026:10801",
        f"{CONTENT}ECLI:NL:GHSHE:2026:4388",
        f"{SEARCH}?{SUBJECT}&modified=2026-11-18T11:05:13&max=3&from=3&sort=ASC"]
    removed, page2 = split(answer(page1[-1], "zoeken-page2-of-3.xml"))
    # GHSHE again (a 1-based page boundary): counted, not fetched twice.
    assert [r.url for r in page2] == [f"{CONTENT}ECLI:NL:PHR:2026:1214",
                                      page1[-1].url.replace("from=3", "from=6")]
    assert s.counts["duplicate"] == 1
    [doc] = removed
    assert doc.removed and doc.key == "ECLI:NL:RBAMS:2026:7310"
    assert doc.identifiers == {"ecli": ["ECLI:NL:RBAMS:2026:7310"]}
    assert doc.title == "ECLI:NL:RBAMS:2026:7310, Rechtbank Amsterdam, 12-11-2026, 13/118204-26"
    assert doc.url == "http://uitspraken.rechtspraak.nl/inziendocument?id=ECLI:NL:RBAMS:2026:7310"
    assert doc.meta == {"deleted": "doc", "feed_updated": "2026-11-25T16:02:44+01:00"}
    [gone], last = split(answer(page2[-1], "zoeken-page3-of-3.xml"))
    assert last == [] and gone.removed and gone.meta["deleted"] == "ecli"
    assert s._search_done and s.counts["deleted"] == 2
    # Four content documents outstanding: the cursor holds until they are in.
    assert s.next_cursor() == WEEK48
    answer(page1[0], "demo/content-ECLI_NL_RBROT_2026_10873.xml")
    follow = split(answer(page1[1], "content-ECLI_NL_RBROT_2026_10801-isReplacedBy.xml"))[1]
    answer(page1[2], "demo/content-ECLI_NL_GHSHE_2026_4388.xml")
    answer(page2[0], "demo/content-ECLI_NL_PHR_2026_1214-metadata-only.xml")
    assert s.next_cursor() == WEEK48  # the replacement's document is still out
    answer(follow[0], "demo/content-ECLI_NL_RBROT_2026_10873.xml")
    # Never past the newest `updated` received (a deleted entry's counts too).
    assert s.next_cursor() == {"modified": "2026-11-26T11:40:19+01:00"}
    assert s.failures == []


# --- content: the article filter ----------------------------------------------------------------

def test_a_273f_conviction_every_field() -> None:
    s = spider(cursor=WEEK48)
    link = "http://uitspraken.rechtspraak.nl/inziendocument?id=ECLI:NL:RBROT:2026:10873"
    [item] = answer(content_request(s, "ECLI:NL:RBROT:2026:10873", link),
                    "demo/content-ECLI_NL_RBROT_2026_10873.xml")
    assert item.source == "rechtspraak" and item.key == "ECLI:NL:RBROT:2026:10873"
    assert item.url == link
    assert item.fetched_at.tzinfo is not None
    assert item.title == ("Rechtbank Rotterdam, 20-11-2026 — Mensenhandel (art. 273f Sr). "
                          "Seksuele uitbuiting van twee jonge vrouwen, van wie één minderjarig, "
                          "in hotelkamers in Rotterdam en Den Haag.")
    assert item.doc_type == "Uitspraak"
    assert item.published_at == datetime(2026, 11, 24, tzinfo=UTC)
    assert item.identifiers == {
        "ecli": ["ECLI:NL:RBROT:2026:10873"], "artikel": ["273f", "47"],
        "bwb": ["BWBR0001854", "BWBR0001903"], "zaaknummer": ["10/960412-25"]}
    assert item.status == {}
    assert item.removed is False
    assert item.text.splitlines() == [
        item.title,
        "Uitspraak Rechtbank Rotterdam, uitspraakdatum 20-11-2026, zaaknummer 10/960412-25",
        "Rechtsgebied: Strafrecht",
        "Procedure: Eerste aanleg - meervoudig",
        ("Wetsverwijzingen: Wetboek van Strafrecht 273f; Wetboek van Strafrecht 47; "
         "Wetboek van Strafvordering 51f"),
        "Artikelen Wetboek van Strafrecht: 273f Sr, 47 Sr",
        ("Mensenhandel (art. 273f Sr). Seksuele uitbuiting van twee jonge vrouwen, van wie één "
         "minderjarig, in hotelkamers in Rotterdam en Den Haag. Verdachte heeft de slachtoffers "
         "met de loverboymethode geworven, advertenties op escortsites geplaatst, hun "
         "verdiensten afgenomen en hun telefoons gecontroleerd."),
        "Gevangenisstraf van vier jaar en schadevergoeding aan beide slachtoffers.",
    ]
    assert ids.articles_in(item.text)[:1] == ["273f"]  # what topic matching reads
    meta = dict(item.meta)
    assert meta.pop("tekst_tekens") > 3000
    assert meta == {
        "type": "Uitspraak", "instantie": "Rechtbank Rotterdam",
        "instantie_uri": "http://standaarden.overheid.nl/owms/terms/Rechtbank_Rotterdam",
        "datum": "2026-11-20", "datum_soort": "Uitspraakdatum", "publicatiedatum": "2026-11-24",
        "modified": "2026-11-24T10:17:52", "feed_updated": "2026-11-24T10:17:52+01:00",
        "procedure": ["Eerste aanleg - meervoudig"], "rechtsgebied": ["Strafrecht"],
        "zittingsplaats": "Rotterdam",
        "wetsverwijzingen": [
            {"label": "Wetboek van Strafrecht 273f", "bwb": "BWBR0001854", "artikel": "273f",
             "id": "jci1.31:c:BWBR0001854&artikel=273f&g=2026-11-20"},
            {"label": "Wetboek van Strafrecht 47", "bwb": "BWBR0001854", "artikel": "47",
             "id": "jci1.31:c:BWBR0001854&artikel=47&g=2026-11-20"},
            {"label": "Wetboek van Strafvordering 51f", "bwb": "BWBR0001903", "artikel": "51f",
             "id": "jci1.31:c:BWBR0001903&artikel=51f&g=2026-11-20"}],
        "relaties": [], "vindplaatsen": ["Rechtspraak.nl"], "vervangt": [],
        "vervangen_door": None, "metadata_only": False, "tekstsoort": "uitspraak",
        "gematchte_artikelen": ["273f"], "gematcht_in": ["tekst", "wetsverwijzing"],
        "deeplink": "http://deeplink.rechtspraak.nl/uitspraak?id=ECLI:NL:RBROT:2026:10873",
    }
    assert NormalizePipeline.from_crawler(s.crawler).process_item(item) is item
    assert s.counts == {"kept": 1}


def test_an_article_cited_only_in_the_text_keeps_the_ruling() -> None:
    s = spider()
    body = (DEMO / "content-ECLI_NL_RBROT_2026_10873.xml").read_bytes()
    body = body.replace(b"BWBR0001854&amp;artikel=273f", b"BWBR0001854&amp;artikel=57")
    body = body.replace(b"Wetboek van Strafrecht 273f<", b"Wetboek van Strafrecht 57<")
    [item] = answer(content_request(s, "ECLI:NL:RBROT:2026:10873"), body)
    assert item.meta["gematcht_in"] == ["tekst"] and item.meta["gematchte_artikelen"] == ["273f"]
    assert item.identifiers["artikel"] == ["57", "47", "273f"]


def test_a_metadata_only_conclusie_is_kept_and_flagged() -> None:
    s = spider()
    [item] = answer(content_request(s, "ECLI:NL:PHR:2026:1214"),
                    "demo/content-ECLI_NL_PHR_2026_1214-metadata-only.xml")
    assert item.meta["metadata_only"] is True and item.meta["tekstsoort"] == ""
    assert item.doc_type == "Conclusie"
    assert item.title == ("Parket bij de Hoge Raad, 24-11-2026 — Conclusie AG. "
                          "Arbeidsuitbuiting van Vietnamese werknemers in nagelstudio's.")
    assert item.meta["datum_soort"] == "Datum genomen"
    assert "Alleen metadata gepubliceerd: de tekst is (nog) niet beschikbaar." in item.text
    assert "Formele relatie: In cassatie op: ECLI:NL:GHDHA:2025:2210" in item.text
    assert item.url == "https://uitspraken.rechtspraak.nl/inziendocument?id=ECLI:NL:PHR:2026:1214"
    assert item.meta["gematcht_in"] == ["wetsverwijzing"]
    assert item.status == {}  # a relation to an earlier instance is not where this one stands


def test_criminal_rulings_without_a_monitored_article_are_counted_not_kept() -> None:
    s = spider()
    assert answer(content_request(s, "ECLI:NL:GHSHE:2026:4388"),
                  "demo/content-ECLI_NL_GHSHE_2026_4388.xml") == []
    assert answer(content_request(s, "ECLI:NL:RBOBR:2026:6021"),
                  "demo/content-ECLI_NL_RBOBR_2026_6021.xml") == []
    assert s.counts == {"not_cited": 2}
    assert s.crawler.stats.get_value("watch/rechtspraak/not_cited") == 2
    assert s.failures == []


@pytest.mark.parametrize(("name", "ecli", "outcome"), [
    ("content-ECLI_NL_RBAMS_2012_BZ5426.xml", "ECLI:NL:RBAMS:2012:BZ5426", "not_criminal"),
    ("content-ECLI_NL_PHR_2011_BP5608.xml", "ECLI:NL:PHR:2011:BP5608", "not_criminal"),
    ("content-ECLI_NL_PHR_2013_1528-metadata-only.xml", "ECLI:NL:PHR:2013:1528", "not_cited"),
])
def test_real_documents_outside_criminal_law_or_without_articles(name: str, ecli: str,
                                                                  outcome: str) -> None:
    s = spider()
    assert answer(content_request(s, ecli), name) == []
    assert s.counts == {outcome: 1} and s.failures == []


def test_replaces_relations_and_vindplaatsen_of_a_real_document() -> None:
    """BZ5426 is bestuursrecht (the filter drops it); built into an item anyway, it shows how
    replaced ECLIs, the LJN, a later instance and the vindplaatsen come out."""
    s = spider()
    ruling = parse_ruling(_parse_xml(
        (FIXTURES / "content-ECLI_NL_RBAMS_2012_BZ5426.xml").read_bytes()))
    item = s.item(ruling, {}, {}, datetime(2026, 11, 27, tzinfo=UTC))
    assert item.identifiers == {
        "ecli": ["ECLI:NL:RBAMS:2012:BZ5426", "ECLI:NL:RBALK:2012:BW8387",
                 "ECLI:NL:RBALK:2012:2234"],
        "ljn": ["BZ5426"], "zaaknummer": ["11-930 t/m 11-943"]}
    assert item.status == {"latere_aanleg": "Sprongcassatie: ECLI:NL:HR:2013:477, "
                                            "(Gedeeltelijke) vernietiging en zelf afgedaan"}
    assert item.meta["relaties"] == [{
        "label": "Sprongcassatie: ECLI:NL:HR:2013:477, (Gedeeltelijke) vernietiging en zelf "
                 "afgedaan", "ecli": "ECLI:NL:HR:2013:477",
        "type": "http://psi.rechtspraak.nl/sprongcassatie",
        "aanleg": "http://psi.rechtspraak.nl/latereAanleg",
        "gevolg": "http://psi.rechtspraak.nl/gevolg#(Gedeeltelijke) vernietiging en zelf afgedaan"}]
    assert item.meta["vindplaatsen"] == ["Rechtspraak.nl", "Belastingblad 2012/363",
                                         "V-N 2012/53.23.21", "FutD 2012-1627"]
    assert item.published_at == datetime(2013, 4, 8, tzinfo=UTC)
    assert item.title.startswith("Rechtbank Amsterdam, 07-06-2012 — De systematiek van de Wet WOZ")
    conclusie = parse_ruling(_parse_xml(
        (FIXTURES / "content-ECLI_NL_PHR_2011_BP5608.xml").read_bytes()))
    assert (conclusie.body_kind, conclusie.date_label) == ("conclusie", "Datum genomen")
    assert conclusie.summary.startswith("(Art. 81 RO). Procesrecht.")
    bare = parse_ruling(_parse_xml(
        (FIXTURES / "content-ECLI_NL_PHR_2013_1528-metadata-only.xml").read_bytes()))
    assert bare.metadata_only and bare.summary == "" and bare.subjects == []
    bare_item = s.item(bare, {}, {}, datetime(2026, 11, 27, tzinfo=UTC))
    assert bare_item.title == ("Conclusie Parket bij de Hoge Raad, 03-09-2013 "
                               "(ECLI:NL:PHR:2013:1528)")


def test_a_replaced_ecli_follows_its_replacement_and_says_so() -> None:
    s = spider(cursor=WEEK48)
    old = content_request(s, "ECLI:NL:RBROT:2026:10801")
    [follow] = answer(old, "content-ECLI_NL_RBROT_2026_10801-isReplacedBy.xml")
    assert follow.url == f"{CONTENT}ECLI:NL:RBROT:2026:10873" and follow.dont_filter
    assert follow.errback is not None
    replaced, new = answer(follow, "demo/content-ECLI_NL_RBROT_2026_10873.xml")
    assert replaced.key == "ECLI:NL:RBROT:2026:10801"
    assert replaced.title == ("Uitspraak Rechtbank Rotterdam, 20-11-2026 (ECLI:NL:RBROT:2026:10801)"
                              " (ECLI vervangen door ECLI:NL:RBROT:2026:10873)")
    assert replaced.status == {"vervangen_door": "ECLI:NL:RBROT:2026:10873"}
    assert replaced.identifiers["ecli"] == ["ECLI:NL:RBROT:2026:10801", "ECLI:NL:RBROT:2026:10873"]
    assert replaced.identifiers["artikel"] == ["273f"]
    assert replaced.meta["vervangen_door"] == "ECLI:NL:RBROT:2026:10873"
    assert replaced.meta["metadata_only"] is True
    assert "Deze ECLI is vervangen door ECLI:NL:RBROT:2026:10873." in replaced.text
    assert new.key == "ECLI:NL:RBROT:2026:10873" and "vervangen_door" not in new.status
    # The new ECLI's own feed entry, answered later, does not make a second item.
    assert answer(content_request(s, "ECLI:NL:RBROT:2026:10873"),
                  "demo/content-ECLI_NL_RBROT_2026_10873.xml") == []
    assert s.counts == {"kept": 2, "duplicate": 1}


def test_a_replaced_ecli_whose_replacement_does_not_qualify_is_dropped() -> None:
    s = spider()
    [follow] = answer(content_request(s, "ECLI:NL:RBROT:2026:10801"),
                      "content-ECLI_NL_RBROT_2026_10801-isReplacedBy.xml")
    body = (DEMO / "content-ECLI_NL_GHSHE_2026_4388.xml").read_bytes().replace(
        b"ECLI:NL:GHSHE:2026:4388", b"ECLI:NL:RBROT:2026:10873")
    assert answer(follow, body) == []
    assert s.counts == {"not_cited": 1}


# --- failures -----------------------------------------------------------------------------------

def test_an_http_error_is_a_failure_and_holds_the_cursor() -> None:
    s = spider(cursor=WEEK48)
    assert answer(first_request(s), "zoeken-empty.xml") == []
    content = s._content("ECLI:NL:RBROT:2026:10873", {})
    response = XmlResponse(url=content.url, status=503, body=b"", request=content)
    failure = Failure(HttpError(response, "Ignoring non-200 response"))
    failure.request = content
    content.errback(failure)
    assert s.failures == [(content.url, "HTTP 503 Service Unavailable")]
    assert not s._pending and s.next_cursor() == WEEK48


@pytest.mark.parametrize(("body", "reason"), [
    (b"<html><body>Onderhoud</body></html>", "expected <feed>, got <html>"),
    (b"{\"error\": 1}", "response is not XML"),
    (b"<open-rechtspraak/>", "expected <feed>, got <open-rechtspraak>"),
])
def test_garbage_instead_of_a_feed_fails_and_holds_the_cursor(body: bytes, reason: str) -> None:
    s = spider(cursor=WEEK48)
    assert answer(first_request(s), body) == []
    assert reason in s.failures[0][1]
    assert s.next_cursor() == WEEK48


def test_a_feed_without_its_total_is_format_drift_but_its_entries_still_count() -> None:
    s = spider(cursor=WEEK48)
    body = (FIXTURES / "zoeken-page1-of-3.xml").read_bytes().replace(
        b"<subtitle type=\"text\">Aantal gevonden ECLI's: 6</subtitle>\n", b"")
    _, requests = split(answer(first_request(s), body))
    assert len(requests) == 3  # the entries are still fetched; the page was not full
    assert "feed subtitle without the number of ECLIs" in s.failures[0][1]
    assert s.next_cursor() == WEEK48


def test_an_entry_without_an_ecli_fails_and_the_others_go_on() -> None:
    s = spider(cursor=WEEK48)
    body = (FIXTURES / "zoeken-page1-of-3.xml").read_bytes().replace(
        b"<id>ECLI:NL:RBROT:2026:10801</id>", b"<id>tag:rechtspraak,2026:10801</id>")
    _, requests = split(answer(first_request(s), body))
    assert [r.url for r in requests] == [f"{CONTENT}ECLI:NL:RBROT:2026:10873",
                                         f"{CONTENT}ECLI:NL:GHSHE:2026:4388"]
    assert "feed entry without an ECLI id" in s.failures[0][1]


@pytest.mark.parametrize(("body", "reason"), [
    (b"<html>Er is iets misgegaan</html>", "expected <open-rechtspraak>, got <html>"),
    (b"not xml at all", "response is not XML"),
    ((b"<open-rechtspraak><rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'/>"
      b"</open-rechtspraak>"), "no rdf:Description with an ECLI dcterms:identifier"),
])
def test_a_broken_content_document_fails_and_holds_the_cursor(body: bytes, reason: str) -> None:
    s = spider(cursor=WEEK48)
    assert answer(content_request(s, "ECLI:NL:RBROT:2026:10873"), body) == []
    assert reason in s.failures[0][1]
    assert s.next_cursor() == WEEK48


def test_a_document_for_another_ecli_is_a_failure() -> None:
    s = spider()
    assert answer(content_request(s, "ECLI:NL:RBROT:2026:9999"),
                  "demo/content-ECLI_NL_RBROT_2026_10873.xml") == []
    assert s.failures[0][1] == ("asked for ECLI:NL:RBROT:2026:9999, the document is "
                                "ECLI:NL:RBROT:2026:10873")


# --- cursor -------------------------------------------------------------------------------------

def test_a_first_run_with_nothing_found_stores_where_it_searched_from() -> None:
    s = spider()
    s.clock = datetime(2026, 11, 20, 17, tzinfo=UTC)
    assert answer(first_request(s), "zoeken-empty.xml") == []
    assert s.next_cursor() == {"modified": "2026-11-13T18:00:00+01:00"}
    again = spider(cursor=WEEK48)
    assert answer(first_request(again), "zoeken-empty.xml") == []
    assert again.next_cursor() == WEEK48


def test_the_cursor_never_moves_back() -> None:
    s = spider(cursor={"modified": "2026-11-27T12:00:00+01:00"})
    _, requests = split(answer(first_request(s), "zoeken-page3-of-3.xml"))
    assert requests == [] and s.next_cursor() == {"modified": "2026-11-27T12:00:00+01:00"}


def test_an_unreadable_stored_cursor_is_a_failure_and_the_initial_window_is_searched() -> None:
    s = spider(cursor={"modified": "gisteren"})
    assert s.since(datetime(2026, 11, 20, 17, tzinfo=UTC)) == datetime(2026, 11, 13, 17,
                                                                         tzinfo=UTC)
    assert "not a timestamp" in s.failures[0][1]


# --- identifiers --------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "articles"), [
    ("artikel 273f, eerste lid, aanhef en onder 1, van het Wetboek van Strafrecht", ["273f"]),
    ("art. 273f lid 1 sub 4 Sr", ["273f"]),
    ("artikel 273f, eerste lid, onder 1°, Sr", ["273f"]),
    ("de artikelen 36f, 57 en 273f van het Wetboek van Strafrecht", ["36f", "57", "273f"]),
    ("artikel 273f, eerste lid, aanhef en onder 1, en artikel 47 Sr", ["273f", "47"]),
    ("artikelen 240b en 248e van het Wetboek van Strafrecht", ["240b", "248e"]),
    ("mensenhandel (art. 273f Sr)", ["273f"]), ("273f WvSr", ["273f"]),
    ("art. 2 Opiumwet en art. 420bis Sr", ["420bis"]),
    ("jci1.31:c:BWBR0001854&artikel=252&g=2026-11-17", ["252"]),
    ("art. 249 Sv", []), ("artikel 250 van het Wetboek van Strafvordering", []),
    ("artikel 6:248 BW", []), ("artikelen 10, 11 en 12 Opiumwet", []),
    ("jci1.31:c:BWBR0001903&artikel=250", []), ("Artikel 273 van de Gemeentewet", []),
])
def test_criminal_code_articles_in_court_spellings(text: str, articles: list[str]) -> None:
    assert ids.criminal_code_articles_in(text) == articles


def test_criminal_code_articles_in_a_long_ruling_of_near_references() -> None:
    # 1.2 MB of numbers, "lid" and "onder" chains that never name the Sr: nothing is read as an
    # article, and real references after it (and between it) still are. How long this takes is
    # measured by bench/bench_match.py (--ruling), not asserted here.
    noise = "art 12 en 13 en 14 en 15 lid 1 onder a onder b en en , , " * 20000
    assert ids.criminal_code_articles_in(noise) == []
    text = noise + "bewezen verklaard: artikel 273f, eerste lid, aanhef en onder 1, Sr. " + noise \
        + "Voorts is toegepast art. 36f Sr."
    assert ids.criminal_code_articles_in(text) == ["273f", "36f"]


# --- the demo week ------------------------------------------------------------------------------

def replay(folder: Path, visit: int) -> tuple[RechtspraakSpider, list[PolicyItem]]:
    """Run the spider's own requests of one visit against the recording, as the replay would;
    a request without a recorded response fails the test."""
    manifest = read_manifest(folder)
    recorded_at = {1: "2026-11-20T17:00:00+00:00", 2: "2026-11-27T17:00:00+00:00"}[visit]
    settings = project_settings(WATCH_CLOCK=recorded_at)
    s = RechtspraakSpider.from_crawler(Crawler(RechtspraakSpider, settings),
                                       cursor=manifest["sources"]["rechtspraak"]["cursor"])
    s.crawler.stats = MemoryStatsCollector(s.crawler)
    queue, items = [first_request(s)], []
    while queue:
        request = queue.pop(0)
        found = read_response(folder, request.url)
        assert found is not None, f"no recorded response for {request.url}"
        meta, body = found
        assert meta["status"] == 200
        produced = answer(request, body)
        items += [r for r in produced if isinstance(r, PolicyItem)]
        queue += [r for r in produced if isinstance(r, Request)]
    return s, items


def test_the_demo_weeks_replay_through_the_spider(tmp_path: Path) -> None:
    week47, week48 = tmp_path / "1-week47", tmp_path / "2-week48"
    demo_rechtspraak.write(week47, 1, datetime(2026, 11, 20, 17, tzinfo=UTC))
    demo_rechtspraak.write(week48, 2, datetime(2026, 11, 27, 17, tzinfo=UTC))
    first, items = replay(week47, 1)
    assert [i.key for i in items] == ["ECLI:NL:GHARL:2026:7412"]
    assert items[0].identifiers["artikel"] == ["252", "251"]
    assert first.counts == {"kept": 1, "not_cited": 1} and first.failures == []
    # What visit 1 leaves behind is where visit 2's manifest starts.
    assert first.next_cursor() == read_manifest(week48)["sources"]["rechtspraak"]["cursor"]
    second, items = replay(week48, 2)
    assert [i.key for i in items] == ["ECLI:NL:RBROT:2026:10873", "ECLI:NL:PHR:2026:1214"]
    conviction, conclusie = items
    assert conviction.published_at == datetime(2026, 11, 24, tzinfo=UTC)
    assert "273f" in conviction.identifiers["artikel"]
    assert conclusie.meta["metadata_only"] is True
    # The burglary of week 47 (overlap window) and the laundering appeal are dropped.
    assert second.counts == {"kept": 2, "not_cited": 2} and second.failures == []
    assert second.next_cursor() == {"modified": "2026-11-26T08:52:40+01:00"}
    normalize = NormalizePipeline.from_crawler(second.crawler)
    assert all(normalize.process_item(item) is item for item in items)


def test_fixture_notes_name_every_file() -> None:
    notes = (FIXTURES / "NOTES.md").read_text(encoding="utf-8")
    for path in FIXTURES.rglob("*.xml"):
        assert path.name in notes, path.name
