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
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from datetime import date, datetime
from zoneinfo import ZoneInfo

from rapidfuzz import fuzz, process

from monitors import identifiers as ids
from monitors.query import And, Field, Node, Not, Or, Phrase, Word, date_range, parse
from monitors.text import Token, fold, tokens, word_forms

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


#: Texts up to this length are remembered as words (the last ``RECENT_TEXTS``): the crawl
#: prepares an item for the matcher and, in the same batch, its stored version for the search
#: index (bench/RESULTS.md, crawl). Longer texts are rare, and their words many.
RECENT_TEXT_MAX = 20_000
RECENT_TEXTS = 256

#: A word of a prepared text: (folded, stem).
Form = tuple[str, str]


@lru_cache(maxsize=RECENT_TEXTS)
def _recent_forms(text: str) -> tuple[Form, ...]:
    return tuple(word_forms(text))


def _forms_of(text: str) -> Sequence[Form]:
    return _recent_forms(text) if len(text) <= RECENT_TEXT_MAX else word_forms(text)


class Prepared:
    """An item's text and identifiers, split into words once for every topic."""

    TEXT_FIELDS = ("titel", "tekst")

    def __init__(self, doc: MatchDoc):
        self.doc = doc
        self.texts = {"titel": doc.title or "", "tekst": doc.text or ""}
        #: Each field's words in order, as (folded, stem); offsets (``tokens``) only for the
        #: hits that explain a match.
        self.forms: dict[str, Sequence[Form]] = {f: _forms_of(t) for f, t in self.texts.items()}
        positions: dict[str, list[tuple[str, int]]] = {}
        #: Each distinct folded word and its stem (the matcher's triggers are looked up per
        #: distinct word).
        words: dict[str, str] = {}
        for name, forms in self.forms.items():
            for index, (folded, token_stem) in enumerate(forms):
                places = positions.get(token_stem)
                if places is None:
                    positions[token_stem] = [(name, index)]
                else:
                    places.append((name, index))
                words[folded] = token_stem
        self.positions = positions
        self.words = words
        self._compounds: dict[str, str | None] = {}
        self._tokens: dict[str, list[Token]] = {}

    # What only some clauses need is worked out on first use.

    def compound(self, head: str) -> str | None:
        """The first stem of the item that is a compound ending in ``head`` (a stem at least
        ``COMPOUND_HEAD_MIN`` long), or None."""
        if head in self._compounds:
            return self._compounds[head]
        found = None
        if len(head) >= COMPOUND_HEAD_MIN:
            size = len(head)
            found = next((s for s in self.positions if len(s) > size and s.endswith(head)),
                         None)
        self._compounds[head] = found
        return found

    @cached_property
    def folded(self) -> list[str]:
        return sorted(self.words)

    @cached_property
    def by_folded(self) -> dict[str, tuple[str, int]]:
        first: dict[str, tuple[str, int]] = {}
        for name, forms in self.forms.items():
            for index, (folded, _) in enumerate(forms):
                first.setdefault(folded, (name, index))
        return first

    def tokens(self, name: str) -> list[Token]:
        """A field's words with their offsets in its text (the same words as ``forms``), read
        only for a field with a hit."""
        found = self._tokens.get(name)
        if found is None:
            found = self._tokens[name] = list(tokens(self.texts[name]))
        return found

    @cached_property
    def by_length(self) -> dict[int, list[str]]:
        lengths: dict[int, list[str]] = {}
        for folded in self.folded:
            lengths.setdefault(len(folded), []).append(folded)
        return lengths

    def lengths_between(self, low: int, high: int) -> list[str]:
        return [w for n in range(low, high + 1) for w in self.by_length.get(n, ())]

    @cached_property
    def ids(self) -> dict[str, set[str]]:
        return _canonical_ids(self.doc.identifiers)

    @cached_property
    def mentioned(self) -> dict[str, set[str]]:
        return ids.mentions(self.doc.title + "\n" + self.doc.text)

    @cached_property
    def type_stems(self) -> list[str]:
        return [t.stem for t in tokens(self.doc.doc_type or "")]

    @cached_property
    def day(self) -> date | None:
        published = self.doc.published_at
        return published.astimezone(LOCAL).date() if published else None

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
        toks = self.tokens(name)
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


#: An evaluator answers "does the item match?"; given a list, it also appends the hits that
#: explain the match (and then an OR evaluates every branch). Matching first asks without a
#: list (short-circuiting), and only for a topic that matched asks again for the reasons.
Evaluator = Callable[[Prepared, "list[Hit] | None"], bool]

#: Triggers: cheap facts of which at least one must hold for a query to be able to match, or
#: None when there is no such set (NOT, dates). A trigger is ("s", stem), ("p", folded
#: prefix), ("i", scheme, canonical identifier) or ("z", folded, threshold): a word whose
#: ``fuzz.ratio`` with a fuzzy word reaches the threshold.
Trigger = tuple[str, ...]
Triggers = frozenset[Trigger] | None


def triggers(node: Node) -> Triggers:
    """Facts one of which an item must show before evaluating ``node`` is worth it."""
    if isinstance(node, Word):
        parts = list(tokens(node.text))
        if not parts:
            return None
        if node.fuzzy is not None:
            if node.prefix or len(parts) > 1:
                return None
            # The word itself (or as a compound's head), else a word close enough to it.
            threshold = node.fuzzy or fuzzy_threshold(parts[0].folded)
            facts: set[Trigger] = {("s", parts[0].stem)}
            if threshold is not None:
                facts.add(("z", parts[0].folded, str(threshold)))
            return frozenset(facts)
        if node.prefix:
            return frozenset({("p", parts[0].folded)})
        return frozenset({("s", parts[0].stem)})
    if isinstance(node, Phrase):
        stems = [t.stem for word in node.words for t in tokens(word)]
        return frozenset({("s", stems[0])}) if stems else None
    if isinstance(node, Field):
        normalise = {"procedure": ids.procedure, "celex": ids.celex, "ecli": ids.ecli,
                     "artikel": ids.article, "kamerstuk": ids.kamerstuk}
        if node.name in normalise:
            return frozenset({("i", node.name, normalise[node.name](node.value) or node.value)})
        if node.name in ("zaak", "dossier"):
            return frozenset({("i", node.name, node.value.upper())})
        return None
    if isinstance(node, Or):
        found: set[Trigger] = set()
        for child in node.children:
            child_triggers = triggers(child)
            if child_triggers is None:
                return None
            found |= child_triggers
        return frozenset(found)
    if isinstance(node, And):
        candidates = [t for c in node.children if (t := triggers(c)) is not None]
        return min(candidates, key=len) if candidates else None
    return None


def _holds(p: Prepared, trigger: Trigger) -> bool:
    kind = trigger[0]
    if kind == "z":
        return _fuzzy_hit(p, trigger[1], int(trigger[2]))
    if kind == "s":
        stem_ = trigger[1]
        return stem_ in p.positions or p.compound(stem_) is not None
    if kind == "p":
        i = bisect.bisect_left(p.folded, trigger[1])
        return i < len(p.folded) and p.folded[i].startswith(trigger[1])
    scheme, value = trigger[1], trigger[2]
    if scheme == "dossier":
        return any(d == value or d.startswith(value + "-") for d in p.ids.get("dossier", ()))
    return value in p.ids.get(scheme, ()) or value in p.mentioned.get(scheme, ())


def _fuzzy_lengths(folded: str, threshold: int) -> tuple[int, int]:
    """The word lengths that can reach ``threshold`` against ``folded`` (ratio = 2·M/(a+b))."""
    size = len(folded)
    return (math.ceil(size * threshold / (200 - threshold)),
            math.floor(size * (200 - threshold) / threshold))


def _fuzzy_hit(p: Prepared, folded: str, threshold: int) -> bool:
    """Has the item a word whose ``fuzz.ratio`` with ``folded`` reaches ``threshold``?"""
    choices = p.lengths_between(*_fuzzy_lengths(folded, threshold)) if p.folded else []
    return bool(choices) and process.extractOne(folded, choices, scorer=fuzz.ratio,
                                                score_cutoff=threshold) is not None


def compile_query(node: Node) -> Evaluator:
    """Turn a parsed query into an evaluator of a prepared item."""
    if isinstance(node, And):
        parts = [compile_query(c) for c in node.children]

        def all_of(p: Prepared, hits: list[Hit] | None) -> bool:
            found: list[Hit] | None = [] if hits is not None else None
            for part in parts:
                if not part(p, found):
                    return False
            if hits is not None and found:
                hits.extend(found)
            return True

        return all_of
    if isinstance(node, Or):
        parts = [compile_query(c) for c in node.children]

        def any_of(p: Prepared, hits: list[Hit] | None) -> bool:
            if hits is None:
                return any(part(p, None) for part in parts)
            matched = False
            for part in parts:
                found: list[Hit] = []
                if part(p, found):
                    matched = True
                    hits.extend(found)
            return matched

        return any_of
    if isinstance(node, Not):
        inner = compile_query(node.child)
        return lambda p, hits: not inner(p, None)
    if isinstance(node, Word):
        return _compile_word(node)
    if isinstance(node, Phrase):
        return _compile_phrase(node)
    if isinstance(node, Field):
        return _compile_field(node)
    raise TypeError(f"unknown query node {node!r}")


def _word_where(p: Prepared, word_stem: str) -> tuple[str, int] | None:
    """Where a word occurs, itself or as the head of a compound."""
    places = p.positions.get(word_stem)
    if places:
        return places[0]
    compound = p.compound(word_stem)
    return p.positions[compound][0] if compound is not None else None


def _compile_word(node: Word) -> Evaluator:
    clause = str(node)
    parts = list(tokens(node.text))
    if len(parts) > 1 and not node.prefix:
        # "2024/1712" or "art.273f": the text splits it into several tokens: a phrase.
        return _compile_phrase(Phrase(tuple(t.folded for t in parts)), clause)
    if not parts:
        return lambda p, hits: False
    word = parts[0]
    if node.prefix:
        prefix = word.folded

        def starts(p: Prepared, hits: list[Hit] | None) -> bool:
            i = bisect.bisect_left(p.folded, prefix)
            if i < len(p.folded) and p.folded[i].startswith(prefix):
                if hits is not None:
                    hits.append(p.token_hit(clause, p.by_folded[p.folded[i]]))
                return True
            return False

        return starts
    threshold = None
    if node.fuzzy is not None:
        threshold = node.fuzzy or fuzzy_threshold(word.folded)
    word_stem = word.stem
    lengths = (0, 0)
    if threshold is not None:
        lengths = _fuzzy_lengths(word.folded, threshold)

    def matches(p: Prepared, hits: list[Hit] | None) -> bool:
        where = _word_where(p, word_stem)
        if where is not None:
            if hits is not None:
                hits.append(p.token_hit(clause, where))
            return True
        if threshold is not None and p.folded:
            # Only words whose length allows the score can reach it (ratio = 2·M/(a+b)).
            choices = p.lengths_between(*lengths)
            best = process.extractOne(word.folded, choices, scorer=fuzz.ratio,
                                      score_cutoff=threshold) if choices else None
            if best is not None:
                if hits is not None:
                    hits.append(p.token_hit(clause, p.by_folded[best[0]], fuzzy=True))
                return True
        return False

    return matches


def _compile_phrase(node: Phrase, clause: str | None = None) -> Evaluator:
    clause = clause or str(node)
    stems = [t.stem for word in node.words for t in tokens(word)]
    if not stems:
        return lambda p, hits: False
    within = node.within

    def matches(p: Prepared, hits: list[Hit] | None) -> bool:
        for name, index in p.positions.get(stems[0], ()):
            forms = p.forms[name]
            if within is None:
                if index + len(stems) <= len(forms) and all(
                    forms[index + k][1] == s for k, s in enumerate(stems)
                ):
                    if hits is not None:
                        hits.append(p.token_hit(clause, (name, index), span=len(stems)))
                    return True
            else:
                window = range(max(0, index - within), min(len(forms), index + within + 1))
                found = {forms[j][1] for j in window}
                if all(s in found for s in stems):
                    if hits is not None:
                        last = max(j for j in window if forms[j][1] in stems)
                        first = min(j for j in window if forms[j][1] in stems)
                        hits.append(p.token_hit(clause, (name, first), span=last - first + 1))
                    return True
        return False

    return matches


def _compile_field(node: Field) -> Evaluator:
    clause = str(node)
    name, value = node.name, node.value

    def found(hits: list[Hit] | None, field_name: str, text: str) -> bool:
        if hits is not None:
            hits.append(Hit(clause, field_name, text, (0, len(text))))
        return True

    def by_ids(scheme: str, canonical: str, *, in_text: bool = True) -> Evaluator:
        def matches(p: Prepared, hits: list[Hit] | None) -> bool:
            if canonical in p.ids.get(scheme, ()):
                return found(hits, scheme, canonical)
            if in_text and canonical in p.mentioned.get(scheme, ()):
                return found(hits, "tekst", canonical)
            return False

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

        def dossier(p: Prepared, hits: list[Hit] | None) -> bool:
            for number in sorted(p.ids.get("dossier", ())):
                if number == wanted or number.startswith(wanted + "-"):
                    return found(hits, "dossier", number)
            return False

        return dossier
    if name == "bron":
        wanted = fold(value)
        return lambda p, hits: fold(p.doc.source) == wanted and found(hits, "bron", p.doc.source)
    if name == "soort":
        wanted_stems = [t.stem for t in tokens(value)]

        def soort(p: Prepared, hits: list[Hit] | None) -> bool:
            have, n = p.type_stems, len(wanted_stems)
            for i in range(len(have) - n + 1):
                if have[i:i + n] == wanted_stems:
                    return found(hits, "soort", p.doc.doc_type or "")
            return False

        return soort
    if name == "datum":
        first, last = date_range(value)

        def datum(p: Prepared, hits: list[Hit] | None) -> bool:
            if p.day is None:
                return False
            if (first is None or p.day >= first) and (last is None or p.day <= last):
                return found(hits, "datum", p.day.isoformat())
            return False

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
        nodes = [parse(topic.query)] + [parse(q) for q in topic.variants.values() if q.strip()]
        self.queries = [compile_query(n) for n in nodes]
        found = [triggers(n) for n in nodes]
        #: Stems of which one must occur, or None: evaluate always.
        self.triggers: Triggers = None if any(t is None for t in found) else frozenset().union(
            *[t for t in found if t is not None]
        )
        self.exclusion = compile_query(parse(topic.exclusions)) if topic.exclusions.strip() \
            else None

    def could_match(self, p: Prepared) -> bool:
        return self.triggers is None or any(_holds(p, t) for t in self.triggers)

    def match(self, p: Prepared) -> TopicMatch | None:
        """The topic's match of ``p`` with reasons, or None."""
        if not self.could_match(p):
            return None
        return self.evaluate(p)

    def evaluate(self, p: Prepared) -> TopicMatch | None:
        """As ``match``, for a caller that already knows a trigger holds."""
        if not any(query(p, None) for query in self.queries):
            return None
        if self.exclusion is not None and self.exclusion(p, None):
            return None
        hits: list[Hit] = []
        for query in self.queries:
            query(p, hits)
        unique = tuple(dict.fromkeys(hits))
        text_hits = [h for h in unique if h.field in Prepared.TEXT_FIELDS]
        weak = bool(text_hits) and all(h.fuzzy for h in text_hits) and all(
            h.field in Prepared.TEXT_FIELDS for h in unique
        )
        return TopicMatch(self.slug, "weak" if weak else "strong", unique)


#: Words whose verdicts (which topics they trigger) a matcher remembers; then it starts again.
#: Words with a digit (zaak and document numbers, dates) are mostly new, so this fills up
#: after some tens of thousands of items; working the verdicts out again costs far less
#: than a second.
REMEMBERED_WORDS = 100_000


class Matcher:
    """A topic set compiled once; ``match`` gives every topic an item matches, with reasons.

    Topics are indexed by their triggers, so an item is only evaluated against topics whose
    trigger facts it shows (a stem, a prefix, an identifier, a word close enough to a fuzzy
    word); topics without triggers (NOT-only branches, dates) are always evaluated.
    """

    def __init__(self, topics: Iterable[TopicQuery]):
        self.topics = [CompiledTopic(t) for t in topics]
        self.always: list[int] = []
        self.by_stem: dict[str, set[int]] = {}
        self.by_head: dict[str, set[int]] = {}
        self.prefixes: dict[str, set[int]] = {}
        self.by_id: dict[tuple[str, str], set[int]] = {}
        fuzzy: dict[tuple[str, int], set[int]] = {}
        for index, topic in enumerate(self.topics):
            if topic.triggers is None:
                self.always.append(index)
                continue
            for trigger in topic.triggers:
                if trigger[0] == "s":
                    self.by_stem.setdefault(trigger[1], set()).add(index)
                    if len(trigger[1]) >= COMPOUND_HEAD_MIN:
                        self.by_head.setdefault(trigger[1], set()).add(index)
                elif trigger[0] == "p":
                    self.prefixes.setdefault(trigger[1], set()).add(index)
                elif trigger[0] == "z":
                    fuzzy.setdefault((trigger[1], int(trigger[2])), set()).add(index)
                else:
                    self.by_id.setdefault((trigger[1], trigger[2]), set()).add(index)
        self.prefix_list = sorted(self.prefixes)
        #: Fuzzy words (folded, threshold, shortest and longest word that can reach it) and
        #: the topics each triggers.
        self.fuzzy = [(term, threshold, *_fuzzy_lengths(term, threshold))
                      for term, threshold in fuzzy]
        self.fuzzy_topics = list(fuzzy.values())
        #: Which topics each word met so far triggers, by its stem, as a compound's head, by a
        #: prefix or by reaching a fuzzy word (an archive's words repeat: a verdict per word
        #: replaces looking up every word of every item); the words that trigger nothing
        #: apart, so that an item's known quiet words are set aside in one set difference.
        self._reaches: dict[str, frozenset[int]] = {}
        self._quiet: set[str] = set()

    def candidates(self, p: Prepared) -> list[int]:
        found = set(self.always)
        words = p.words
        reaches = self._reaches
        for word in words.keys() - self._quiet:
            reached = reaches.get(word)
            if reached is None:
                reached = self._word_reaches(word, words[word])
            if reached:
                found |= reached
        if self.by_id:
            for scheme, values in (*p.ids.items(), *p.mentioned.items()):
                for value in values:
                    keys = [(scheme, value)]
                    if scheme == "dossier" and "-" in value:
                        keys.append((scheme, value.split("-", 1)[0]))
                    for key in keys:
                        if key in self.by_id:
                            found |= self.by_id[key]
        return sorted(found)

    def _word_reaches(self, word: str, word_stem: str) -> frozenset[int]:
        """The topics a word (folded, with its stem: a function of the folded form) triggers;
        remembered."""
        found: set[int] = set()
        if word_stem in self.by_stem:
            found |= self.by_stem[word_stem]
        if self.by_head:
            for cut in range(1, len(word_stem) - COMPOUND_HEAD_MIN + 1):
                head = word_stem[cut:]
                if head in self.by_head:
                    found |= self.by_head[head]
        for prefix in self.prefix_list:
            if word.startswith(prefix):
                found |= self.prefixes[prefix]
        size = len(word)
        for i, (term, threshold, low, high) in enumerate(self.fuzzy):
            if low <= size <= high and fuzz.ratio(term, word) >= threshold:
                found |= self.fuzzy_topics[i]
        reached = frozenset(found)
        if len(self._reaches) + len(self._quiet) >= REMEMBERED_WORDS:
            self._reaches.clear()
            self._quiet.clear()
        if reached:
            self._reaches[word] = reached
        else:
            self._quiet.add(word)
        return reached

    def match(self, doc: MatchDoc | Prepared) -> list[TopicMatch]:
        prepared = doc if isinstance(doc, Prepared) else prepare(doc)
        results = []
        for index in self.candidates(prepared):
            match = self.topics[index].evaluate(prepared)
            if match is not None:
                results.append(match)
        return results


def matches_query(query: str, doc: MatchDoc) -> TopicMatch | None:
    """One-off: does ``doc`` match ``query`` (and why)? Parses and compiles on every call."""
    return CompiledTopic(TopicQuery("query", query)).match(prepare(doc))
