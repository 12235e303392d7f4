"""The event store on PostgreSQL: a transaction-scoped advisory lock serialises appends."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from store.sql import SqlEventStore

# Listeners in every API process are woken on this channel; the payload is the new head.
NOTIFY_CHANNEL = "timeline_events"

# Any constant works; it only has to be the same for every writer of this log.
APPEND_LOCK_KEY = 0x7431_6D65_6C69_6E65 & 0x7FFF_FFFF_FFFF_FFFF

# The lock and then the clock, in one round trip: the outer SELECT has no row until the CTE's
# has one, and that waits for the lock (a CTE calling a volatile function is never inlined).
# clock_timestamp(), not now(): the time at this statement, under the lock, not at BEGIN.
_LOCKED_NOW = (
    "WITH held AS (SELECT pg_advisory_xact_lock(%(key)s)) "
    "SELECT CAST(EXTRACT(epoch FROM clock_timestamp()) * 1000000 AS BIGINT) FROM held"
)


class PostgresEventStore(SqlEventStore):
    """PostgreSQL: positions taken under pg_advisory_xact_lock, so commit order = position order."""

    backend = "postgresql"

    async def serialize(self, conn: AsyncConnection) -> None:
        """Take the append lock, held until this transaction commits or rolls back."""
        await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": APPEND_LOCK_KEY})

    async def serialized_time(self, conn: AsyncConnection) -> int:
        """The append lock taken and the database's clock read under it, in one statement:
        every API process on this database stamps from one clock, whatever its own says (an
        injected clock, in tests, aside)."""
        if self._clock is not None:
            return await super().serialized_time(conn)
        result = await conn.exec_driver_sql(_LOCKED_NOW, {"key": APPEND_LOCK_KEY})
        return int(result.scalar_one())

    async def _announce(self, conn: AsyncConnection, head: int) -> None:
        """Sent inside the transaction, so PostgreSQL delivers it at commit and never before.
        A NOTIFY command, not `SELECT pg_notify(...)`: it returns no rows, so in the write
        pipeline it waits for nothing (a SELECT's rows would cost a round trip of their own)."""
        # NOTIFY takes no bound parameters; the payload is an integer, written out.
        await conn.exec_driver_sql(f"NOTIFY {NOTIFY_CHANNEL}, '{int(head)}'")
