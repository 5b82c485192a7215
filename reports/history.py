"""A document's history for researchers: its records, versions, events and word-level diffs."""

from __future__ import annotations

import difflib

from monitors.text import words


def word_diff(before: str, after: str) -> list[tuple[str, str]]:
    """The change from ``before`` to ``after`` as (op, text) runs: op is '=', '-' or '+'."""
    a, b = words(before), words(after)
    runs: list[tuple[str, str]] = []
    for op, a0, a1, b0, b1 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "equal":
            runs.append(("=", " ".join(a[a0:a1])))
            continue
        if a1 > a0:
            runs.append(("-", " ".join(a[a0:a1])))
        if b1 > b0:
            runs.append(("+", " ".join(b[b0:b1])))
    return runs


def diff_text(runs: list[tuple[str, str]], context: int = 8) -> str:
    """Plain text: removed words as [-…-], added as {+…+}, long unchanged runs shortened."""
    parts = []
    for op, text in runs:
        if op == "=":
            tokens = text.split()
            if len(tokens) > 2 * context:
                text = " ".join(tokens[:context]) + " … " + " ".join(tokens[-context:])
            parts.append(text)
        elif op == "-":
            parts.append(f"[-{text}-]")
        else:
            parts.append(f"{{+{text}+}}")
    return " ".join(parts)
