"""The timeline: events in valid-time order, as corrected; retractions hidden, disputes flagged."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from litestar import Request, Response, get
from litestar.params import QueryParameter

from api.log_view import known_events
from api.parameters import ActorFilter, KnownAt, OptionalFrom, OptionalTo, ProposalFilter, Tz
from api.presenters import codes_out, event_out, valid_time_out
from api.read_schemas import DisputeOut, TimelineItem, TimelinePage
from api.reading import cached, cached_read_responses, moment, read_time
from api.services import Services
from domain.editorial import EffectiveEvent, effective_events
from domain.event_types import EVENT_TYPES, Kind
from domain.valid_time import format_instant, to_micros
from store.ports import RecordedEvent
from store.projection import logged

MAX_PAGE = 1000


@get(
    "/timeline",
    operation_id="getTimeline",
    summary="Events in valid-time order: corrections applied, retractions hidden, disputes flagged",
    responses=cached_read_responses(400, 503),
    tags=["timeline"],
)
async def timeline(
    request: Request[Any, Any, Any],
    proposal: ProposalFilter = None,
    actor: ActorFilter = None,
    from_: OptionalFrom = None,
    to: OptionalTo = None,
    known_at: KnownAt = None,
    tz: Tz = "UTC",
    limit: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE)] = 100,
    retracted: Annotated[
        Literal["hide", "show"],
        QueryParameter(
            description=(
                "`show` keeps retracted events in the timeline, marked with the retractions "
                "that withdrew them, so a reader can see what was taken back."
            )
        ),
    ] = "hide",
    after: Annotated[
        str | None,
        QueryParameter(max_length=64, pattern=r"^-?[0-9]+\.[0-9]+$(?!\n)", description="Cursor."),
    ] = None,
) -> Response[TimelinePage]:
    """World events that overlap [from, to], as known at known_at, one page at a time."""
    services: Services = request.app.state.services
    when = read_time(services, None, known_at, tz)
    # A bare date starts a range at the start of its day; `from` after `to` is an empty range.
    start = moment(from_, tz, "from", day_start=True) if from_ is not None else None
    end = moment(to, tz, "to") if to is not None else None
    empty = start is not None and end is not None and start > end
    recorded = await known_events(services.store, when.log_horizon)
    by_id = {e.id: e for e in recorded}
    chosen = [
        e
        for e in effective_events((logged(r) for r in recorded), keep_retracted=retracted == "show")
        if not empty
        and EVENT_TYPES[e.type].kind is Kind.WORLD
        and (actor is None or actor in EVENT_TYPES[e.type].actors(e.payload))
        and (proposal is None or e.payload.get("proposal") == proposal)
        and (start is None or e.valid_time.latest >= start)
        and (end is None or e.valid_time.earliest <= end)
    ]
    chosen.sort(key=EffectiveEvent.sort_key)
    if after is not None:
        cursor = tuple(int(part) for part in after.split("."))
        chosen = [e for e in chosen if (to_micros(e.valid_time.earliest), e.position) > cursor]
    page = chosen[:limit]
    next_url = None
    if len(chosen) > limit:
        last = page[-1]
        query = request.url.query_params.dict()
        query["after"] = [f"{to_micros(last.valid_time.earliest)}.{last.position}"]
        encoded = "&".join(f"{k}={v}" for k, values in query.items() for v in values)
        next_url = f"/v1/timeline?{encoded}"
    body = TimelinePage(
        items=[_item(e, by_id[e.id]) for e in page],
        next=next_url,
        known_at=format_instant(when.known_at),
    )
    settled = known_at is not None and when.known_at < services.clock()
    return cached(request, body, settled)


def _item(event: EffectiveEvent, recorded: RecordedEvent) -> TimelineItem:
    out = event_out(recorded)
    kind = EVENT_TYPES[event.type]
    codes = recorded.draft.codes or kind.default_codes(event.payload)
    fields: dict[str, Any] = {f: getattr(out, f) for f in out.__struct_fields__}
    fields.update(
        occurred_at=event.valid_time.expression,
        timezone=event.valid_time.timezone,
        valid_time=valid_time_out(event.valid_time),
        payload=event.payload,
        actors=list(kind.actors(event.payload)),
        codes=codes_out(codes),
    )
    return TimelineItem(
        **fields,
        corrected_by=list(event.corrected_by),
        disputed=event.disputed,
        disputes=[DisputeOut(event=d.event, reason=d.reason) for d in event.disputes],
        retracted=event.retracted,
        retracted_by=list(event.retracted_by),
    )
