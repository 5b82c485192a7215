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
}
ITEM_PIPELINES = {
    "crawler.pipelines.NormalizePipeline": 100,
    "crawler.pipelines.StorePipeline": 400,
}

FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = "INFO"
