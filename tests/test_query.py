"""The query language: what parses to what, and errors that point at the problem."""

from __future__ import annotations

from datetime import date

import pytest

from monitors.errors import QuerySyntaxError
from monitors.query import And, Field, Not, Or, Phrase, Word, date_range, parse


@pytest.mark.parametrize(
    ("query", "tree"),
    [
        ("mensenhandel", Word("mensenhandel")),
        ("mensenhandel uitbuiting", And((Word("mensenhandel"), Word("uitbuiting")))),
        ("a AND b", And((Word("a"), Word("b")))),
        ("a OR b c", Or((Word("a"), And((Word("b"), Word("c")))))),
        ("(a OR b) c", And((Or((Word("a"), Word("b"))), Word("c")))),
        ("a -b", And((Word("a"), Not(Word("b"))))),
        ("a NOT b", And((Word("a"), Not(Word("b"))))),
        ("noord-afrika", Word("noord-afrika")),  # an inner hyphen is part of the word
        ('"seksuele uitbuiting"', Phrase(("seksuele", "uitbuiting"))),
        ('"hulp slachtoffers"~5', Phrase(("hulp", "slachtoffers"), within=5)),
        ("mensenhandel*", Word("mensenhandel", prefix=True)),
        ("uitbuiting~", Word("uitbuiting", fuzzy=0)),
        ("uitbuiting~90", Word("uitbuiting", fuzzy=90)),
        ("dossier:36547", Field("dossier", "36547")),
        ("DOSSIER:36800-VI", Field("dossier", "36800-VI")),
        ("procedure:2022/0155(COD)", Field("procedure", "2022/0155(COD)")),
        ("(procedure:2022/0155(COD) OR x)", Or((Field("procedure", "2022/0155(COD)"), Word("x")))),
        ('artikel:"art. 273f Sr"', Field("artikel", "art. 273f Sr")),
        ('soort:"brief regering"', Field("soort", "brief regering")),
        ("datum:>=2026-06-01", Field("datum", ">=2026-06-01")),
        ("a or b", And((Word("a"), Word("or"), Word("b")))),  # lower case is a word
    ],
)
def test_parses(query: str, tree: object) -> None:
    assert parse(query) == tree


def test_canonical_text_round_trips() -> None:
    query = 'dossier:36547 OR ("seksuele uitbuiting" NOT prostitutie) mensenhandel*'
    assert parse(str(parse(query))) == parse(query)


@pytest.mark.parametrize(
    ("query", "position", "expected"),
    [
        ("", 0, "a word"),
        ("a (b", 4, "')' to close the '(' at position 3"),
        ("a OR", 4, "the query ends too early"),
        ("OR a", 0, "before OR"),
        ("foo:bar", 0, "a known field"),
        ('"abc', 0, "a closing quote"),
        ("NOT x", 5, "besides NOT"),
        ("x)", 1, "a '(' before this ')'"),
        ("~3", 0, "a word right before '~'"),
        ("dossier:", 8, "a value after 'dossier:'"),
        ("procedure:xyz", 10, "an EU procedure number"),
        ("datum:2026-13", 6, "a date"),
        ("dossier:abc", 8, "a dossier number"),
        ("uitbuiting~20", 11, "between 50 and 100"),
        ('"a b"~', 6, "a number after ~"),
        ("a ()", 3, "something inside the parentheses"),
        (":x", 0, "a field name before ':'"),
    ],
)
def test_errors_point_at_the_position_and_say_what_was_expected(
    query: str, position: int, expected: str
) -> None:
    with pytest.raises(QuerySyntaxError) as error:
        parse(query)
    assert error.value.position == position
    assert expected in error.value.expected
    assert str(error.value).startswith(f"at position {position + 1}: expected")
    assert error.value.pointer().splitlines()[1] == " " * position + "^"


def test_date_ranges() -> None:
    assert date_range("2026") == (date(2026, 1, 1), date(2026, 12, 31))
    assert date_range("2026-02") == (date(2026, 2, 1), date(2026, 2, 28))
    assert date_range("2026-12") == (date(2026, 12, 1), date(2026, 12, 31))
    assert date_range("2026-11-17") == (date(2026, 11, 17), date(2026, 11, 17))
    assert date_range(">=2026-06") == (date(2026, 6, 1), None)
    assert date_range(">2026-06") == (date(2026, 7, 1), None)
    assert date_range("<2026-06-01") == (None, date(2026, 5, 31))
    assert date_range("<=2026") == (None, date(2026, 12, 31))
    assert date_range("2026-01-01..2026-06-30") == (date(2026, 1, 1), date(2026, 6, 30))
    assert date_range("..2026-03") == (None, date(2026, 3, 31))
