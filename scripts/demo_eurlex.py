"""The eurlex spider's part of the demo recording: Cellar SPARQL answers for two weekly visits.

``write(folder, visit, recorded_at)`` stores, for each query the spider asks in that visit, the
response Cellar would give, in the wire format of the real sample
(shared/fixtures/eurlex/cellar-sparql-json-celex-32011L0092-metadata.json: ``head.link``/``vars``,
``results.distinct``/``ordered``/``bindings``, typed literals, unbound variables absent).

The works are **written** (see tests/fixtures/eurlex/NOTES.md): the monitored procedures' known
documents and the monitored acts as Cellar holds them, with invented Cellar ids and modification
times. The responses are not hand-picked per query: ``answer`` evaluates what the spider's query
asks (the works of a procedure or one CELEX, modified on or after the query's start day or
without a modification date) against the state of Cellar at that visit, so the second visit's
answers also hold the works a real server returns again because of the overlap window.

Visit 1 (20 November 2026) is the source's first run: no cursor, every query fetches everything.
Visit 2 (27 November 2026) starts from the cursor visit 1 leaves (computed by running the spider's
own callbacks on visit 1's answers). That week procedure 2024/0035(COD) (recast directive on child
sexual abuse) gains a Council document: the analysis of the final compromise text for Coreper,
which has no CELEX number; Cellar touched the metadata of COM(2022) 209 (2022/0155(COD)), which
therefore comes back unchanged. No answer is off-topic: every query is scoped to a monitored
procedure or act, so an off-topic work would have to be invented.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from scrapy import Request  # noqa: E402
from scrapy.crawler import Crawler  # noqa: E402
from scrapy.http import TextResponse  # noqa: E402

from crawler.replay import update_manifest, write_response  # noqa: E402
from crawler.runner import project_settings  # noqa: E402
from crawler.spiders.eurlex import EurlexSpider, Watch  # noqa: E402

XSD = "http://www.w3.org/2001/XMLSchema#"
CELLAR = "http://publications.europa.eu/resource/cellar/"
AUTHORITY = "http://publications.europa.eu/resource/authority/"
HEADERS = {"Content-Type": ["application/sparql-results+json"]}
#: The variables of the spider's SELECT, in its order.
VARS = ["work", "celex", "datum", "titel_nl", "titel_en", "eli", "oj_id", "in_force", "modified",
        "types", "authors", "procedures", "relations"]
DATATYPES = {"celex": "string", "datum": "date", "titel_nl": "string", "titel_en": "string",
             "eli": "anyURI", "oj_id": "string", "in_force": "boolean", "modified": "dateTime"}


def sparql_json(rows: list[dict[str, str]], variables: list[str] = VARS) -> bytes:
    """A SPARQL 1.1 JSON result as Cellar's Virtuoso writes it: typed literals, the work as a
    URI, aggregates (GROUP_CONCAT) as plain literals, unbound variables left out."""
    bindings = []
    for row in rows:
        binding: dict[str, Any] = {}
        for name in variables:
            if name not in row:
                continue
            if name == "work":
                binding[name] = {"type": "uri", "value": row[name]}
            elif name in DATATYPES:
                binding[name] = {"type": "literal", "datatype": XSD + DATATYPES[name],
                                 "value": row[name]}
            else:
                binding[name] = {"type": "literal", "value": row[name]}
        bindings.append(binding)
    body = {"head": {"link": [], "vars": variables},
            "results": {"distinct": False, "ordered": True, "bindings": bindings}}
    return json.dumps(body, indent=1, ensure_ascii=False).encode("utf-8")


def _types(*codes: str) -> str:
    return " ".join(f"{AUTHORITY}resource-type/{c}" for c in codes)


def _authors(*codes: str) -> str:
    return " ".join(f"{AUTHORITY}corporate-body/{c}" for c in codes)


# --- Cellar as it stands at visit 1 (written; see the module docstring) ------------------------
#: Each work: its row, and the watches whose query selects it ("in").
WORKS: list[dict[str, Any]] = [
    {"in": ["procedure:2022/0155(COD)"], "row": {
        "work": CELLAR + "8b7c0a57-d1a4-11ec-a95f-01aa75ed71a1", "celex": "52022PC0209",
        "datum": "2022-05-11",
        "titel_nl": "Voorstel voor een VERORDENING VAN HET EUROPEES PARLEMENT EN DE RAAD tot "
                    "vaststelling van regels ter voorkoming en bestrijding van seksueel misbruik "
                    "van kinderen",
        "titel_en": "Proposal for a REGULATION OF THE EUROPEAN PARLIAMENT AND OF THE COUNCIL "
                    "laying down rules to prevent and combat child sexual abuse",
        "modified": "2026-10-02T09:14:51.309+02:00", "types": _types("PROP_REG"),
        "authors": _authors("COM", "HOME"), "procedures": "2022/0155/COD",
        "relations": "dossier"}},
    {"in": ["procedure:2022/0155(COD)"], "row": {
        "work": CELLAR + "8b7c0a5c-d1a4-11ec-a95f-01aa75ed71a1", "celex": "52022SC0209",
        "datum": "2022-05-11",
        "titel_en": "COMMISSION STAFF WORKING DOCUMENT IMPACT ASSESSMENT REPORT Accompanying the "
                    "document Proposal for a Regulation of the European Parliament and of the "
                    "Council laying down rules to prevent and combat child sexual abuse",
        "modified": "2025-03-18T11:20:07.114+01:00", "authors": _authors("COM", "HOME"),
        "procedures": "2022/0155/COD", "relations": "dossier"}},
    {"in": ["procedure:2024/0035(COD)"], "row": {
        "work": CELLAR + "2f1e6c33-c4d6-11ee-b164-01aa75ed71a1", "celex": "52024PC0060",
        "datum": "2024-02-06",
        "titel_nl": "Voorstel voor een RICHTLIJN VAN HET EUROPEES PARLEMENT EN DE RAAD ter "
                    "bestrijding van seksueel misbruik en seksuele uitbuiting van kinderen en "
                    "van materiaal van seksueel misbruik van kinderen, en ter vervanging van "
                    "Kaderbesluit 2004/68/JBZ van de Raad (herschikking)",
        "titel_en": "Proposal for a DIRECTIVE OF THE EUROPEAN PARLIAMENT AND OF THE COUNCIL on "
                    "combating the sexual abuse and sexual exploitation of children and child "
                    "sexual abuse material and replacing Council Framework Decision 2004/68/JHA "
                    "(recast)",
        "modified": "2026-09-14T16:02:11.532+02:00", "types": _types("PROP_DIR"),
        "authors": _authors("COM", "HOME"), "procedures": "2024/0035/COD",
        "relations": "dossier"}},
    {"in": ["procedure:2022/0426(COD)"], "row": {
        "work": CELLAR + "a1c2e0f4-7f7b-11ed-9887-01aa75ed71a1", "celex": "52022PC0732",
        "datum": "2022-12-19",
        "titel_nl": "Voorstel voor een RICHTLIJN VAN HET EUROPEES PARLEMENT EN DE RAAD tot "
                    "wijziging van Richtlijn 2011/36/EU inzake de voorkoming en bestrijding van "
                    "mensenhandel en de bescherming van slachtoffers daarvan",
        "titel_en": "Proposal for a DIRECTIVE OF THE EUROPEAN PARLIAMENT AND OF THE COUNCIL "
                    "amending Directive 2011/36/EU on preventing and combating trafficking in "
                    "human beings and protecting its victims",
        "modified": "2025-11-03T13:47:29.061+01:00", "types": _types("PROP_DIR"),
        "authors": _authors("COM", "HOME"), "procedures": "2022/0426/COD",
        "relations": "dossier"}},
    {"in": ["procedure:2022/0426(COD)", "act:32024L1712"], "row": {
        "work": CELLAR + "c5f0b1a2-2f5e-11ef-a251-01aa75ed71a1", "celex": "32024L1712",
        "datum": "2024-06-13",
        "titel_nl": "Richtlijn (EU) 2024/1712 van het Europees Parlement en de Raad van 13 juni "
                    "2024 tot wijziging van Richtlijn 2011/36/EU inzake de voorkoming en "
                    "bestrijding van mensenhandel en de bescherming van slachtoffers daarvan",
        "titel_en": "Directive (EU) 2024/1712 of the European Parliament and of the Council of 13 "
                    "June 2024 amending Directive 2011/36/EU on preventing and combating "
                    "trafficking in human beings and protecting its victims",
        "eli": "http://data.europa.eu/eli/dir/2024/1712/oj", "oj_id": "oj:L_202401712",
        "in_force": "true", "modified": "2026-07-15T02:11:40.250+02:00",
        "types": _types("DIR"), "authors": _authors("EP", "CONSIL"),
        "procedures": "2022/0426/COD", "relations": "adopts"}},
    {"in": ["act:32011L0036"], "row": {
        "work": CELLAR + "9b1e2c3d-6b2e-4a71-8f0e-3c2d1b0a9e11", "celex": "32011L0036",
        "datum": "2011-04-05",
        "titel_nl": "Richtlijn 2011/36/EU van het Europees Parlement en de Raad van 5 april 2011 "
                    "inzake de voorkoming en bestrijding van mensenhandel en de bescherming van "
                    "slachtoffers daarvan, en ter vervanging van Kaderbesluit 2002/629/JBZ van "
                    "de Raad",
        "titel_en": "Directive 2011/36/EU of the European Parliament and of the Council of 5 "
                    "April 2011 on preventing and combating trafficking in human beings and "
                    "protecting its victims, and replacing Council Framework Decision "
                    "2002/629/JHA",
        "eli": "http://data.europa.eu/eli/dir/2011/36/oj", "oj_id": "oj:JOL_2011_101_R_0001_01",
        "in_force": "true", "modified": "2026-07-16T03:40:12.004+02:00",
        "types": _types("DIR"), "authors": _authors("EP", "CONSIL")}},
    {"in": ["act:32011L0093"], "row": {
        "work": CELLAR + "0d6f8e3a-4c1b-4e5f-9a7d-2b8c6e4f1a20", "celex": "32011L0093",
        "datum": "2011-12-13",
        "titel_nl": "Richtlijn 2011/93/EU van het Europees Parlement en de Raad van 13 december "
                    "2011 ter bestrijding van seksueel misbruik en seksuele uitbuiting van "
                    "kinderen en kinderpornografie, en ter vervanging van Kaderbesluit "
                    "2004/68/JBZ van de Raad",
        "titel_en": "Directive 2011/93/EU of the European Parliament and of the Council of 13 "
                    "December 2011 on combating the sexual abuse and sexual exploitation of "
                    "children and child pornography, and replacing Council Framework Decision "
                    "2004/68/JHA",
        "eli": "http://data.europa.eu/eli/dir/2011/93/oj", "oj_id": "oj:JOL_2011_335_R_0001_01",
        "in_force": "true", "modified": "2025-12-02T22:05:51.618+01:00",
        "types": _types("DIR"), "authors": _authors("EP", "CONSIL")}},
    {"in": ["act:32021R1232"], "row": {
        "work": CELLAR + "e2b6a1f0-f0f1-11eb-a71c-01aa75ed71a1", "celex": "32021R1232",
        "datum": "2021-07-14",
        "titel_nl": "Verordening (EU) 2021/1232 van het Europees Parlement en de Raad van 14 juli "
                    "2021 betreffende een tijdelijke afwijking van bepaalde bepalingen van "
                    "Richtlijn 2002/58/EG wat betreft het gebruik van technologieën door "
                    "aanbieders van nummeronafhankelijke interpersoonlijke communicatiediensten "
                    "voor de verwerking van persoonsgegevens en andere gegevens ten behoeve van "
                    "de bestrijding van online seksueel misbruik van kinderen (Voor de EER "
                    "relevante tekst)",
        "titel_en": "Regulation (EU) 2021/1232 of the European Parliament and of the Council of "
                    "14 July 2021 on a temporary derogation from certain provisions of Directive "
                    "2002/58/EC as regards the use of technologies by providers of "
                    "number-independent interpersonal communications services for the "
                    "processing of personal and other data for the purpose of combating online "
                    "child sexual abuse (Text with EEA relevance)",
        "eli": "http://data.europa.eu/eli/reg/2021/1232/oj", "in_force": "false",
        "modified": "2026-04-05T01:12:33.870+02:00", "types": _types("REG"),
        "authors": _authors("EP", "CONSIL")}},
    {"in": ["act:32024R1307"], "row": {
        "work": CELLAR + "7c4d2e19-0a3b-11ef-a251-01aa75ed71a1", "celex": "32024R1307",
        "datum": "2024-04-29",
        "titel_nl": "Verordening (EU) 2024/1307 van het Europees Parlement en de Raad van 29 april "
                    "2024 tot wijziging van Verordening (EU) 2021/1232 betreffende een "
                    "tijdelijke afwijking van bepaalde bepalingen van Richtlijn 2002/58/EG wat "
                    "betreft het gebruik van technologieën door aanbieders van "
                    "nummeronafhankelijke interpersoonlijke communicatiediensten voor de "
                    "verwerking van persoonsgegevens en andere gegevens ten behoeve van de "
                    "bestrijding van online seksueel misbruik van kinderen (Voor de EER "
                    "relevante tekst)",
        "titel_en": "Regulation (EU) 2024/1307 of the European Parliament and of the Council of "
                    "29 April 2024 amending Regulation (EU) 2021/1232 on a temporary derogation "
                    "from certain provisions of Directive 2002/58/EC as regards the use of "
                    "technologies by providers of number-independent interpersonal "
                    "communications services for the processing of personal and other data for "
                    "the purpose of combating online child sexual abuse (Text with EEA "
                    "relevance)",
        "eli": "http://data.europa.eu/eli/reg/2024/1307/oj",
        "modified": "2026-04-05T01:12:35.102+02:00", "types": _types("REG"),
        "authors": _authors("EP", "CONSIL")}},
]

#: What changed in Cellar during week 48 (written).
WEEK48_CHANGES: dict[str, dict[str, str]] = {
    # Cellar touched the metadata of COM(2022) 209: it comes back, unchanged for the archive.
    "52022PC0209": {"modified": "2026-11-24T07:55:02.640+01:00"},
}
WEEK48_NEW: list[dict[str, Any]] = [
    {"in": ["procedure:2024/0035(COD)"], "row": {
        "work": CELLAR + "f3a9d2c1-ccf0-11f1-8e52-01aa75ed71a1", "datum": "2026-11-25",
        "titel_en": "Proposal for a Directive of the European Parliament and of the Council on "
                    "combating the sexual abuse and sexual exploitation of children and child "
                    "sexual abuse material and replacing Council Framework Decision 2004/68/JHA "
                    "(recast) - Analysis of the final compromise text with a view to agreement",
        "modified": "2026-11-25T18:02:44.371+01:00", "authors": _authors("CONSIL"),
        "procedures": "2024/0035/COD", "relations": "dossier"}},
]


def cellar_state(visit: int) -> list[dict[str, Any]]:
    """The works as Cellar holds them at a visit."""
    works = [{"in": w["in"], "row": dict(w["row"])} for w in WORKS]
    if visit >= 2:
        for work in works:
            work["row"].update(WEEK48_CHANGES.get(work["row"].get("celex", ""), {}))
        works += [{"in": w["in"], "row": dict(w["row"])} for w in WEEK48_NEW]
    return works


def answer(works: list[dict[str, Any]], watch: Watch, since: str | None) -> list[dict[str, str]]:
    """What the spider's query returns: the watch's works, modified on or after ``since``
    (compared as text, as the query's FILTER does) or without a modification date, by work."""
    rows = [w["row"] for w in works if watch.key in w["in"]
            and (since is None or "modified" not in w["row"] or w["row"]["modified"] >= since)]
    return sorted(rows, key=lambda r: r["work"])


def _spider(cursor: dict[str, str] | None) -> EurlexSpider:
    return EurlexSpider.from_crawler(Crawler(EurlexSpider, project_settings()), cursor=cursor)


def responses(visit: int, cursor: dict[str, str] | None) -> list[tuple[Request, bytes]]:
    """(request, body) of every request the spider makes in this visit, pages included."""
    spider = _spider(cursor)
    works = cellar_state(visit)
    found = []
    for watch in spider.watches():
        since = spider.since(watch)
        rows = answer(works, watch, since.isoformat() if since else None)
        offset = 0
        while True:
            page = rows[offset:offset + spider.page_size]
            found.append((spider.query_request(watch, offset), sparql_json(page)))
            if len(page) < spider.page_size:
                break
            offset += spider.page_size
    return found


def cursor_after(visit: int, cursor: dict[str, str] | None) -> dict[str, str]:
    """The cursor the spider stores after this visit: its own callbacks run on the answers."""
    spider = _spider(cursor)
    for request, body in responses(visit, cursor):
        watch, offset = request.cb_kwargs["watch"], request.cb_kwargs["offset"]
        own = spider.query_request(watch, offset)
        list(spider.parse_results(
            TextResponse(own.url, body=body, request=own, encoding="utf-8"),
            watch=watch, offset=offset))
    if spider.failures:
        raise RuntimeError(f"the demo answers do not parse: {spider.failures}")
    return spider.next_cursor()


#: Visit → the cursor the spider starts from (None: the first run, taken from an empty archive).
def start_cursor(visit: int) -> dict[str, str] | None:
    return None if visit == 1 else cursor_after(1, None)


def write(folder: Path, visit: int, recorded_at: datetime) -> None:
    """Write this visit's Cellar answers into the recording ``folder``."""
    if visit not in (1, 2):
        return
    cursor = start_cursor(visit)
    for request, body in responses(visit, cursor):
        write_response(folder, request.url, status=200, headers=HEADERS, body=body,
                       method=request.method, request_body=request.body,
                       recorded_at=recorded_at)
    if cursor is None:
        update_manifest(folder, EurlexSpider.name)
    else:
        update_manifest(folder, EurlexSpider.name, cursor=cursor)


if __name__ == "__main__":
    for number, label in ((1, "1-week47"), (2, "2-week48")):
        cursor = start_cursor(number)
        print(label, json.dumps(cursor), len(responses(number, cursor)), "responses")
