"""The API's PostgreSQL sessions: bounded by the server (statement and idle-in-transaction
timeouts, set as the session starts, on the engine, the writer's engine and the read pool alike),
pools of the configured size, and no ping before each checkout: a connection the server dropped
while it idled in a pool is replaced before it is used."""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import pq, sql
from sqlalchemy import Engine, event, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from api.app import services_for
from api.services import Services
from api.settings import Settings
from store.database import DatabaseUrl
from store.keys import KeyStore
from store.read_path import PostgresReadPath
from store.sql import SqlEventStore
from tests.builders import draft, raw_source
from tests.databases import PostgresDatabases

SETTINGS = ("statement_timeout", "idle_in_transaction_session_timeout")
QUERY = re.compile(r'^F\t\d+\tQuery\t "([^"\n]*)', re.MULTILINE)
# How long pg_terminate_backend waits for a backend to end (it returns as soon as it has).
TERMINATION_BOUND_MS = 10_000


@pytest.fixture
def url(postgresql_databases: PostgresDatabases) -> Iterator[DatabaseUrl]:
    url = postgresql_databases.fresh()
    yield url
    postgresql_databases.release(url)


@pytest.fixture
async def api_services(
    url: DatabaseUrl, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Services]:
    """What `timeline serve` opens, from the environment as it reads it."""
    monkeypatch.setenv("TIMELINE_DATABASE_URL", url.raw)
    services = services_for(Settings())
    try:
        yield services
    finally:
        await services.store.close()


def _store(services: Services) -> SqlEventStore:
    assert isinstance(services.store, SqlEventStore)
    return services.store


async def _shown(store: SqlEventStore) -> dict[str, tuple[str, ...]]:
    """Each session setting as each of the store's three ways to the database sees it."""
    # current_setting() answers as SHOW does, as a statement the read path can plan.
    statements = [select(func.current_setting(name)) for name in SETTINGS]
    async with store.engine.connect() as conn:
        engine = tuple([await conn.scalar(s) for s in statements])
    with store.blocking_engine.connect() as blocking:
        writer = tuple(blocking.scalar(s) for s in statements)
    async with store.read_path.reading() as reads:
        read_pool = tuple([await reads.scalar(s) for s in statements])
    return {"engine": engine, "writer": writer, "read pool": read_pool}


async def test_the_api_sessions_have_the_default_timeouts(api_services: Services) -> None:
    shown = await _shown(_store(api_services))
    assert shown == dict.fromkeys(("engine", "writer", "read pool"), ("30s", "1min"))


async def test_the_configured_timeouts_and_pool_size_reach_every_session(
    url: DatabaseUrl, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TIMELINE_PG_STATEMENT_TIMEOUT", "7.5")
    monkeypatch.setenv("TIMELINE_PG_IDLE_IN_TRANSACTION_TIMEOUT", "11")
    monkeypatch.setenv("TIMELINE_PG_POOL_SIZE", "3")
    monkeypatch.setenv("TIMELINE_DATABASE_URL", url.raw)
    store = _store(services_for(Settings()))
    try:
        shown = await _shown(store)
        assert shown == dict.fromkeys(("engine", "writer", "read pool"), ("7500ms", "11s"))
        assert store.engine.pool.size() == 3  # type: ignore[attr-defined]
        reads = store.read_path
        assert isinstance(reads, PostgresReadPath) and reads._pool is not None
        assert reads._pool.max_size == 3
    finally:
        await store.close()


async def test_zero_leaves_the_servers_own_setting(
    url: DatabaseUrl, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TIMELINE_PG_STATEMENT_TIMEOUT", "0")
    monkeypatch.setenv("TIMELINE_PG_IDLE_IN_TRANSACTION_TIMEOUT", "0")
    # What a database administrator set for this database stays in force.
    with psycopg.connect(_libpq(url), autocommit=True) as admin:
        database = sql.Identifier(str(make_url(url.raw).database))
        admin.execute(sql.SQL("ALTER DATABASE {} SET statement_timeout = 4000").format(database))
    monkeypatch.setenv("TIMELINE_DATABASE_URL", url.raw)
    store = _store(services_for(Settings()))
    try:
        assert (await _shown(store))["writer"] == ("4s", "0")
    finally:
        await store.close()


async def test_a_statement_over_the_timeout_is_ended_by_the_server(
    url: DatabaseUrl, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TIMELINE_PG_STATEMENT_TIMEOUT", "0.05")
    monkeypatch.setenv("TIMELINE_DATABASE_URL", url.raw)
    store = _store(services_for(Settings()))
    try:
        with store.blocking_engine.connect() as conn, pytest.raises(OperationalError) as ended:
            conn.execute(text("SELECT pg_sleep(30)"))
        assert "canceling statement due to statement timeout" in str(ended.value)
    finally:
        await store.close()


def _libpq(url: DatabaseUrl) -> str:
    return make_url(url.raw).set(drivername="postgresql").render_as_string(hide_password=False)


class WireTrace:
    """Every message each new connection of an engine sends to the server (libpq's trace)."""

    def __init__(self, engine: Engine, folder: Path) -> None:
        self._folder = folder
        self._traced: list[tuple[Any, int, Path]] = []
        event.listen(engine, "connect", self._on_connect)

    def _on_connect(self, _dbapi_connection: Any, record: Any) -> None:
        pgconn = record.driver_connection.pgconn
        path = self._folder / f"wire-{id(self)}-{len(self._traced)}.trace"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT)  # libpq writes to it through a stream
        pgconn.trace(fd)
        pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE)
        self._traced.append((pgconn, fd, path))

    def queries(self) -> list[str]:
        """The simple-protocol queries the client sent, connection after connection."""
        sent: list[str] = []
        for pgconn, fd, path in self._traced:
            pgconn.untrace()  # flushes the stream
            os.close(fd)
            # A statement's own line breaks break its line of the trace: its first line will do.
            sent += QUERY.findall(path.read_text())
        return sent


async def test_no_round_trip_is_spent_on_a_ping_before_each_checkout(
    api_services: Services, tmp_path: Path
) -> None:
    """pool_pre_ping sent an empty query (`;`) before every checkout but a connection's
    first: a round trip on every request."""
    store = _store(api_services)
    engine_trace = WireTrace(store.engine.sync_engine, tmp_path)
    writer_trace = WireTrace(store.blocking_engine, tmp_path)
    for _ in range(3):
        async with store.engine.connect() as conn:
            await conn.execute(text("SELECT 42"))
    for n in range(3):
        await store.append("sources", [draft(raw_source(f"source-{n}"))])

    assert engine_trace.queries() == ["BEGIN", "SELECT 42", "ROLLBACK"] * 3
    writes = writer_trace.queries()
    assert writes.count("BEGIN") == writes.count("COMMIT") == 3
    assert not {";", "SELECT 1"} & set(writes)


async def test_a_connection_the_server_dropped_is_replaced_before_use(
    api_services: Services, url: DatabaseUrl
) -> None:
    """A restart, a failover or pg_terminate_backend drops the pools' idle connections: the next
    append, key and read each succeed, on fresh connections, without a ping beforehand."""
    store = _store(api_services)
    keys = KeyStore(store.engine, store.read_path)
    now = datetime.now(UTC)
    await store.append("sources", [draft(raw_source("before"))])
    await keys.create("before", frozenset({"events:write"}), now)
    assert await store.head() == 1

    with psycopg.connect(_libpq(url), autocommit=True) as admin:
        ended = admin.execute(
            "SELECT pg_terminate_backend(pid, %s) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            (TERMINATION_BOUND_MS, make_url(url.raw).database),
        ).fetchall()
    assert len(ended) >= 3 and all(ok for (ok,) in ended)  # the engine's, writer's, read pool's

    result = await store.append("sources", [draft(raw_source("after"))])
    assert [e.position for e in result.events] == [2]
    _, token = await keys.create("after", frozenset({"events:write"}), now)
    assert token
    assert await store.head() == 2
