"""The researcher-added sources of the demo week: one feed and one web page a researcher added
in week 47 (`beleidsradar sources add feed|page …`), answered in both visits.

``write(folder, visit, recorded_at)`` stores the responses and names the sources in the
manifest with what `sources add` would have stored (kind, URL, title, selector), so the demo
registers them in its archive before it replays. Both bodies are **written** (see
tests/fixtures/feed/NOTES.md and tests/fixtures/page/NOTES.md):

- feed ``feed-comensha``: a WordPress RSS feed in the shape CoMensha's site would serve; in week
  48 it gains CoMensha's reaction to Kamerbrief kst-28638-271 (ETag and Last-Modified change).
- page ``page-nationaalrapporteur-publicaties``: the Nationaal Rapporteur's publications page
  (selector ``main``); in week 48 a new publication is listed: a real change, a new version.
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crawler.replay import update_manifest, write_response  # noqa: E402

FEED = {"slug": "feed-comensha", "kind": "feed", "url": "https://www.comensha.nl/feed/",
        "title": "CoMensha — nieuws"}
PAGE = {"slug": "page-nationaalrapporteur-publicaties", "kind": "page",
        "url": "https://www.nationaalrapporteur.nl/publicaties",
        "title": "Nationaal Rapporteur — publicaties", "selector": "main"}
FEED_BODIES = {1: ROOT / "tests/fixtures/feed/demo/comensha-week47.xml",
               2: ROOT / "tests/fixtures/feed/demo/comensha-week48.xml"}
PAGE_BODIES = {1: ROOT / "tests/fixtures/page/nr-publicaties-v1.html",
               2: ROOT / "tests/fixtures/page/nr-publicaties-v2.html"}
FEED_VALIDATORS = {1: ('"6b1d-5f2a0c"', "Tue, 17 Nov 2026 09:12:44 GMT"),
                   2: ('"6d94-5f2c81"', "Wed, 25 Nov 2026 14:30:00 GMT")}


def write(folder: Path, visit: int, recorded_at: datetime) -> None:
    if visit not in (1, 2):
        return
    etag, modified = FEED_VALIDATORS[visit]
    write_response(folder, FEED["url"], status=200, headers={
        "Content-Type": ["application/rss+xml; charset=UTF-8"], "ETag": [etag],
        "Last-Modified": [modified]}, body=FEED_BODIES[visit].read_bytes(),
        recorded_at=recorded_at)
    write_response(folder, PAGE["url"], status=200, headers={
        "Content-Type": ["text/html; charset=utf-8"]}, body=PAGE_BODIES[visit].read_bytes(),
        recorded_at=recorded_at)
    for source in (FEED, PAGE):
        update_manifest(folder, source["slug"], researcher_added={
            k: v for k, v in source.items() if k != "slug"})
