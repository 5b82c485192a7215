"""Text normalisation shared by matching, change detection and (later) search indexing.

Three levels, each built on the one before:

- ``clean``: NFC, no control characters, whitespace folded (what the archive hashes);
- ``fold``: also case- and accent-insensitive ("Één" → "een");
- ``stem``: a folded word reduced to its Dutch stem, so inflections meet
  ("slachtoffers" → "slachtoffer", "seksuele" and "seksueel" → "seksuel").

Stemming is Snowball's classic Dutch algorithm (``dutch_porter``, the one PostgreSQL's ``dutch``
configuration is built on), followed by two fixes measured on policy vocabulary (see
``tests/test_text.py``): doubled vowels are undoubled everywhere so adjective forms meet
(seksueel/seksuele), and a short table maps irregular plurals the algorithm misses
(kinderen → kind). The newer Snowball ``dutch`` algorithm was rejected: it strips "ge-" and turns
"geweld" into "wel".
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterator
from functools import lru_cache, partial
from typing import NamedTuple, TypeVar

import snowballstemmer

_WHITESPACE = re.compile(r"\s+")
#: A word: letters/digits, with inner hyphens, apostrophes or dots between digits kept
#: ("noord-afrika", "273f", "2024/1712" is three tokens: 2024, 1712 — the slash splits).
_WORD = re.compile(r"\w+(?:[-'’]\w+)*", re.UNICODE)
_DOUBLE_VOWEL = re.compile(r"([aeou])\1")

#: Irregular plurals and forms the stemmer leaves apart, mapped to the stem of the base word.
IRREGULAR_STEMS = {
    "kinderen": "kind",
    "kinder": "kind",
    "eieren": "ei",
    "volkeren": "volk",
    "steden": "stad",
    "schepen": "schip",
}


def clean(text: str | None) -> str:
    """Unicode NFC, no control characters, runs of whitespace folded to one space, trimmed.

    This is what the archive hashes: two fetches that differ only in whitespace or in the
    Unicode form of an accent are the same content.
    """
    if not text:
        return ""
    text = _WHITESPACE.sub(" ", unicodedata.normalize("NFC", text))
    if not text.isprintable():
        # A control or format character (rare): a space too, then whitespace folded again.
        # (Per character in Python only here: crawled texts are long.)
        text = "".join(ch if (ch.isprintable() or ch.isspace()) else " " for ch in text)
        text = _WHITESPACE.sub(" ", text)
    return text.strip()


def fold(text: str | None) -> str:
    """Case- and accent-insensitive form for comparisons: ``"Één  Ruïne"`` → ``"een ruine"``."""
    decomposed = unicodedata.normalize("NFKD", clean(text).casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def words(text: str | None) -> list[str]:
    """The words of ``text`` in order, as written (hyphenated compounds stay one word)."""
    return _WORD.findall(clean(text))


def word_runs(before: list[str], after: list[str]) -> list[tuple[str, list[str]]]:
    """How a word sequence became another, as runs: ('=', same), ('-', removed), ('+', added).

    The one word diff of the project: the archive counts it for change events, history shows it.
    """
    runs: list[tuple[str, list[str]]] = []
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    for op, a0, a1, b0, b1 in matcher.get_opcodes():
        if op == "equal":
            runs.append(("=", before[a0:a1]))
            continue
        if a1 > a0:
            runs.append(("-", before[a0:a1]))
        if b1 > b0:
            runs.append(("+", after[b0:b1]))
    return runs


_stemmer = snowballstemmer.stemmer("dutch_porter")


#: The word caches are bounded so that a long crawl's memory stays flat (bench/RESULTS.md,
#: memory): words with a digit (zaak, document and kamerstuk numbers, dates: new in nearly
#: every item, and cheap, as they are not stemmed) are not remembered at all.
WORD_CACHE = 50_000
_HAS_DIGIT = re.compile(r"\d").search


K = TypeVar("K")
V = TypeVar("V")


def remember(cache: dict[K, V], key: K, value: V) -> V:
    """Keep ``value`` in a word cache (a plain dict: faster to look up than an lru_cache),
    emptying the cache first when it holds WORD_CACHE entries; returns ``value``."""
    if len(cache) >= WORD_CACHE:
        cache.clear()
    cache[key] = value
    return value


def stem(word: str) -> str:
    """The Dutch stem of one word (folded first). Digits and mixed tokens such as 273f stay."""
    if _HAS_DIGIT(word):
        return _stem(word)
    return _cached_stem(word)


@lru_cache(maxsize=WORD_CACHE)
def _cached_stem(word: str) -> str:
    return _stem(word)


def _stem(word: str) -> str:
    folded = _fold_word(word)
    if folded in IRREGULAR_STEMS:
        return IRREGULAR_STEMS[folded]
    if not folded.isalpha() and not folded.replace("-", "").isalpha():
        return folded
    stemmed = _DOUBLE_VOWEL.sub(r"\1", _stemmer.stemWord(folded))
    return IRREGULAR_STEMS.get(stemmed, stemmed)


class Token(NamedTuple):
    """A word of a text: its folded form, its stem, and where it stands in the original."""

    folded: str
    stem: str
    start: int
    end: int


def _fold_word(word: str) -> str:
    if word.isascii():
        return word.lower()
    return _fold_other(word)


@lru_cache(maxsize=WORD_CACHE)
def _fold_other(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFC", word).casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


#: The folded form and stem of words met so far (words with a digit excepted); emptied when
#: full, like the other word caches. A plain dict: looked up for every word of every text.
_FORMS: dict[str, tuple[str, str]] = {}


def _word_forms(word: str) -> tuple[str, str]:
    forms = _FORMS.get(word)
    if forms is not None:
        return forms
    if not word.isalpha() and _HAS_DIGIT(word):  # (isalpha: no regex for most words)
        return _fold_word(word), _stem(word)
    return remember(_FORMS, word, (_fold_word(word), _cached_stem(word)))


#: Token(...) without NamedTuple's Python-level __new__ (one Python call less per word).
_new_token = partial(tuple.__new__, Token)


def word_forms(text: str) -> list[tuple[str, str]]:
    """(folded, stem) of each word of ``text``, in order: ``tokens`` without the offsets, for
    what only needs the words (three times faster)."""
    known = _FORMS.get
    return [known(word) or _word_forms(word) for word in _WORD.findall(text)]


def tokens(text: str) -> Iterator[Token]:
    """The words of ``text`` with offsets into ``text`` itself (not a cleaned copy)."""
    for match in _WORD.finditer(text):
        yield _new_token((*_word_forms(match.group()), *match.span()))
