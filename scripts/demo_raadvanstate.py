"""The Raad van State's part of the demo recording: the adviezen published on 16 and 23 November.

``write(folder, visit, recorded_at)`` answers every request the raadvanstate spider makes in
that visit, starting from the cursor written into the manifest: the overview of adviezen
(newest first) and each advies published on or after the cursor minus the overlap. The pages are
written (no real raadvanstate.nl HTML was available; see tests/fixtures/raadvanstate/NOTES.md)
and kept in tests/fixtures/raadvanstate/demo/.

The story: the Afdeling advisering publishes on Mondays. Visit 1 (Friday 20 November, cursor
9 November) reads the batches of 9 and 16 November: three adviezen, none on a watched topic
(counted, not stored). Visit 2 (Friday 27 November, cursor 16 November) reads the batch of
Monday 23 November: the advies W16.26.00312/II on the bill implementing Directive (EU) 2024/1712
(adopted 18 November; the bill went to the Tweede Kamer the same Monday as 37071, whose
kst-37071-4 is this advies with the nader rapport), stored, and an off-topic one on box 3; the
16 November batch is read again (overlap) and is unchanged.
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from urllib.parse import urljoin, urlsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from scrapy.crawler import Crawler

from crawler.replay import update_manifest, write_response
from crawler.runner import project_settings
from crawler.spiders.raadvanstate import RaadvanstateSpider

PAGES = ROOT / "tests" / "fixtures" / "raadvanstate" / "demo"
HTML = {"Content-Type": ["text/html; charset=utf-8"]}

#: The cursor each visit starts from (visit 2's is what visit 1 leaves).
CURSORS = {1: {"published": "2026-11-09"}, 2: {"published": "2026-11-16"}}
LISTINGS = {1: "week47-zoeken.html", 2: "week48-zoeken.html"}
#: The advies pages each visit reads (path on the site → body).
ADVICES = {
    1: {
        "/adviezen/@143120/w06-26-00287-iv/": "advies-w06-26-00287-iv.html",
        "/adviezen/@143118/w10-26-00281-iv/": "advies-w10-26-00281-iv.html",
        "/adviezen/@143051/w04-26-00276-i/": "advies-w04-26-00276-i.html",
    },
    2: {
        "/adviezen/@143210/w16-26-00312-ii/": "advies-w16-26-00312-ii.html",
        "/adviezen/@143207/w06-26-00305-iv/": "advies-w06-26-00305-iv.html",
        "/adviezen/@143120/w06-26-00287-iv/": "advies-w06-26-00287-iv.html",
        "/adviezen/@143118/w10-26-00281-iv/": "advies-w10-26-00281-iv.html",
    },
}


def spider(visit: int) -> RaadvanstateSpider:
    return RaadvanstateSpider.from_crawler(Crawler(RaadvanstateSpider, project_settings()),
                                           cursor=CURSORS[visit])


def responses(visit: int) -> dict[str, Path]:
    """Request URL → recorded body, for every request of ``visit``."""
    rvs = spider(visit)
    site = "{0.scheme}://{0.netloc}/".format(urlsplit(rvs.listing_url))
    found = {rvs.listing_url: PAGES / LISTINGS[visit]}
    for path, name in ADVICES[visit].items():
        found[urljoin(site, path)] = PAGES / name
    return found


def write(folder: Path, visit: int, recorded_at: datetime) -> None:
    """Write the responses of ``visit`` (1 or 2) into the recording ``folder``."""
    if visit not in LISTINGS:
        raise ValueError(f"the demo has no raadvanstate visit {visit}")
    for url, path in responses(visit).items():
        write_response(folder, url, status=200, headers=HTML, body=path.read_bytes(),
                       recorded_at=recorded_at)
    update_manifest(folder, RaadvanstateSpider.name, cursor=dict(CURSORS[visit]))
