"""Writes run whole in one worker thread: an AsyncConnection's face over a blocking connection.

Through an async driver every statement is a round trip between the event loop and the driver's
thread (aiosqlite) or the network (psycopg), and an append issues a dozen statements; so the
append's own Python work waits on the loop between each. Run in a worker thread over a blocking
connection, the same code (the store's `_append`, the projector) takes one hop per group of
appends. `SyncBridge` gives that code the AsyncConnection methods it uses; its coroutines never
suspend, so `drive` runs them to the end without an event loop.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Coroutine
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from typing import Any, TypeVar

from sqlalchemy.engine import Connection, Dialect

from store.database import driver_error
from store.driver import execute as driver_execute
from store.read_path import is_constant

T = TypeVar("T")


class SyncBridge:
    """The AsyncConnection methods the write path uses, over a blocking Connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    @property
    def dialect(self) -> Dialect:
        return self._conn.dialect

    async def execute(self, statement: Any, parameters: Any = None) -> Any:
        if is_constant(statement):
            return driver_execute(self._conn, statement, parameters)
        return self._conn.execute(statement, parameters)

    async def scalar(self, statement: Any, parameters: Any = None) -> Any:
        if is_constant(statement):
            return driver_execute(self._conn, statement, parameters).scalar()
        return self._conn.scalar(statement, parameters)

    async def exec_driver_sql(self, statement: str, parameters: Any = None) -> Any:
        return self._conn.exec_driver_sql(statement, parameters)

    @asynccontextmanager
    async def pipelined(self) -> AsyncIterator[None]:
        """Statements sent without waiting for each one's answer, on PostgreSQL (psycopg's
        pipeline mode): the writes of a region share one round trip instead of one each. A
        statement whose rows are fetched still waits for them (with the writes before it). A
        failure surfaces when the region ends, raised as `on_cursor` raises one, so it stays
        inside whatever savepoint the region is in. On SQLite, with no round trips to save,
        nothing changes."""
        if self._conn.dialect.name != "postgresql":
            yield
            return
        driver = self._conn.connection.driver_connection
        try:
            with driver.pipeline():  # type: ignore[union-attr]
                yield
        except self._conn.dialect.loaded_dbapi.Error as error:
            raise driver_error(self._conn, error, "(a pipeline of writes)") from error

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[None]:
        with self._conn.begin():
            yield

    @asynccontextmanager
    async def begin_nested(self) -> AsyncIterator[None]:
        with self._conn.begin_nested():
            yield


def pipelined(conn: Any) -> AbstractAsyncContextManager[None]:
    """The connection's pipeline region (`SyncBridge.pipelined`) when it has one; otherwise
    (an AsyncConnection: the write path on the event loop) statements run one by one."""
    region = getattr(conn, "pipelined", None)
    return region() if region is not None else nullcontext()


def drive(work: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine that never suspends to its end, here, without an event loop."""
    try:
        work.send(None)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    work.close()
    raise RuntimeError("a blocking write suspended: it awaited something not bridged")
