"""Idempotency-Key reservations on every SQL backend: one request runs per key, and a key
whose request died mid-flight does not stay "in progress" for ever."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from store.database import DatabaseUrl, create_engine
from store.idempotency import ABANDONED_AFTER, IdempotencyStore
from tests.clock import FrozenClock
from tests.support.backends import SQL_BACKENDS

pytestmark = pytest.mark.parametrize("database_url", SQL_BACKENDS, indirect=True)


@pytest.fixture
async def processes(database_url: DatabaseUrl) -> AsyncIterator[list[IdempotencyStore]]:
    """Two stores on their own engines, standing for two API processes."""
    engines = [create_engine(database_url), create_engine(database_url)]
    try:
        yield [IdempotencyStore(engine) for engine in engines]
    finally:
        for engine in engines:
            await engine.dispose()


async def test_a_pending_reservation_holds_off_a_retry(
    processes: list[IdempotencyStore], clock: FrozenClock
) -> None:
    assert await processes[0].reserve("key", "k1", "body", clock()) is None
    clock.advance(seconds=ABANDONED_AFTER.total_seconds() - 1)

    seen = await processes[1].reserve("key", "k1", "body", clock())

    assert seen is not None and seen.pending


async def test_an_abandoned_reservation_is_taken_over_by_exactly_one_retry(
    processes: list[IdempotencyStore], clock: FrozenClock
) -> None:
    assert await processes[0].reserve("key", "k1", "body", clock()) is None
    clock.advance(seconds=ABANDONED_AFTER.total_seconds() + 1)

    outcomes = await asyncio.gather(
        *(processes[n % 2].reserve("key", "k1", "body", clock()) for n in range(6))
    )

    assert outcomes.count(None) == 1
    assert all(seen is not None and seen.pending for seen in outcomes if seen is not None)


async def test_a_completed_answer_is_replayed_however_old(
    processes: list[IdempotencyStore], clock: FrozenClock
) -> None:
    assert await processes[0].reserve("key", "k1", "body", clock()) is None
    await processes[0].complete("key", "k1", 201, {"appended": 1})
    clock.advance(seconds=ABANDONED_AFTER.total_seconds() * 100)

    seen = await processes[1].reserve("key", "k1", "body", clock())

    assert seen is not None and (seen.status_code, seen.response) == (201, {"appended": 1})
