"""Concurrent appends: each succeeds or fails on its own, positions stay gap-free and ordered.

On the SQL stores, appends made at the same time share one commit (group commit); the contract
is that sharing it changes nothing a writer can observe but the speed.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event

from domain.drafts import EventDraft
from store.database import DatabaseUrl
from store.errors import DuplicateEventConflict, StaleExpectedVersion
from store.factory import open_store
from store.ports import AppendResult, EventQuery, EventStore
from store.sql import SqlEventStore
from tests.builders import draft, drafts, raw_position
from tests.clock import FrozenClock
from tests.support.backends import SQL_BACKENDS


async def _settle(*appends: Any) -> list[AppendResult | BaseException]:
    return list(await asyncio.gather(*appends, return_exceptions=True))


async def test_concurrent_appends_to_their_own_streams_all_land_gap_free(
    store: EventStore,
) -> None:
    outcomes = await _settle(
        *(store.append(f"s{i}", drafts(1 + i % 3), expected_version=0) for i in range(12))
    )
    assert all(isinstance(o, AppendResult) for o in outcomes)
    log = await store.read(EventQuery(limit=1000))
    assert [e.position for e in log] == list(range(1, 1 + sum(1 + i % 3 for i in range(12))))
    for i in range(12):
        assert await store.stream_version(f"s{i}") == 1 + i % 3
    stamps = [e.recorded_at for e in log]
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)


async def test_of_writers_racing_on_one_expected_version_exactly_one_wins(
    store: EventStore,
) -> None:
    outcomes = await _settle(*(store.append("s", drafts(2), expected_version=0) for _ in range(8)))
    won = [o for o in outcomes if isinstance(o, AppendResult)]
    lost = [o for o in outcomes if isinstance(o, StaleExpectedVersion)]
    assert len(won) == 1 and len(lost) == 7
    assert [e.position for e in won[0].events] == [1, 2]
    assert all(o.current == 2 for o in lost)
    assert await store.head() == 2


async def test_a_refused_append_among_concurrent_ones_leaves_the_others_whole(
    store: EventStore,
) -> None:
    await store.append("taken", drafts(1))
    original = raw_position(stance="rejected")
    await store.append("p", [draft(original)])
    changed = {**original, "payload": {**original["payload"], "stance": "accepted"}}
    before = await store.head()
    outcomes = await _settle(
        store.append("a", drafts(2)),
        store.append("taken", drafts(3), expected_version=0),  # stale
        store.append("b", drafts(1)),
        store.append("p", [draft(changed)]),  # same id, other content
        store.append("c", drafts(2)),
    )
    assert isinstance(outcomes[1], StaleExpectedVersion)
    assert isinstance(outcomes[3], DuplicateEventConflict)
    landed = [o for o in outcomes if isinstance(o, AppendResult)]
    assert sorted(len(o.events) for o in landed) == [1, 2, 2]
    log = await store.read(EventQuery(after=before, limit=100))
    assert [e.position for e in log] == list(range(before + 1, before + 6))
    assert {e.stream for e in log} == {"a", "b", "c"}
    assert await store.stream_version("taken") == 1


async def test_a_batch_replayed_concurrently_with_itself_lands_once(store: EventStore) -> None:
    batch = drafts(3)
    outcomes = await _settle(*(store.append("s", batch) for _ in range(5)))
    results = [o for o in outcomes if isinstance(o, AppendResult)]
    assert len(results) == 5, outcomes
    assert sum(not r.duplicate for r in results) == 1
    assert {tuple(e.position for e in r.events) for r in results} == {(1, 2, 3)}
    assert await store.head() == 3


@st.composite
def _plans(draw: st.DrawFn) -> list[tuple[str, int, int | None]]:
    """Appends as (stream, size, expected_version or None), to a few streams."""
    return draw(
        st.lists(
            st.tuples(
                st.sampled_from(["a", "b", "c"]),
                st.integers(1, 3),
                st.one_of(st.none(), st.integers(0, 4)),
            ),
            min_size=1,
            max_size=10,
        )
    )


@pytest.fixture(params=SQL_BACKENDS)
async def sql_url(request: pytest.FixtureRequest) -> AsyncIterator[DatabaseUrl]:
    yield request.getfixturevalue(f"{request.param}_databases").fresh()


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(plans=_plans())
async def test_concurrent_appends_agree_with_some_serial_order(
    sql_url: DatabaseUrl, clock: FrozenClock, plans: list[tuple[str, int, int | None]]
) -> None:
    """The oracle: applying the appends one by one, in the order of their first positions,
    accepts exactly the ones that landed, with the stream versions they got."""
    store = open_store(sql_url, clock)
    try:
        start = await store.head()
        initial = {s: await store.stream_version(s) for s in "abc"}
        versions = dict(initial)
        batches: list[list[EventDraft]] = [drafts(size) for _, size, _ in plans]
        outcomes = await _settle(
            *(
                store.append(s, batch, expected_version=None if e is None else initial[s] + e)
                for (s, _, e), batch in zip(plans, batches, strict=True)
            )
        )
        landed = sorted(
            (o.events[0].position, i) for i, o in enumerate(outcomes) if isinstance(o, AppendResult)
        )
        position = start
        for first, i in landed:
            stream, size, offset = plans[i]
            assert first == position + 1
            if offset is not None:  # it held when its turn came
                assert versions[stream] == initial[stream] + offset
            versions[stream] += size
            position += size
            result = outcomes[i]
            assert isinstance(result, AppendResult)
            assert result.stream_version == versions[stream]
        assert await store.head() == position
        for i, outcome in enumerate(outcomes):
            if not isinstance(outcome, AppendResult):
                assert isinstance(outcome, StaleExpectedVersion), outcome
                assert plans[i][2] is not None
    finally:
        await store.close()


@pytest.mark.parametrize("database_url", SQL_BACKENDS, indirect=True)
async def test_appends_made_at_the_same_time_share_a_commit(
    database_url: DatabaseUrl, clock: FrozenClock
) -> None:
    store = open_store(database_url, clock)
    commits = 0

    def count(_connection: object) -> None:
        nonlocal commits
        commits += 1

    event.listen(store.engine.sync_engine, "commit", count)
    try:
        outcomes = await _settle(*(store.append(f"s{i}", drafts(1)) for i in range(16)))
        assert all(isinstance(o, AppendResult) for o in outcomes)
        assert await store.head() == 16
        assert commits < 16
    finally:
        await store.close()


@pytest.mark.parametrize("database_url", SQL_BACKENDS, indirect=True)
async def test_a_caller_that_goes_away_does_not_undo_the_appends_sharing_its_commit(
    database_url: DatabaseUrl, clock: FrozenClock
) -> None:
    store = open_store(database_url, clock)
    assert isinstance(store, SqlEventStore)
    try:
        leaving = asyncio.ensure_future(store.append("leaving", drafts(1)))
        staying = asyncio.ensure_future(store.append("staying", drafts(1)))
        await asyncio.sleep(0)  # both queued
        leaving.cancel()
        result = await staying
        assert result.stream_version == 1
        assert await store.stream_version("staying") == 1
        assert await store.head() in (1, 2)  # the leaver's append may have landed: it was sent
    finally:
        await store.close()


@pytest.mark.parametrize("database_url", SQL_BACKENDS, indirect=True)
async def test_an_append_the_database_refuses_fails_alone_in_its_group(
    database_url: DatabaseUrl, clock: FrozenClock
) -> None:
    """A batch repeating an id passes every check made in memory; the unique index refuses it.
    The group it shares a commit with is then written again one savepoint each."""
    store = open_store(database_url, clock)
    try:
        twice = drafts(1) * 2
        outcomes = await _settle(
            store.append("a", drafts(1)),
            store.append("twice", twice),
            store.append("b", drafts(2)),
        )
        assert isinstance(outcomes[0], AppendResult) and isinstance(outcomes[2], AppendResult)
        assert isinstance(outcomes[1], Exception)
        log = await store.read(EventQuery(limit=100))
        assert [e.position for e in log] == [1, 2, 3]
        assert {e.stream for e in log} == {"a", "b"}
        assert await store.stream_version("twice") == 0
    finally:
        await store.close()
