"""The event store on PostgreSQL: a transaction-scoped advisory lock serialises appends."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from store.sql import SqlEventStore

# Any constant works; it only has to be the same for every writer of this log.
APPEND_LOCK_KEY = 0x7431_6D65_6C69_6E65 & 0x7FFF_FFFF_FFFF_FFFF


class PostgresEventStore(SqlEventStore):
    """PostgreSQL: positions taken under pg_advisory_xact_lock, so commit order = position order."""

    backend = "postgresql"

    async def serialize(self, conn: AsyncConnection) -> None:
        """Take the append lock, held until this transaction commits or rolls back."""
        await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": APPEND_LOCK_KEY})
