"""The generic feed spider: every recorded feed handled, bozo feeds, conditional GET, bad entries."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from scrapy import Request
from scrapy.http import Response, TextResponse, XmlResponse

from crawler.items import PolicyItem
from crawler.pipelines import NormalizePipeline
from crawler.spiders.feed import FeedSpider
from tests.helpers import make_spider

FIXTURES = Path(__file__).parent / "fixtures" / "feed"
URL = "https://www.rijksoverheid.nl/onderwerpen/mensenhandel/nieuws/rss"


def spider(**kwargs) -> FeedSpider:
    return make_spider(FeedSpider, source="feed-rijksoverheid-mensenhandel", url=URL,
                       title="Rijksoverheid: mensenhandel", **kwargs)


def request_of(s: FeedSpider) -> Request:
    async def first() -> Request:
        return [r async for r in s.start()][0]

    return asyncio.run(first())


def fetch(s: FeedSpider, body: bytes, headers: dict[str, str] | None = None,
          status: int = 200) -> list[PolicyItem]:
    request = request_of(s)
    response = XmlResponse(url=request.url, body=body, status=status, request=request,
                           headers=headers or {"Content-Type": "application/rss+xml"})
    return list(request.callback(response))


def test_a_real_shaped_feed_every_field() -> None:
    s = spider()
    items = fetch(s, (FIXTURES / "rijksoverheid-nieuws-mensenhandel.xml").read_bytes(),
                  {"Content-Type": "application/rss+xml; charset=utf-8",
                   "ETag": '"abc123"', "Last-Modified": "Tue, 24 Nov 2026 09:20:00 GMT"})
    assert len(items) == 2 and s.failures == []
    item = items[0]
    assert item.source == "feed-rijksoverheid-mensenhandel"
    assert item.key == "entry/nieuws-2026-11-24-arbeidsuitbuiting"
    assert item.url == ("https://www.rijksoverheid.nl/actueel/nieuws/2026/11/24/"
                        "kabinet-versterkt-aanpak-arbeidsuitbuiting")
    assert item.title == "Kabinet versterkt aanpak arbeidsuitbuiting"
    assert item.text == ("Het kabinet neemt extra maatregelen tegen arbeidsuitbuiting van "
                         "arbeidsmigranten. Dat schrijft de staatssecretaris van Justitie en "
                         "Veiligheid in een Kamerbrief over de voortgang van het Actieplan Samen "
                         "tegen Mensenhandel (kst-28638-271).")
    assert item.published_at == datetime(2026, 11, 24, 9, 15, tzinfo=UTC)
    assert item.doc_type == "Feedbericht"
    assert item.identifiers == {"url": [item.url]}
    assert item.meta["feed"] == "Rijksoverheid.nl - Nieuws over mensenhandel"
    assert item.meta["tags"] == ["Mensenhandel"]
    assert items[1].published_at == datetime(2026, 11, 19, 13, 0, tzinfo=UTC)  # dc:date
    assert s.next_cursor() == {"etag": '"abc123"', "last_modified": "Tue, 24 Nov 2026 09:20:00 GMT"}
    for each in items:
        assert NormalizePipeline.from_crawler(s.crawler).process_item(each) is each


def test_conditional_get_sends_validators_and_304_keeps_them() -> None:
    s = spider(cursor={"etag": '"abc123"', "last_modified": "Tue, 24 Nov 2026 09:20:00 GMT"})
    request = request_of(s)
    assert request.headers["If-None-Match"] == b'"abc123"'
    assert request.headers["If-Modified-Since"] == b"Tue, 24 Nov 2026 09:20:00 GMT"
    assert fetch(s, b"", status=304) == []
    assert s.failures == [] and s.next_cursor() == s.cursor


# Every file of the shared feedparser corpus, with what must come out of it.
CORPUS = {
    "feedparser-encoding-bozo_encoding_mismatch_crash.xml": (1, []),
    "feedparser-encoding-demoronize-1-cp1252.xml": (1, []),
    "feedparser-encoding-http_text_xml_charset_overrides_encoding_2.xml": (1, []),
    # Cut off inside its only entry: that entry is left out, and the failure says so.
    "feedparser-illformed-rss_incomplete_cdata.xml": (0, ["the last one left out"]),
    "feedparser-illformed-rss_item_link_corrupted_ampersands.xml": (1, ["not well-formed"]),
    "feedparser-wellformed-atom-entry_content_xml_base_inherit_2.xml": (1, []),
    "feedparser-wellformed-rss-item_dc_date.xml": (0, ["entry 1: ValueError: entry has no"]),
}


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_every_shared_feed_is_handled(name: str) -> None:
    body = (FIXTURES / name).read_bytes()
    header = next((line.split(":", 1)[1].strip() for line in body.decode("latin-1").splitlines()
                   if line.startswith("Header:")), "")
    content_type = header.split(":", 1)[1].strip() if header.lower().startswith("content-type") \
        else "application/xml"
    s = spider()
    items = fetch(s, body, {"Content-Type": content_type})
    expected_items, expected_failures = CORPUS[name]
    assert len(items) == expected_items
    reasons = [reason for _, reason in s.failures]
    assert len(reasons) == len(expected_failures)
    for expected, reason in zip(expected_failures, reasons, strict=True):
        assert expected in reason


def test_what_the_corpus_files_expect() -> None:
    by_name = {}
    for name in CORPUS:
        s = spider()
        body = (FIXTURES / name).read_bytes()
        content_type = ("text/xml; charset=windows-1252" if "charset_overrides" in name
                        else "application/xml")
        by_name[name] = fetch(s, body, {"Content-Type": content_type})
    assert by_name["feedparser-encoding-demoronize-1-cp1252.xml"][0].text == "don\u2019t"
    assert by_name["feedparser-encoding-http_text_xml_charset_overrides_encoding_2.xml"][0].text \
        == "This is a \xa3\u201ctest.\u201d"
    assert by_name["feedparser-illformed-rss_item_link_corrupted_ampersands.xml"][0].url == \
        "http://link/get?a=1&b=2"
    assert by_name["feedparser-wellformed-atom-entry_content_xml_base_inherit_2.xml"][0].text \
        == "Example test"


def test_garbage_and_errors_fail_the_source_not_the_crawl() -> None:
    s = spider()
    assert fetch(s, b"<html><body>Service unavailable</body></html>",
                 {"Content-Type": "text/html"}) == []
    assert any("not a feed" in r or "not well-formed" in r for _, r in s.failures)
    assert s.next_cursor() == {}


def test_a_bad_entry_does_not_lose_the_others() -> None:
    body = (FIXTURES / "rijksoverheid-nieuws-mensenhandel.xml").read_bytes().replace(
        b"<item>\n      <title>Meer hulp", b"<item></item><item>\n      <title>Meer hulp")
    s = spider()
    items = fetch(s, body)
    assert [i.title for i in items] == ["Kabinet versterkt aanpak arbeidsuitbuiting",
                                        "Meer hulp voor minderjarige slachtoffers van seksuele "
                                        "uitbuiting"]
    assert [r for _, r in s.failures] == ["entry 2: ValueError: entry has no title, text or link"]


def test_needs_a_source_and_url() -> None:
    with pytest.raises(ValueError):
        FeedSpider()


def test_fixture_notes_name_every_file() -> None:
    notes = (FIXTURES / "NOTES.md").read_text(encoding="utf-8")
    for path in FIXTURES.glob("*.xml"):
        assert path.name in notes or (path.name.startswith("feedparser-")
                                      and "feedparser-*.xml" in notes)
    assert isinstance(TextResponse, type) and isinstance(Response, type)


def test_a_feed_cut_off_keeps_its_whole_entries_and_its_old_validators() -> None:
    """Found by the fault matrix (docs/reliability.md): a feed cut off in transit is not
    well-formed; the entries before the cut are kept, the one it stops in is left out, and the
    validators stay as they were, so the next conditional GET cannot answer 304 and hide it."""
    whole = (FIXTURES / "rijksoverheid-nieuws-mensenhandel.xml").read_bytes()
    cut = whole[: whole.index(b"<item>", whole.index(b"<item>") + 1) + 40]
    old = {"etag": '"old"'}
    s = spider(cursor=old)
    items = fetch(s, cut, {"Content-Type": "application/rss+xml", "ETag": '"new"'})
    assert [i.title for i in items] == ["Kabinet versterkt aanpak arbeidsuitbuiting"]
    [(_, why)] = s.failures
    assert "2 entries recovered, the last one left out" in why
    assert s.next_cursor() == old
    whole_again = spider(cursor=old)
    assert len(fetch(whole_again, whole, {"Content-Type": "application/rss+xml",
                                          "ETag": '"new"'})) == 2
    assert whole_again.next_cursor() == {"etag": '"new"'}
