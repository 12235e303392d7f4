"""Opens the event store a database URL names."""

from __future__ import annotations

from store.database import DatabaseUrl, create_engine
from store.ports import Clock
from store.postgres import PostgresEventStore
from store.sql import SqlEventStore
from store.sqlite import SqliteEventStore


def open_store(url: DatabaseUrl, clock: Clock | None = None) -> SqlEventStore:
    """The store for this URL's backend, on a fresh engine."""
    engine = create_engine(url)
    if url.backend == "postgresql":
        return PostgresEventStore(engine, clock)
    return SqliteEventStore(engine, clock)
