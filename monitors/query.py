"""The query language researchers type in the search box and save as watch topics.

Grammar (operators in capitals; lower-case "or"/"and"/"not" are ordinary words)::

    query    := or_expr
    or_expr  := and_expr ("OR" and_expr)*
    and_expr := unary (["AND"] unary)*          -- juxtaposition means AND
    unary    := ("NOT" | "-") unary | primary
    primary  := "(" or_expr ")"
              | FIELD ":" value                 -- dossier:36547, procedure:2022/0155(COD)
              | '"' words '"' ["~" N]           -- exact phrase; ~N = all words within N words
              | WORD ["*" | "~" [N]]            -- prefix, or fuzzy (N = minimum score 0-100)

``parse`` returns a tree of the node classes below; a malformed query raises
``QuerySyntaxError`` with the 0-based position and what was expected there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from monitors import identifiers
from monitors.errors import QuerySyntaxError

#: Field names and what they filter on (documented for researchers in README).
FIELDS = {
    "dossier": "Kamerstukdossier (36547, 36800-VI)",
    "zaak": "Tweede Kamer zaak number (2026Z21495)",
    "kamerstuk": "Kamerstuk (kst-36547-3 or 36547-3)",
    "procedure": "EU procedure (2022/0155(COD), in any of its spellings)",
    "celex": "CELEX number (52022PC0209); COM(2022) 209 in a text counts too",
    "ecli": "ECLI of a ruling",
    "artikel": "law article (273f; 'art. 273f Sr' in a text counts)",
    "bron": "source slug (tweedekamer)",
    "soort": "document type (motie, brief regering, …)",
    "datum": "date: 2026, 2026-11, 2026-11-17, >=2026-06-01, 2026-01-01..2026-06-30",
}


class Node:
    """A query clause. ``str(node)`` is its canonical text, used in match explanations."""


@dataclass(frozen=True)
class Word(Node):
    text: str
    prefix: bool = False
    fuzzy: int | None = None  # minimum score, or 0 for "use the default table"

    def __str__(self) -> str:
        if self.prefix:
            return f"{self.text}*"
        if self.fuzzy is not None:
            return f"{self.text}~" + (str(self.fuzzy) if self.fuzzy else "")
        return self.text


@dataclass(frozen=True)
class Phrase(Node):
    words: tuple[str, ...]
    within: int | None = None  # proximity: all words within this many words, any order

    def __str__(self) -> str:
        text = '"' + " ".join(self.words) + '"'
        return text + (f"~{self.within}" if self.within is not None else "")


@dataclass(frozen=True)
class Field(Node):
    name: str
    value: str

    def __str__(self) -> str:
        value = f'"{self.value}"' if " " in self.value else self.value
        return f"{self.name}:{value}"


@dataclass(frozen=True)
class Not(Node):
    child: Node

    def __str__(self) -> str:
        return f"NOT {_group(self.child)}"


@dataclass(frozen=True)
class And(Node):
    children: tuple[Node, ...]

    def __str__(self) -> str:
        return " ".join(_group(c) for c in self.children)


@dataclass(frozen=True)
class Or(Node):
    children: tuple[Node, ...]

    def __str__(self) -> str:
        return " OR ".join(_group(c) for c in self.children)


def _group(node: Node) -> str:
    return f"({node})" if isinstance(node, (And, Or)) else str(node)


# --- lexer -----------------------------------------------------------------------------------

_OPERATORS = {"AND", "OR", "NOT"}
_WORD_CHARS = re.compile(r"[^\s()\"*~:]+")
_NUMBER = re.compile(r"\d+")


@dataclass(frozen=True)
class _Token:
    kind: str  # word | phrase | field | lparen | rparen | op | minus | star | tilde | end
    text: str
    position: int
    number: int | None = None


def _lex(query: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(query)
    while i < n:
        ch = query[i]
        if ch.isspace():
            i += 1
        elif ch == "(":
            tokens.append(_Token("lparen", ch, i))
            i += 1
        elif ch == ")":
            tokens.append(_Token("rparen", ch, i))
            i += 1
        elif ch == '"':
            end = query.find('"', i + 1)
            if end == -1:
                raise QuerySyntaxError(query, i, 'a closing quote (") for this phrase')
            tokens.append(_Token("phrase", query[i + 1:end], i))
            i = end + 1
        elif ch == "*":
            tokens.append(_Token("star", ch, i))
            i += 1
        elif ch == "~":
            match = _NUMBER.match(query, i + 1)
            tokens.append(_Token("tilde", ch, i, int(match.group()) if match else None))
            i = match.end() if match else i + 1
        elif ch == "-" and (not tokens or query[i - 1].isspace() or query[i - 1] == "("):
            tokens.append(_Token("minus", ch, i))
            i += 1
        elif ch == ":":
            raise QuerySyntaxError(query, i, "a field name before ':' (e.g. dossier:36547)")
        else:
            match = _WORD_CHARS.match(query, i)
            assert match is not None
            word = match.group()
            end = match.end()
            if end < n and query[end] == ":":
                name = word.casefold()
                if name not in FIELDS:
                    raise QuerySyntaxError(
                        query, i, f"a known field ({', '.join(FIELDS)}), not '{word}:'"
                    )
                value, end = _field_value(query, end + 1)
                if not value:
                    raise QuerySyntaxError(query, end, f"a value after '{word}:'")
                tokens.append(_Token("field", f"{name}\x00{value}", i))
                i = end
                continue
            kind = "op" if word in _OPERATORS else "word"
            tokens.append(_Token(kind, word, i))
            i = end
    tokens.append(_Token("end", "", n))
    return tokens


def _field_value(query: str, i: int) -> tuple[str, int]:
    """A field's value: a quoted string, or up to whitespace / an unbalanced ')'."""
    if i < len(query) and query[i] == '"':
        end = query.find('"', i + 1)
        if end == -1:
            raise QuerySyntaxError(query, i, 'a closing quote (") for this value')
        return query[i + 1:end].strip(), end + 1
    depth, start = 0, i
    while i < len(query) and not query[i].isspace():
        if query[i] == "(":
            depth += 1
        elif query[i] == ")":
            if depth == 0:
                break
            depth -= 1
        i += 1
    return query[start:i], i


# --- parser ----------------------------------------------------------------------------------


#: How deep parentheses and NOTs may nest: far beyond any real query, well within Python's
#: recursion limit for the parser, the matcher and the search compiler.
MAX_DEPTH = 100


class _Parser:
    def __init__(self, query: str):
        self.query = query
        self.tokens = _lex(query)
        self.i = 0
        self.depth = 0

    @property
    def current(self) -> _Token:
        return self.tokens[self.i]

    def take(self) -> _Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def fail(self, expected: str) -> QuerySyntaxError:
        return QuerySyntaxError(self.query, self.current.position, expected)

    def parse(self) -> Node:
        if self.current.kind == "end":
            raise self.fail("a word, a \"phrase\" or a field such as dossier:36547")
        node = self.or_expr()
        if self.current.kind != "end":
            if self.current.kind == "rparen":
                raise self.fail("the end of the query, or a '(' before this ')'")
            raise self.fail("the end of the query")
        return node

    def or_expr(self) -> Node:
        children = [self.and_expr()]
        while self.current.kind == "op" and self.current.text == "OR":
            self.take()
            children.append(self.and_expr())
        return children[0] if len(children) == 1 else Or(tuple(children))

    def and_expr(self) -> Node:
        children = [self.unary()]
        while True:
            token = self.current
            if token.kind == "op" and token.text == "AND":
                self.take()
                children.append(self.unary())
            elif token.kind in ("word", "phrase", "field", "lparen", "minus") or (
                token.kind == "op" and token.text == "NOT"
            ):
                children.append(self.unary())
            else:
                break
        if all(isinstance(c, Not) for c in children):
            raise QuerySyntaxError(
                self.query, self.current.position,
                "something to look for besides NOT clauses (NOT alone matches everything)",
            )
        return children[0] if len(children) == 1 else And(tuple(children))

    def unary(self) -> Node:
        token = self.current
        if self.depth >= MAX_DEPTH:
            raise self.fail(f"fewer nested parentheses or NOTs (at most {MAX_DEPTH})")
        self.depth += 1
        try:
            return self._unary(token)
        finally:
            self.depth -= 1

    def _unary(self, token: _Token) -> Node:
        if (token.kind == "op" and token.text == "NOT") or token.kind == "minus":
            self.take()
            if self.current.kind in ("end", "rparen") or (
                self.current.kind == "op" and self.current.text in ("AND", "OR")
            ):
                raise self.fail(f"a word, phrase or field after {token.text}")
            return Not(self.unary())
        return self.primary()

    def primary(self) -> Node:
        token = self.take()
        if token.kind == "lparen":
            if self.current.kind == "rparen":
                raise self.fail("something inside the parentheses")
            node = self.or_expr()
            if self.current.kind != "rparen":
                raise self.fail(f"')' to close the '(' at position {token.position + 1}")
            self.take()
            return node
        if token.kind == "field":
            name, value = token.text.split("\x00", 1)
            problem = field_value_problem(name, value)
            if problem:
                raise QuerySyntaxError(self.query, token.position + len(name) + 1, problem)
            return Field(name, value)
        if token.kind == "phrase":
            words = tuple(token.text.split())
            if not words:
                raise QuerySyntaxError(self.query, token.position, "words inside the quotes")
            within = None
            if self.current.kind == "tilde":
                tilde = self.take()
                if tilde.number is None:
                    raise QuerySyntaxError(self.query, tilde.position + 1,
                                           'a number after ~ for proximity ("a b"~5)')
                within = tilde.number
            return Phrase(words, within)
        if token.kind == "word":
            if self.current.kind == "star":
                self.take()
                return Word(token.text, prefix=True)
            if self.current.kind == "tilde":
                tilde = self.take()
                if tilde.number is not None and not 50 <= tilde.number <= 100:
                    raise QuerySyntaxError(self.query, tilde.position + 1,
                                           "a fuzzy score between 50 and 100 (e.g. uitbuiting~85)")
                return Word(token.text, fuzzy=tilde.number or 0)
            return Word(token.text)
        self.i -= 1
        if token.kind == "end":
            raise self.fail("a word, phrase or field (the query ends too early)")
        if token.kind == "op":
            raise self.fail(f"a word, phrase or field before {token.text}")
        if token.kind in ("star", "tilde"):
            raise self.fail(f"a word right before '{token.text}'")
        raise self.fail("a word, phrase or field")


def parse(query: str) -> Node:
    """Parse ``query``; raises QuerySyntaxError (with position and expectation) when malformed."""
    return _Parser(query).parse()


# --- field values ----------------------------------------------------------------------------

_DATE = re.compile(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?")


def _period(text: str) -> tuple[date, date]:
    """The first and last day of 2026, 2026-11 or 2026-11-17; ValueError otherwise."""
    match = _DATE.fullmatch(text.strip())
    if not match:
        raise ValueError(text)
    year, month, day = match.groups()
    if day:
        start = date(int(year), int(month), int(day))
        return start, start
    if month:
        start = date(int(year), int(month), 1)
        following = date(start.year + start.month // 12, start.month % 12 + 1, 1)
        return start, following - timedelta(days=1)
    return date(int(year), 1, 1), date(int(year), 12, 31)


def date_range(value: str) -> tuple[date | None, date | None]:
    """``datum:`` values as an inclusive (first, last) day range; None = open end."""
    value = value.strip()
    for op in (">=", "<=", ">", "<"):
        if value.startswith(op):
            first, last = _period(value[len(op):])
            try:
                return {
                    ">=": (first, None), ">": (last + timedelta(days=1), None),
                    "<=": (None, last), "<": (None, first - timedelta(days=1)),
                }[op]
            except OverflowError:  # >9999-12-31, <0001-01-01: no such day
                raise ValueError(value) from None
    if ".." in value:
        left, right = value.split("..", 1)
        return (_period(left)[0] if left else None, _period(right)[1] if right else None)
    return _period(value)


def field_value_problem(name: str, value: str) -> str | None:
    """None when ``value`` can be used for field ``name``, else what was expected."""
    checks = {
        "procedure": (identifiers.procedure, "an EU procedure number such as 2022/0155(COD)"),
        "celex": (identifiers.celex, "a CELEX number such as 52022PC0209"),
        "kamerstuk": (identifiers.kamerstuk, "a kamerstuk such as kst-36547-3 or 36547-3"),
        "ecli": (identifiers.ecli, "an ECLI such as ECLI:NL:HR:2024:123"),
        "artikel": (identifiers.article, "an article such as 273f or 'art. 273f Sr'"),
    }
    if name in checks:
        normalise, expected = checks[name]
        return None if normalise(value) else expected
    if name == "dossier" and not re.fullmatch(r"\d{4,6}(-[A-Za-z0-9]{1,6})?", value):
        return "a dossier number such as 36547 or 36800-VI"
    if name == "datum":
        try:
            date_range(value)
        except ValueError:
            return "a date: 2026, 2026-11, 2026-11-17, >=2026-06-01 or 2026-01-01..2026-06-30"
    return None
