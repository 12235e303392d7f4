"""The log's hash chain on every backend: appends extend it, verification finds where a log
rewritten behind the application's back (its guarding triggers lifted) stops following it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.chain import link
from store.database import DatabaseUrl
from store.factory import open_store
from store.memory import InMemoryEventStore
from store.ports import EventStore
from store.rows import chain_content
from store.sql import SqlEventStore, events
from tests.builders import draft, drafts, raw_source
from tests.clock import FrozenClock
from tests.support.backends import SQL_BACKENDS


async def assert_intact(store: EventStore, count: int) -> None:
    report = await store.verify_chain()
    head, head_hash = await store.chain_head()
    assert (report.ok, report.checked, report.head, report.first_broken) == (
        True,
        count,
        count,
        None,
    )
    assert head == count and report.head_hash == head_hash
    assert head_hash is not None and len(head_hash) == 64


async def test_an_empty_log_is_an_intact_chain_with_no_head_hash(store: EventStore) -> None:
    report = await store.verify_chain()
    assert (report.ok, report.checked, report.head, report.head_hash) == (True, 0, 0, None)
    assert await store.chain_head() == (0, None)


async def test_appends_extend_a_chain_that_verifies(store: EventStore, clock: FrozenClock) -> None:
    await store.append("sources", [draft(raw_source())])
    await store.append("s", drafts(3), expected_version=0)
    clock.advance(seconds=1)
    await store.append("s", drafts(2), expected_version=3)
    await assert_intact(store, 6)


async def test_the_head_hash_changes_with_every_append(store: EventStore) -> None:
    seen = set()
    for _ in range(3):
        await store.append("s", [draft()])
        seen.add((await store.chain_head())[1])
    assert len(seen) == 3


async def test_concurrent_appends_committed_together_chain_in_position_order(
    store: EventStore,
) -> None:
    outcomes = await asyncio.gather(
        *(store.append(f"s{i}", drafts(1 + i % 3)) for i in range(20)),
        store.append("s0", drafts(1), expected_version=99),  # refused inside the group
        return_exceptions=True,
    )
    assert sum(isinstance(o, Exception) for o in outcomes) == 1
    await assert_intact(store, sum(1 + i % 3 for i in range(20)))


async def test_a_replayed_append_leaves_the_chain_alone(store: EventStore) -> None:
    batch = drafts(2)
    await store.append("s", batch)
    before = await store.chain_head()
    await store.append("s", batch)
    assert await store.chain_head() == before
    await assert_intact(store, 2)


async def test_verification_pages_through_the_log_reporting_progress(store: EventStore) -> None:
    for i in range(7):
        await store.append(f"s{i}", [draft()])
    calls: list[tuple[int, int]] = []
    report = await store.verify_chain(lambda done, total: calls.append((done, total)), batch=3)
    assert report.ok and report.checked == 7
    assert calls[-1] == (7, 7)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)


async def test_verification_since_the_checkpoint_checks_each_event_once(store: EventStore) -> None:
    await store.append("sources", drafts(3))
    first = await store.verify_chain_since_checkpoint()
    assert (first.ok, first.since, first.checked, first.head) == (True, 0, 3, 3)
    await store.append("sources", drafts(2))
    second = await store.verify_chain_since_checkpoint()
    head, head_hash = await store.chain_head()
    assert (second.ok, second.since, second.checked, second.head) == (True, 3, 2, head)
    assert second.head_hash == head_hash
    idle = await store.verify_chain_since_checkpoint()
    assert (idle.ok, idle.since, idle.checked, idle.head_hash) == (True, 5, 0, head_hash)


async def test_every_backend_hashes_the_same_log_identically(
    store: EventStore, clock: FrozenClock
) -> None:
    memory = InMemoryEventStore(clock)
    appends = [("sources", [draft(raw_source())]), ("s", drafts(3)), ("t", drafts(2))]
    for stream, batch in appends:
        metadata = {"recorded_by": "desk", "correlation_id": stream}
        await store.append(stream, batch, metadata=metadata)
        await memory.append(stream, batch, metadata=metadata)
        clock.advance(microseconds=7)
    assert await store.chain_head() == await memory.chain_head()


# --- tampering, with the database's own guards lifted -------------------------------------------


@pytest.fixture
async def logged(database_url: DatabaseUrl, clock: FrozenClock) -> AsyncIterator[SqlEventStore]:
    """A SQL store holding five events appended the normal way."""
    sql_store = open_store(database_url, clock)
    await sql_store.append("sources", [draft(raw_source())])
    await sql_store.append("s", drafts(4))
    try:
        yield sql_store
    finally:
        await sql_store.close()


async def behind_the_apps_back(
    store: SqlEventStore, *statements: tuple[str, dict[str, Any]]
) -> None:
    """Run statements on the log with its append-only triggers out of the way."""
    async with store.engine.begin() as conn:
        await lift_guards(conn)
        for statement, parameters in statements:
            await conn.execute(text(statement), parameters)


async def lift_guards(conn: AsyncConnection) -> None:
    if conn.dialect.name == "postgresql":
        await conn.execute(text("ALTER TABLE events DISABLE TRIGGER USER"))
        return
    for trigger in ("events_no_update", "events_no_delete"):
        await conn.execute(text(f"DROP TRIGGER {trigger}"))


async def stored(store: SqlEventStore, position: int) -> dict[str, Any]:
    async with store.engine.connect() as conn:
        row = (await conn.execute(select(events).where(events.c.position == position))).one()
    return dict(row._mapping)


@pytest.mark.parametrize("database_url", SQL_BACKENDS, indirect=True)
async def test_the_chain_of_a_normal_log_is_intact(logged: SqlEventStore) -> None:
    await assert_intact(logged, 5)


@pytest.mark.parametrize("database_url", SQL_BACKENDS, indirect=True)
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE events SET stream = 'forged' WHERE position = 3",
        "UPDATE events SET recorded_at = recorded_at + 1 WHERE position = 3",
        "UPDATE events SET occurred_earliest = 0 WHERE position = 3",
        "UPDATE events SET metadata = sources WHERE position = 3",
        "UPDATE events SET hash = '" + "f" * 64 + "' WHERE position = 3",
    ],
    ids=["content", "recorded_at", "derived-valid-time", "json-column", "hash"],
)
async def test_verification_names_the_position_changed_behind_the_apps_back(
    logged: SqlEventStore, statement: str
) -> None:
    await behind_the_apps_back(logged, (statement, {}))
    report = await logged.verify_chain(batch=2)
    assert (report.ok, report.first_broken, report.checked) == (False, 3, 5)


@pytest.mark.parametrize("database_url", SQL_BACKENDS, indirect=True)
async def test_a_forger_who_rehashes_the_changed_event_is_caught_at_its_successor(
    logged: SqlEventStore,
) -> None:
    previous, target = await stored(logged, 2), await stored(logged, 3)
    forged_hash = link(previous["hash"], chain_content({**target, "stream": "forged"}))
    await behind_the_apps_back(
        logged,
        (
            "UPDATE events SET stream = 'forged', hash = :hash WHERE position = 3",
            {"hash": forged_hash},
        ),
    )
    report = await logged.verify_chain()
    assert report.first_broken == 4


@pytest.mark.parametrize("database_url", SQL_BACKENDS, indirect=True)
async def test_a_deleted_event_is_caught_at_its_successor(logged: SqlEventStore) -> None:
    await behind_the_apps_back(logged, ("DELETE FROM events WHERE position = 2", {}))
    report = await logged.verify_chain()
    assert (report.first_broken, report.checked) == (3, 4)


@pytest.mark.parametrize("database_url", SQL_BACKENDS, indirect=True)
async def test_appending_after_tampering_does_not_launder_it(logged: SqlEventStore) -> None:
    await behind_the_apps_back(logged, ("UPDATE events SET stream = 'x' WHERE position = 4", {}))
    await logged.append("later", drafts(2))
    report = await logged.verify_chain()
    assert (report.first_broken, report.head) == (4, 7)
