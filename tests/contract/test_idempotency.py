"""Idempotency-Key reservations on every SQL backend: one request runs per key, a key whose
request died mid-flight does not stay "in progress" for ever, and an append's answer is recorded
by the append's own transaction (a retry after a crash between commit and answer replays it)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import pytest

from domain.valid_time import to_micros
from store.database import DatabaseUrl, create_engine
from store.errors import ReservationLost
from store.factory import open_store
from store.idempotency import ABANDONED_AFTER, IdempotencyStore
from store.ports import AppendResult, IdempotentAnswer
from store.sql import SqlEventStore
from tests.builders import draft, raw_source
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
    reserved = clock()
    assert await processes[0].reserve("key", "k1", "body", reserved) is None
    await processes[0].complete("key", "k1", reserved, 201, {"appended": 1})
    clock.advance(seconds=ABANDONED_AFTER.total_seconds() * 100)

    seen = await processes[1].reserve("key", "k1", "body", clock())

    assert seen is not None and (seen.status_code, seen.response) == (201, {"appended": 1})


def answer_for(reserved: datetime) -> IdempotentAnswer:
    def respond(result: AppendResult) -> tuple[int, dict[str, Any]]:
        return 201, {"positions": [e.position for e in result.events]}

    return IdempotentAnswer("key", "k1", to_micros(reserved), respond)


@pytest.fixture
async def event_store(
    database_url: DatabaseUrl, clock: FrozenClock
) -> AsyncIterator[SqlEventStore]:
    sql_store = open_store(database_url, clock)
    try:
        yield sql_store
    finally:
        await sql_store.close()


async def test_an_appends_answer_is_recorded_by_its_own_transaction(
    processes: list[IdempotencyStore], event_store: SqlEventStore, clock: FrozenClock
) -> None:
    reserved = clock()
    assert await processes[0].reserve("key", "k1", "body", reserved) is None
    result = await event_store.append("s", [draft(raw_source())], answer=answer_for(reserved))

    # No `complete` was called: a crash right after the commit leaves the answer recorded.
    clock.advance(seconds=ABANDONED_AFTER.total_seconds() * 100)
    seen = await processes[1].reserve("key", "k1", "body", clock())
    assert seen is not None and not seen.pending
    assert (seen.status_code, seen.response) == (201, {"positions": [result.events[0].position]})


async def test_an_append_that_does_not_commit_records_no_answer(
    processes: list[IdempotencyStore], database_url: DatabaseUrl, clock: FrozenClock
) -> None:
    async def fail_the_commit(_appended: object) -> None:
        raise RuntimeError("the transaction dies before its commit")

    failing = open_store(database_url, clock)
    failing._before_commit = fail_the_commit  # the hook SqlEventStore takes for such tests
    reserved = clock()
    assert await processes[0].reserve("key", "k1", "body", reserved) is None
    try:
        with pytest.raises(RuntimeError):
            await failing.append("s", [draft(raw_source())], answer=answer_for(reserved))
        assert await failing.head() == 0
    finally:
        await failing.close()
    seen = await processes[1].reserve("key", "k1", "body", clock())
    assert seen is not None and seen.pending  # still the first request's: nothing recorded


async def test_a_request_whose_reservation_was_taken_over_appends_nothing(
    processes: list[IdempotencyStore], event_store: SqlEventStore, clock: FrozenClock
) -> None:
    """The first request was slow enough to be taken for dead; its retry took the key over.
    The first must not append as well (that was a second copy of the events)."""
    first = clock()
    assert await processes[0].reserve("key", "k1", "body", first) is None
    clock.advance(seconds=ABANDONED_AFTER.total_seconds() + 1)
    retry = clock()
    assert await processes[1].reserve("key", "k1", "body", retry) is None

    with pytest.raises(ReservationLost):
        await event_store.append("s", [draft(raw_source("a"))], answer=answer_for(first))
    assert await event_store.head() == 0
    # Nor may the first request's release or complete touch the retry's reservation.
    await processes[0].release("key", "k1", first)
    await processes[0].complete("key", "k1", first, 422, {"refused": True})
    await event_store.append("s", [draft(raw_source("b"))], answer=answer_for(retry))
    seen = await processes[0].reserve("key", "k1", "body", clock())
    assert seen is not None and (seen.status_code, seen.response) == (201, {"positions": [1]})
