"""internetconsultatie.nl's part of the demo recording: the overviews and consultations of weeks
47 and 48.

``write(folder, visit, recorded_at)`` answers every request the internetconsultatie spider makes
in that visit: the overview of open consultations, the closed ones (two pages), and for every
listed consultation its page and its description tab (``/b1``) — also those the spider skips in
visit 2 because visit 1 judged them off-topic, so the recording serves a run without that cursor
too. The pages are written (no real internetconsultatie.nl HTML was available; see
tests/fixtures/internetconsultatie/NOTES.md) and kept in tests/fixtures/internetconsultatie/demo/.

The story: in week 47 the Jeugdwet change from the Hervormingsagenda Jeugd is open until
24 November (so it is in the week-47 agenda) and the consultation on the Sr/Sv bill implementing
Directive (EU) 2024/1712 (the bill that reaches the Tweede Kamer as 37071 on 23 November) is long
closed; four off-topic consultations are counted and not stored. In week 48 the Jeugdwet
consultation has closed (a ``stadium`` status event: open → gesloten), and two consultations
opened: the draft decree on a national referral mechanism for victims of trafficking (Directive
2024/1712, art. 11(4); open 24 November – 22 December, so in the week-48 agenda) and an
off-topic one on energy labels.
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from urllib.parse import urljoin, urlsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from scrapy.crawler import Crawler

from crawler.replay import update_manifest, write_response
from crawler.runner import project_settings
from crawler.spiders.internetconsultatie import InternetconsultatieSpider

PAGES = ROOT / "tests" / "fixtures" / "internetconsultatie" / "demo"
HTML = {"Content-Type": ["text/html; charset=utf-8"]}

#: The overview pages of each visit: the open ones (at WATCH_INTERNETCONSULTATIE_OPEN_URL) and
#: the closed ones (page 1 at WATCH_INTERNETCONSULTATIE_CLOSED_URL, the next at the link it gives).
OVERVIEWS = {
    1: {"open": "week47-open.html", "closed": "week47-gesloten-1.html",
        "/geslotenconsultaties/?pagina=2": "week47-gesloten-2.html"},
    2: {"open": "week48-open.html", "closed": "week48-gesloten-1.html",
        "/geslotenconsultaties/?pagina=2": "week48-gesloten-2.html"},
}
#: Each consultation's page per visit (its description tab is ``<slug>-b1.html`` in both).
CONSULTATIONS = {
    1: {
        "jeugdwet_reikwijdte_jeugdhulp": "jeugdwet_reikwijdte_jeugdhulp-week47.html",
        "implementatie_richtlijn_mensenhandel": "implementatie_richtlijn_mensenhandel.html",
        "huurprijzen_woonruimte_2027": "huurprijzen_woonruimte_2027.html",
        "geluidregels_windturbines": "geluidregels_windturbines.html",
        "accijns_tabak_2027": "accijns_tabak_2027.html",
        "visserij_aanlandplicht": "visserij_aanlandplicht.html",
    },
    2: {
        "verwijzingsmechanisme_mensenhandel": "verwijzingsmechanisme_mensenhandel.html",
        "energielabel_utiliteitsgebouwen": "energielabel_utiliteitsgebouwen.html",
        "jeugdwet_reikwijdte_jeugdhulp": "jeugdwet_reikwijdte_jeugdhulp-week48.html",
        "implementatie_richtlijn_mensenhandel": "implementatie_richtlijn_mensenhandel.html",
        "huurprijzen_woonruimte_2027": "huurprijzen_woonruimte_2027.html",
        "geluidregels_windturbines": "geluidregels_windturbines.html",
        "accijns_tabak_2027": "accijns_tabak_2027.html",
        "visserij_aanlandplicht": "visserij_aanlandplicht.html",
    },
}
#: What visit 1 judges off-topic (by the default keywords): visit 2 starts from this cursor.
OFF_TOPIC_AFTER_VISIT_1 = ["accijns_tabak_2027", "geluidregels_windturbines",
                           "huurprijzen_woonruimte_2027", "visserij_aanlandplicht"]


def spider() -> InternetconsultatieSpider:
    return InternetconsultatieSpider.from_crawler(
        Crawler(InternetconsultatieSpider, project_settings()))


def responses(visit: int) -> dict[str, Path]:
    """Request URL → recorded body, for every request of ``visit``."""
    ic = spider()
    site = "{0.scheme}://{0.netloc}/".format(urlsplit(ic.open_url))
    found: dict[str, Path] = {}
    for key, name in OVERVIEWS[visit].items():
        url = {"open": ic.open_url, "closed": ic.closed_url}.get(key) or urljoin(site, key)
        found[url] = PAGES / name
    for slug, name in CONSULTATIONS[visit].items():
        found[urljoin(site, slug)] = PAGES / name
        found[urljoin(site, f"{slug}/b1")] = PAGES / f"{slug}-b1.html"
    return found


def cursor(visit: int) -> dict[str, object] | None:
    """The cursor the visit starts from: none at first, then what visit 1 leaves."""
    if visit == 1:
        return None
    return {"keywords": spider().keyword_digest, "off_topic": OFF_TOPIC_AFTER_VISIT_1}


def write(folder: Path, visit: int, recorded_at: datetime) -> None:
    """Write the responses of ``visit`` (1 or 2) into the recording ``folder``."""
    if visit not in OVERVIEWS:
        raise ValueError(f"the demo has no internetconsultatie visit {visit}")
    for url, path in responses(visit).items():
        write_response(folder, url, status=200, headers=HTML, body=path.read_bytes(),
                       recorded_at=recorded_at)
    start = cursor(visit)
    if start is None:
        update_manifest(folder, InternetconsultatieSpider.name)
    else:
        update_manifest(folder, InternetconsultatieSpider.name, cursor=start)
