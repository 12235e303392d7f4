"""Wakes this process's feed readers when another process appends (PostgreSQL LISTEN/NOTIFY).

The notification is only a hint: readers read the log by cursor, so a lost one delays an event
by at most the safety poll. The listener reconnects whenever the database drops it.
"""

from __future__ import annotations

import asyncio
import contextlib

from api.notifier import Notifier
from store.database import DatabaseUrl
from store.notifications import listen_for_heads
from store.ports import EventStore

SAFETY_POLL_SECONDS = 2.0


async def listen(url: DatabaseUrl, notifier: Notifier) -> None:
    """Wake readers whenever another process appends, until the notifier closes."""
    await listen_for_heads(url, notifier.notify, lambda: notifier.closing)


async def poll(store: EventStore, notifier: Notifier) -> None:
    """Safety net: wake readers whenever the head moved, notified or not."""
    while not notifier.closing:
        await asyncio.sleep(SAFETY_POLL_SECONDS)
        with contextlib.suppress(Exception):
            head = await store.head()
            if head > notifier.head:
                notifier.notify(head)
