"""The positions read model in SQL: the projector's view of the log, its rows, and the reads."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from sqlalchemy import and_, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.editorial import LoggedEvent
from domain.positions import Pair
from domain.references import PAIR, TARGET
from store.projection import CHECKPOINT, FOREVER, Row, logged
from store.rows import recorded_event
from store.tables import CheckpointRow, EventRefRow, EventRow, PositionRow

events = EventRow.__table__  # type: ignore[attr-defined]
refs = EventRefRow.__table__  # type: ignore[attr-defined]
positions = PositionRow.__table__  # type: ignore[attr-defined]
checkpoints = CheckpointRow.__table__  # type: ignore[attr-defined]


class SqlLogIndex:
    """The log as the projector reads it, inside the append's transaction."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def pair_events(self, pair: str, upto: int) -> list[LoggedEvent]:
        """Events referring to a pair."""
        return await self._referring(PAIR, [pair], upto)

    async def targeting(self, ids: set[UUID], upto: int) -> list[LoggedEvent]:
        """Editorial events aimed at any of these ids."""
        return await self._referring(TARGET, [str(i) for i in ids], upto)

    async def events(self, ids: set[UUID]) -> list[LoggedEvent]:
        """Events by id."""
        if not ids:
            return []
        result = await self._conn.execute(select(events).where(events.c.id.in_(list(ids))))
        return [logged(recorded_event(row)) for row in result]

    async def _referring(self, kind: str, keys: list[str], upto: int) -> list[LoggedEvent]:
        if not keys:
            return []
        wanted = select(refs.c.position).where(
            refs.c.kind == kind, refs.c.ref.in_(keys), refs.c.position <= upto
        )
        result = await self._conn.execute(
            select(events).where(events.c.position.in_(wanted)).order_by(events.c.position)
        )
        return [logged(recorded_event(row)) for row in result]


class SqlPositionRows:
    """The positions table, inside the append's transaction."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def open_rows(self, pair: Pair) -> list[Row]:
        """The pair's rows as currently known."""
        result = await self._conn.execute(
            select(positions).where(
                positions.c.actor == pair[0],
                positions.c.proposal == pair[1],
                positions.c.recorded_to == FOREVER,
            )
        )
        return [row_of(r) for r in result]

    async def revise(self, closing: Sequence[Row], at: int, inserting: Sequence[Row]) -> None:
        """Close rows at a transaction time and insert their successors."""
        for row in closing:
            await self._conn.execute(
                update(positions)
                .where(
                    positions.c.actor == row.actor,
                    positions.c.proposal == row.proposal,
                    positions.c.valid_from == row.valid_from,
                    positions.c.recorded_from == row.recorded_from,
                )
                .values(recorded_to=at)
            )
        if inserting:
            await self._conn.execute(insert(positions), [values_of(r) for r in inserting])


async def save_checkpoint(conn: AsyncConnection, position: int) -> None:
    """Record how far the projection has read, in the caller's transaction."""
    await conn.execute(
        update(checkpoints).where(checkpoints.c.name == CHECKPOINT).values(position=position)
    )


def known(as_of: int | None, known_at: int) -> Any:
    """The condition selecting rows known at a transaction time (and valid at a valid time)."""
    clauses = [positions.c.recorded_from <= known_at, positions.c.recorded_to > known_at]
    if as_of is not None:
        clauses += [positions.c.valid_from <= as_of, positions.c.valid_to > as_of]
    return and_(*clauses)


def row_of(r: Any) -> Row:
    """A table row as a Row."""
    return Row(
        actor=r.actor,
        proposal=r.proposal,
        valid_from=r.valid_from,
        valid_to=r.valid_to,
        recorded_from=r.recorded_from,
        recorded_to=r.recorded_to,
        state=r.state,
    )


def values_of(row: Row) -> dict[str, Any]:
    """A Row as column values."""
    return {
        "actor": row.actor,
        "proposal": row.proposal,
        "valid_from": row.valid_from,
        "valid_to": row.valid_to,
        "recorded_from": row.recorded_from,
        "recorded_to": row.recorded_to,
        "state": row.state,
    }
