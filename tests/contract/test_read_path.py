"""The read path (store/read_path.py): reads on the bare driver see every append that returned,
decode rows as SQLAlchemy did, and turn a database that cannot be reached into
DatabaseUnavailable (a 503), never a driver error (a 500)."""

from __future__ import annotations

import asyncio
import os
import threading
from typing import Any
from uuid import uuid4

import msgspec
import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

import store.read_path
from domain.valid_time import to_micros
from store.database import DatabaseUrl
from store.errors import DatabaseUnavailable
from store.factory import open_store
from store.ports import EventQuery, EventStore
from store.read_models.queries import TimelineQuery
from store.read_models.sql import INLINE_ROWS
from tests.builders import draft, raw_actor, raw_position, raw_source
from tests.clock import FrozenClock
from tests.databases import PostgresDatabases, SqliteDatabases

PROPOSAL = "us-30-day-ceasefire-2025"


async def test_every_read_sees_the_append_that_just_returned(
    store: EventStore, clock: FrozenClock
) -> None:
    seen = []
    for i in range(3):
        result = await store.append("s", [draft(raw_source(f"src-{i}"))])
        [event] = result.events
        seen.append(event)
        assert await store.head() == event.position
        assert await store.get(event.id) == event
        assert await store.stream_version("s") == i + 1
        assert (await store.read(EventQuery(after=event.position - 1)))[0] == event
    assert await store.get_many([e.id for e in seen] + [uuid4()]) == {e.id: e for e in seen}


async def test_a_position_read_decodes_the_stored_state(
    store: EventStore, clock: FrozenClock
) -> None:
    await store.append("s", [draft(raw_source()), draft(raw_actor())])
    await store.append("s", [draft(raw_position(quote=None))])
    now = to_micros(clock()) + 10**6  # the frozen clock's stamps run a little ahead of it
    states = await store.proposal_positions(PROPOSAL, now, now)
    [(actor, state)] = states.items()
    assert (actor, state["stance"]) == ("russia", "rejected")
    assert await store.position((actor, PROPOSAL), now, now) == state
    assert await store.position((actor, PROPOSAL), now, now - 10**9) is None  # not yet known
    # As the API's JSON, as stored: the same state, not yet known alike.
    assert await store.position_json((actor, PROPOSAL), now, now) == msgspec.json.encode(state)
    assert await store.position_json((actor, PROPOSAL), now, now - 10**9) is None
    assert await store.registered(["actor:russia", "actor:nobody"]) == {"actor:russia"}


async def test_a_position_read_as_json_sees_each_append_that_just_returned(
    store: EventStore, clock: FrozenClock
) -> None:
    # One statement without a transaction around it (SQLite): it must not keep a snapshot.
    pair, end = ("russia", PROPOSAL), 2**62
    await store.append("s", [draft(raw_source()), draft(raw_actor())])
    assert await store.position_json(pair, end, end) is None
    for stance in ("rejected", "conditional", "accepted"):
        clock.advance(seconds=1)
        await store.append("s", [draft(raw_position(stance=stance, occurred_at="2025-03-14"))])
        found = await store.position_json(pair, end, end)
        assert found is not None and msgspec.json.decode(found)["stance"] == stance


async def test_a_position_read_as_json_gives_escapes_and_non_ascii_text_as_they_were_encoded(
    store: EventStore, clock: FrozenClock
) -> None:
    # Stored as text, sent as its UTF-8 bytes: no escape read as anything else on the way.
    text = 'Kyiv\'s "pause" \\ \u2014 \u00abno\u00bb \U0001f54a\n'
    condition = {"id": "kursk", "text": text}
    await store.append("s", [draft(raw_source()), draft(raw_actor())])
    await store.append("s", [draft(raw_position(stance="conditional", conditions=[condition]))])
    end = 2**62
    found = await store.position_json(("russia", PROPOSAL), end, end)
    state = await store.position(("russia", PROPOSAL), end, end)
    assert state is not None and state["conditions"][0]["text"] == text
    assert found == msgspec.json.encode(state)


async def test_an_unopenable_sqlite_file_is_unavailable_not_an_error(
    sqlite_databases: SqliteDatabases, clock: FrozenClock
) -> None:
    url = sqlite_databases.fresh()
    sql_store = open_store(url, clock)
    path = str(make_url(url.raw).database)
    os.unlink(path)
    os.mkdir(path)  # where the file was, something SQLite cannot open
    try:
        with pytest.raises(DatabaseUnavailable):
            await sql_store.head()
        with pytest.raises(DatabaseUnavailable):
            await sql_store.reads.registry("actor", 0, 1)
        with pytest.raises(DatabaseUnavailable):
            await sql_store.position_json(("russia", PROPOSAL), 0, 1)
    finally:
        await sql_store.close()
        os.rmdir(path)


async def test_an_unreachable_postgresql_is_unavailable_within_the_checkout_bound(
    clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store.read_path, "CHECKOUT_SECONDS", 0.5)
    # Port 1 on the loopback: refused at once, every time the pool tries.
    sql_store = open_store(DatabaseUrl("postgresql://nobody@127.0.0.1:1/none"), clock)
    try:
        with pytest.raises(DatabaseUnavailable):
            await sql_store.head()
    finally:
        await sql_store.close()


async def test_a_read_connection_the_server_dropped_is_replaced_not_an_outage(
    postgresql_databases: PostgresDatabases, clock: FrozenClock
) -> None:
    url = postgresql_databases.fresh()
    sql_store = open_store(url, clock)
    try:
        await sql_store.append("s", [draft(raw_source())])
        assert await sql_store.head() == 1  # the read pool has a connection now
        libpq = make_url(url.raw).set(drivername="postgresql").render_as_string(False)
        with psycopg.connect(libpq, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        assert await sql_store.position_json(("russia", PROPOSAL), 0, 1) is None
        assert await sql_store.head() == 1
        assert await sql_store.stream_version("s") == 1
    finally:
        await sql_store.close()
        postgresql_databases.release(url)


async def test_a_page_read_off_the_event_loop_answers_as_one_read_on_it(
    store: EventStore, clock: FrozenClock
) -> None:
    await store.append("s", [draft(raw_source()), draft(raw_actor())])
    await store.append("s", [draft(raw_position(quote=None)) for _ in range(12)])
    small = [
        e for after in range(0, 14, 5) for e in await store.read(EventQuery(after=after, limit=5))
    ]
    assert await store.read(EventQuery(after=0, limit=INLINE_ROWS + 1)) == small
    known = to_micros(clock()) + 10**6
    first = await store.reads.timeline(TimelineQuery(known_at=known, limit=3))
    assert len(first) == 3
    assert (await store.reads.timeline(TimelineQuery(known_at=known, limit=INLINE_ROWS + 1)))[
        :3
    ] == first


async def test_a_cancelled_read_off_the_loop_lets_go_of_its_connection_before_it_ends(
    sqlite_databases: SqliteDatabases, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A request cancelled (a client gone, a server stopping) during a read in a worker thread:
    its statement is interrupted and the thread has finished with the connection by the time
    the cancellation is done. (Before, the thread ran on, on a connection checked back in and
    handed to the next read, and a shutdown waited for it: a test run hung there once.)"""
    entered, left = threading.Event(), threading.Event()
    run = store.read_path._SqliteReads._run

    def watched(self: Any, statement: Any, parameters: Any) -> Any:
        entered.set()
        try:
            return run(self, statement, parameters)
        finally:
            left.set()

    monkeypatch.setattr(store.read_path._SqliteReads, "_run", watched)
    sql_store = open_store(sqlite_databases.fresh(), clock)
    endless = text(  # seconds of counting, unless interrupted
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2e7) "
        "SELECT count(*) FROM n"
    )

    async def long_read() -> Any:
        async with sql_store._reading(inline=False) as conn:
            return await conn.execute(endless)

    try:
        reading = asyncio.create_task(long_read())
        await asyncio.to_thread(entered.wait)
        reading.cancel()
        with pytest.raises(asyncio.CancelledError):
            await reading
        assert left.is_set()
        assert await sql_store.head() == 0  # the next read finds a usable connection
    finally:
        await sql_store.close()
