"""The read models in memory, for the in-memory store and the rebuild: rows in lists, queries
by filtering them (the in-memory store serves tests, whose logs are small)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from domain.references import CITES
from domain.valid_time import to_micros
from store.read_models.effective import Version
from store.read_models.queries import CitingQuery, TimelineEntry, TimelineQuery
from store.read_models.registry import Entry
from store.read_models.verification_memory import MemoryVerificationReads, MemoryVerificationRows
from store.records import RecordedEvent


class MemoryEffectiveRows:
    """Every version in `versions`; the open one of each event found by its position."""

    def __init__(self) -> None:
        self.versions: list[Version] = []
        self._open: dict[int, int] = {}  # log position -> slot in `versions`
        self._by_subject: dict[str, set[int]] = {}  # positions ever about a subject

    async def open_version(self, position: int) -> Version | None:
        slot = self._open.get(position)
        return None if slot is None else self.versions[slot]

    async def revise(self, closing: Version | None, at: int, inserting: Version) -> None:
        if closing is not None:
            slot = self._open[closing.position]
            self.versions[slot] = replace(self.versions[slot], recorded_to=at)
        self._open[inserting.position] = len(self.versions)
        self.versions.append(inserting)
        if inserting.subject is not None:
            self._by_subject.setdefault(inserting.subject, set()).add(inserting.position)

    async def open_versions_of(self, subject: str) -> list[Version]:
        found = (self.versions[self._open[p]] for p in sorted(self._by_subject.get(subject, ())))
        return [v for v in found if v.subject == subject]


class MemoryRegistryRows:
    """Every registry row in `entries`; the open ones of each subject by their slots."""

    def __init__(self) -> None:
        self.entries: list[Entry] = []
        self._open: dict[tuple[str, str], list[int]] = {}

    async def open_entries(self, kind: str, subject: str) -> list[Entry]:
        return [self.entries[slot] for slot in self._open.get((kind, subject), [])]

    async def revise(self, closing: Sequence[Entry], at: int, inserting: Sequence[Entry]) -> None:
        for entry in closing:
            slots = self._open[(entry.kind, entry.subject)]
            [slot] = [s for s in slots if self.entries[s] == entry]
            slots.remove(slot)
            self.entries[slot] = replace(entry, recorded_to=at)
        for entry in inserting:
            self._open.setdefault((entry.kind, entry.subject), []).append(len(self.entries))
            self.entries.append(entry)


def _known(recorded_from: int, recorded_to: int, known_at: int) -> bool:
    return recorded_from <= known_at < recorded_to


class MemoryReadModels(MemoryVerificationReads):
    """The read-model queries over rows in memory and the log they came from."""

    def __init__(
        self,
        effective: MemoryEffectiveRows,
        registry: MemoryRegistryRows,
        log: list[RecordedEvent],
        refs: dict[tuple[str, str], list[int]],
        verification: MemoryVerificationRows,
    ) -> None:
        super().__init__(verification)
        self._effective = effective
        self._registry = registry
        self._log = log
        self._refs = refs

    async def timeline(self, query: TimelineQuery) -> list[TimelineEntry]:
        chosen = sorted(
            (v for v in self._effective.versions if _in_timeline(v, query)),
            key=lambda v: (v.valid_earliest, v.position),
            reverse=query.descending,
        )
        return [(self._log[v.position - 1], v) for v in chosen[: query.limit]]

    async def registry(
        self, kind: str, as_of: int, known_at: int, subject: str | None = None
    ) -> list[dict[str, Any]]:
        return self._registry_where(kind, as_of, known_at, lambda s: subject in (None, s))

    async def registry_among(
        self, kind: str, as_of: int, known_at: int, subjects: Sequence[str]
    ) -> list[dict[str, Any]]:
        return self._registry_where(kind, as_of, known_at, set(subjects).__contains__)

    def _registry_where(
        self, kind: str, as_of: int, known_at: int, wanted: Callable[[str], bool]
    ) -> list[dict[str, Any]]:
        found = sorted(
            (e.subject, e.state)
            for e in self._registry.entries
            if e.kind == kind
            and wanted(e.subject)
            and _known(e.recorded_from, e.recorded_to, known_at)
            and e.valid_from <= as_of < e.valid_to
        )
        return [state for _, state in found]

    async def sources(self, known_at: int, source: str | None = None) -> list[Version]:
        return self._sources_where(known_at, lambda s: source is None or s == f"source:{source}")

    async def sources_among(self, known_at: int, sources: Sequence[str]) -> list[Version]:
        return self._sources_where(known_at, {f"source:{s}" for s in sources}.__contains__)

    def _sources_where(self, known_at: int, wanted: Callable[[str], bool]) -> list[Version]:
        found = [
            v
            for v in self._effective.versions
            if v.type == "SourceRegistered"
            and not v.retracted
            and _known(v.recorded_from, v.recorded_to, known_at)
            and v.subject is not None
            and wanted(v.subject)
        ]
        return sorted(found, key=lambda v: (v.subject or "", v.position))

    async def version(self, position: int, known_at: int) -> Version | None:
        found = [
            v
            for v in self._effective.versions
            if v.position == position and _known(v.recorded_from, v.recorded_to, known_at)
        ]
        return found[0] if found else None

    async def events_at(self, positions: Sequence[int]) -> list[RecordedEvent]:
        return [self._log[p - 1] for p in sorted(set(positions)) if 0 < p <= len(self._log)]

    async def citing(self, query: CitingQuery) -> list[RecordedEvent]:
        found = []
        for position in self._refs.get((CITES, query.source), []):
            event = self._log[position - 1]
            if position > query.after and _micros(event) <= query.known_at:
                found.append(event)
                if len(found) == query.limit:
                    break
        return found


def _in_timeline(v: Version, q: TimelineQuery) -> bool:
    return (
        v.kind == "world"
        and _known(v.recorded_from, v.recorded_to, q.known_at)
        and (q.retracted or not v.retracted)
        and (q.min_outlets is None or v.outlets >= q.min_outlets)
        and (q.after is None or _beyond((v.valid_earliest, v.position), q.after, q.descending))
        and (q.proposal is None or v.proposal == q.proposal)
        and (q.actor is None or q.actor in v.actors)
        and (q.start is None or v.valid_latest >= q.start)
        and (q.end is None or v.valid_earliest <= q.end)
    )


def _beyond(key: tuple[int, int], cursor: tuple[int, int], descending: bool) -> bool:
    return key < cursor if descending else key > cursor


def _micros(event: RecordedEvent) -> int:
    return to_micros(event.recorded_at)
