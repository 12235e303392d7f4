"""Loads the first data set through the same write path as the API, idempotently."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from seeds.dataset import SeedStream, load_dataset
from store.errors import DuplicateEventConflict
from store.ports import Clock, EventStore
from store.submission import submit

SEED_METADATA = {"recorded_by": "seed", "correlation_id": "seed:ceasefire-2025"}


@dataclass(frozen=True, slots=True)
class SeedReport:
    """What a seed run appended, and what it found there already."""

    appended: int
    already_present: int
    streams: int


class SeedChanged(ValueError):
    """The log holds seed events that the data set has since rewritten (a log never changes)."""


async def seed(
    store: EventStore,
    clock: Clock,
    streams: tuple[SeedStream, ...] | None = None,
    progress: Callable[[SeedStream], None] = lambda _stream: None,
) -> SeedReport:
    """Append every seed stream; a stream appended before is recognised by its ids."""
    appended = present = 0
    loaded = streams if streams is not None else load_dataset()
    for stream in loaded:
        try:
            result = await submit(
                store, clock, stream=stream.stream, events=stream.events, metadata=SEED_METADATA
            )
        except DuplicateEventConflict as conflict:
            raise SeedChanged(
                f"this log was seeded with an earlier version of the data set (event "
                f"{conflict.event_id} of stream {stream.stream} differs now): seed a new "
                "database instead — for `make run`, delete var/timeline.db and run it again"
            ) from None
        if result.duplicate:
            present += len(result.events)
        else:
            appended += len(result.events)
        progress(stream)
    return SeedReport(appended=appended, already_present=present, streams=len(loaded))
