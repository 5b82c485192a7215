"""rechtspraak.nl in the demo recording: the criminal rulings searched in weeks 47 and 48.

``write(folder, visit, recorded_at)`` writes every response the rechtspraak spider asks for in
that visit: the Atom search page (built here, in the format of the real feed in
``tests/fixtures/rechtspraak/zoeken-atom-feed-10-entries-2016.xml``) listing the rulings modified
since the cursor minus the overlap, and the content document of each (RDF/XML in the real format,
written, in ``tests/fixtures/rechtspraak/demo/``; see NOTES.md there). The request URLs are the
spider's own, computed with the cursor this script puts in the manifest.

Week 47: a Gerechtshof Arnhem-Leeuwarden ruling on images of child sexual abuse and grooming
(art. 252 and 251 Sr, the numbering of the Wet seksuele misdrijven) — kept — and a burglary
ruling of Rechtbank Oost-Brabant — dropped. Week 48: Rechtbank Rotterdam convicts for human
trafficking, sexual exploitation of two young women, one a minor (art. 273f Sr, published 24
November) — kept; a money-laundering appeal at Gerechtshof 's-Hertogenbosch — dropped; a
metadata-only conclusie of the Advocaat-Generaal in a labour-exploitation case (273f) — kept and
flagged; and the week-47 burglary ruling again, still inside the overlap window.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from pathlib import Path
from xml.sax.saxutils import escape

from scrapy.crawler import Crawler

from crawler.replay import update_manifest, write_response
from crawler.runner import project_settings
from crawler.spiders.rechtspraak import (
    AMSTERDAM,
    RechtspraakSpider,
    _parse_xml,
    dutch_date,
    parse_ruling,
    parse_time,
)

ROOT = Path(__file__).resolve().parent.parent
BODIES = ROOT / "tests" / "fixtures" / "rechtspraak" / "demo"
#: The cursor each visit starts from. Visit 2's is what visit 1 leaves behind: the newest
#: ``updated`` of its feed (tests/test_spider_rechtspraak.py checks that they agree).
CURSORS = {1: {"modified": "2026-11-14T00:00:00+01:00"},
           2: {"modified": "2026-11-19T11:05:13+01:00"}}
#: The content documents that are new in each visit.
DOCUMENTS = {
    1: ["content-ECLI_NL_GHARL_2026_7412.xml", "content-ECLI_NL_RBOBR_2026_6021.xml"],
    2: ["content-ECLI_NL_RBROT_2026_10873.xml", "content-ECLI_NL_GHSHE_2026_4388.xml",
        "content-ECLI_NL_PHR_2026_1214-metadata-only.xml"],
}
FEED_HEADERS = {"Content-Type": ["application/atom+xml; charset=utf-8"]}
XML_HEADERS = {"Content-Type": ["application/xml; charset=utf-8"]}


def spider_for(visit: int, recorded_at: datetime) -> RechtspraakSpider:
    """The spider as the replay runs it: project settings, the recording's clock and cursor."""
    settings = project_settings(WATCH_CLOCK=recorded_at.isoformat())
    return RechtspraakSpider.from_crawler(Crawler(RechtspraakSpider, settings),
                                          cursor=dict(CURSORS[visit]))


def _entry(body: bytes) -> tuple[datetime, str]:
    """A document's feed entry: the ruling's ``modified`` (local time) with its offset."""
    ruling = parse_ruling(_parse_xml(body))
    updated = parse_time(ruling.modified).astimezone(AMSTERDAM).isoformat(timespec="seconds")
    title = ", ".join([ruling.ecli, ruling.instantie, dutch_date(ruling.date),
                       *ruling.zaaknummers])
    link = f"http://uitspraken.rechtspraak.nl/inziendocument?id={ruling.ecli}"
    return parse_time(updated), (
        "<entry>\n"
        f"    <id>{ruling.ecli}</id>\n"
        f'    <title type="text">{escape(title)}</title>\n'
        '    <summary type="text"></summary>\n'
        f"    <updated>{updated}</updated>\n"
        '    <link rel="alternate" type="text/html"\n'
        f'          href="{link}"/>\n'
        "</entry>\n"
    )


def feed(url: str, entries: list[str], recorded_at: datetime) -> bytes:
    """A search answer in the layout of the real feed."""
    updated = recorded_at.astimezone(AMSTERDAM).isoformat(timespec="seconds")
    feed_id = uuid.uuid5(uuid.NAMESPACE_URL, url)
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">\n'
        '<title type="text">Rechtspraak Open Data (Uitspraken)</title>\n'
        f"<subtitle type=\"text\">Aantal gevonden ECLI's: {len(entries)}</subtitle>\n"
        f"<id>uuid:{feed_id};id={2200 + len(entries)}</id>\n"
        f'<rights type="text">Copyright {recorded_at.year} Rechtspraak.</rights>\n'
        f"<updated>{updated}</updated>\n"
        + "".join(entries) + "</feed>\n"
    ).encode("utf-8")


def write(folder: Path, visit: int, recorded_at: datetime) -> None:
    spider = spider_for(visit, recorded_at)
    since = spider.since()
    found: list[tuple[datetime, str, str, bytes]] = []
    # What the server returns: every ruling modified since the cursor minus the overlap,
    # including those of the earlier visit that fall in the overlap window.
    for number in range(1, visit + 1):
        for name in DOCUMENTS[number]:
            body = (BODIES / name).read_bytes()
            modified, entry = _entry(body)
            if since <= modified <= recorded_at:
                ecli = parse_ruling(_parse_xml(body)).ecli
                found.append((modified, ecli, entry, body))
    found.sort()
    assert len(found) < spider.page_size, "the demo feed fits on one page"
    url = spider.search_url(since, 0)
    write_response(folder, url, status=200, headers=FEED_HEADERS,
                   body=feed(url, [entry for _, _, entry, _ in found], recorded_at),
                   recorded_at=recorded_at)
    for _, ecli, _, body in found:
        write_response(folder, spider.content_url(ecli), status=200, headers=XML_HEADERS,
                       body=body, recorded_at=recorded_at)
    update_manifest(folder, spider.name, cursor=dict(CURSORS[visit]))
