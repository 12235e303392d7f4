"""The write rate limit on every SQL backend: counted per key and window, shared by every
process (two engines stand for two API processes), reset when the window turns."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from store.database import DatabaseUrl, create_engine
from store.rate_limits import RateLimiter
from tests.clock import FrozenClock
from tests.support.backends import SQL_BACKENDS

pytestmark = pytest.mark.parametrize("database_url", SQL_BACKENDS, indirect=True)


@pytest.fixture
async def limiters(database_url: DatabaseUrl) -> AsyncIterator[list[RateLimiter]]:
    engines = [create_engine(database_url), create_engine(database_url)]
    try:
        yield [RateLimiter(e, database_url.backend, limit=5, seconds=60) for e in engines]
    finally:
        for engine in engines:
            await engine.dispose()


async def test_two_processes_share_one_allowance_per_key(
    limiters: list[RateLimiter], clock: FrozenClock
) -> None:
    spent = await asyncio.gather(*(limiters[n % 2].spend("k", clock()) for n in range(8)))
    assert sorted(a.allowed for a in spent).count(True) == 5
    assert sorted(a.remaining for a in spent) == [0, 0, 0, 0, 1, 2, 3, 4]
    assert (await limiters[0].spend("other", clock())).allowed, "another key has its own"


async def test_the_allowance_returns_when_the_window_turns(
    limiters: list[RateLimiter], clock: FrozenClock
) -> None:
    for _ in range(5):
        assert (await limiters[0].spend("k", clock())).allowed
    refused = await limiters[1].spend("k", clock())
    assert not refused.allowed and 1 <= refused.retry_after <= 60
    clock.advance(seconds=refused.retry_after)
    assert (await limiters[1].spend("k", clock())).allowed
