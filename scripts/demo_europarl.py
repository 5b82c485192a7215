"""The European Parliament's part of the demo recording: weeks 47 and 48 of 2026.

``write(folder, visit, recorded_at)`` stores every response the europarl spider asks for during
that visit, at the spider's own request URLs (computed by instantiating it with the project
settings), in the replay layout of ``crawler/replay.py``.

Everything here is **written** (see tests/fixtures/europarl/NOTES.md), in the wire formats of
the real samples: API v2 JSON-LD shaped like ``epapi-v2-procedure-2025-2691-…json`` and
``epapi-v2-document-RC-10-2025-0249.json`` (relative ids under ``@base``, language maps; four
languages instead of all 24), and OEIL procedure files with the markup of
``oeil-procedure-file-2024-0258-COD.html`` (same sections, classes and tables; head, navigation
and footer left out; a "Forecasts" section as in
``oeil-procedure-file-2024-0258-COD-forecasts.html`` where the file has forecasts). The vote file
of 23 April 2024 is the real one.

The story: the CSA regulation (2022/0155(COD)) does not move. The recast CSA directive
(2024/0035(COD)) awaits Parliament's first-reading position in week 47; in week 48 LIBE approves
the text agreed with the Council (key event 25 November 2026) and the file now awaits the plenary
vote, so its ``stadium`` changes; OEIL's indicative plenary sitting date moves from 18 January
2027 (week 47, outside that week's four-week agenda) to the December session, 14 December 2026,
which puts the vote in week 48's agenda. The anti-trafficking directive (2022/0426(COD),
Directive (EU) 2024/1712) is completed, with the real result of the plenary vote of 23 April 2024
(563–7–17).
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from html import escape
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scrapy.crawler import Crawler  # noqa: E402

from crawler.replay import update_manifest, write_response  # noqa: E402
from crawler.runner import project_settings  # noqa: E402
from crawler.spiders.europarl import (  # noqa: E402
    EuroparlSpider, ProcedureRun, api_procedure, oeil_file,
)

FIXTURES = ROOT / "tests" / "fixtures" / "europarl"
VOTES_2024_04_23 = FIXTURES / "plenary-vot-list-2024-04-23-anti-trafficking-directive.xml"
CONTEXT = [{"data": "@graph", "@base": "https://data.europarl.europa.eu/"},
           "https://data.europarl.europa.eu/api/v2/context.jsonld"]
PHASE = "http://publications.europa.eu/resource/authority/procedure-phase/"
LANGUAGE = "http://publications.europa.eu/resource/authority/language/"
FILE_TYPE = "http://publications.europa.eu/resource/authority/file-type/"
MEDIA = {"PDF": "https://www.iana.org/assignments/media-types/application/pdf",
         "DOCX": "https://www.iana.org/assignments/media-types/application/"
                 "vnd.openxmlformats-officedocument.wordprocessingml.document"}
HEADERS = {
    "api": {"Content-Type": ["application/ld+json;charset=UTF-8"]},
    "oeil": {"Content-Type": ["text/html;charset=UTF-8"]},
    "votes": {"Content-Type": ["application/xml"]},
}
COD = "COD - Ordinary legislative procedure (ex-codecision procedure)"


# --- The procedures ------------------------------------------------------------------------------

def _event(key: str, kind: str, day: str, activity: str | None = None, **links: list[str]
           ) -> dict[str, Any]:
    event: dict[str, Any] = {"id": f"eli/dl/event/{key}", "type": kind, "activity_date": day,
                             "activity_id": key}
    event.update({name: [f"eli/dl/doc/{d}" for d in docs] for name, docs in links.items()})
    if activity:
        event["had_activity_type"] = f"def/ep-activities/{activity}"
    event["occured_at_stage"] = PHASE + "RDG1"
    return event


CSA_REGULATION = {
    "titles": {
        "nl": "Voorschriften ter voorkoming en bestrijding van seksueel misbruik van kinderen",
        "en": "Laying down rules to prevent and combat child sexual abuse",
        "de": "Festlegung von Vorschriften zur Prävention und Bekämpfung des sexuellen "
              "Missbrauchs von Kindern",
        "fr": "Établissement de règles en vue de prévenir et de combattre les abus sexuels "
              "sur enfants",
    },
    "documents": ["A-9-2023-0364"],
    "events": [_event("A-9-2023-0364-DEPOT-2023-11-16", "Activity", "2023-11-16",
                      "COMMITTEE_TABLING_REPORT", based_on_a_realization_of=["A-9-2023-0364"])],
    "oeil_title": "Preventing and combating child sexual abuse",
    "instrument": "Regulation",
    "subjects": ["4.10.09 Child protection, children's rights",
                 "3.30.25 International information networks and society, internet",
                 "7.30.30 Action to combat crime"],
    "committees": [("Committee responsible", "LIBE", "Civil Liberties, Justice and Home Affairs",
                    ["ZARZALEJOS Javier (EPP)"], "13/10/2022")],
    "key_events": [
        ("11/05/2022", "Legislative proposal published", "COM(2022)0209"),
        ("06/07/2022", "Committee referral announced in Parliament, 1st reading", None),
        ("14/11/2023", "Vote in committee, 1st reading", None),
        ("14/11/2023", "Committee decision to open interinstitutional negotiations with report "
                       "adopted in committee", None),
        ("16/11/2023", "Committee report tabled for plenary, 1st reading", "A9-0364/2023"),
        ("20/11/2023", "Committee decision to enter into interinstitutional negotiations "
                       "announced in plenary (Rule 71)", None),
        ("22/11/2023", "Committee decision to enter into interinstitutional negotiations "
                       "confirmed by plenary (Rule 71)", None),
    ],
    "gateway": {
        "European Parliament": [("Committee report tabled for plenary, 1st reading/single reading",
                                 "A9-0364/2023", "16/11/2023")],
        "European Commission": [("Legislative proposal", "COM(2022)0209", "11/05/2022")],
    },
    "stage": {1: "Awaiting Parliament's position in 1st reading",
              2: "Awaiting Parliament's position in 1st reading"},
    "committee_dossier": "LIBE/9/08920",
}

CSA_DIRECTIVE = {
    "titles": {
        "nl": "Bestrijding van seksueel misbruik en seksuele uitbuiting van kinderen en van "
              "materiaal van seksueel misbruik van kinderen (herschikking)",
        "en": "Combating the sexual abuse and sexual exploitation of children and child sexual "
              "abuse material (recast)",
        "de": "Bekämpfung des sexuellen Missbrauchs und der sexuellen Ausbeutung von Kindern "
              "sowie von Darstellungen sexuellen Missbrauchs von Kindern (Neufassung)",
        "fr": "Lutte contre les abus sexuels et l'exploitation sexuelle des enfants, ainsi que "
              "contre les matériels relatifs à des abus sexuels sur enfants (refonte)",
    },
    "documents": ["A-10-2025-0110"],
    "events": [_event("A-10-2025-0110-DEPOT-2025-06-06", "Activity", "2025-06-06",
                      "COMMITTEE_TABLING_REPORT", based_on_a_realization_of=["A-10-2025-0110"])],
    "oeil_title": "Combating the sexual abuse and sexual exploitation of children and child "
                  "sexual abuse material (recast)",
    "instrument": "Directive",
    "subjects": ["4.10.09 Child protection, children's rights", "7.30.30 Action to combat crime",
                 "7.40.04 Judicial cooperation in criminal matters"],
    "committees": [("Committee responsible", "LIBE", "Civil Liberties, Justice and Home Affairs",
                    [], "")],
    "key_events": [
        ("06/02/2024", "Legislative proposal published", "COM(2024)0060"),
        ("26/02/2024", "Committee referral announced in Parliament, 1st reading", None),
        ("03/06/2025", "Vote in committee, 1st reading", None),
        ("03/06/2025", "Committee decision to open interinstitutional negotiations with report "
                       "adopted in committee", None),
        ("06/06/2025", "Committee report tabled for plenary, 1st reading", "A10-0110/2025"),
        ("16/06/2025", "Committee decision to enter into interinstitutional negotiations "
                       "announced in plenary (Rule 72)", None),
        ("18/06/2025", "Committee decision to enter into interinstitutional negotiations "
                       "confirmed by plenary (Rule 72)", None),
    ],
    "key_events_visit2": [
        ("25/11/2026", "Approval in committee of the text agreed at 1st reading "
                       "interinstitutional negotiations", "PE781.512"),
    ],
    "gateway": {
        "European Parliament": [("Committee report tabled for plenary, 1st reading/single reading",
                                 "A10-0110/2025", "06/06/2025")],
        "European Commission": [("Legislative proposal", "COM(2024)0060", "06/02/2024")],
    },
    "gateway_visit2": {
        "European Parliament": [("Text agreed during interinstitutional negotiations",
                                 "PE781.512", "19/11/2026")],
        "Council of the EU": [("Coreper letter confirming interinstitutional agreement",
                               "GEDA/A/(2026)005812", "24/11/2026")],
    },
    "stage": {1: "Awaiting Parliament's position in 1st reading",
              2: "Awaiting plenary debate/vote"},
    # OEIL "Forecasts" per visit: (date, subject).
    "forecasts": {1: [("18/01/2027", "Indicative plenary sitting date, 1st reading")],
                  2: [("14/12/2026", "Indicative plenary sitting date, 1st reading")]},
    "committee_dossier": "LIBE/10/00412",
}

ANTI_TRAFFICKING = {
    "titles": {
        "nl": "Wijziging van Richtlijn 2011/36/EU inzake de voorkoming en bestrijding van "
              "mensenhandel en de bescherming van slachtoffers daarvan",
        "en": "Amending Directive 2011/36/EU on preventing and combating trafficking in human "
              "beings and protecting its victims",
        "de": "Änderung der Richtlinie 2011/36/EU zur Verhütung und Bekämpfung des "
              "Menschenhandels und zum Schutz seiner Opfer",
        "fr": "Modification de la directive 2011/36/UE concernant la prévention de la traite des "
              "êtres humains et la lutte contre ce phénomène ainsi que la protection des victimes",
    },
    "documents": ["A-9-2023-0285", "TA-9-2024-0309"],
    "events": [
        _event("A-9-2023-0285-DEPOT-2023-10-13", "Activity", "2023-10-13",
               "COMMITTEE_TABLING_REPORT", based_on_a_realization_of=["A-9-2023-0285"]),
        _event("MTG-PL-2024-04-23-VOT-ITM-946079", "Activity", "2024-04-23",
               "PLENARY_VOTE_RESULTS", based_on_a_realization_of=["A-9-2023-0285"],
               recorded_in_a_realization_of=["PV-9-2024-04-23-VOT-ITM-026"]),
        _event("2022-0426-DEC-DCPL-2024-04-23", "Decision", "2024-04-23",
               decided_on_a_realization_of=["TA-9-2024-0309"]),
    ],
    "oeil_title": "Preventing and combating trafficking in human beings and protecting its "
                  "victims",
    "instrument": "Directive",
    "subjects": ["1.20.09 Protection of privacy and data protection",
                 "4.10.10 Gender equality", "7.10.08 Migration policy",
                 "7.30.30 Action to combat crime"],
    "committees": [("Joint committee responsible", "LIBE",
                    "Civil Liberties, Justice and Home Affairs",
                    ["BJÖRK Malin (The Left)"], "28/02/2023"),
                   ("Joint committee responsible", "FEMM", "Women's Rights and Gender Equality",
                    ["RODRÍGUEZ PALOP Eugenia (The Left)"], "28/02/2023")],
    "key_events": [
        ("19/12/2022", "Legislative proposal published", "COM(2022)0732"),
        ("13/02/2023", "Committee referral announced in Parliament, 1st reading", None),
        ("10/10/2023", "Vote in committee, 1st reading", None),
        ("10/10/2023", "Committee decision to open interinstitutional negotiations with report "
                       "adopted in committee", None),
        ("13/10/2023", "Committee report tabled for plenary, 1st reading", "A9-0285/2023"),
        ("16/10/2023", "Committee decision to enter into interinstitutional negotiations "
                       "announced in plenary (Rule 71)", None),
        ("18/10/2023", "Committee decision to enter into interinstitutional negotiations "
                       "confirmed by plenary (Rule 71)", None),
        ("05/02/2024", "Approval in committee of the text agreed at 1st reading "
                       "interinstitutional negotiations", "PE758.861"),
        ("22/04/2024", "Debate in Parliament", None),
        ("23/04/2024", "Decision by Parliament, 1st reading", "T9-0309/2024"),
        ("23/04/2024", "Results of vote in Parliament", "PV-9-2024-04-23"),
        ("27/05/2024", "Act adopted by Council after Parliament's 1st reading", None),
        ("13/06/2024", "Final act signed", None),
        ("24/06/2024", "Final act published in Official Journal", None),
    ],
    "gateway": {
        "European Parliament": [("Committee report tabled for plenary, 1st reading/single reading",
                                 "A9-0285/2023", "13/10/2023"),
                                ("Text adopted by Parliament, 1st reading/single reading",
                                 "T9-0309/2024", "23/04/2024")],
        "European Commission": [("Legislative proposal", "COM(2022)0732", "19/12/2022")],
    },
    "stage": {1: "Procedure completed", 2: "Procedure completed"},
    "committee_dossier": "CJ50/9/10862",
    "final_act": ("Directive 2024/1712", "32024L1712", "24.06.2024"),
}

PROCEDURES = {
    "2022/0155(COD)": CSA_REGULATION,
    "2024/0035(COD)": CSA_DIRECTIVE,
    "2022/0426(COD)": ANTI_TRAFFICKING,
}

#: The plenary documents fetched by id: (work type, date, titles, procedure).
DOCUMENTS = {
    "A-9-2023-0364": ("REPORT_PLENARY", "2023-11-16", "2022/0155(COD)", {
        "nl": "VERSLAG over het voorstel voor een verordening van het Europees Parlement en de "
              "Raad tot vaststelling van regels ter voorkoming en bestrijding van seksueel "
              "misbruik van kinderen",
        "en": "REPORT on the proposal for a regulation of the European Parliament and of the "
              "Council laying down rules to prevent and combat child sexual abuse",
    }),
    "A-10-2025-0110": ("REPORT_PLENARY", "2025-06-06", "2024/0035(COD)", {
        "nl": "VERSLAG over het voorstel voor een richtlijn van het Europees Parlement en de "
              "Raad ter bestrijding van seksueel misbruik en seksuele uitbuiting van kinderen en "
              "van materiaal van seksueel misbruik van kinderen (herschikking)",
        "en": "REPORT on the proposal for a directive of the European Parliament and of the "
              "Council on combating the sexual abuse and sexual exploitation of children and "
              "child sexual abuse material (recast)",
    }),
    "A-9-2023-0285": ("REPORT_PLENARY", "2023-10-13", "2022/0426(COD)", {
        "nl": "VERSLAG over het voorstel voor een richtlijn van het Europees Parlement en de "
              "Raad tot wijziging van Richtlijn 2011/36/EU inzake de voorkoming en bestrijding "
              "van mensenhandel en de bescherming van slachtoffers daarvan",
        "en": "REPORT on the proposal for a directive of the European Parliament and of the "
              "Council amending Directive 2011/36/EU on preventing and combating trafficking in "
              "human beings and protecting its victims",
    }),
    "TA-9-2024-0309": ("ADOPTED_TEXT", "2024-04-23", "2022/0426(COD)", {
        "nl": "Voorkoming en bestrijding van mensenhandel en bescherming van slachtoffers "
              "daarvan",
        "en": "Preventing and combating trafficking in human beings and protecting its victims",
    }),
}


# --- API v2 bodies ------------------------------------------------------------------------------

def procedure_body(reference: str) -> bytes:
    facts = PROCEDURES[reference]
    number = f"{reference[:4]}-{reference[5:9]}"
    process = {
        "id": f"eli/dl/proc/{number}",
        "type": "Process",
        "consists_of": facts["events"],
        "created_a_realization_of": [f"eli/dl/doc/{d}" for d in facts["documents"]],
        "current_stage": PHASE + "RDG1",
        "process_id": number,
        "process_title": facts["titles"],
        "process_type": "def/ep-procedure-types/COD",
        "label": reference,
        "identifierYear": reference[:4],
    }
    return _json({"data": [process], "@context": CONTEXT})


def document_body(identifier: str) -> bytes:
    work_type, day, procedure, titles = DOCUMENTS[identifier]
    term = identifier.split("-")[1]
    expressions = []
    for language, code in (("nl", "NLD"), ("en", "ENG")):
        expressions.append({
            "id": f"eli/dl/doc/{identifier}/{language}",
            "type": "Expression",
            "is_embodied_by": [{
                "id": f"eli/dl/doc/{identifier}/{language}/{kind.lower()}",
                "type": "Manifestation",
                "is_exemplified_by": f"distribution/doc/{identifier}_{language}.{kind.lower()}",
                "media_type": MEDIA[kind],
                "format": FILE_TYPE + kind,
                "issued": f"{day}T12:00:00+02:00",
            } for kind in ("PDF", "DOCX")],
            "language": LANGUAGE + code,
            "title": {language: titles[language]},
        })
    work = {
        "id": f"eli/dl/doc/{identifier}",
        "type": "Work",
        "parliamentary_term": f"org/ep-{term}",
        "document_date": day,
        "is_about": ["http://eurovoc.europa.eu/1192"],
        "is_realized_by": expressions,
        "work_type": f"def/ep-document-types/{work_type}",
        "identifier": identifier,
        "publisher": "org/EU_PARLIAMENT",
        "title_dcterms": titles,
        "identifierYear": day[:4],
        "inverse_created_a_realization_of": [f"eli/dl/proc/{procedure[:4]}-{procedure[5:9]}"],
    }
    return _json({"data": [work], "@context": CONTEXT})


def _json(document: dict[str, Any]) -> bytes:
    return json.dumps(document, indent=4, ensure_ascii=True).encode()


# --- OEIL procedure files -----------------------------------------------------------------------

def _e(text: str) -> str:
    return escape(text).replace("&#x27;", "&#39;")


def _reference_cell(reference: str | None) -> str:
    """The Reference cell of a key event, as OEIL links each kind of reference."""
    if not reference:
        return "<span></span>"
    if reference.startswith("COM("):
        year, number = reference[4:8], reference[9:13]
        return (f'<a href="https://www.europarl.europa.eu/RegData/docs_autres_institutions/'
                f'commission_europeenne/com/{year}/{number}/COM_COM({year}){number}_EN.docx" '
                f'target="_blank">{reference}</a>\n'
                f'<a href="https://eur-lex.europa.eu/smartapi/cgi/sga_doc?smartapi!celexplus!prod!'
                f'DocNumber&amp;lg=EN&amp;type_doc=COMfinal&amp;an_doc={year}&amp;nu_doc={number}"'
                f' title="Go to the page Eur-Lex" target="_blank">'
                f'<i class="flag-icon flag-sm flag-icon-eu ml-25"></i></a>')
    if reference.startswith("PV-"):
        return (f'<a href="https://www.europarl.europa.eu/doceo/document/{reference}-VOT_EN.html'
                f'?item=26" title="Results of vote in Parliament" target="_blank">\n'
                f'<svg aria-hidden="true" class="es_icon es_icon-vote es_icon-24">'
                f'<use xlink:href="#es_icon-vote"></use></svg></a>')
    if reference.startswith("PE"):
        return (f'<span></span>\n<a class="d-block" href="https://www.europarl.europa.eu/RegData/'
                f'commissions/libe/inag/{reference}_EN.pdf" target="_blank">{reference}</a>')
    kind, rest = reference[0], reference[1:]
    term, tail = rest.split("-", 1)
    number, year = tail.split("/")
    doc = f"{'TA' if kind == 'T' else kind}-{term}-{year}-{number}"
    return (f'<a href="https://www.europarl.europa.eu/doceo/document/{doc}_EN.html" '
            f'target="_blank">{reference}</a>')


def _pdf_link(reference: str, section: str, label: str) -> str:
    return f"""
            <div class="col-12 col-lg-4">
                <div class="es_links-list text-lg-right my-1">
                    <ul>
                        <li>
                            <a href="/oeil/en/procedure-file/pdf?reference={reference}&amp;section={section}" target="_blank">
                                <svg class="es_icon es_icon-pdf mr-1">
                                    <title>pdf</title>
                                    <use xlink:href="#es_icon-pdf"></use>
                                </svg>
                                <span class="t-x">{label}</span>
                            </a>
                        </li>
                    </ul>
                </div>
            </div>"""


def oeil_page(reference: str, visit: int) -> bytes:
    facts = PROCEDURES[reference]
    stage = facts["stage"][visit]
    events = list(facts["key_events"]) + (facts.get("key_events_visit2", []) if visit == 2 else [])
    gateway: dict[str, list[tuple[str, str, str]]] = {k: list(v) for k, v in facts["gateway"].items()}
    if visit == 2:
        for institution, rows in facts.get("gateway_visit2", {}).items():
            gateway.setdefault(institution, []).extend(rows)
    subjects = "\n                            <br/>\n".join(
        f"                            {_e(s)}" for s in facts["subjects"])
    players = "".join(f"""
    <tr>
        <th scope="row">
            <div class="d-flex align-items-center">
    <span class="es_badge es_badge-committee mr-1">{code}</span>
    <div>
        <a href="http://www.europarl.europa.eu/committees/EN/{code.lower()}/home.html" target="_blank">
                <span class="font-weight-normal">{_e(name)}
</span>
        </a>
        <br/>
    </div>
</div>
        </th>
        <td>{"".join(f'''
        <a class="rapporteur mb-25" data-toggle="tooltip-rapporteur" data-placement="bottom" href="https://www.europarl.europa.eu/meps/en/0" target="_blank">
            <span>{_e(person)}</span>
        </a>
        <br/>''' for person in rapporteurs)}
        </td>
        <td>
                <span>{appointed}</span>
                <br/>
        </td>
    </tr>""" for _role, code, name, rapporteurs, appointed in facts["committees"])
    role = facts["committees"][0][0]
    rows = "".join(f"""
                <tr>
                        <td class="align-middle" >{day}</td>
                        <td class="align-middle">{_e(event)}</td>
                        <td class="align-middle text-center">
                            {_reference_cell(ref)}
                        </td>
                        <td class="align-middle">
                        </td>
                </tr>""" for day, event, ref in events)
    accordion = "".join(f"""
                    <li class="es_accordion-item" data-selected="false">
    <button id="es_accordion-item-doc-gateway-{index}-title" type="button" class="es_accordion-item-title collapsed" data-toggle="collapse" aria-expanded="true" data-target="#es_accordion-item-doc-gateway-{index}" aria-controls="es_accordion-item-doc-gateway-{index}">
        <span class="t-x">{_e(institution)}</span>
    </button>
    <div id="es_accordion-item-doc-gateway-{index}" class="collapse es_accordion-item-content a-i-none collapse show" role="region">
            <div class="table-responsive">
                <table class="table table-striped table-bordered">
                    <thead>
                    <tr>
                        <th class="align-middle" scope="col">Document type</th>
                        <th class="align-middle w-25" scope="col">Reference</th>
                        <th class="align-middle" scope="col">Date</th>
                        <th class="align-middle" scope="col">Summary</th>
                    </tr>
                    </thead>
                    <tbody>{"".join(f'''
                    <tr>
                        <th class="align-middle" scope="row">
                            <span class="font-weight-normal">{_e(kind)}</span>
                        </th>
                        <td class="align-middle w-25">
                            {_reference_cell(ref) if not ref.startswith("GEDA") else f"<span>{ref}</span>"}
                        </td>
                        <td class="align-middle" >{day}</td>
                        <td class="align-middle">
                        </td>
                    </tr>''' for kind, ref, day in documents)}
                    </tbody>
                </table>
            </div>
    </div>
</li>""" for index, (institution, documents) in enumerate(gateway.items()))
    forecasts = ""
    if facts.get("forecasts", {}).get(visit):
        forecast_rows = "".join(f"""
                <tr>
                    <td class="align-middle">{day}</td>
                    <td class="align-middle">{_e(subject)}</td>
                </tr>""" for day, subject in facts["forecasts"][visit])
        forecasts = f"""
<div class="es_product-section">
    <div class="separator border-dark my-3"></div>
    <div id="section4" class="erpl-product-content oeil-spy-section mb-2">
        <div class="row">
            <div class="col-12 col-lg"><h2 class="es_title-h2 mb-2">Forecasts</h2>
            </div>{_pdf_link(reference, "FORECAST", "Forecasts")}
        </div>
        <div class="table-responsive">
            <table class="table table-striped table-bordered">
                <thead>
                <tr>
                    <th class="align-middle" scope="col">Date</th>
                    <th class="align-middle" scope="col">Subject</th>
                </tr>
                </thead>
                <tbody>{forecast_rows}
                </tbody>
            </table>
        </div>
    </div>
</div>"""
    final_act = ""
    if "final_act" in facts:
        title, celex, published = facts["final_act"]
        final_act = f"""
<div class="es_product-section">
    <div class="separator border-dark my-3"></div>
    <div id="section9" class="erpl-product-content oeil-spy-section mb-2">
        <div class="row">
            <div class="col-12 col-lg">
                <h2 class="es_title-h2 mb-2">Final act</h2>
            </div>{_pdf_link(reference, "FINAL_ACT", "Final act")}
        </div>
        <div class="es_links-list">
            <ul>
                <li class="d-flex justify-content-between">
                    <p>
    <a href="https://eur-lex.europa.eu/smartapi/cgi/sga_doc?smartapi!celexplus!prod!CELEXnumdoc&amp;lg=EN&amp;numdoc={celex}" target="_blank">
        <span class="t-x">{title}</span>
    </a>
                            <br/>
    <a href="https://eur-lex.europa.eu/oj/daily-view/L-series/default.html?&amp;ojDate={published.replace('.', '')}" target="_blank">
        <span class="t-x">OJ OJ L {published}</span>
    </a>
                    </p>
                </li>
            </ul>
        </div>
    </div>
</div>"""
    page = f"""<!doctype html>
<html lang="en">


<head>

    
    <title>Procedure File: {reference} | Legislative Observatory | European Parliament</title>

    <!-- Required meta tags -->
    <meta charset="utf-8">
    <meta content="text/html; charset=UTF-8" http-equiv="Content-Type">
    <meta content="en" name="language">
    <meta content="European Parliament Legislative Observatory Procedure" name="description">
    <meta content="Legislative Observatory" name="planet">
</head>
<body>
<main>
            <h2 class="es_title-h2 mb-3">{_e(facts["oeil_title"])}</h2>
            <div class="separator border-dark my-3"></div>
            <div class="es_product">
                <div class="row">
                    <div class="col">
                        <div class="mb-3">
                            <div class="es_product-body">
<div class="es_product-section">
    <div id="section1" class="erpl-product-content oeil-spy-section mb-2">
        <div class="row">
            <div class="col-12 col-lg">
                <h2 class="es_title-h2 mb-2">Basic information</h2></div>{_pdf_link(reference, "BASIC_INFO", "Basic information")}
        </div>
        <div class="row">
            <div class="col-6">
                <p class="font-weight-bold mb-1">{reference}</p>

                <p>{COD}</p>
                <p>{facts["instrument"]}</p>

                    <p class="font-weight-bold mb-1">Subject</p>
                    <p>
{subjects}
                    </p>
            </div>

            <div class="col-6">
                    <p class="font-weight-bold mb-1">Status</p>
                    <p class="text-danger">{_e(stage)}</p>
            </div>
        </div>
    </div>
</div>
<div class="es_product-section">
    <div class="separator border-dark my-3"></div>
    <div id="section2" class="erpl-product-content oeil-spy-section mb-2">
        <div class="row">
            <div class="col-12 col-lg"><h2 class="es_title-h2 mb-2">Key players</h2>
            </div>{_pdf_link(reference, "KEY_PLAYERS", "Key players")}
        </div>
        <div class="table-responsive mt-2">
            <table class="table table-bordered table-striped">
                <thead>
                <tr>
                    <th class="w-50" scope="col">{role}</th>
                    <th class="w-25" scope="col">Rapporteur</th>
                    <th class="w-25" scope="col">Appointed</th>
                </tr>
                </thead>
                <tbody>{players}
                </tbody>
            </table>
        </div>
    </div>
</div>
<div class="es_product-section">
    <div class="separator border-dark my-3"></div>
    <div id="section3" class="erpl-product-content oeil-spy-section mb-2">
        <div class="row">
            <div class="col-12 col-lg">
                <h2 class="es_title-h2 mb-2">Key events</h2>
            </div>{_pdf_link(reference, "KEY_EVENTS", "Key events")}
        </div>
        <div class="table-responsive">
            <table class="table table-striped table-bordered">
                <thead>
                <tr>
                    <th class="align-middle" scope="col">Date</th>
                    <th class="align-middle" scope="col">Event</th>
                    <th class="align-middle" scope="col">Reference</th>
                    <th class="align-middle" scope="col">Summary</th>
                </tr>
                </thead>

                <tbody>{rows}
                </tbody>
            </table>
        </div>
    </div>
</div>{forecasts}
<div class="es_product-section">
    <div class="separator border-dark my-3"></div>
    <div id="section5" class="erpl-product-content oeil-spy-section mb-2">
        <div class="row">
            <div class="col-12 col-lg">
                <h2 class="es_title-h2 mb-2">Technical information</h2>
            </div>{_pdf_link(reference, "TECHNICAL_INFORMATION", "Technical information")}
        </div>

        <div class="table-responsive">
            <table class="table table-striped table-bordered">
                <tbody>
                <tr>
                    <th class="align-middle" scope="row">Procedure reference</th>
                    <td class="align-middle">{reference}</td>
                </tr>
                <tr>
                    <th class="align-middle" scope="row">Procedure type</th>
                    <td class="align-middle">{COD}</td>
                </tr>
                <tr>
                    <th class="align-middle" scope="row">Procedure subtype</th>
                    <td class="align-middle">Legislation</td>
                </tr>
                <tr>
                    <th class="align-middle" scope="row">Legislative instrument</th>
                    <td class="align-middle">{facts["instrument"]}</td>
                </tr>
                <tr>
                    <th class="align-middle" scope="row">Stage reached in procedure</th>
                    <td class="align-middle">{_e(stage)}</td>
                </tr>
                <tr>
                    <th class="align-middle" scope="row">Committee dossier</th>
                    <td class="align-middle">
                        <span>{facts["committee_dossier"]}</span>
                        <br/>
                    </td>
                </tr>
                </tbody>
            </table>
        </div>
    </div>
</div>
<div class="es_product-section">
    <div class="separator border-dark my-3"></div>
    <div id="section6" class="erpl-product-content oeil-spy-section mb-2">
        <div class="row">
            <div class="col-12 col-lg">
                <h2 id="gateway" class="es_title-h2 mb-2">Documentation gateway</h2>
            </div>{_pdf_link(reference, "DOCUMENTATION_GATEWAY", "Documentation gateway")}
        </div>
        <div class="es_accordion mb-5" id="erplAccordionDocGateway">
            <ul class="a-i">{accordion}
            </ul>
        </div>
    </div>
</div>{final_act}
                            </div>
                        </div>
                    </div>
                </div>
            </div>
</main>
</body>
</html>
"""
    return page.encode("utf-8")


# --- The recording ------------------------------------------------------------------------------

def write(folder: Path, visit: int, recorded_at: datetime) -> None:
    """Every response the europarl spider asks for in ``visit`` (1 = week 47, 2 = week 48)."""
    spider = EuroparlSpider.from_crawler(Crawler(EuroparlSpider, project_settings()))
    for reference in spider.procedures:
        if reference not in PROCEDURES:
            raise KeyError(f"the demo has no European Parliament data for {reference}: "
                           "run it with the default WATCH_EP_PROCEDURES")
        write_response(folder, spider.procedure_url(reference), status=200,
                       headers=HEADERS["api"], body=procedure_body(reference),
                       recorded_at=recorded_at)
        for identifier in PROCEDURES[reference]["documents"]:
            url = spider.document_url(identifier)
            if url is not None:
                write_response(folder, url, status=200, headers=HEADERS["api"],
                               body=document_body(identifier), recorded_at=recorded_at)
        page = oeil_page(reference, visit)
        oeil_url = spider.oeil_url(reference)
        write_response(folder, oeil_url, status=200, headers=HEADERS["oeil"], body=page,
                       recorded_at=recorded_at)
        # The spider decides from what it read whether a vote file is needed: ask it.
        run = ProcedureRun(reference, api=api_procedure(procedure_body(reference), reference),
                           oeil=oeil_file(page.decode("utf-8"), reference, oeil_url))
        sitting = spider.vote_sitting(run)
        if sitting is not None:
            if sitting != (9, "2024-04-23"):
                raise ValueError(f"the demo has no vote file for sitting {sitting}")
            write_response(folder, spider.votes_url(*sitting), status=200,
                           headers=HEADERS["votes"], body=VOTES_2024_04_23.read_bytes(),
                           recorded_at=recorded_at)
    update_manifest(folder, spider.name)


if __name__ == "__main__":
    from datetime import UTC

    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "demo-europarl"
    write(out / "1-week47", 1, datetime(2026, 11, 20, 17, 0, tzinfo=UTC))
    write(out / "2-week48", 2, datetime(2026, 11, 27, 17, 0, tzinfo=UTC))
    print(f"wrote {out}")
