"""End-to-end in a real browser: Debian's Chromium driven by Playwright, against the web UI
served by waitress over HTTP, on the archive `beleidsradar demo` builds from the bundled week.

A researcher signs in, searches, opens a document and its diff, makes a topic from a search
and previews it, and reads the week's digest. With BELEIDSRADAR_SCREENSHOTS=DIR the main
pages are saved there as PNG (scripts/screenshot-web refreshes docs/screenshots/ this way).
In CI (CI=true) a missing Chromium fails the test instead of skipping it.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from storage.db import make_engine, session_factory
from storage.users import add_user
from tests.conftest import IN_CI
from tests.helpers import run_cli

CHROMIUM = os.environ.get("BELEIDSRADAR_CHROMIUM", "/usr/bin/chromium")
PASSWORD = "a long demo password"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not Path(CHROMIUM).exists():
        message = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
        if IN_CI:
            pytest.fail(message + "; CI=true: the browser tests must run", pytrace=False)
        pytest.skip(message)
    from waitress.server import create_server

    from web import create_app

    folder = tmp_path_factory.mktemp("browser") / "demo"
    built = run_cli("demo", "--dir", str(folder))
    assert built.returncode == 0, built.stdout + built.stderr
    url = f"sqlite:///{folder / 'beleidsradar.db'}"
    engine = make_engine(url)
    with session_factory(engine).begin() as session:
        add_user(session, "onderzoeker", PASSWORD, "editor", now=datetime.now(UTC))
    engine.dispose()
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "b" * 40, "SECURE_COOKIES": False})
    wsgi = create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=wsgi.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{wsgi.effective_port}"
    finally:
        wsgi.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM,
                                              args=["--no-sandbox", "--disable-dev-shm-usage"])
        yield chromium
        chromium.close()


def _shot(page: object, name: str) -> None:
    folder = os.environ.get("BELEIDSRADAR_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]


def test_a_researchers_week_in_the_browser(server: str, browser: object) -> None:
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1280, "height": 900},  # type: ignore[attr-defined]
                                  locale="nl-NL")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    # Sign in (a wrong password first).
    page.goto(server + "/zoeken?q=mensenhandel")
    expect(page).to_have_url(re.compile(r"/inloggen\?next="))
    _shot(page, "inloggen")
    page.fill("#username", "onderzoeker")
    page.fill("#password", "wrong password")
    page.click("button[type=submit]")
    expect(page.locator(".flash-error")).to_contain_text("Onjuiste gebruikersnaam")
    page.fill("#username", "onderzoeker")
    page.fill("#password", PASSWORD)
    page.click("main button[type=submit]")
    expect(page).to_have_url(re.compile(r"/zoeken\?q=mensenhandel$"))  # back where we were

    # Search: results with facets, a highlighted reason and export links.
    expect(page.locator(".result").first).to_be_visible()
    expect(page.locator("text=documenten").first).to_be_visible()
    assert page.locator(".result mark").count() > 0
    expect(page.locator(".facets h3", has_text="Bron")).to_be_visible()
    _shot(page, "zoeken")
    page.locator(".facets a", has_text="tweedekamer").first.click()
    expect(page).to_have_url(re.compile(r"bron=tweedekamer"))
    total = page.locator("section p strong").first.inner_text()
    assert re.match(r"\d+ documenten", total)

    # A document with two versions: its word diff.
    page.goto(server + "/zoeken?q=kamerstuk:kst-28638-271")
    page.locator(".result h3 a").first.click()
    expect(page.locator("h1")).to_contain_text("Actieplan Samen tegen Mensenhandel")
    expect(page.locator(".diff ins").first).to_be_visible()
    expect(page.locator("text=officielebekendmakingen").first).to_be_visible()
    _shot(page, "document")
    page.select_option("select[name=weergave]", "naast")
    page.locator("form button.secondary", has_text="Verschil").first.click()
    expect(page.locator("table.side")).to_be_visible()

    # Mark it relevant with a note; the topic page counts the judgement.
    page.select_option("#verdict", "relevant")
    page.fill("#note", "Belangrijk voor het jaarverslag")
    page.locator("#oordelen ~ .card button[type=submit]").click()
    expect(page.locator(".flash-ok")).to_be_visible()
    expect(page.locator("text=Belangrijk voor het jaarverslag")).to_be_visible()

    # A topic from a search, previewed before it is saved.
    page.goto(server + "/zoeken?q=%22gespecialiseerde%20opvang%22")
    page.click("text=Maak een onderwerp van deze zoekvraag")
    expect(page.locator("#query")).to_have_value('"gespecialiseerde opvang"')
    page.fill("#slug", "opvang-slachtoffers")
    page.fill("#title", "Opvang van minderjarige slachtoffers")
    page.click("button[value=preview]")
    expect(page.locator("#voorbeeld h2")).to_contain_text("documenten in het archief zouden passen")
    assert page.locator("#voorbeeld table tr").count() >= 1
    _shot(page, "onderwerp-voorbeeld")
    page.click("button[value=save]")
    expect(page).to_have_url(re.compile(r"/onderwerpen/opvang-slachtoffers$"))
    expect(page.locator("h1")).to_contain_text("Opvang van minderjarige slachtoffers")

    # The week's digest, as it was stored.
    page.goto(server + "/")
    _shot(page, "overzicht")
    page.click("text=Alle digests")
    page.locator("table a").first.click()
    frame = page.frame_locator("iframe.digest")
    expect(frame.locator("body")).to_contain_text("weekoverzicht")
    _shot(page, "digest")

    # Sources and a timeline, then English.
    page.goto(server + "/bronnen")
    expect(page.locator("td", has_text="rechtspraak").first).to_be_visible()
    _shot(page, "bronnen")
    page.goto(server + "/dossiers/36547")
    expect(page.locator("h1")).to_contain_text("36547")
    _shot(page, "dossier")
    page.click("text=English")
    expect(page.locator("nav")).to_contain_text("Search")
    assert errors == []
    context.close()
