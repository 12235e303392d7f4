"""The log as known at a transaction time, with corrections applied: for timeline-like reads."""

from __future__ import annotations

from datetime import datetime

from domain.editorial import EffectiveEvent, effective_events
from domain.event_types import EVENT_TYPES, Kind
from store.ports import EventQuery, EventStore, RecordedEvent
from store.projection import logged

PAGE = 1000


async def known_events(
    store: EventStore, known_at: datetime, types: tuple[str, ...] = ()
) -> list[RecordedEvent]:
    """Every event recorded by known_at, in log order (optionally of some types only)."""
    found: list[RecordedEvent] = []
    after = 0
    while True:
        page = await store.read(EventQuery(after=after, limit=PAGE, types=types))
        for event in page:
            if event.recorded_at > known_at:
                return found
            found.append(event)
        if len(page) < PAGE:
            return found
        after = page[-1].position


async def effective_view(
    store: EventStore, known_at: datetime, types: tuple[str, ...] = ()
) -> list[EffectiveEvent]:
    """Events as known at known_at, corrected, retractions removed, disputes attached."""
    wanted = (*types, *EDITORIAL) if types else ()
    recorded = await known_events(store, known_at, wanted)
    return effective_events(logged(e) for e in recorded)


EDITORIAL = tuple(name for name, t in EVENT_TYPES.items() if t.kind is Kind.EDITORIAL)
