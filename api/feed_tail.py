"""The newest events of the log, kept once per process for every live feed reader.

With hundreds of SSE clients an append would otherwise cost hundreds of identical reads and
encodings; here the first reader to wake reads the new events once and encodes each once, and
the rest take them from memory. A reader whose cursor is older than the tail reads the log itself.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass
from itertools import islice

import msgspec
from litestar.response import ServerSentEventMessage

from api.presenters import Checks, checks_of, event_out
from store.ports import EventQuery, EventStore
from store.records import RecordedEvent

CAPACITY = 2048
PAGE = 500


@dataclass
class EncodedMessage(ServerSentEventMessage):
    """A message framed once and sent as the same bytes to every client."""

    framed: bytes = b""

    def encode(self) -> bytes:
        return self.framed


def sse_message(event: RecordedEvent, checks: Checks | None = None) -> EncodedMessage:
    """`id:` position, `event:` type, `data:` the event as `/v1/events` shows it (its quote
    checks from `checks_of`)."""
    data = msgspec.json.encode(event_out(event, checks=checks)).decode()
    message = ServerSentEventMessage(id=event.position, event=event.type, data=data)
    return EncodedMessage(id=message.id, event=message.event, framed=message.encode())


@dataclass(frozen=True, slots=True)
class TailEntry:
    """One event of the tail and its framed message."""

    event: RecordedEvent
    message: EncodedMessage


class FeedTail:
    """Up to CAPACITY of the newest events, contiguous in log order, brought up to date lazily."""

    def __init__(self, store: EventStore, capacity: int = CAPACITY) -> None:
        self._store = store
        self._entries: deque[TailEntry] = deque(maxlen=capacity)
        self._head: int | None = None  # the position the tail reaches
        self._reading: asyncio.Event | None = None  # set when the read in progress ends

    async def after(self, cursor: int, head: int) -> list[TailEntry] | None:
        """The events after `cursor`, read up to at least `head` if the log has them; None when
        the cursor lies outside the tail and the reader must read the log itself."""
        while self._head is None or self._head < head:
            if self._reading is None:  # this reader reads the log, once, for everyone
                self._reading = reading = asyncio.Event()
                try:
                    await self._catch_up(head)
                finally:
                    self._reading = None
                    reading.set()
                break
            # Another reader is reading: wait for it, then look again. Not a lock, which would
            # hand the tail to its hundreds of waiters one per event-loop turn: an Event wakes
            # them all in one.
            await self._reading.wait()
        assert self._head is not None
        start = self._entries[0].event.position - 1 if self._entries else self._head
        if not start <= cursor <= self._head:
            return None
        # Positions are contiguous, so the wanted entries are the last `head - cursor`: O(new).
        newest_first = islice(reversed(self._entries), self._head - cursor)
        return list(newest_first)[::-1]

    async def _catch_up(self, head: int) -> None:
        if self._head is None:
            self._head = await self._store.head()
        while self._head < head:
            page = await self._store.read(EventQuery(after=self._head, limit=PAGE))
            if not page:
                return
            checks = await checks_of(self._store.reads, page)
            self._entries.extend(TailEntry(event, sse_message(event, checks)) for event in page)
            self._head = page[-1].position
