"""Errors raised by the monitors.

    MonitorError
     ├── QuerySyntaxError    a query cannot be parsed; says where and what was expected
     └── TopicConfigError    a topic definition is invalid (bad slug, bad query, failing example)
"""

from __future__ import annotations


class MonitorError(Exception):
    """Base class for monitor errors."""


class QuerySyntaxError(MonitorError):
    """A malformed query. ``position`` is 0-based into ``query``."""

    def __init__(self, query: str, position: int, expected: str):
        self.query = query
        self.position = position
        self.expected = expected
        super().__init__(f"at position {position + 1}: expected {expected}")

    def pointer(self) -> str:
        """The query with a caret under the position, for terminals."""
        return f"{self.query}\n{' ' * self.position}^"


class TopicConfigError(MonitorError):
    """An invalid topic definition."""
