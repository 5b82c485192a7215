"""Replay and record: recorded responses keyed by URL, loud misses, faithful bodies."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from scrapy import Request
from scrapy.http import Response, TextResponse
from scrapy.crawler import Crawler
from scrapy.statscollectors import MemoryStatsCollector

from crawler.spiders.tweedekamer import TweedekamerSpider

from crawler.replay import (
    RecordingError,
    RecordingMissing,
    ReplayRecordMiddleware,
    read_manifest,
    read_response,
    recording_key,
    update_manifest,
    write_response,
)

URL = "https://gegevensmagazijn.tweedekamer.nl/OData/v4/2.0/Zaak?$filter=ApiGewijzigdOp gt 2026-11-15T00:00:00Z"


def middleware(replay: Path | None = None, record: Path | None = None) -> ReplayRecordMiddleware:
    stats = MemoryStatsCollector(Crawler(TweedekamerSpider))
    return ReplayRecordMiddleware(replay, record, stats)


def test_key_is_the_same_for_the_same_url_however_it_is_escaped() -> None:
    assert recording_key(URL) == recording_key(URL.replace(" ", "%20"))
    assert recording_key(URL) != recording_key(URL + "&$skip=250")
    assert recording_key(URL, "POST", b"q=1") != recording_key(URL, "POST", b"q=2")


def test_replay_serves_the_recorded_response(tmp_path: Path) -> None:
    body = json.dumps({"value": [{"Id": "x", "Titel": "Mensenhandel – €"}]}).encode()
    write_response(tmp_path, URL, status=200, headers={"Content-Type": ["application/json"]},
                   body=body)
    request = Request(URL)
    response = middleware(replay=tmp_path).process_request(request)
    assert isinstance(response, TextResponse)
    assert response.status == 200 and response.body == body and response.url == request.url
    assert "replay" in response.flags
    # Status codes are replayed too (so retry and error handling see what the server said).
    write_response(tmp_path, URL + "&x=1", status=503, headers={}, body=b"busy")
    assert middleware(replay=tmp_path).process_request(Request(URL + "&x=1")).status == 503


def test_a_missing_recording_fails_loudly_with_the_url(tmp_path: Path) -> None:
    with pytest.raises(RecordingMissing) as error:
        middleware(replay=tmp_path).process_request(Request(URL))
    assert error.value.url == Request(URL).url
    assert str(tmp_path) in str(error.value)


def test_unrecorded_robots_txt_is_answered_404(tmp_path: Path) -> None:
    response = middleware(replay=tmp_path).process_request(
        Request("https://gegevensmagazijn.tweedekamer.nl/robots.txt"))
    assert response is not None and response.status == 404


def test_record_writes_plain_bodies_that_replay_identically(tmp_path: Path) -> None:
    plain = b'{"value": []}'
    request = Request(URL)
    live = Response(URL, status=200, body=gzip.compress(plain), request=request,
                    headers={"Content-Encoding": "gzip", "Content-Type": "application/json",
                             "Content-Length": "33"})
    assert middleware(record=tmp_path).process_response(request, live) is live
    meta, body = read_response(tmp_path, URL)  # type: ignore[misc]
    assert body == plain
    assert "Content-Encoding" not in meta["headers"]
    assert meta["headers"]["Content-Type"] == ["application/json"]
    assert middleware(replay=tmp_path).process_request(Request(URL)).body == plain
    # A replayed response is never recorded again.
    replayed = middleware(replay=tmp_path).process_request(Request(URL))
    other = tmp_path / "other"
    middleware(record=other).process_response(request, replayed)
    assert not other.exists()


def test_manifest(tmp_path: Path) -> None:
    with pytest.raises(RecordingError, match="does not exist"):
        read_manifest(tmp_path / "nope")
    with pytest.raises(RecordingError, match="no manifest.json"):
        read_manifest(tmp_path)
    update_manifest(tmp_path, "tweedekamer", cursor={"Zaak": "2026-11-16T00:00:00Z"})
    update_manifest(tmp_path, "tweedekamer", recorded_at="2026-11-20")
    assert read_manifest(tmp_path)["sources"]["tweedekamer"] == {
        "cursor": {"Zaak": "2026-11-16T00:00:00Z"}, "recorded_at": "2026-11-20"}
