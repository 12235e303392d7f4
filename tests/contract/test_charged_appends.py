"""An append that carries a write charge counts it against its key's allowance in the append's
own transaction: over the allowance it is refused and writes nothing; every attempt counts."""

from __future__ import annotations

import asyncio

import pytest

from domain.valid_time import to_micros
from store.errors import RateLimited, StaleExpectedVersion
from store.ports import AppendResult, EventStore
from store.rate_limits import RateLimiter, WriteCharge
from store.sql import SqlEventStore
from tests.builders import drafts
from tests.clock import FrozenClock


def charge(clock: FrozenClock, key: str = "k", limit: int = 2) -> WriteCharge:
    return WriteCharge(key, limit, 60, to_micros(clock()))


async def spend_the_allowance(store: EventStore, clock: FrozenClock) -> RateLimited:
    """Two appends within the allowance of two, and the refusal of a third."""
    for n in range(2):
        await store.append(f"s{n}", drafts(1), charge=charge(clock))
    with pytest.raises(RateLimited) as refused:
        await store.append("s9", drafts(1), charge=charge(clock))
    return refused.value


async def test_the_append_over_the_allowance_is_refused_and_writes_nothing(
    store: EventStore, clock: FrozenClock
) -> None:
    refused = await spend_the_allowance(store, clock)
    assert (refused.limit, refused.seconds) == (2, 60)
    assert 1 <= refused.retry_after <= 60
    assert await store.head() == 2
    await store.append("s9", drafts(1), charge=charge(clock, key="other"))
    assert await store.head() == 3, "another key has its own allowance"


async def test_a_refused_append_still_counts(store: EventStore, clock: FrozenClock) -> None:
    await store.append("s", drafts(1), charge=charge(clock))
    with pytest.raises(StaleExpectedVersion):
        await store.append("s", drafts(1), expected_version=0, charge=charge(clock))
    with pytest.raises(RateLimited):
        await store.append("t", drafts(1), charge=charge(clock))


async def test_the_allowance_returns_when_the_window_turns(
    store: EventStore, clock: FrozenClock
) -> None:
    refused = await spend_the_allowance(store, clock)
    clock.advance(seconds=refused.retry_after)
    await store.append("s9", drafts(1), charge=charge(clock))
    assert await store.head() == 3


async def test_appends_made_together_are_counted_one_by_one(
    store: EventStore, clock: FrozenClock
) -> None:
    """On the SQL stores these share one transaction (group commit)."""
    outcomes = await asyncio.gather(
        *(store.append(f"s{n}", drafts(1), charge=charge(clock, limit=3)) for n in range(5)),
        return_exceptions=True,
    )
    assert sum(isinstance(o, AppendResult) for o in outcomes) == 3
    assert sum(isinstance(o, RateLimited) for o in outcomes) == 2
    assert await store.head() == 3


async def test_appends_and_other_writes_share_the_window(
    store: EventStore, clock: FrozenClock
) -> None:
    if not isinstance(store, SqlEventStore):
        pytest.skip("other writes count through the database's rate windows")
    limiter = RateLimiter(store.engine, store.backend, limit=2, seconds=60)
    assert (await limiter.spend("k", clock())).allowed
    await store.append("s", drafts(1), charge=limiter.charge("k", clock()))
    assert not (await limiter.spend("k", clock())).allowed
    with pytest.raises(RateLimited):
        await store.append("t", drafts(1), charge=limiter.charge("k", clock()))
