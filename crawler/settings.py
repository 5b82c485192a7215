"""Scrapy settings, and our own WATCH_* settings: the one place the crawler reads the environment.

Every WATCH_* setting is declared once in ``WATCH_SETTINGS`` with its environment variable,
default and help text; README's settings table lists them all (a test checks it).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

BOT_NAME = "beleidsradar"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"


@dataclass(frozen=True)
class WatchSetting:
    name: str
    env: str
    default: Any
    help: str


#: Our settings. Values come from the environment variable if set (JSON for lists/dicts).
WATCH_SETTINGS = [
    WatchSetting(
        "WATCH_DATABASE_URL", "BELEIDSRADAR_DATABASE_URL", "beleidsradar.db",
        "The archive: a SQLite file path or a SQLAlchemy URL (postgresql://…).",
    ),
    WatchSetting(
        "WATCH_CONTACT", "BELEIDSRADAR_CONTACT", "onderzoek@example.nl",
        "Contact address sent in the User-Agent, so a source can reach the operator.",
    ),
    WatchSetting(
        "WATCH_REPLAY_DIR", "BELEIDSRADAR_REPLAY_DIR", None,
        "Serve responses from this recording instead of the network (`crawl --replay DIR`).",
    ),
    WatchSetting(
        "WATCH_RECORD_DIR", "BELEIDSRADAR_RECORD_DIR", None,
        "Write every live response into this recording (`crawl --record DIR`).",
    ),
    WatchSetting(
        "WATCH_CLOCK", "BELEIDSRADAR_CLOCK", None,
        "Record the crawl as happening at this ISO time instead of now (replay sets it to the "
        "recording's time, so a replayed week lands in its own week).",
    ),
    WatchSetting(
        "WATCH_ALLOW_PRIVATE_URLS", "BELEIDSRADAR_ALLOW_PRIVATE_URLS", "",
        "Hosts (comma-separated, or *) that researcher-added feeds and pages may reach although "
        "they are loopback or private. For tests only.",
    ),
    WatchSetting(
        "WATCH_RETRY_AFTER_MAX", "BELEIDSRADAR_RETRY_AFTER_MAX", 60,
        "Longest wait (seconds) before retrying a 429 or 503 answer that says Retry-After; a "
        "longer Retry-After is cut to this (crawler/middlewares.py).",
    ),
    WatchSetting(
        "WATCH_SOURCES", "BELEIDSRADAR_SOURCES", [],
        "Built-in sources that `crawl` (without names) and `run` visit (JSON list of slugs); "
        "empty: all of them. Researcher-added feeds and pages are always visited.",
    ),
    WatchSetting(
        "WATCH_REDIS_URL", "BELEIDSRADAR_REDIS_URL", None,
        "Scale-out: a Redis URL (redis://host:6379/0). When set, a crawl of a shareable source "
        "(tweedekamer, officielebekendmakingen) keeps its request queue and duplicate filter in "
        "Redis, and `beleidsradar worker` processes on any machine can join it. Needs a "
        "PostgreSQL archive.",
    ),
    WatchSetting(
        "WATCH_REDIS_PREFIX", "BELEIDSRADAR_REDIS_PREFIX", "beleidsradar",
        "Prefix of every Redis key a shared crawl uses (one prefix per archive sharing a Redis).",
    ),
    WatchSetting(
        "WATCH_SCALEOUT_ROLE", "BELEIDSRADAR_SCALEOUT_ROLE", "auto",
        "With WATCH_REDIS_URL: `auto` (a live crawl of a shareable source coordinates a shared "
        "crawl), `helper` (join the shared crawl of this spider's source: for Scrapyd jobs and "
        "`scrapy crawl`), or `off` (crawl alone).",
    ),
    WatchSetting(
        "WATCH_TK_ODATA_URL", "BELEIDSRADAR_TK_ODATA_URL",
        "https://gegevensmagazijn.tweedekamer.nl/OData/v4/2.0/",
        "Base URL of the Tweede Kamer OData API (it moves in 2026; SOURCES.md §1.1).",
    ),
    WatchSetting(
        "WATCH_TK_ENTITIES", "BELEIDSRADAR_TK_ENTITIES",
        {
            "Document": {
                "entity_set": "Document",
                "expand": "Kamerstukdossier,DocumentVersie,Zaak,DocumentActor",
            },
            "Zaak": {"entity_set": "Zaak", "expand": "Kamerstukdossier,ZaakActor"},
            "Activiteit": {"entity_set": "Activiteit", "expand": "Zaak,Agendapunt"},
            "Besluit": {
                "entity_set": "Besluit",
                "expand": "Zaak($expand=Kamerstukdossier,ZaakActor),Stemming,"
                "Agendapunt($expand=Activiteit)",
            },
            "Toezegging": {"entity_set": "Toezegging", "expand": ""},
        },
        "Tweede Kamer entity sets to sync and the $expand of each (JSON); the keys are ours, "
        "entity_set is the API's name, so a renamed set needs only this setting.",
    ),
    WatchSetting(
        "WATCH_SRU_URL", "BELEIDSRADAR_SRU_URL", "https://repository.overheid.nl/sru",
        "KOOP SRU endpoint for officielebekendmakingen (SOURCES.md §3.1).",
    ),
    WatchSetting(
        "WATCH_SRU_DOSSIERS", "BELEIDSRADAR_SRU_DOSSIERS",
        ["28638", "36547", "34843", "31015", "31839", "22112", "32317"],
        "Kamerstukdossiers whose publications are fetched (JSON list): the year plan's dossiers.",
    ),
    WatchSetting(
        "WATCH_SRU_TERMS", "BELEIDSRADAR_SRU_TERMS",
        ["mensenhandel", "273f", "seksueel misbruik van kinderen", "seksuele uitbuiting",
         "Nationaal Rapporteur"],
        "Full-text terms searched in every publication (JSON list).",
    ),
    WatchSetting(
        "WATCH_SRU_PAGE_SIZE", "BELEIDSRADAR_SRU_PAGE_SIZE", 100,
        "Records per SRU page (maximumRecords).",
    ),
    WatchSetting(
        "WATCH_SRU_OVERLAP_DAYS", "BELEIDSRADAR_SRU_OVERLAP_DAYS", 2,
        "Days subtracted from the stored dt.modified cursor on each run (SOURCES.md §3.6).",
    ),
    WatchSetting(
        "WATCH_TK_OVERLAP_HOURS", "BELEIDSRADAR_TK_OVERLAP_HOURS", 24,
        "Hours subtracted from the stored ApiGewijzigdOp cursor on each run (SOURCES.md §1.6).",
    ),
    WatchSetting(
        "WATCH_TK_INITIAL_DAYS", "BELEIDSRADAR_TK_INITIAL_DAYS", 7,
        "On the first run (no cursor yet), fetch the changes of this many days back.",
    ),
    # --- rijksoverheid ---
    WatchSetting(
        "WATCH_RIJKSOVERHEID_ROUTE", "BELEIDSRADAR_RIJKSOVERHEID_ROUTE", "rss",
        "How rijksoverheid.nl is read: `rss` (the search RSS that replaced the open data API "
        "in June 2026, SOURCES.md §4.3) or `classic` (the open data API, §4.2, reported gone).",
    ),
    WatchSetting(
        "WATCH_RIJKSOVERHEID_RSS_URL", "BELEIDSRADAR_RIJKSOVERHEID_RSS_URL",
        "https://www.rijksoverheid.nl/api/rss",
        "rijksoverheid.nl search RSS endpoint; a JSON `query` parameter is added (SOURCES.md §4.3).",
    ),
    WatchSetting(
        "WATCH_RIJKSOVERHEID_TERMS", "BELEIDSRADAR_RIJKSOVERHEID_TERMS",
        ["mensenhandel", "uitbuiting", "seksueel misbruik", "kindermisbruik",
         "Nationaal Rapporteur"],
        "Search terms (JSON list): one search RSS query per term (`resultSearchTerm`), news and "
        "documents published since the cursor minus the overlap.",
    ),
    WatchSetting(
        "WATCH_RIJKSOVERHEID_OVERLAP_DAYS", "BELEIDSRADAR_RIJKSOVERHEID_OVERLAP_DAYS", 14,
        "Days searched again before the stored cursor day: documents are dated by their "
        "document date, which can be days before they go online.",
    ),
    WatchSetting(
        "WATCH_RIJKSOVERHEID_KAMERSTUK_PAGES", "BELEIDSRADAR_RIJKSOVERHEID_KAMERSTUK_PAGES", True,
        "Open the rijksoverheid.nl page of every Kamerstuk found, to read the "
        "officielebekendmakingen link (kst-…) that joins it with the parliamentary copy.",
    ),
    WatchSetting(
        "WATCH_RIJKSOVERHEID_CLASSIC_URL", "BELEIDSRADAR_RIJKSOVERHEID_CLASSIC_URL",
        "https://opendata.rijksoverheid.nl/v1/",
        "Base URL of the classic open data API (route `classic` only; SOURCES.md §4.2).",
    ),
    WatchSetting(
        "WATCH_RIJKSOVERHEID_SUBJECTS", "BELEIDSRADAR_RIJKSOVERHEID_SUBJECTS",
        ["mensenhandel", "kindermishandeling", "seksueel-geweld"],
        "Onderwerp slugs (JSON list) whose news and documents the classic route asks for "
        "(route `classic` only; slugs unconfirmed, SOURCES.md §4.4).",
    ),
    # --- rechtspraak ---
    WatchSetting(
        "WATCH_RECHTSPRAAK_URL", "BELEIDSRADAR_RECHTSPRAAK_URL", "https://data.rechtspraak.nl/",
        "Base URL of the rechtspraak.nl open data service (uitspraken/zoeken, uitspraken/content; "
        "SOURCES.md §7).",
    ),
    WatchSetting(
        "WATCH_RECHTSPRAAK_SUBJECT", "BELEIDSRADAR_RECHTSPRAAK_SUBJECT",
        "http://psi.rechtspraak.nl/rechtsgebied#strafRecht",
        "Rechtsgebied URI of the search (`subject`); rulings whose metadata name another "
        "rechtsgebied are dropped; empty = all rechtsgebieden. The exact case the server "
        "accepts is unconfirmed (SOURCES.md §7.1).",
    ),
    WatchSetting(
        "WATCH_RECHTSPRAAK_TYPE", "BELEIDSRADAR_RECHTSPRAAK_TYPE", "",
        "`Uitspraak` or `Conclusie` to search one kind only; empty = both.",
    ),
    WatchSetting(
        "WATCH_RECHTSPRAAK_ARTICLES", "BELEIDSRADAR_RECHTSPRAAK_ARTICLES",
        ["273f", "240b", "244", "245", "246", "247", "248", "248a", "248b", "248c", "248d",
         "248e", "248f", "249", "250", "251", "252", "253"],
        "Articles of the Wetboek van Strafrecht (JSON list) a ruling must cite, in its law "
        "references or its text, to be kept: 273f and the sexual offences against children in "
        "the numbering before and after the Wet seksuele misdrijven (1 July 2024).",
    ),
    WatchSetting(
        "WATCH_RECHTSPRAAK_PAGE_SIZE", "BELEIDSRADAR_RECHTSPRAAK_PAGE_SIZE", 1000,
        "ECLIs per search page (`max`; the service allows at most 1000).",
    ),
    WatchSetting(
        "WATCH_RECHTSPRAAK_OVERLAP_HOURS", "BELEIDSRADAR_RECHTSPRAAK_OVERLAP_HOURS", 24,
        "Hours subtracted from the stored modification-date cursor on each run (SOURCES.md §0.6).",
    ),
    WatchSetting(
        "WATCH_RECHTSPRAAK_INITIAL_DAYS", "BELEIDSRADAR_RECHTSPRAAK_INITIAL_DAYS", 7,
        "On the first run (no cursor yet), search the rulings modified this many days back.",
    ),
    # --- eurlex ---
    WatchSetting(
        "WATCH_EURLEX_SPARQL_URL", "BELEIDSRADAR_EURLEX_SPARQL_URL",
        "https://publications.europa.eu/webapi/rdf/sparql",
        "Cellar SPARQL endpoint of the Publications Office (SOURCES.md §5.2).",
    ),
    WatchSetting(
        "WATCH_EURLEX_PAGE_URL", "BELEIDSRADAR_EURLEX_PAGE_URL",
        "https://eur-lex.europa.eu/legal-content/",
        "Base of the EUR-Lex pages items link to (…/NL/TXT/?uri=CELEX:…; SOURCES.md §5.1).",
    ),
    WatchSetting(
        "WATCH_EURLEX_PROCEDURES", "BELEIDSRADAR_EURLEX_PROCEDURES",
        ["2022/0155(COD)", "2024/0035(COD)", "2022/0426(COD)"],
        "EU interinstitutional procedures whose documents are fetched (JSON list; any spelling: "
        "2022/0155(COD), 2022-0155, 2022/0155/COD, procedure/2022_155).",
    ),
    WatchSetting(
        "WATCH_EURLEX_ACTS", "BELEIDSRADAR_EURLEX_ACTS",
        ["32024L1712", "32011L0036", "32011L0093", "32021R1232", "32024R1307"],
        "EU acts (CELEX numbers, JSON list) watched on their own: title, in force, ELI.",
    ),
    WatchSetting(
        "WATCH_EURLEX_PAGE_SIZE", "BELEIDSRADAR_EURLEX_PAGE_SIZE", 500,
        "Works per SPARQL result page (LIMIT; the next page is asked with OFFSET).",
    ),
    WatchSetting(
        "WATCH_EURLEX_OVERLAP_DAYS", "BELEIDSRADAR_EURLEX_OVERLAP_DAYS", 2,
        "Days subtracted from each stored lastModificationDate cursor (SOURCES.md §0.6).",
    ),
    WatchSetting(
        "WATCH_EURLEX_MODIFIED_FILTER", "BELEIDSRADAR_EURLEX_MODIFIED_FILTER", True,
        "Ask only for works whose cmr:lastModificationDate is on or after the cursor minus the "
        "overlap (SOURCES.md §5.2: behaviour unconfirmed). Off: every run fetches everything.",
    ),
    # --- europarl ---
    WatchSetting(
        "WATCH_EP_PROCEDURES", "BELEIDSRADAR_EP_PROCEDURES",
        ["2022/0155(COD)", "2024/0035(COD)", "2022/0426(COD)"],
        "EU procedures followed in the European Parliament (JSON list, any spelling: "
        "2022/0155(COD), 2022-0155, …): CSA regulation, CSA directive recast, anti-trafficking "
        "directive (SOURCES.md appendix A.3).",
    ),
    WatchSetting(
        "WATCH_EP_API_URL", "BELEIDSRADAR_EP_API_URL", "https://data.europarl.europa.eu/api/v2/",
        "Base URL of the European Parliament Open Data API v2 (SOURCES.md §6.1).",
    ),
    WatchSetting(
        "WATCH_EP_DOCUMENT_ENDPOINTS", "BELEIDSRADAR_EP_DOCUMENT_ENDPOINTS",
        {"A": "plenary-documents", "B": "plenary-documents", "RC": "plenary-documents",
         "TA": "adopted-texts"},
        "EP document prefix → API v2 collection it is fetched from by id (JSON); documents of "
        "other kinds are listed on the procedure but not fetched. `adopted-texts/{id}` is "
        "[UNCONFIRMED] (SOURCES.md §6.1).",
    ),
    WatchSetting(
        "WATCH_EP_OEIL_URL", "BELEIDSRADAR_EP_OEIL_URL",
        "https://oeil.secure.europarl.europa.eu/oeil/en/procedure-file",
        "Legislative Observatory procedure-file page; `?reference=2022/0155(COD)` is appended "
        "(SOURCES.md §6.2).",
    ),
    WatchSetting(
        "WATCH_EP_DOCEO_URL", "BELEIDSRADAR_EP_DOCEO_URL",
        "https://www.europarl.europa.eu/doceo/document/",
        "EP document server: plenary vote results `PV-{term}-{date}-VOT_EN.xml` (SOURCES.md "
        "§6.3) and the pages of plenary documents.",
    ),
    # --- eerstekamer ---
    WatchSetting(
        "WATCH_EK_BILL_URL", "BELEIDSRADAR_EK_BILL_URL",
        "https://www.eerstekamer.nl/wetsvoorstel/{nummer}",
        "Eerste Kamer bill page; {nummer} becomes an entry of WATCH_EK_BILLS. Whether the site "
        "needs its slug (36547_wet_…) is unconfirmed: the bare number is tried and the site's "
        "redirect followed (SOURCES.md §8.2).",
    ),
    WatchSetting(
        "WATCH_EK_BILLS", "BELEIDSRADAR_EK_BILLS", ["36547", "36835"],
        "Bills followed on eerstekamer.nl (JSON list of dossier numbers, or number_slug as the "
        "site spells the page): the 273f bill and the implementation of Directive 2024/1712.",
    ),
    # --- internetconsultatie / raadvanstate ---
    WatchSetting(
        "WATCH_INTERNETCONSULTATIE_OPEN_URL", "BELEIDSRADAR_INTERNETCONSULTATIE_OPEN_URL",
        "https://www.internetconsultatie.nl/",
        "Overview of open consultations on internetconsultatie.nl (the home page lists them; "
        "[UNCONFIRMED], SOURCES.md §8.1).",
    ),
    WatchSetting(
        "WATCH_INTERNETCONSULTATIE_CLOSED_URL", "BELEIDSRADAR_INTERNETCONSULTATIE_CLOSED_URL",
        "https://www.internetconsultatie.nl/geslotenconsultaties/",
        "Overview of closed consultations, newest first (SOURCES.md §8.1).",
    ),
    WatchSetting(
        "WATCH_INTERNETCONSULTATIE_OPEN_PAGES", "BELEIDSRADAR_INTERNETCONSULTATIE_OPEN_PAGES", 10,
        "Pages of the open-consultations overview followed (its next-page links).",
    ),
    WatchSetting(
        "WATCH_INTERNETCONSULTATIE_CLOSED_PAGES", "BELEIDSRADAR_INTERNETCONSULTATIE_CLOSED_PAGES",
        3,
        "Pages of the closed-consultations overview followed: enough to see a followed "
        "consultation close between two runs.",
    ),
    WatchSetting(
        "WATCH_INTERNETCONSULTATIE_KEYWORDS", "BELEIDSRADAR_INTERNETCONSULTATIE_KEYWORDS",
        ["mensenhandel", "273f", "seksueel", "seksuele", "kinderen", "jeugd", "minderjarig",
         "uitbuiting", "prostitutie", "sekswerk", "kinderporno", "grooming", "sextortion",
         "Nationaal Rapporteur", "2024/1712"],
        "A consultation is stored only if its title or description contains one of these (JSON "
        "list; case-insensitive substrings, so compounds count); others are counted, not stored.",
    ),
    WatchSetting(
        "WATCH_RAADVANSTATE_LISTING_URL", "BELEIDSRADAR_RAADVANSTATE_LISTING_URL",
        "https://www.raadvanstate.nl/adviezen/zoeken-in-adviezen/",
        "Overview of the Raad van State's published adviezen, newest first ([UNCONFIRMED], "
        "SOURCES.md §8.3); its next-page links are followed.",
    ),
    WatchSetting(
        "WATCH_RAADVANSTATE_MAX_PAGES", "BELEIDSRADAR_RAADVANSTATE_MAX_PAGES", 5,
        "At most this many overview pages per run (paging stops earlier at adviezen older than "
        "the cursor).",
    ),
    WatchSetting(
        "WATCH_RAADVANSTATE_OVERLAP_DAYS", "BELEIDSRADAR_RAADVANSTATE_OVERLAP_DAYS", 2,
        "Days subtracted from the stored publication-date cursor on each run.",
    ),
    WatchSetting(
        "WATCH_RAADVANSTATE_KEYWORDS", "BELEIDSRADAR_RAADVANSTATE_KEYWORDS",
        ["mensenhandel", "273f", "seksueel", "seksuele", "kinderen", "jeugd", "minderjarig",
         "uitbuiting", "prostitutie", "sekswerk", "kinderporno", "grooming", "sextortion",
         "Nationaal Rapporteur", "2024/1712"],
        "An advies is stored only if its title or summary contains one of these (JSON list; "
        "case-insensitive substrings); others are counted, not stored.",
    ),
]


def _from_env(setting: WatchSetting) -> Any:
    raw = os.environ.get(setting.env)
    if raw is None or raw == "":
        return setting.default
    if isinstance(setting.default, (dict, list)):
        return json.loads(raw)
    if isinstance(setting.default, bool):
        return raw.lower() in ("1", "true", "yes")
    if isinstance(setting.default, int):
        return int(raw)
    return raw


for _setting in WATCH_SETTINGS:
    globals()[_setting.name] = _from_env(_setting)

# --- Politeness (DESIGN.md decision 7; SOURCES.md §0.4) -------------------------------------
USER_AGENT = f"beleidsradar/0.1 (+mailto:{globals()['WATCH_CONTACT']})"
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 8
CONCURRENT_REQUESTS_PER_DOMAIN = 1
DOWNLOAD_DELAY = 0.5
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 0.5
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
DOWNLOAD_TIMEOUT = 60
RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [429, 500, 502, 503, 504, 522, 524, 408]
COOKIES_ENABLED = False
DOWNLOAD_MAXSIZE = 64 * 1024 * 1024
DOWNLOAD_WARNSIZE = 16 * 1024 * 1024

# --- Safety (DESIGN.md decision 11) ---------------------------------------------------------
# Scrapy 2.19 starts a remote-control server that runs code sent to it; the telnet console is
# a Python shell. Neither belongs on a crawler that reads untrusted content.
REMOTE_CONTROL_ENABLED = False
TELNETCONSOLE_ENABLED = False

# --- Our components --------------------------------------------------------------------------
DOWNLOADER_MIDDLEWARES = {
    # Before everything else: a refused URL never reaches robots.txt, retries or the network.
    "crawler.safety.PublicOnlyMiddleware": 50,
    # Above RedirectMiddleware (600) so a recorded redirect is replayed as a redirect, and
    # below the downloader so retries and robots.txt go through it like any request.
    "crawler.replay.ReplayRecordMiddleware": 610,
    # Scrapy's retries and redirects, made to honour Retry-After and to report redirect loops;
    # a UTF-8 body labelled Latin-1 read as UTF-8 (after decompression at 590).
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.middlewares.RetryAfterMiddleware": 550,
    "scrapy.downloadermiddlewares.redirect.RedirectMiddleware": None,
    "crawler.middlewares.RedirectMiddleware": 600,
    "crawler.middlewares.CharsetMiddleware": 580,
}
SPIDER_MIDDLEWARES = {
    # After HttpErrorMiddleware (50): a 2xx answer that is empty or a maintenance notice goes
    # to the request's errback as a failure, never to its callback.
    "crawler.middlewares.UnusableAnswerMiddleware": 60,
}
# Gives each crawl its part in a shared crawl when WATCH_REDIS_URL is set (crawler/scaleout.py).
ADDONS = {"crawler.scaleout.ScaleOut": 0}
ITEM_PIPELINES = {
    "crawler.pipelines.NormalizePipeline": 100,
    "crawler.pipelines.StorePipeline": 400,
}

FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = "INFO"
