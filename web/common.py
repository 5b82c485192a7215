"""What the web app's modules share: a database session per request, the clock, URL helpers
and the sign-in throttle."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlencode

from flask import current_app, url_for
from sqlalchemy.orm import Session


def now() -> datetime:
    return datetime.now(UTC)


@contextmanager
def db() -> Iterator[Session]:
    """A session for one request; committed when the block ends without an error."""
    factory = current_app.extensions["beleidsradar_sessions"]
    with factory() as s:
        try:
            yield s
            s.commit()
        except BaseException:
            s.rollback()
            raise


class _Throttle:
    """Failed sign-ins per client address: after 10 in 10 minutes, wait."""

    def __init__(self, limit: int = 10, window: float = 600.0):
        self.limit, self.window = limit, window
        self.failures: dict[str, list[float]] = {}
        self.lock = threading.Lock()

    def blocked(self, key: str) -> bool:
        with self.lock:
            recent = [t for t in self.failures.get(key, []) if t > time.monotonic() - self.window]
            self.failures[key] = recent
            return len(recent) >= self.limit

    def failed(self, key: str) -> None:
        with self.lock:
            self.failures.setdefault(key, []).append(time.monotonic())


_throttle = _Throttle()


throttle = _Throttle()


def query_url(endpoint: str, args: dict[str, Any], **changes: Any) -> str:
    merged = {k: v for k, v in {**args, **changes}.items() if v not in (None, "", [])}
    pairs = []
    for key, value in merged.items():
        for item in (value if isinstance(value, list) else [value]):
            pairs.append((key, item))
    return url_for(endpoint) + ("?" + urlencode(pairs) if pairs else "")


def parse_day(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None
