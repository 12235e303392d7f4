"""What the reads ask of the read models: a port every store answers from its own tables."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from store.read_models.effective import Version
from store.read_models.verification import Attachment, Check
from store.records import RecordedEvent


@dataclass(frozen=True, slots=True, kw_only=True)
class TimelineQuery:
    """World events as known at a transaction time, in valid-time order (earliest instant,
    then log position; newest first when `descending`), after a keyset cursor in that order;
    times in UTC microseconds."""

    known_at: int
    limit: int = 100
    after: tuple[int, int] | None = None
    proposal: str | None = None
    actor: str | None = None
    # The event's valid time must reach `start` (latest >= start) and begin by `end`.
    start: int | None = None
    end: int | None = None
    retracted: bool = False  # whether retracted events are kept (marked)
    descending: bool = False
    # Only events whose citations come from at least this many distinct outlets.
    min_outlets: int | None = None


TimelineEntry = tuple[RecordedEvent, Version]


@dataclass(frozen=True, slots=True, kw_only=True)
class CitingQuery:
    """The events citing a source, in log order, after a position."""

    source: str
    known_at: int
    after: int = 0
    limit: int = 100


class ReadModels(Protocol):
    """The reads the read models answer, each bounded by the page it returns."""

    async def timeline(self, query: TimelineQuery) -> list[TimelineEntry]:
        """One page of the timeline."""
        ...

    async def registry(
        self, kind: str, as_of: int, known_at: int, subject: str | None = None
    ) -> list[dict[str, Any]]:
        """Actors or proposals (`kind`) as of a valid time as known at a transaction time,
        ordered by id; only `subject` when given."""
        ...

    async def registry_among(
        self, kind: str, as_of: int, known_at: int, subjects: Sequence[str]
    ) -> list[dict[str, Any]]:
        """As `registry`, only those of `subjects` (the names a page of events uses)."""
        ...

    async def sources(self, known_at: int, source: str | None = None) -> list[Version]:
        """Source registrations standing at a transaction time, by source id then position."""
        ...

    async def sources_among(self, known_at: int, sources: Sequence[str]) -> list[Version]:
        """As `sources`, only those of these ids (the sources a page of events cites)."""
        ...

    async def version(self, position: int, known_at: int) -> Version | None:
        """The version of the event at a log position known at a transaction time (None for
        editorial events, and before the event was recorded)."""
        ...

    async def citing(self, query: CitingQuery) -> list[RecordedEvent]:
        """One page of the events citing a source."""
        ...

    async def attachments_among(self, sources: Sequence[str], known_at: int) -> list[Attachment]:
        """The texts these sources had at a transaction time (those with none left out)."""
        ...

    async def checks(self, positions: Sequence[int], known_at: int) -> list[Check]:
        """The quote checks of these events' citations known at a transaction time."""
        ...

    async def failures(
        self, source: str, known_at: int, after: tuple[int, int] | None, limit: int
    ) -> list[Check]:
        """One page of a source's citations whose quotes its text does not hold, by (event
        position, citation index), after a cursor in that order."""
        ...

    async def check_counts(self, source: str, known_at: int) -> tuple[int, int]:
        """How many of a source's quoted citations its text verifies, and how many it fails."""
        ...

    async def events_at(self, positions: Sequence[int]) -> list[RecordedEvent]:
        """The events at these log positions, in position order (a page's worth)."""
        ...

    async def text(self, sha256: str) -> str | None:
        """A stored text by its SHA-256."""
        ...
