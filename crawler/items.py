"""PolicyItem: exactly what a spider saw about one record, with provenance. Nothing derived."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class PolicyItem:
    """One record as a source states it.

    Required provenance: ``source`` (spider slug), ``key`` (the source's stable id for the record),
    ``url`` (where a researcher can see it), ``fetched_at`` (aware datetime).
    ``identifiers`` maps a scheme to the values the source states for it, e.g.
    ``{"kamerstuk": ["kst-36547-3"], "dossier": ["36547"], "zaak": ["2026Z21234"]}``.
    ``status`` holds facets of where the item stands (vote result, activity status); ``removed``
    says the source deleted it. ``meta["links"]``, when given, is a dict {label: URL} of other
    places to read the same document (the PDF, the publication); the digest shows them.
    """

    source: str
    key: str
    url: str
    fetched_at: datetime
    title: str = ""
    text: str = ""
    doc_type: str | None = None
    published_at: datetime | None = None
    identifiers: dict[str, list[str]] = field(default_factory=dict)
    status: dict[str, str] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    removed: bool = False
    #: What change detection compares instead of title + text, when the spider knows better
    #: (a page with dates and counters masked). None: compare title and text.
    fingerprint: str | None = None
