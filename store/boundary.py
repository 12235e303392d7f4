"""The database boundary: how every store reaches the database, and what a failure there becomes.

Every store (events, keys, Idempotency-Key records, rate windows, subscriptions, backups) opens
its connections and transactions through `reading` and `writing`, or wraps driver work in
`driver_errors`. A database that cannot be reached — refused, dropped, timed out, a file SQLite
cannot open — leaves the store as `DatabaseUnavailable` (the API's 503), whichever store met it;
nothing above `store/` sees a SQLAlchemy or driver exception, or needs to know one.

Other driver errors (a constraint the checks could not see) are left as they are: the store that
expects one catches it where it is expected; anywhere else it is a bug, and a 500 that says so.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from sqlalchemy.exc import DBAPIError, OperationalError, StatementError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from store.errors import DatabaseUnavailable, first_line

# SQLite's BEGIN IMMEDIATE takes the write lock up front, so a transaction that writes never has
# to upgrade a read lock (and fail with "database is locked") half-way through.
WRITE_OPTIONS: dict[str, dict[str, Any]] = {"sqlite": {"sqlite_begin": "IMMEDIATE"}}


def connection_failed(error: DBAPIError) -> bool:
    """The database went away (not a refusal of this statement): every write in flight fails."""
    return isinstance(error, OperationalError) or error.connection_invalidated


def unavailable(error: BaseException) -> DatabaseUnavailable | None:
    """What a failure means at the boundary: DatabaseUnavailable when the database could not be
    reached, else None (the error stands)."""
    if isinstance(error, DatabaseUnavailable):
        return error
    # The driver's first line: PostgreSQL's DETAIL lines after it may quote a row's values.
    if isinstance(error, DBAPIError) and connection_failed(error):
        found = DatabaseUnavailable(first_line(error.orig or error))
    elif isinstance(error, sqlite3.OperationalError):  # the bare driver (store.read_path)
        found = DatabaseUnavailable(first_line(error))
    else:
        return None
    found.__cause__ = error
    return found


def described(error: BaseException) -> str | None:
    """A driver error in one line for a person, never quoting the statement's parameters (a
    key's hash, a webhook secret) as SQLAlchemy's own message does; None for other errors."""
    if isinstance(error, StatementError):
        return f"database error: {first_line(error.orig or error)}"
    return None


@contextmanager
def driver_errors() -> Iterator[None]:
    """Raise DatabaseUnavailable for a database that cannot be reached within the block."""
    try:
        yield
    except (DBAPIError, sqlite3.OperationalError) as error:
        mapped = unavailable(error)
        if mapped is None:
            raise
        raise mapped from error


@asynccontextmanager
async def reading(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection for reads (and writes a caller commits itself), its failures mapped."""
    with driver_errors():
        async with engine.connect() as conn:
            yield conn


@asynccontextmanager
async def writing(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A write transaction, committed when the block ends well, its failures mapped."""
    options = WRITE_OPTIONS.get(engine.dialect.name, {})
    with driver_errors():
        async with engine.connect() as conn:
            if options:
                conn = await conn.execution_options(**options)
            async with conn.begin():
                yield conn
