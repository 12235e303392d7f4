"""Database URLs and engines: SQLite (WAL, synchronous=FULL) by default, PostgreSQL at scale."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

DEFAULT_URL = "sqlite:///var/timeline.db"
SQLITE_BUSY_TIMEOUT_MS = 10_000


@dataclass(frozen=True, slots=True)
class DatabaseUrl:
    """A database URL as configured, with the driver-specific forms each caller needs."""

    raw: str

    @property
    def backend(self) -> str:
        """`sqlite` or `postgresql`."""
        name = make_url(self.raw).get_backend_name()
        if name not in ("sqlite", "postgresql"):
            raise ValueError(f"unsupported database {name!r}: use sqlite:/// or postgresql://")
        return name

    @property
    def async_url(self) -> str:
        """The URL for the async engine the API uses."""
        url = make_url(self.raw)
        driver = "aiosqlite" if self.backend == "sqlite" else "psycopg"
        return url.set(drivername=f"{self.backend}+{driver}").render_as_string(hide_password=False)

    @property
    def sync_url(self) -> str:
        """The URL for the synchronous engine Alembic uses."""
        url = make_url(self.raw)
        driver = "pysqlite" if self.backend == "sqlite" else "psycopg"
        return url.set(drivername=f"{self.backend}+{driver}").render_as_string(hide_password=False)

    def ensure_directory(self) -> None:
        """Create the folder of a SQLite file, so a fresh checkout needs no set-up."""
        database = make_url(self.raw).database
        if self.backend == "sqlite" and database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)


def configured_url() -> DatabaseUrl:
    """The database URL from TIMELINE_DATABASE_URL, or the SQLite file under var/."""
    return DatabaseUrl(os.environ.get("TIMELINE_DATABASE_URL") or DEFAULT_URL)


def configure_sqlite_connection(dbapi_connection: Any) -> None:
    """WAL, full fsync on commit, a busy timeout; transactions begun by us, not the driver."""
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def create_engine(url: DatabaseUrl) -> AsyncEngine:
    """An async engine; on SQLite, writers that ask for it begin with BEGIN IMMEDIATE."""
    url.ensure_directory()
    if url.backend == "postgresql":
        return create_async_engine(url.async_url, pool_pre_ping=True, pool_size=10)
    # Readers do not block each other in WAL mode: a pool as large as PostgreSQL's, so a burst
    # of concurrent reads reuses connections instead of opening (and closing) overflow ones.
    engine = create_async_engine(url.async_url, pool_size=10, max_overflow=20)
    _configure_sqlite(engine.sync_engine)
    return engine


def create_blocking_engine(engine: AsyncEngine) -> Engine:
    """A blocking engine on the same database as an async one, configured alike: the store's
    writer thread runs whole appends over it. It needs one connection."""
    url = engine.url
    if url.get_backend_name() == "postgresql":
        return create_sync_engine(
            url.set(drivername="postgresql+psycopg"), pool_pre_ping=True, pool_size=1
        )
    blocking = create_sync_engine(url.set(drivername="sqlite+pysqlite"), pool_size=1)
    _configure_sqlite(blocking)
    return blocking


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        configure_sqlite_connection(dbapi_connection)

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")
