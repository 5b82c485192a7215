"""Digest periods: ISO weeks in Europe/Amsterdam time."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

LOCAL = ZoneInfo("Europe/Amsterdam")
_WEEK = re.compile(r"(\d{4})-W(\d{2})")


@dataclass(frozen=True)
class Week:
    """An ISO week: Monday 00:00 to the next Monday 00:00, Amsterdam time."""

    year: int
    number: int

    @property
    def label(self) -> str:
        return f"{self.year}-W{self.number:02d}"

    @property
    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.number, 1)

    @property
    def sunday(self) -> date:
        return self.monday + timedelta(days=6)

    @property
    def start(self) -> datetime:
        """First instant, in UTC."""
        return datetime.combine(self.monday, time(0), LOCAL).astimezone(UTC)

    @property
    def end(self) -> datetime:
        """First instant after the week, in UTC."""
        return datetime.combine(self.monday + timedelta(days=7), time(0), LOCAL).astimezone(UTC)

    def next(self) -> Week:
        return week_of(self.monday + timedelta(days=7))

    def previous(self) -> Week:
        return week_of(self.monday - timedelta(days=7))


def parse_week(label: str) -> Week:
    """``2026-W48`` → Week; ValueError with a clear message otherwise."""
    match = _WEEK.fullmatch(label.strip())
    if not match:
        raise ValueError(f"not an ISO week: {label!r} (write it like 2026-W48)")
    year, number = int(match.group(1)), int(match.group(2))
    try:
        date.fromisocalendar(year, number, 1)
    except ValueError:
        raise ValueError(f"{year} has no week {number}") from None
    return Week(year, number)


def week_of(day: date) -> Week:
    year, number, _ = day.isocalendar()
    return Week(year, number)


def last_complete_week(now: datetime) -> Week:
    """The most recent week that has ended at ``now`` (Amsterdam time)."""
    return week_of(now.astimezone(LOCAL).date()).previous()
