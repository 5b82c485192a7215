"""The European Parliament spider: API v2 JSON-LD, OEIL procedure files, doceo vote files, drift."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import pytest
from scrapy import Request
from scrapy.http import Headers, HtmlResponse, Response, TextResponse, XmlResponse
from scrapy.responsetypes import responsetypes
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawler.items import PolicyItem
from crawler.pipelines import NormalizePipeline
from crawler.replay import read_response
from crawler.spiders.europarl import EuroparlSpider, parliamentary_term
from monitors import identifiers as ids
from tests.helpers import make_spider

FIXTURES = Path(__file__).parent / "fixtures" / "europarl"
API = "https://data.europarl.europa.eu/api/v2/"
OEIL = "https://oeil.secure.europarl.europa.eu/oeil/en/procedure-file?reference="
DOCEO = "https://www.europarl.europa.eu/doceo/document/"
FORMAT = "?format=application%2Fld%2Bjson"
REAL_API_PROCEDURE = "epapi-v2-procedure-2025-2691-ukrainian-children.json"
REAL_API_DOCUMENT = "epapi-v2-document-RC-10-2025-0249.json"
REAL_OEIL = "oeil-procedure-file-2024-0258-COD.html"
#: The real file with a Forecasts section added in the real page's markup (NOTES.md).
OEIL_FORECASTS = "oeil-procedure-file-2024-0258-COD-forecasts.html"
REAL_VOTES = "plenary-vot-list-2024-04-23-anti-trafficking-directive.xml"
WEEK47 = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)
WEEK48 = datetime(2026, 11, 27, 17, 0, tzinfo=UTC)


def spider(procedures: list[str] | None = None, clock: datetime | None = None
           ) -> EuroparlSpider:
    s = make_spider(EuroparlSpider)
    if procedures is not None:
        s.procedures = [ids.procedure(p) for p in procedures]
    s.clock = clock
    return s


def requests_of(s: EuroparlSpider) -> list[Request]:
    async def collect() -> list[Request]:
        return [r async for r in s.start()]

    return asyncio.run(collect())


def answer(request: Request, body: bytes, cls: type[Response] = TextResponse,
           status: int = 200, url: str | None = None) -> list:
    response = cls(url=url or request.url, body=body, status=status, request=request,
                   headers={"Content-Type": {HtmlResponse: "text/html;charset=UTF-8",
                                             XmlResponse: "application/xml"}.get(
                       cls, "application/ld+json;charset=UTF-8")})
    return list(request.callback(response, **request.cb_kwargs))


def http_error(request: Request, status: int) -> list:
    failure = Failure(HttpError(Response(request.url, status=status, request=request),
                                "Ignoring non-200 response"))  # as HttpErrorMiddleware says
    failure.request = request
    return list(request.errback(failure))


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def split(results: list) -> tuple[list[PolicyItem], list[Request]]:
    return ([r for r in results if isinstance(r, PolicyItem)],
            [r for r in results if isinstance(r, Request)])


# --- identifiers ------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "expected"), [
    ("A10-0006/2025", "A-10-2025-0006"),  # OEIL
    ("T10-0022/2025", "TA-10-2025-0022"),  # OEIL's name for an adopted text
    ("A9-0285/2023", "A-9-2023-0285"),  # VOT label
    ("Report: Malin Björk, Eugenia Rodríguez Palop (A9-0285/2023)", "A-9-2023-0285"),
    ("RC-B10-0249/2025", "RC-10-2025-0249"),
    ("B10-0249/2025", "B-10-2025-0249"),
    ("P9_TA(2024)0309", "TA-9-2024-0309"),
    ("P10_TA-PROV(2025)0022", "TA-10-2025-0022"),
    ("eli/dl/doc/RC-10-2025-0249", "RC-10-2025-0249"),  # API id
    ("ta-10-2025-0022", "TA-10-2025-0022"),
    (DOCEO + "A-10-2025-0006_EN.html", "A-10-2025-0006"),
    ("eli/dl/doc/RC-10-2025-0249-AM-001-002", "RC-10-2025-0249-AM-001-002"),
    ("PV-10-2025-03-11-VOT", None),
    ("COM(2024)0469", None),
    ("PE770.077", None),
])
def test_ep_document_references_are_normalised(value: str, expected: str | None) -> None:
    assert ids.ep_document(value) == expected


def test_procedures_in_any_spelling_and_one_request_each_at_one_per_second() -> None:
    s = spider()
    assert s.procedures == ["2022/0155(COD)", "2024/0035(COD)", "2022/0426(COD)"]
    s = spider(["2024-0035", "2022/0155/COD", "procedure/2022_426", "2025/2691(RSP)"])
    assert s.procedures == ["2024/0035(COD)", "2022/0155(COD)", "2022/0426(COD)",
                            "2025/2691(RSP)"]
    requests = requests_of(s)
    assert [r.url for r in requests] == [
        API + "procedures/2024-0035" + FORMAT, API + "procedures/2022-0155" + FORMAT,
        API + "procedures/2022-0426" + FORMAT, API + "procedures/2025-2691" + FORMAT]
    assert all(r.headers["Accept"] == b"application/ld+json" and r.errback for r in requests)
    assert s.oeil_url("2024/0035(COD)") == OEIL + "2024/0035(COD)"
    settings = s.crawler.settings
    assert settings.getfloat("DOWNLOAD_DELAY") == 1.0
    assert settings.getbool("RANDOMIZE_DOWNLOAD_DELAY") is False
    assert parliamentary_term(datetime(2024, 4, 23).date()) == 9
    assert parliamentary_term(datetime(2024, 7, 16).date()) == 10


# --- API v2 --------------------------------------------------------------------------------------


def test_api_procedure_yields_its_documents_by_id_then_the_oeil_file() -> None:
    s = spider(["2025/2691(RSP)"])
    [first] = requests_of(s)
    items, requests = split(answer(first, fixture(REAL_API_PROCEDURE)))
    assert items == []
    # B, RC and TA documents are fetched by id; other kinds would be listed only.
    assert [r.url for r in requests] == [
        *(API + f"plenary-documents/{d}" + FORMAT for d in (
            "B-10-2025-0247", "RC-10-2025-0249", "B-10-2025-0249", "B-10-2025-0250",
            "B-10-2025-0252", "B-10-2025-0258", "B-10-2025-0255")),
        API + "adopted-texts/TA-10-2025-0096" + FORMAT,
        OEIL + "2025/2691(RSP)",
    ]
    run = first.cb_kwargs["run"]
    assert run.api["id"] == "https://data.europarl.europa.eu/eli/dl/proc/2025-2691"
    assert run.api["label"] == "2025/2691(RSP)" and run.api["stage"] == "RDG1"
    assert run.api["titles"]["nl"].startswith("De terugkeer van Oekraïense kinderen")
    decision = run.api["events"][0]
    assert decision == {"id": "2025-2691-DEC-DCPL-2025-05-08", "type": "Decision",
                        "date": "2025-05-08", "activity": None,
                        "documents": ["TA-10-2025-0096"]}
    assert run.documents == {"B-10-2025-0247", "RC-10-2025-0249", "B-10-2025-0249",
                             "B-10-2025-0250", "B-10-2025-0252", "B-10-2025-0258",
                             "B-10-2025-0255", "TA-10-2025-0096"}
    # The API's vote events give a sitting even before OEIL is read (term from the date).
    assert s.vote_sitting(run) == (10, "2025-05-08")
    assert s.failures == []


def test_a_document_item_every_field() -> None:
    s = spider(["2025/2691(RSP)"])
    [first] = requests_of(s)
    [document_request] = [r for r in answer(first, fixture(REAL_API_PROCEDURE))
                          if "RC-10-2025-0249" in r.url]
    [item] = answer(document_request, fixture(REAL_API_DOCUMENT))
    assert item.source == "europarl" and item.key == "RC-10-2025-0249"
    assert item.url == DOCEO + "RC-10-2025-0249_NL.html"
    assert item.title == ("GEZAMENLIJKE ONTWERPRESOLUTIE over de terugkeer van Oekraïense "
                          "kinderen die onder dwang naar Rusland zijn overgebracht en gedeporteerd")
    assert item.doc_type == "Gezamenlijke ontwerpresolutie (EP)"
    assert item.published_at == datetime(2025, 5, 7, tzinfo=UTC)
    assert item.identifiers == {"ep_document": ["RC-10-2025-0249"],
                                "procedure": ["2025/2691(RSP)"]}
    lines = item.text.split("\n")
    assert lines[0] == item.title
    assert lines[1].startswith("JOINT MOTION FOR A RESOLUTION on the return of Ukrainian children")
    assert lines[2].startswith("GEZAMENLIJKE ONTWERPRESOLUTIE - ingediend overeenkomstig artikel "
                               "150") and "(2025/2691(RSP))" in lines[2]
    assert lines[3:] == ["Gezamenlijke ontwerpresolutie (EP)", "RC-10-2025-0249",
                         "2025/2691(RSP)"]
    assert item.status == {} and item.removed is False and item.fingerprint is None
    meta = item.meta
    assert meta["id"] == "https://data.europarl.europa.eu/eli/dl/doc/RC-10-2025-0249"
    assert meta["work_type"] == "RESOLUTION_MOTION_JOINT"
    assert meta["parliamentary_term"] == "ep-10" and meta["document_date"] == "2025-05-07"
    assert meta["eurovoc"][0] == "http://eurovoc.europa.eu/3916" and len(meta["eurovoc"]) == 9
    assert meta["subject_matter"] == ["PESC", "DDLH"]
    assert meta["derived_from"] == ["B-10-2025-0249", "B-10-2025-0250", "B-10-2025-0258",
                                    "B-10-2025-0252", "B-10-2025-0255"]
    assert meta["procedures"] == ["2025-2691"]
    # Relative distribution paths resolved against @base.
    assert meta["files"]["nl"]["pdf"] == ("https://data.europarl.europa.eu/distribution/"
                                          "reds_iPlRc/RC-10-2025-0249/RC-10-2025-0249_nl.pdf")
    assert set(meta["files"]) == {"nl", "en"} and set(meta["files"]["en"]) == {"pdf", "docx"}
    assert NormalizePipeline.from_crawler(s.crawler).process_item(item) is item


@pytest.mark.parametrize(("body", "reason"), [
    (b"", "not JSON"),  # the CDN's empty HTTP 202
    (b"<html><body>Request blocked</body></html>", "not JSON"),
    (b'{"error": "not found"}', "no 'data'"),
    (b'{"data": [], "@context": []}', "no Process"),
])
def test_api_garbage_is_a_failure_and_the_chain_goes_on_to_oeil(body: bytes, reason: str) -> None:
    s = spider(["2024/0035(COD)"])
    [first] = requests_of(s)
    _, requests = split(answer(first, body, status=202 if not body else 200))
    assert [r.url for r in requests] == [OEIL + "2024/0035(COD)"]
    [(url, why)] = s.failures
    assert url == first.url and why.startswith("2024/0035(COD): ") and reason in why


def test_api_answering_another_procedure_is_a_failure() -> None:
    s = spider(["2024/0035(COD)"])
    [first] = requests_of(s)
    _, requests = split(answer(first, fixture(REAL_API_PROCEDURE)))
    assert [r.url for r in requests] == [OEIL + "2024/0035(COD)"]  # no foreign documents
    assert "answered procedure 2025/2691(RSP), not 2024/0035(COD)" in s.failures[0][1]


def test_a_bad_document_is_a_failure_and_loses_nothing_else() -> None:
    s = spider(["2025/2691(RSP)"])
    [first] = requests_of(s)
    documents = [r for r in answer(first, fixture(REAL_API_PROCEDURE)) if "adopted-texts" in r.url
                 or "plenary-documents" in r.url]
    assert answer(documents[0], fixture(REAL_API_PROCEDURE)) == []  # a Process, not a Work
    [item] = answer(documents[1], fixture(REAL_API_DOCUMENT))
    assert item.key == "RC-10-2025-0249"
    assert s.failures == [(documents[0].url, "document of 2025/2691(RSP): no Work in the "
                                             "response")]


# --- OEIL ---------------------------------------------------------------------------------------


def oeil_request(s: EuroparlSpider) -> Request:
    """The OEIL request of the first procedure, reached after the API answered 404."""
    [first] = requests_of(s)
    [oeil] = http_error(first, 404)
    return oeil


def test_the_procedure_item_from_the_real_oeil_file_every_field() -> None:
    s = spider(["2024/0258(COD)"])
    oeil = oeil_request(s)
    assert oeil.url == OEIL + "2024/0258(COD)"
    assert s.failures == [(API + "procedures/2024-0258" + FORMAT,
                           "HTTP 404 Not Found")]
    [votes] = answer(oeil, fixture(REAL_OEIL), HtmlResponse)
    # "Results of vote in Parliament" links the sitting's vote page: its XML is asked for.
    assert votes.url == DOCEO + "PV-10-2025-03-11-VOT_EN.xml"
    assert votes.errback == s.votes_failed
    # That sitting's file is not in the fixtures; a file that did not vote on it gives no vote.
    [item] = answer(votes, fixture(REAL_VOTES), XmlResponse)
    assert len(s.failures) == 1
    assert item.source == "europarl" and item.key == "2024/0258(COD)"
    assert item.url == OEIL + "2024/0258(COD)"
    assert item.title == "Establishing the Reform and Growth Facility for Moldova"  # no API: OEIL
    assert item.doc_type == "EU-procedure"
    assert item.published_at == datetime(2024, 10, 9, tzinfo=UTC)  # proposal published
    assert item.identifiers == {"procedure": ["2024/0258(COD)"],
                                "ep_document": ["A-10-2025-0006", "TA-10-2025-0022"]}
    # No Forecasts section: the forecast facets are sent empty (which clears earlier ones).
    assert item.status == {"stadium": "Procedure completed",
                           "laatste_gebeurtenis": "2025-03-21: Final act published in Official "
                                                  "Journal",
                           "datum": "", "activiteit_status": "", "verwacht": ""}
    assert item.text.split("\n") == [
        "Establishing the Reform and Growth Facility for Moldova",
        "Procedure 2024/0258(COD)",
        "COD - Ordinary legislative procedure (ex-codecision procedure)",
        "Regulation",
        "Onderwerp: 6.30.02 Financial and technical cooperation and assistance",
        "Onderwerp: 6.40.02 Relations with central and eastern Europe",
        "Onderwerp: 8.20.01 Candidate countries",
        "Onderwerp: 8.20.04 Pre-accession and partnership",
        "Voorstel: COM(2024)0469 (CELEX 52024PC0469)",
        "Eindhandeling: Regulation 2025/0535 (CELEX 32025R0535)",
    ]
    assert item.fingerprint == item.text  # no API part to leave out
    meta = item.meta
    assert meta["stage"] == meta["status"] == "Procedure completed"
    assert meta["instrument"] == "Regulation" and meta["committee_dossier"] == "CJ15/10/01177"
    assert meta["rapporteurs"][:2] == ["MIKSER Sven (S&D)", "MUREŞAN Siegfried (EPP)"]
    assert len(meta["key_events"]) == 14
    assert meta["key_events"][4] == {
        "date": "2025-01-31", "event": "Committee report tabled for plenary, 1st reading",
        "references": [{"url": DOCEO + "A-10-2025-0006_EN.html", "ref": "A10-0006/2025"}],
        "summary": "https://oeil.secure.europarl.europa.eu/oeil/en/document-summary?id=1802918"}
    assert meta["key_events"][11]["event"] == "Act adopted by Council after Parliament's 1st reading"
    assert meta["proposals"] == [{"com": "COM(2024)0469", "celex": "52024PC0469"}]
    assert meta["final_acts"][0]["celex"] == "32025R0535"
    gateway = meta["documentation_gateway"]
    assert {row["institution"] for row in gateway} == {
        "European Parliament", "Council of the EU", "European Commission", "National parliaments"}
    assert {"institution": "Council of the EU", "type": "Coreper letter confirming "
            "interinstitutional agreement", "date": "2025-02-26",
            "references": [{"ref": "GEDA/A/(2025)001013"}]} in gateway
    assert meta["forecasts"] == []
    assert "api" not in meta and "vote" not in meta and "forecast_problems" not in meta
    assert NormalizePipeline.from_crawler(s.crawler).process_item(item) is item


def _without(body: bytes, start: bytes, end: bytes) -> bytes:
    """``body`` with the part from ``start`` up to and including the next ``end`` cut out."""
    head, _, tail = body.partition(start)
    assert tail, start
    return head + tail.split(end, 1)[1]


@pytest.mark.parametrize(("body", "reason"), [
    (_without(fixture(REAL_OEIL), b'<th class="align-middle" scope="row">Stage reached',
              b"</tr>"), "no 'Stage reached in procedure'"),
    (fixture(REAL_OEIL).replace(b'mb-2">Key events</h2>', b'mb-2">Main events</h2>'),
     "no 'Key events' section"),
    (fixture(REAL_OEIL).replace(b'scope="col">Date</th>', b'scope="col">Datum</th>'),
     "Key events columns"),
    (fixture(REAL_OEIL).replace(b'" >09/10/2024<', b'" >9 Oct 2024<'), "is not dd/mm/yyyy"),
    (b"<html><head><title>Legislative Observatory</title></head><body>Search</body></html>",
     "not an OEIL procedure file"),
])
def test_oeil_layout_drift_fails_loudly_and_makes_no_item(body: bytes, reason: str) -> None:
    s = spider(["2024/0258(COD)"])
    oeil = oeil_request(s)
    assert answer(oeil, body, HtmlResponse) == []
    (url, why) = s.failures[-1]
    assert url == oeil.url and why.startswith("2024/0258(COD): ") and reason in why


def test_an_oeil_page_of_another_procedure_or_an_empty_202_is_a_failure() -> None:
    s = spider(["2024/0035(COD)"])
    oeil = oeil_request(s)
    assert answer(oeil, fixture(REAL_OEIL), HtmlResponse) == []
    assert "the page is the file of 2024/0258(COD), not 2024/0035(COD)" in s.failures[-1][1]
    assert answer(oeil, b"", HtmlResponse, status=202) == []
    assert s.failures[-1][1].startswith("2024/0035(COD): ")
    assert answer(oeil, b"\x00\x01", Response) == []
    assert "not a text page" in s.failures[-1][1]


# --- OEIL forecasts ------------------------------------------------------------------------------


def procedure_item(body: bytes, clock: datetime) -> tuple[PolicyItem, EuroparlSpider]:
    """The 2024/0258(COD) item from an OEIL page (the API said 404, the vote file too)."""
    s = spider(["2024/0258(COD)"], clock=clock)
    [votes] = answer(oeil_request(s), body, HtmlResponse)
    [item] = http_error(votes, 404)
    return item, s


@pytest.mark.parametrize(("clock", "facets"), [
    # Before the sitting: the indicative plenary date is the next thing expected.
    (datetime(2025, 3, 7, 12, tzinfo=UTC),
     {"datum": "2025-03-10", "activiteit_status": "Voorzien",
      "verwacht": "Indicative plenary sitting date, 1st reading"}),
    # On the day itself it still counts (the crawl's day in Brussels: 00:30 there is the 10th).
    (datetime(2025, 3, 9, 23, 30, tzinfo=UTC),
     {"datum": "2025-03-10", "activiteit_status": "Voorzien",
      "verwacht": "Indicative plenary sitting date, 1st reading"}),
    # After it the Council's step is next.
    (datetime(2025, 3, 12, 9, tzinfo=UTC),
     {"datum": "2025-03-18", "activiteit_status": "Voorzien",
      "verwacht": "Council: final act scheduled"}),
    # Everything forecast lies behind: the facets are sent empty.
    (datetime(2025, 3, 19, 9, tzinfo=UTC),
     {"datum": "", "activiteit_status": "", "verwacht": ""}),
])
def test_the_next_forecast_sets_the_agenda_facets(clock: datetime, facets: dict) -> None:
    item, s = procedure_item(fixture(OEIL_FORECASTS), clock)
    assert {k: item.status[k] for k in facets} == facets
    assert item.status["stadium"] == "Procedure completed"
    assert item.meta["forecasts"] == [
        {"date": "2025-03-10", "event": "Indicative plenary sitting date, 1st reading"},
        {"date": "2025-03-18", "event": "Council: final act scheduled"}]
    assert "forecast_problems" not in item.meta
    assert [why for _, why in s.failures] == ["HTTP 404 Not Found", "HTTP 404 Not Found"]
    # Forecasts are facets, not content: the page without them has the same fingerprint and
    # text, so a forecast that appears, moves or goes is never a new version.
    plain, _ = procedure_item(fixture(REAL_OEIL), clock)
    assert (item.fingerprint, item.text) == (plain.fingerprint, plain.text)


def test_a_forecasts_table_headed_date_event_reads_the_same() -> None:
    body = fixture(OEIL_FORECASTS).replace(b'scope="col">Subject</th>', b'scope="col">Event</th>')
    item, s = procedure_item(body, datetime(2025, 3, 7, tzinfo=UTC))
    assert item.status["datum"] == "2025-03-10" and len(item.meta["forecasts"]) == 2
    assert len(s.failures) == 2  # the two 404s only


@pytest.mark.parametrize(("body", "problem"), [
    (fixture(OEIL_FORECASTS).replace(b'">10/03/2025<', b'">10 March 2025<'),
     ("forecast 'Indicative plenary sitting date, 1st reading': date '10 March 2025' is not "
      "dd/mm/yyyy")),
    (fixture(OEIL_FORECASTS).replace(b'scope="col">Subject</th>', b'scope="col">Onderwerp</th>'),
     "Forecasts columns are ['Date', 'Onderwerp'], not Date, Subject"),
    (_without(fixture(OEIL_FORECASTS), b'<table class="table table-striped table-bordered">\n'
              b'                <thead>\n                <tr>\n                    '
              b'<th class="align-middle" scope="col">Date</th>\n                    '
              b'<th class="align-middle" scope="col">Subject</th>', b"</table>"),
     "the Forecasts section has no table"),
])
def test_forecasts_that_do_not_read_are_a_failure_that_costs_only_their_facets(
        body: bytes, problem: str) -> None:
    item, s = procedure_item(body, datetime(2025, 3, 7, tzinfo=UTC))
    # The item is stored, without the forecast facets: the archive keeps what it knew.
    assert item.key == "2024/0258(COD)" and item.status["stadium"] == "Procedure completed"
    assert not {"datum", "activiteit_status", "verwacht"} & set(item.status)
    assert problem in item.meta["forecast_problems"][0]
    url, why = s.failures[1]  # after the API's 404, before the vote file's
    assert url == OEIL + "2024/0258(COD)"
    assert why.startswith("2024/0258(COD): ") and problem in why
    assert why.endswith("the forecast facets are left as they were")
    if b"10 March" in body:  # the row that did read is still kept as meta
        assert item.meta["forecasts"] == [
            {"date": "2025-03-18", "event": "Council: final act scheduled"}]


def test_a_moved_forecast_is_a_status_event_not_a_version(engine) -> None:
    from sqlalchemy import func, select

    from storage.archive import Outcome
    from storage.models import ChangeEvent, Record, Version

    first = datetime(2025, 3, 3, 9, tzinfo=UTC)
    item, _ = procedure_item(fixture(OEIL_FORECASTS), first)
    assert store(engine, item, first).outcome == Outcome.NEW
    # A week later the sitting moved to the 12th: one status event, no new version.
    later = datetime(2025, 3, 7, 9, tzinfo=UTC)
    page = fixture(OEIL_FORECASTS)
    moved, _ = procedure_item(page.replace(b'">10/03/2025<', b'">12/03/2025<'), later)
    result = store(engine, moved, later)
    assert result.outcome == Outcome.STATUS and result.version_id is None
    # A page whose forecasts do not read leaves them as they were.
    drifted, _ = procedure_item(page.replace(b'">10/03/2025<', b'">12.3.25<'), later)
    assert store(engine, drifted, later).outcome == Outcome.UNCHANGED
    from storage.db import session_factory
    with session_factory(engine)() as session:
        record = session.scalars(select(Record).where(Record.key == "2024/0258(COD)")).one()
        [event] = session.scalars(select(ChangeEvent).where(
            ChangeEvent.record_id == record.id, ChangeEvent.kind == "status")).all()
        assert event.detail["changes"] == {"datum": ["2025-03-10", "2025-03-12"]}
        assert session.scalar(select(func.count()).select_from(Version)
                              .where(Version.record_id == record.id)) == 1
        # The agenda's index: midnight of the day in Amsterdam time.
        assert record.scheduled_at.replace(tzinfo=UTC) == datetime(2025, 3, 11, 23, tzinfo=UTC)
    # Once both forecasts lie behind, the facets are cleared and the record leaves the agenda.
    done = datetime(2025, 3, 20, 9, tzinfo=UTC)
    gone, _ = procedure_item(fixture(OEIL_FORECASTS), done)
    assert store(engine, gone, done).outcome == Outcome.STATUS
    with session_factory(engine)() as session:
        record = session.scalars(select(Record).where(Record.key == "2024/0258(COD)")).one()
        assert record.scheduled_at is None and record.status["activiteit_status"] == ""


def test_empty_forecast_facets_on_a_procedure_stored_without_them_are_no_event(engine) -> None:
    """An archive from before forecasts were read: the first run that sends them empty
    reports nothing."""
    from storage.archive import Outcome

    now = datetime(2025, 3, 20, 9, tzinfo=UTC)
    item, _ = procedure_item(fixture(REAL_OEIL), now)
    old = dataclasses.replace(item, status={k: v for k, v in item.status.items()
                                            if k not in ("datum", "activiteit_status", "verwacht")})
    assert store(engine, old, now).outcome == Outcome.NEW
    assert store(engine, item, now).outcome == Outcome.UNCHANGED


# --- Plenary votes --------------------------------------------------------------------------


def demo_page(reference: str, visit: int) -> bytes:
    from scripts.demo_europarl import oeil_page
    return oeil_page(reference, visit)


def test_the_vote_on_the_file_gives_result_counts_and_date() -> None:
    s = spider(["2022/0426(COD)"])
    oeil = oeil_request(s)
    [votes] = answer(oeil, demo_page("2022/0426(COD)", 1), HtmlResponse)
    assert votes.url == DOCEO + "PV-9-2024-04-23-VOT_EN.xml"
    [item] = answer(votes, fixture(REAL_VOTES), XmlResponse)
    assert item.status == {
        "stadium": "Procedure completed",
        "laatste_gebeurtenis": "2024-06-24: Final act published in Official Journal",
        "besluit": "aangenomen", "stemming": "Voor 563, Tegen 7, Onthouding 17",
        "besluit_datum": "2024-04-23", "datum": "", "activiteit_status": "", "verwacht": "",
    }
    vote = item.meta["vote"]
    assert vote["url"] == votes.url and vote["voting_id"] == "168442"
    assert vote["voting"] == ("A9-0285/2023 – Malin Björk, Eugenia Rodríguez Palop – "
                              "Provisional agreement – Am 2")
    assert vote["result_type"] == "ROLL_CALL" and vote["voters"] == 587
    assert vote["file_version"] == "2" and vote["last_update"].startswith("2024-07-08")
    assert item.identifiers["ep_document"] == ["A-9-2023-0285", "TA-9-2024-0309"]
    assert "Eindhandeling: Directive 2024/1712 (CELEX 32024L1712)" in item.text
    assert s.failures == [(API + "procedures/2022-0426" + FORMAT,
                           "HTTP 404 Not Found")]


def test_a_vote_named_by_procedure_number_and_a_raise_hand_vote_without_counts() -> None:
    from crawler.spiders.europarl import plenary_vote
    vote = plenary_vote(fixture(REAL_VOTES), "2024/0021(COD)", set())
    assert vote is not None and vote["result"] == "ADOPTED" and vote["counts"] == {}
    assert vote["result_type"] == "RAISE_HAND" and vote["voting"] == "Request for urgent procedure"
    assert plenary_vote(fixture(REAL_VOTES), "2024/0035(COD)", {"A-10-2025-0110"}) is None


@pytest.mark.parametrize("status", [404, 503])
def test_a_missing_vote_file_costs_the_vote_facets_a_failed_one_holds_the_item(status: int) -> None:
    s = spider(["2022/0426(COD)"])
    [votes] = answer(oeil_request(s), demo_page("2022/0426(COD)", 1), HtmlResponse)
    items = http_error(votes, status)
    if status == 404:  # there is no vote file: the item has its stage, no vote
        [item] = items
        assert item.key == "2022/0426(COD)" and item.status["stadium"] == "Procedure completed"
        assert "besluit" not in item.status
        assert s.failures[-1] == (votes.url, "HTTP 404 Not Found")
    else:  # the vote file failed to come: the item waits for a run that has it whole
        assert items == []
        assert s.failures[-2] == (votes.url, "HTTP 503 Service Unavailable")
        assert s.failures[-1][1] == ("2022/0426(COD): not stored this run, as its vote result "
                                     "did not come; the next run stores it whole")


@pytest.mark.parametrize(("body", "reason"), [
    (b"", "not XML"),  # the CDN's empty HTTP 202
    (b"<html><body>blocked</body></html>", "not a plenary vote-results file"),
])
def test_a_vote_file_that_is_not_one_is_a_failure_and_the_item_survives(
        body: bytes, reason: str) -> None:
    s = spider(["2022/0426(COD)"])
    [votes] = answer(oeil_request(s), demo_page("2022/0426(COD)", 1), HtmlResponse)
    [item] = answer(votes, body, XmlResponse, status=202)
    assert item.status["stadium"] == "Procedure completed" and "besluit" not in item.status
    assert reason in s.failures[-1][1]


# --- The demo weeks ------------------------------------------------------------------------------


def replay(folder: Path, clock: datetime) -> tuple[EuroparlSpider, list[PolicyItem], list[str]]:
    """Run the spider's whole visit on a recording, through its callbacks: (spider, items, urls)."""
    s = spider(clock=clock)
    queue, items, urls = requests_of(s), [], []
    while queue:
        request = queue.pop(0)
        urls.append(request.url)
        found = read_response(folder, request.url, request.method, request.body)
        assert found is not None, f"the demo recording misses {request.url}"
        meta, body = found
        headers = Headers(meta["headers"])
        cls = responsetypes.from_args(headers=headers, url=request.url, body=body)
        response = cls(url=request.url, status=meta["status"], headers=headers, body=body,
                       request=request)
        for output in request.callback(response, **request.cb_kwargs):
            (queue if isinstance(output, Request) else items).append(output)
    return s, items, urls


CLOCKS = {1: WEEK47, 2: WEEK48}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    from scripts.demo_europarl import write
    folders = {1: tmp_path_factory.mktemp("week47"), 2: tmp_path_factory.mktemp("week48")}
    write(folders[1], 1, WEEK47)
    write(folders[2], 2, WEEK48)
    return folders


def store(engine, item: PolicyItem, now: datetime):
    from crawler.pipelines import _observation
    from storage.archive import ensure_source, record_observation
    from storage.db import session_factory

    with session_factory(engine).begin() as session:
        source = ensure_source(session, item.source, kind="spider", title=item.source)
        return record_observation(session, source, _observation(item), now=now)


def test_the_demo_answers_every_request_of_both_visits(demo: dict[int, Path]) -> None:
    for visit in (1, 2):
        s, items, urls = replay(demo[visit], CLOCKS[visit])
        assert s.failures == []
        assert len(urls) == 11 and DOCEO + "PV-9-2024-04-23-VOT_EN.xml" in urls
        assert sorted(i.key for i in items) == [
            "2022/0155(COD)", "2022/0426(COD)", "2024/0035(COD)", "A-10-2025-0110",
            "A-9-2023-0285", "A-9-2023-0364", "TA-9-2024-0309"]
        recorded = sorted(p.name for p in demo[visit].rglob("*.json") if p.name != "manifest.json")
        assert len(recorded) == len(urls)  # nothing recorded that the spider does not ask for


def test_in_the_demo_the_csa_directive_moves_and_the_regulation_does_not(
        demo: dict[int, Path]) -> None:
    week47 = {i.key: i for i in replay(demo[1], WEEK47)[1]}
    week48 = {i.key: i for i in replay(demo[2], WEEK48)[1]}
    directive = "2024/0035(COD)"
    # OEIL's indicative plenary sitting date moves from January to the December session.
    assert week47[directive].status == {
        "stadium": "Awaiting Parliament's position in 1st reading",
        "laatste_gebeurtenis": "2025-06-18: Committee decision to enter into interinstitutional "
                               "negotiations confirmed by plenary (Rule 72)",
        "datum": "2027-01-18", "activiteit_status": "Voorzien",
        "verwacht": "Indicative plenary sitting date, 1st reading"}
    assert week48[directive].status == {
        "stadium": "Awaiting plenary debate/vote",
        "laatste_gebeurtenis": "2026-11-25: Approval in committee of the text agreed at 1st "
                               "reading interinstitutional negotiations",
        "datum": "2026-12-14", "activiteit_status": "Voorzien",
        "verwacht": "Indicative plenary sitting date, 1st reading"}
    assert week48[directive].title == ("Bestrijding van seksueel misbruik en seksuele uitbuiting "
                                       "van kinderen en van materiaal van seksueel misbruik van "
                                       "kinderen (herschikking)")
    assert week48[directive].identifiers == {"procedure": [directive],
                                             "ep_document": ["A-10-2025-0110"]}
    # The API's titles lead the text; the fingerprint is OEIL's part only, so an API outage is
    # no new version, and neither is this week's stage change.
    lines = week48[directive].text.split("\n")
    assert lines[:3] == [week48[directive].title, ("Combating the sexual abuse and sexual "
                         "exploitation of children and child sexual abuse material (recast)"),
                         f"Procedure {directive}"]
    # (OEIL's English title is the API's here, so the text states it once.)
    assert week48[directive].fingerprint == "\n".join(lines[1:])
    assert week48[directive].title not in week48[directive].fingerprint
    assert week47[directive].fingerprint == week48[directive].fingerprint
    assert week48[directive].meta["api"]["label"] == directive
    assert [e["activity"] for e in week48[directive].meta["api"]["events"]] == [
        "COMMITTEE_TABLING_REPORT"]
    for key in ("2022/0155(COD)", "2022/0426(COD)", "A-9-2023-0364"):
        assert (week47[key].status, week47[key].text) == (week48[key].status, week48[key].text)
    assert week48["2022/0155(COD)"].status["activiteit_status"] == ""  # no forecast


def test_in_the_archive_week48_is_a_status_event_on_the_directive(
        engine, demo: dict[int, Path]) -> None:
    from sqlalchemy import select

    from storage.archive import Outcome
    from storage.db import session_factory
    from storage.models import ChangeEvent, Record

    for item in replay(demo[1], WEEK47)[1]:
        assert store(engine, item, WEEK47).outcome == Outcome.NEW
    outcomes = {item.key: store(engine, item, WEEK48).outcome
                for item in replay(demo[2], WEEK48)[1]}
    assert outcomes.pop("2024/0035(COD)") == Outcome.STATUS
    assert set(outcomes.values()) == {Outcome.UNCHANGED}
    with session_factory(engine)() as session:
        record = session.scalars(select(Record).where(Record.key == "2024/0035(COD)")).one()
        [event] = session.scalars(select(ChangeEvent).where(
            ChangeEvent.record_id == record.id, ChangeEvent.kind == "status")).all()
        assert event.detail["changes"]["stadium"] == [
            "Awaiting Parliament's position in 1st reading", "Awaiting plenary debate/vote"]
        assert event.detail["changes"]["datum"] == ["2027-01-18", "2026-12-14"]
        assert "verwacht" not in event.detail["changes"]  # the same subject, another date


def test_fixture_notes_name_every_file() -> None:
    notes = (FIXTURES / "NOTES.md").read_text(encoding="utf-8")
    for path in FIXTURES.iterdir():
        if path.name != "NOTES.md":
            assert path.name in notes, path.name
