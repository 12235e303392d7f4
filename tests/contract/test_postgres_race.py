"""Gap safety on PostgreSQL: a reader tailing the log by position never misses an event.

Many writers append at once, some holding their transaction open after taking positions, while a
reader follows the log with `read(after=cursor)`. A store that let positions commit out of order
would show the reader a later position first; the reader would pass the earlier one and never see
it. The race is run once against the real store, and once against a store that takes positions
from a bare sequence without serialising appends, to prove it catches exactly that.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from uuid import uuid4

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from store.database import DatabaseUrl
from store.ports import EventQuery
from store.postgres import PostgresEventStore
from store.records import RecordedEvent
from store.sql import BeforeCommit, SqlEventStore
from tests.builders import draft, raw_source
from tests.clock import FrozenClock
from tests.databases import PostgresDatabases

pytestmark = pytest.mark.postgres

HOLDERS = 4  # writers that hold their transaction open before commit
CHASERS = HOLDERS  # one per holder: appends while its holder holds
FREE = 2  # writers that append as fast as they can
WRITERS = HOLDERS + CHASERS + FREE
HOLDER_ROUNDS = 3
FREE_ROUNDS = 8
FREE_BATCH = 2
# How long a holder keeps its transaction open at most: until the reader passes its position
# (which a gap-safe store never lets happen), or this long.
HOLD_SECONDS = 0.2
# Bounds on waits that always end in a working harness; reaching one fails the test.
CHASE_TIMEOUT = 10.0
RACE_TIMEOUT = 30.0


def holder_batch(round_: int) -> int:
    """How many events a holder appends in a round: one or two."""
    return 1 + round_ % 2


EXPECTED_EVENTS = (
    HOLDERS * sum(holder_batch(r) for r in range(HOLDER_ROUNDS))
    + CHASERS * HOLDER_ROUNDS
    + FREE * FREE_ROUNDS * FREE_BATCH
)

StoreFactory = Callable[[AsyncEngine, FrozenClock, BeforeCommit | None], SqlEventStore]


class UnserializedPostgresEventStore(PostgresEventStore):
    """The bug the race must catch: no append lock, positions from a sequence (taken pre-commit)."""

    SEQUENCE = "race_positions"

    async def serialize(self, conn: AsyncConnection) -> None:
        """Take no lock: concurrent appends commit in any order."""

    async def next_positions(self, conn: AsyncConnection, head: int, count: int) -> list[int]:
        """The next values of the sequence, handed out before this transaction commits."""
        result = await conn.execute(
            text(f"SELECT nextval('{self.SEQUENCE}') FROM generate_series(1, :count)"),
            {"count": count},
        )
        return sorted(int(value) for value in result.scalars())


@dataclass
class Tail:
    """What the reader has seen, and the holders waiting for it to pass their positions."""

    cursor: int = 0
    seen: list[RecordedEvent] = field(default_factory=list)
    skips: list[tuple[int, int]] = field(default_factory=list)  # (cursor, next position read)
    wake: asyncio.Event = field(default_factory=asyncio.Event)  # set after every commit
    writers_done: bool = False
    _waiters: list[tuple[int, asyncio.Event]] = field(default_factory=list)

    def advance(self, page: Sequence[RecordedEvent]) -> None:
        for event in page:
            if event.position != self.cursor + 1:
                self.skips.append((self.cursor, event.position))
            self.seen.append(event)
            self.cursor = event.position
        for position, passed in self._waiters:
            if position <= self.cursor:
                passed.set()

    async def passes(self, position: int, seconds: float) -> bool:
        """Whether the reader moves past `position` within that many seconds."""
        passed = asyncio.Event()
        waiter = (position, passed)
        self._waiters.append(waiter)
        if self.cursor >= position:
            passed.set()
        try:
            async with asyncio.timeout(seconds):
                await passed.wait()
            return True
        except TimeoutError:
            return False
        finally:
            self._waiters.remove(waiter)


@dataclass
class Holder:
    """A writer that takes positions, then holds its transaction open before commit."""

    tail: Tail
    taken: list[asyncio.Event] = field(
        default_factory=lambda: [asyncio.Event() for _ in range(HOLDER_ROUNDS)]
    )
    round: int = 0
    overtaken: list[bool] = field(default_factory=list)  # per hold: did the reader pass it?

    async def before_commit(self, appended: Sequence[RecordedEvent]) -> None:
        self.taken[self.round].set()  # its chaser may append now
        first = min(event.position for event in appended)
        self.overtaken.append(await self.tail.passes(first, HOLD_SECONDS))


@dataclass
class RaceResult:
    tail: Tail
    log: list[RecordedEvent]
    appended: int
    holders: list[Holder]

    @property
    def missed(self) -> list[int]:
        seen = {event.position for event in self.tail.seen}
        return [event.position for event in self.log if event.position not in seen]


async def read_log(store: SqlEventStore) -> list[RecordedEvent]:
    log: list[RecordedEvent] = []
    while page := await store.read(EventQuery(after=log[-1].position if log else 0, limit=1000)):
        log.extend(page)
    return log


async def follow(store: SqlEventStore, tail: Tail) -> None:
    """Tail the log by position until the writers are done and nothing is left to read."""
    while True:
        tail.wake.clear()
        finished = tail.writers_done  # read before the query: every commit precedes it then
        page = await store.read(EventQuery(after=tail.cursor, limit=1000))
        if page:
            tail.advance(page)
        elif finished:
            return
        else:
            await tail.wake.wait()


async def race(url: DatabaseUrl, clock: FrozenClock, make_store: StoreFactory) -> RaceResult:
    """Holders, their chasers and free writers append at once while one reader tails the log."""
    engine = create_async_engine(url.async_url, pool_size=WRITERS + 2, max_overflow=0)
    tail = Tail()
    holders = [Holder(tail) for _ in range(HOLDERS)]
    appended = 0
    opened: list[SqlEventStore] = []

    def store_for(hook: BeforeCommit | None) -> SqlEventStore:
        opened.append(make_store(engine, clock, hook))
        return opened[-1]

    async def append(store: SqlEventStore, stream: str, version: int, size: int) -> None:
        nonlocal appended
        # Registrations touch no read model, so the race is about log positions alone.
        batch = [draft(raw_source(f"s{uuid4().hex[:12]}")) for _ in range(size)]
        await store.append(stream, batch, expected_version=version)
        appended += size
        tail.wake.set()

    async def hold(index: int, holder: Holder) -> None:
        store = store_for(holder.before_commit)
        version = 0
        for round_ in range(HOLDER_ROUNDS):
            holder.round = round_
            size = holder_batch(round_)
            await append(store, f"holder-{index}", version, size)
            version += size

    async def chase(index: int, holder: Holder) -> None:
        store = store_for(None)
        for round_ in range(HOLDER_ROUNDS):
            async with asyncio.timeout(CHASE_TIMEOUT):
                await holder.taken[round_].wait()
            await append(store, f"chaser-{index}", round_, 1)

    async def run_free(index: int) -> None:
        store = store_for(None)
        for round_ in range(FREE_ROUNDS):
            await append(store, f"free-{index}", round_ * FREE_BATCH, FREE_BATCH)

    try:
        async with asyncio.timeout(RACE_TIMEOUT), asyncio.TaskGroup() as group:
            group.create_task(follow(store_for(None), tail))
            try:
                async with asyncio.TaskGroup() as writers:
                    for index, holder in enumerate(holders):
                        writers.create_task(hold(index, holder))
                        writers.create_task(chase(index, holder))
                    for index in range(FREE):
                        writers.create_task(run_free(index))
            finally:
                tail.writers_done = True
                tail.wake.set()
        async with asyncio.timeout(RACE_TIMEOUT):
            log = await read_log(store_for(None))
    finally:
        # Each store holds a read pool, and a writer thread with a connection of its own: they
        # are closed here, not left for the database's drop to cut (close disposes the engine).
        async with asyncio.timeout(RACE_TIMEOUT):
            for store in opened:
                await store.close()
        await engine.dispose()
    return RaceResult(tail=tail, log=log, appended=appended, holders=holders)


def real_store(engine: AsyncEngine, clock: FrozenClock, hook: BeforeCommit | None) -> SqlEventStore:
    return PostgresEventStore(engine, clock, before_commit=hook)


def unserialized_store(
    engine: AsyncEngine, clock: FrozenClock, hook: BeforeCommit | None
) -> SqlEventStore:
    return UnserializedPostgresEventStore(engine, clock, before_commit=hook)


@pytest.fixture
async def database(postgresql_databases: PostgresDatabases) -> AsyncIterator[DatabaseUrl]:
    url = postgresql_databases.fresh()
    yield url
    postgresql_databases.release(url)


async def test_a_tailing_reader_sees_every_position_once_in_order_under_concurrent_writers(
    database: DatabaseUrl, clock: FrozenClock
) -> None:
    result = await race(database, clock, real_store)

    holds = [overtaken for holder in result.holders for overtaken in holder.overtaken]
    assert len(holds) == HOLDERS * HOLDER_ROUNDS
    assert not any(holds), "the reader passed a position that was not committed yet"
    assert result.tail.skips == []
    total = result.appended
    assert total == EXPECTED_EVENTS
    assert [event.position for event in result.tail.seen] == list(range(1, total + 1))
    assert [(e.position, e.id) for e in result.log] == [
        (e.position, e.id) for e in result.tail.seen
    ]
    assert result.missed == []
    stamps = [event.recorded_at for event in result.log]
    assert all(a < b for a, b in pairwise(stamps)), "recorded_at must increase with position"


async def test_the_race_catches_a_store_whose_positions_commit_out_of_order(
    database: DatabaseUrl, clock: FrozenClock
) -> None:
    engine = create_async_engine(database.async_url)
    async with engine.begin() as conn:
        await conn.execute(text(f"CREATE SEQUENCE {UnserializedPostgresEventStore.SEQUENCE}"))
    await engine.dispose()

    result = await race(database, clock, unserialized_store)

    assert any(overtaken for holder in result.holders for overtaken in holder.overtaken)
    assert result.tail.skips, "the reader never saw a later position before an earlier one"
    assert result.missed, "every position the reader skipped turned up before it passed it"
    passed = max(event.position for event in result.tail.seen)
    assert all(position < passed for position in result.missed)
    # The log itself ends up gap-free: the reader missed events that exist.
    assert result.appended == EXPECTED_EVENTS
    assert [event.position for event in result.log] == list(range(1, EXPECTED_EVENTS + 1))
