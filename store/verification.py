"""Verify the log's hash chain on a SQL database: stream every event in position order, page by
page (the next page is fetched while this one is checked), recompute each hash, compare."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.chain import ChainVerifier
from store.ports import ChainReport, Progress
from store.rows import chain_content
from store.tables import EventRow

events = EventRow.__table__  # type: ignore[attr-defined]

_PAGE = select(events).order_by(events.c.position)
_COUNT = select(func.count()).select_from(events)
_YIELD_EVERY = 250


async def verify_log(
    engine: AsyncEngine, progress: Progress | None = None, batch: int = 5000
) -> ChainReport:
    """Check every event against its predecessor; only two pages are held at a time."""
    if batch < 1:
        raise ValueError("batch must be at least 1")
    async with engine.connect() as conn:
        total = int(await conn.scalar(_COUNT) or 0)
    verifier = ChainVerifier()
    head_hash: str | None = None
    page = await _fetch(engine, 0, batch)
    while page:
        following = (
            asyncio.ensure_future(_fetch(engine, page[-1].position, batch))
            if len(page) == batch
            else None
        )
        try:
            head_hash = await _check(verifier, page)
        except BaseException:
            if following is not None:
                following.cancel()
            raise
        if progress is not None:
            progress(verifier.checked, max(total, verifier.checked))
        page = await following if following is not None else []
    return ChainReport(
        checked=verifier.checked,
        head=verifier.head,
        head_hash=head_hash,
        first_broken=verifier.first_broken,
    )


async def _check(verifier: ChainVerifier, page: list[Any]) -> str:
    """Feed one page to the verifier; the last stored hash is returned.

    Hashing is CPU work: yielding now and then lets the next page's query run meanwhile, and
    keeps an API process answering other requests during a long verification.
    """
    for i, row in enumerate(page):
        verifier.check(row.position, chain_content(row._mapping), row.hash)
        if i % _YIELD_EVERY == 0:
            await asyncio.sleep(0)
    return str(page[-1].hash)


async def _fetch(engine: AsyncEngine, after: int, limit: int) -> list[Any]:
    async with engine.connect() as conn:
        return list(await conn.execute(_PAGE.where(events.c.position > after).limit(limit)))
