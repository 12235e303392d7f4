"""Wakes this process's feed readers when another process appends (PostgreSQL LISTEN/NOTIFY).

The notification is only a hint: readers read the log by cursor, so a lost one delays an event
by at most the safety poll. The listener reconnects whenever the database drops it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy.engine import make_url

from api.notifier import Notifier
from store.database import DatabaseUrl
from store.ports import EventStore
from store.postgres import NOTIFY_CHANNEL

log = logging.getLogger("timeline.listener")
SAFETY_POLL_SECONDS = 2.0
RECONNECT_SECONDS = 0.5


async def listen(url: DatabaseUrl, notifier: Notifier) -> None:
    """LISTEN forever, reconnecting after any failure, until cancelled."""
    import psycopg  # only PostgreSQL deployments listen: a SQLite server never imports it

    dsn = make_url(url.raw).set(drivername="postgresql").render_as_string(hide_password=False)
    while not notifier.closing:
        try:
            async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
                await conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                async for note in conn.notifies():
                    if note.payload.isdigit():
                        notifier.notify(int(note.payload))
        except (psycopg.Error, OSError) as error:
            log.warning("feed listener lost its connection (%s); reconnecting", error)
        await asyncio.sleep(RECONNECT_SECONDS)


async def poll(store: EventStore, notifier: Notifier) -> None:
    """Safety net: wake readers whenever the head moved, notified or not."""
    while not notifier.closing:
        await asyncio.sleep(SAFETY_POLL_SECONDS)
        with contextlib.suppress(Exception):
            head = await store.head()
            if head > notifier.head:
                notifier.notify(head)
