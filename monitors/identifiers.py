"""Identifiers in canonical form, from fields and from running text.

One spelling per thing, so that a query, an item's identifiers and a mention in a text meet:

- EU procedure: ``2022/0155(COD)``, ``2022-0155``, ``2022/0155/COD``, ``procedure/2022_155``
  → ``2022/0155(COD)`` (the type defaults to COD when a spelling leaves it out);
- law article: "art. 273f Sr", "artikel 273f van het Wetboek van Strafrecht", "273f WvSr",
  "BWBR0001854/273f" → ``273f``;
- CELEX: ``52022PC0209``; "COM(2022) 209" in a text → ``52022PC0209``;
- kamerstuk: ``kst-36547-3``, "36547-3", "Kamerstukken II 2023/24, 36547, nr. 3" → ``kst-36547-3``;
- ECLI: ``ECLI:NL:HR:2024:123`` (upper case).
"""

from __future__ import annotations

import re
from functools import lru_cache

_PROCEDURE = re.compile(
    r"\b(?:procedure/)?((?:19|20)\d{2})\s*[/_-]\s*(\d{1,4})(?:\s*[(/]\s*([A-Z]{3})\s*\)?)?",
    re.IGNORECASE,
)
#: In running text only the unambiguous spelling counts: 2022/0155(COD) or 2022/0155/COD.
_PROCEDURE_IN_TEXT = re.compile(r"\b((?:19|20)\d{2})/(\d{4})\s*[(/]\s*(COD|CNS|NLE|APP|INI|RSP|BUD|DEC)\)?")
_CELEX = re.compile(r"\b([0-9CE]\d{4}[A-Z]{1,2}\d{4}(?:\(\d{2}\))?)\b")
_COM = re.compile(r"\bCOM\s*\(\s*((?:19|20)\d{2})\s*\)\s*(\d{1,4})\b", re.IGNORECASE)
_ECLI = re.compile(r"\bECLI:[A-Z]{2}:[A-Z0-9]{1,7}:\d{4}:[A-Z0-9.]{1,25}", re.IGNORECASE)
_KST = re.compile(r"\bkst-(\d{5})(?:-([A-Z]{1,5}))?-(\d+|[A-Z]{1,2})\b", re.IGNORECASE)

# Article references. The article number: digits with an optional letter suffix (273f, 248a).
_ARTICLE_NUMBER = r"(\d{1,4}[a-z]{0,2})"
_CODE = (
    r"(?:Sr|WvSr|Wetboek\s+van\s+Strafrecht|Sv|WvSv|Wetboek\s+van\s+Strafvordering|"
    r"BW|Burgerlijk\s+Wetboek)"
)
_ARTICLE_PATTERNS = [
    # "art. 273f Sr", "artikel 273f van het Wetboek van Strafrecht", "artikelen 273f en 273g Sr"
    re.compile(
        r"\bart(?:ikel(?:en)?|\.)?\s*" + _ARTICLE_NUMBER
        + r"(?:\s*(?:,|en|of)\s*\d{1,4}[a-z]{0,2})*"
        + r"(?:\s*(?:,\s*)?(?:lid|eerste|tweede|derde)[^,.;]{0,30}?)?"
        + r"\s*,?\s*(?:van\s+het\s+|\()?\s*" + _CODE,
        re.IGNORECASE,
    ),
    # "273f WvSr", "273f Sr"
    re.compile(r"\b" + _ARTICLE_NUMBER + r"\s+(?:Sr|WvSr|Sv|WvSv)\b"),
    # rechtspraak law references: BWBR0001854/273f, jci1.31:c:BWBR0001854&artikel=273f
    re.compile(r"BWBR\d{7}(?:/|&artikel=)" + _ARTICLE_NUMBER, re.IGNORECASE),
]


def procedure(value: str) -> str | None:
    """Canonical EU procedure number, or None when ``value`` is not one."""
    match = _PROCEDURE.search(value.strip())
    if not match:
        return None
    year, number, kind = match.groups()
    return f"{year}/{int(number):04d}({(kind or 'COD').upper()})"


def article(value: str) -> str | None:
    """Canonical article number ("273f") from a field value or a single reference."""
    value = value.strip()
    if re.fullmatch(_ARTICLE_NUMBER, value, re.IGNORECASE):
        return value.lower()
    found = articles_in(value)
    return found[0] if found else None


def articles_in(text: str) -> list[str]:
    """Every article number referred to in ``text``, canonical, in order of first mention."""
    found: dict[str, None] = {}
    for pattern in _ARTICLE_PATTERNS:
        for match in pattern.finditer(text):
            found.setdefault(match.group(1).lower(), None)
    return list(found)


def celex(value: str) -> str | None:
    value = re.sub(r"</?em>", "", value.strip(), flags=re.IGNORECASE)
    com = _COM.search(value)
    if com:
        return f"5{com.group(1)}PC{int(com.group(2)):04d}"
    match = _CELEX.search(value.upper())
    return match.group(1) if match else None


@lru_cache(maxsize=100_000)
def kamerstuk(value: str) -> str | None:
    value = value.strip()
    match = _KST.search(value)
    if match:
        dossier, toevoeging, number = match.groups()
        middle = f"-{toevoeging.upper()}" if toevoeging else ""
        return f"kst-{dossier}{middle}-{number.upper() if number.isalpha() else number}"
    plain = re.fullmatch(r"(\d{5})(?:-([A-Z]{1,5}))?-(\d+|[A-Z]{1,2})", value, re.IGNORECASE)
    if plain:
        return kamerstuk("kst-" + value)
    return None


def ecli(value: str) -> str | None:
    match = _ECLI.search(value)
    return match.group().upper() if match else None


_CELEX_HINT = re.compile(r"\d{4}[A-Z]{1,2}\d{4}")
_ARTICLE_HINT = re.compile(r"\bart|bwbr|\bw?v?s[rv]\b")


def mentions(text: str) -> dict[str, set[str]]:
    """Identifiers mentioned in running text, by scheme (procedure, celex, ecli, artikel, kamerstuk).

    Each pattern runs only when a cheap substring test says it could find something: this
    runs for every item against every topic set.
    """
    lowered = text.lower()
    found: dict[str, set[str]] = {}
    if "/" in text:
        procedures = {f"{m.group(1)}/{m.group(2)}({m.group(3).upper()})"
                      for m in _PROCEDURE_IN_TEXT.finditer(text)}
        if procedures:
            found["procedure"] = procedures
    celexes = set()
    if "com" in lowered:
        celexes |= {f"5{m.group(1)}PC{int(m.group(2)):04d}" for m in _COM.finditer(text)}
    if _CELEX_HINT.search(text):
        celexes |= {m.group(1) for m in _CELEX.finditer(text)}
    if celexes:
        found["celex"] = celexes
    if "ecli" in lowered:
        found["ecli"] = {m.group().upper() for m in _ECLI.finditer(text)}
    if _ARTICLE_HINT.search(lowered):
        articles = set(articles_in(text))
        if articles:
            found["artikel"] = articles
    if "kst-" in lowered:
        found["kamerstuk"] = {k for m in _KST.finditer(text) if (k := kamerstuk(m.group()))}
    return {scheme: values for scheme, values in found.items() if values}
