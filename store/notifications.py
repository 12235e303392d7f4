"""Appends in other processes, heard of as they commit (PostgreSQL LISTEN/NOTIFY).

The append's transaction sends the new head on NOTIFY_CHANNEL (store.postgres), so PostgreSQL
delivers it at commit and never before. Hearing of it is only a hint to wake readers sooner: the
connection is made again whenever the database drops it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from sqlalchemy.engine import make_url

from store.database import DatabaseUrl
from store.postgres import NOTIFY_CHANNEL

log = logging.getLogger("timeline.listener")
RECONNECT_SECONDS = 0.5


async def listen_for_heads(
    url: DatabaseUrl, heard: Callable[[int], None], closing: Callable[[], bool]
) -> None:
    """Call `heard` with each new head another process commits, reconnecting after any
    failure, until `closing()` or cancelled."""
    import psycopg  # only PostgreSQL deployments listen: a SQLite server never imports it

    dsn = make_url(url.raw).set(drivername="postgresql").render_as_string(hide_password=False)
    while not closing():
        try:
            async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
                await conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                async for note in conn.notifies():
                    if note.payload.isdigit():
                        heard(int(note.payload))
        except (psycopg.Error, OSError) as error:
            log.warning("feed listener lost its connection (%s); reconnecting", error)
        await asyncio.sleep(RECONNECT_SECONDS)
