"""Errors raised by the archive.

    StorageError
     ├── DatabaseUnavailable   the database cannot be reached or opened
     └── SchemaOutOfDate       the schema is missing or older than this code (run `beleidsradar init`)
"""

from __future__ import annotations


class StorageError(Exception):
    """Base class for archive errors."""


class DatabaseUnavailable(StorageError):
    """The database URL cannot be opened (bad URL, server down, unwritable file)."""


class SchemaOutOfDate(StorageError):
    """The database has no schema, or an older one than this code expects."""
