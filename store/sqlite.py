"""The event store on SQLite: BEGIN IMMEDIATE serialises writers."""

from __future__ import annotations

from typing import Any, ClassVar

from store.boundary import WRITE_OPTIONS
from store.sql import SqlEventStore


class SqliteEventStore(SqlEventStore):
    """SQLite: the write lock taken at BEGIN IMMEDIATE orders appends."""

    backend = "sqlite"
    write_options: ClassVar[dict[str, Any]] = WRITE_OPTIONS["sqlite"]
