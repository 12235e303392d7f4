"""Actors and sources: who takes part and what the claims rest on."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode
from uuid import UUID

from litestar import Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.params import QueryParameter

from api.dependencies import AppServices
from api.parameters import AsOf, KnownAt, SlugPath, Tz
from api.presenters import checks_of, event_out
from api.read_schemas import (
    ActorDetailOut,
    ActorOut,
    ActorPage,
    SourceDetailOut,
    SourceOut,
    SourcePage,
    TextMetaOut,
)
from api.reading import cached, cached_read_responses, read_time
from domain.valid_time import format_instant, from_micros
from store.read_models.effective import Version
from store.read_models.queries import CitingQuery
from store.read_models.verification import Attachment

MAX_PAGE = 1000


@get(
    "/actors",
    operation_id="listActors",
    summary="Actors registered by as_of, with their affiliation, role and authority then",
    responses=cached_read_responses(400, 503),
    tags=["registry"],
)
async def list_actors(
    request: Request[Any, Any, Any],
    services: AppServices,
    as_of: AsOf = None,
    known_at: KnownAt = None,
    tz: Tz = "UTC",
) -> Response[ActorPage]:
    """Every actor as of as_of."""
    when = await read_time(services, as_of, known_at, tz)
    actors = await services.store.reads.registry("actor", when.as_of_micros, when.known_at_micros)
    items = [ActorOut(**a) for a in actors]
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
    services: AppServices,
    actor: SlugPath,
    as_of: AsOf = None,
    known_at: KnownAt = None,
    tz: Tz = "UTC",
) -> Response[ActorDetailOut]:
    """The actor's name, kind, affiliation, role and authority at as_of."""
    when = await read_time(services, as_of, known_at, tz)
    found = await services.store.reads.registry(
        "actor", when.as_of_micros, when.known_at_micros, actor
    )
    if not found:
        raise NotFoundException(f"no actor {actor!r} registered by as_of, as known at known_at")
    body = {**found[0], **when.echo()}
    return cached(request, body, when.settled)


@get(
    "/sources",
    operation_id="listSources",
    summary="Sources registered by known_at",
    responses=cached_read_responses(400, 503),
    tags=["registry"],
)
async def list_sources(
    request: Request[Any, Any, Any], services: AppServices, known_at: KnownAt = None, tz: Tz = "UTC"
) -> Response[SourcePage]:
    """Every registered source."""
    when = await read_time(services, None, known_at, tz)
    registrations = await services.store.reads.sources(when.known_at_micros)
    ids = [v.state["payload"]["source"] for v in registrations]
    attached = {
        a.source: a for a in await services.store.reads.attachments_among(ids, when.known_at_micros)
    }
    items = [_source(v, attached.get(v.state["payload"]["source"])) for v in registrations]
    body = SourcePage(items=items, next=None, known_at=format_instant(when.known_at))
    return cached(request, body, when.known_settled)


@get(
    "/sources/{source:str}",
    operation_id="getSource",
    summary="A source and the events that cite it",
    responses=cached_read_responses(400, 404, 503),
    tags=["registry"],
)
async def get_source(
    request: Request[Any, Any, Any],
    services: AppServices,
    source: SlugPath,
    known_at: KnownAt = None,
    tz: Tz = "UTC",
    limit: Annotated[
        int, QueryParameter(ge=1, le=MAX_PAGE, description="Citing events per page.")
    ] = 100,
    after: Annotated[
        int,
        QueryParameter(ge=0, le=2**53, description="Citing events after this log position."),
    ] = 0,
) -> Response[SourceDetailOut]:
    """The source's details and the events citing it, in log order, a page at a time."""
    when = await read_time(services, None, known_at, tz)
    registered = await services.store.reads.sources(when.known_at_micros, source)
    if not registered:
        raise NotFoundException(f"no source {source!r} registered by known_at")
    citing = await services.store.reads.citing(
        CitingQuery(source=source, known_at=when.known_at_micros, after=after, limit=limit + 1)
    )
    page = citing[:limit]
    next_url = None
    if len(citing) > limit:
        query = {**request.url.query_params.dict(), "after": [str(page[-1].position)]}
        next_url = f"/v1/sources/{source}?" + urlencode(
            [(k, v) for k, values in query.items() for v in values]
        )
    attached = await services.store.reads.attachments_among([source], when.known_at_micros)
    summary = _source(registered[0], attached[0] if attached else None)
    checks = await checks_of(services.store.reads, page, when.known_at_micros)
    body = SourceDetailOut(
        **{f: getattr(summary, f) for f in summary.__struct_fields__},
        cited_by=[event_out(e, checks=checks) for e in page],
        next=next_url,
        known_at=format_instant(when.known_at),
    )
    return cached(request, body, when.known_settled)


def _source(version: Version, attached: Attachment | None = None) -> SourceOut:
    payload = version.state["payload"]
    return SourceOut(
        text=None
        if attached is None
        else TextMetaOut(
            sha256=attached.sha256,
            characters=attached.characters,
            attached_at=format_instant(from_micros(attached.recorded_from)),
        ),
        id=payload["source"],
        outlet=payload["outlet"],
        headline=payload["headline"],
        published_on=payload["published_on"],
        registered_by=UUID(version.state["id"]),
        author=payload.get("author"),
        url=payload.get("url"),
        language=payload.get("language"),
        reliability=payload.get("reliability"),
    )
