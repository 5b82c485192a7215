"""The Tweede Kamer spider on recorded pages: queries, items, paging, removals, cursor, failures."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from scrapy import Request

from crawler.items import PolicyItem
from crawler.pipelines import NormalizePipeline
from crawler.spiders.tweedekamer import TweedekamerSpider, odata_datetime, parse_time
from tests.helpers import call, load_json, make_spider, response_for

FIXTURES = Path(__file__).parent / "fixtures" / "tweedekamer"
REAL_BESLUIT = FIXTURES / "odata-besluit-expand-page-truncated-with-nextlink.json"
BASE = "https://gegevensmagazijn.tweedekamer.nl/OData/v4/2.0/"


def spider(**kwargs) -> TweedekamerSpider:
    return make_spider(TweedekamerSpider, **kwargs)


def start_requests(s: TweedekamerSpider) -> list[Request]:
    async def collect() -> list[Request]:
        return [r async for r in s.start()]

    return asyncio.run(collect())


def first_page(s: TweedekamerSpider, entity: str) -> Request:
    return next(r for r in start_requests(s) if r.cb_kwargs["entity"] == entity)


def test_queries_ask_only_for_what_changed_since_the_cursor_minus_overlap() -> None:
    s = spider(cursor={"Document": "2026-11-20T16:59:01.1234567Z",
                       "Zaak": "2026-11-20T10:00:00Z", "Activiteit": "2026-11-19T09:30:00Z",
                       "Besluit": "2026-11-18T12:00:00Z"})
    urls = {r.cb_kwargs["entity"]: r.url for r in start_requests(s)}
    assert urls["Document"] == (
        BASE + "Document?$filter=ApiGewijzigdOp%20gt%202026-11-19T16:59:01Z"
        "&$orderby=ApiGewijzigdOp&$expand=Kamerstukdossier,DocumentVersie,Zaak,DocumentActor"
    )
    assert urls["Besluit"] == (
        BASE + "Besluit?$filter=ApiGewijzigdOp%20gt%202026-11-17T12:00:00Z"
        "&$orderby=ApiGewijzigdOp&$expand=Zaak($expand=Kamerstukdossier,ZaakActor),Stemming,"
        "Agendapunt($expand=Activiteit)"
    )
    # Deleted rows are wanted (they become `removed` events): no Verwijderd filter, no $top.
    assert all("Verwijderd" not in u and "$top" not in u for u in urls.values())


def test_first_run_without_cursor_looks_back_the_initial_window() -> None:
    s = spider()
    now = datetime(2026, 11, 27, 17, 0, tzinfo=UTC)
    assert s.since("Document", now) == datetime(2026, 11, 20, 17, 0, tzinfo=UTC)
    assert odata_datetime(s.since("Document", now)) == "2026-11-20T17:00:00Z"


def test_base_url_and_entity_names_come_from_settings() -> None:
    s = spider()
    s.base_url = "https://example.test/OData/v5/"
    s.entities = {"Document": {"entity_set": "Documenten", "expand": ""}}
    [request] = start_requests(s)
    assert request.url.startswith("https://example.test/OData/v5/Documenten?$filter=")
    assert "$expand" not in request.url


def test_real_besluit_page_becomes_a_status_item_on_the_motion() -> None:
    s = spider()
    request = first_page(s, "Besluit")
    results = call(request, response_for(request, REAL_BESLUIT.read_bytes()))
    items = [r for r in results if isinstance(r, PolicyItem)]
    [follow] = [r for r in results if isinstance(r, Request)]
    [item] = items
    assert item.key == "Zaak/caf0a689-8336-41ba-9aa2-f216a97f862a"
    assert item.url == BASE + "Zaak(caf0a689-8336-41ba-9aa2-f216a97f862a)"
    assert item.title == (
        "Motie van het lid Beckerman over de grens van het woningwaarderingsstelsel "
        "opschuiven naar €1.300"
    )
    assert item.doc_type == "Motie"
    assert item.published_at == datetime(2022, 10, 11, 22, 0, tzinfo=UTC)
    assert item.identifiers == {
        "tk-id": ["caf0a689-8336-41ba-9aa2-f216a97f862a"], "zaak": ["2022Z19212"],
        "zaakdocument": ["2022Z19212"],  # a motion: the zaak and its document are one work
    }
    # 20 Stemming rows: 61 seats for, 89 against (summed by hand from the fixture).
    assert item.status == {
        "zaak_status": "Vrijgegeven",
        "afgedaan": "ja",
        "kabinetsappreciatie": "Ontraden",
        "besluit": "Stemmen - verworpen",
        "besluit_tekst": "Verworpen.",
        "stemming": "Voor 61, Tegen 89",
        "besluit_datum": "2022-10-18",
    }
    assert item.text.splitlines() == [
        "Motie",
        "Integrale visie op de woningmarkt",
        "Motie van het lid Beckerman over de grens van het woningwaarderingsstelsel "
        "opschuiven naar €1.300",
        "Indiener: S.M. Beckerman (SP)",
    ]
    besluit = item.meta["besluit"]
    assert besluit["StemmingsSoort"] == "Met handopsteken"
    assert len(besluit["stemmen"]) == 20
    assert {"fractie": "D66", "soort": "Tegen", "zetels": 24} in besluit["stemmen"]
    assert item.meta["ApiGewijzigdOp"] == "2022-10-18T14:06:34.5048026Z"
    # The nextLink is followed exactly as the server wrote it; the entity is not complete yet.
    assert follow.url == load_json(REAL_BESLUIT)["@odata.nextLink"].replace(" ", "%20")
    assert follow.cb_kwargs == {"entity": "Besluit"}
    assert "Besluit" not in s.next_cursor() or s.next_cursor()["Besluit"] == s.cursor.get("Besluit")
    assert NormalizePipeline.from_crawler(s.crawler).process_item(item) is item


DOCUMENT_ROW = {
    "Id": "0d3f9a52-6f0e-4a39-9a47-1f6f0d2b7c11", "Soort": "Brief regering",
    "DocumentNummer": "2026D48123", "Titel": "Mensenhandel",
    "Onderwerp": "Voortgangsrapportage Actieplan Samen tegen Mensenhandel",
    "Datum": "2026-11-17T00:00:00+01:00", "Vergaderjaar": "2026-2027", "Kamer": 2,
    "Volgnummer": 251, "Citeertitel": None, "Alias": None,
    "DatumRegistratie": "2026-11-17T00:00:00+01:00", "DatumOntvangst": None,
    "Aanhangselnummer": None, "KenmerkAfzender": None, "Organisatie": "Tweede Kamer",
    "ContentType": "application/pdf", "ContentLength": 123456,
    "HuidigeDocumentVersie_Id": "5b0c2a0e-3a51-4d7e-9f0b-7d7c6c1f2a01",
    "GewijzigdOp": "2026-11-17T10:02:11.4+01:00", "ApiGewijzigdOp": "2026-11-17T09:05:43.1234567Z",
    "Verwijderd": False,
    "Kamerstukdossier": [{"Id": "e0b6c1a3-0000-4000-8000-000000028638", "Nummer": 28638,
                          "Toevoeging": None, "Titel": "Mensenhandel", "Verwijderd": False}],
    "DocumentVersie": [{"Id": "5b0c2a0e-3a51-4d7e-9f0b-7d7c6c1f2a01", "Status": "Definitief",
                        "Versienummer": 1, "Datum": "2026-11-17T00:00:00+01:00",
                        "ExterneIdentifier": "kst-28638-251", "Verwijderd": False}],
    "Zaak": [{"Id": "9b1f", "Nummer": "2026Z21001", "Soort": "Brief regering",
              "Verwijderd": False},
             {"Id": "dead", "Nummer": "2026Z99999", "Soort": "Brief regering",
              "Verwijderd": True}],
    "DocumentActor": [{"ActorNaam": "staatssecretaris van Justitie en Veiligheid",
                       "ActorFractie": None, "Relatie": "Eerste ondertekenaar",
                       "Verwijderd": False}],
}


def test_document_row_every_field() -> None:
    s = spider()
    request = first_page(s, "Document")
    [item] = call(request, response_for(request, {"value": [DOCUMENT_ROW]}))
    assert item.source == "tweedekamer"
    assert item.key == "Document/0d3f9a52-6f0e-4a39-9a47-1f6f0d2b7c11"
    assert item.url == BASE + "Document(0d3f9a52-6f0e-4a39-9a47-1f6f0d2b7c11)/resource"
    assert item.fetched_at.tzinfo is not None
    assert item.title == "Voortgangsrapportage Actieplan Samen tegen Mensenhandel"
    assert item.doc_type == "Brief regering"
    assert item.published_at == datetime(2026, 11, 16, 23, 0, tzinfo=UTC)
    assert item.identifiers == {
        "tk-id": ["0d3f9a52-6f0e-4a39-9a47-1f6f0d2b7c11"],
        "tk-document": ["2026D48123"],
        "dossier": ["28638"],
        "kamerstuk": ["kst-28638-251"],
        "zaak": ["2026Z21001"],  # the deleted zaak link is left out
        "zaakdocument": ["2026Z21001"],  # a government letter is its zaak's one document
    }
    assert item.text.splitlines() == [
        "Brief regering",
        "Mensenhandel",
        "Voortgangsrapportage Actieplan Samen tegen Mensenhandel",
        "Dossier 28638: Mensenhandel",
        "Eerste ondertekenaar: staatssecretaris van Justitie en Veiligheid",
        "Versie 1 (2026-11-17)",
    ]
    assert item.status == {}
    assert item.removed is False
    assert item.meta["links"] == {
        "bestand": BASE + "Document(0d3f9a52-6f0e-4a39-9a47-1f6f0d2b7c11)/resource",
        "officielebekendmakingen": "https://zoek.officielebekendmakingen.nl/kst-28638-251",
    }
    assert item.meta["versies"] == [{"Versienummer": 1, "Datum": "2026-11-17T00:00:00+01:00",
                                     "ExterneIdentifier": "kst-28638-251"}]
    assert item.meta["zaken"] == [{"Nummer": "2026Z21001", "Soort": "Brief regering"}]


def test_kamerstuk_with_toevoeging_and_answers_to_questions() -> None:
    s = spider()
    begroting = dict(DOCUMENT_ROW, Volgnummer=12, Kamerstukdossier=[
        {"Nummer": 36800, "Toevoeging": "VI", "Titel": "Begroting JenV 2026", "Verwijderd": False}
    ], DocumentVersie=[])
    answer = dict(DOCUMENT_ROW, Id="a1", Soort="Antwoord schriftelijke vragen", Volgnummer=-1,
                  Kamerstukdossier=[], DocumentVersie=[
                      {"Versienummer": 1, "ExterneIdentifier": "ah-tk-20262027-412",
                       "Verwijderd": False}])
    request = first_page(s, "Document")
    first, second = call(request, response_for(request, {"value": [begroting, answer]}))
    assert first.identifiers["dossier"] == ["36800-VI"]
    assert first.identifiers["kamerstuk"] == ["kst-36800-VI-12"]
    assert "kamerstuk" not in second.identifiers
    assert second.identifiers["officielebekendmakingen"] == ["ah-tk-20262027-412"]


def test_deleted_rows_become_removed_items() -> None:
    s = spider()
    request = first_page(s, "Document")
    deleted = {"Id": "0d3f", "Soort": None, "DocumentNummer": None, "Titel": None,
               "GewijzigdOp": "2026-11-25T10:00:00+01:00",
               "ApiGewijzigdOp": "2026-11-25T09:01:00.1000000Z", "Verwijderd": True,
               "Kamerstukdossier": [], "DocumentVersie": []}
    [item] = call(request, response_for(request, {"value": [deleted]}))
    assert item.removed is True
    assert item.key == "Document/0d3f"
    assert s.next_cursor()["Document"] == "2026-11-25T09:01:00.1000000Z"


def test_activiteit_status_and_date_are_facets() -> None:
    s = spider()
    request = first_page(s, "Activiteit")
    row = {"Id": "ac1", "Soort": "Commissiedebat", "Nummer": "2026A07001",
           "Onderwerp": "Mensenhandel en prostitutie", "Datum": "2026-11-26T00:00:00+01:00",
           "Aanvangstijd": "2026-11-26T10:00:00+01:00", "Status": "Gepland",
           "Locatie": "Thorbeckezaal", "Voortouwnaam": "vaste commissie voor Justitie en Veiligheid",
           "ApiGewijzigdOp": "2026-11-18T08:00:00.0000000Z", "Verwijderd": False,
           "Zaak": [{"Nummer": "2026Z21001", "Onderwerp": "Voortgang actieplan", "Verwijderd": False}],
           "Agendapunt": [{"Onderwerp": "Tweede punt", "Volgorde": 2, "Verwijderd": False},
                          {"Onderwerp": "Eerste punt", "Volgorde": 1, "Verwijderd": False}]}
    [item] = call(request, response_for(request, {"value": [row]}))
    assert item.title == "Commissiedebat: Mensenhandel en prostitutie"
    assert item.status == {"activiteit_status": "Gepland", "datum": "2026-11-26 10:00",
                           "locatie": "Thorbeckezaal"}
    assert item.identifiers == {"tk-id": ["ac1"], "tk-activiteit": ["2026A07001"],
                                "zaak": ["2026Z21001"]}
    assert item.text.splitlines()[3:5] == ["Agendapunt: Eerste punt", "Agendapunt: Tweede punt"]


def test_toezegging_every_field_and_its_due_date_for_the_agenda() -> None:
    s = spider()
    request = first_page(s, "Toezegging")
    assert request.url.startswith(BASE + "Toezegging?$filter=ApiGewijzigdOp%20gt%20")
    assert "$expand" not in request.url
    [open_row, no_date] = json.loads(
        (FIXTURES / "pages" / "visit1" / "Toezegging.json").read_text())[0]
    [done_row, _] = json.loads((FIXTURES / "pages" / "visit2" / "Toezegging.json").read_text())[0]
    item, undated = call(request, response_for(request, {"value": [open_row, no_date]}))
    assert item.key == "Toezegging/3c1f2b9e-8d4a-4e6f-9a27-5b0c8e71d2a4"
    assert item.url == BASE + "Toezegging(3c1f2b9e-8d4a-4e6f-9a27-5b0c8e71d2a4)"
    assert item.title.startswith("TZ202610-087: De staatssecretaris zegt toe de Kamer voor het")
    assert item.title.endswith("…") and len(item.title) == len("TZ202610-087: ") + 151
    assert item.doc_type == "Toezegging"
    assert item.published_at == datetime(2026, 10, 8, 14, 12, 40, 500000, tzinfo=UTC)
    assert item.status == {"activiteit_status": "Openstaand", "datum": "2026-11-30"}
    assert item.identifiers == {"tk-id": ["3c1f2b9e-8d4a-4e6f-9a27-5b0c8e71d2a4"],
                                "tk-toezegging": ["TZ202610-087"],
                                "tk-activiteit": ["2026A06311"]}
    assert item.text.splitlines() == [
        "Toezegging", open_row["Tekst"],
        "Brouwer, H.J., Staatssecretaris van Justitie en Veiligheid", "Justitie en Veiligheid"]
    assert item.meta["DatumNakoming"] == "2026-11-30T00:00:00Z"
    # No date promised: the API's minimum date is not a due date.
    assert undated.status == {"activiteit_status": "Openstaand"}
    # Fulfilled: the status changes and the letter that fulfils it is named.
    [done] = call(request, response_for(request, {"value": [done_row]}))
    assert done.status == {"activiteit_status": "Voldaan", "datum": "2026-11-30"}
    assert done.text.splitlines()[-1] == "Kamerbrief nakoming: kst-28638-271"


def test_cursor_advances_only_for_entities_whose_chain_completed() -> None:
    s = spider(cursor={"Document": "2026-11-16T00:00:00Z", "Zaak": "2026-11-16T00:00:00Z"})
    s.entities = {k: v for k, v in s.entities.items() if k in ("Document", "Zaak")}
    requests = {r.cb_kwargs["entity"]: r for r in start_requests(s)}
    older = dict(DOCUMENT_ROW, ApiGewijzigdOp="2026-11-17T09:05:43.1234567Z")
    newer = dict(DOCUMENT_ROW, Id="x2", ApiGewijzigdOp="2026-11-19T11:00:00.9999999Z")
    doc = requests["Document"]
    # Rows arrive in order, but the cursor takes the newest whatever the order.
    call(doc, response_for(doc, {"value": [newer, older]}))
    zaak = requests["Zaak"]
    results = call(zaak, response_for(zaak, {"value": [], "@odata.nextLink": zaak.url + "&$skip=250"}))
    assert isinstance(results[0], Request)
    next_page = results[0]
    call(next_page, response_for(next_page, b"<html>Service Unavailable</html>"))
    assert s.next_cursor() == {"Document": "2026-11-19T11:00:00.9999999Z",
                               "Zaak": "2026-11-16T00:00:00Z"}
    [(url, reason)] = s.failures
    assert url == next_page.url and "not JSON" in reason


def test_malformed_rows_are_isolated_and_reported() -> None:
    s = spider()
    request = first_page(s, "Document")
    renamed = {k: v for k, v in DOCUMENT_ROW.items() if k != "Onderwerp"}
    renamed["Id"] = "renamed"
    good = dict(DOCUMENT_ROW)
    items = call(request, response_for(request, {"value": [renamed, "garbage", good]}))
    assert [i.key for i in items] == [f"Document/{DOCUMENT_ROW['Id']}"]
    reasons = [reason for _, reason in s.failures]
    assert any("Onderwerp missing" in r and "API changed" in r for r in reasons)
    assert any("row has no Id" in r for r in reasons)


@pytest.mark.parametrize("body", [b"", b"{}", b'{"value": {"not": "a list"}}', b"[1, 2]"])
def test_pages_that_are_not_odata_collections_fail_cleanly(body: bytes) -> None:
    s = spider()
    request = first_page(s, "Zaak")
    assert call(request, response_for(request, body)) == []
    assert len(s.failures) == 1
    assert "Zaak" not in s.next_cursor()


def test_parse_time_handles_every_format_seen() -> None:
    assert parse_time("2022-10-18T14:06:23.8325633Z") == datetime(
        2022, 10, 18, 14, 6, 23, 832563, tzinfo=UTC)
    assert parse_time("2022-10-19T09:13:29.84+02:00") == datetime(
        2022, 10, 19, 7, 13, 29, 840000, tzinfo=UTC)
    assert parse_time(None) is None


def test_fixture_notes_describe_every_file() -> None:
    notes = (FIXTURES / "NOTES.md").read_text(encoding="utf-8")
    for path in FIXTURES.glob("*.json"):
        assert path.name in notes
    assert json.loads(REAL_BESLUIT.read_bytes())["value"][0]["Id"] == (
        "2853700b-a31d-4c70-8157-7396a2b0254f"
    )


@pytest.mark.parametrize(
    ("onderwerp", "titel", "expected"),
    [
        ("Voorstel van wet", "Wijziging van het Wetboek van Strafrecht (mensenhandel)",
         "Voorstel van wet — Wijziging van het Wetboek van Strafrecht (mensenhandel)"),
        ("Voortgangsrapportage Actieplan Samen tegen Mensenhandel", "Mensenhandel",
         "Voortgangsrapportage Actieplan Samen tegen Mensenhandel"),
        ("Mensenhandel", "Mensenhandel", "Mensenhandel"),
        (None, "Jeugdzorg", "Jeugdzorg"),
        (None, None, "2026D48123"),
    ],
)
def test_document_titles_say_what_the_document_is(onderwerp, titel, expected) -> None:
    from crawler.spiders.tweedekamer import document_title

    row = {"Onderwerp": onderwerp, "Titel": titel, "DocumentNummer": "2026D48123"}
    assert document_title(row) == expected


def test_nul_characters_are_dropped_at_any_depth_and_clean_rows_are_kept_as_they_are():
    from crawler.spiders._base import well_formed

    meta = {"row": {"Onderwerp": "Motie\x00 van het lid", "Zaak": [{"Nummer\x00": "2026Z1"}]},
            "note": "a literal \\x00 is text, not a NUL"}
    item = well_formed(PolicyItem(source="tweedekamer", key="Zaak/1", url="https://x.test/1",
                                  fetched_at=datetime(2026, 12, 7, tzinfo=UTC),
                                  title="Motie\x00", status={"besluit": "aange\x00nomen"},
                                  meta=meta))
    assert item.title == "Motie"
    assert item.status == {"besluit": "aangenomen"}
    assert item.meta == {"row": {"Onderwerp": "Motie van het lid", "Zaak": [{"Nummer": "2026Z1"}]},
                         "note": "a literal \\x00 is text, not a NUL"}
    clean_meta = {"row": {"Onderwerp": "Motie", "Zaak": [{"Nummer": "2026Z2"}]}}
    clean = well_formed(PolicyItem(source="tweedekamer", key="Zaak/2", url="https://x.test/2",
                                   fetched_at=datetime(2026, 12, 7, tzinfo=UTC), meta=clean_meta))
    assert clean.meta == {"row": {"Onderwerp": "Motie", "Zaak": [{"Nummer": "2026Z2"}]}}
