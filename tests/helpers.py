"""Builders for tests: spiders wired like a real crawl, and responses from recorded bodies."""

from __future__ import annotations

import json
import os
import subprocess
import sys
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


ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args: str, env: dict[str, str] | None = None, cwd: Path = ROOT,
            ) -> subprocess.CompletedProcess[str]:
    """Run `beleidsradar ARGS` as a user would: its own process (Scrapy's reactor cannot
    restart inside pytest), wide output, any working directory."""
    program = f"import sys; sys.path.insert(0, {str(ROOT)!r}); import cli; cli.main()"
    return subprocess.run(
        [sys.executable, "-c", program, *args], capture_output=True, text=True, cwd=cwd,
        timeout=300, env={**os.environ, "COLUMNS": "200", **(env or {})},
    )
