"""Builders for tests: spiders wired like a real crawl, and responses from recorded bodies."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from scrapy import Request, Spider
from scrapy.http import TextResponse
from scrapy.crawler import Crawler
from scrapy.statscollectors import MemoryStatsCollector

from crawler.runner import project_settings


def make_spider(cls: type[Spider], **kwargs: Any) -> Any:
    """A spider bound to a crawler with our project settings (stats included)."""
    crawler = Crawler(cls, project_settings())
    crawler.stats = MemoryStatsCollector(crawler)
    return cls.from_crawler(crawler, **kwargs)


def response_for(request: Request, body: bytes | str | dict[str, Any], status: int = 200) -> (
    TextResponse
):
    """The response a server would give to ``request``: JSON for dicts, bytes as they are."""
    if isinstance(body, dict):
        body = json.dumps(body)
    if isinstance(body, str):
        body = body.encode("utf-8")
    return TextResponse(
        url=request.url, body=body, status=status, request=request, encoding="utf-8",
        headers={"Content-Type": "application/json; odata.metadata=minimal; charset=utf-8"},
    )


def call(request: Request, response: TextResponse) -> list[Any]:
    """Run the request's callback on the response, as the engine would."""
    assert request.callback is not None
    return list(request.callback(response, **request.cb_kwargs))


def load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))
