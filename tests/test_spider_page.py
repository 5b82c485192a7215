"""The generic page spider, URL safety, and researcher-added sources end to end."""

from __future__ import annotations

import asyncio
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from scrapy.http import HtmlResponse
from scrapy.exceptions import IgnoreRequest
from sqlalchemy import select

from crawler.safety import PublicOnlyMiddleware, UnresolvableHost, UnsafeURL, check_public_url
from crawler.spiders.page import PageSpider, fingerprint
from storage.archive import content_hash
from storage.db import make_engine, session_factory
from storage.models import ChangeEvent, CrawlRun, Record, Version
from tests.helpers import make_spider, run_cli

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures" / "page"
URL = "https://www.nationaalrapporteur.nl/publicaties"


def page_item(name: str, selector: str | None = None):
    s = make_spider(PageSpider, source="page-nr-publicaties", url=URL, selector=selector)

    async def first():
        return [r async for r in s.start()][0]

    request = asyncio.run(first())
    response = HtmlResponse(url=URL, body=(FIXTURES / name).read_bytes(), request=request,
                            headers={"Content-Type": "text/html; charset=utf-8"})
    return list(request.callback(response)), s


def test_page_text_without_noise() -> None:
    [item], s = page_item("nr-publicaties-v1.html")
    assert s.failures == []
    assert item.key == "page" and item.source == "page-nr-publicaties" and item.url == URL
    assert item.title == "Publicaties | Nationaal Rapporteur"
    assert item.text.splitlines() == [
        "Publicaties",
        "Laatst bijgewerkt: 20-11-2026 om 09:14 · 1.204 weergaven",
        "Dadermonitor mensenhandel 2020-2024",
        "Onderzoek naar de vervolging en berechting van daders van mensenhandel.",
        "Slachtoffermonitor seksueel geweld tegen kinderen 2019-2023",
        "Cijfers over slachtoffers en de hulp die zij krijgen.",
    ]
    assert "cookies" not in item.text and "Home" not in item.text and "pageviews" not in item.text
    assert item.fingerprint.splitlines()[1] == "Laatst bijgewerkt: <datum> om <tijd> · <teller>"


def test_noise_makes_no_version_and_a_real_change_does() -> None:
    [v1], _ = page_item("nr-publicaties-v1.html")
    [noise], _ = page_item("nr-publicaties-v1-noise.html")
    [v2], _ = page_item("nr-publicaties-v2.html")
    assert noise.text != v1.text
    assert content_hash(noise.title, noise.text, noise.fingerprint) == \
        content_hash(v1.title, v1.text, v1.fingerprint)
    assert content_hash(v2.title, v2.text, v2.fingerprint) != \
        content_hash(v1.title, v1.text, v1.fingerprint)
    assert "Jaarrapportage mensenhandel 2026" in v2.text


def test_selector_keeps_the_part_that_matters_and_fails_loudly_when_gone() -> None:
    [item], _ = page_item("nr-publicaties-v1.html", selector="section.lijst article h2")
    assert item.text.splitlines() == ["Dadermonitor mensenhandel 2020-2024",
                                      "Slachtoffermonitor seksueel geweld tegen kinderen 2019-2023"]
    items, s = page_item("nr-publicaties-v1.html", selector="div.publicatielijst")
    assert items == []
    assert s.failures == [(URL, "selector 'div.publicatielijst' matched nothing: has the page "
                                "changed?")]


def test_masks() -> None:
    assert fingerprint("Bijgewerkt op 3 december 2026 om 14:05 uur, 12 reacties") == \
        "Bijgewerkt op <datum> om <tijd>, <teller>"
    assert fingerprint("Artikel 273f, dossier 36547") == "Artikel 273f, dossier 36547"


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1/feed", "http://[::1]/x", "http://10.0.0.8/x", "http://192.168.1.1/x",
     "http://172.16.4.4/x", "http://169.254.169.254/latest/meta-data/", "http://localhost:8080/",
     "http://intranet.local/x", "ftp://example.org/x", "file:///etc/passwd", "http:///x"],
)
def test_private_and_odd_urls_are_refused(url: str) -> None:
    with pytest.raises(UnsafeURL):
        check_public_url(url)


def test_public_addresses_pass_and_unresolvable_hosts_say_so() -> None:
    check_public_url("https://145.21.180.1/rss")  # a public address
    with pytest.raises(UnresolvableHost):
        check_public_url("https://no-such-host.invalid/rss")


def test_requests_of_researcher_added_sources_are_checked_redirects_included() -> None:
    from scrapy import Request

    s = make_spider(PageSpider, source="page-x", url="https://145.21.180.1/")
    s.crawler.spider = s
    middleware = PublicOnlyMiddleware(s.crawler)
    assert middleware.process_request(Request("https://145.21.180.1/ok")) is None
    with pytest.raises(IgnoreRequest, match="loopback, link-local or private"):
        middleware.process_request(Request("http://169.254.169.254/latest/meta-data/"))


# --- end to end: add sources, crawl live over HTTP, see changes ------------------------------


class Site:
    """A loopback web server whose pages the test changes between crawls."""

    def __init__(self) -> None:
        self.pages: dict[str, tuple[int, dict[str, str], bytes]] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                site.requests.append((self.path, dict(self.headers)))
                status, headers, body = site.pages.get(self.path, (404, {}, b"not found"))
                if status == 200 and headers.get("ETag") and \
                        self.headers.get("If-None-Match") == headers["ETag"]:
                    status, body = 304, b""
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


cli = run_cli


@pytest.fixture
def site():
    server = Site()
    yield server
    server.close()


def test_researcher_added_feed_and_page_end_to_end(tmp_path: Path, site: Site) -> None:
    db = str(tmp_path / "a.db")
    assert cli("init", "-d", db).returncode == 0
    feed = (ROOT / "tests" / "fixtures" / "feed" / "rijksoverheid-nieuws-mensenhandel.xml")
    site.pages["/rss"] = (200, {"Content-Type": "application/rss+xml", "ETag": '"v1"'},
                          feed.read_bytes())
    site.pages["/publicaties"] = (200, {"Content-Type": "text/html; charset=utf-8"},
                                  (FIXTURES / "nr-publicaties-v1.html").read_bytes())
    site.pages["/weg"] = (302, {"Location": "http://169.254.169.254/latest/meta-data/"}, b"")

    # Adding a loopback URL is refused outright.
    refused = cli("sources", "add", "feed", f"{site.base}/rss", "-d", db)
    assert refused.returncode == 2 and "loopback" in refused.stderr
    # The test server is on loopback, so the tests add through the test-only switch.
    allow = {"BELEIDSRADAR_ALLOW_PRIVATE_URLS": "127.0.0.1"}
    engine = make_engine(db)
    from storage.models import Source

    with session_factory(engine).begin() as session:
        for slug, kind, path, config in [("feed-ro", "feed", "/rss", {}),
                                         ("page-nr", "page", "/publicaties",
                                          {"selector": "main"}),
                                         ("page-weg", "page", "/weg", {})]:
            session.add(Source(slug=slug, kind=kind, url=site.base + path, title=slug,
                               config=config, cursor={}))
    engine.dispose()

    first = cli("crawl", "feed-ro", "page-nr", "-d", db, env=allow)
    assert first.returncode == 0, first.stdout + first.stderr
    site.pages["/publicaties"] = (200, {"Content-Type": "text/html; charset=utf-8"},
                                  (FIXTURES / "nr-publicaties-v1-noise.html").read_bytes())
    second = cli("crawl", "feed-ro", "page-nr", "-d", db, env=allow)
    assert second.returncode == 0, second.stdout + second.stderr
    assert site.requests[-2][1].get("If-None-Match") == '"v1"' or \
        any(h.get("If-None-Match") == '"v1"' for p, h in site.requests if p == "/rss")
    site.pages["/publicaties"] = (200, {"Content-Type": "text/html; charset=utf-8"},
                                  (FIXTURES / "nr-publicaties-v2.html").read_bytes())
    third = cli("crawl", "page-nr", "-d", db, env=allow)
    assert third.returncode == 0, third.stdout + third.stderr

    # The test server is let through, but its redirect to the metadata address is refused.
    redirected = cli("crawl", "page-weg", "-d", db, env=allow)
    assert redirected.returncode == 1

    engine = make_engine(db)
    with session_factory(engine)() as session:
        feed_records = session.scalars(select(Record).join(Source).where(
            Source.slug == "feed-ro")).all()
        assert len(feed_records) == 2
        [page] = session.scalars(select(Record).join(Source).where(Source.slug == "page-nr")).all()
        assert [v.number for v in page.versions] == [1, 2]  # noise made no version
        kinds = session.scalars(select(ChangeEvent.kind).where(ChangeEvent.record_id == page.id)
                                .order_by(ChangeEvent.id)).all()
        assert kinds == ["new", "changed"]
        change = session.scalars(select(ChangeEvent).where(ChangeEvent.record_id == page.id,
                                                           ChangeEvent.kind == "changed")).one()
        assert change.detail["words_added"] > 5 and change.detail["words_removed"] == 0
        runs = session.scalars(select(CrawlRun).join(Source).where(Source.slug == "page-weg")
                               ).all()
        assert runs[-1].status == "failed"
        assert "169.254.169.254" in runs[-1].errors[0]["reason"]
        versions = session.scalars(select(Version).where(Version.record_id == page.id)).all()
        assert "Jaarrapportage mensenhandel 2026" in versions[-1].text
    engine.dispose()
    assert not any(p == "/latest/meta-data/" for p, _ in site.requests)
    assert socket  # the metadata address was never contacted (no server there to record it)


def test_a_maintenance_notice_or_an_empty_answer_fails_the_source_and_changes_nothing(
        tmp_path: Path, site: Site) -> None:
    """A page watched whole (no selector) and a feed; then one crawl where the site answers
    HTTP 200 with a maintenance notice and the feed with an empty body (and a new ETag)."""
    db = str(tmp_path / "a.db")
    assert cli("init", "-d", db).returncode == 0
    feed = (ROOT / "tests" / "fixtures" / "feed" / "rijksoverheid-nieuws-mensenhandel.xml")
    rss = (200, {"Content-Type": "application/rss+xml", "ETag": '"v1"'}, feed.read_bytes())
    page = (200, {"Content-Type": "text/html; charset=utf-8"},
            (FIXTURES / "nr-publicaties-v1.html").read_bytes())
    site.pages.update({"/rss": rss, "/publicaties": page})
    engine = make_engine(db)
    from storage.models import Source

    with session_factory(engine).begin() as session:
        session.add(Source(slug="feed-ro", kind="feed", url=f"{site.base}/rss", title="feed-ro",
                           config={}, cursor={}))
        session.add(Source(slug="page-nr", kind="page", url=f"{site.base}/publicaties",
                           title="page-nr", config={}, cursor={}))
    engine.dispose()
    allow = {"BELEIDSRADAR_ALLOW_PRIVATE_URLS": "127.0.0.1"}
    first = cli("crawl", "feed-ro", "page-nr", "-d", db, env=allow)
    assert first.returncode == 0, first.stdout + first.stderr

    site.pages["/publicaties"] = (200, {"Content-Type": "text/html; charset=utf-8"},
                                  (FIXTURES / "onderhoud.html").read_bytes())
    site.pages["/rss"] = (200, {"Content-Type": "application/rss+xml", "ETag": '"leeg"'}, b"")
    broken = cli("crawl", "feed-ro", "page-nr", "-d", db, env=allow)
    assert broken.returncode == 1, broken.stdout + broken.stderr

    engine = make_engine(db)
    with session_factory(engine)() as session:
        def last_run(slug: str) -> CrawlRun:
            return session.scalars(select(CrawlRun).join(Source).where(Source.slug == slug)
                                   .order_by(CrawlRun.id.desc()).limit(1)).one()

        page_run, feed_run = last_run("page-nr"), last_run("feed-ro")
        # Failed, not partial: an HTTP 200 that is no answer did not "come back".
        assert (page_run.status, feed_run.status) == ("failed", "failed")
        assert [e["reason"] for e in page_run.errors] == [
            'the page is a maintenance notice, not the content: "Vanwege gepland onderhoud is '
            'deze website vandaag tussen 18.00 en 22.00 uur niet bereikbaar."']
        assert [e["reason"] for e in feed_run.errors] == [
            "empty answer: HTTP 200 without a body"]
        # The cursor is held: the feed's ETag is still the last good fetch's.
        assert session.scalars(select(Source.cursor).where(Source.slug == "feed-ro")).one() == {
            "etag": '"v1"'}
        # Nothing archived: no version of the notice, no "changed" event.
        [record] = session.scalars(select(Record).join(Source).where(Source.slug == "page-nr"))
        assert [v.number for v in record.versions] == [1]
        assert session.scalars(select(ChangeEvent.kind).where(
            ChangeEvent.record_id == record.id)).all() == ["new"]
    engine.dispose()

    site.pages.update({"/rss": rss, "/publicaties": page})
    healed = cli("crawl", "feed-ro", "page-nr", "-d", db, env=allow)
    assert healed.returncode == 0, healed.stdout + healed.stderr
    rss_requests = [headers for path, headers in site.requests if path == "/rss"]
    assert rss_requests[-1].get("If-None-Match") == '"v1"'
    engine = make_engine(db)
    with session_factory(engine)() as session:
        [record] = session.scalars(select(Record).join(Source).where(Source.slug == "page-nr"))
        assert [v.number for v in record.versions] == [1]  # the page came back unchanged
    engine.dispose()
