"""What every spider shares: the account of what failed, and readable titles."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from twisted.python.failure import Failure

#: Below this length a title is a label ("Voorstel van wet", "Memorie van antwoord") rather
#: than a description; the title of its dossier is added so it says what it is about.
SHORT_TITLE = 40


def utc_day(value: str | None) -> datetime | None:
    """A date-only fact ("2026-11-25", or the date part of a timestamp) as 00:00 UTC that day,
    the convention of every spider; None when it is not a date."""
    try:
        return datetime.combine(date.fromisoformat((value or "").strip()[:10]),
                                datetime.min.time(), UTC)
    except ValueError:
        return None


def titled(label: str, context: str) -> str:
    """``label — context`` when the label alone says too little, else the label."""
    if context and len(label) < SHORT_TITLE and context.casefold() not in label.casefold():
        return f"{label} — {context}"
    return label


class FailureAccount:
    """A spider's failures, as (url, reason), for the crawl account (StorePipeline reads them).

    ``on_error`` is the errback for requests; ``fail`` records anything else that went wrong.
    ``failure_url`` names what failed when a failure carries no request.
    """

    failures: list[tuple[str | None, str]]
    failure_url: str | None = None
    logger: Any
    name: str

    def fail(self, url: str | None, reason: str) -> None:
        source = getattr(self, "source_slug", self.name)
        self.logger.error("%s.failure source=%s url=%s reason=%s", self.name, source, url, reason)
        self.failures.append((url, reason))

    def on_error(self, failure: Failure) -> None:
        request = getattr(failure, "request", None)
        self.fail(request.url if request is not None else self.failure_url,
                  f"{failure.type.__name__}: {failure.getErrorMessage()}")
