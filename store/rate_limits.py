"""A fixed-window write counter per API key, kept in the database so every API process shares it.

An append counts its write inside its own transaction (`WriteCharge`, passed to
`EventStore.append`): the rate window, the events and the read models commit together, with one
fsync. Other writes count theirs in a transaction of its own (`RateLimiter.spend`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from domain.valid_time import to_micros
from store.boundary import writing
from store.read_path import constant
from store.tables import RateWindowRow

windows = RateWindowRow.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class Allowance:
    """The verdict on one write: allowed, and if not, seconds until the window turns."""

    allowed: bool
    remaining: int
    retry_after: int


@dataclass(frozen=True, slots=True)
class WriteCharge:
    """One write to count against a key's allowance, at a moment (UTC microseconds)."""

    key_id: str
    limit: int
    seconds: int
    at: int

    @property
    def window_start(self) -> int:
        span = self.seconds * 1_000_000
        return self.at - self.at % span

    def allowance(self, count: int) -> Allowance:
        """The verdict once the window holds `count` writes, this one included."""
        turns = self.window_start + self.seconds * 1_000_000
        retry_after = max(1, -(-(turns - self.at) // 1_000_000))
        return Allowance(count <= self.limit, max(0, self.limit - count), retry_after)


def _upsert(insert: Any) -> Any:
    return (
        insert(windows)
        .values(key_id=bindparam("key_id"), window_start=bindparam("start"), count=1)
        .on_conflict_do_update(
            index_elements=[windows.c.key_id, windows.c.window_start],
            set_={"count": windows.c.count + 1},
        )
        .returning(windows.c.count)
    )


# Built once: an append runs one of these in its transaction.
_COUNT = {"sqlite": constant(_upsert(sqlite_insert)), "postgresql": constant(_upsert(pg_insert))}
_SWEEP = constant(
    delete(windows).where(
        windows.c.key_id == bindparam("key_id"), windows.c.window_start < bindparam("start")
    )
)


async def count_write(conn: AsyncConnection, backend: str, charge: WriteCharge) -> Allowance:
    """Count the write in the caller's transaction (atomic across processes: an upsert)."""
    params = {"key_id": charge.key_id, "start": charge.window_start}
    count = int((await conn.execute(_COUNT[backend], params)).scalar_one())
    if count == 1:  # the first write of a window sweeps the key's old windows
        await conn.execute(_SWEEP, params)
    return charge.allowance(count)


class RateLimiter:
    """At most `limit` writes per key in each window of `seconds`."""

    def __init__(self, engine: AsyncEngine, backend: str, *, limit: int, seconds: int) -> None:
        self._engine = engine
        self._backend = backend
        self.limit = limit
        self.seconds = seconds

    def charge(self, key_id: str, now: datetime) -> WriteCharge:
        """One write by the key, to be counted by the transaction that makes it."""
        return WriteCharge(key_id, self.limit, self.seconds, to_micros(now))

    async def spend(self, key_id: str, now: datetime) -> Allowance:
        """Count one write for the key in a transaction of its own."""
        async with writing(self._engine) as conn:
            return await count_write(conn, self._backend, self.charge(key_id, now))
