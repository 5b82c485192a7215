"""Topics: the default set and its examples, TOML round trips, validation, and the archive side."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from monitors.errors import TopicConfigError
from monitors.topics import (
    DEFAULT_TOPICS,
    Topic,
    check_examples,
    dump_topics,
    load_topics,
    topic_from_dict,
)
from storage.archive import Observation, ensure_source, record_observation
from storage.db import session_factory
from storage.models import Match, TopicRevision
from storage.topics import (
    backfill,
    backtest,
    definition_of,
    get_topic,
    import_topics,
    save_topic,
    set_active,
)
from monitors.matching import Matcher, TopicQuery

DEFAULTS = load_topics(DEFAULT_TOPICS)
T0 = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)


def test_the_default_set_covers_the_year_plan() -> None:
    slugs = {t.slug for t in DEFAULTS}
    assert {
        "actieplan-mensenhandel", "herziening-273f", "eu-richtlijn-mensenhandel",
        "nap-seksueel-grensoverschrijdend-gedrag", "eu-verordening-csa", "eu-richtlijn-csa",
        "hervormingsagenda-jeugd", "wet-nationaal-rapporteur", "migratie-noord-afrika",
        "signalering-identificatie", "jurisprudentie-mensenhandel",
        "georganiseerd-seksueel-geweld-kinderen", "hulp-aan-slachtoffers", "kerndoelen-onderwijs",
    } <= slugs
    for topic in DEFAULTS:
        assert topic.examples_match and topic.examples_no_match, topic.slug


@pytest.mark.parametrize("topic", DEFAULTS, ids=lambda t: t.slug)
def test_default_topic_examples(topic: Topic) -> None:
    assert check_examples(topic) == []


def test_check_examples_reports_failures() -> None:
    topic = Topic("te-smal", "Te smal", "mensenhandel", examples_match=["Arbeidsuitbuiting"],
                  examples_no_match=["Mensenhandel in de haven"])
    assert check_examples(topic) == [
        "te-smal: should match but does not: 'Arbeidsuitbuiting'",
        "te-smal: should not match but does: 'Mensenhandel in de haven'",
    ]


def test_toml_round_trip(tmp_path: Path) -> None:
    tricky = Topic("tricky", 'Titel met "aanhalingstekens" en \\', '"b c" OR d', description="regel 1\nregel 2", variants={"en": '"x y"'},
                   exclusions="z", owner="onderzoek", active=False, examples_match=["b c"],
                   examples_no_match=["e"])
    path = tmp_path / "topics.toml"
    path.write_text(dump_topics([*DEFAULTS, tricky]), encoding="utf-8")
    assert load_topics(path) == [*DEFAULTS, tricky]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"slug": "Foo Bar", "title": "x", "query": "a"}, "slug 'Foo Bar'"),
        ({"slug": "foo", "title": " ", "query": "a"}, "a title is required"),
        ({"slug": "foo", "title": "x", "query": "a (b"}, "foo: query: at position 5"),
        ({"slug": "foo", "title": "x", "query": "a", "variants": {"en": "OR"}}, "variant en"),
        ({"slug": "foo", "title": "x", "query": "a", "exclusions": '"'}, "exclusions"),
        ({"slug": "foo", "title": "x", "query": "a", "colour": "red"}, "unknown keys colour"),
        ({"slug": "foo", "title": "x"}, "'query' (text) is required"),
    ],
)
def test_invalid_topics_are_refused_with_the_reason(data: dict, message: str) -> None:
    with pytest.raises(TopicConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        topic_from_dict(data)


def test_duplicate_slugs_and_broken_files(tmp_path: Path) -> None:
    path = tmp_path / "t.toml"
    path.write_text('[[topic]]\nslug="aaa"\ntitle="A"\nquery="a"\n' * 2, encoding="utf-8")
    with pytest.raises(TopicConfigError, match="appears twice"):
        load_topics(path)
    path.write_text("[[topic]\n", encoding="utf-8")
    with pytest.raises(TopicConfigError, match="cannot read"):
        load_topics(path)


# --- the archive side (SQLite and PostgreSQL) -------------------------------------------------


def add_version(engine: Engine, key: str, title: str, **kwargs) -> None:
    with session_factory(engine).begin() as session:
        source = ensure_source(session, "tweedekamer", kind="spider", title="TK")
        record_observation(session, source, Observation(
            source="tweedekamer", key=key, url=f"https://example.test/{key}", fetched_at=T0,
            title=title, published_at=kwargs.pop("published_at", T0), **kwargs,
        ), now=T0)


def test_saving_keeps_history_and_backfill_matches_the_archive(engine: Engine) -> None:
    add_version(engine, "d1", "Voortgang Actieplan Samen tegen Mensenhandel")
    add_version(engine, "d2", "Stikstof en natuur")
    add_version(engine, "d3", "Brief", identifiers=(("dossier", "36547"),))
    Session = session_factory(engine)
    topic = Topic("test-topic", "Test", "mensenhandel")
    with Session.begin() as session:
        row, created = save_topic(session, topic, by="anna", now=T0)
        assert created
        assert backfill(session, [row], now=T0) == 1
    with Session.begin() as session:
        row = get_topic(session, "test-topic")
        topic.query = "mensenhandel OR dossier:36547"
        later = T0 + timedelta(hours=1)
        save_topic(session, topic, by="bram", now=later)
        assert backfill(session, [row], now=later) == 2
        set_active(session, row, False, by="bram", now=later)
    with Session() as session:
        row = get_topic(session, "test-topic")
        assert row.active is False and row.updated_by == "bram" and row.created_by == "anna"
        history = session.scalars(select(TopicRevision).order_by(TopicRevision.number)).all()
        assert [(r.number, r.action, r.changed_by) for r in history] == [
            (1, "created", "anna"), (2, "edited", "bram"), (3, "disabled", "bram")]
        assert history[0].definition["query"] == "mensenhandel"
        assert history[1].definition["query"] == "mensenhandel OR dossier:36547"
        reasons = [m.reason["hits"][0]["clause"] for m in
                   session.scalars(select(Match).order_by(Match.document_id))]
        assert reasons == ["mensenhandel", "dossier:36547"]
        assert definition_of(row).query == "mensenhandel OR dossier:36547"


def test_import_is_idempotent(engine: Engine) -> None:
    add_version(engine, "d1", "Advies van de Deskundigencommissie Jeugd")
    Session = session_factory(engine)
    with Session.begin() as session:
        created, updated, matches = import_topics(session, DEFAULTS, by="init", now=T0)
        assert len(created) == len(DEFAULTS) and updated == [] and matches == 1
    with Session.begin() as session:
        assert import_topics(session, DEFAULTS, by="init", now=T0) == ([], [], 0)
        assert session.scalar(select(func.count(TopicRevision.id))) == len(DEFAULTS)
        assert session.scalar(select(func.count(Match.id))) == 1


def test_backtest_counts_documents_per_week(engine: Engine) -> None:
    add_version(engine, "a", "Mensenhandel in week 46", published_at=datetime(2026, 11, 10, tzinfo=UTC))
    add_version(engine, "b", "Mensenhandel in week 47", published_at=datetime(2026, 11, 17, tzinfo=UTC))
    add_version(engine, "c", "Uitbuiting in week 47", published_at=datetime(2026, 11, 18, tzinfo=UTC))
    add_version(engine, "d", "Stikstof in week 47", published_at=datetime(2026, 11, 18, tzinfo=UTC))
    with session_factory(engine)() as session:
        result = backtest(session, Matcher([TopicQuery("t", "mensenhandel OR uitbuiting")]))
        assert result.weekly == {"2026-W46": 1, "2026-W47": 2}
        assert result.documents_checked == 4
        assert [h.title for h in result.hits] == [
            "Uitbuiting in week 47", "Mensenhandel in week 47", "Mensenhandel in week 46"]
        since = backtest(session, Matcher([TopicQuery("t", "mensenhandel")]),
                         since=datetime(2026, 11, 16).date())
        assert [h.title for h in since.hits] == ["Mensenhandel in week 47"]
