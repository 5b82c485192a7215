"""Matching items against watch topics, with the reasons.

A topic set is compiled once (``Matcher``); each item is prepared once (``prepare``: tokens,
stems, identifiers and the identifiers mentioned in its text) and then every topic is a handful
of set look-ups. Every match says which clauses fired, in which field, with a snippet around the
hit; a match whose only text hits are fuzzy is *weak* ("mogelijk relevant" in the digest).

How words meet (all case- and accent-insensitive):

| clause | matches a token when |
|---|---|
| ``word`` | its stem equals the word's stem (slachtoffers ~ slachtoffer), or the word's stem is the head of a Dutch compound: the token's stem ends with it and is at least ``COMPOUND_HEAD_MIN`` long (arbeidsuitbuiting ~ uitbuiting) |
| ``word*`` | its folded form starts with the folded word (mensenhandel* ~ mensenhandelaren) |
| ``word~`` | as ``word``, else rapidfuzz ``ratio`` ≥ the threshold below (weak) |
| ``"a b"`` | consecutive tokens match a, b as words do |
| ``"a b"~N`` | all words occur within N tokens of the first |
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from rapidfuzz import fuzz, process

from monitors import identifiers as ids
from monitors.query import And, Field, Node, Not, Or, Phrase, Word, date_range, parse
from monitors.text import Token, fold, stem, tokens

#: A word's stem must be at least this long to match as the head of a compound
#: ("uitbuit" finds "arbeidsuitbuiting"). Shorter heads match too much: "handel" would find
#: "mensenhandel", "wet" "wethouder". The price: "geweld" does not find "partnergeweld";
#: write both words, or a phrase, when that matters.
COMPOUND_HEAD_MIN = 7

#: Fuzzy thresholds (rapidfuzz ``fuzz.ratio``, 0-100, on folded words) by word length, used
#: when a query says ``word~`` without a score. Short words are never fuzzy: one letter changes
#: their meaning (wet/wel). Measured on the default topics' examples (tests/test_matching.py).
FUZZY_THRESHOLDS = (
    (0, 4, None),  # up to 4 letters: exact only
    (5, 7, 86),  # e.g. "groomin" ~ "grooming" (93), "uitbuiting" is longer
    (8, 11, 84),  # "uitbuting" ~ "uitbuiting" (95), "uitbuiten" ~ "uitbuiting" (84)
    (12, 999, 82),  # long compounds tolerate two typos
)

#: How much text around a hit a snippet shows, in characters on each side.
SNIPPET_CONTEXT = 70

LOCAL = ZoneInfo("Europe/Amsterdam")


def fuzzy_threshold(word: str) -> int | None:
    length = len(fold(word))
    for low, high, threshold in FUZZY_THRESHOLDS:
        if low <= length <= high:
            return threshold
    return None


@dataclass(frozen=True)
class MatchDoc:
    """What matching sees of an item or a stored version."""

    title: str
    text: str
    source: str = ""
    doc_type: str | None = None
    published_at: datetime | None = None
    identifiers: Mapping[str, Sequence[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Hit:
    """One clause that fired: where, and a snippet with the hit at ``mark`` (start, end)."""

    clause: str
    field: str  # titel | tekst | soort | bron | datum | dossier | zaak | kamerstuk | …
    snippet: str
    mark: tuple[int, int]
    fuzzy: bool = False

    def as_dict(self) -> dict[str, object]:
        return {"clause": self.clause, "field": self.field, "snippet": self.snippet,
                "mark": list(self.mark), "fuzzy": self.fuzzy}


@dataclass(frozen=True)
class TopicMatch:
    topic: str
    strength: str  # strong | weak
    hits: tuple[Hit, ...]


class Prepared:
    """An item's text and identifiers, tokenised once for every topic."""

    TEXT_FIELDS = ("titel", "tekst")

    def __init__(self, doc: MatchDoc):
        self.doc = doc
        self.texts = {"titel": doc.title or "", "tekst": doc.text or ""}
        self.tokens: dict[str, list[Token]] = {f: list(tokens(t)) for f, t in self.texts.items()}
        self.positions: dict[str, list[tuple[str, int]]] = {}
        for name, toks in self.tokens.items():
            for index, token in enumerate(toks):
                self.positions.setdefault(token.stem, []).append((name, index))
        # Compound heads: every suffix of a stem that is long enough to be one.
        self.heads: dict[str, str] = {}
        for token_stem in self.positions:
            for cut in range(1, len(token_stem) - COMPOUND_HEAD_MIN + 1):
                self.heads.setdefault(token_stem[cut:], token_stem)
        self.folded = sorted({t.folded for toks in self.tokens.values() for t in toks})
        self.by_folded: dict[str, tuple[str, int]] = {}
        for name, toks in self.tokens.items():
            for index, token in enumerate(toks):
                self.by_folded.setdefault(token.folded, (name, index))
        self.ids: dict[str, set[str]] = _canonical_ids(doc.identifiers)
        self.mentioned = ids.mentions(doc.title + "\n" + doc.text)
        self.type_stems = [t.stem for t in tokens(doc.doc_type or "")]
        self.day: date | None = doc.published_at.astimezone(LOCAL).date() if doc.published_at \
            else None

    def hit(self, clause: str, name: str, start: int, end: int, fuzzy: bool = False) -> Hit:
        text = self.texts[name]
        left = max(0, start - SNIPPET_CONTEXT)
        right = min(len(text), end + SNIPPET_CONTEXT)
        if left > 0:
            space = text.find(" ", left, start)
            left = space + 1 if space != -1 else left
        if right < len(text):
            space = text.rfind(" ", end, right)
            right = space if space != -1 else right
        prefix = "…" if left > 0 else ""
        suffix = "…" if right < len(text) else ""
        snippet = prefix + " ".join(text[left:right].split("\n")) + suffix
        mark_start = len(prefix) + (start - left)
        return Hit(clause, name, snippet, (mark_start, mark_start + end - start), fuzzy)

    def token_hit(self, clause: str, where: tuple[str, int], span: int = 1,
                  fuzzy: bool = False) -> Hit:
        name, index = where
        toks = self.tokens[name]
        return self.hit(clause, name, toks[index].start, toks[index + span - 1].end, fuzzy)


def _canonical_ids(raw: Mapping[str, Sequence[str]]) -> dict[str, set[str]]:
    normalise: dict[str, Callable[[str], str | None]] = {
        "procedure": ids.procedure, "celex": ids.celex, "kamerstuk": ids.kamerstuk,
        "ecli": ids.ecli, "artikel": ids.article,
    }
    result: dict[str, set[str]] = {}
    for scheme, values in raw.items():
        for value in values:
            canonical = normalise[scheme](value) if scheme in normalise else value
            if canonical:
                result.setdefault(scheme, set()).add(
                    canonical if scheme in normalise else canonical.upper()
                )
    # A kamerstuk number names its dossier too.
    for kst in result.get("kamerstuk", set()):
        parts = kst.split("-")
        if len(parts) >= 3:
            result.setdefault("dossier", set()).add("-".join(parts[1:-1]).upper())
    return result


def prepare(doc: MatchDoc) -> Prepared:
    return Prepared(doc)


Evaluator = Callable[[Prepared], "tuple[bool, list[Hit]]"]


def compile_query(node: Node) -> Evaluator:
    """Turn a parsed query into a function of a prepared item: (matched, hits)."""
    if isinstance(node, And):
        parts = [compile_query(c) for c in node.children]

        def all_of(p: Prepared) -> tuple[bool, list[Hit]]:
            hits: list[Hit] = []
            for part in parts:
                ok, found = part(p)
                if not ok:
                    return False, []
                hits.extend(found)
            return True, hits

        return all_of
    if isinstance(node, Or):
        parts = [compile_query(c) for c in node.children]

        def any_of(p: Prepared) -> tuple[bool, list[Hit]]:
            hits: list[Hit] = []
            matched = False
            for part in parts:
                ok, found = part(p)
                if ok:
                    matched = True
                    hits.extend(found)
            return matched, hits

        return any_of
    if isinstance(node, Not):
        inner = compile_query(node.child)
        return lambda p: (not inner(p)[0], [])
    if isinstance(node, Word):
        return _compile_word(node)
    if isinstance(node, Phrase):
        return _compile_phrase(node)
    if isinstance(node, Field):
        return _compile_field(node)
    raise TypeError(f"unknown query node {node!r}")


def _word_where(p: Prepared, word_stem: str) -> tuple[tuple[str, int] | None, bool]:
    """Where a word occurs: (position, via compound head)."""
    places = p.positions.get(word_stem)
    if places:
        return places[0], False
    if len(word_stem) >= COMPOUND_HEAD_MIN and word_stem in p.heads:
        return p.positions[p.heads[word_stem]][0], True
    return None, False


def _compile_word(node: Word) -> Evaluator:
    clause = str(node)
    parts = [t for t in tokens(node.text)]
    if len(parts) > 1 and not node.prefix:
        # "2024/1712" or "art.273f": the text splits it into several tokens: a phrase.
        return _compile_phrase(Phrase(tuple(t.folded for t in parts)), clause)
    if not parts:
        return lambda p: (False, [])
    word = parts[0]
    if node.prefix:
        prefix = word.folded

        def starts(p: Prepared) -> tuple[bool, list[Hit]]:
            i = bisect.bisect_left(p.folded, prefix)
            if i < len(p.folded) and p.folded[i].startswith(prefix):
                return True, [p.token_hit(clause, p.by_folded[p.folded[i]])]
            return False, []

        return starts
    threshold = None
    if node.fuzzy is not None:
        threshold = node.fuzzy or fuzzy_threshold(word.folded)

    def matches(p: Prepared) -> tuple[bool, list[Hit]]:
        where, _compound = _word_where(p, word.stem)
        if where is not None:
            return True, [p.token_hit(clause, where)]
        if threshold is not None and p.folded:
            best = process.extractOne(word.folded, p.folded, scorer=fuzz.ratio,
                                      score_cutoff=threshold)
            if best is not None:
                return True, [p.token_hit(clause, p.by_folded[best[0]], fuzzy=True)]
        return False, []

    return matches


def _compile_phrase(node: Phrase, clause: str | None = None) -> Evaluator:
    clause = clause or str(node)
    stems = [t.stem for word in node.words for t in tokens(word)]
    if not stems:
        return lambda p: (False, [])
    within = node.within

    def matches(p: Prepared) -> tuple[bool, list[Hit]]:
        for name, index in p.positions.get(stems[0], []):
            toks = p.tokens[name]
            if within is None:
                if index + len(stems) <= len(toks) and all(
                    toks[index + k].stem == s for k, s in enumerate(stems)
                ):
                    return True, [p.token_hit(clause, (name, index), span=len(stems))]
            else:
                window = range(max(0, index - within), min(len(toks), index + within + 1))
                found = {toks[j].stem for j in window}
                if all(s in found for s in stems):
                    last = max(j for j in window if toks[j].stem in stems)
                    first = min(j for j in window if toks[j].stem in stems)
                    return True, [p.token_hit(clause, (name, first), span=last - first + 1)]
        return False, []

    return matches


def _compile_field(node: Field) -> Evaluator:
    clause = str(node)
    name, value = node.name, node.value

    def id_hit(p: Prepared, scheme: str, found: str) -> Hit:
        return Hit(clause, scheme, found, (0, len(found)))

    def by_ids(scheme: str, canonical: str, *, in_text: bool = True) -> Evaluator:
        def matches(p: Prepared) -> tuple[bool, list[Hit]]:
            if canonical in p.ids.get(scheme, ()):
                return True, [id_hit(p, scheme, canonical)]
            if in_text and canonical in p.mentioned.get(scheme, ()):
                return True, [Hit(clause, "tekst", canonical, (0, len(canonical)))]
            return False, []

        return matches

    if name == "procedure":
        return by_ids("procedure", ids.procedure(value) or value)
    if name == "celex":
        return by_ids("celex", ids.celex(value) or value)
    if name == "ecli":
        return by_ids("ecli", ids.ecli(value) or value)
    if name == "artikel":
        return by_ids("artikel", ids.article(value) or value)
    if name == "kamerstuk":
        return by_ids("kamerstuk", ids.kamerstuk(value) or value)
    if name == "zaak":
        return by_ids("zaak", value.upper(), in_text=False)
    if name == "dossier":
        wanted = value.upper()

        def dossier(p: Prepared) -> tuple[bool, list[Hit]]:
            for number in sorted(p.ids.get("dossier", ())):
                if number == wanted or number.startswith(wanted + "-"):
                    return True, [id_hit(p, "dossier", number)]
            return False, []

        return dossier
    if name == "bron":
        wanted = fold(value)
        return lambda p: ((True, [id_hit(p, "bron", p.doc.source)])
                          if fold(p.doc.source) == wanted else (False, []))
    if name == "soort":
        wanted_stems = [t.stem for t in tokens(value)]

        def soort(p: Prepared) -> tuple[bool, list[Hit]]:
            have, n = p.type_stems, len(wanted_stems)
            for i in range(len(have) - n + 1):
                if have[i:i + n] == wanted_stems:
                    return True, [id_hit(p, "soort", p.doc.doc_type or "")]
            return False, []

        return soort
    if name == "datum":
        first, last = date_range(value)

        def datum(p: Prepared) -> tuple[bool, list[Hit]]:
            if p.day is None:
                return False, []
            if (first is None or p.day >= first) and (last is None or p.day <= last):
                return True, [id_hit(p, "datum", p.day.isoformat())]
            return False, []

        return datum
    raise ValueError(f"unknown field {name}")


@dataclass(frozen=True)
class TopicQuery:
    """What a topic looks for: its query, language variants, and exclusions."""

    slug: str
    query: str
    variants: Mapping[str, str] = field(default_factory=dict)
    exclusions: str = ""


class CompiledTopic:
    def __init__(self, topic: TopicQuery):
        self.slug = topic.slug
        self.queries = [compile_query(parse(topic.query))] + [
            compile_query(parse(q)) for q in topic.variants.values() if q.strip()
        ]
        self.exclusion = compile_query(parse(topic.exclusions)) if topic.exclusions.strip() \
            else None

    def match(self, p: Prepared) -> TopicMatch | None:
        hits: list[Hit] = []
        matched = False
        for query in self.queries:
            ok, found = query(p)
            if ok:
                matched = True
                hits.extend(found)
        if not matched:
            return None
        if self.exclusion is not None and self.exclusion(p)[0]:
            return None
        unique = tuple(dict.fromkeys(hits))
        text_hits = [h for h in unique if h.field in Prepared.TEXT_FIELDS]
        weak = bool(text_hits) and all(h.fuzzy for h in text_hits) and all(
            h.field in Prepared.TEXT_FIELDS for h in unique
        )
        return TopicMatch(self.slug, "weak" if weak else "strong", unique)


class Matcher:
    """A topic set compiled once; ``match`` gives every topic an item matches, with reasons."""

    def __init__(self, topics: Iterable[TopicQuery]):
        self.topics = [CompiledTopic(t) for t in topics]

    def match(self, doc: MatchDoc | Prepared) -> list[TopicMatch]:
        prepared = doc if isinstance(doc, Prepared) else prepare(doc)
        return [m for t in self.topics if (m := t.match(prepared)) is not None]


def matches_query(query: str, doc: MatchDoc) -> TopicMatch | None:
    """One-off: does ``doc`` match ``query`` (and why)? Parses and compiles on every call."""
    return CompiledTopic(TopicQuery("query", query)).match(prepare(doc))
