"""Wakes feed readers when the log grows. A hint only: readers always read the log by cursor."""

from __future__ import annotations

import asyncio


class Notifier:
    """One per process: appends (here, or from another process via the database) ring it.

    Each waiter awaits a future of its own, and a notification resolves them all in one pass.
    With hundreds of SSE readers this is the cheapest wake-up asyncio offers: one callback per
    reader, where `wait_for(shield(shared))` cost three and a timer heap entry more.
    """

    def __init__(self) -> None:
        self._waiters: set[asyncio.Future[bool]] = set()
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
        loop = asyncio.get_running_loop()
        # Its own future: cancelling one waiter (a client went away) cannot disturb the others.
        waiter: asyncio.Future[bool] = loop.create_future()
        self._waiters.add(waiter)
        timer = loop.call_later(seconds, _resolve, waiter, False)
        try:
            return await waiter and not self._closing
        finally:
            timer.cancel()
            self._waiters.discard(waiter)

    def close(self) -> None:
        """Shutting down: release every reader so open streams end at once."""
        self._closing = True
        self._release()

    @property
    def closing(self) -> bool:
        """Whether the process is shutting down."""
        return self._closing

    def _release(self) -> None:
        waiters, self._waiters = self._waiters, set()
        for waiter in waiters:
            _resolve(waiter, True)


def _resolve(waiter: asyncio.Future[bool], woken: bool) -> None:
    if not waiter.done():
        waiter.set_result(woken)
