"""Recorded responses: replay them instead of the network, or record live ones.

A recording is a folder of plain files, keyed by request URL::

    DIR/manifest.json                      what was recorded, when, and each source's start cursor
    DIR/responses/<host>/<key>.json        {"url", "method", "status", "headers", "recorded_at"}
    DIR/responses/<host>/<key>.body        the response body, byte for byte (decompressed)

``key`` is derived from the method and the canonical URL (``recording_key``), so a recording made
live (``crawl --record DIR``) replays on the same requests (``crawl --replay DIR``). A replayed
request with no recording fails loudly with the URL it missed; the one exception is
``/robots.txt``, which is answered 404 (= no restrictions) when it was not recorded, so
hand-written recordings need not invent robots files.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import zlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Headers, Response
from scrapy.responsetypes import responsetypes
from scrapy.statscollectors import StatsCollector
from w3lib.url import canonicalize_url

MANIFEST = "manifest.json"


class RecordingMissing(Exception):
    """A replayed request has no recorded response."""

    def __init__(self, url: str, directory: Path):
        super().__init__(f"no recorded response for this URL in {directory}")
        self.url = url


class RecordingError(Exception):
    """A recording folder is missing or unreadable."""


def recording_key(url: str, method: str = "GET", body: bytes = b"") -> str:
    digest = hashlib.sha256(f"{method.upper()} {canonicalize_url(url)}".encode())
    if body:
        digest.update(b"\n" + hashlib.sha256(body).digest())
    return digest.hexdigest()[:24]


def _paths(directory: Path, url: str, method: str, body: bytes) -> tuple[Path, Path]:
    host = urlsplit(url).hostname or "_"
    stem = directory / "responses" / host / recording_key(url, method, body)
    return stem.with_suffix(".json"), stem.with_suffix(".body")


def write_response(
    directory: Path,
    url: str,
    *,
    status: int,
    headers: dict[str, list[str]],
    body: bytes,
    method: str = "GET",
    request_body: bytes = b"",
    recorded_at: datetime | None = None,
) -> Path:
    """Store one response in the recording layout; returns the metadata file's path."""
    meta_path, body_path = _paths(directory, url, method, request_body)
    meta_path.parent.mkdir(parents=True, exist_ok=True)
    body_path.write_bytes(body)
    meta = {
        "url": url,
        "method": method.upper(),
        "status": status,
        "headers": headers,
        "recorded_at": (recorded_at or datetime.now(UTC)).isoformat(),
    }
    meta_path.write_text(json.dumps(meta, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return meta_path


def read_response(directory: Path, url: str, method: str = "GET", body: bytes = b"") -> (
    tuple[dict[str, Any], bytes] | None
):
    meta_path, body_path = _paths(directory, url, method, body)
    if not meta_path.exists():
        return None
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    return meta, body_path.read_bytes()


def read_manifest(directory: Path) -> dict[str, Any]:
    """The recording's manifest; RecordingError when the folder is not a recording."""
    if not directory.is_dir():
        raise RecordingError(f"recording folder {directory} does not exist")
    path = directory / MANIFEST
    if not path.exists():
        raise RecordingError(f"{directory} is not a recording: it has no {MANIFEST}")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RecordingError(f"cannot read {path}: {exc}") from exc
    if not isinstance(manifest, dict):
        raise RecordingError(f"{path} is not a JSON object")
    return manifest


def update_manifest(directory: Path, source: str, **facts: Any) -> None:
    """Merge ``facts`` about ``source`` into the manifest (created if missing)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / MANIFEST
    manifest: dict[str, Any] = {"format": 1}
    if path.exists():
        manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest.setdefault("sources", {}).setdefault(source, {}).update(facts)
    path.write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def _decoded_body(response: Response) -> tuple[bytes, dict[str, list[str]]]:
    """The body without transfer compression, and headers to match (plain files stay readable)."""
    headers = {
        key.decode("latin-1"): [v.decode("latin-1") for v in values]
        for key, values in response.headers.items()
    }
    encoding = response.headers.get(b"Content-Encoding", b"").decode("latin-1").lower().strip()
    body = response.body
    try:
        if encoding in ("gzip", "x-gzip"):
            body = gzip.decompress(body)
        elif encoding == "deflate":
            body = zlib.decompress(body)
        else:
            return body, headers
    except (OSError, zlib.error):
        return response.body, headers
    headers = {
        k: v for k, v in headers.items() if k.lower() not in ("content-encoding", "content-length")
    }
    return body, headers


class ReplayRecordMiddleware:
    """Downloader middleware for ``WATCH_REPLAY_DIR`` and ``WATCH_RECORD_DIR``."""

    def __init__(
        self, replay_dir: Path | None, record_dir: Path | None, stats: StatsCollector
    ) -> None:
        self.replay_dir = replay_dir
        self.record_dir = record_dir
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ReplayRecordMiddleware:
        replay = crawler.settings.get("WATCH_REPLAY_DIR")
        record = crawler.settings.get("WATCH_RECORD_DIR")
        if not replay and not record:
            raise NotConfigured
        if replay and record:
            raise NotConfigured("WATCH_REPLAY_DIR and WATCH_RECORD_DIR exclude each other")
        return cls(Path(replay) if replay else None, Path(record) if record else None,
                   crawler.stats)

    def process_request(self, request: Request) -> Response | None:
        if self.replay_dir is None:
            return None
        found = read_response(self.replay_dir, request.url, request.method, request.body)
        if found is None:
            if urlsplit(request.url).path == "/robots.txt":
                self.stats.inc_value("watch/replay/robots_absent")
                return Response(request.url, status=404, request=request, flags=["replay"])
            self.stats.inc_value("watch/replay/missing")
            raise RecordingMissing(request.url, self.replay_dir)
        meta, body = found
        headers = Headers(meta.get("headers") or {})
        cls = responsetypes.from_args(headers=headers, url=request.url, body=body)
        self.stats.inc_value("watch/replay/served")
        return cls(
            url=request.url,
            status=int(meta["status"]),
            headers=headers,
            body=body,
            request=request,
            flags=["replay"],
        )

    def process_response(self, request: Request, response: Response) -> Response:
        if self.record_dir is not None and "replay" not in response.flags:
            body, headers = _decoded_body(response)
            write_response(
                self.record_dir,
                request.url,
                status=response.status,
                headers=headers,
                body=body,
                method=request.method,
                request_body=request.body,
            )
            self.stats.inc_value("watch/record/written")
        return response
