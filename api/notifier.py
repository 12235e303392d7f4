"""Wakes feed readers when the log grows. A hint only: readers always read the log by cursor."""

from __future__ import annotations

import asyncio


class Notifier:
    """One per process: appends (here, or from another process via the database) ring it.

    Every waiter awaits one shared future per generation, so waking hundreds of readers costs
    no task per reader.
    """

    def __init__(self) -> None:
        self._changed: asyncio.Future[None] | None = None
        self._closing = False
        self.head = 0

    def notify(self, head: int) -> None:
        """The log reached `head`: wake every waiting reader."""
        self.head = max(self.head, head)
        self._release()

    async def wait(self, seconds: float, seen: int | None = None) -> bool:
        """Until the next notification (True), the timeout or shutdown (False).

        A reader passes the head it `seen` before it last read the log: if the log has grown
        since, it returns at once, so a notification during the read is not slept through.
        """
        if self._closing:
            return False
        if seen is not None and self.head > seen:
            return True
        if self._changed is None:
            self._changed = asyncio.get_running_loop().create_future()
        try:
            # shield: a timed-out waiter must not cancel the future the others await
            await asyncio.wait_for(asyncio.shield(self._changed), seconds)
        except TimeoutError:
            return False
        return not self._closing

    def close(self) -> None:
        """Shutting down: release every reader so open streams end at once."""
        self._closing = True
        self._release()

    @property
    def closing(self) -> bool:
        """Whether the process is shutting down."""
        return self._closing

    def _release(self) -> None:
        changed, self._changed = self._changed, None
        if changed is not None and not changed.done():
            changed.set_result(None)
