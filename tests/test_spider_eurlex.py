"""The EUR-Lex / Cellar SPARQL spider: queries, unbound variables, paging, cursor, quirks, failures."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from lxml import etree
from scrapy import Request
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawler.items import PolicyItem
from crawler.pipelines import NormalizePipeline
from crawler.replay import read_manifest, read_response
from crawler.spiders.eurlex import EurlexSpider, Watch, clean, document_kind, procedure_uri
from monitors import identifiers as ids
from tests.helpers import make_spider

FIXTURES = Path(__file__).parent / "fixtures" / "eurlex"
ENDPOINT = "https://publications.europa.eu/webapi/rdf/sparql"
CELLAR = "http://publications.europa.eu/resource/cellar/"


def spider(procedures: list[str] | None = None, acts: list[str] | None = None,
           **kwargs) -> EurlexSpider:
    s = make_spider(EurlexSpider, **kwargs)
    s.procedures = ["2024/0035(COD)"] if procedures is None else procedures
    s.acts = [] if acts is None else acts
    return s


def requests_of(s: EurlexSpider) -> list[Request]:
    async def collect() -> list[Request]:
        return [r async for r in s.start()]

    return asyncio.run(collect())


def query_of(request: Request) -> str:
    assert request.method == "POST" and request.url == ENDPOINT
    params = parse_qs(request.body.decode("ascii"))
    assert params["format"] == ["application/sparql-results+json"]
    [query] = params["query"]
    return query


def answer(request: Request, body: bytes | str, status: int = 200,
           headers: dict[str, str] | None = None) -> list:
    if isinstance(body, str):
        body = (FIXTURES / body).read_bytes()
    response = TextResponse(url=request.url, body=body, status=status, request=request,
                            encoding="utf-8", headers=headers or {
                                "Content-Type": "application/sparql-results+json"})
    return list(request.callback(response, **request.cb_kwargs))


def items(results: list) -> list[PolicyItem]:
    return [r for r in results if isinstance(r, PolicyItem)]


# --- requests ---------------------------------------------------------------------------------

def test_one_post_query_per_procedure_and_act_with_the_json_format() -> None:
    s = spider(procedures=["2022/0155(COD)", "2024/0035(COD)"], acts=["32024L1712"])
    first, second, act = requests_of(s)
    for request in (first, second, act):
        assert request.method == "POST" and request.url == ENDPOINT
        assert request.headers["Content-Type"] == b"application/x-www-form-urlencoded"
        assert request.headers["Accept"] == b"application/sparql-results+json"
        assert request.errback == s.on_error and request.meta["handle_httpstatus_list"] == [400]
    assert first.cb_kwargs == {"watch": Watch("procedure", "2022/0155(COD)"), "offset": 0}
    procedure = query_of(first)
    # The Cellar procedure resource has no leading zeros (§5.1).
    assert "?dossier owl:sameAs <http://publications.europa.eu/resource/procedure/2022_155> ." \
        in procedure
    assert "cdm:resource_legal_adopts_resource_legal" in procedure
    assert "cdm:resource_legal_contains_ep_opinion_on_resource_legal" in procedure
    assert procedure.endswith("GROUP BY ?work\nORDER BY ?work\nLIMIT 500\nOFFSET 0")
    assert "FILTER(!BOUND" not in procedure  # no cursor yet: everything
    assert "<http://publications.europa.eu/resource/procedure/2024_35>" in query_of(second)
    assert act.cb_kwargs["watch"] == Watch("act", "32024L1712")
    assert '?work cdm:resource_legal_id_celex ?celex_ . FILTER(STR(?celex_) = "32024L1712")' \
        in query_of(act)
    assert "owl:sameAs" not in query_of(act).split("WHERE {", 1)[1]


def test_the_four_procedure_spellings_make_one_query() -> None:
    spellings = ["2022/0155(COD)", "2022-0155", "2022/0155/COD", "procedure/2022_155"]
    assert {ids.procedure(s) for s in spellings} == {"2022/0155(COD)"}
    assert ids.procedure("http://publications.europa.eu/resource/procedure/2024_35") == \
        "2024/0035(COD)"
    [request] = requests_of(spider(procedures=spellings))
    assert request.cb_kwargs["watch"] == Watch("procedure", "2022/0155(COD)")
    assert procedure_uri("2024/0035(COD)") == "http://publications.europa.eu/resource/procedure/2024_35"


def test_a_cursor_asks_from_its_day_minus_the_overlap_per_query() -> None:
    s = spider(procedures=["2022/0155(COD)", "2024/0035(COD)"], cursor={
        "procedure:2022/0155(COD)": "2026-11-25T10:12:31.120+01:00"})
    with_cursor, without = requests_of(s)
    assert '\nFILTER(!BOUND(?modified_) || STR(?modified_) >= "2026-11-23")\n}' \
        in query_of(with_cursor)
    assert "FILTER(!BOUND" not in query_of(without)  # a newly watched procedure: everything
    s = spider(procedures=["2022/0155(COD)"], cursor={
        "procedure:2022/0155(COD)": "2026-11-25T10:12:31.120+01:00"})
    s.modified_filter = False  # WATCH_EURLEX_MODIFIED_FILTER (behaviour [UNCONFIRMED])
    [request] = requests_of(s)
    assert "FILTER(!BOUND" not in query_of(request)


def test_settings_that_are_not_identifiers_are_failures_and_the_rest_runs() -> None:
    s = spider(procedures=["2024/0035(COD)", "chatcontrole"], acts=["32011L0036", "COM-nonsense"])
    requests = requests_of(s)
    assert [r.cb_kwargs["watch"].key for r in requests] == [
        "procedure:2024/0035(COD)", "act:32011L0036"]
    assert [reason for _, reason in s.failures] == [
        "WATCH_EURLEX_PROCEDURES: 'chatcontrole' is not a procedure number",
        "WATCH_EURLEX_ACTS: 'COM-nonsense' is not a CELEX number"]


# --- items, paging, cursor --------------------------------------------------------------------

def test_a_proposal_every_field_and_paging_with_offset() -> None:
    s = spider(cursor={"procedure:2024/0035(COD)": "2026-09-01"})
    s.page_size = 2
    [first] = requests_of(s)
    results = answer(first, "sparql-procedure-2024-0035-page1-of-2.json")
    proposal, swd = items(results)
    [follow] = [r for r in results if isinstance(r, Request)]
    assert follow.cb_kwargs == {"watch": first.cb_kwargs["watch"], "offset": 2}
    assert query_of(follow).endswith("LIMIT 2\nOFFSET 2")
    assert query_of(follow).replace("OFFSET 2", "OFFSET 0") == query_of(first)

    assert proposal.source == "eurlex" and proposal.key == "52024PC0060"
    assert proposal.url == "https://eur-lex.europa.eu/legal-content/NL/TXT/?uri=CELEX:52024PC0060"
    assert proposal.title == (
        "Voorstel voor een RICHTLIJN VAN HET EUROPEES PARLEMENT EN DE RAAD ter bestrijding van "
        "seksueel misbruik en seksuele uitbuiting van kinderen en van materiaal van seksueel "
        "misbruik van kinderen, en ter vervanging van Kaderbesluit 2004/68/JBZ van de Raad "
        "(herschikking)")
    assert proposal.text == proposal.title + "\n" + (
        "Proposal for a DIRECTIVE OF THE EUROPEAN PARLIAMENT AND OF THE COUNCIL on combating the "
        "sexual abuse and sexual exploitation of children and child sexual abuse material and "
        "replacing Council Framework Decision 2004/68/JHA (recast)")
    assert proposal.doc_type == "proposal"
    assert proposal.published_at == datetime(2024, 2, 6, tzinfo=UTC)
    assert proposal.fetched_at.tzinfo is not None
    assert proposal.identifiers == {"celex": ["52024PC0060"], "procedure": ["2024/0035(COD)"],
                                    "cellar": ["2f1e6c33-c4d6-11ee-b164-01aa75ed71a1"]}
    assert proposal.status == {} and proposal.removed is False
    assert proposal.meta == {
        "work": CELLAR + "2f1e6c33-c4d6-11ee-b164-01aa75ed71a1", "date": "2024-02-06",
        "authors": ["COM", "HOME"], "resource_types": ["PROP_DIR"],
        "modified": "2026-09-14T16:02:11.532+02:00", "oj": None, "relations": ["dossier"],
        "title_language": "nl", "title_en": proposal.text.split("\n")[1]}
    assert NormalizePipeline.from_crawler(s.crawler).process_item(proposal) is proposal
    # An English-only staff working document links to the English page.
    assert swd.key == "52024SC0033" and swd.doc_type == "staff working document"
    assert swd.url.endswith("/EN/TXT/?uri=CELEX:52024SC0033")
    assert "title_en" not in swd.meta and swd.meta["title_language"] == "en"
    # The query is not complete until its last page: the cursor holds.
    assert s.next_cursor() == {"procedure:2024/0035(COD)": "2026-09-01"}

    [council] = items(answer(follow, "sparql-procedure-2024-0035-page2-of-2.json"))
    # A work without a CELEX number (a Council document): keyed and linked by its Cellar URI,
    # the variables it lacks are absent from its row.
    work = CELLAR + "f3a9d2c1-ccf0-11f1-8e52-01aa75ed71a1"
    assert council.key == work and council.url == work
    assert council.title.startswith("Proposal for a Directive") and council.title.endswith(
        "- Analysis of the final compromise text with a view to agreement")
    assert council.doc_type == "Council document"
    assert council.published_at == datetime(2026, 11, 25, tzinfo=UTC)
    assert council.identifiers == {"procedure": ["2024/0035(COD)"],
                                   "cellar": ["f3a9d2c1-ccf0-11f1-8e52-01aa75ed71a1"]}
    assert council.meta["resource_types"] == [] and council.meta["authors"] == ["CONSIL"]
    assert s.next_cursor() == {"procedure:2024/0035(COD)": "2026-11-25T18:02:44.371+01:00"}


def test_an_act_with_eli_oj_and_in_force_facet_once_per_run() -> None:
    s = spider(procedures=["2022/0426(COD)"], acts=["32024L1712"])
    procedure, act = requests_of(s)
    [item] = items(answer(act, "sparql-act-32024L1712.json"))
    assert item.key == "32024L1712" and item.doc_type == "act"
    assert item.title.startswith("Richtlijn (EU) 2024/1712 van het Europees Parlement")
    assert item.identifiers == {"celex": ["32024L1712"],
                                "eli": ["http://data.europa.eu/eli/dir/2024/1712/oj"],
                                "procedure": ["2022/0426(COD)"],
                                "cellar": ["c5f0b1a2-2f5e-11ef-a251-01aa75ed71a1"]}
    assert item.status == {"in_werking": "ja"}
    assert item.meta["oj"] == "oj:L_202401712" and item.meta["relations"] == ["adopts"]
    assert item.meta["authors"] == ["EP", "CONSIL"]
    # The procedure's query returns the same work: yielded once, both cursors advance.
    body = (FIXTURES / "sparql-act-32024L1712.json").read_bytes()
    assert items(answer(procedure, body)) == []
    assert s.next_cursor() == {"act:32024L1712": "2026-07-15T02:11:40.250+02:00",
                               "procedure:2022/0426(COD)": "2026-07-15T02:11:40.250+02:00"}


def test_the_real_celex_result_with_unbound_variables_absent() -> None:
    s = spider(procedures=[], acts=["32011L0092"])
    [request] = requests_of(s)
    [item] = items(answer(request, "cellar-sparql-json-celex-32011L0092-metadata.json"))
    # No ?work, no ?celex (that query knew it), no ?ecli/?oj_akte_datum: the row lacks them.
    assert item.key == "32011L0092"
    assert item.url == "https://eur-lex.europa.eu/legal-content/NL/TXT/?uri=CELEX:32011L0092"
    assert item.title.startswith("Richtlijn 2011/92/EU van het Europees Parlement en de Raad")
    assert item.doc_type == "act" and item.published_at == datetime(2011, 12, 13, tzinfo=UTC)
    assert item.identifiers == {"celex": ["32011L0092"],
                                "eli": ["http://data.europa.eu/eli/dir/2011/92/oj"]}
    assert item.meta["oj"] == "oj:JOL_2012_026_R_0001_01" and item.meta["work"] is None
    assert item.status == {}
    assert s.next_cursor() == {}  # no lastModificationDate received: the next run asks all again


def test_the_real_empty_result_completes_the_query_and_keeps_the_cursor() -> None:
    s = spider(cursor={"procedure:2024/0035(COD)": "2026-11-20T08:00:00+01:00"})
    [request] = requests_of(s)
    assert answer(request, "cellar-sparql-json-empty-bindings.json") == []
    assert s.failures == []
    assert s.next_cursor() == {"procedure:2024/0035(COD)": "2026-11-20T08:00:00+01:00"}


def test_a_row_without_an_id_is_a_failure_the_others_survive_the_cursor_holds() -> None:
    s = spider(procedures=["2022/0155(COD)"], cursor={"procedure:2022/0155(COD)": "2026-01-01"})
    [request] = requests_of(s)
    [item] = items(answer(request, "sparql-procedure-row-without-id.json"))
    assert item.key == "52022PC0209"
    [(url, reason)] = s.failures
    assert url == request.url
    assert reason == "procedure:2022/0155(COD): row 1: row has neither a CELEX number nor a work URI"
    assert s.next_cursor() == {"procedure:2022/0155(COD)": "2026-01-01"}


# --- quirks -----------------------------------------------------------------------------------

def test_highlight_markup_and_escapes_are_stripped() -> None:
    # The only real sample of leaked search highlighting: the SOAP results (§5.5/5.7).
    root = etree.fromstring((FIXTURES / "soap-searchresults-2hits.xml").read_bytes())
    raw = [v.text for v in root.iter("{*}VALUE") if v.getparent().tag.endswith("ID_CELEX")]
    assert raw == ["<em>32014R1337</em>", "<em>32014R1338</em>"]
    assert [clean(v) for v in raw] == ["32014R1337", "32014R1338"]
    assert [ids.celex(clean(v)) for v in raw] == ["32014R1337", "32014R1338"]
    assert clean("Titel&amp;#13;\nmet  &lt;em&gt;nadruk&lt;/em&gt;") == "Titel met nadruk"
    assert clean("Richtlijn &lt; 2011/36") == "Richtlijn < 2011/36"


def test_eli_spellings_become_one() -> None:
    canonical = "http://data.europa.eu/eli/dir/2024/1712/oj"
    for spelling in ("http://data.europa.eu/eli/dir/2024/1712/oj",
                     "http://publications.europa.eu/resource/eli/dir/2024/1712/oj",
                     "https://eur-lex.europa.eu/eli/dir/2024/1712/oj/", "eli/dir/2024/1712/oj"):
        assert ids.eli(spelling) == canonical
    assert ids.eli("https://example.org/eli/dir/2024/1712/oj") is None
    assert ids.eli("32024L1712") is None


@pytest.mark.parametrize(("celex", "types", "authors", "kind"), [
    ("52022PC0209", ["PROP_REG"], ["COM"], "proposal"),
    ("52026PC0812", ["COMMUNIC"], ["COM"], "communication"),
    ("52024AP0123", [], ["EP"], "position"),
    ("52026AG0031", [], ["CONSIL"], "position"),
    ("52022AE3436", [], [], "opinion"),
    ("52024SC0033", [], ["COM"], "staff working document"),
    ("32024L1712", ["DIR"], [], "act"),
    ("02011L0036", [], [], "consolidated act"),
    (None, ["PROP_DIR"], [], "proposal"),
    (None, [], ["CONSIL"], "Council document"),
    (None, [], [], "document"),
])
def test_document_kinds(celex: str | None, types: list[str], authors: list[str], kind: str
                        ) -> None:
    assert document_kind(celex, types, authors) == kind


# --- failures ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("body", "status", "headers", "reason"), [
    (b"Virtuoso 37000 Error SP030: SPARQL compiler, line 12: syntax error\n\nSPARQL query:\n...",
     400, {"Content-Type": "text/plain"},
     "the endpoint refused the query: Virtuoso 37000 Error SP030: SPARQL compiler, line 12: "
     "syntax error"),
    (b"<!DOCTYPE html><html><body>Service unavailable</body></html>", 200,
     {"Content-Type": "text/html"}, "response is not JSON (HTTP 200): <!DOCTYPE html>"),
    (b'{"head": {"vars": ["datum"]}}', 200, None,
     "not SPARQL JSON results (no head or results.bindings)"),
    (b'{"head": {"vars": ["s", "p", "o"]}, "results": {"bindings": []}}', 200, None,
     "results lack the variables ['datum', 'titel_nl', 'titel_en']"),
    (b"", 202, {"x-amzn-waf-action": "challenge"}, "AWS WAF bot check (challenge, HTTP 202)"),
])
def test_bad_answers_fail_the_query_and_hold_its_cursor(
        body: bytes, status: int, headers: dict[str, str] | None, reason: str) -> None:
    s = spider(procedures=["2024/0035(COD)", "2022/0155(COD)"],
               cursor={"procedure:2024/0035(COD)": "2026-11-01"})
    failing, fine = requests_of(s)
    assert answer(failing, body, status=status, headers=headers) == []
    assert items(answer(fine, "sparql-procedure-row-without-id.json"))  # the other query runs
    url, why = s.failures[0]
    assert url == failing.url and why.startswith("procedure:2024/0035(COD): " + reason)
    assert s.next_cursor()["procedure:2024/0035(COD)"] == "2026-11-01"


def test_a_failed_later_page_holds_the_cursor_despite_newer_rows() -> None:
    s = spider(cursor={"procedure:2024/0035(COD)": "2026-09-01"})
    s.page_size = 2
    [first] = requests_of(s)
    [follow] = [r for r in answer(first, "sparql-procedure-2024-0035-page1-of-2.json")
                if isinstance(r, Request)]
    failure = Failure(HttpError(Response(follow.url, status=503, request=follow),
                                "Ignoring non-200 response"))
    failure.request = follow  # type: ignore[attr-defined]
    follow.errback(failure)
    assert s.failures == [(follow.url, "HTTP 503 Service Unavailable")]
    assert s.next_cursor() == {"procedure:2024/0035(COD)": "2026-09-01"}


def test_a_query_that_never_got_an_answer_is_a_failure_at_close() -> None:
    s = spider(procedures=["2022/0155(COD)", "2024/0035(COD)"],
               cursor={"procedure:2024/0035(COD)": "2026-11-01"})
    answered, dropped = requests_of(s)
    assert len(answered.url) < 2083  # POST: no middleware drops the query for its length
    answer(answered, "cellar-sparql-json-empty-bindings.json")
    s.closed("finished")
    assert s.failures == [(ENDPOINT, "procedure:2024/0035(COD): no answer to the query (finished)")]
    assert s.next_cursor() == {"procedure:2024/0035(COD)": "2026-11-01"}


# --- demo -------------------------------------------------------------------------------------

def test_the_demo_answers_every_request_of_both_visits(tmp_path: Path) -> None:
    from scripts import demo_eurlex

    recorded = {1: datetime(2026, 11, 20, 17, tzinfo=UTC), 2: datetime(2026, 11, 27, 17, tzinfo=UTC)}
    for visit, at in recorded.items():
        folder = tmp_path / str(visit)
        demo_eurlex.write(folder, visit, at)
        cursor = read_manifest(folder)["sources"]["eurlex"].get("cursor")
        assert (cursor is None) == (visit == 1)  # the first visit is the source's first run
        s = make_spider(EurlexSpider, cursor=cursor)  # the default settings, as in the demo
        pending = requests_of(s)
        found: list[PolicyItem] = []
        while pending:
            request = pending.pop(0)
            recorded_response = read_response(folder, request.url, request.method, request.body)
            assert recorded_response is not None, query_of(request)
            meta, body = recorded_response
            assert meta["status"] == 200
            results = answer(request, body)
            found += items(results)
            pending += [r for r in results if isinstance(r, Request)]
        assert s.failures == []
        keys = {item.key for item in found}
        if visit == 1:
            assert keys == {"52022PC0209", "52022SC0209", "52024PC0060", "52022PC0732",
                            "32024L1712", "32011L0036", "32011L0093", "32021R1232", "32024R1307"}
            assert s.next_cursor() == json.loads(json.dumps(demo_eurlex.start_cursor(2)))
        else:
            council = CELLAR + "f3a9d2c1-ccf0-11f1-8e52-01aa75ed71a1"
            assert council in keys and "52022PC0209" in keys  # new, and back after a touch
            [new] = [item for item in found if item.key == council]
            assert new.identifiers["procedure"] == ["2024/0035(COD)"]
            assert new.published_at is not None and new.published_at.date() == date(2026, 11, 25)
            assert "52022SC0209" not in keys  # not modified since the cursor
            assert s.next_cursor()["procedure:2024/0035(COD)"] == "2026-11-25T18:02:44.371+01:00"


def test_fixture_notes_name_every_file() -> None:
    notes = (FIXTURES / "NOTES.md").read_text(encoding="utf-8")
    for path in FIXTURES.iterdir():
        if path.name != "NOTES.md":
            assert f"`{path.name}`" in notes, path.name
