"""The KOOP SRU spider: queries, records with and without namespaces, paging, diagnostics, cursor."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from scrapy import Request
from scrapy.http import XmlResponse
from lxml import etree

from crawler.items import PolicyItem
from crawler.pipelines import NormalizePipeline
from crawler.spiders.officielebekendmakingen import OfficielebekendmakingenSpider
from tests.helpers import make_spider

FIXTURES = Path(__file__).parent / "fixtures" / "officielebekendmakingen"
BASE = "https://repository.overheid.nl/sru"


def spider(**kwargs) -> OfficielebekendmakingenSpider:
    return make_spider(OfficielebekendmakingenSpider, **kwargs)


def requests_of(s: OfficielebekendmakingenSpider) -> list[Request]:
    async def collect() -> list[Request]:
        return [r async for r in s.start()]

    return asyncio.run(collect())


def answer(request: Request, name: str, url: str | None = None) -> list:
    response = XmlResponse(url=url or request.url, body=(FIXTURES / name).read_bytes(),
                           request=request, headers={"Content-Type": "application/xml"})
    return list(request.callback(response, **request.cb_kwargs))


def test_one_query_per_dossier_and_term_since_the_cursor_minus_overlap() -> None:
    s = spider(cursor={"modified": "2026-11-20"})
    s.dossiers, s.terms = ["28638", "36547"], ["seksueel misbruik van kinderen"]
    urls = [r.url for r in requests_of(s)]
    assert urls == [
        BASE + "?operation=searchRetrieve&version=2.0&recordSchema=gzd&startRecord=1"
        "&maximumRecords=100&query=c.product-area%3D%3Dofficielepublicaties%20AND%20"
        "w.dossiernummer%3D%3D28638%20AND%20dt.modified%3E%3D2026-11-18",
        BASE + "?operation=searchRetrieve&version=2.0&recordSchema=gzd&startRecord=1"
        "&maximumRecords=100&query=c.product-area%3D%3Dofficielepublicaties%20AND%20"
        "w.dossiernummer%3D%3D36547%20AND%20dt.modified%3E%3D2026-11-18",
        BASE + "?operation=searchRetrieve&version=2.0&recordSchema=gzd&startRecord=1"
        "&maximumRecords=100&query=c.product-area%3D%3Dofficielepublicaties%20AND%20"
        "cql.textAndIndexes%3D%22seksueel%20misbruik%20van%20kinderen%22%20AND%20"
        "dt.modified%3E%3D2026-11-18",
    ]
    assert spider().since(date(2026, 11, 27)) == date(2026, 11, 20)  # first run: a week back


def test_a_kamerstuk_record_every_field_and_paging() -> None:
    s = spider(cursor={"modified": "2026-11-20"})
    s.dossiers, s.terms = ["28638"], []
    [first] = requests_of(s)
    results = answer(first, "sru-page1-of-2.xml")
    items = [r for r in results if isinstance(r, PolicyItem)]
    [follow] = [r for r in results if isinstance(r, Request)]
    assert "startRecord=3" in follow.url and follow.cb_kwargs == first.cb_kwargs
    letter, ek = items
    assert letter.source == "officielebekendmakingen" and letter.key == "kst-28638-271"
    assert letter.url == "https://zoek.officielebekendmakingen.nl/kst-28638-271.html"
    assert letter.title == ("Brief van de staatssecretaris van Justitie en Veiligheid over de "
                            "voortgang van het Actieplan Samen tegen Mensenhandel")
    assert letter.doc_type == "Brief"
    assert letter.published_at == datetime(2026, 11, 25, tzinfo=UTC)
    assert letter.identifiers == {"officielebekendmakingen": ["kst-28638-271"],
                                  "kamerstuk": ["kst-28638-271"], "dossier": ["28638"]}
    assert letter.meta["links"]["pdf"].endswith("/kst/28638/kst-28638-271/1/pdf/kst-28638-271.pdf")
    assert letter.meta["creator"] == "Tweede Kamer der Staten-Generaal"
    assert letter.meta["modified"] == "2026-11-25"
    assert ek.key == "kst-36547-E" and ek.meta["creator"] == "Eerste Kamer der Staten-Generaal"
    assert ek.title.startswith("Memorie van antwoord — Wijziging van het Wetboek van Strafrecht")
    assert "artikel 273f" in ek.text
    assert NormalizePipeline.from_crawler(s.crawler).process_item(letter) is letter
    # The last page has no nextRecordPosition: the query is complete, the cursor moves.
    assert s.next_cursor() == {"modified": "2026-11-20"}
    [answer_item] = answer(follow, "sru-page2-of-2.xml")
    assert answer_item.identifiers == {"officielebekendmakingen": ["ah-tk-20262027-412"],
                                       "zaak": ["2026Z19402"]}
    assert s.next_cursor() == {"modified": "2026-11-25"}


def test_a_record_without_namespaces_parses_alike() -> None:
    s = spider()
    record = etree.fromstring((FIXTURES / "sru-record-gmb-2023-174296.xml").read_bytes())
    item = s.record_item(record, datetime(2026, 11, 27, tzinfo=UTC))
    assert item.key == "gmb-2023-174296"
    assert item.identifiers == {"officielebekendmakingen": ["gmb-2023-174296"]}
    assert item.published_at is not None and item.title
    assert item.meta["links"]


def test_diagnostics_in_http_200_are_failures_and_hold_the_cursor() -> None:
    s = spider(cursor={"modified": "2026-11-20"})
    s.dossiers, s.terms = ["28638", "36547"], []
    first, second = requests_of(s)
    assert answer(first, "sru-diagnostic-query-syntax.xml") == []
    assert answer(second, "sru-empty.xml") == []
    [(url, reason)] = s.failures
    assert url == first.url
    assert reason == "SRU diagnostic info:srw/diagnostic/1/10: Query syntax error"
    assert s.next_cursor() == {"modified": "2026-11-20"}


@pytest.mark.parametrize(("body", "reason"), [
    (b"<html><body>Onderhoud</body></html>", "not an SRU response"),
    (b"{\"error\": 1}", "not XML"),
])
def test_garbage_fails_the_query(body: bytes, reason: str) -> None:
    s = spider()
    s.dossiers, s.terms = ["28638"], []
    [request] = requests_of(s)
    response = XmlResponse(url=request.url, body=body, request=request)
    assert list(request.callback(response, **request.cb_kwargs)) == []
    assert reason in s.failures[0][1]


def test_the_fake_404_page_is_a_failure() -> None:
    s = spider()
    s.dossiers, s.terms = ["28638"], []
    [request] = requests_of(s)
    assert answer(request, "sru-empty.xml",
                  url="https://zoek.officielebekendmakingen.nl/Errors/404.htm") == []
    assert "not found" in s.failures[0][1]


def test_fixture_notes_name_every_file() -> None:
    notes = (FIXTURES / "NOTES.md").read_text(encoding="utf-8")
    for path in FIXTURES.glob("*.xml"):
        assert path.name in notes
