"""The registry a page of events is told with: the actors, proposals and sources those events
name, looked up together (a query for each kind), never the whole registry."""

from __future__ import annotations

from collections.abc import Iterable

from domain.editorial import LoggedEvent
from domain.event_types import EVENT_TYPES
from domain.exports.registry import (
    END_OF_TIME,
    Registry,
    actor_info,
    proposal_info,
    source_info,
)
from domain.valid_time import to_micros
from store.read_models.queries import ReadModels


async def registry_naming(
    reads: ReadModels, events: Iterable[LoggedEvent], known_at: int
) -> Registry:
    """The registry entries these events name, as known at `known_at`, with the names they
    now have (as of the end of valid time)."""
    actors: set[str] = set()
    proposals: set[str] = set()
    sources: set[str] = set()
    for event in events:
        actors.update(EVENT_TYPES[event.type].actors(event.payload))
        proposal = event.payload.get("proposal")
        if isinstance(proposal, str):
            proposals.add(proposal)
        sources.update(citation.source for citation in event.sources)
    valid = to_micros(END_OF_TIME)
    named = await reads.registry_among("actor", valid, known_at, sorted(actors))
    tabled = await reads.registry_among("proposal", valid, known_at, sorted(proposals))
    registered = await reads.sources_among(known_at, sorted(sources))
    return Registry(
        actors={a["id"]: actor_info(a) for a in named},
        proposals={p["id"]: proposal_info(p) for p in tabled},
        sources={s.state["payload"]["source"]: source_info(s.state["payload"]) for s in registered},
    )
