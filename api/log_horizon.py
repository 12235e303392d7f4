"""Which moments of transaction time are settled: before the last event's recorded_at.

Every append is stamped after the log's last event, whichever process makes it (on PostgreSQL
from the database's clock, under the append lock), so what was known at a moment before that
stamp can never change. A process's own clock says nothing of the sort: with two processes whose
clocks disagree, a moment one has already passed may still be ahead for the other, and an append
there would be stamped before it. And even within one process, an append in flight may hold a
stamp from before "now" that it has not yet committed.

The stamp is kept per process and only grows: one it has not yet seen makes it say "not settled"
(a revalidating answer), never the reverse. It is read again when a moment is not before it, so
a log that moved on is noticed by the next read that asks; each read asks before it reads.
"""

from __future__ import annotations

from datetime import datetime

from domain.valid_time import from_micros, to_micros
from store.ports import EventStore


class LogHorizon:
    """The last recorded_at this process has seen of the log."""

    def __init__(self, store: EventStore) -> None:
        self._store = store
        self._seen = 0
        self._seen_at: datetime | None = None  # the same, made once: every read asks for it

    async def passed(self, moment: datetime) -> bool:
        """Whether the log is known to have moved past this moment (then what was known at it
        is settled). Ask before reading the answer's data, never after."""
        micros = to_micros(moment)
        if micros < self._seen:
            return True
        last = await self._store.last_recorded_at()
        if last > self._seen:
            self._seen, self._seen_at = last, from_micros(last)
        return micros < self._seen

    @property
    def seen(self) -> datetime | None:
        """The last recorded_at seen, if any."""
        return self._seen_at
