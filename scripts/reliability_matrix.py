"""Render docs/reliability.md from docs/reliability.json, the outcomes tests/test_faults.py found.

    BELEIDSRADAR_UPDATE_RELIABILITY=1 .venv/bin/python -m pytest -p no:xdist tests/test_faults.py
    .venv/bin/python scripts/reliability_matrix.py

The first command runs every fault against every source and writes what happened into the
JSON; the second turns that into the Markdown page. Without the variable, the tests compare what
happens now with the committed JSON, and the JSON with the committed page.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUTCOMES = ROOT / "docs" / "reliability.json"
PAGE = ROOT / "docs" / "reliability.md"

#: Column headings (the table must fit a screen); the legend below the table spells them out.
SHORT = {
    "tweedekamer": "TK", "officielebekendmakingen": "OB", "rijksoverheid": "RO",
    "rechtspraak": "RS", "eerstekamer": "EK", "internetconsultatie": "IC",
    "raadvanstate": "RvS", "eurlex": "EUR", "europarl": "EP", "feed-mensenhandel": "feed",
    "page-publicaties": "page",
}
MARK = {"recovered": "↻ ok", "ok": "ok", "changed": "⚠ ok, differs", "partial": "◐ partial",
        "failed": "✗ failed"}


#: Why an outcome is what it is, where the table cannot say it (hand-written; the outcomes
#: themselves come from the tests).
NOTES = {
    "http-5xx-burst": "Eerste Kamer pages redirect (36547 → 36547_wet_…): before the matrix, "
                      "the second hop inherited the retries the first hop had spent and the "
                      "source failed; a redirect now starts its own retry count "
                      "(`crawler/middlewares.py`).",
    "http-429-retry-after": "The limiter refuses any retry sooner than its Retry-After. Scrapy "
                            "retries at once, so before the matrix every source failed; "
                            "`RetryAfterMiddleware` now waits as asked (at most "
                            "`WATCH_RETRY_AFTER_MAX` seconds).",
    "empty-body": "An empty HTTP 200 is no answer: `UnusableAnswerMiddleware` "
                  "(`crawler/middlewares.py`) hands it to the request's errback as a failure, "
                  "like a 503, so the spider holds its cursor and the run is *failed* (none of "
                  "its answers came back). Before, the answer counted as coming back and every "
                  "source was *partial*, each with its own parser's complaint.",
    "maintenance-page": "A short HTML page saying the site or service is unavailable for "
                        "maintenance or an outage is recognised whatever was asked for (JSON, "
                        "XML or a page) and whatever its label (`maintenance_notice` in "
                        "`crawler/spiders/_base.py`; tests/test_faults.py checks that no "
                        "recorded answer is taken for one), and fails the request as an empty "
                        "answer does. Before, every source was *partial*, and a page watched "
                        "without a selector stored the notice as a changed version "
                        "(tests/test_spider_page.py shows it no longer does).",
    "content-type-octet-stream": "Every spider reads the body for what it is; the Eerste Kamer "
                                 "spider, which insisted on an HTML Content-Type before, now "
                                 "sniffs the body (`html_page` in its module) and still refuses "
                                 "a PDF, an image or JSON with the reason.",
    "malformed": "An HTML page cut in half parses fine, so before the matrix the page and Eerste "
                 "Kamer spiders archived half pages as new versions; every HTML reader now "
                 "refuses a page that stops before `</body></html>`. The generic feed keeps the "
                 "entries before the cut and leaves out the one it stops in (and keeps its old "
                 "ETag, so the next request cannot be answered 304).",
    "charset-wrong": "Before the matrix the HTML spiders archived mojibake (\"cliÃ«nt\"); a "
                     "body that is valid UTF-8 is now read as UTF-8 whatever Latin label it "
                     "carries (`CharsetMiddleware`). JSON and XML were never affected.",
    "huge-20mb": "Over DOWNLOAD_WARNSIZE (16 MB) Scrapy logs a warning and goes on; the "
                 "padding is whitespace (JSON, HTML) or comment lines (XML), as a big answer "
                 "of many small parts would be.",
    "huge-over-maxsize": "Not retried: the same answer would be refused again. Sources with "
                         "one request per run fail; the others lose only that request.",
    "redirect-loop": "Before the matrix the duplicate filter dropped the second visit to A "
                     "without a word and most sources ended `ok` with nothing stored; redirects "
                     "now bypass the filter, so a loop ends in REDIRECT_MAX_TIMES and an error.",
    "format-changed": "The page readers find fields by their labels and headings, not by "
                      "class names, and survive. Internetconsultatie finds a consultation's "
                      "lead paragraph by its class; without it, it reads the first substantial "
                      "paragraph after the title instead (the same text, so no false change) "
                      "and logs a warning (the class is unconfirmed, and nothing was lost: no "
                      "failure every run); before, the paragraph silently dropped out of the "
                      "text. "
                      "The European Parliament's API answer fails, and its procedure item is "
                      "then not stored half (without the API part) but left for the next run.",
}


def cell(outcome: dict[str, Any]) -> str:
    return MARK[outcome["result"]]


def render(data: dict[str, Any]) -> str:
    sources = [s for s in SHORT if any(s in f["outcomes"] for f in data["faults"].values())]
    lines = [
        "# Reliability: what each source does when its server misbehaves",
        "",
        "<!-- Generated by scripts/reliability_matrix.py from docs/reliability.json, which",
        "     tests/test_faults.py writes; edit neither by hand (see the script's docstring). -->",
        "",
        "Every built-in source and the generic feed and page spiders are crawled, all at once in",
        "one crawl process per fault, from a loopback copy of the demo recording (week 47, and",
        "officielebekendmakingen from week 48) whose servers break in the way the row says",
        "(`tests/faults.py`). A researcher-added page on an untouched host runs in every crawl and",
        "must always end `ok` with the clean crawl's archive: one broken source never stops the",
        "others. Each outcome is checked, not just recorded (`tests/test_faults.py`):",
        "",
        "- **↻ ok**: the fault was passing (a burst, a rate limit); the retries rode it out and",
        "  the archive of that source is exactly what a clean crawl stores.",
        "- **ok**: the fault could not hurt this source (it reads the body whatever the label",
        "  says); again exactly the clean crawl's archive.",
        "- **◐ partial / ✗ failed**: the run says so, with the reason below in its account",
        "  (`beleidsradar sources`, `crawl_run.errors`) and in the digest's source section and its",
        "  warning at the top; nothing it stored differs from what a clean crawl stores (no",
        "  half-written item, no truncated text, no mojibake); and the next clean crawl brings the",
        "  archive to exactly the clean crawl's state (the cursor did not skip what was missed).",
        "  *partial*: some responses were good, or all were but the spider noted a drift it",
        "  worked around; *failed*: none was (an empty answer or a maintenance notice is no",
        "  good response, whatever its HTTP status).",
        "- **⚠ ok, differs**: only where the markup itself changed: the page spider still found",
        "  what it needs but read some text differently (see the notes under the fault); the",
        "  next crawl of the restored page stores the clean text again as a new version.",
        "",
        "| fault | " + " | ".join(SHORT[s] for s in sources) + " |",
        "|---|" + "---|" * len(sources),
    ]
    for name, fault in data["faults"].items():
        lines.append(f"| `{name}` | " + " | ".join(
            cell(fault["outcomes"][s]) if s in fault["outcomes"] else "" for s in sources) + " |")
    lines += ["", "Sources: " + ", ".join(f"{SHORT[s]} = `{s}`" for s in sources) + " (`feed` "
              "and `page` are researcher-added sources crawled by the generic spiders).", ""]
    lines += ["## The faults, and the reason each source gave", ""]
    for name, fault in data["faults"].items():
        lines += [f"### `{name}`", "", fault["what"] + ".", ""]
        reasons: dict[str, list[str]] = {}
        for source in sources:
            outcome = fault["outcomes"].get(source)
            if outcome and outcome["result"] in ("changed", "partial", "failed"):
                reasons.setdefault(f"{outcome['result']}: {outcome['reason']}", []).append(
                    SHORT[source])
        if not reasons:
            lines += ["Every source ended `ok` with the clean archive.", ""]
        else:
            for reason, names in reasons.items():
                lines.append(f"- {', '.join(names)} — {reason}")
            lines.append("")
        if name in NOTES:
            lines += [NOTES[name], ""]
    return "\n".join(lines).rstrip() + "\n"


def main() -> int:
    data = json.loads(OUTCOMES.read_text(encoding="utf-8"))
    PAGE.write_text(render(data), encoding="utf-8")
    print(f"wrote {PAGE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
