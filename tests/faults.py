"""Fault injection for the crawl: a loopback web that answers like the recorded sources, and
breaks the way real servers do.

``FaultyWeb`` serves recordings (crawler/replay.py layout) over real HTTP: one server per
recorded host, each on its own loopback port, so a spider's relative links, redirects and
paging stay on "its" host. Absolute links to a served origin inside bodies and ``Location``
headers are rewritten to its loopback address. A ``Fault`` set on the web changes how it
answers: server errors, 429 with Retry-After, stalls past the client's timeout, connection
resets, truncated, empty, huge or malformed bodies, wrong content types and charsets, redirect
loops, and a changed format. ``canonical_dump`` reads an archive as comparable data (natural
keys, no row ids or wall-clock times), so two archives can be compared for equality.

``python -m tests.faults crawl`` is the crawl process the tests start: ``run_jobs`` with the
settings given as JSON, so a test can point every source at the loopback web and shorten
timeouts without touching the environment of other tests.
"""

from __future__ import annotations

import gzip
import json
import re
import socket
import struct
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select

from crawler.replay import read_manifest, read_response, write_response
from storage.db import make_engine, session_factory
from storage.models import (
    ChangeEvent, Document, Identifier, Match, Record, Source, Topic, Version,
)

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "crawler" / "recordings" / "demo"
FIXTURES = Path(__file__).resolve().parent / "fixtures"

# --- the archive as comparable data -----------------------------------------------------------


def _plain(value: Any, replace: dict[str, str]) -> Any:
    """JSON-comparable form of a column value, with loopback addresses put back to origins."""
    if isinstance(value, str):
        for base, origin in replace.items():
            value = value.replace(base, origin)
        return value
    if isinstance(value, dict):
        return {str(k): _plain(v, replace) for k, v in sorted(value.items())}
    if isinstance(value, (list, tuple)):
        return [_plain(v, replace) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def canonical_dump(url: str, *, replace: dict[str, str] | None = None,
                   sources: set[str] | None = None) -> dict[str, list[Any]]:
    """The archive's content by natural keys: sources and cursors, documents, records,
    identifiers, versions, change events and matches, sorted. Row ids, crawl-run links and the
    wall-clock times of fetching are left out (the times the archive *records*, the crawl's
    clock, are in); ``replace`` maps loopback base URLs back to the origins they stand for.
    ``sources`` limits the dump to the records of those source slugs."""
    replace = replace or {}
    engine = make_engine(url)
    try:
        with session_factory(engine)() as session:
            slugs = dict(session.execute(select(Source.id, Source.slug)).all())
            records = {r.id: r for r in session.scalars(select(Record))}
            keep = {rid for rid, r in records.items()
                    if sources is None or slugs[r.source_id] in sources}
            rkey = {rid: f"{slugs[r.source_id]}:{r.key}" for rid, r in records.items()}
            members: dict[int, list[str]] = {}
            for rid, r in records.items():
                members.setdefault(r.document_id, []).append(rkey[rid])
            documents = {d.id: d for d in session.scalars(select(Document))}
            kept_documents = {records[rid].document_id for rid in keep}

            def dkey(document_id: int | None) -> str | None:
                if document_id is None:
                    return None
                names = members.get(document_id)
                if names:
                    return " + ".join(sorted(names))
                target = documents[document_id].merged_into
                return f"merged into {dkey(target)}" if target else "empty document"

            versions = {v.id: v for v in session.scalars(select(Version))}
            vkey = {vid: f"{rkey[v.record_id]}#{v.number}" for vid, v in versions.items()}
            topics = dict(session.execute(select(Topic.id, Topic.slug)).all())
            out: dict[str, list[Any]] = {}
            out["sources"] = sorted(
                [s.slug, s.kind, s.url, _plain(s.cursor, replace), _plain(s.config, replace),
                 s.active]
                for s in session.scalars(select(Source))
                if sources is None or s.slug in sources)
            out["documents"] = sorted(
                [dkey(d.id), d.title, d.doc_type, _plain(d.published_at, {}),
                 _plain(d.first_seen_at, {}), _plain(d.last_changed_at, {}),
                 _plain(d.removed_at, {}), dkey(d.merged_into)]
                for d in documents.values()
                if sources is None or d.id in kept_documents)
            out["records"] = sorted(
                [rkey[rid], dkey(r.document_id), _plain(r.url, replace), r.title, r.doc_type,
                 r.content_hash, _plain(r.status, replace), _plain(r.first_seen_at, {}),
                 _plain(r.last_seen_at, {}), _plain(r.removed_at, {}),
                 _plain(r.scheduled_at, {}), _plain(r.joined_by, replace)]
                for rid, r in records.items() if rid in keep)
            out["identifiers"] = sorted(
                [rkey[i.record_id], dkey(i.document_id), i.scheme, _plain(i.value, replace)]
                for i in session.scalars(select(Identifier)) if i.record_id in keep)
            out["versions"] = sorted(
                [vkey[v.id], dkey(v.document_id), _plain(v.title, replace),
                 _plain(v.text, replace), v.doc_type, _plain(v.published_at, {}),
                 _plain(v.meta, replace)]
                for v in versions.values() if v.record_id in keep)
            out["events"] = sorted(
                [rkey[e.record_id], dkey(e.document_id), e.kind,
                 vkey.get(e.version_id) if e.version_id else None, _plain(e.detected_at, {}),
                 _plain(e.detail, replace)]
                for e in session.scalars(select(ChangeEvent)) if e.record_id in keep)
            out["matches"] = sorted(
                [topics[m.topic_id], dkey(m.document_id), vkey[m.version_id], m.strength,
                 _plain(m.reason, replace)]
                for m in session.scalars(select(Match)) if versions[m.version_id].record_id
                in keep)
            return json.loads(json.dumps(out, sort_keys=True, default=str))
    finally:
        engine.dispose()


def dump_difference(left: dict[str, list[Any]], right: dict[str, list[Any]],
                    limit: int = 6) -> str:
    """What differs between two dumps, readable in an assertion message."""
    lines = []
    for table in sorted(set(left) | set(right)):
        a = {json.dumps(row, sort_keys=True) for row in left.get(table, [])}
        b = {json.dumps(row, sort_keys=True) for row in right.get(table, [])}
        extra_a = sorted(a - b)[:limit]
        extra_b = sorted(b - a)[:limit]
        counts_a = len(left.get(table, []))
        counts_b = len(right.get(table, []))
        if extra_a or extra_b or counts_a != counts_b:
            lines.append(f"{table}: {counts_a} rows vs {counts_b}")
            lines += [f"  only left:  {row[:400]}" for row in extra_a]
            lines += [f"  only right: {row[:400]}" for row in extra_b]
    return "\n".join(lines) or "no difference"


# --- faults -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fault:
    """One way a server misbehaves, applied to every content request of the faulted hosts.

    ``times``: each URL is answered badly this many times, then normally (a burst the
    crawler's retries should ride out); None: every time (a source that stays broken).
    ``first_only``: only the first content request of each host is affected.
    ``settings``: crawl settings the scenario needs (a short DOWNLOAD_TIMEOUT, …).
    ``recovers``: every faulted source must end ``ok`` with exactly the clean archive; else
    each may fail, but must say why, and must not store anything a clean crawl would not.
    """

    name: str
    what: str
    kind: str
    times: int | None = None
    first_only: bool = False
    #: For kind "status": the statuses answered, in turn, per URL.
    statuses: tuple[int, ...] = (503,)
    settings: dict[str, Any] = field(default_factory=dict)
    recovers: bool = False


#: Short timeouts for the timeout scenarios; a stalled answer waits longer than this.
TIMEOUT = 1.0
STALL = 4.0

FAULTS = [
    Fault("http-5xx-burst", "HTTP 500, then 502, then 503 for each URL, then the right answer "
          "(RETRY_TIMES is 3)", "status", times=3, statuses=(500, 502, 503), recovers=True),
    Fault("http-503-down", "HTTP 503 on every request (the source is down)", "status"),
    Fault("http-429-retry-after", "HTTP 429 with Retry-After: 2 for every request to the host "
          "in the next 2 s (a rate limiter: asking again sooner is refused again)",
          "rate-limit", recovers=True),
    Fault("timeout-once", f"The first answer per URL stalls past DOWNLOAD_TIMEOUT "
          f"({TIMEOUT:g} s), then the right answer", "stall", times=1,
          settings={"DOWNLOAD_TIMEOUT": TIMEOUT}, recovers=True),
    Fault("timeout-always", f"Every answer stalls past DOWNLOAD_TIMEOUT ({TIMEOUT:g} s)",
          "stall", settings={"DOWNLOAD_TIMEOUT": TIMEOUT, "RETRY_TIMES": 1}),
    Fault("reset-once", "The connection is reset (TCP RST, no answer) once per URL",
          "reset", times=1, recovers=True),
    Fault("reset-always", "Every connection is reset", "reset"),
    Fault("truncated-once", "The body stops halfway through its Content-Length, once per URL",
          "truncate", times=1, recovers=True),
    Fault("truncated-always", "Every body stops halfway through its Content-Length",
          "truncate"),
    Fault("empty-body", "HTTP 200 with an empty body", "empty"),
    Fault("maintenance-page", "HTTP 200 with an HTML maintenance page instead of the content",
          "maintenance"),
    Fault("content-type-octet-stream", "The right body, labelled application/octet-stream",
          "octet-stream"),
    Fault("malformed", "The body is cut in half with an honest Content-Length "
          "(JSON and XML no longer parse; HTML loses its second half)", "malformed"),
    Fault("charset-missing", "Content-Type without a charset", "charset-missing",
          recovers=True),
    Fault("charset-wrong", "UTF-8 body labelled charset=iso-8859-1", "charset-wrong"),
    Fault("huge-20mb", "The first answer per host is 20 MB (the content plus whitespace): over "
          "DOWNLOAD_WARNSIZE, under DOWNLOAD_MAXSIZE", "huge", first_only=True, recovers=True),
    Fault("huge-over-maxsize", "The same 20 MB answer with DOWNLOAD_MAXSIZE at 16 MB",
          "huge", first_only=True, settings={"DOWNLOAD_MAXSIZE": 16 * 1024 * 1024}),
    Fault("redirect-loop", "Every URL redirects (302) to another that redirects back",
          "redirect-loop"),
    Fault("format-changed", "The source changed its format: JSON wrapped in a new envelope, "
          "XML inside a new root element, HTML without its class and id attributes",
          "format-change"),
]
FAULT_NAMES = {fault.name: fault for fault in FAULTS}

MAINTENANCE_PAGE = (b"<!DOCTYPE html><html><head><title>Onderhoud</title></head><body>"
                    b"<h1>Wij zijn even weg</h1><p>Vanwege onderhoud is deze dienst tijdelijk "
                    b"niet beschikbaar. Probeer het later opnieuw.</p></body></html>")
HUGE = 20 * 1024 * 1024


def body_format(headers: dict[str, list[str]], body: bytes) -> str:
    """json | xml | html, from the Content-Type or else the body's first character."""
    content_type = " ".join(v for k, vs in headers.items() if k.lower() == "content-type"
                            for v in vs).lower()
    if "json" in content_type:
        return "json"
    if "html" in content_type:
        return "html"
    if "xml" in content_type or "rss" in content_type or "atom" in content_type:
        return "xml"
    head = body.lstrip()[:5]
    if head[:1] in (b"{", b"["):
        return "json"
    if head.startswith(b"<?xml"):
        return "xml"
    return "html"


def changed_format(headers: dict[str, list[str]], body: bytes) -> bytes:
    """The body as it would look after a format change of the source."""
    kind = body_format(headers, body)
    if kind == "json":
        return b'{"apiVersion": "3.0", "data": ' + body + b"}"
    if kind == "xml":
        text = re.sub(rb"^\s*<\?xml[^>]*\?>", b"", body)
        return (b'<?xml version="1.0" encoding="UTF-8"?>\n<response version="2">' + text
                + b"</response>")
    return re.sub(rb"""\s(?:class|id)\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]+)""", b"", body)


def padded(headers: dict[str, list[str]], body: bytes) -> bytes:
    """The body made exactly HUGE bytes long without changing what it says: whitespace lines
    after JSON and HTML, comment lines after XML (a parser keeps each line a node of its own,
    as a big answer made of many records would be)."""
    line = b"<!-- opvulling -->\n" if body_format(headers, body) == "xml" else b" " * 99 + b"\n"
    room = HUGE - len(body)
    return body + line * (room // len(line)) + b" " * (room % len(line))


def _set_header(headers: dict[str, list[str]], name: str, value: str | None) -> None:
    for key in [k for k in headers if k.lower() == name.lower()]:
        del headers[key]
    if value is not None:
        headers[name] = [value]


def _content_type(headers: dict[str, list[str]]) -> str:
    return next((vs[0] for k, vs in headers.items() if k.lower() == "content-type" and vs), "")


# --- the loopback web -------------------------------------------------------------------------


class FaultyWeb:
    """Every host of the recordings served on its own loopback port, with an optional fault.

    ``recordings`` are searched in order for each request (the first that has it answers).
    ``fault`` and ``faulted_hosts`` (None: every host except ``spared``) may be changed
    between crawls; ``served_faults`` counts the faulty answers per host.
    """

    def __init__(self, recordings: list[Path], *, spared: set[str] | None = None):
        self.recordings = recordings
        hosts = sorted({p.name for r in recordings for p in (r / "responses").iterdir()
                        if p.is_dir()})
        self.origins = {host: f"https://{host}" for host in hosts}
        self.spared = set(spared or ())
        self.fault: Fault | None = None
        self.faulted_hosts: set[str] | None = None
        self.served_faults: dict[str, int] = {}
        self.requests: list[tuple[str, str, str]] = []
        self._seen: dict[tuple[str, str, str, bytes], int] = {}
        self._hosts_started: set[str] = set()
        self._blocked_until: dict[str, float] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.held_hosts: set[str] = set()
        #: Set when a request to a held host has arrived (and waits for ``release``).
        self.holding = threading.Event()
        self._release = threading.Event()
        self.servers: dict[str, ThreadingHTTPServer] = {}
        self.bases: dict[str, str] = {}

    # addresses

    def base(self, host: str) -> str:
        return self.bases[host]

    @property
    def replace(self) -> dict[str, str]:
        """Loopback base → origin, to read an archive as if it had been crawled from the web."""
        return {base: self.origins[host] for host, base in self.bases.items()}

    def set_fault(self, fault: Fault | None, hosts: set[str] | None = None) -> None:
        with self._lock:
            self.fault, self.faulted_hosts = fault, hosts
            self.served_faults = {}
            self._seen.clear()
            self._hosts_started.clear()
            self._blocked_until.clear()

    def hold(self, hosts: set[str]) -> None:
        """Keep every content request to ``hosts`` waiting until ``release``: a crawl that is
        certainly still running, for as long as a test needs it."""
        self.holding.clear()
        self._release.clear()
        self.held_hosts = set(hosts)

    def release(self) -> None:
        self.held_hosts = set()
        self._release.set()

    def _rewrite(self, data: bytes) -> bytes:
        for host, origin in self.origins.items():
            data = data.replace(origin.encode(), self.bases[host].encode())
        return data

    def _lookup(self, host: str, method: str, path: str, body: bytes
                ) -> tuple[dict[str, Any], bytes] | None:
        for recording in self.recordings:
            found = read_response(recording, self.origins[host] + path, method, body)
            if found is not None:
                return found
        return None

    def _fault_for(self, host: str, method: str, path: str, body: bytes
                   ) -> tuple[Fault, int] | None:
        """The fault to answer this request with, and how many faulty answers this URL had
        before it; None to answer normally."""
        fault = self.fault
        count = 0
        if fault is None or host in self.spared:
            return None
        if self.faulted_hosts is not None and host not in self.faulted_hosts:
            return None
        with self._lock:
            if fault.kind == "rate-limit":
                now = time.monotonic()
                until = self._blocked_until.setdefault(host, now + 2.0)
                if now >= until:
                    return None
            elif fault.first_only:
                if host in self._hosts_started:
                    return None
                self._hosts_started.add(host)
            else:
                key = (host, method, path, body)
                count = self._seen.get(key, 0)
                if fault.times is not None and count >= fault.times:
                    return None
                self._seen[key] = count + 1
            self.served_faults[host] = self.served_faults.get(host, 0) + 1
        return fault, count

    # serving

    def _handler(self, host: str) -> type[BaseHTTPRequestHandler]:
        web = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                self.answer("GET")

            def do_POST(self) -> None:  # noqa: N802
                self.answer("POST")

            def answer(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                request_body = self.rfile.read(length) if length else b""
                path = self.path
                web.requests.append((host, method, path))
                if host in web.held_hosts and path != "/robots.txt":
                    web.holding.set()
                    web._release.wait(120)
                if path.startswith("/__loop?to="):
                    self.send_plain(307 if method == "POST" else 302, b"",
                                    {"Location": [web.bases[host] + path[11:]]})
                    return
                found = web._lookup(host, method, path, request_body)
                if found is None:
                    self.send_plain(404, b"not in the recording", {})
                    return
                meta, body = found
                status = int(meta["status"])
                headers = {k: list(v) for k, v in (meta.get("headers") or {}).items()
                           if k.lower() not in ("content-length", "content-encoding",
                                                "transfer-encoding")}
                for name, values in headers.items():
                    if name.lower() == "location":
                        headers[name] = [web._rewrite(v.encode()).decode() for v in values]
                raw, body = body, web._rewrite(body)
                faulty = None if path == "/robots.txt" else web._fault_for(
                    host, method, path, request_body)
                if faulty is None:
                    self.send_plain(status, body, headers, gzip_ok=True)
                else:
                    self.send_fault(*faulty, status, headers, body, path, raw)

            def send_plain(self, status: int, body: bytes, headers: dict[str, list[str]], *,
                           gzip_ok: bool = False, length: int | None = None) -> None:
                gzipped = gzip_ok and "gzip" in (self.headers.get("Accept-Encoding") or "")
                if gzipped:
                    body = gzip.compress(body)
                try:
                    self.send_response(status)
                    for name, values in headers.items():
                        for value in values:
                            self.send_header(name, value)
                    if gzipped:
                        self.send_header("Content-Encoding", "gzip")
                    self.send_header("Content-Length", str(len(body) if length is None
                                                           else length))
                    self.end_headers()
                    self.wfile.write(body)
                    self.wfile.flush()
                except OSError:
                    self.close_connection = True

            def send_fault(self, fault: Fault, before: int, status: int,
                           headers: dict[str, list[str]],
                           body: bytes, path: str, raw: bytes) -> None:
                # Cuts and format changes work on the body as recorded, so they fall in the same
                # place whatever loopback port its links were rewritten to.
                kind = fault.kind
                if kind == "status":
                    code = fault.statuses[before % len(fault.statuses)]
                    self.send_plain(code, b"<html><body>Server error</body></html>",
                                    {"Content-Type": ["text/html"]})
                elif kind == "rate-limit":
                    self.send_plain(429, b"Too Many Requests",
                                    {"Content-Type": ["text/plain"], "Retry-After": ["2"]})
                elif kind == "stall":
                    web._stop.wait(STALL)
                    self.close_connection = True
                elif kind == "reset":
                    # Closing with SO_LINGER 0 sends a TCP RST at once (no FIN first).
                    self.close_connection = True
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                               struct.pack("ii", 1, 0))
                    self.connection.close()
                elif kind == "truncate":
                    self.send_plain(status, web._rewrite(raw[: len(raw) // 2]), headers,
                                    length=len(body))
                    self.close_connection = True
                elif kind == "empty":
                    self.send_plain(status, b"", headers)
                elif kind == "maintenance":
                    self.send_plain(200, MAINTENANCE_PAGE,
                                    {"Content-Type": ["text/html; charset=utf-8"]})
                elif kind == "octet-stream":
                    _set_header(headers, "Content-Type", "application/octet-stream")
                    self.send_plain(status, body, headers)
                elif kind == "malformed":
                    self.send_plain(status, web._rewrite(raw[: len(raw) // 2]), headers)
                elif kind == "charset-missing":
                    content_type = _content_type(headers).split(";")[0].strip()
                    _set_header(headers, "Content-Type", content_type or None)
                    self.send_plain(status, body, headers)
                elif kind == "charset-wrong":
                    content_type = _content_type(headers).split(";")[0].strip() or "text/html"
                    _set_header(headers, "Content-Type", f"{content_type}; charset=iso-8859-1")
                    self.send_plain(status, body, headers)
                elif kind == "huge":
                    self.send_plain(status, padded(headers, body), headers)
                elif kind == "redirect-loop":
                    # 307 keeps a POST a POST, so a SPARQL query loops like a GET.
                    self.send_plain(307 if self.command == "POST" else 302, b"", {"Location": [
                        f"{web.bases[host]}/__loop?to={path}"]})
                elif kind == "format-change":
                    self.send_plain(status, web._rewrite(changed_format(headers, raw)), headers)
                else:
                    raise ValueError(f"unknown fault kind {kind!r}")

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

        return Handler

    def __enter__(self) -> FaultyWeb:
        for host in self.origins:
            server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler(host))
            server.daemon_threads = True
            server.block_on_close = False
            self.servers[host] = server
            self.bases[host] = f"http://127.0.0.1:{server.server_port}"
            threading.Thread(target=server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._release.set()
        for server in self.servers.values():
            server.shutdown()
            server.server_close()


# --- the crawl under test ---------------------------------------------------------------------

#: The recordings the loopback web serves: week 47 of the demo for eight sources, and
#: officielebekendmakingen from week 48 (the only week that has it).
RECORDINGS = [DEMO / "1-week47", DEMO / "2-week48"]
CLOCK = "2026-11-20T17:00:00+00:00"

#: Which hosts each source asks.
SOURCE_HOSTS = {
    "eerstekamer": {"www.eerstekamer.nl"},
    "eurlex": {"publications.europa.eu"},
    "europarl": {"data.europarl.europa.eu", "oeil.secure.europarl.europa.eu",
                 "www.europarl.europa.eu"},
    "internetconsultatie": {"www.internetconsultatie.nl"},
    "officielebekendmakingen": {"repository.overheid.nl"},
    "raadvanstate": {"www.raadvanstate.nl"},
    "rechtspraak": {"data.rechtspraak.nl"},
    "rijksoverheid": {"www.rijksoverheid.nl"},
    "tweedekamer": {"gegevensmagazijn.tweedekamer.nl"},
    "feed-mensenhandel": {"feeds.example.nl"},
    "page-publicaties": {"publicaties.example.nl"},
}
#: A researcher-added page on a host no fault touches: it must complete whatever the others do.
CONTROL = "page-controle"
CONTROL_HOST = "controle.example.nl"
SOURCES = sorted(SOURCE_HOSTS)
#: Researcher-added sources: slug → (spider, URL on its origin, selector).
ADDED = {
    "feed-mensenhandel": ("feed", "https://feeds.example.nl/mensenhandel.xml", None),
    "page-publicaties": ("page", "https://publicaties.example.nl/publicaties", "main"),
    CONTROL: ("page", f"https://{CONTROL_HOST}/actueel", "main"),
}


def added_recording(directory: Path) -> Path:
    """A recording of the researcher-added feed and pages (bodies from tests/fixtures)."""
    bodies = {
        "feed-mensenhandel": ("application/rss+xml; charset=utf-8",
                              FIXTURES / "feed" / "rijksoverheid-nieuws-mensenhandel.xml"),
        "page-publicaties": ("text/html; charset=utf-8",
                             FIXTURES / "page" / "nr-publicaties-v1.html"),
        CONTROL: ("text/html; charset=utf-8", FIXTURES / "page" / "nr-publicaties-v2.html"),
    }
    for slug, (content_type, path) in bodies.items():
        write_response(directory, ADDED[slug][1], status=200,
                       headers={"Content-Type": [content_type]}, body=path.read_bytes())
    (directory / "manifest.json").write_text('{"format": 1, "sources": {}}\n')
    return directory


def loopback_settings(web: FaultyWeb) -> dict[str, Any]:
    """Every built-in source pointed at its host on the loopback web."""
    def at(origin_url: str) -> str:
        host = urlsplit(origin_url).hostname or ""
        return web.base(host) + origin_url.split(host, 1)[1]

    return {
        "WATCH_TK_ODATA_URL": at("https://gegevensmagazijn.tweedekamer.nl/OData/v4/2.0/"),
        "WATCH_SRU_URL": at("https://repository.overheid.nl/sru"),
        "WATCH_RIJKSOVERHEID_RSS_URL": at("https://www.rijksoverheid.nl/api/rss"),
        "WATCH_RECHTSPRAAK_URL": at("https://data.rechtspraak.nl/"),
        "WATCH_EK_BILL_URL": at("https://www.eerstekamer.nl/wetsvoorstel/{nummer}"),
        "WATCH_INTERNETCONSULTATIE_OPEN_URL": at("https://www.internetconsultatie.nl/"),
        "WATCH_INTERNETCONSULTATIE_CLOSED_URL":
            at("https://www.internetconsultatie.nl/geslotenconsultaties/"),
        "WATCH_RAADVANSTATE_LISTING_URL":
            at("https://www.raadvanstate.nl/adviezen/zoeken-in-adviezen/"),
        "WATCH_EURLEX_SPARQL_URL": at("https://publications.europa.eu/webapi/rdf/sparql"),
        "WATCH_EP_API_URL": at("https://data.europarl.europa.eu/api/v2/"),
        "WATCH_EP_OEIL_URL": at("https://oeil.secure.europarl.europa.eu/oeil/en/procedure-file"),
        "WATCH_EP_DOCEO_URL": at("https://www.europarl.europa.eu/doceo/document/"),
        # Researcher-added sources on loopback (refused in production, see crawler/safety.py).
        "WATCH_ALLOW_PRIVATE_URLS": "*",
        # No politeness delays against our own loopback servers: the scenarios stay quick.
        "DOWNLOAD_DELAY": 0,
        "AUTOTHROTTLE_ENABLED": False,
        "DOWNLOAD_TIMEOUT": 20,
    }


def prepare_archive(url: str, web: FaultyWeb) -> None:
    """A new archive with the default topics, each source's cursor where the recording starts,
    and the researcher-added feed and pages (at their loopback addresses) if the web serves
    them."""
    from tests.helpers import run_cli

    result = run_cli("init", "-d", url)
    assert result.returncode == 0, result.stdout + result.stderr
    cursors: dict[str, dict[str, Any]] = {}
    for recording in RECORDINGS:  # the first recording that has a source says where it starts
        for slug, facts in read_manifest(recording).get("sources", {}).items():
            if slug in SOURCE_HOSTS and slug not in ADDED:  # built-in sources only
                cursors.setdefault(slug, facts.get("cursor") or {})
    engine = make_engine(url)
    with session_factory(engine).begin() as session:
        from storage.archive import ensure_source

        for slug, cursor in cursors.items():
            ensure_source(session, slug, kind="spider", title=slug).cursor = cursor
        for slug, (kind, origin_url, selector) in ADDED.items():
            host = urlsplit(origin_url).hostname or ""
            if host not in web.bases:
                continue  # a web without the added recording (added_recording)
            session.add(Source(slug=slug, kind=kind, title=slug, cursor={}, active=True,
                               url=web.base(host) + origin_url.split(host, 1)[1],
                               config={"selector": selector} if selector else {}))
    engine.dispose()


def crawl_jobs(url: str, settings: dict[str, Any], sources: list[str] | None = None
               ) -> list[dict[str, Any]]:
    """The jobs of one crawl of ``sources`` (default: all, and the control page)."""
    engine = make_engine(url)
    with session_factory(engine)() as session:
        added = {s.slug: s for s in session.scalars(
            select(Source).where(Source.kind.in_(("feed", "page"))))}
    engine.dispose()
    jobs = []
    for slug in sources or [*SOURCES, CONTROL]:
        job: dict[str, Any] = {"spider": slug, "settings": settings, "clock": CLOCK}
        if slug in added:
            source = added[slug]
            job["spider"] = source.kind
            job["spider_kwargs"] = {"source": slug, "url": source.url, "title": source.title,
                                    **({"selector": source.config["selector"]}
                                       if source.config.get("selector") else {})}
        jobs.append(job)
    return jobs


def run_crawl(url: str, jobs: list[dict[str, Any]], *, log_file: Path | None = None,
              timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """One crawl process (``python -m tests.faults crawl``), as `beleidsradar crawl` runs it."""
    args = [sys.executable, "-m", "tests.faults", "crawl", url, json.dumps(jobs)]
    if log_file is not None:
        args.append(str(log_file))
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def _crawl_main(url: str, jobs_json: str, log_file: str | None = None) -> None:
    from crawler.runner import CrawlJob, run_jobs

    jobs = [CrawlJob(job["spider"], settings=job.get("settings", {}), clock=job.get("clock"),
                     spider_kwargs=job.get("spider_kwargs", {}), label=job.get("label"))
            for job in json.loads(jobs_json)]
    run_jobs([jobs], database_url=url, log_level="INFO" if log_file else "ERROR",
             log_file=log_file)


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "crawl":
        _crawl_main(*sys.argv[2:5])
    else:
        sys.exit("usage: python -m tests.faults crawl DATABASE_URL JOBS_JSON [LOG_FILE]")
