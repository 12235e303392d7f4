"""The positions projector: after each event, re-derive the pairs it touches and revise their rows.

Shared by every store: each supplies a LogIndex (what the log holds up to a position) and a
RowStore (the bitemporal rows). Rows whose (valid interval, state) survive a re-derivation stay
untouched; the others are closed at the event's transaction time and their successors inserted.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID

from domain.editorial import POSITION_TYPES, LoggedEvent, effective_events
from domain.event_types import EVENT_TYPES, Kind
from domain.positions import Pair, Segment, history
from domain.references import pair_key
from domain.valid_time import to_micros
from store.ports import RecordedEvent

FOREVER = 2**63 - 1
CHECKPOINT = "positions"


@dataclass(frozen=True, slots=True, kw_only=True)
class Row:
    """One bitemporal row of the positions table."""

    actor: str
    proposal: str
    valid_from: int
    valid_to: int
    recorded_from: int
    recorded_to: int
    state: dict[str, Any]

    def same_segment(self, other: Row) -> bool:
        """Whether two rows say the same thing over the same valid interval."""
        return (self.valid_from, self.valid_to, self.state) == (
            other.valid_from,
            other.valid_to,
            other.state,
        )


class LogIndex(Protocol):
    """What the projector reads of the log, never past a given position."""

    async def pair_events(self, pair: str, upto: int) -> list[LoggedEvent]:
        """Events referring to a pair: its position events and corrections moving into it."""
        ...

    async def targeting(self, ids: set[UUID], upto: int) -> list[LoggedEvent]:
        """Editorial events aimed at any of these ids."""
        ...

    async def events(self, ids: set[UUID]) -> list[LoggedEvent]:
        """Events by id."""
        ...


class RowStore(Protocol):
    """Where the bitemporal rows live."""

    async def open_rows(self, pair: Pair) -> list[Row]:
        """The rows of a pair as currently known (recorded_to open)."""
        ...

    async def revise(self, closing: Sequence[Row], at: int, inserting: Sequence[Row]) -> None:
        """Close rows at a transaction time and insert their successors."""
        ...


def logged(event: RecordedEvent) -> LoggedEvent:
    """A recorded event as the fold reads it."""
    return LoggedEvent(
        id=event.id,
        position=event.position,
        recorded_at=event.recorded_at,
        type=event.type,
        valid_time=event.draft.valid_time,
        payload=event.current_payload(),
        sources=event.draft.sources,
    )


async def project(event: LoggedEvent, index: LogIndex, rows: RowStore) -> None:
    """Bring the rows of every pair this event touches up to date, as of its recorded_at."""
    at = to_micros(event.recorded_at)
    for pair in sorted(await affected_pairs(event, index)):
        segments = await pair_history(pair, index, event.position)
        current = await rows.open_rows(pair)
        wanted = [_row(pair, s, at) for s in segments]
        closing = [r for r in current if not any(r.same_segment(w) for w in wanted)]
        inserting = [w for w in wanted if not any(w.same_segment(r) for r in current)]
        if closing or inserting:
            await rows.revise(closing, at, inserting)


async def affected_pairs(event: LoggedEvent, index: LogIndex) -> set[Pair]:
    """The pairs whose history may change with this event."""
    if event.type in POSITION_TYPES:
        return {_pair(event.payload)}
    if EVENT_TYPES[event.type].kind is not Kind.EDITORIAL:
        return set()
    root = event
    while EVENT_TYPES[root.type].kind is Kind.EDITORIAL:
        [root] = await index.events({_target(root)})
    if root.type not in POSITION_TYPES:
        return set()
    family = await _family({root.id}, index, event.position)
    moved = {_pair(c.payload["payload"]) for c in family if _moves(c)}
    return {_pair(root.payload), *moved}


async def pair_history(pair: Pair, index: LogIndex, upto: int) -> list[Segment]:
    """The pair's history from every event known up to a position."""
    direct = await index.pair_events(pair_key(*pair), upto)
    roots = {e.id: e for e in direct if e.type in POSITION_TYPES}
    missing = {_target(e) for e in direct if e.type == "EventCorrected"} - set(roots)
    roots.update({e.id: e for e in await index.events(missing)})
    family = await _family(set(roots), index, upto)
    return history(effective_events([*roots.values(), *family]), pair)


async def _family(ids: set[UUID], index: LogIndex, upto: int) -> list[LoggedEvent]:
    """Every editorial event aimed, directly or through others, at these events."""
    found: dict[UUID, LoggedEvent] = {}
    frontier = ids
    while frontier:
        aimed = [e for e in await index.targeting(frontier, upto) if e.id not in found]
        found.update((e.id, e) for e in aimed)
        frontier = {e.id for e in aimed}
    return list(found.values())


def _row(pair: Pair, segment: Segment, at: int) -> Row:
    return Row(
        actor=pair[0],
        proposal=pair[1],
        valid_from=segment.valid_from,
        valid_to=FOREVER if segment.valid_to is None else segment.valid_to,
        recorded_from=at,
        recorded_to=FOREVER,
        state=segment.state,
    )


def _pair(payload: dict[str, object]) -> Pair:
    return (str(payload["actor"]), str(payload["proposal"]))


def _target(event: LoggedEvent) -> UUID:
    return UUID(str(event.payload["target"]))


def _moves(event: LoggedEvent) -> bool:
    change = event.payload.get("payload")
    return (
        event.type == "EventCorrected"
        and isinstance(change, dict)
        and isinstance(change.get("actor"), str)
        and isinstance(change.get("proposal"), str)
    )


def segments_of(rows: Iterable[Row]) -> list[Segment]:
    """Rows as valid-time segments, in valid-time order."""
    return [
        Segment(
            valid_from=r.valid_from,
            valid_to=None if r.valid_to == FOREVER else r.valid_to,
            state=r.state,
        )
        for r in sorted(rows, key=lambda r: r.valid_from)
    ]
