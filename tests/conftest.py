"""Fixtures shared by every tier: a controllable clock, and stores on every backend."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from store.factory import open_store
from store.memory import InMemoryEventStore
from store.ports import EventStore
from tests.clock import FrozenClock
from tests.databases import PostgresDatabases, SqliteDatabases, session_postgres

BACKENDS = ["memory", "sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
SQL_BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture
def clock() -> FrozenClock:
    """A clock that moves only when a test moves it."""
    return FrozenClock()


@pytest.fixture(scope="session")
def sqlite_databases(tmp_path_factory: pytest.TempPathFactory) -> SqliteDatabases:
    """Migrated SQLite files, one per test."""
    return SqliteDatabases(tmp_path_factory.mktemp("sqlite"))


@pytest.fixture(scope="session")
def postgresql_databases() -> Iterator[PostgresDatabases]:
    """Migrated PostgreSQL databases, one per test."""
    with session_postgres() as databases:
        yield databases


@pytest.fixture
def database_url(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """A fresh migrated database of the backend the test is parametrised with."""
    backend = request.param
    if backend == "sqlite":
        return request.getfixturevalue("sqlite_databases").fresh()
    return request.getfixturevalue("postgresql_databases").fresh()


@pytest.fixture(params=BACKENDS)
async def store(request: pytest.FixtureRequest, clock: FrozenClock) -> AsyncIterator[EventStore]:
    """An empty event store on each backend: in memory, SQLite, PostgreSQL."""
    if request.param == "memory":
        yield InMemoryEventStore(clock)
        return
    databases = request.getfixturevalue(f"{request.param}_databases")
    sql_store = open_store(databases.fresh(), clock)
    try:
        yield sql_store
    finally:
        await sql_store.close()
