"""A document's history for researchers: its records, versions, events and word-level diffs."""

from __future__ import annotations

from monitors.text import clean, word_runs


def word_diff(before: str, after: str) -> list[tuple[str, str]]:
    """The change from ``before`` to ``after`` as (op, text) runs: op is '=', '-' or '+'.

    Compared word by word as written (punctuation stays with its word), so what a researcher
    reads is the text itself, not its tokens."""
    return [(op, " ".join(run)) for op, run in
            word_runs(clean(before).split(), clean(after).split())]


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
