"""Text normalisation shared by matching and the archive's change detection."""

from __future__ import annotations

import re
import unicodedata

_WHITESPACE = re.compile(r"\s+")
_WORD = re.compile(r"\w+(?:[-'’]\w+)*", re.UNICODE)


def clean(text: str | None) -> str:
    """Unicode NFC, no control characters, runs of whitespace folded to one space, trimmed.

    This is what the archive hashes: two fetches that differ only in whitespace or in the
    Unicode form of an accent are the same content.
    """
    if not text:
        return ""
    text = unicodedata.normalize("NFC", text)
    text = "".join(ch if (ch.isprintable() or ch.isspace()) else " " for ch in text)
    return _WHITESPACE.sub(" ", text).strip()


def fold(text: str | None) -> str:
    """Case- and accent-insensitive form for comparisons: ``"Één  Ruïne"`` → ``"een ruine"``."""
    decomposed = unicodedata.normalize("NFKD", clean(text).casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def words(text: str | None) -> list[str]:
    """The words of ``text`` in order, as written (hyphenated compounds stay one word)."""
    return _WORD.findall(clean(text))
