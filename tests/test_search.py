"""Archive search through the index (storage.search) on SQLite and PostgreSQL: the same documents
as the full scan through the matcher, an index kept with the archive, facets and filters."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import Engine, func, select, text

from monitors.topics import DEFAULT_TOPICS, load_topics
from storage.archive import Observation, ensure_source, record_observation
from storage.db import _alembic_config, session_factory
from storage.identity import split_record
from storage.models import Record, SearchEntry, SearchTerms, Version
from storage.search import FALSE, TRUE, compile_query, encode, find, rebuild, scan, search
from storage.topics import import_topics

T0 = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)
JUNE = datetime(2026, 6, 3, 9, 0, tzinfo=UTC)
MAY = datetime(2026, 5, 12, 9, 0, tzinfo=UTC)

#: (source, key, title, text, doc_type, published, identifiers)
CORPUS = [
    ("tweedekamer", "d01", "Voortgang Actieplan Samen tegen Mensenhandel",
     "Kamerbrief over de voortgang van het versterkte actieplan tegen mensenhandel.",
     "Brief regering", datetime(2026, 11, 17, tzinfo=UTC),
     (("dossier", "28638"), ("kamerstuk", "kst-28638-250"))),
    ("tweedekamer", "d02", "Wetsvoorstel modernisering strafbaarstelling mensenhandel",
     "Nota van wijziging bij het wetsvoorstel modernisering en uitbreiding strafbaarstelling "
     "mensenhandel; art. 273f Sr wordt herzien.", "Nota van wijziging",
     datetime(2026, 10, 2, tzinfo=UTC), (("dossier", "36547"), ("kamerstuk", "kst-36547-3"))),
    ("tweedekamer", "d03", "Vragen over de toepassing van art. 273f Sr bij arbeidsuitbuiting",
     "Schriftelijke vragen van het lid Koster over arbeidsuitbuiting in de land- en tuinbouw.",
     "Schriftelijke vragen", datetime(2026, 9, 14, tzinfo=UTC), (("zaak", "2026Z21495"),)),
    ("officielebekendmakingen", "d04", "Reactie op het advies over artikel 273f",
     "Reactie op het advies over artikel 273f van het Wetboek van Strafrecht en seksuele "
     "uitbuiting van minderjarigen.", "Brief regering", datetime(2026, 8, 1, tzinfo=UTC), ()),
    ("tweedekamer", "d05", "Implementatie van Richtlijn (EU) 2024/1712",
     "Implementatie van Richtlijn (EU) 2024/1712 tot wijziging van Richtlijn 2011/36/EU; "
     "procedure 2022/0426(COD). De Europese richtlijn mensenhandel moet worden omgezet.",
     "Brief regering", datetime(2026, 7, 7, tzinfo=UTC), (("celex", "32024L1712"),)),
    ("tweedekamer", "d06", "Europese richtlijn over energieprestatie van gebouwen",
     "Richtlijn 2024/1275 over gebouwen; geen verband met 2024/1712.", "Brief regering",
     datetime(2026, 7, 8, tzinfo=UTC), ()),
    ("tweedekamer", "d07", "Geannoteerde agenda JBZ-Raad",
     "Voorstel 2022/0155(COD) (COM(2022) 209) over seksueel misbruik van kinderen: "
     "chatcontrole en detectie van CSAM.", "Brief regering", datetime(2026, 11, 3, tzinfo=UTC),
     (("kamerstuk", "kst-32317-900"),)),
    ("tweedekamer", "d08", "Kamervragen over chatcontrole en end-to-end-versleuteling",
     "Antwoord op vragen over de interim-verordening en kindermisbruik online.",
     "Antwoord schriftelijke vragen", datetime(2026, 2, 19, tzinfo=UTC), ()),
    ("tweedekamer", "d09", "Derde voortgangsrapportage Nationaal Actieprogramma",
     "Aanpak seksueel grensoverschrijdend gedrag en seksueel geweld; de Regeringscommissaris "
     "rapporteert.", "Brief regering", datetime(2025, 12, 1, tzinfo=UTC),
     (("dossier", "34843"),)),
    ("tweedekamer", "d10", "Grensoverschrijdende samenwerking bij rampenbestrijding",
     "Seksueel geweld komt hierin niet voor; samenwerking in de grensregio.", "Motie",
     datetime(2025, 11, 30, tzinfo=UTC), ()),
    ("tweedekamer", "d11", "Voortgang Hervormingsagenda Jeugd",
     "Advies van de Deskundigencommissie Jeugd over de jeugdzorg.", "Brief regering",
     datetime(2026, 3, 3, tzinfo=UTC), (("dossier", "31839"),)),
    ("tweedekamer", "d12", "Mensenhandel en uitbuiting van migranten op de route via Libië",
     "Mensensmokkel vanuit Noord-Afrika naar Europa; slachtoffers herkennen in Tunesië.",
     "Brief regering", datetime(2026, 4, 4, tzinfo=UTC), ()),
    ("tweedekamer", "d13", "Migratie vanuit Noord Afrika: asielinstroom",
     "Cijfers over de asielinstroom uit Marokko en Egypte.", "Brief regering",
     datetime(2026, 4, 5, tzinfo=UTC), ()),
    ("tweedekamer", "d14", "Signalering van mensenhandel door de politie",
     "Identificatie van slachtoffers van arbeidsuitbuiting door de KMar; opsporingsdiensten.",
     "Motie", datetime(2026, 5, 6, tzinfo=UTC), (("dossier", "28638"),)),
    ("rechtspraak", "d15", "Uitspraak over mensenhandel",
     "De rechtbank veroordeelt verdachte wegens uitbuiting (BWBR0001854/273f). "
     "ECLI:NL:HR:2024:123 wordt aangehaald.", "Uitspraak", datetime(2026, 6, 20, tzinfo=UTC),
     (("ecli", "ECLI:NL:RBAMS:2026:999"),)),
    ("tweedekamer", "d16", "Motie over mensenhandelaren en loverboys",
     "Verzoekt de regering pooierboys harder aan te pakken; hulp aan slachtoffers.", "Motie",
     datetime(2026, 6, 21, tzinfo=UTC), (("dossier", "36800-VI"),)),
    ("tweedekamer", "d17", "Begroting Justitie en Veiligheid",
     "Wetgevingsoverleg; de begroting 2027 van het ministerie.", "Verslag",
     datetime(2026, 10, 30, tzinfo=UTC), (("dossier", "36800-VI"), ("kamerstuk",
                                                                   "kst-36800-VI-12"))),
    ("tweedekamer", "d18", "Kerndoelen seksuele vorming",
     "Kerndoelen over seksualiteit, weerbaarheid en grenzen in het onderwijs.", "Brief regering",
     datetime(2026, 1, 15, tzinfo=UTC), ()),
    ("tweedekamer", "d19", "Stikstof en natuurherstel",
     "Niets over uitbuiting of mensenhandel hier; samen tegen stikstof in de landbouw.",
     "Brief regering", datetime(2026, 1, 16, tzinfo=UTC), ()),
    ("tweedekamer", "d20", "Wet Nationaal Rapporteur",
     "Wetsvoorstel wijziging Wet Nationaal Rapporteur mensenhandel en seksueel geweld tegen "
     "kinderen; gegevensverwerking.", "Wetsvoorstel", None, ()),
    ("tweedekamer", "d21", "Georganiseerd seksueel geweld tegen kinderen",
     "Ritueel misbruik en georganiseerde seksuele uitbuiting van kinderen; "
     "herschikking richtlijn 2011/93 (COM(2024) 60).", "Brief regering",
     datetime(2026, 9, 9, tzinfo=UTC), (("procedure", "2024/0035(COD)"),)),
    ("tweedekamer", "d22", "Uitbuting in de vleesverwerking",
     "Een tikfout: uitbuting en mensenhandl; verder over arbeidsmigranten.", "Motie",
     datetime(2026, 9, 10, tzinfo=UTC), ()),
    ("tweedekamer", "d23", "Seksueel misbruik van kinderen in de sport",
     "Onderzoek naar seksueel misbruik; grooming en sextortion online bij minderjarigen.",
     "Brief regering", datetime(2026, 9, 11, tzinfo=UTC), (("dossier", "31015"),)),
    ("officielebekendmakingen", "d24", "Kamerstuk 36547 nr. 3 (officiële publicatie)",
     "Memorie van toelichting strafbaarstelling mensenhandel.", "Kamerstuk",
     datetime(2026, 10, 2, tzinfo=UTC), (("kamerstuk", "kst-36547-3"),)),
    ("tweedekamer", "d25", "Één ruïne, café en naïeve Ærø-zaken",
     "Accenten: één, ruïne, café; de x-factor van xenofobie en Ærø; under_score en 'quote'.",
     "Brief regering", datetime(2026, 9, 12, tzinfo=UTC), ()),
]

QUERIES = [
    # words, inflections, irregular plurals, diacritics, hyphenated words
    "uitbuiting", "mensenhandel", "slachtoffers", "kinderen", "kind", "seksuele", "Libië",
    "noord-afrika", "EU", "wet", "geweld", "ruine", "cafe", "aero", "xenofobie", "x-factor",
    "under_score", "quote",
    # compound heads (>= 7 stem letters) and short words that are not heads
    "arbeidsuitbuiting", "handel", "misbruik", "kindermisbruik", "verordening",
    # prefixes
    "mensenhandel*", "kind*", "richtlijn*", "noord*", "seks*", "x*", "ærø*", "uitbuit*",
    # phrases and proximity
    '"seksueel geweld"', '"samen tegen mensenhandel"', '"2024/1712"', '"2011/36"', "2024/1712",
    '"nationaal rapporteur"', '"seksuele uitbuiting van kinderen"', '"noord afrika"',
    '"mensenhandel"', '"seksueel kinderen"~3', '"mensenhandel slachtoffers"~8',
    '"kinderen seksueel"~0', '"seksueel kinderen"~2', '"geweld kinderen"~1',
    '"geweld kinderen"~2', '"seksueel misbruik kinderen"~4', '"samen samen"~2',
    # boolean structure
    "mensenhandel NOT arbeidsuitbuiting", "(mensenhandel OR uitbuiting) slachtoffer*",
    "-stikstof mensenhandel", "mensenhandel NOT (uitbuiting slachtoffers)",
    "mensenhandel AND NOT (stikstof OR motie)", "uitbuting~ NOT stikstof",
    "(uitbuting~ OR chatcontrole) -sport",
    # fields
    "dossier:36547", "dossier:36800", "dossier:36800-VI", "dossier:28638", "celex:52022PC0209",
    "celex:32024L1712", "celex:52024PC0060", "procedure:2022/0155(COD)",
    "procedure:2022/0426(COD)", "procedure:2024/0035(COD)", "artikel:273f",
    "kamerstuk:36547-3", "kamerstuk:kst-36800-VI-12", "zaak:2026Z21495",
    "ecli:ECLI:NL:HR:2024:123", "ecli:ECLI:NL:RBAMS:2026:999", "bron:tweedekamer",
    "bron:officielebekendmakingen", "soort:motie", 'soort:"brief regering"', "soort:regering",
    "mensenhandel bron:rechtspraak", "datum:2026-11", "datum:>=2026-06-01 mensenhandel",
    "mensenhandel NOT datum:2026", "(datum:2025 OR dossier:36547)", "datum:2026-01-01..2026-06-30",
    # fuzzy
    "uitbuting~", "mensenhandl~", "wet~", "uitbuiting~95",
]


def corpus_observations() -> list[Observation]:
    observations = []
    for source, key, title, body, kind, published, identifiers in CORPUS:
        observations.append(Observation(
            source=source, key=key, url=f"https://example.test/{key}", fetched_at=T0,
            title=title, text=body, doc_type=kind, published_at=published,
            identifiers=identifiers,
        ))
    return observations


def store(engine: Engine, observations: list[Observation], now: datetime = T0) -> None:
    with session_factory(engine).begin() as session:
        for obs in observations:
            source = ensure_source(session, obs.source, kind="spider", title=obs.source)
            record_observation(session, source, obs, now=now)


@pytest.fixture
def archive(engine: Engine) -> Engine:
    store(engine, corpus_observations())
    return engine


def documents(engine: Engine, query: str, **options: object) -> set[int]:
    with session_factory(engine)() as session:
        result = search(session, query, limit=10_000, **options)  # type: ignore[arg-type]
        found = {h.document_id for h in result.hits}
        assert result.total == len(found)
        return found


def full_scan(engine: Engine, query: str, **options: object) -> set[int]:
    with session_factory(engine)() as session:
        return scan(session, query, **options)


def default_topic_queries() -> list[str]:
    queries = []
    for topic in load_topics(DEFAULT_TOPICS):
        queries.append(topic.query)
        queries.extend(topic.variants.values())
    return queries


def test_search_gives_the_documents_the_full_scan_gives(archive: Engine) -> None:
    mismatches = {}
    nonempty = 0
    for query in QUERIES + default_topic_queries():
        expected = full_scan(archive, query)
        found = documents(archive, query)
        nonempty += bool(expected)
        if found != expected:
            mismatches[query] = (sorted(found - expected), sorted(expected - found))
    assert not mismatches
    assert nonempty > len(QUERIES) * 0.8  # the battery exercises the corpus


def test_period_filters_agree_with_the_full_scan(archive: Engine) -> None:
    for query in ("mensenhandel", "uitbuting~", "seksueel"):
        for since, until in ((date(2026, 6, 1), None), (None, date(2026, 6, 30)),
                             (date(2026, 4, 1), date(2026, 9, 30))):
            assert documents(archive, query, since=since, until=until) == \
                full_scan(archive, query, since=since, until=until)


def test_what_the_index_decides_alone(archive: Engine) -> None:
    dialect = archive.dialect.name
    with session_factory(archive)() as session:
        for query in ("uitbuiting", "mensenhandel* NOT motie", "dossier:36800 OR artikel:273f",
                      "soort:motie bron:tweedekamer", "datum:2026 uitbuiting"):
            result = search(session, query)
            assert compile_query(query, dialect).exact and result.exact and result.checked == 0
        phrase = search(session, '"seksueel geweld"')
        assert phrase.total == len(full_scan(archive, "\"seksueel geweld\"")) == 4
        # Positions: FTS5 always has them; a tsvector only when it kept them all (it does for
        # every record here), so PostgreSQL's answer is exact only record by record.
        assert compile_query('"seksueel geweld"', dialect).exact == (dialect == "sqlite")
        assert phrase.exact and phrase.checked == 0
        fuzzy = search(session, "uitbuting~")
        # Nothing to narrow on: every record the exact spelling does not decide is checked.
        assert not fuzzy.exact and fuzzy.checked == len(CORPUS) - 1
        narrowed = search(session, "uitbuting~ mensenhandel")
        assert 0 < narrowed.checked < 10 and narrowed.total == len(full_scan(
            archive, "uitbuting~ mensenhandel"))


def test_compiled_expressions() -> None:
    plan = compile_query('uitbuiting "samen tegen" -motie', "sqlite")
    assert plan.exact
    assert plan.upper == ('((("suitbuit" OR "rtiubtiu"*) AND {title_terms body_terms} : '
                          '"ssam steg") NOT ("smotie"))')
    pg = compile_query('uitbuiting "samen tegen" -motie', "postgresql")
    assert pg.upper == ("(('suitbuit' | 'rtiubtiu':*) & (('ssam' <-> 'steg') | "
                        "((!'zlen' | 'osam' | 'oteg') & 'ssam' & 'steg')) & !'smotie')")
    assert pg.lower == ("(('suitbuit' | 'rtiubtiu':*) & ('zlen' & !'osam' & !'oteg' & "
                        "('ssam' <-> 'steg')) & !'smotie')")
    assert not pg.exact  # records whose tsvector lost these words' positions are checked
    near = compile_query('"samen tegen"~2', "postgresql")
    assert near.lower == ("('zlen' & !'osam' & !'oteg' & ('ssam' <1> 'steg' | 'steg' <1> 'ssam'"
                          " | 'ssam' <2> 'steg' | 'steg' <2> 'ssam'))")
    assert compile_query('"a b c"~3', "postgresql").lower is FALSE
    # NOT beside nothing the index can use: FTS5 cannot say it, so the bound loosens.
    loose = compile_query("uitbuting~ NOT stikstof", "sqlite")
    assert loose.upper is TRUE and not loose.exact and loose.full_scan
    assert loose.lower == '(("suitbut") NOT (("sstikstof" OR "rfotskits"*)))'  # stem < 7: no head
    assert compile_query("uitbuting~ NOT stikstof", "postgresql").upper == "!('sstikstof' | " \
        "'rfotskits':*)"
    assert compile_query("wet~", "sqlite").exact  # short words are never fuzzy
    assert compile_query("handel", "sqlite").upper == '"shandel"'  # too short for a head


def test_encoding_keeps_prefixes() -> None:
    rng = random.Random(8)
    alphabet = "abxyz09-'’_éøß€ "
    for _ in range(3000):
        a = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 6)))
        b = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 6)))
        assert encode(a).startswith(encode(b)) == a.startswith(b), (a, b)
        assert encode(a).isalnum() or encode(a) == ""
        assert encode(a).isascii() and encode(a) == encode(a).lower()


def test_index_follows_new_versions_identifiers_removal_and_restoration(archive: Engine) -> None:
    [first] = [o for o in corpus_observations() if o.key == "d19"]
    assert documents(archive, "stikstof") == full_scan(archive, "stikstof") != set()
    later = T0 + timedelta(days=1)
    changed = Observation(**{**first.__dict__, "text": "Nu over arbeidsuitbuiting.",
                             "fetched_at": later})
    store(archive, [changed], now=later)
    with session_factory(archive)() as session:
        [document_id] = session.scalars(select(Record.document_id).where(Record.key == "d19"))
    assert document_id not in documents(archive, "landbouw")  # the old version's word
    assert document_id in documents(archive, "uitbuiting")
    assert documents(archive, "landbouw") == full_scan(archive, "landbouw")
    # A stated identifier added later (no new version) is searchable at once.
    assert document_id not in documents(archive, "dossier:29911")
    store(archive, [Observation(**{**changed.__dict__,
                                   "identifiers": (("dossier", "29911-A"),)})], now=later)
    assert documents(archive, "dossier:29911") == {document_id} == \
        full_scan(archive, "dossier:29911")
    # Removed at the source: still in the archive's search (as the full scan), marked removed.
    store(archive, [Observation(**{**changed.__dict__, "removed": True})], now=later)
    with session_factory(archive)() as session:
        [hit] = [h for h in search(session, "dossier:29911").hits]
        assert hit.document_id == document_id and hit.removed
        assert session.scalar(select(SearchEntry.removed)
                              .where(SearchEntry.document_id == document_id))
    store(archive, [changed], now=later + timedelta(days=1))
    with session_factory(archive)() as session:
        [hit] = search(session, "dossier:29911").hits
        assert not hit.removed
    _check_fts(archive)


def test_index_follows_merges_and_splits(archive: Engine) -> None:
    # Two copies of one Kamerstuk: joined at once by the shared kamerstuk number.
    assert len(documents(archive, "kamerstuk:36547-3")) == 1
    # Two documents that only later turn out to be one work: merged, found once.
    a = Observation(source="tweedekamer", key="m1", url="https://example.test/m1",
                    fetched_at=T0, title="Motie over slavernijverleden", text="Een motie.",
                    doc_type="Motie", published_at=T0)
    b = Observation(source="officielebekendmakingen", key="m2", url="https://example.test/m2",
                    fetched_at=T0, title="Motie slavernijverleden (publicatie)",
                    text="Gepubliceerd.", doc_type="Motie", published_at=T0,
                    identifiers=(("kamerstuk", "kst-36999-7"),))
    store(archive, [a, b])
    assert len(documents(archive, "slavernijverleden")) == 2
    store(archive, [Observation(**{**a.__dict__, "identifiers": (("kamerstuk", "kst-36999-7"),)})])
    merged = documents(archive, "slavernijverleden")
    assert len(merged) == 1 and merged == full_scan(archive, "slavernijverleden")
    with session_factory(archive)() as session:
        [hit] = search(session, "slavernijverleden").hits
        assert set(hit.sources) == {"tweedekamer", "officielebekendmakingen"}
    with session_factory(archive).begin() as session:
        record = session.scalars(select(Record).where(Record.key == "m2")).one()
        split_record(session, record, now=T0)
    split = documents(archive, "slavernijverleden")
    assert len(split) == 2 and split == full_scan(archive, "slavernijverleden")
    _check_fts(archive)


def test_rebuild_gives_the_same_index(archive: Engine) -> None:
    before = {q: documents(archive, q) for q in QUERIES[:30]}
    with session_factory(archive).begin() as session:
        terms = session.execute(select(SearchTerms).order_by(SearchTerms.record_id)).all()
        terms = [(t.record_id, t.title_terms, t.body_terms, t.terms) for (t,) in terms]
        assert rebuild(session) == len(CORPUS)
    with session_factory(archive)() as session:
        again = session.execute(select(SearchTerms).order_by(SearchTerms.record_id)).all()
        assert [(t.record_id, t.title_terms, t.body_terms, t.terms) for (t,) in again] == terms
    assert {q: documents(archive, q) for q in QUERIES[:30]} == before
    _check_fts(archive)


def test_migration_indexes_what_is_stored(archive: Engine) -> None:
    expected = {q: full_scan(archive, q) for q in ("mensenhandel", "dossier:36800", "kind*")}
    config = _alembic_config(archive)
    command.downgrade(config, "0007")
    command.upgrade(config, "head")
    with session_factory(archive)() as session:
        assert session.scalar(select(func.count()).select_from(SearchEntry)) == len(CORPUS)
    assert {q: documents(archive, q) for q in expected} == expected
    _check_fts(archive)


def test_facets_filters_and_topics(archive: Engine) -> None:
    with session_factory(archive).begin() as session:
        import_topics(session, load_topics(DEFAULT_TOPICS), by="test", now=T0)
    with session_factory(archive)() as session:
        result = search(session, "mensenhandel", limit=3)
        assert result.total == len(full_scan(archive, "mensenhandel")) and len(result.hits) == 3
        facets = result.facets
        assert list(facets) == ["topic", "source", "doc_type", "year"]
        # Per facet value, the documents with a matching record of that kind: kst-36547-3 is
        # a TK record (Nota van wijziging) and an officielebekendmakingen one (Kamerstuk).
        assert dict(facets["source"]) == {"tweedekamer": 7, "officielebekendmakingen": 1,
                                          "rechtspraak": 1}
        assert dict(facets["year"]) == {"2026": 8}
        assert dict(facets["doc_type"]) == {"Brief regering": 4, "Kamerstuk": 1, "Motie": 1,
                                            "Nota van wijziging": 1, "Uitspraak": 1,
                                            "Wetsvoorstel": 1}
        assert dict(facets["topic"])["mensenhandel"] == 8
        assert [n for _, n in facets["topic"]] == sorted((n for _, n in facets["topic"]),
                                                         reverse=True)
        every_hit = search(session, "mensenhandel", limit=100).hits
        assert all("mensenhandel" in h.topics for h in every_hit
                   if h.title.lower().startswith("mensenhandel"))
        shown = find(session, "mensenhandel")
        assert set(shown) == full_scan(archive, "mensenhandel")
        assert {h.document_id: h.version_id for h in every_hit} == shown
        bare = search(session, "mensenhandel", limit=3, facets=False)
        assert bare.total == result.total and bare.hits == result.hits
        assert bare.facets == {"topic": [], "source": [], "doc_type": [], "year": []}
        motions = search(session, "mensenhandel", doc_types=["Motie"])
        assert motions.total == 1 and all(h.doc_type == "Motie" for h in motions.hits)
        official = search(session, "mensenhandel", sources=["officielebekendmakingen"])
        assert official.total == 1 and official.hits[0].source == "officielebekendmakingen"
        by_topic = search(session, "", topics=["herziening-273f"])
        assert by_topic.total == dict(search(session, "").facets["topic"])["herziening-273f"]
        assert by_topic.total == len(documents(archive, "dossier:36547 OR artikel:273f OR "
                                                        '("strafbaarstelling mensenhandel" '
                                                        "(moderniser* OR uitbreid* OR herzien*))"))
        # Hits carry what a page shows: identifiers, sources, topics, the why with a snippet.
        [hit] = search(session, "zaak:2026Z21495").hits
        assert ("zaak", "2026Z21495") in hit.identifiers and hit.sources == ("tweedekamer",)
        assert hit.match is not None and hit.match.hits[0].field == "zaak"
        [hit] = search(session, "chatcontrole detectie").hits
        assert {h.clause for h in hit.match.hits} == {"chatcontrole", "detectie"}
        assert "chatcontrole" in hit.match.hits[0].snippet.lower()


def test_sorting_and_pages(archive: Engine) -> None:
    with session_factory(archive)() as session:
        by_date = search(session, "mensenhandel", sort="date", limit=100).hits
        assert [h.day for h in by_date] == sorted((h.day for h in by_date), reverse=True)
        relevant = search(session, "mensenhandel", sort="relevance", limit=100).hits
        titles: dict[int, list[str]] = {}
        for document_id, title in session.execute(
                select(SearchEntry.document_id, Version.title)
                .join(Version, Version.id == SearchEntry.version_id)):
            titles.setdefault(document_id, []).append(title.lower())
        # Documents with the word in a (matching copy's) title first, each group newest first.
        in_title = [any("mensenhandel" in t for t in titles[h.document_id]) for h in relevant]
        assert in_title == sorted(in_title, reverse=True) and any(in_title) and not all(in_title)
        assert all(x.day >= y.day for x, y, same in zip(relevant, relevant[1:], [
            p == q for p, q in zip(in_title, in_title[1:])]) if same)
        assert {h.document_id for h in relevant} == {h.document_id for h in by_date}
        pages = [search(session, "mensenhandel", sort="date", limit=4, offset=n).hits
                 for n in (0, 4, 8)]
        assert [h.document_id for page in pages for h in page] == \
            [h.document_id for h in by_date]
        with pytest.raises(ValueError):
            search(session, "mensenhandel", sort="random")


def test_event_filter(engine: Engine) -> None:
    """Everything that changed in dossier 36547 since June."""
    base = dict(source="tweedekamer", url="https://example.test/x", doc_type="Brief regering")
    early = Observation(key="e1", fetched_at=MAY, title="Wetsvoorstel mensenhandel",
                        text="Eerste versie.", identifiers=(("dossier", "36547"),), **base)
    later = Observation(key="e2", fetched_at=MAY, title="Advies Raad van State",
                        text="Advies over het wetsvoorstel.", identifiers=(("dossier", "36547"),),
                        **base)
    other = Observation(key="e3", fetched_at=MAY, title="Andere brief", text="Over stikstof.",
                        identifiers=(("dossier", "35334"),), **base)
    store(engine, [early, later, other], now=MAY)
    store(engine, [Observation(**{**later.__dict__, "text": "Advies, tweede versie.",
                                  "fetched_at": JUNE}),
                   Observation(**{**other.__dict__, "text": "Nieuwe tekst.",
                                  "fetched_at": JUNE})], now=JUNE)
    with session_factory(engine)() as session:
        [e2] = session.scalars(select(Record.document_id).where(Record.key == "e2"))
        result = search(session, "dossier:36547", event_kinds=["changed"],
                        event_since=date(2026, 6, 1))
        assert [h.document_id for h in result.hits] == [e2]
        assert search(session, "dossier:36547", event_since=date(2026, 6, 1)).total == 1
        assert search(session, "dossier:36547", event_kinds=["new"]).total == 2
        assert search(session, "dossier:36547", event_kinds=["new"],
                      event_until=date(2026, 5, 31)).total == 2
        assert search(session, "", event_kinds=["changed"]).total == 2
        assert search(session, "dossier:36547", event_kinds=["removed"]).total == 0


def test_records_beyond_what_a_tsvector_holds_are_still_found(engine: Engine) -> None:
    words = " ".join(f"woord{n:06d}" for n in range(120_000))
    big = Observation(source="tweedekamer", key="big", url="https://example.test/big",
                      fetched_at=T0, title="Handelingen", text=words + " mensenhandel",
                      doc_type="Handelingen", published_at=T0)
    # 300 times "samen": a tsvector keeps 256 positions of a word, so not this phrase's.
    long = Observation(source="tweedekamer", key="long", url="https://example.test/long",
                       fetched_at=T0, title="Verslag", text="samen " * 300 + "tegen mensenhandel",
                       doc_type="Verslag", published_at=T0)
    # 300 times "de": only that word's positions are incomplete; the phrase stays exact.
    common = Observation(source="tweedekamer", key="common", url="https://example.test/common",
                         fetched_at=T0, title="Brief", text="de " * 300 + "samen tegen "
                         "mensenhandel", doc_type="Brief", published_at=T0)
    small = Observation(source="tweedekamer", key="small", url="https://example.test/small",
                        fetched_at=T0, title="Motie", text="Samen tegen mensenhandel.",
                        doc_type="Motie", published_at=T0)
    store(engine, [big, long, common, small])
    with session_factory(engine)() as session:
        result = search(session, "mensenhandel")
        assert result.total == 4
        assert search(session, "woord119999").total == 1
        assert search(session, '"woord119998 woord119999"').total == 1
        phrase = search(session, '"samen tegen mensenhandel"')
        assert phrase.total == 3 == len(full_scan(engine, '"samen tegen mensenhandel"'))
        if engine.dialect.name == "postgresql":
            assert session.scalar(text("SELECT count(*) FROM search_terms WHERE tsv IS NULL")) \
                == 1
            assert result.checked == 1 and not result.exact  # the matcher read that one
            assert phrase.checked == 2  # the oversized record and the one with 300 "samen"
        else:
            assert result.exact and phrase.exact


def test_cli_search_filters_by_change_events(tmp_path) -> None:
    from tests.helpers import run_cli
    from storage.db import make_engine, upgrade

    url = f"sqlite:///{tmp_path / 'archive.db'}"
    engine = make_engine(url)
    upgrade(engine)
    store(engine, corpus_observations(), now=MAY)
    [d02] = [o for o in corpus_observations() if o.key == "d02"]
    store(engine, [Observation(**{**d02.__dict__, "text": "Tweede nota van wijziging."})],
          now=JUNE)
    engine.dispose()
    import json

    everything = run_cli("search", "mensenhandel", "--format", "json",
                         "-d", str(tmp_path / "archive.db"))
    assert everything.returncode == 0, everything.stderr
    assert json.loads(everything.stdout)["total"] == 8
    changed = run_cli("search", "mensenhandel", "--format", "json",
                      "--event", "changed", "--changed-since", "2026-06-01",
                      "-d", str(tmp_path / "archive.db"))
    assert changed.returncode == 0, changed.stderr
    data = json.loads(changed.stdout)
    assert data["total"] == 1 and data["documents"][0]["titel"].startswith("Wetsvoorstel")
    assert "kst-36547-3" in data["documents"][0]["kenmerken"]
    assert json.loads(run_cli("search", "mensenhandel", "--format", "json", "--event",
                              "removed", "-d", str(tmp_path / "archive.db")).stdout)["total"] == 0
    bad = run_cli("search", "mensenhandel", "--event", "moved", "-d",
                  str(tmp_path / "archive.db"))
    assert bad.returncode == 2 and "--event" in bad.stderr


def _check_fts(engine: Engine) -> None:
    """SQLite: FTS5's own check that its index agrees with the content it was built from."""
    if engine.dialect.name != "sqlite":
        return
    with engine.begin() as connection:
        for name in ("search_fts", "search_title_fts"):
            connection.execute(text(f"INSERT INTO {name}({name}, rank) "
                                    "VALUES ('integrity-check', 1)"))
