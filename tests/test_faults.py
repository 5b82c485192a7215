"""Fault injection: every source crawled through every way a server breaks (tests/faults.py).

One crawl process per fault, with all sources at once, against a loopback copy of the demo
recording whose servers misbehave. For each source: the run is ``ok`` with exactly the clean
archive, or it says why it is not, in its crawl account and in the digest; it stores nothing a
clean crawl would not; and the next clean crawl makes the archive whole. The outcomes are the
matrix in docs/reliability.md (``scripts/reliability_matrix.py``); these tests fail when what
happens differs from the committed matrix, and rewrite it with BELEIDSRADAR_UPDATE_RELIABILITY=1.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import scrapy
from sqlalchemy import select

from reports.digest import build_digest
from reports.periods import parse_week
from reports.render import render
from storage.db import make_engine, session_factory
from storage.models import CrawlRun, Source
from tests.faults import (
    CONTROL, CONTROL_HOST, FAULTS, RECORDINGS, SOURCE_HOSTS, SOURCES, Fault, FaultyWeb,
    added_recording, canonical_dump, crawl_jobs, dump_difference, loopback_settings,
    prepare_archive, run_crawl,
)

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
OUTCOMES = ROOT / "docs" / "reliability.json"
UPDATE = os.environ.get("BELEIDSRADAR_UPDATE_RELIABILITY", "") not in ("", "0")
WEEK = parse_week("2026-W47")  # the week of the crawl's clock (tests.faults.CLOCK)


@dataclass
class Web:
    web: FaultyWeb
    template: Path
    settings: dict[str, Any]
    folder: Path


@pytest.fixture(scope="module")
def loopback(tmp_path_factory: pytest.TempPathFactory) -> Any:
    folder = tmp_path_factory.mktemp("faults")
    added = added_recording(folder / "added")
    with FaultyWeb([*RECORDINGS, added], spared={CONTROL_HOST}) as web:
        template = folder / "template.db"
        prepare_archive(f"sqlite:///{template}", web)
        yield Web(web, template, loopback_settings(web), folder)


def fresh_archive(loopback: Web, name: str) -> str:
    path = loopback.folder / f"{name}.db"
    shutil.copy(loopback.template, path)
    return f"sqlite:///{path}"


def crawl(loopback: Web, url: str, fault: Fault | None = None,
          sources: list[str] | None = None) -> dict[str, CrawlRun]:
    """One crawl of every source (and the control page); the run each source got."""
    settings = {**loopback.settings, **(fault.settings if fault else {})}
    with session_factory(engine := make_engine(url))() as session:
        before = session.scalar(select(CrawlRun.id).order_by(CrawlRun.id.desc()).limit(1)) or 0
    engine.dispose()
    result = run_crawl(url, crawl_jobs(url, settings, sources))
    assert result.returncode == 0, result.stdout + result.stderr
    engine = make_engine(url)
    with session_factory(engine)() as session:
        runs = session.execute(select(Source.slug, CrawlRun).join(Source).where(
            CrawlRun.id > before)).all()
        session.expunge_all()
    engine.dispose()
    slugs = [slug for slug, _ in runs]
    assert sorted(slugs) == sorted(set(slugs)), f"a source ran twice: {slugs}"
    return {slug: run for slug, run in runs}


def content(url: str, web: FaultyWeb, source: str) -> dict[str, list[Any]]:
    """What one source put in the archive, apart from things the order of arrival decides
    (which record of a joined document came first, whose metadata a version kept, and so
    the event kinds) or what other sources did (the documents it joined): its records with
    their status, identifiers, versions' text, matches and the source's cursor."""
    return comparable(canonical_dump(url, replace=web.replace, sources={source}))


def comparable(dump: dict[str, list[Any]]) -> dict[str, list[Any]]:
    """A canonical dump without what the order of arrival or other sources decide: which
    document a row belongs to (columns 1), and the versions' metadata."""
    return {
        "sources": dump["sources"],
        "records": sorted([r[0], *r[2:11]] for r in dump["records"]),
        "identifiers": sorted([i[0], *i[2:]] for i in dump["identifiers"]),
        "versions": sorted([v[0], *v[2:6]] for v in dump["versions"]),
        "matches": sorted([m[0], m[2], m[3]] for m in dump["matches"]),
    }


def final_state(dump: dict[str, list[Any]]) -> dict[str, list[Any]]:
    """``comparable``, with the documents as the groups of records that make them up, and the
    versions as texts per record (their numbers shift when a fault made an extra version)."""
    state = comparable(dump)
    return {
        **state,
        "documents": sorted(d[0] for d in dump["documents"]),
        "versions": sorted([v[0].rsplit("#", 1)[0], *v[1:]] for v in state["versions"]),
        "matches": sorted([m[0], m[1].rsplit("#", 1)[0], m[2]] for m in state["matches"]),
    }


@pytest.fixture(scope="module")
def clean(loopback: Web) -> dict[str, Any]:
    """The clean crawl: every source ok; its archive is what every fault is measured against."""
    url = fresh_archive(loopback, "clean")
    runs = crawl(loopback, url)
    assert sorted(runs) == sorted([*SOURCES, CONTROL])
    assert {slug: run.status for slug, run in runs.items()} == dict.fromkeys(runs, "ok"), {
        slug: run.errors[:2] for slug, run in runs.items()}
    return {
        "url": url,
        "content": {s: content(url, loopback.web, s) for s in [*SOURCES, CONTROL]},
        "dump": canonical_dump(url, replace=loopback.web.replace),
    }


# --- reading outcomes -------------------------------------------------------------------------

_URL = re.compile(r"(?:https?://|<(?:GET|POST) )\S+")


def short_reason(reason: str, web: FaultyWeb) -> str:
    """A reason as the matrix shows it: origins instead of loopback addresses, no URLs."""
    for base, origin in web.replace.items():
        reason = reason.replace(base, origin)
    reason = " ".join(_URL.sub("…", reason).split())
    return reason if len(reason) <= 110 else reason[:109] + "…"


def outcome(fault: Fault, run: CrawlRun, served: int, web: FaultyWeb) -> dict[str, Any]:
    if run.status == "ok":
        passing = fault.times is not None or fault.kind == "rate-limit"
        return {"result": "recovered" if passing and served else "ok", "reason": None}
    counts = Counter(short_reason(e["reason"], web) for e in run.errors)
    reason = min(counts, key=lambda r: (-counts[r], r))
    return {"result": run.status, "reason": reason}


def check_matrix_row(fault: Fault, outcomes: dict[str, dict[str, Any]]) -> None:
    """The outcomes must be the committed ones (or, when updating, become them)."""
    row = {"what": fault.what, "outcomes": outcomes}
    if UPDATE:
        with open(OUTCOMES.with_suffix(".lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            data = json.loads(OUTCOMES.read_text()) if OUTCOMES.exists() else {"faults": {}}
            data["faults"][fault.name] = row
            data["faults"] = {f.name: data["faults"][f.name] for f in FAULTS
                              if f.name in data["faults"]}
            OUTCOMES.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
        OUTCOMES.with_suffix(".lock").unlink(missing_ok=True)
        return
    committed = json.loads(OUTCOMES.read_text())["faults"].get(fault.name)
    assert committed == row, (
        f"{fault.name}: the outcomes differ from docs/reliability.json; if the change is "
        "intended, rerun with BELEIDSRADAR_UPDATE_RELIABILITY=1 and scripts/reliability_matrix.py"
        f"\nnow: {json.dumps(row, indent=1, ensure_ascii=False)}")


# --- the matrix -------------------------------------------------------------------------------


@pytest.mark.parametrize("fault", FAULTS, ids=[f.name for f in FAULTS])
def test_fault(fault: Fault, loopback: Web, clean: dict[str, Any]) -> None:
    web = loopback.web
    url = fresh_archive(loopback, fault.name)
    web.set_fault(fault)
    try:
        runs = crawl(loopback, url, fault)
        served = {source: sum(web.served_faults.get(h, 0) for h in hosts)
                  for source, hosts in SOURCE_HOSTS.items()}
    finally:
        web.set_fault(None)
    assert sorted(runs) == sorted([*SOURCES, CONTROL])

    # The untouched source completes whatever happens to the others.
    assert runs[CONTROL].status == "ok", runs[CONTROL].errors
    assert content(url, web, CONTROL) == clean["content"][CONTROL]

    outcomes: dict[str, dict[str, Any]] = {}
    changed: set[str] = set()
    for source in SOURCES:
        run = runs[source]
        assert served[source] > 0, f"{source} never met the fault: the scenario tests nothing"
        assert run.status in ("ok", "partial", "failed"), (source, run.status)
        now = content(url, web, source)
        if run.status == "ok" and now != clean["content"][source]:
            # No silent damage: an ok run stores exactly what a clean crawl stores. Only when
            # the markup itself changed may a page spider read a page differently; the matrix
            # says so ("changed").
            assert fault.kind == "format-change", (
                f"{source} says ok but its archive differs from a clean crawl:\n"
                + dump_difference(clean["content"][source], now))
            differing = [v for v in now["versions"] if v not in clean["content"][source][
                "versions"]]
            assert differing and len(now["versions"]) == len(clean["content"][source][
                "versions"]), f"{source}: a record was lost or added, not just read differently"
            changed.add(source)
            outcomes[source] = {"result": "changed", "reason": (
                f"ok, but {len(differing)} of its {len(now['versions'])} texts differ from a "
                "clean crawl's")}
            continue
        if run.status != "ok":
            # Failed or partial: the run says why, and stored nothing a clean crawl would not.
            assert run.errors and run.failed >= len(run.errors) > 0
            assert all(e["reason"].strip() for e in run.errors)
            expected = {json.dumps(v) for v in clean["content"][source]["versions"]}
            stray = [v for v in now["versions"] if json.dumps(v) not in expected]
            assert not stray, f"{source} stored what a clean crawl does not: {stray[:2]}"
        outcomes[source] = outcome(fault, run, served[source], web)
    if fault.recovers:
        assert {s: o["result"] for s, o in outcomes.items() if o["result"] not in (
            "ok", "recovered")} == {}, f"{fault.name} must be ridden out by every source"

    # The digest of the week names every source that did not finish cleanly, and why.
    engine = make_engine(url)
    with session_factory(engine)() as session:
        digest = build_digest(session, WEEK)
    engine.dispose()
    accounts = {a.slug: a for a in digest.sources}
    text = render(digest, "txt")
    broken = [s for s in SOURCES if runs[s].status != "ok"]
    for source in broken:
        account = accounts[source]
        assert account.last_status == runs[source].status
        first = runs[source].errors[0]["reason"]
        assert first in account.problems and f"  - {first}" in text
    if broken:
        assert f"! Let op: {len(broken)} bron(nen) niet (volledig) gecontroleerd" in text
    else:
        assert "niet (volledig) gecontroleerd" not in text

    # Nothing was lost: the next clean crawl brings the archive to the clean crawl's state.
    if broken or changed:
        # Nothing was lost: crawling those sources again once the server is well brings in
        # everything a clean crawl had (and, where a cursor rightly moved on, the next week).
        again = crawl(loopback, url, sources=sorted({*broken, *changed}))
        assert {s: r.status for s, r in again.items()} == dict.fromkeys(again, "ok"), {
            s: r.errors[:2] for s, r in again.items() if r.status != "ok"}
        whole = canonical_dump(url, replace=web.replace)
        after, expected = final_state(whole), final_state(clean["dump"])
        after["records"] = [r[0] for r in after["records"]]  # the status may have moved on
        expected["records"] = [r[0] for r in expected["records"]]
        for table in ("records", "identifiers", "versions", "matches"):
            rows = {json.dumps(row) for row in after[table]}
            missing = [row for row in expected[table] if json.dumps(row) not in rows]
            assert not missing, f"{table} of a clean crawl missing after the fault: {missing[:2]}"
        document_of = {r[0]: r[1] for r in whole["records"]}
        for members in expected["documents"]:
            assert len({document_of[m] for m in members.split(" + ")}) == 1, (
                f"records a clean crawl joins are apart after the fault: {members}")
        texts = [(v[0].rsplit("#", 1)[0], v[2], v[3]) for v in sorted(
            whole["versions"], key=lambda v: (v[0].rsplit("#", 1)[0], int(v[0].rsplit("#")[1])))]
        repeated = [a for a, b in zip(texts, texts[1:]) if a == b]
        assert not repeated, f"a version repeats its predecessor: {repeated[:1]}"
        events = [json.dumps([e[0], e[2], e[5]]) for e in whole["events"]]
        assert len(events) == len(set(events)), "an event was stored twice"
        appearances = Counter(e[0] for e in whole["events"] if e[2] == "new"
                              or (e[2] == "changed" and "joined" in e[5]))
        assert all(n == 1 for n in appearances.values()), "a record appeared twice"
    check_matrix_row(fault, outcomes)


def test_one_broken_source_leaves_the_others_exactly_as_a_clean_crawl(
        loopback: Web, clean: dict[str, Any]) -> None:
    web = loopback.web
    url = fresh_archive(loopback, "one-broken")
    web.set_fault(next(f for f in FAULTS if f.name == "reset-always"),
                  hosts=SOURCE_HOSTS["tweedekamer"])
    try:
        runs = crawl(loopback, url)
    finally:
        web.set_fault(None)
    assert runs["tweedekamer"].status == "failed"
    assert runs["tweedekamer"].errors[0]["reason"] == (
        "DownloadFailedError: ConnectionLost: Connection to the other side was lost in a "
        "non-clean fashion.")
    for source in [s for s in SOURCES if s != "tweedekamer"] + [CONTROL]:
        assert runs[source].status == "ok", (source, runs[source].errors)
        assert content(url, web, source) == clean["content"][source], source


def test_the_published_matrix_is_rendered_from_the_outcomes() -> None:
    from scripts.reliability_matrix import PAGE, render

    data = json.loads(OUTCOMES.read_text(encoding="utf-8"))
    assert list(data["faults"]) == [f.name for f in FAULTS]
    for name, row in data["faults"].items():
        assert sorted(row["outcomes"]) == sorted(SOURCES), name
    assert PAGE.read_text(encoding="utf-8") == render(data), (
        "docs/reliability.md is not what scripts/reliability_matrix.py renders from "
        "docs/reliability.json: run the script")


# --- the middlewares the matrix asked for (crawler/middlewares.py) -----------------------------


def test_retry_after_is_read_as_seconds_or_a_date() -> None:
    from datetime import UTC, datetime

    from crawler.middlewares import retry_after_seconds

    now = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)
    assert retry_after_seconds(b"2", now) == 2.0
    assert retry_after_seconds("Fri, 20 Nov 2026 17:01:30 GMT", now) == 90.0
    assert retry_after_seconds("Fri, 20 Nov 2026 16:00:00 GMT", now) == 0.0
    assert retry_after_seconds(b"soon", now) is None and retry_after_seconds(None, now) is None


def test_a_utf8_body_labelled_latin1_is_read_as_utf8_and_a_latin1_one_is_not() -> None:
    from scrapy.http import HtmlResponse

    from crawler.middlewares import CharsetMiddleware
    from tests.helpers import make_spider

    middleware = CharsetMiddleware(make_spider(_NamedSpider).crawler)
    label = {"Content-Type": "text/html; charset=ISO-8859-1"}
    utf8 = HtmlResponse("https://example.nl/", body="cliëntorganisaties".encode(),
                        headers=label)
    assert middleware.process_response(utf8.request, utf8).text == "cliëntorganisaties"
    latin1 = HtmlResponse("https://example.nl/", body="cliëntorganisaties".encode("latin-1"),
                          headers=label)
    assert middleware.process_response(latin1.request, latin1).text == "cliëntorganisaties"


def test_a_redirect_skips_the_duplicate_filter_and_starts_its_own_retries() -> None:
    from scrapy import Request
    from scrapy.http import Response

    from crawler.middlewares import RedirectMiddleware
    from tests.helpers import make_spider

    crawler = make_spider(_NamedSpider).crawler
    middleware = RedirectMiddleware.from_crawler(crawler)
    request = Request("https://example.nl/a", meta={"retry_times": 2})
    answer = Response(request.url, status=302, headers={"Location": "/b"}, request=request)
    redirected = middleware.process_response(request, answer)
    assert isinstance(redirected, Request) and redirected.url == "https://example.nl/b"
    assert redirected.dont_filter and "retry_times" not in redirected.meta


NOTICES = {
    "nl-onderhoud": (
        "<!DOCTYPE html><html lang='nl'><head><title>Onderhoud</title></head><body><main>"
        "<h1>Wij zijn even weg</h1><p>Vanwege onderhoud is deze dienst tijdelijk niet "
        "beschikbaar. Probeer het later opnieuw.</p></main></body></html>",
        "Vanwege onderhoud is deze dienst tijdelijk niet beschikbaar."),
    "nl-storing-title": (
        "<html><head><title>Tijdelijk niet bereikbaar - Rijksoverheid.nl</title></head><body>"
        "<div><img src='/logo.svg' alt='Rijksoverheid'></div><div><p>Door een technische "
        "storing is deze website op dit moment niet bereikbaar.</p><p>Onze excuses.</p></div>"
        "</body></html>",
        "Door een technische storing is deze website op dit moment niet bereikbaar."),
    "en-maintenance": (
        "<?xml version='1.0' encoding='utf-8'?><!DOCTYPE html PUBLIC '-//W3C//DTD XHTML 1.0 "
        "Strict//EN' 'http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd'><html "
        "xmlns='http://www.w3.org/1999/xhtml'><head><title>Scheduled maintenance</title>"
        "<style>h1{color:#333}</style></head><body><h1>We&#39;ll be back soon!</h1><p>EUR-Lex "
        "is currently unavailable due to scheduled maintenance. Please try again later.</p>"
        "</body></html>",
        "EUR-Lex is currently unavailable due to scheduled maintenance."),
    "octet-stream-label": (
        "<!doctype html><title>503</title><h1>Service unavailable</h1><p>The service is "
        "temporarily unavailable because of maintenance.</p>",
        "The service is temporarily unavailable because of maintenance."),
}


@pytest.mark.parametrize("name", list(NOTICES))
def test_a_maintenance_notice_is_no_answer(name: str) -> None:
    from scrapy.http import Response

    from crawler.spiders._base import maintenance_notice, unusable_answer

    body, sentence = NOTICES[name]
    label = "application/octet-stream" if name == "octet-stream-label" else (
        "text/html; charset=utf-8")
    response = Response("https://example.nl/", body=body.encode(), headers={
        "Content-Type": label})
    assert maintenance_notice(response) == sentence
    assert unusable_answer(response) == (
        f'the page is a maintenance notice, not the content: "{sentence}"')
    assert unusable_answer(response.replace(status=503)) is None  # a 503 is HttpError's


@pytest.mark.parametrize("body", [
    # A short page that mentions maintenance is content, not a notice.
    "<html><body><main><h1>Werkzaamheden N201</h1><p>Wegens onderhoud is de N201 van 3 tot "
    "7 maart afgesloten. Verkeer wordt omgeleid.</p></main></body></html>",
    # A short page that says something is not available, without a reason, in its text only.
    "<html><body><main><h1>Publicaties</h1><p>Dit rapport is niet beschikbaar in het Engels."
    "</p></main></body></html>",
    # A long page with the words of a notice in it is content.
    "<html><head><title>Onderhoud</title></head><body><main>" + "<p>Vanwege onderhoud is de "
    "regeling tijdelijk niet beschikbaar voor nieuwe aanvragen; lees hier waarom.</p>" * 30
    + "</main></body></html>",
    # Not HTML: a feed whose item says the words is a feed.
    "<?xml version='1.0'?><rss version='2.0'><channel><title>Storing</title><item><title>"
    "Website tijdelijk niet bereikbaar wegens onderhoud</title></item></channel></rss>",
    '{"status": "onderhoud", "message": "tijdelijk niet beschikbaar"}',
])
def test_content_that_mentions_maintenance_is_not_a_notice(body: str) -> None:
    from scrapy.http import Response

    from crawler.spiders._base import unusable_answer

    assert unusable_answer(Response("https://example.nl/", body=body.encode())) is None


def test_no_recorded_or_saved_answer_is_taken_for_a_notice_or_an_empty_answer() -> None:
    """The detector against every real and written body the project has: none of the recorded
    answers the spiders read, nor any fixture, except the notice fixture itself."""
    from scrapy.http import Headers
    from scrapy.responsetypes import responsetypes

    from crawler.spiders._base import unusable_answer

    flagged, seen = [], 0
    for folder in (ROOT / "crawler" / "recordings", ROOT / "tests" / "fixtures"):
        for path in sorted(folder.rglob("*")):
            if path.suffix not in (".body", ".html", ".xml", ".json", ".rss", ".atom"):
                continue
            if path.suffix == ".json" and path.with_suffix(".body").exists():
                continue  # a recorded answer's metadata
            meta = json.loads(path.with_suffix(".json").read_text()) if (
                path.suffix == ".body") else {"status": 200, "headers": {}}
            headers = Headers(meta.get("headers") or {})
            body = path.read_bytes()
            cls = responsetypes.from_args(headers=headers, url=f"https://example.nl/{path.name}",
                                          body=body)
            response = cls(f"https://example.nl/{path.name}", status=meta["status"],
                           headers=headers, body=body)
            seen += 1
            if unusable_answer(response) is not None:
                flagged.append(path.relative_to(ROOT).as_posix())
    assert seen > 200
    assert flagged == ["tests/fixtures/page/onderhoud.html"]


def test_an_unusable_answer_goes_to_the_errback_and_does_not_count_as_come_back() -> None:
    from scrapy import Request
    from scrapy.http import HtmlResponse
    from twisted.python.failure import Failure

    from crawler.middlewares import UnusableAnswerMiddleware
    from crawler.spiders._base import UNUSABLE_STAT, UnusableAnswer, failure_reason
    from crawler.spiders.page import PageSpider
    from tests.helpers import make_spider

    spider = make_spider(PageSpider, source="page-x", url="https://example.nl/")
    middleware = UnusableAnswerMiddleware.from_crawler(spider.crawler)
    request = Request("https://example.nl/", callback=spider.parse_page, errback=spider.on_error)
    good = HtmlResponse(request.url, request=request, body=b"<html><body><main><p>Publicaties"
                        b"</p></main></body></html>")
    assert middleware.process_spider_input(good, spider) is None
    empty = HtmlResponse(request.url, request=request, body=b"  \n")
    with pytest.raises(UnusableAnswer) as raised:
        middleware.process_spider_input(empty, spider)
    failure = Failure(raised.value)
    failure.request = request
    request.errback(failure)
    assert spider.failures == [(request.url, "empty answer: HTTP 200 without a body")]
    assert failure_reason(failure) == "empty answer: HTTP 200 without a body"
    with pytest.raises(UnusableAnswer):  # the same response twice is counted once
        middleware.process_spider_input(empty, spider)
    assert spider.crawler.stats.get_value(UNUSABLE_STAT) == 1
    assert "crawler.middlewares.UnusableAnswerMiddleware" in spider.crawler.settings.getdict(
        "SPIDER_MIDDLEWARES")


def test_what_a_body_is_decides_not_its_label() -> None:
    from crawler.spiders._base import body_described, sniff

    assert [sniff(b) for b in (
        b"", b" \n", b"\xef\xbb\xbf<!DOCTYPE html><html>", b"<!-- x --><html lang='nl'>",
        b"<?xml version='1.0'?>\n<!DOCTYPE html>\n<html>", b"<?xml version='1.0'?><rss>",
        b"<feed xmlns='http://www.w3.org/2005/Atom'>", b'{"value": []}', b"[1]",
        b"%PDF-1.7\n", b"\x89PNG\r\n", b"\x1f\x8b\x08\x00", b"\xff\xfe<\x00h\x00",
        b"Service Unavailable", b"<p>hallo</p>", b"<meta charset='utf-8'><title>x</title>",
    )] == ["empty", "empty", "html", "html", "html", "xml", "xml", "json", "json", "binary",
           "binary", "binary", "text", "text", "html", "xml"]
    assert body_described(b"%PDF-1.7\n%\xe2\xe3") == (
        r"the body is binary data (%PDF-1.7\n%\xe2\xe3…)")
    assert body_described(b"") == "the body is empty"


class _NamedSpider(scrapy.Spider):
    name = "naamloos"
