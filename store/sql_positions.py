"""The positions read model in SQL: the projector's view of the log, its rows, and the reads."""

from __future__ import annotations

from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import replace
from typing import Any
from uuid import UUID

from sqlalchemy import String, and_, bindparam, insert, select, text, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.editorial import LoggedEvent
from domain.event_types import EVENT_TYPES, Kind
from domain.positions import Pair
from domain.references import CITES, PAIR, TARGET, pair_reference
from store.projection import FOREVER, Row, logged
from store.read_models.catalog import NAMES
from store.read_path import constant
from store.rows import recorded_event
from store.tables import CheckpointRow, CompactJson, EventRefRow, EventRow, PositionRow

events = EventRow.__table__  # type: ignore[attr-defined]
refs = EventRefRow.__table__  # type: ignore[attr-defined]
positions = PositionRow.__table__  # type: ignore[attr-defined]
checkpoints = CheckpointRow.__table__  # type: ignore[attr-defined]


# The projector's statements on the write path, built once (see store.sql).
_SAVE_CHECKPOINT = constant(
    update(checkpoints)
    .where(checkpoints.c.name.in_(NAMES))
    .values(position=bindparam("b_position"))
)
_REFERRING = constant(
    select(refs.c.ref, *events.columns)
    .join(events, events.c.position == refs.c.position)
    .where(
        refs.c.kind == bindparam("kind"),
        refs.c.ref.in_(bindparam("keys", expanding=True)),
        refs.c.position < bindparam("before"),
    )
    .order_by(refs.c.position)
)
_OPEN_ROWS = constant(
    select(positions).where(
        tuple_(positions.c.actor, positions.c.proposal).in_(bindparam("pairs", expanding=True)),
        positions.c.recorded_to == FOREVER,
    )
)
_CLOSE_ROW = constant(
    update(positions)
    .where(
        positions.c.actor == bindparam("b_actor"),
        positions.c.proposal == bindparam("b_proposal"),
        positions.c.valid_from == bindparam("b_valid_from"),
        positions.c.recorded_from == bindparam("b_recorded_from"),
    )
    .values(recorded_to=bindparam("b_recorded_to"))
)
_INSERT_ROWS = constant(insert(positions))
_BY_ID = constant(select(events).where(events.c.id.in_(bindparam("ids", expanding=True))))


# A proposal's parties, one index seek each (a loose index scan: the rows of a proposal are
# many, its parties few), and for each the row known at known_at that begins last by as_of,
# found by a seek down the pair's rows in valid time: its state, if that row still holds then.
_PARTY_SEEKS = """
WITH RECURSIVE party(actor) AS (
    SELECT min(actor) FROM positions WHERE proposal = :proposal
    UNION ALL
    SELECT (
        SELECT min(next.actor) FROM positions next
        WHERE next.proposal = :proposal AND next.actor > party.actor
    )
    FROM party WHERE party.actor IS NOT NULL
)"""
_LAST_BEGUN = """(
    SELECT p.{column} FROM positions p
    WHERE p.proposal = :proposal AND p.actor = party.actor AND p.valid_from <= :as_of
      AND p.recorded_from <= :known_at AND p.recorded_to > :known_at
    ORDER BY p.valid_from DESC LIMIT 1
)"""
PARTIES = text(
    _PARTY_SEEKS
    + """
SELECT actor FROM party WHERE actor IS NOT NULL AND EXISTS (
    SELECT 1 FROM positions k
    WHERE k.actor = party.actor AND k.proposal = :proposal
      AND k.recorded_to > :known_at AND k.recorded_from <= :known_at
)"""
).columns(actor=String())
PARTY_STATES = text(
    _PARTY_SEEKS
    + f""",
latest AS (
    SELECT party.actor AS actor,
           {_LAST_BEGUN.format(column="valid_to")} AS valid_to,
           {_LAST_BEGUN.format(column="state")} AS state
    FROM party WHERE party.actor IS NOT NULL
)
SELECT actor, state FROM latest WHERE valid_to > :as_of ORDER BY actor"""
).columns(actor=String(), state=CompactJson)


async def save_checkpoint(conn: AsyncConnection, position: int) -> None:
    """Record how far the read models have read, in the caller's transaction (the append path
    maintains them all together)."""
    await conn.execute(_SAVE_CHECKPOINT, {"b_position": position})


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


class BatchLogIndex:
    """The log for projecting one batch of appended events, read set-wise.

    `prefetch` reads, in three statements, every event referring to the batch's pairs and every
    editorial event aimed at those; the projector's per-event questions are then answered from
    memory, filtered to each event's position. Anything not prefetched (a pair a correction
    moves an event into, say) is read from the database once and kept.
    """

    def __init__(self, conn: AsyncConnection, batch: Sequence[LoggedEvent]) -> None:
        self._conn = conn
        # Read from the database: what came before the batch. The batch itself is in memory.
        self._before = batch[0].position
        self._batch = batch
        self._batch_ids = {str(e.id) for e in batch}
        self._by_pair: dict[str, list[LoggedEvent]] = {}
        self._by_target: dict[str, list[LoggedEvent]] = {}
        self._by_source: dict[str, list[LoggedEvent]] = {}
        self._by_id: dict[UUID, LoggedEvent] = {e.id: e for e in batch}

    async def prefetch(self, pairs: set[str]) -> None:
        """Every event referring to these pairs, and the editorial events aimed at them."""
        await self._load(PAIR, pairs, self._by_pair)
        ids = {str(e.id) for found in self._by_pair.values() for e in found}
        while ids:  # the whole family: corrections of corrections, retractions of disputes
            fresh = await self._load(TARGET, ids, self._by_target)
            ids = {str(e.id) for e in fresh} - set(self._by_target)

    def has_history(self, pair: str) -> bool:
        """Whether any event before the batch refers to the pair (else it has no rows yet)."""
        return any(e.position < self._before for e in self._by_pair.get(pair, ()))

    async def pair_events(self, pair: str, upto: int) -> list[LoggedEvent]:
        if pair not in self._by_pair:
            await self._load(PAIR, {pair}, self._by_pair)
        return [e for e in self._by_pair[pair] if e.position <= upto]

    async def targeting(self, ids: set[UUID], upto: int) -> list[LoggedEvent]:
        keys = {str(i) for i in ids}
        missing = keys - set(self._by_target)
        if missing:
            await self._load(TARGET, missing, self._by_target)
        found = {e.position: e for k in keys for e in self._by_target[k] if e.position <= upto}
        return [found[p] for p in sorted(found)]

    async def citing(self, source: str, upto: int) -> list[LoggedEvent]:
        if source not in self._by_source:
            await self._load(CITES, {source}, self._by_source)
        return [e for e in self._by_source[source] if e.position <= upto]

    async def events(self, ids: set[UUID]) -> list[LoggedEvent]:
        missing = ids - set(self._by_id)
        if missing:
            result = await self._conn.execute(_BY_ID, {"ids": sorted(missing)})
            for row in result:
                self._remember(logged(recorded_event(row)))
        return [self._by_id[i] for i in ids if i in self._by_id]

    async def _load(
        self, kind: str, keys: set[str], into: dict[str, list[LoggedEvent]]
    ) -> list[LoggedEvent]:
        """Events referring to each key, in position order: the log's, then the batch's."""
        for key in keys:
            into.setdefault(key, [])
        # Nothing before the batch can aim at an event of the batch: no need to ask the log.
        asked = keys - self._batch_ids if kind == TARGET else keys
        if not asked:
            return self._from_batch(kind, keys, into)
        result = await self._conn.execute(
            _REFERRING, {"kind": kind, "keys": sorted(asked), "before": self._before}
        )
        fresh = []
        for row in result:
            event = self._remember(logged(recorded_event(row)))
            into[row.ref].append(event)
            fresh.append(event)
        return fresh + self._from_batch(kind, keys, into)

    def _from_batch(
        self, kind: str, keys: set[str], into: dict[str, list[LoggedEvent]]
    ) -> list[LoggedEvent]:
        fresh = []
        for event in self._batch:
            for ref in _refs_of(event, kind) & keys:
                into[ref].append(event)
                fresh.append(event)
        return fresh

    def _remember(self, event: LoggedEvent) -> LoggedEvent:
        return self._by_id.setdefault(event.id, event)


class BufferedPositionRows:
    """The positions table for one batch: open rows read set-wise, revisions written at the end.

    A row both inserted and closed within the batch is written once, already closed, exactly as
    the row-by-row path would leave it.
    """

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn
        self._open: dict[Pair, list[Row]] = {}
        self._closed: dict[tuple[str, str, int, int], int] = {}  # stored rows closed, and when
        self._inserted: dict[tuple[str, str, int, int], Row] = {}

    async def prefetch(
        self, pairs: set[Pair], *, without_rows: AbstractSet[Pair] = frozenset()
    ) -> None:
        """The open rows of every one of these pairs, in one statement; `without_rows` are known
        to have none (no event ever referred to them) and are not asked for."""
        for pair in pairs:
            self._open.setdefault(pair, [])
        pairs = pairs - without_rows
        if not pairs:
            return
        result = await self._conn.execute(_OPEN_ROWS, {"pairs": sorted(pairs)})
        for r in result:
            self._open[(r.actor, r.proposal)].append(row_of(r))

    async def open_rows(self, pair: Pair) -> list[Row]:
        if pair not in self._open:
            await self.prefetch({pair})
        return list(self._open[pair])

    async def revise(self, closing: Sequence[Row], at: int, inserting: Sequence[Row]) -> None:
        for row in closing:
            key = _identity(row)
            pair = (row.actor, row.proposal)
            self._open[pair] = [r for r in self._open[pair] if _identity(r) != key]
            if key in self._inserted:
                self._inserted[key] = replace(self._inserted[key], recorded_to=at)
            else:
                self._closed[key] = at
        for row in inserting:
            self._inserted[_identity(row)] = row
            self._open.setdefault((row.actor, row.proposal), []).append(row)

    async def flush(self) -> None:
        """Write the batch's revisions: one UPDATE and one INSERT, each for many rows."""
        if self._closed:
            await self._conn.execute(
                _CLOSE_ROW,
                [
                    {
                        "b_actor": a,
                        "b_proposal": p,
                        "b_valid_from": v,
                        "b_recorded_from": r,
                        "b_recorded_to": at,
                    }
                    for (a, p, v, r), at in self._closed.items()
                ],
            )
        if self._inserted:
            await self._conn.execute(_INSERT_ROWS, [values_of(r) for r in self._inserted.values()])
        self._closed, self._inserted = {}, {}


def _refs_of(event: LoggedEvent, kind: str) -> set[str]:
    """The keys of one kind an event is indexed under (as `domain.references` indexes them)."""
    if kind == CITES:
        return {citation.source for citation in event.sources}
    if kind == TARGET:
        editorial = EVENT_TYPES[event.type].kind is Kind.EDITORIAL
        return {str(event.payload["target"])} if editorial else set()
    pair = pair_reference(event.type, event.payload)
    return {pair} if pair else set()


def _identity(row: Row) -> tuple[str, str, int, int]:
    """What names a row in the table (its primary key)."""
    return (row.actor, row.proposal, row.valid_from, row.recorded_from)
