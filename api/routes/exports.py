"""Exports for other tools: TimelineJS, CSV (data or TimelineJS's sheet template), PLOVER JSONL.

Each export is the timeline's selection (world events, corrections applied, retractions hidden,
disputes flagged), optionally one proposal's, optionally only what had begun by as_of, as known
at known_at. The shaping is in `domain.exports`; here the log is read and the bytes written.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example
from litestar.params import QueryParameter
from litestar.response import Stream

from api.conditional import IMMUTABLE, REVALIDATE, client_has
from api.dependencies import AppServices
from api.parameters import AsOf, KnownAt, ProposalFilter, Tz
from api.reading import cached_read_responses, read_time
from domain.event_types import EVENT_TYPES
from domain.exports.plover import plover_record
from domain.exports.registry import (
    END_OF_TIME,
    ExportEvent,
    Registry,
    actor_info,
    proposal_info,
    source_info,
)
from domain.exports.spreadsheet import (
    EVENT_COLUMNS,
    TEMPLATE_COLUMNS,
    CsvLayout,
    csv_header,
    csv_rows,
    event_row,
    template_rows,
)
from domain.exports.timelinejs import slide, title_text
from domain.valid_time import to_micros
from domain.vocabulary import SLUG_PATTERN
from store.ports import EventQuery, EventStore
from store.projection import logged
from store.read_models.effective import Version, effective_of
from store.read_models.queries import TimelineQuery
from store.records import RecordedEvent

CSV = "text/csv"
NDJSON = "application/x-ndjson"
# The same lines for a client that asks for text: generators read text/* bodies as a string and
# cannot read application/x-ndjson at all (the OpenAPI document lists both).
PLAIN = "text/plain"
PLOVER_TYPES = (NDJSON, PLAIN)
READ_ERRORS = cached_read_responses(400, 404, 503)
# Events read from the timeline per page while an export streams: the first pages smaller.
FIRST_EXPORT_PAGE = 50
EXPORT_PAGE = 1000

RequiredProposal = Annotated[
    str,
    QueryParameter(
        pattern=SLUG_PATTERN, max_length=100, description="The proposal the timeline is about."
    ),
]
Layout = Annotated[
    CsvLayout,
    QueryParameter(
        description=(
            "`events`: one row per event, every field; `timelinejs`: the columns of "
            "TimelineJS's Google Sheets template."
        )
    ),
]


class TimelineJSDate(msgspec.Struct, omit_defaults=True):
    """A TimelineJS date object, down to the event's precision."""

    year: int
    month: int | None = None
    day: int | None = None
    hour: int | None = None
    minute: int | None = None
    second: int | None = None


class TimelineJSText(msgspec.Struct):
    """A slide's headline and HTML text."""

    headline: str
    text: str


class TimelineJSTitle(msgspec.Struct):
    """The title slide: the proposal, its terms and who proposed it."""

    text: TimelineJSText


class TimelineJSSlide(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One event: dates, display date when uncertain, text citing sources, party as group."""

    unique_id: str
    start_date: TimelineJSDate
    text: TimelineJSText
    end_date: TimelineJSDate | None = None
    display_date: str | None = None
    group: str | None = None


class TimelineJSOut(msgspec.Struct):
    """A TimelineJS document (https://timeline.knightlab.com/docs/json-format.html)."""

    title: TimelineJSTitle
    events: list[TimelineJSSlide]


@dataclass(frozen=True, slots=True)
class ExportView:
    """What an export shows: the timeline read (its first page) at a fixed transaction time,
    the registries its events resolve against, whether the answer can never change, and the
    ETag of the bytes (which the query and the log's head determine)."""

    query: TimelineQuery
    registry: Registry
    settled: bool
    etag: str


@get(
    "/exports/timelinejs",
    operation_id="exportTimelineJS",
    summary="A proposal's timeline as a TimelineJS document",
    responses={
        200: ResponseSpec(data_container=TimelineJSOut, description="A TimelineJS document"),
        **READ_ERRORS,
    },
    tags=["exports"],
)
async def export_timelinejs(
    request: Request[Any, Any, Any],
    services: AppServices,
    proposal: RequiredProposal,
    as_of: AsOf = None,
    known_at: KnownAt = None,
    tz: Tz = "UTC",
) -> Response[Any]:
    """Title slide for the proposal; one slide per event, grouped by party."""
    view = await _view(request, services, proposal, as_of, known_at, tz)
    store = services.store

    async def document() -> AsyncIterator[bytes]:
        title = {"text": title_text(proposal, view.registry)}
        yield b'{"title":' + msgspec.json.encode(title) + b',"events":['
        first = True
        async for page in _events(store, view.query):
            for event in page:
                yield (b"" if first else b",") + msgspec.json.encode(slide(event, view.registry))
                first = False
        yield b"]}"

    return _streamed(request, view, document(), "application/json")


@get(
    "/exports/events.csv",
    operation_id="exportEventsCsv",
    summary="The timeline's events as CSV: every field, or TimelineJS's spreadsheet template",
    responses={
        200: ResponseSpec(
            data_container=str,
            media_type=CSV,
            description="CSV with a header (RFC 4180)",
            generate_examples=False,
            examples=[
                Example(summary="The header", value=",".join(EVENT_COLUMNS)),
                Example(
                    summary="The template's header",
                    value=",".join(TEMPLATE_COLUMNS),
                ),
            ],
        ),
        **READ_ERRORS,
    },
    tags=["exports"],
)
async def export_events_csv(
    request: Request[Any, Any, Any],
    services: AppServices,
    proposal: ProposalFilter = None,
    layout: Layout = CsvLayout.EVENTS,
    as_of: AsOf = None,
    known_at: KnownAt = None,
    tz: Tz = "UTC",
) -> Response[Any]:
    """One row per event, in valid-time order; a title row first in the template layout when
    a proposal is given."""
    view = await _view(request, services, proposal, as_of, known_at, tz)
    store = services.store
    template = layout is CsvLayout.TIMELINEJS
    columns = TEMPLATE_COLUMNS if template else EVENT_COLUMNS

    async def lines() -> AsyncIterator[bytes]:
        yield csv_header(columns).encode()
        if template:  # the title row, when there is a proposal
            yield csv_rows(columns, template_rows([], view.registry, proposal)).encode()
        async for page in _events(store, view.query):
            if template:
                rows = template_rows(page, view.registry, None)
            else:
                rows = [event_row(e, view.registry) for e in page]
            yield csv_rows(columns, rows).encode()

    name = f"{proposal or 'all'}-{'timelinejs' if template else 'events'}"
    return _download(request, view, lines(), CSV, f"{name}.csv")


@get(
    "/exports/plover.jsonl",
    operation_id="exportPloverJsonl",
    summary="PLOVER event records, one JSON object per line",
    responses={
        200: ResponseSpec(
            data_container=str,
            media_type=NDJSON,
            description="One PLOVER record per event that has a PLOVER category",
            generate_examples=False,
        ),
        **READ_ERRORS,
    },
    tags=["exports"],
)
async def export_plover_jsonl(
    request: Request[Any, Any, Any],
    services: AppServices,
    proposal: ProposalFilter = None,
    as_of: AsOf = None,
    known_at: KnownAt = None,
    tz: Tz = "UTC",
) -> Response[Any]:
    """Events coded with a PLOVER category, in valid-time order, PLOVER's field names; as
    text/plain when the Accept header prefers it."""
    media_type = request.accept.best_match(list(PLOVER_TYPES), default=NDJSON) or NDJSON
    view = await _view(request, services, proposal, as_of, known_at, tz, media_type)
    store = services.store

    async def lines() -> AsyncIterator[bytes]:
        async for page in _events(store, view.query):
            records = (plover_record(e, view.registry) for e in page)
            yield b"".join(msgspec.json.encode(r) + b"\n" for r in records if r is not None)

    response = _download(request, view, lines(), media_type, f"{proposal or 'all'}-plover.jsonl")
    response.headers["Vary"] = "Accept"
    return response


async def _view(
    request: Request[Any, Any, Any],
    services: AppServices,
    proposal: str | None,
    as_of: str | None,
    known_at: str | None,
    tz: str,
    media_type: str = "",
) -> ExportView:
    """What every export reads: its timeline query, the registries, settledness and ETag.

    The export reads the log as it stood at its head when the request came: appends made
    while it streams are not in it, so the head names its bytes."""
    when = await read_time(services, as_of, known_at, tz)
    if proposal is not None:
        await _proposal_exists(services, proposal)
    head = await services.store.head()
    horizon = when.known_at_micros
    if head > 0:
        [last] = await services.store.read(EventQuery(after=head - 1, limit=1))
        horizon = min(horizon, to_micros(last.recorded_at))
    # Without as_of, everything known counts, so the answer does not move as the clock does.
    valid = to_micros(when.as_of) if as_of is not None else None
    now = services.clock()
    asked = sorted(request.url.query_params.multi_items())
    # Each representation its own strong ETag (RFC 9110 8.8.3).
    fingerprint = f"{request.url.path}?{asked}@{head}:{horizon}{media_type}".encode()
    return ExportView(
        query=TimelineQuery(known_at=horizon, limit=EXPORT_PAGE, proposal=proposal, end=valid),
        registry=await _registry(services.store, horizon, valid),
        settled=when.known_settled and (as_of is None or when.as_of < now),
        etag='"' + hashlib.sha256(fingerprint).hexdigest()[:32] + '"',
    )


async def _events(store: EventStore, query: TimelineQuery) -> AsyncIterator[list[ExportEvent]]:
    """The export's events a page at a time, in valid-time order: memory stays that of a page.
    The first pages are small, so the first bytes leave at once; later ones larger."""
    query = replace(query, limit=FIRST_EXPORT_PAGE)
    while True:
        page = await store.reads.timeline(query)
        if page:
            yield [_export_event(recorded, version) for recorded, version in page]
        if len(page) < query.limit:
            return
        last = page[-1][1]
        growing = min(query.limit * 2, EXPORT_PAGE)
        query = replace(query, after=(last.valid_earliest, last.position), limit=growing)


def _export_event(recorded: RecordedEvent, version: Version) -> ExportEvent:
    effective = effective_of(version, logged(recorded))
    codes = recorded.draft.codes or EVENT_TYPES[effective.type].default_codes(effective.payload)
    return ExportEvent(event=effective, stream=recorded.stream, codes=codes)


async def _registry(store: EventStore, known_at: int, as_of: int | None) -> Registry:
    """Actors and proposals as of as_of (all of valid time without one), sources as known."""
    valid = to_micros(END_OF_TIME) if as_of is None else as_of
    actors = await store.reads.registry("actor", valid, known_at)
    proposals = await store.reads.registry("proposal", valid, known_at)
    sources = await store.reads.sources(known_at)
    return Registry(
        actors={a["id"]: actor_info(a) for a in actors},
        proposals={p["id"]: proposal_info(p) for p in proposals},
        sources={s.state["payload"]["source"]: source_info(s.state["payload"]) for s in sources},
    )


async def _proposal_exists(services: AppServices, proposal: str) -> None:
    # As the proposal reads answer: an id never registered is a 404; one registered after
    # known_at is an empty export.
    if not await services.store.registered([f"proposal:{proposal}"]):
        raise NotFoundException(f"no proposal {proposal!r}")


def _streamed(
    request: Request[Any, Any, Any],
    view: ExportView,
    content: AsyncIterator[bytes],
    media_type: str,
) -> Response[Any]:
    """The bytes as they are made, with the view's ETag; a 304 when the client has them."""
    headers = {"ETag": view.etag, "Cache-Control": IMMUTABLE if view.settled else REVALIDATE}
    if client_has(request, view.etag):
        return Response(content=b"", status_code=304, headers=headers)
    return Stream(content, media_type=media_type, headers=headers)


def _download(
    request: Request[Any, Any, Any],
    view: ExportView,
    content: AsyncIterator[bytes],
    media_type: str,
    filename: str,
) -> Response[Any]:
    """A file to save, streamed."""
    response = _streamed(request, view, content, media_type)
    # Litestar adds `charset=utf-8` to text/* types itself.
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
