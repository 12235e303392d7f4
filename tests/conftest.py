"""Fixtures shared by every tier: a controllable clock, and stores on every backend."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from store.factory import open_store
from store.memory import InMemoryEventStore
from store.ports import EventStore
from tests.clock import FrozenClock
from tests.databases import PostgresDatabases, SqliteDatabases, session_postgres
from tests.support.backends import BACKENDS

# Tests in these folders run live servers, a browser or the drills: the `slow` tier, left out of
# `make check` (pytest -m "not slow") and run by `make test`.
SLOW_FOLDERS = frozenset({"e2e", "browser", "reliability"})


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
    url = databases.fresh()
    sql_store = open_store(url, clock)
    try:
        yield sql_store
    finally:
        await sql_store.close()
        databases.release(url)


def pytest_configure(config: pytest.Config) -> None:
    """Hypothesis: more examples and no deadline in CI, where machines are shared and slow."""
    from hypothesis import HealthCheck, settings

    settings.register_profile(
        "ci", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
    )
    settings.register_profile("dev", max_examples=50, deadline=None)
    settings.load_profile("ci" if os.environ.get("CI", "").lower() == "true" else "dev")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test of the slow folders `slow`, so a new one cannot slip into the fast tier."""
    tests = Path(__file__).parent
    for item in items:
        relative = item.path.relative_to(tests) if item.path.is_relative_to(tests) else None
        if relative is not None and relative.parts[0] in SLOW_FOLDERS:
            item.add_marker(pytest.mark.slow)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Say how many tests ran, passed and failed on each store backend."""
    counts: dict[str, dict[str, int]] = {}
    for outcome in ("passed", "failed", "skipped", "error"):
        for report in terminalreporter.stats.get(outcome, []):
            backend = next(
                (b for b in ("memory", "sqlite", "postgresql") if f"[{b}" in report.nodeid),
                None,
            )
            if backend is None and "postgres" in report.nodeid:
                backend = "postgresql"
            if backend is not None:
                counts.setdefault(backend, {}).setdefault(outcome, 0)
                counts[backend][outcome] += 1
    if counts:
        terminalreporter.section("tests per store backend")
        for backend, outcomes in sorted(counts.items()):
            line = ", ".join(f"{n} {o}" for o, n in sorted(outcomes.items()))
            terminalreporter.write_line(f"{backend}: {line}")
