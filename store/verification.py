"""Verify the log's hash chain on a SQL database: stream every event in position order, page by
page (the next page is fetched while this one is checked), recompute each hash, compare."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.chain import GENESIS, ChainVerifier
from store.ports import ChainReport, Progress
from store.rows import chain_content
from store.tables import CheckpointRow, EventRow

events = EventRow.__table__  # type: ignore[attr-defined]
checkpoints = CheckpointRow.__table__  # type: ignore[attr-defined]
# The last position found intact by a verification (kept beside the projections' checkpoints).
CHAIN = "chain"
_CHAIN = checkpoints.c.name == CHAIN

_PAGE = select(events).order_by(events.c.position)
_COUNT = select(func.count()).select_from(events)
_YIELD_EVERY = 250


async def verify_log(
    engine: AsyncEngine,
    progress: Progress | None = None,
    batch: int = 5000,
    *,
    after: int = 0,
    prev_hash: str = GENESIS,
) -> ChainReport:
    """Check every event after a position (whose stored hash is `prev_hash`) against its
    predecessor; only two pages are held at a time."""
    if batch < 1:
        raise ValueError("batch must be at least 1")
    async with engine.connect() as conn:
        total = int(await conn.scalar(_COUNT.where(events.c.position > after)) or 0)
    verifier = ChainVerifier(prev_hash)
    head_hash: str | None = None if after == 0 else prev_hash
    verifier.head = after
    page = await _fetch(engine, after, batch)
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
        since=after,
    )


async def verify_since_checkpoint(engine: AsyncEngine, write: dict[str, Any]) -> ChainReport:
    """Verify the events after the chain checkpoint; move it to the head if they are intact.

    The checkpoint only moves forward (two processes verifying at once agree on the head)."""
    async with engine.connect() as conn:
        last = await conn.scalar(select(checkpoints.c.position).where(_CHAIN))
        start = int(last or 0)
        prev = await conn.scalar(select(events.c.hash).where(events.c.position == start))
    report = await verify_log(engine, after=start, prev_hash=str(prev) if prev else GENESIS)
    if report.ok and report.head > start:
        try:
            async with engine.connect() as conn:
                conn = await conn.execution_options(**write)
                async with conn.begin():
                    moved = await conn.execute(
                        update(checkpoints)
                        .where(_CHAIN, checkpoints.c.position < report.head)
                        .values(position=report.head)
                    )
                    if moved.rowcount == 0 and last is None:
                        await conn.execute(
                            insert(checkpoints).values(name=CHAIN, position=report.head, version=1)
                        )
        except IntegrityError:
            pass  # another process wrote the first checkpoint meanwhile: it is as good
    return report


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
