"""Opens the event store a database URL names."""

from __future__ import annotations

from store.database import DatabaseUrl, PostgresOptions, create_engine
from store.ports import Clock
from store.postgres import PostgresEventStore
from store.sql import SqlEventStore
from store.sqlite import SqliteEventStore


def open_store(
    url: DatabaseUrl, clock: Clock | None = None, postgres: PostgresOptions | None = None
) -> SqlEventStore:
    """The store for this URL's backend, on a fresh engine; on PostgreSQL, its sessions and
    pools bounded as `postgres` says (the server's own settings when not given)."""
    engine = create_engine(url, postgres)
    if url.backend == "postgresql":
        return PostgresEventStore(engine, clock, postgres=postgres)
    return SqliteEventStore(engine, clock)
