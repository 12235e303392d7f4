"""Rebuild the positions read model from the log: replay every event, then swap the rows in.

The replay feeds each event, in position order, through the same projector the append path runs
(`store.projection.project`), here over an in-memory index and rows: each event is projected at
its own recorded_at, so the rows come out as the live table holds them. Then one write
transaction, serialised with appends exactly as an append is (BEGIN IMMEDIATE on SQLite, the
append advisory lock on PostgreSQL), replays whatever was appended meanwhile, deletes every row
of `positions`, inserts the rebuilt ones and moves the checkpoint to the last replayed position.
Readers see the old table until that commit and the new one after it.
"""

from __future__ import annotations

import asyncio
import gc
import json
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, null, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from store.memory_positions import MemoryLogIndex, MemoryPositionRows
from store.projection import Row, project
from store.rows import recorded_event
from store.sql import SqlEventStore
from store.sql_positions import events, positions, save_checkpoint

Progress = Callable[[int, int], None]
INSERT_BATCH = 10_000


@dataclass(frozen=True, slots=True, kw_only=True)
class RebuildReport:
    """What a rebuild did, and how fast."""

    events: int
    rows: int
    position: int
    seconds: float
    replay_seconds: float
    write_seconds: float

    @property
    def events_per_second(self) -> float:
        """Events replayed per second of the whole rebuild."""
        return self.events / self.seconds if self.seconds > 0 else 0.0


# What the projector reads of an event: no actors, codes or metadata (three JSON documents fewer
# to decode per event), nor the hash; `recorded_event` still does the mapping, as for every other
# read.
_COLUMNS = [
    *(c for c in events.columns if c.name not in ("actors", "codes", "metadata", "hash")),
    null().label("codes"),
    null().label("metadata"),
]
# Yield to the event loop this often while replaying, so the next page is fetched meanwhile.
_YIELD_EVERY = 250


class _Replay:
    """The log replayed so far into an in-memory index and rows."""

    def __init__(self, progress: Progress | None, total: int) -> None:
        self.index = MemoryLogIndex()
        self.rows = MemoryPositionRows()
        self.position = 0
        self.count = 0
        self.total = total
        self._progress = progress

    async def run(self, engine: AsyncEngine, batch: int) -> None:
        """Replay the log as it is now, page by page, fetching each page during the last."""
        page = await _fetch(engine, self.position, batch)
        while page:
            following = (
                asyncio.ensure_future(_fetch(engine, page[-1].position, batch))
                if len(page) == batch
                else None
            )
            try:
                await self.replay(page)
            except BaseException:
                if following is not None:
                    following.cancel()
                raise
            page = await following if following is not None else []

    async def replay(self, page: Sequence[Any]) -> None:
        """Project one page of events, in position order."""
        for i, row in enumerate(page):
            if row.position != self.position + 1:
                raise RuntimeError(f"the log skips from position {self.position} to {row.position}")
            await project(self.index.add(recorded_event(row)), self.index, self.rows)
            self.position = row.position
            if i % _YIELD_EVERY == 0:
                await asyncio.sleep(0)
        self.count += len(page)
        self.total = max(self.total, self.count)
        if self._progress is not None and page:
            self._progress(self.count, self.total)


async def _fetch(engine: AsyncEngine | AsyncConnection, after: int, limit: int) -> list[Any]:
    statement = select(*_COLUMNS).where(events.c.position > after).order_by(events.c.position)
    if isinstance(engine, AsyncConnection):
        return list(await engine.execute(statement.limit(limit)))
    async with engine.connect() as conn:
        return list(await conn.execute(statement.limit(limit)))


async def rebuild_positions(
    store: SqlEventStore, progress: Progress | None = None, batch: int = 5000
) -> RebuildReport:
    """Replay the whole log into a fresh positions table; the live table ends up identical.

    `progress(done, total)` is called after each page of `batch` events. Appends may go on
    meanwhile: they wait only for the final transaction (the delete, the insert and the
    checkpoint), and the events they add before it are replayed too.
    """
    if batch < 1:
        raise ValueError("batch must be at least 1")
    started = time.perf_counter()
    replay = _Replay(progress, await store.head())
    if progress is not None:
        progress(0, replay.total)
    with _collector_paused():
        await replay.run(store.engine, batch)
        replayed_at = time.perf_counter()
        async with store.engine.connect() as conn:
            conn = await conn.execution_options(**store.write_options)
            async with conn.begin():
                await store.serialize(conn)
                # Appends that landed since the last page; no more can land until commit.
                rows = await _finish(conn, replay, batch)
        report = RebuildReport(
            events=replay.count,
            rows=len(rows),
            position=replay.position,
            seconds=time.perf_counter() - started,
            replay_seconds=replayed_at - started,
            write_seconds=time.perf_counter() - replayed_at,
        )
        # Freed here by reference counting, before the collector would walk them all once more.
        del replay, rows
    return report


async def _finish(conn: AsyncConnection, replay: _Replay, batch: int) -> list[Row]:
    """Replay what the connection sees beyond the replay so far, then replace the positions
    table with the replayed rows and move the checkpoint, in the caller's transaction."""
    while tail := await _fetch(conn, replay.position, batch):
        await replay.replay(tail)
    rows = replay.rows.all_rows()
    await conn.execute(delete(positions))
    await _insert(conn, rows)
    await save_checkpoint(conn, replay.position)
    return rows


async def rebuild_positions_within(
    conn: AsyncConnection, progress: Progress | None = None, batch: int = 5000, total: int = 0
) -> int:
    """Rebuild the positions read model from the log as this connection sees it, inside the
    caller's transaction (which must hold the append lock): its rows become the table when
    that transaction commits. Returns the number of rows."""
    if batch < 1:
        raise ValueError("batch must be at least 1")
    replay = _Replay(progress, total)
    with _collector_paused():
        rows = await _finish(conn, replay, batch)
        count = len(rows)
        del replay, rows
    return count


@contextmanager
def _collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while millions of long-lived objects are made.

    The replay allocates objects that live until the rows are written; the collector would scan
    them again and again (half the replay's time) to find no cycles among them.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


async def _insert(conn: AsyncConnection, rows: list[Row]) -> None:
    """Insert rows in large batches straight through the driver.

    Each state is serialised once (a closed row and its successor share one), by the same
    `json.dumps` SQLAlchemy's JSON type uses, so even the stored text matches the live table's.
    """
    columns = [c.name for c in positions.columns]
    mark = "?" if conn.dialect.paramstyle in ("qmark", "numeric") else "%s"
    statement = (
        f"INSERT INTO {positions.name} ({', '.join(columns)}) "
        f"VALUES ({', '.join(mark for _ in columns)})"
    )
    texts: dict[int, str] = {}
    values: list[tuple[Any, ...]] = []
    for row in rows:
        text = texts.get(id(row.state))
        if text is None:
            text = texts[id(row.state)] = json.dumps(row.state)
        values.append(tuple(text if c == "state" else getattr(row, c) for c in columns))
        if len(values) == INSERT_BATCH:
            await conn.exec_driver_sql(statement, values)
            values = []
    if values:
        await conn.exec_driver_sql(statement, values)
