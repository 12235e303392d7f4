"""Actors and sources: who takes part and what the claims rest on."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.exceptions import NotFoundException

from api.log_view import effective_view, known_events
from api.parameters import AsOf, KnownAt, SlugPath, Tz
from api.presenters import event_out
from api.read_schemas import (
    ActorDetailOut,
    ActorOut,
    ActorPage,
    SourceDetailOut,
    SourceOut,
    SourcePage,
)
from api.reading import ReadTime, cached, cached_read_responses, read_time
from api.services import Services
from domain.actors import ACTOR_TYPES, actors_as_of
from domain.valid_time import format_instant
from store.ports import RecordedEvent


@get(
    "/actors",
    operation_id="listActors",
    summary="Actors registered by as_of, with their affiliation, role and authority then",
    responses=cached_read_responses(400, 503),
    tags=["registry"],
)
async def list_actors(
    request: Request[Any, Any, Any], as_of: AsOf = None, known_at: KnownAt = None, tz: Tz = "UTC"
) -> Response[ActorPage]:
    """Every actor as of as_of."""
    services: Services = request.app.state.services
    when = read_time(services, as_of, known_at, tz)
    actors = await _actors(services, when)
    items = [ActorOut(**a) for _, a in sorted(actors.items())]
    return cached(request, ActorPage(items=items, next=None, **when.echo()), when.settled)


@get(
    "/actors/{actor:str}",
    operation_id="getActor",
    summary="One actor as of as_of",
    responses=cached_read_responses(400, 404, 503),
    tags=["registry"],
)
async def get_actor(
    request: Request[Any, Any, Any],
    actor: SlugPath,
    as_of: AsOf = None,
    known_at: KnownAt = None,
    tz: Tz = "UTC",
) -> Response[ActorDetailOut]:
    """The actor's name, kind, affiliation, role and authority at as_of."""
    services: Services = request.app.state.services
    when = read_time(services, as_of, known_at, tz)
    actors = await _actors(services, when)
    if actor not in actors:
        raise NotFoundException(f"no actor {actor!r} registered by as_of, as known at known_at")
    body = {**actors[actor], **when.echo()}
    return cached(request, body, when.settled)


@get(
    "/sources",
    operation_id="listSources",
    summary="Sources registered by known_at",
    responses=cached_read_responses(400, 503),
    tags=["registry"],
)
async def list_sources(
    request: Request[Any, Any, Any], known_at: KnownAt = None, tz: Tz = "UTC"
) -> Response[SourcePage]:
    """Every registered source."""
    services: Services = request.app.state.services
    when = read_time(services, None, known_at, tz)
    registrations = await known_events(services.store, when.log_horizon, ("SourceRegistered",))
    items = sorted((_source(e) for e in registrations), key=lambda s: s.id)
    body = SourcePage(items=items, next=None, known_at=format_instant(when.known_at))
    return cached(request, body, known_at is not None and when.known_at < services.clock())


@get(
    "/sources/{source:str}",
    operation_id="getSource",
    summary="A source and the events that cite it",
    responses=cached_read_responses(400, 404, 503),
    tags=["registry"],
)
async def get_source(
    request: Request[Any, Any, Any], source: SlugPath, known_at: KnownAt = None, tz: Tz = "UTC"
) -> Response[SourceDetailOut]:
    """The source's details and every event citing it, in log order."""
    services: Services = request.app.state.services
    when = read_time(services, None, known_at, tz)
    everything = await known_events(services.store, when.log_horizon)
    registered = [
        e
        for e in everything
        if e.type == "SourceRegistered" and e.draft.payload["source"] == source
    ]
    if not registered:
        raise NotFoundException(f"no source {source!r} registered by known_at")
    citing = [e for e in everything if any(c.source == source for c in e.draft.sources)]
    summary = _source(registered[0])
    body = SourceDetailOut(
        **{f: getattr(summary, f) for f in summary.__struct_fields__},
        cited_by=[event_out(e) for e in citing],
        known_at=format_instant(when.known_at),
    )
    return cached(request, body, known_at is not None and when.known_at < services.clock())


async def _actors(services: Services, when: ReadTime) -> dict[str, dict[str, Any]]:
    effective = await effective_view(services.store, when.log_horizon, ACTOR_TYPES)
    return actors_as_of(effective, when.as_of)


def _source(event: RecordedEvent) -> SourceOut:
    payload = event.current_payload()
    return SourceOut(
        id=payload["source"],
        outlet=payload["outlet"],
        headline=payload["headline"],
        published_on=payload["published_on"],
        registered_by=event.id,
        author=payload.get("author"),
        url=payload.get("url"),
        language=payload.get("language"),
        reliability=payload.get("reliability"),
    )
