"""What every spider shares: the account of what failed, readable titles, and telling what a
response body is (``sniff``) and whether it is an answer at all (``unusable_answer``)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

import lxml.html
from scrapy.exceptions import IgnoreRequest, ResponseDataLossError
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
    if isinstance(value, (dict, list)) and "\\x00" not in repr(value):
        # repr shows every NUL as \x00 (a literal "\x00" only makes this walk for nothing):
        # one pass in C instead of a copy of every dict and list of a row, for the common case.
        return value
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
    if isinstance(error, UnusableAnswer):
        return str(error)
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


# --- what a body is, whatever its Content-Type says ------------------------------------------

#: The first bytes the sniffer reads, as the WHATWG MIME Sniffing standard's resource header.
SNIFF_BYTES = 1445
#: A tag an HTML document may begin with (WHATWG MIME Sniffing §7.1, "identifying a resource
#: with an unknown MIME type"), followed by a tag-terminating character.
_HTML_TAG = re.compile(rb"<(?:!doctype\s+html|html|head|body|script|iframe|h1|div|font|table|"
                       rb"a|style|title|b|br|p)[\s>/]", re.IGNORECASE)
_LEADING_JUNK = re.compile(rb"\A(?:\s+|<!--.*?-->|<\?xml[^>]*\?>)+", re.DOTALL)
#: Signatures of binary formats a server may send instead of a page.
_BINARY_SIGNATURES = (b"%PDF-", b"PK\x03\x04", b"\x89PNG", b"GIF8", b"\xff\xd8\xff",
                      b"\x1f\x8b", b"\xd0\xcf\x11\xe0")
#: "Binary data bytes" (WHATWG MIME Sniffing §3): never in text.
_BINARY_BYTES = re.compile(rb"[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f]")


def sniff(body: bytes) -> str:
    """What a body is by its first bytes: ``empty``, ``html``, ``xml``, ``json``, ``binary`` or
    ``text``. HTML is recognised as browsers do (a doctype or one of the usual first tags, after
    whitespace, comments and an XML declaration), so a page labelled
    ``application/octet-stream`` is still a page and a PDF labelled ``text/html`` is not."""
    head = body[:SNIFF_BYTES]
    if head.startswith((b"\xfe\xff", b"\xff\xfe")):
        return "text"  # UTF-16: its ASCII has NUL bytes, but it is text
    head = head.removeprefix(b"\xef\xbb\xbf")
    if not head.strip():
        return "empty"
    if head.startswith(_BINARY_SIGNATURES):
        return "binary"
    # As the standard does: what starts like markup is markup, even with a stray control byte.
    start = _LEADING_JUNK.sub(b"", head, count=1)
    if _HTML_TAG.match(start):
        return "html"
    if start[:1] == b"<":
        return "xml"
    if _BINARY_BYTES.search(head):
        return "binary"
    if start[:1] in (b"{", b"["):
        return "json"
    return "text"


_KINDS = {"html": "HTML", "xml": "XML", "json": "JSON", "binary": "binary data",
          "text": "plain text"}


def body_described(body: bytes) -> str:
    """What a body is, for a failure reason: "the body is binary data (%PDF-1.7 …)"."""
    kind = sniff(body)
    if kind == "empty":
        return "the body is empty"
    start = body.lstrip()[:16]
    shown = repr(start)[2:-1] if kind == "binary" else " ".join(
        start.decode("utf-8", "replace").split())
    return f"the body is {_KINDS[kind]} ({shown}…)"


# --- answers that are no answer: empty bodies and maintenance notices -------------------------

#: A maintenance notice is short: a page with more readable text than this is content.
NOTICE_MAX_TEXT = 1500
#: Larger bodies are not read for a notice at all.
NOTICE_MAX_BYTES = 256 * 1024
#: What a notice says: the site or service cannot be used now (Dutch and English).
_UNAVAILABLE = re.compile(
    r"\b(?:(?:tijdelijk|momenteel|op dit moment|even)\s+)?niet\s+(?:beschikbaar|bereikbaar)\b|"
    r"\bbuiten gebruik\b|\bprobeer het (?:later|straks)\b|\bwe zijn (?:zo|straks|snel)\s+"
    r"(?:weer\s+)?terug\b|\bw(?:ij|e) zijn even weg\b|"
    r"\b(?:temporarily|currently)\s+(?:unavailable|down|offline)\b|\btry again later\b|"
    r"\b(?:we[’']ll|we will)\s+be\s+back\b|\bbe\s+(?:right\s+)?back\s+(?:soon|shortly)\b|"
    r"\b(?:under|down for)\s+maintenance\b", re.IGNORECASE)
#: Why: maintenance or an outage.
_MAINTENANCE = re.compile(r"\bonderhoud|\bmaintenance\b|\bstoring\b|\boutage\b|"
                          r"\bwerkzaamheden\b", re.IGNORECASE)
#: Where one sentence ends and the next begins ("18.00 uur" is no end).
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-ZÀ-Ý0-9\"'(])")
_XML_DECLARATION = re.compile(r"\A\s*<\?xml[^>]*\?>")


def maintenance_notice(response: Response) -> str | None:
    """The sentence that makes an HTML answer a maintenance (or outage) notice, or None.

    A notice is short (at most NOTICE_MAX_TEXT characters of readable text), says the site or
    service cannot be used now ("tijdelijk niet beschikbaar", "probeer het later opnieuw",
    "temporarily unavailable", "under maintenance"…) and either gives maintenance or an outage
    as the reason or says so in its title or a heading. A short page that only mentions
    maintenance ("wegens onderhoud afgesloten") is content, not a notice."""
    body = response.body
    if len(body) > NOTICE_MAX_BYTES or sniff(body) != "html":
        return None
    text = getattr(response, "text", None)
    if not isinstance(text, str):
        text = body.decode("utf-8", "replace")
    text = _XML_DECLARATION.sub("", text, count=1)  # lxml refuses it in a str
    try:
        document = lxml.html.fromstring(xml_safe(text))
    except (lxml.etree.ParserError, ValueError):
        return None
    for element in document.xpath("//script|//style|//noscript|//template"):
        if element.getparent() is not None:
            element.drop_tree()
    body_element = document.find("body")
    pieces = [" ".join(piece.split()) for piece in
              (document if body_element is None else body_element).itertext()]
    readable = " ".join(piece for piece in pieces if piece)
    if not readable or len(readable) > NOTICE_MAX_TEXT:
        return None
    headings = " ".join(" ".join(" ".join(e.itertext()).split())
                        for e in document.xpath("//title|//h1|//h2|//h3"))
    said = _UNAVAILABLE.search(readable) or _UNAVAILABLE.search(headings)
    if said is None:
        return None
    if not (_MAINTENANCE.search(readable) or _MAINTENANCE.search(headings)
            or _UNAVAILABLE.search(headings)):
        return None
    saying = [p for p in [*pieces, headings] if _UNAVAILABLE.search(p)]
    where = next((piece for piece in saying if _MAINTENANCE.search(piece)), saying[0])
    sentence = next((s.strip() for s in _SENTENCE_END.split(where)
                     if _UNAVAILABLE.search(s)), said.group(0))
    return sentence if len(sentence) <= 120 else sentence[:119] + "…"


def unusable_answer(response: Response) -> str | None:
    """Why a successful (2xx) answer carries no content at all, or None: an empty body, or an
    HTML maintenance notice in place of what was asked. Such an answer is a failure of the
    request (``UnusableAnswer``), never a partial success: nothing in it may be archived."""
    if not 200 <= response.status < 300:
        return None
    if not response.body.strip():
        return f"empty answer: HTTP {response.status} without a body"
    sentence = maintenance_notice(response)
    if sentence is not None:
        return f'the page is a maintenance notice, not the content: "{sentence}"'
    return None


#: The stat counting a run's 2xx answers that were no answer (StorePipeline subtracts them from
#: the answers that came back when it decides between ``partial`` and ``failed``).
UNUSABLE_STAT = "watch/answers/unusable"


def count_unusable(response: Response, stats: Any) -> None:
    """Count ``response`` as no answer in the crawl's ``stats`` (once per response)."""
    try:
        meta = response.meta
    except AttributeError:  # a response built without a request (tests)
        meta = {}
    if meta.get("watch_unusable"):
        return
    meta["watch_unusable"] = True
    if stats is not None:
        stats.inc_value(UNUSABLE_STAT)


class UnusableAnswer(IgnoreRequest):
    """A 2xx answer without content (``unusable_answer``); the request's errback hears it."""

    def __init__(self, response: Response, reason: str):
        super().__init__(reason)
        self.response = response


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

    def refuse(self, response: Response, reason: str) -> None:
        """Record that a 2xx ``response`` was no answer at all (an overview that lists nothing
        where something is always listed): a failure, and the response does not count as one
        that came back, so a run that got only such answers is ``failed``, not ``partial``."""
        self.fail(response.url, reason)
        crawler = getattr(self, "crawler", None)
        count_unusable(response, crawler.stats if crawler is not None else None)

    def on_error(self, failure: Failure) -> None:
        request = getattr(failure, "request", None)
        self.fail(request.url if request is not None else self.failure_url,
                  failure_reason(failure))
