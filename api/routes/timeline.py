"""The timeline: events in valid-time order, as corrected; retractions hidden, disputes flagged."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from litestar import Request, Response, get
from litestar.params import QueryParameter

from api.dependencies import AppServices
from api.parameters import ActorFilter, KnownAt, OptionalFrom, OptionalTo, ProposalFilter, Tz
from api.presenters import (
    Checks,
    checks_of,
    codes_out,
    corroboration_out,
    event_out,
    quote_check_out,
    valid_time_out,
)
from api.read_schemas import DisputeOut, TimelineItem, TimelinePage
from api.reading import cached, cached_read_responses, moment, read_time
from domain.editorial import EffectiveEvent
from domain.event_types import EVENT_TYPES
from domain.valid_time import format_instant, to_micros
from store.projection import logged
from store.read_models.effective import Version, effective_of
from store.read_models.queries import TimelineEntry, TimelineQuery
from store.records import RecordedEvent

MAX_PAGE = 1000
# More outlets than any event cites: the bound keeps the parameter within the database's integers.
MAX_OUTLETS = 10_000


@get(
    "/timeline",
    operation_id="getTimeline",
    summary="Events in valid-time order: corrections applied, retractions hidden, disputes flagged",
    responses=cached_read_responses(400, 503),
    tags=["timeline"],
)
async def timeline(
    request: Request[Any, Any, Any],
    services: AppServices,
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
    order: Annotated[
        Literal["asc", "desc"],
        QueryParameter(
            description="`asc`: earliest first; `desc`: latest first (what happened last, "
            "a page at a time)."
        ),
    ] = "asc",
    min_outlets: Annotated[
        int | None,
        QueryParameter(
            ge=1,
            le=MAX_OUTLETS,
            description=(
                "Only events supported by at least this many distinct outlets (the outlets of "
                "the sources they cite, as registered); `2` leaves out single-source events."
            ),
        ),
    ] = None,
    after: Annotated[
        str | None,
        QueryParameter(max_length=64, pattern=r"^-?[0-9]+\.[0-9]+$(?!\n)", description="Cursor."),
    ] = None,
) -> Response[TimelinePage]:
    """World events that overlap [from, to], as known at known_at, one page at a time."""
    when = await read_time(services, None, known_at, tz)
    # A bare date starts a range at the start of its day; `from` after `to` is an empty range.
    start = moment(from_, tz, "from", day_start=True) if from_ is not None else None
    end = moment(to, tz, "to") if to is not None else None
    found: list[TimelineEntry] = []
    if start is None or end is None or start <= end:
        found = await services.store.reads.timeline(
            TimelineQuery(
                known_at=when.known_at_micros,
                limit=limit + 1,
                after=None if after is None else _cursor(after),
                proposal=proposal,
                actor=actor,
                start=None if start is None else to_micros(start),
                end=None if end is None else to_micros(end),
                retracted=retracted == "show",
                descending=order == "desc",
                min_outlets=min_outlets,
            )
        )
    page = found[:limit]
    checks = await checks_of(services.store.reads, [r for r, _ in page], when.known_at_micros)
    next_url = None
    if len(found) > limit:
        last = page[-1][1]
        query = request.url.query_params.dict()
        query["after"] = [f"{last.valid_earliest}.{last.position}"]
        encoded = "&".join(f"{k}={v}" for k, values in query.items() for v in values)
        next_url = f"/v1/timeline?{encoded}"
    body = TimelinePage(
        items=[_item(effective_of(v, logged(r)), r, v, checks) for r, v in page],
        next=next_url,
        known_at=format_instant(when.known_at),
    )
    settled = when.known_settled
    return cached(request, body, settled)


def _cursor(after: str) -> tuple[int, int]:
    """The (valid earliest, position) a page continues after, held to the range the database
    can compare (a cursor beyond it is past everything, or before it)."""
    earliest, position = (int(part) for part in after.split("."))
    return (_bigint(earliest), _bigint(position))


def _bigint(value: int) -> int:
    return max(-(2**63), min(value, 2**63 - 1))


def _item(
    event: EffectiveEvent, recorded: RecordedEvent, version: Version, checks: Checks
) -> TimelineItem:
    out = event_out(recorded, checks=checks)
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
        quote_check=quote_check_out(
            recorded.position, len(recorded.draft.sources), event.payload, checks
        ),
    )
    corroboration = corroboration_out(version)
    return TimelineItem(
        **fields,
        corroboration=corroboration,
        single_source=len(corroboration.outlets) == 1,
        corrected_by=list(event.corrected_by),
        disputed=event.disputed,
        disputes=[DisputeOut(event=d.event, reason=d.reason) for d in event.disputes],
        retracted=event.retracted,
        retracted_by=list(event.retracted_by),
    )
