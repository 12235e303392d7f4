"""An event's editorial family (the corrections, retractions and disputes aimed at it, and at
those), and what editorial events are aimed at: read a generation at a time, so the reads are
bounded by the family, not by the log."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from domain.event_types import EVENT_TYPES, Kind
from store.ports import EventStore
from store.records import RecordedEvent


async def editorial_family(store: EventStore, event_id: UUID) -> list[RecordedEvent]:
    """Every editorial event aimed at this event, or at one of those, in log order."""
    found: dict[UUID, RecordedEvent] = {}
    generation = [event_id]
    while generation:
        aimed = [e for target in generation for e in await store.targeting(target)]
        fresh = {e.id: e for e in aimed if e.id not in found}
        found.update(fresh)
        generation = list(fresh)
    return sorted(found.values(), key=lambda e: e.position)


async def targets_of(
    store: EventStore, events: Iterable[RecordedEvent]
) -> dict[str, RecordedEvent]:
    """The events these editorial events are aimed at, and those their targets are aimed at
    when they are editorial too, by id (as the payloads write it)."""
    found: dict[str, RecordedEvent] = {}
    asked: set[str] = set()
    wanted = _targets(events)
    while wanted - asked:
        fresh = sorted(wanted - asked)
        asked.update(fresh)
        got = await store.get_many([UUID(target) for target in fresh])
        found.update((str(event_id), event) for event_id, event in got.items())
        wanted = _targets(got.values())
    return found


def _targets(events: Iterable[RecordedEvent]) -> set[str]:
    return {
        str(UUID(str(event.current_payload()["target"])))
        for event in events
        if EVENT_TYPES[event.type].kind is Kind.EDITORIAL
    }
