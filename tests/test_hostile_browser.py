"""Hostile crawled content never runs, in the web UI or in the digest, checked in a real browser.

A researcher-added feed (served from loopback, crawled by the real feed spider through the CLI)
carries a title with a ``<script>``, an ``<img onerror>`` and an ``<svg onload>``, a
``javascript:`` link as the entry's own link and inside its text, and markup that never closes.
It matches a topic, so it is in the search, on its document page, in the week's events and in
the stored digest. Each page is opened in Chromium with every way a script could announce itself
watched (dialogs, page errors, CSP reports in the console, a global it would set); the DOM must
hold no script and no event-handler attribute from the feed, no ``javascript:`` link, and the
page must still end where it should (the broken markup did not swallow it). The digest's HTML is
also opened as a mail client would, without the web UI's Content-Security-Policy.
"""

from __future__ import annotations

import html
import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from crawler.replay import write_response
from storage.db import make_engine, session_factory
from storage.models import Digest, Document, Record, Source
from storage.users import add_user
from tests.conftest import IN_CI
from tests.faults import FaultyWeb
from tests.helpers import run_cli
from tests.test_browser import CHROMIUM, PASSWORD

pytestmark = pytest.mark.slow

FEED_URL = "https://nieuws.vijandig.example/feed.xml"
#: What the feed's entry says, as text: a site that writes markup where text belongs (the feed
#: spider reads titles and descriptions as text, so this is what the archive holds).
TITLE = ("Mensenhandel <script>window.__pwned='title';alert('title')</script>"
         "<img src=x onerror=\"window.__pwned='img';alert('img')\">"
         "<svg onload=\"alert('svg')\"></svg> [klik](javascript:alert('md'))")
TEXT = ("<div><table><tr><td>Slachtoffers van mensenhandel "
        "<a href=\"javascript:alert('link')\">klik hier</a> <b><i>nooit gesloten "
        "<iframe src=\"javascript:alert('frame')\"></iframe> <style>body{display:none}</style>"
        "<math><mi xlink:href=\"javascript:alert('math')\">x</mi></math>")


def _text(value: str) -> str:
    """``value`` as text inside a feed element: escaped as HTML text, then as XML."""
    return html.escape(html.escape(value))


FEED = f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0">
  <channel>
    <title>Vijandige feed</title>
    <link>https://nieuws.vijandig.example/</link>
    <item>
      <title>{_text(TITLE)}</title>
      <link>javascript:alert(document.cookie)</link>
      <guid isPermaLink="false">vijandig-1</guid>
      <pubDate>Tue, 24 Nov 2026 10:00:00 +0100</pubDate>
      <description>{_text(TEXT)}</description>
    </item>
  </channel>
</rss>
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    if not Path(CHROMIUM).exists():
        message = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
        if IN_CI:
            pytest.fail(message + "; CI=true: the browser tests must run", pytrace=False)
        pytest.skip(message)
    from waitress.server import create_server

    from web import create_app

    folder = tmp_path_factory.mktemp("hostile")
    recording = folder / "recording"
    write_response(recording, FEED_URL, status=200, body=FEED.encode(),
                   headers={"Content-Type": ["application/rss+xml; charset=utf-8"]})
    (recording / "manifest.json").write_text('{"format": 1, "sources": {}}\n')
    url = f"sqlite:///{folder / 'archive.db'}"
    assert run_cli("init", "-d", url).returncode == 0
    with FaultyWeb([recording]) as web:
        engine = make_engine(url)
        with session_factory(engine).begin() as session:
            session.add(Source(slug="feed-vijandig", kind="feed", title="Vijandig <b>nieuws",
                               url=web.base("nieuws.vijandig.example") + "/feed.xml",
                               config={}, cursor={}, active=True))
        engine.dispose()
        crawled = run_cli("crawl", "feed-vijandig", "-d", url, env={
            "BELEIDSRADAR_ALLOW_PRIVATE_URLS": "*", "BELEIDSRADAR_CLOCK": "2026-11-25T12:00:00+00:00"})
    assert crawled.returncode == 0, crawled.stdout + crawled.stderr
    stored = run_cli("digest", "--week", "2026-W48", "--send", "-d", url)
    assert stored.returncode == 0, stored.stdout + stored.stderr
    engine = make_engine(url)
    with session_factory(engine).begin() as session:
        add_user(session, "onderzoeker", PASSWORD, "editor", now=datetime.now(UTC))
    with session_factory(engine)() as session:
        from sqlalchemy import select

        [(document_id, record_title)] = session.execute(
            select(Document.id, Record.title).join(Record, Record.document_id == Document.id)
        ).all()
        digest = session.scalars(select(Digest)).one()
        digest_id, digest_html = digest.id, digest.html
    engine.dispose()
    assert "<script>" in record_title and "onerror=" in record_title  # archived as it came
    assert "Mensenhandel" in digest_html
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "h" * 40, "SECURE_COOKIES": False})
    wsgi = create_server(app, host="127.0.0.1", port=0, threads=4)
    threading.Thread(target=wsgi.run, daemon=True).start()
    try:
        yield {"base": f"http://127.0.0.1:{wsgi.effective_port}", "document": document_id,
               "digest": digest_id, "digest_html": digest_html}
    finally:
        wsgi.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM,
                                              args=["--no-sandbox", "--disable-dev-shm-usage"])
        yield chromium
        chromium.close()


class Watch:
    """Everything a script that ran (or tried to) would leave behind on a page."""

    def __init__(self, page: Any):
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.console: list[str] = []
        page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        page.on("console", lambda m: self.console.append(m.text) if m.type in (
            "error", "warning") else None)

    def assert_nothing_ran(self, page: Any, where: str) -> None:
        assert self.dialogs == [], f"{where}: a dialog opened: {self.dialogs}"
        assert self.errors == [], f"{where}: {self.errors}"
        blocked = [m for m in self.console if "Content Security Policy" in m]
        assert blocked == [], f"{where}: something tried to run and CSP stopped it: {blocked}"
        assert page.evaluate("() => window.__pwned === undefined"), where


def dom_is_inert(frame: Any) -> None:
    """No script or handler from the feed in the DOM, and no javascript: address anywhere."""
    found = frame.evaluate("""() => {
        const bad = [];
        for (const el of document.querySelectorAll('*')) {
            for (const attr of el.attributes) {
                if (attr.name.startsWith('on')) bad.push(el.tagName + ' ' + attr.name);
                if (/^\\s*javascript:/i.test(attr.value)) bad.push(el.tagName + ' ' + attr.name);
            }
            if (el.tagName === 'STYLE' && el.closest('body')) bad.push('STYLE in body');
            if (['SCRIPT', 'IFRAME', 'SVG', 'MATH', 'OBJECT', 'EMBED'].includes(el.tagName)
                && !(el.tagName === 'IFRAME' && el.classList.contains('digest')))
                bad.push(el.tagName);
        }
        return bad;
    }""")
    assert found == [], found


def signed_in(browser: Any, base: str) -> tuple[Any, Any]:
    context = browser.new_context(locale="nl-NL")
    page = context.new_page()
    page.goto(base + "/inloggen")
    page.fill("#username", "onderzoeker")
    page.fill("#password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/$"))
    return context, page


def test_hostile_content_never_runs_in_the_web_ui(server: dict[str, Any], browser: Any) -> None:
    from playwright.sync_api import expect

    context, page = signed_in(browser, server["base"])
    watch = Watch(page)
    for path in ("/", "/zoeken?q=mensenhandel", f"/documenten/{server['document']}",
                 "/bronnen", f"/digests/{server['digest']}",
                 f"/api/documents/{server['document']}"):
        page.goto(server["base"] + path)
        page.wait_for_load_state("load")
        if not path.startswith("/api/"):
            dom_is_inert(page)
            expect(page.locator("nav").first).to_be_visible()
            # The unclosed markup is text: the page is still header + main, nothing more.
            assert page.evaluate("() => Array.from(document.body.children, e => e.tagName)"
                                 ) == ["HEADER", "MAIN"], path
        watch.assert_nothing_ran(page, path)
    # The hostile title is there, as text.
    page.goto(server["base"] + f"/documenten/{server['document']}")
    expect(page.locator("h1")).to_contain_text("<script>window.__pwned='title'")
    # The digest as the web UI shows it (a sandboxed frame), its content inert too.
    page.goto(server["base"] + f"/digests/{server['digest']}")
    frame = page.frame_locator("iframe.digest")
    expect(frame.locator("body")).to_contain_text("<img src=x onerror=")
    inner = next(f for f in page.frames if f.url.endswith("/als-verzonden"))
    dom_is_inert(inner)
    watch.assert_nothing_ran(page, "digest frame")
    context.close()


def test_the_digest_as_mailed_runs_nothing_without_the_web_uis_protection(
        server: dict[str, Any], browser: Any) -> None:
    """A mail client applies no Content-Security-Policy: the digest's own escaping must hold."""
    from playwright.sync_api import expect

    context = browser.new_context(java_script_enabled=True)
    page = context.new_page()
    watch = Watch(page)
    page.set_content(server["digest_html"], wait_until="load")
    dom_is_inert(page)
    expect(page.locator("body")).to_contain_text("<script>window.__pwned='title'")
    expect(page.locator("body")).to_contain_text("Bronnen deze week")  # the last section is there
    watch.assert_nothing_ran(page, "digest as mailed")
    context.close()
