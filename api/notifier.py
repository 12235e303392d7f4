"""Wakes feed readers when the log grows. A hint only: readers always read the log by cursor."""

from __future__ import annotations

import asyncio


class Notifier:
    """One per process: appends (here, or from another process via the database) ring it."""

    def __init__(self) -> None:
        self._changed = asyncio.Event()
        self._closing = asyncio.Event()
        self.head = 0

    def notify(self, head: int) -> None:
        """The log reached `head`: wake every waiting reader."""
        self.head = max(self.head, head)
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait(self, seconds: float, seen: int | None = None) -> bool:
        """Until the next notification (True), the timeout or shutdown (False).

        A reader passes the head it `seen` before it last read the log: if the log has grown
        since, it returns at once, so a notification during the read is not slept through.
        """
        if seen is not None and self.head > seen and not self.closing:
            return True
        changed = self._changed
        waiters = {
            asyncio.ensure_future(changed.wait()),
            asyncio.ensure_future(self._closing.wait()),
        }
        try:
            await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
        return changed.is_set() and not self._closing.is_set()

    def close(self) -> None:
        """Shutting down: release every reader so open streams end at once."""
        self._closing.set()

    @property
    def closing(self) -> bool:
        """Whether the process is shutting down."""
        return self._closing.is_set()
