"""A fixed-window write counter per API key, kept in the database so every API process shares it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.valid_time import to_micros
from store.tables import RateWindowRow

windows = RateWindowRow.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class Allowance:
    """The verdict on one write: allowed, and if not, seconds until the window turns."""

    allowed: bool
    remaining: int
    retry_after: int


class RateLimiter:
    """At most `limit` writes per key in each window of `seconds`."""

    def __init__(self, engine: AsyncEngine, backend: str, *, limit: int, seconds: int) -> None:
        self._engine = engine
        self._backend = backend
        self.limit = limit
        self.seconds = seconds

    async def spend(self, key_id: str, now: datetime) -> Allowance:
        """Count one write for the key; the count is atomic across processes (an upsert)."""
        micros = to_micros(now)
        span = self.seconds * 1_000_000
        start = micros - micros % span
        insert = pg_insert if self._backend == "postgresql" else sqlite_insert
        statement = (
            insert(windows)
            .values(key_id=key_id, window_start=start, count=1)
            .on_conflict_do_update(
                index_elements=[windows.c.key_id, windows.c.window_start],
                set_={"count": windows.c.count + 1},
            )
            .returning(windows.c.count)
        )
        options = {"sqlite_begin": "IMMEDIATE"} if self._backend == "sqlite" else {}
        async with self._engine.connect() as conn:
            conn = await conn.execution_options(**options)
            async with conn.begin():
                count = int((await conn.execute(statement)).scalar_one())
                if count == 1:  # the first write of a window sweeps the key's old windows
                    await conn.execute(
                        delete(windows).where(
                            windows.c.key_id == key_id, windows.c.window_start < start
                        )
                    )
        retry_after = max(1, -(-(start + span - micros) // 1_000_000))
        return Allowance(count <= self.limit, max(0, self.limit - count), retry_after)
