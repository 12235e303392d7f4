"""The positions read model in memory: an index of the log and the bitemporal rows as lists."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from uuid import UUID

from domain.editorial import LoggedEvent
from domain.positions import Pair
from domain.references import PAIR, TARGET, references
from store.ports import RecordedEvent
from store.projection import FOREVER, Row, logged


class MemoryLogIndex:
    """Events by position, id, pair and target, filled as the log grows."""

    def __init__(self) -> None:
        self._by_position: dict[int, LoggedEvent] = {}
        self._by_id: dict[UUID, LoggedEvent] = {}
        self._by_ref: dict[tuple[str, str], list[int]] = {}

    def add(self, event: RecordedEvent) -> LoggedEvent:
        """Index one more event of the log; return it as the fold reads it."""
        entry = logged(event)
        self._by_position[entry.position] = entry
        self._by_id[entry.id] = entry
        for kind, ref in references(event.draft):
            if kind in (PAIR, TARGET):
                self._by_ref.setdefault((kind, ref), []).append(entry.position)
        return entry

    async def pair_events(self, pair: str, upto: int) -> list[LoggedEvent]:
        """Events referring to a pair."""
        return self._at((PAIR, pair), upto)

    async def targeting(self, ids: set[UUID], upto: int) -> list[LoggedEvent]:
        """Editorial events aimed at any of these ids."""
        return [e for i in ids for e in self._at((TARGET, str(i)), upto)]

    async def events(self, ids: set[UUID]) -> list[LoggedEvent]:
        """Events by id."""
        return [self._by_id[i] for i in ids if i in self._by_id]

    def _at(self, key: tuple[str, str], upto: int) -> list[LoggedEvent]:
        return [self._by_position[p] for p in self._by_ref.get(key, []) if p <= upto]


class MemoryPositionRows:
    """Bitemporal rows per pair."""

    def __init__(self) -> None:
        self.rows: dict[Pair, list[Row]] = {}

    async def open_rows(self, pair: Pair) -> list[Row]:
        """The pair's rows as currently known."""
        return [r for r in self.rows.get(pair, []) if r.recorded_to == FOREVER]

    async def revise(self, closing: Sequence[Row], at: int, inserting: Sequence[Row]) -> None:
        """Close rows at a transaction time and insert their successors."""
        for row in closing:
            pair_rows = self.rows[(row.actor, row.proposal)]
            pair_rows[pair_rows.index(row)] = replace(row, recorded_to=at)
        for row in inserting:
            self.rows.setdefault((row.actor, row.proposal), []).append(row)

    def all_rows(self) -> list[Row]:
        """Every row, in a stable order."""
        return sorted(
            (r for rows in self.rows.values() for r in rows),
            key=lambda r: (r.actor, r.proposal, r.valid_from, r.recorded_from),
        )
