"""Build the bundled Tweede Kamer recording from the hand-written rows in tests/fixtures.

    python scripts/build_demo_recording.py

Input: ``tests/fixtures/tweedekamer/pages/visit{1,2}/<Entity>.json`` (a list of pages, each a
list of OData rows; see SCENARIO.md there). Output: ``crawler/recordings/demo/<visit>/``, one
recording per weekly visit, in the replay layout of ``crawler/replay.py``.

What this adds to the rows is what the server adds: the ``@odata.context`` / ``value`` /
``@odata.nextLink`` envelope, the request URL each page answers (the spider's own query for the
first page, the previous page's nextLink for the next), response headers, and for the second
visit the rows of the first that a real server returns again because the second visit's query
starts at the stored cursor minus the overlap window.
"""

from __future__ import annotations

import importlib
import json
import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scrapy.crawler import Crawler  # noqa: E402

from crawler.replay import update_manifest, write_response  # noqa: E402
from crawler.runner import project_settings  # noqa: E402
from crawler.spiders.officielebekendmakingen import OfficielebekendmakingenSpider  # noqa: E402
from crawler.spiders.tweedekamer import CURSOR_FIELD, TweedekamerSpider, parse_time  # noqa: E402
from scripts.sru_records import QUERY_HITS, response_xml  # noqa: E402

PAGES = ROOT / "tests" / "fixtures" / "tweedekamer" / "pages"
OUT = ROOT / "crawler" / "recordings" / "demo"
VISITS = {
    "visit1": ("1-week47", datetime(2026, 11, 20, 17, 0, tzinfo=UTC),
               "Week 47 (16–20 november 2026): eerste bezoek aan elke bron"),
    "visit2": ("2-week48", datetime(2026, 11, 27, 17, 0, tzinfo=UTC),
               "Week 48 (23–27 november 2026): tweede bezoek, vanaf de cursor van elke bron"),
}
#: The other sources' parts of the demo week: scripts/demo_<slug>.py, each with
#: ``write(folder, visit, recorded_at)`` (its responses are written in its own module).
OTHER_SOURCES = ["demo_rijksoverheid", "demo_rechtspraak", "demo_eerstekamer",
                 "demo_internetconsultatie", "demo_raadvanstate", "demo_eurlex", "demo_europarl",
                 "demo_researcher_sources"]
FIRST_CURSOR = "2026-11-16T00:00:00Z"
HEADERS = {
    "Content-Type": ["application/json; odata.metadata=minimal; odata.streaming=true; "
                     "IEEE754Compatible=false; charset=utf-8"],
    "OData-Version": ["4.0"],
}


def context_url(base: str, entity_set: str, expand: str) -> str:
    """The @odata.context the service writes: the $expand tree as ``Nav(Sub())``."""

    def tree(spec: str) -> str:
        parts, depth, current = [], 0, ""
        for ch in spec:
            if ch == "," and depth == 0:
                parts.append(current)
                current = ""
                continue
            depth += ch == "("
            depth -= ch == ")"
            current += ch
        parts.append(current)
        rendered = []
        for part in filter(None, parts):
            name, _, rest = part.partition("(")
            inner = rest[:-1].split("$expand=", 1)[1] if "$expand=" in rest else ""
            rendered.append(f"{name}({tree(inner)})")
        return ",".join(rendered)

    return f"{base}$metadata#{entity_set}({tree(expand)})"


def load(visit: str, entity: str) -> list[list[dict[str, Any]]]:
    path = PAGES / visit / f"{entity}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else [[]]


def write_visit(
    spider: TweedekamerSpider, folder: Path, pages_by_entity: dict[str, list[list[dict[str, Any]]]],
    recorded_at: datetime,
) -> None:
    for entity, pages in pages_by_entity.items():
        config = spider.entities[entity]
        url = spider.query_url(entity, spider.since(entity, recorded_at))
        context = context_url(spider.base_url, config["entity_set"], config.get("expand", ""))
        skip = 0
        for number, rows in enumerate(pages):
            skip += len(rows)
            body: dict[str, Any] = {"@odata.context": context, "value": rows}
            next_url = None
            if number + 1 < len(pages):
                next_url = f"{url.split('&$skip=')[0]}&$skip={skip}"
                body["@odata.nextLink"] = next_url
            payload = json.dumps(body, separators=(",", ":"), ensure_ascii=True).encode()
            write_response(folder, url, status=200, headers=HEADERS, body=payload,
                           recorded_at=recorded_at)
            if next_url:
                url = next_url


def newest(pages: list[list[dict[str, Any]]]) -> str | None:
    values = [row[CURSOR_FIELD] for page in pages for row in page if row.get(CURSOR_FIELD)]
    return max(values, key=lambda v: parse_time(v)) if values else None


def main() -> None:
    spider = TweedekamerSpider.from_crawler(Crawler(TweedekamerSpider, project_settings()))
    shutil.rmtree(OUT, ignore_errors=True)
    entities = list(spider.entities)

    name1, at1, note1 = VISITS["visit1"]
    visit1 = {e: load("visit1", e) for e in entities}
    spider.cursor = {e: FIRST_CURSOR for e in entities}
    write_visit(spider, OUT / name1, visit1, at1)
    update_manifest(OUT / name1, spider.name, cursor=dict(spider.cursor))

    # The second visit starts where the first left off: the newest ApiGewijzigdOp per entity.
    name2, at2, note2 = VISITS["visit2"]
    spider.cursor = {e: newest(visit1[e]) or FIRST_CURSOR for e in entities}
    visit2 = {}
    for entity in entities:
        since = spider.since(entity, at2)
        pages = load("visit2", entity)
        seen = {row["Id"] for page in pages for row in page}
        repeated = [
            row for page in visit1[entity] for row in page
            if row["Id"] not in seen and parse_time(row[CURSOR_FIELD]) > since
        ]
        rows = sorted(repeated + [row for page in pages for row in page],
                      key=lambda r: parse_time(r[CURSOR_FIELD]))
        visit2[entity] = [rows]
    write_visit(spider, OUT / name2, visit2, at2)
    update_manifest(OUT / name2, spider.name)
    write_sru(OUT / name2, at2)
    for visit, (name, at) in enumerate(((name1, at1), (name2, at2)), start=1):
        for module in OTHER_SOURCES:
            importlib.import_module(f"scripts.{module}").write(OUT / name, visit, at)
    _describe(OUT / name1, note1, at1)
    _describe(OUT / name2, note2, at2)
    print(f"wrote {OUT}; cursor after visit 1: {json.dumps(spider.cursor)}")


SRU_CURSOR = {"modified": "2026-11-20"}
SRU_HEADERS = {"Content-Type": ["application/xml;charset=UTF-8"]}


def write_sru(folder: Path, recorded_at: datetime) -> None:
    """officielebekendmakingen in week 48: every query the spider asks, answered (most with
    no records), as if this source had last synced on 20 November."""
    spider = OfficielebekendmakingenSpider.from_crawler(
        Crawler(OfficielebekendmakingenSpider, project_settings()), cursor=SRU_CURSOR)
    for query in spider.queries(spider.since(recorded_at.date())):
        if "w.dossiernummer==" in query:
            key = "dossier:" + query.split("w.dossiernummer==", 1)[1].split(" ", 1)[0]
        else:
            key = "term:" + query.split('cql.textAndIndexes="', 1)[1].split('"', 1)[0]
        write_response(folder, spider.query_url(query), status=200, headers=SRU_HEADERS,
                       body=response_xml(QUERY_HITS.get(key, [])), recorded_at=recorded_at)
    update_manifest(folder, spider.name, cursor=SRU_CURSOR)


def _describe(folder: Path, note: str, recorded_at: datetime) -> None:
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest.update({
        "description": note,
        "recorded_at": recorded_at.isoformat(),
        "provenance": "hand-written responses in each source's real wire format, built by "
                      "scripts/build_demo_recording.py and scripts/demo_<source>.py; see "
                      "tests/fixtures/<source>/NOTES.md",
    })
    path.write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
