"""rijksoverheid.nl in the demo recording: the search RSS answers of weeks 47 and 48.

``write(folder, visit, recorded_at)`` writes every response the rijksoverheid spider asks for
in that visit: one search RSS query per configured term (bodies in
``tests/fixtures/rijksoverheid/demo/``, written, see NOTES.md there; a term without a file gets
an empty feed) and, in week 48, the page of the Kamerbrief it finds. The request URLs are the
spider's own, computed with the cursor this script puts in the manifest.

Week 47: the Slachtoffermonitor news item (17 November). Week 48: the news item of 23 November
on specialised shelter for minor victims, announcing the Kamerbrief "Voortgang Actieplan Samen
tegen Mensenhandel" (kst-28638-271, whose rijksoverheid.nl page links to officielebekendmakingen);
the Kamerbrief itself; an off-topic item (Nationaal Programma Landelijk Gebied) that the term
"Nationaal Rapporteur" also finds; and the week-47 item again, still inside the search period.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from scrapy.crawler import Crawler

from crawler.replay import update_manifest, write_response
from crawler.runner import project_settings
from crawler.spiders.rijksoverheid import RijksoverheidSpider, midnight

ROOT = Path(__file__).resolve().parent.parent
BODIES = ROOT / "tests" / "fixtures" / "rijksoverheid" / "demo"
#: The cursor each visit starts from: the source was last read a week before.
CURSORS = {1: {"date": "2026-11-13"}, 2: {"date": "2026-11-20"}}
#: (visit, term) → body file; every other term answers an empty feed.
FEEDS = {
    (1, "mensenhandel"): "week47-mensenhandel.xml",
    (1, "Nationaal Rapporteur"): "week47-nationaal-rapporteur.xml",
    (2, "mensenhandel"): "week48-mensenhandel.xml",
    (2, "uitbuiting"): "week48-uitbuiting.xml",
    (2, "Nationaal Rapporteur"): "week48-nationaal-rapporteur.xml",
}
#: Pages the spider opens in a visit (Kamerstukken without a kst-… in the feed).
PAGES = {
    2: {"https://www.rijksoverheid.nl/documenten/kamerstukken/2026/11/23/kamerbrief-over-voortgang-"
        "actieplan-samen-tegen-mensenhandel":
        "kamerbrief-voortgang-actieplan-samen-tegen-mensenhandel.html"},
}
RSS_HEADERS = {"Content-Type": ["application/rss+xml; charset=utf-8"]}
HTML_HEADERS = {"Content-Type": ["text/html; charset=utf-8"]}


def spider_for(visit: int, recorded_at: datetime) -> RijksoverheidSpider:
    """The spider as the replay runs it: project settings, the recording's clock and cursor."""
    settings = project_settings(WATCH_CLOCK=recorded_at.isoformat())
    return RijksoverheidSpider.from_crawler(Crawler(RijksoverheidSpider, settings),
                                            cursor=dict(CURSORS[visit]))


def write(folder: Path, visit: int, recorded_at: datetime) -> None:
    spider = spider_for(visit, recorded_at)
    since = midnight(spider.since(spider.today()))
    for term in spider.terms:
        body = (BODIES / FEEDS.get((visit, term), "empty.xml")).read_bytes()
        write_response(folder, spider.rss_query_url(term, since, None), status=200,
                       headers=RSS_HEADERS, body=body, recorded_at=recorded_at)
    for url, name in PAGES.get(visit, {}).items():
        write_response(folder, url, status=200, headers=HTML_HEADERS,
                       body=(BODIES / name).read_bytes(), recorded_at=recorded_at)
    update_manifest(folder, spider.name, cursor=dict(CURSORS[visit]))
