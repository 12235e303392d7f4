"""A real `timeline serve` over a seeded SQLite copy, started and stopped by the test using it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.databases import SqliteDatabases
from tests.support.live import LiveServer, live_server


@pytest.fixture
def live(sqlite_databases: SqliteDatabases, tmp_path: Path) -> Iterator[LiveServer]:
    """A seeded server with fast heartbeats and short stream lifetimes."""
    settings = {"TIMELINE_SSE_HEARTBEAT": "0.5", "TIMELINE_SSE_MAX_LIFETIME": "3"}
    with live_server(sqlite_databases.seeded().raw, tmp_path, settings=settings) as server:
        yield server
