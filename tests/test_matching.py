"""Matching: how words, phrases and fields meet item text and identifiers, with the reasons."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from monitors import identifiers as ids
from monitors.matching import (
    COMPOUND_HEAD_MIN,
    Matcher,
    MatchDoc,
    TopicQuery,
    fuzzy_threshold,
    matches_query,
)
from monitors.text import clean, fold, stem

LETTER = MatchDoc(
    title="Voortgangsrapportage Actieplan Samen tegen Mensenhandel",
    text=(
        "Brief regering\nDe aanpak van arbeidsuitbuiting en seksuele uitbuiting van "
        "slachtoffers. Zie art. 273f Sr en COM(2022) 209, procedure 2022/0155(COD).\n"
        "Dossier 28638: Mensenhandel"
    ),
    source="tweedekamer",
    doc_type="Brief regering",
    published_at=datetime(2026, 11, 16, 23, 30, tzinfo=UTC),  # 17 Nov in Amsterdam
    identifiers={"dossier": ["28638"], "kamerstuk": ["kst-28638-251"], "zaak": ["2026Z21001"]},
)


def hit(query: str, doc: MatchDoc = LETTER) -> tuple[str, list[tuple[str, str, str]]] | None:
    match = matches_query(query, doc)
    if match is None:
        return None
    return match.strength, [(h.clause, h.field, h.snippet[h.mark[0]:h.mark[1]]) for h in match.hits]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("mensenhandel", ("strong", [("mensenhandel", "titel", "Mensenhandel")])),
        ("MENSENHANDEL", ("strong", [("MENSENHANDEL", "titel", "Mensenhandel")])),
        ("slachtoffer", ("strong", [("slachtoffer", "tekst", "slachtoffers")])),
        # Compound heads: "uitbuiting" finds "arbeidsuitbuiting" when nothing plainer is there.
        ("arbeidsuitbuiting", ("strong", [("arbeidsuitbuiting", "tekst", "arbeidsuitbuiting")])),
        ("mensenhandel*", ("strong", [("mensenhandel*", "titel", "Mensenhandel")])),
        ('"seksuele uitbuiting"', ("strong", [('"seksuele uitbuiting"', "tekst",
                                               "seksuele uitbuiting")])),
        ('"seksueel uitbuiten"', ("strong", [('"seksueel uitbuiten"', "tekst",
                                              "seksuele uitbuiting")])),
        ('"aanpak slachtoffers"~7', ("strong", [('"aanpak slachtoffers"~7', "tekst",
                                                 "aanpak van arbeidsuitbuiting en seksuele "
                                                 "uitbuiting van slachtoffers")])),
        ("uitbuting~", ("weak", [("uitbuting~", "tekst", "uitbuiting")])),
        ("uitbuiting~", ("strong", [("uitbuiting~", "tekst", "uitbuiting")])),
        ("dossier:28638", ("strong", [("dossier:28638", "dossier", "28638")])),
        ("kamerstuk:28638-251", ("strong", [("kamerstuk:28638-251", "kamerstuk",
                                             "kst-28638-251")])),
        ("zaak:2026z21001", ("strong", [("zaak:2026z21001", "zaak", "2026Z21001")])),
        ("procedure:2022-0155", ("strong", [("procedure:2022-0155", "tekst", "2022/0155(COD)")])),
        ("celex:52022PC0209", ("strong", [("celex:52022PC0209", "tekst", "52022PC0209")])),
        ('artikel:"273f WvSr"', ("strong", [('artikel:"273f WvSr"', "tekst", "273f")])),
        ("273f", ("strong", [("273f", "tekst", "273f")])),
        ("soort:brief", ("strong", [("soort:brief", "soort", "Brief regering")])),
        ('soort:"brief regering"', ("strong", [('soort:"brief regering"', "soort",
                                                "Brief regering")])),
        ("bron:TweedeKamer", ("strong", [("bron:TweedeKamer", "bron", "tweedekamer")])),
        ("datum:2026-11-17", ("strong", [("datum:2026-11-17", "datum", "2026-11-17")])),
        ("datum:>=2026-11-17", ("strong", [("datum:>=2026-11-17", "datum", "2026-11-17")])),
    ],
)
def test_clauses_that_match(query: str, expected: object) -> None:
    assert hit(query) == expected


@pytest.mark.parametrize(
    "query",
    [
        "handel",  # "mensenhandel" ends with it, but "handel" is too short to be a compound head
        "geweld",
        "hulp",
        "kind",
        "datum:<2026-11-17",
        "datum:2026-11-16",  # UTC date of publication, not the Amsterdam date
        '"aanpak slachtoffers"~6',
        '"uitbuiting seksuele"',
        "mensenhandel -arbeidsuitbuiting",
        "soort:motie",
        "bron:rechtspraak",
        "dossier:2863",
        "procedure:2024/0035(COD)",
        "uitbuten~95",
        "wet~",  # short words are never fuzzy: wet/wel
    ],
)
def test_clauses_that_do_not_match(query: str) -> None:
    assert hit(query) is None


def test_compound_heads() -> None:
    doc = MatchDoc(title="Aanpak van arbeidsuitbuiting", text="")
    assert hit("uitbuiting", doc) == ("strong", [("uitbuiting", "titel", "arbeidsuitbuiting")])
    assert hit("uitbuiting", MatchDoc(title="Partnergeweld", text="")) is None


def test_dossier_with_toevoeging_and_kamerstuk_implies_dossier() -> None:
    doc = MatchDoc(title="Begroting", text="", identifiers={"kamerstuk": ["kst-37020-VI-12"]})
    assert hit("dossier:37020", doc) == ("strong", [("dossier:37020", "dossier", "37020-VI")])
    assert hit("dossier:37020-vi", doc) is not None
    assert hit("kamerstuk:kst-37020-vi-12", doc) is not None


def test_or_collects_every_reason_and_not_vetoes() -> None:
    assert hit("slachtoffer OR dossier:28638 OR stikstof") == (
        "strong",
        [("slachtoffer", "tekst", "slachtoffers"), ("dossier:28638", "dossier", "28638")],
    )
    assert hit("(slachtoffer OR stikstof) NOT (woningmarkt OR 273f)") is None


def test_a_word_the_text_splits_is_a_phrase() -> None:
    doc = MatchDoc(title="Implementatie van Richtlijn (EU) 2024/1712", text="")
    assert hit("2024/1712", doc) == ("strong", [("2024/1712", "titel", "2024/1712")])
    assert hit("2024/1713", doc) is None


def test_snippets_are_cut_at_words_and_mark_the_hit() -> None:
    doc = MatchDoc(title="", text=("woord " * 40) + "mensenhandel" + (" woord" * 40))
    [h] = matches_query("mensenhandel", doc).hits
    assert h.snippet.startswith("…woord") and h.snippet.endswith("woord…")
    assert h.snippet[h.mark[0]:h.mark[1]] == "mensenhandel"


def test_topics_variants_exclusions_and_strength() -> None:
    matcher = Matcher([
        TopicQuery("nl", "mensenhandel", variants={"en": '"human trafficking"'}),
        TopicQuery("excl", "mensenhandel", exclusions="stikstof"),
        TopicQuery("fuzzy", "uitbuting~ OR stikstof"),
        TopicQuery("mixed", "uitbuting~ dossier:28638"),
    ])
    english = MatchDoc(title="Directive on preventing human trafficking", text="")
    assert [m.topic for m in matcher.match(english)] == ["nl"]
    assert [(m.topic, m.strength) for m in matcher.match(LETTER)] == [
        ("nl", "strong"), ("excl", "strong"), ("fuzzy", "weak"), ("mixed", "strong"),
    ]
    farm = MatchDoc(title="Mensenhandel en stikstof", text="")
    assert [m.topic for m in matcher.match(farm)] == ["nl", "fuzzy"]


def test_fuzzy_threshold_table() -> None:
    assert fuzzy_threshold("wet") is None
    assert fuzzy_threshold("groomin") == 86
    assert fuzzy_threshold("uitbuiting") == 84
    assert fuzzy_threshold("arbeidsuitbuiting") == 82
    assert COMPOUND_HEAD_MIN == 7


@pytest.mark.parametrize(
    ("a", "b"),
    [("slachtoffers", "slachtoffer"), ("seksuele", "seksueel"), ("kinderen", "kind"),
     ("richtlijnen", "richtlijn"), ("mensenhandelaren", "mensenhandelaar"),
     ("loverboys", "loverboy"), ("uitbuitingen", "uitbuiting"), ("Ruïne", "ruine")],
)
def test_inflections_meet(a: str, b: str) -> None:
    assert stem(a) == stem(b)


def test_geweld_keeps_its_meaning() -> None:
    # The newer Snowball Dutch stemmer turns "geweld" into "wel"; ours must not.
    assert stem("geweld") == "geweld" and stem("geweld") != stem("wel")


def test_text_levels() -> None:
    assert clean("  Een\u00a0 tekst\n\tmet\x00 ruimte ") == "Een tekst met ruimte"
    assert fold("Één  Ruïne") == "een ruine"


@pytest.mark.parametrize(
    ("spelling", "canonical"),
    [("2022/0155(COD)", "2022/0155(COD)"), ("2022-0155", "2022/0155(COD)"),
     ("2022/0155/COD", "2022/0155(COD)"), ("procedure/2022_155", "2022/0155(COD)"),
     ("2024/0035(cod)", "2024/0035(COD)"), ("geen procedure", None)],
)
def test_procedure_spellings(spelling: str, canonical: str | None) -> None:
    assert ids.procedure(spelling) == canonical


@pytest.mark.parametrize(
    "text",
    ["art. 273f Sr", "artikel 273f van het Wetboek van Strafrecht", "273f WvSr", "273f Sr",
     "op grond van artikel 273f, eerste lid, van het Wetboek van Strafrecht",
     "artikel 273f (Sr)", "BWBR0001854/273f", "jci1.31:c:BWBR0001854&artikel=273f"],
)
def test_law_references_mean_artikel_273f(text: str) -> None:
    assert ids.articles_in(text) == ["273f"]
    assert hit("artikel:273f", MatchDoc(title=text, text="")) is not None


def test_law_references_that_are_not_273f_sr() -> None:
    assert ids.articles_in("Artikel 273 van de Gemeentewet") == []
    assert ids.articles_in("artikel 5 van de Wet Nationaal Rapporteur") == []
    assert ids.articles_in("artikelen 273f en 273g Sr") == ["273f", "273g"]


def test_other_identifiers() -> None:
    assert ids.celex("COM(2022) 209") == "52022PC0209"
    assert ids.celex("<em>32014R1337</em>") == "32014R1337"  # EUR-Lex search highlighting
    assert ids.kamerstuk("36547-3") == "kst-36547-3"
    assert ids.kamerstuk("kst-36800-vi-12") == "kst-36800-VI-12"
    assert ids.kamerstuk("kst-36547-B") == "kst-36547-B"
    assert ids.ecli("ecli:nl:hr:2024:123") == "ECLI:NL:HR:2024:123"


@pytest.mark.parametrize("remembered", [100_000, 7])
def test_triggers_never_hide_a_match_fuzzy_words_included(
        remembered: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """The matcher evaluates a topic only for items showing one of its trigger facts; the
    answer must be the one evaluating every topic for every item gives. Fuzzy words trigger
    on a word close enough to them; every word's verdict (stem, compound head, prefix, fuzzy
    words) is remembered across items, and forgotten when too many (here also every 7)."""
    import random

    from monitors import matching
    from monitors.matching import CompiledTopic, prepare

    monkeypatch.setattr(matching, "REMEMBERED_WORDS", remembered)

    rng = random.Random(3)
    topics = [
        TopicQuery("t1", "uitbuting~ OR stikstof"),
        TopicQuery("t2", "mensenhandl~ (slachtoffer* OR opvang)"),
        TopicQuery("t3", "arbeidsuitbuiting~85 AND NOT landbouw"),
        TopicQuery("t4", "wet~ OR kinderopvang~"),
        TopicQuery("t5", '"seksuele uitbuiting" OR loverboy~'),
        TopicQuery("t6", "grensoverschrijdend~ gedrag~"),
        TopicQuery("t7", "slachtoff* OR uitbuiting"),  # a prefix; a compound's head
        TopicQuery("t8", '"brief 2026Z01234" OR kinderopvang'),
    ]
    base = ["uitbuiting", "mensenhandel", "slachtoffers", "opvang", "arbeidsuitbuiting",
            "landbouw", "wet", "wel", "kinderopvang", "seksuele", "loverboys", "gedrag",
            "grensoverschrijdend", "stikstof", "de", "het", "brief", "2026Z01234"]

    def edit(word: str) -> str:
        letters = list(word)
        for _ in range(rng.choice([1, 1, 2, 3])):
            at = rng.randrange(len(letters))
            move = rng.choice(["drop", "swap", "add"])
            if move == "drop" and len(letters) > 2:
                del letters[at]
            elif move == "swap":
                letters[at] = rng.choice("abcdefghijklmnopqrstuvwxyz")
            else:
                letters.insert(at, rng.choice("aeiou"))
        return "".join(letters)

    matcher = Matcher(topics)
    compiled = [CompiledTopic(t) for t in topics]
    assert any(t.triggers is not None and any(f[0] == "z" for f in t.triggers) for t in compiled)
    found = 0
    for n in range(600):
        words = [rng.choice(base) if rng.random() < 0.5 else edit(rng.choice(base))
                 for _ in range(rng.randrange(3, 14))]
        doc = MatchDoc(title=" ".join(words[:3]), text=" ".join(words[3:]), source="x",
                       doc_type=None, published_at=None, identifiers={})
        expected = [m for t in compiled if (m := t.evaluate(prepare(doc))) is not None]
        got = matcher.match(doc)
        assert [(m.topic, m.strength) for m in got] == \
            [(m.topic, m.strength) for m in expected], words
        found += len(got)
    assert found > 300  # the items did match, fuzzily and not


def test_word_forms_are_the_tokens_without_offsets() -> None:
    """The matcher reads a text's words with ``word_forms`` and, for the hits explaining a
    match, their offsets with ``tokens``: both must give the same words in the same order."""
    from monitors.text import tokens, word_forms

    texts = ["", "Één ruïne; art. 273f Sr en 2024/1712 — kst-36547-3 (d66)",
             "Zo'n jeugdzorg-instelling ’s avonds: seksueel grensoverschrijdend gedrag!",
             "Œuvre straße İstanbul ﬁnanciën 12-13 x_y  a\nb\tc"]
    for text in texts * 2:  # the second time from the word cache
        assert word_forms(text) == [(t.folded, t.stem) for t in tokens(text)]
