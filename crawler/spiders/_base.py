"""What every spider shares: the account of what failed, and readable titles."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

from scrapy.exceptions import ResponseDataLossError
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.response import response_status_message
from twisted.python.failure import Failure

from crawler.items import PolicyItem
from monitors import identifiers as ids

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


#: Identifier schemes with one canonical spelling: a value is stored in that spelling.
CANONICAL = {
    "kamerstuk": ids.kamerstuk, "verwijzing": ids.kamerstuk, "celex": ids.celex,
    "ecli": ids.ecli, "eli": ids.eli, "procedure": ids.procedure,
    "ep_document": ids.ep_document, "rvs_kenmerk": ids.rvs_kenmerk, "artikel": ids.article,
}


#: Characters XML cannot hold: lxml parses them out of HTML but refuses them when a tree is
#: changed (drop_tree, make_links_absolute), so pages are cleared of them before parsing.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def xml_safe(text: str) -> str:
    """``text`` without the characters an XML tree cannot hold (each becomes a space)."""
    return _NOT_XML.sub(" ", text)


def web_address(value: Any) -> str:
    """``value`` when it is an http(s) URL, else "" (a source's link field can hold anything)."""
    if isinstance(value, str) and value.strip().lower().startswith(("http://", "https://")):
        return value.strip()
    return ""


def _without_nul(value: Any) -> Any:
    """``value`` with NUL characters removed from every string in it (PostgreSQL refuses them
    in text and JSONB; no source means anything by one)."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {_without_nul(k): _without_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_nul(v) for v in value]
    return value


def well_formed(item: PolicyItem) -> PolicyItem:
    """The item as the archive can take it, or ValueError saying which field is wrong.

    For spiders reading JSON, where a field can hold any type when a source changes its format:
    text fields must be text, timestamps aware, identifier values text (canonical where the
    scheme has one spelling), status facets text. NUL characters are dropped."""
    for name in ("source", "key", "url", "title", "text"):
        if not isinstance(getattr(item, name), str):
            raise ValueError(f"{name} is {type(getattr(item, name)).__name__}, not text")
        setattr(item, name, _without_nul(getattr(item, name)))
    if not item.key or not item.url:
        raise ValueError("no key or url")
    if item.doc_type is not None and not isinstance(item.doc_type, str):
        raise ValueError(f"doc_type is {type(item.doc_type).__name__}, not text")
    for name in ("fetched_at", "published_at"):
        value = getattr(item, name)
        if value is not None and (not isinstance(value, datetime) or value.tzinfo is None):
            raise ValueError(f"{name} {value!r} is not an aware datetime")
    identifiers: dict[str, list[str]] = {}
    for scheme, values in item.identifiers.items():
        for value in values:
            if not isinstance(value, str):
                raise ValueError(f"identifier {scheme} is {type(value).__name__}, not text")
            value = _without_nul(value).strip()
            if scheme in CANONICAL and value:
                canonical = CANONICAL[scheme](value)
                if canonical is None:
                    raise ValueError(f"identifier {scheme} {value!r} is not one")
                value = canonical
            if value and value not in identifiers.setdefault(scheme, []):
                identifiers[scheme].append(value)
    item.identifiers = {scheme: values for scheme, values in identifiers.items() if values}
    for facet, value in item.status.items():
        if not isinstance(value, str):
            raise ValueError(f"status {facet} is {type(value).__name__}, not text")
    item.status = _without_nul(item.status)
    item.meta = _without_nul(item.meta)
    if item.doc_type is not None:
        item.doc_type = _without_nul(item.doc_type)
    return item


def failure_reason(failure: Failure) -> str:
    """A failed request as the crawl account states it: the HTTP status of an error answer
    (``HTTP 503 Service Unavailable``), else the exception and its message, never an empty one."""
    error = failure.value
    if isinstance(error, HttpError) and getattr(error, "response", None) is not None:
        reason = f"HTTP {response_status_message(error.response.status)}"
        retry_after = error.response.headers.get(b"Retry-After")
        if retry_after:
            reason += f" (Retry-After: {retry_after.decode('latin-1')})"
        return reason
    if isinstance(error, ResponseDataLossError):
        return ("ResponseDataLossError: the connection closed before the body reached its "
                "announced length")
    inner = getattr(getattr(error, "__cause__", None), "reasons", None)  # twisted ResponseFailed
    if inner:
        return f"{failure.type.__name__}: " + "; ".join(
            f"{f.type.__name__}: {f.getErrorMessage()}" for f in inner if hasattr(f, "type"))
    message = failure.getErrorMessage().strip()
    if not message:
        doc = (type(error).__doc__ or "").strip().splitlines()
        message = doc[0] if doc else "no message"
    return f"{failure.type.__name__}: {message}"


def cut_off(response: Response) -> str | None:
    """Why an HTML page looks cut off in transit (it starts but never closes its document), or
    None. A page served half with an honest Content-Length parses fine and would be archived
    as a shorter version; the spiders refuse it instead. Pages that leave out both </body> and
    </html> (allowed, rare) would be refused too, with this reason in the account."""
    body = response.body
    if b"<html" not in body[:4096].lower():
        return None
    tail = body.rstrip()[-4096:].lower()
    if b"</html>" in tail or b"</body>" in tail:
        return None
    return "the page stops before </body></html>: cut off in transit?"


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
                  failure_reason(failure))
