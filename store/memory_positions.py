"""The positions read model in memory: an index of the log and the bitemporal rows as lists."""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Sequence
from uuid import UUID

from domain.editorial import LoggedEvent
from domain.event_types import EVENT_TYPES, Kind
from domain.positions import Pair
from domain.references import CITES, PAIR, TARGET, pair_reference
from store.projection import PairFold, Row, logged
from store.records import RecordedEvent


class MemoryLogIndex:
    """Events by position, id, pair and target, filled as the log grows; a fold memo per pair."""

    def __init__(self) -> None:
        self._by_position: dict[int, LoggedEvent] = {}
        self._by_id: dict[UUID, LoggedEvent] = {}
        self._by_ref: dict[tuple[str, str], list[int]] = {}
        # project() keeps each pair's fold here, so a pair is re-derived only where it changed.
        self.folds: dict[Pair, PairFold] = {}

    def add(self, event: RecordedEvent) -> LoggedEvent:
        """Index one more event of the log; return it as the fold reads it."""
        return self.add_logged(logged(event))

    def add_logged(self, entry: LoggedEvent) -> LoggedEvent:
        """Index one more event of the log, already read as the fold reads it (a rebuild makes
        these straight from the rows). Its keys are those `domain.references.references` gives
        of kinds PAIR and TARGET, from the same current payload, and CITES of every citation
        (a payload's quote rests on citations without a quote too)."""
        position = entry.position
        self._by_position[position] = entry
        self._by_id[entry.id] = entry
        if EVENT_TYPES[entry.type].kind is Kind.EDITORIAL:
            self._by_ref.setdefault((TARGET, str(entry.payload["target"])), []).append(position)
        pair = pair_reference(entry.type, entry.payload)
        if pair:
            self._by_ref.setdefault((PAIR, pair), []).append(position)
        for source in dict.fromkeys(c.source for c in entry.sources):
            self._by_ref.setdefault((CITES, source), []).append(position)
        return entry

    async def pair_events(self, pair: str, upto: int) -> list[LoggedEvent]:
        """Events referring to a pair."""
        return self._at((PAIR, pair), upto)

    async def targeting(self, ids: set[UUID], upto: int) -> list[LoggedEvent]:
        """Editorial events aimed at any of these ids."""
        return [e for i in ids for e in self._at((TARGET, str(i)), upto)]

    async def citing(self, source: str, upto: int) -> list[LoggedEvent]:
        """Events citing a source."""
        return self._at((CITES, source), upto)

    async def events(self, ids: set[UUID]) -> list[LoggedEvent]:
        """Events by id."""
        return [self._by_id[i] for i in ids if i in self._by_id]

    def _at(self, key: tuple[str, str], upto: int) -> list[LoggedEvent]:
        return [self._by_position[p] for p in self._by_ref.get(key, []) if p <= upto]


class MemoryPositionRows:
    """Bitemporal rows per pair: every row in `rows`, the open ones also by valid time."""

    # `open_rows` hands a pair's rows over sorted by valid_from (the projector need not sort).
    open_rows_in_valid_time_order = True

    def __init__(self) -> None:
        self.rows: dict[Pair, list[Row]] = {}
        # Per pair: the open rows in valid-time order, and where each sits in `rows`.
        self._open: dict[Pair, list[Row]] = {}
        self._slots: dict[Pair, dict[tuple[int, int], int]] = {}

    async def open_rows(self, pair: Pair) -> list[Row]:
        """The pair's rows as currently known, in valid-time order."""
        return list(self._open.get(pair, ()))

    async def revise(self, closing: Sequence[Row], at: int, inserting: Sequence[Row]) -> None:
        """Close rows at a transaction time and insert their successors."""
        for row in closing:
            pair = (row.actor, row.proposal)
            slot = self._slots[pair].pop((row.valid_from, row.recorded_from))
            self.rows[pair][slot] = Row(
                actor=row.actor,
                proposal=row.proposal,
                valid_from=row.valid_from,
                valid_to=row.valid_to,
                recorded_from=row.recorded_from,
                recorded_to=at,
                state=row.state,
            )
            still_open = self._open[pair]
            at_index = bisect_left(still_open, row.valid_from, key=_valid_from)
            if still_open[at_index].recorded_from != row.recorded_from:
                raise LookupError(f"no open row {row.valid_from}/{row.recorded_from} of {pair}")
            del still_open[at_index]
        for row in inserting:
            pair = (row.actor, row.proposal)
            pair_rows = self.rows.setdefault(pair, [])
            self._slots.setdefault(pair, {})[(row.valid_from, row.recorded_from)] = len(pair_rows)
            pair_rows.append(row)
            insort(self._open.setdefault(pair, []), row, key=_valid_from)

    def all_rows(self) -> list[Row]:
        """Every row, in a stable order."""
        return sorted(
            (r for rows in self.rows.values() for r in rows),
            key=lambda r: (r.actor, r.proposal, r.valid_from, r.recorded_from),
        )


def _valid_from(row: Row) -> int:
    return row.valid_from
