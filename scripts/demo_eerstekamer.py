"""The Eerste Kamer's part of the demo recording: the monitored bill pages in weeks 47 and 48.

``write(folder, visit, recorded_at)`` answers every request the eerstekamer spider makes in that
visit: for each bill of ``WATCH_EK_BILLS`` the bare-number URL, answered with the site's redirect
to the page with its slug, and that page. The pages are written (no real eerstekamer.nl HTML was
available; see tests/fixtures/eerstekamer/NOTES.md) and kept in tests/fixtures/eerstekamer/demo/.

The story: in week 47 the 273f bill (36547) waits for the government's memorie van antwoord
(EK stukken A–D). In week 48 the memorie van antwoord (kst-36547-E, 24 November) is listed, the
committee has closed its preparation and the plenary debate is planned for 8 December 13:30, so
the bill gets a status event, shows in the agenda, and kst-36547-E joins the same kamerstuk from
officielebekendmakingen. The implementation bill for Directive 2024/1712 (36835) is unchanged:
the committee's input for the voorlopig verslag is due on 15 December.
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from scrapy.crawler import Crawler  # noqa: E402

from crawler.replay import update_manifest, write_response  # noqa: E402
from crawler.runner import project_settings  # noqa: E402
from crawler.spiders.eerstekamer import EerstekamerSpider  # noqa: E402

PAGES = ROOT / "tests" / "fixtures" / "eerstekamer" / "demo"
#: Where the site redirects the bare number (the slug is the site's; [UNCONFIRMED]).
SLUGS = {"36547": "36547_wet_modernisering_en", "36835": "36835_implementatiewet_herziene"}
#: The page each visit finds, per bill.
BODIES = {
    1: {"36547": "wetsvoorstel-36547-week47.html", "36835": "wetsvoorstel-36835.html"},
    2: {"36547": "wetsvoorstel-36547-week48.html", "36835": "wetsvoorstel-36835.html"},
}
HTML = {"Content-Type": ["text/html; charset=utf-8"]}


def spider() -> EerstekamerSpider:
    return EerstekamerSpider.from_crawler(Crawler(EerstekamerSpider, project_settings()))


def write(folder: Path, visit: int, recorded_at: datetime) -> None:
    """Write the responses of ``visit`` (1 or 2) into the recording ``folder``."""
    ek = spider()
    for entry in ek.bills:
        number = entry.split("_", 1)[0]
        if number not in BODIES[visit]:
            raise ValueError(f"the demo has no Eerste Kamer page for bill {entry} "
                             f"(WATCH_EK_BILLS): add one to {PAGES}")
        requested = ek.page_url(entry)
        target = ek.page_url(SLUGS[number])
        if requested != target:
            write_response(folder, requested, status=301, headers={**HTML, "Location": [target]},
                           body=b"", recorded_at=recorded_at)
        write_response(folder, target, status=200, headers=HTML,
                       body=(PAGES / BODIES[visit][number]).read_bytes(), recorded_at=recorded_at)
    update_manifest(folder, ek.name)
