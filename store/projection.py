"""The positions projector: after each event, re-derive the pairs it touches and revise their rows.

Shared by every store: each supplies a LogIndex (what the log holds up to a position) and a
RowStore (the bitemporal rows). Rows whose (valid interval, state) survive a re-derivation stay
untouched; the others are closed at the event's transaction time and their successors inserted.

An index that keeps the log in memory (the in-memory store, a rebuild) may also keep, in its
`folds` attribute, a memo per pair (`PairFold`): the pair's effective events in valid-time order
with the fold's positions along them. Then a pair is re-derived only from the first valid time
its events changed at, and an event stated after everything known of its pair costs one fold
step, whatever the size of the log. The rows are the same as from the pair's whole history (the
oracle tests hold both to the fold; the rebuild tests hold one to the other).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from uuid import UUID

from domain.editorial import POSITION_TYPES, EffectiveEvent, LoggedEvent, effective_events
from domain.event_types import EVENT_TYPES, Kind
from domain.positions import Pair, Position, Segment, events_of, evolve, history
from domain.references import pair_key
from domain.valid_time import to_micros
from store.records import RecordedEvent

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
    folds: dict[Pair, PairFold] | None = getattr(index, "folds", None)
    for pair in sorted(await affected_pairs(event, index)):
        current = await rows.open_rows(pair)
        if folds is None:
            segments = await pair_history(pair, index, event.position)
            wanted = [_row(pair, s, at) for s in segments]
        else:
            fold = folds.get(pair) or folds.setdefault(pair, PairFold(pair))
            if event.type in POSITION_TYPES:
                # Its own pair, and nothing later in the log can have corrected it yet.
                fold.add(
                    EffectiveEvent(event=event, valid_time=event.valid_time, payload=event.payload)
                )
            else:
                fold.replace(await pair_events(pair, index, event.position))
            ordered = getattr(rows, "open_rows_in_valid_time_order", False)
            current, wanted = fold.refold(current, at, ordered=ordered)
        closing, inserting = _unmatched(current, wanted), _unmatched(wanted, current)
        if closing or inserting:
            await rows.revise(closing, at, inserting)


async def affected_pairs(event: LoggedEvent, index: LogIndex) -> set[Pair]:
    """The pairs whose history may change with this event."""
    if event.type in POSITION_TYPES:
        return {pair_of(event.payload)}
    if EVENT_TYPES[event.type].kind is not Kind.EDITORIAL:
        return set()
    root = event
    while EVENT_TYPES[root.type].kind is Kind.EDITORIAL:
        [root] = await index.events({_target(root)})
    if root.type not in POSITION_TYPES:
        return set()
    relatives = await family({root.id}, index, event.position)
    moved = {pair_of(c.payload["payload"]) for c in relatives if _moves(c)}
    return {pair_of(root.payload), *moved}


async def pair_history(pair: Pair, index: LogIndex, upto: int) -> list[Segment]:
    """The pair's history from every event known up to a position."""
    return history(await pair_events(pair, index, upto), pair)


async def pair_events(pair: Pair, index: LogIndex, upto: int) -> list[EffectiveEvent]:
    """The pair's effective events known up to a position, in valid-time order."""
    direct = await index.pair_events(pair_key(*pair), upto)
    roots = {e.id: e for e in direct if e.type in POSITION_TYPES}
    missing = {_target(e) for e in direct if e.type == "EventCorrected"} - set(roots)
    roots.update({e.id: e for e in await index.events(missing)})
    relatives = await family(set(roots), index, upto)
    return events_of(effective_events([*roots.values(), *relatives]), pair)


STRIDE = 16


@dataclass(slots=True)
class PairFold:
    """A pair's effective events in valid-time order, with the fold along them.

    `refold` re-derives the pair's history only from the earliest valid time at which its events
    changed since the last call, starting from the open rows before that time, and gives the same
    segments as `domain.positions.history` over all the events. It relies on seeing every change
    to the pair's events, in log order, beside the rows it describes: project() does that.
    """

    pair: Pair
    events: list[EffectiveEvent] = field(default_factory=list)
    keys: list[tuple[int, int]] = field(default_factory=list)  # (valid from, log position)
    # marks[m] is the position after events[: m * STRIDE]; `last` the one after all of them.
    marks: list[Position] = field(default_factory=list)
    last: Position | None = None
    nothing: dict[str, Any] = field(default_factory=dict)
    folded: int = 0  # how many events `last` has seen
    since: int | None = None  # the earliest valid time changed since the last refold

    def __post_init__(self) -> None:
        empty = Position(actor=self.pair[0], proposal=self.pair[1])
        self.marks = [empty]
        self.last = empty
        self.nothing = empty.to_json()

    def add(self, event: EffectiveEvent) -> None:
        """One more event of the pair, the newest in the log (so nothing has edited it yet)."""
        key = (to_micros(event.valid_time.earliest), event.position)
        at = bisect_right(self.keys, key)
        self.events.insert(at, event)
        self.keys.insert(at, key)
        self._changed(key[0])

    def replace(self, events: list[EffectiveEvent]) -> None:
        """The pair's effective events anew, in valid-time order (after an editorial event)."""
        old = self.events
        same = 0
        while same < len(old) and same < len(events) and old[same] == events[same]:
            same += 1
        if same == len(old) == len(events):
            return
        keys = [(to_micros(e.valid_time.earliest), e.position) for e in events]
        # Before the earlier of the first differing events, old and new agree in valid time.
        starts = [k[same][0] for k in (self.keys, keys) if same < len(k)]
        self.events, self.keys = events, keys
        self._changed(min(starts))

    def _changed(self, start: int) -> None:
        self.since = start if self.since is None else min(self.since, start)

    def refold(
        self, current: Sequence[Row], at: int, *, ordered: bool = False
    ) -> tuple[list[Row], list[Row]]:
        """The open rows that may change, and the rows wanted in their place at time `at`;
        `ordered` when `current` comes in valid-time order."""
        since, self.since = self.since, None
        if since is None:
            return [], []
        events, keys = self.events, self.keys
        first = bisect_left(keys, (since, 0))
        # A pair holds an open row per change of its history (~100 at a million events, spread
        # over a heap of gigabytes): rows already in order are only bisected, not all visited.
        rows = current if ordered else sorted(current, key=_valid_from)
        # Open rows that begin before `since` stay as they are, but the last may end elsewhere.
        keep = bisect_left(rows, since, key=_valid_from)
        segments = [
            Segment(valid_from=r.valid_from, valid_to=None, state=r.state)
            for r in rows[max(keep - 1, 0) : keep]
        ]
        position = self._position_before(first)
        del self.marks[first // STRIDE + 1 :]
        for i in range(first, len(events)):
            position = evolve(position, events[i])
            if (i + 1) % STRIDE == 0:
                self.marks.append(position)
            begin = keys[i][0]
            if i + 1 < len(events) and keys[i + 1][0] == begin:
                continue
            state = position.to_json()
            # As domain.positions.history: nothing known is no segment, the same state extends.
            if segments[-1].state == state if segments else state == self.nothing:
                continue
            if segments:
                end = segments[-1]
                segments[-1] = Segment(valid_from=end.valid_from, valid_to=begin, state=end.state)
            segments.append(Segment(valid_from=begin, valid_to=None, state=state))
        self.last, self.folded = position, len(events)
        return list(rows[max(keep - 1, 0) :]), [_row(self.pair, s, at) for s in segments]

    def _position_before(self, index: int) -> Position:
        if index == self.folded and self.last is not None:
            return self.last
        mark = index // STRIDE
        position = self.marks[mark]
        for event in self.events[mark * STRIDE : index]:
            position = evolve(position, event)
        return position


def _valid_from(row: Row) -> int:
    return row.valid_from


def _unmatched(rows: Sequence[Row], others: Sequence[Row]) -> list[Row]:
    """The rows that are the same segment (`Row.same_segment`) as none of the others, matched
    by valid interval first: a refold hands over every open row from where the pair changed
    on, and pairwise comparison grew with the pair (~100 rows at a million events)."""
    states: dict[tuple[int, int], list[dict[str, Any]]] = {}
    for other in others:
        states.setdefault((other.valid_from, other.valid_to), []).append(other.state)
    return [r for r in rows if r.state not in states.get((r.valid_from, r.valid_to), ())]


async def family(ids: set[UUID], index: LogIndex, upto: int) -> list[LoggedEvent]:
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


def pair_of(payload: dict[str, object]) -> Pair:
    """The (actor, proposal) a position event's payload is about."""
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
