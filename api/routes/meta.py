"""Health and the catalogue of event types."""

from __future__ import annotations

from litestar import get

from api.dependencies import AppServices
from api.problems import problem_specs
from api.schemas import EventTypeOut, EventTypesOut, HealthOut, SchemaVersionOut
from domain.event_types import EVENT_TYPES, payload_schema


@get(
    "/health",
    operation_id="getHealth",
    summary="Whether the service and its database answer; the log's head position and hash",
    responses=problem_specs(503),
    tags=["meta"],
)
async def health(services: AppServices) -> HealthOut:
    """Answer with the head position and hash, or a 503 when the database is down."""
    head, head_hash = await services.store.chain_head()
    return HealthOut(status="ok", backend=services.store.backend, head=head, head_hash=head_hash)


@get(
    "/event-types",
    operation_id="listEventTypes",
    summary="Every event type, with the JSON Schema of each payload version",
    tags=["meta"],
)
async def event_types() -> EventTypesOut:
    """The catalogue, in a stable order."""
    return EventTypesOut(items=_CATALOGUE)


_CATALOGUE = [
    EventTypeOut(
        name=t.name,
        kind=str(t.kind),
        current_version=t.current_version,
        description=(t.versions[t.current_version].__doc__ or "").strip(),
        versions=[
            SchemaVersionOut(version=v, schema=payload_schema(t.versions[v]))
            for v in sorted(t.versions)
        ],
    )
    for t in EVENT_TYPES.values()
]
