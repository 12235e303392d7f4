"""Fixtures of the in-process API tests: the API over a fresh SQLite database, seeded or not."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.clock import FrozenClock
from tests.databases import SqliteDatabases
from tests.support.api import Api, serving


@pytest.fixture
async def api(sqlite_databases: SqliteDatabases, clock: FrozenClock) -> AsyncIterator[Api]:
    """The API on an empty log."""
    async with serving(sqlite_databases.fresh(), clock) as running:
        yield running


@pytest.fixture
async def seeded(api: Api) -> Api:
    """The API with the first data set loaded through the write path."""
    from api.seeding import seed

    report = await seed(api.services.store, api.services.clock)
    assert report.appended > 0
    return api
