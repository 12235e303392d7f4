"""The log over HTTP: append a batch to a stream, page through events, read one with its edits."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode
from uuid import UUID

from litestar import Request, Response, get, post
from litestar.exceptions import NotAuthorizedException, NotFoundException
from litestar.params import HeaderParameter, QueryParameter

from api.appending import append
from api.auth import KEY_STATE, need_scope, optional_key, requires
from api.bodies import json_body
from api.dependencies import AppServices
from api.parameters import ActorFilter, EventId, StreamFilter, TypeFilter, event_types
from api.presenters import checks_of, corroboration_out, event_out
from api.problems import problem_specs
from api.schemas import AppendOut, EventDetailOut, EventPage
from domain.event_types import Kind
from store.keys import ApiKey
from store.ports import EventQuery
from store.projection import FOREVER
from store.scopes import AUDIT

MAX_PAGE = 1000

# A read of the log shows who recorded each event only to a key with events:audit, so its answer
# depends on the Authorization header: caches must key on it, and never share an audited one.
READ_SECURITY: list[dict[str, list[str]]] = [{}, {"bearer": []}]
RecordedByFilter = Annotated[
    str | None,
    QueryParameter(
        min_length=1,
        max_length=200,
        description=(
            "Only events appended by the API key of this name (needs the `events:audit` scope)."
        ),
    ),
]


async def _audit(request: Request[Any, Any, Any]) -> bool:
    """Whether this read may see who recorded events: a key, if one is sent, must be good."""
    key = await optional_key(request)
    return key is not None and key.allows(AUDIT)


def _read_headers(audit: bool) -> dict[str, str]:
    if audit:
        return {"Vary": "Authorization", "Cache-Control": "private, no-cache"}
    return {"Vary": "Authorization"}


@post(
    "/events",
    operation_id="appendEvents",
    summary="Append a batch of events to one stream",
    description=(
        "Atomic: every event is written or none. `expected_version` is the version the stream "
        "must be at (0: it must not exist). Appending ids that exist with the same content "
        "returns their original positions (200) and writes nothing."
    ),
    guards=[requires("events:write", charge=False)],  # counted in the append's transaction
    status_code=201,
    responses=problem_specs(400, 401, 403, 409, 413, 415, 422, 429, 503),
    security=[{"bearer": []}],
    tags=["events"],
)
async def append_events(
    request: Request[Any, Any, Any],
    services: AppServices,
    idempotency_key: Annotated[
        str | None,
        HeaderParameter(
            name="Idempotency-Key",
            required=False,
            min_length=1,
            max_length=255,
            pattern=r"^[\x20-\x7e]+$",
            description="Retries with the same key and body get the first response again.",
        ),
    ] = None,
) -> Response[AppendOut]:
    """Append events; replay the first response for a repeated Idempotency-Key."""
    key: ApiKey = request.state[KEY_STATE]
    answer: Response[AppendOut] = await append(
        request, services, key, await json_body(request), idempotency_key
    )
    return answer


@get(
    "/events",
    operation_id="listEvents",
    summary="The log, in position order",
    description=(
        "Anonymous, or with a key. Event metadata names the key that recorded it "
        "(`recorded_by`, `key_id`) only for a key with the `events:audit` scope, which may also "
        "filter by it (`recorded_by`)."
    ),
    responses=problem_specs(400, 401, 403, 503),
    security=READ_SECURITY,
    tags=["events"],
)
async def list_events(
    request: Request[Any, Any, Any],
    services: AppServices,
    after: Annotated[
        int, QueryParameter(ge=0, le=2**53, description="Return events after this position.")
    ] = 0,
    limit: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE)] = 100,
    stream: StreamFilter = None,
    event_type: TypeFilter = None,
    actor: ActorFilter = None,
    recorded_by: RecordedByFilter = None,
) -> Response[EventPage]:
    """A page of the log with a link to the next."""
    audit = await _audit(request)
    if recorded_by is not None and not audit:
        if not request.headers.get("authorization"):  # no key: 401, as on every guarded route
            raise NotAuthorizedException(f"filtering by recorded_by needs a key with {AUDIT!r}")
        raise need_scope(AUDIT)
    types = event_types(event_type)
    found = await services.store.read(
        EventQuery(
            after=after,
            limit=limit + 1,
            stream=stream,
            types=types,
            actor=actor,
            recorded_by=recorded_by,
        )
    )
    page = found[:limit]
    more = len(found) > limit
    query: dict[str, Any] = {
        "limit": limit,
        "stream": stream,
        "actor": actor,
        "recorded_by": recorded_by,
    }
    next_url = None
    if more:
        params = [
            ("after", page[-1].position),
            *((k, v) for k, v in query.items() if v is not None),
        ]
        params.extend(("type", t) for t in types)
        next_url = f"/v1/events?{urlencode(params)}"
    checks = await checks_of(services.store.reads, page)
    return Response(
        EventPage(items=[event_out(e, audit=audit, checks=checks) for e in page], next=next_url),
        headers=_read_headers(audit),
    )


@get(
    "/events/{event_id:str}",
    operation_id="getEvent",
    summary="One event, with the corrections, retractions and disputes that target it",
    description=(
        "Anonymous, or with a key: metadata names the key that recorded an event "
        "(`recorded_by`, `key_id`) only for a key with the `events:audit` scope."
    ),
    responses=problem_specs(400, 401, 404, 503),
    security=READ_SECURITY,
    tags=["events"],
)
async def get_event(
    request: Request[Any, Any, Any],
    services: AppServices,
    event_id: EventId,
) -> Response[EventDetailOut]:
    """An event and its editorial history."""
    audit = await _audit(request)
    wanted = UUID(event_id)  # the path's pattern admits only canonical UUIDs
    event = await services.store.get(wanted)
    if event is None:
        raise NotFoundException(f"no event {wanted}")
    editorial = await services.store.targeting(wanted)
    out = event_out(event, audit=audit, checks=await checks_of(services.store.reads, [event]))
    # The version standing now (the open one), as the timeline shows it.
    version = await services.store.reads.version(event.position, FOREVER - 1)
    corroboration = None
    if version is not None and version.kind == Kind.WORLD:
        corroboration = corroboration_out(version)
    detail = EventDetailOut(
        **{f: getattr(out, f) for f in out.__struct_fields__},
        editorial=[event_out(e, audit=audit) for e in editorial],
        corroboration=corroboration,
        single_source=None if corroboration is None else len(corroboration.outlets) == 1,
    )
    return Response(detail, headers=_read_headers(audit))
