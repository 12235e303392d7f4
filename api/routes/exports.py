"""Exports for other tools: TimelineJS, CSV (data or TimelineJS's sheet template), PLOVER JSONL.

Each export is the timeline's selection (world events, corrections applied, retractions hidden,
disputes flagged), optionally one proposal's, optionally only what had begun by as_of, as known
at known_at. The shaping is in `domain.exports`; here the log is read and the bytes written.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example
from litestar.params import QueryParameter

from api.conditional import IMMUTABLE, REVALIDATE, conditional
from api.log_view import known_events
from api.parameters import AsOf, KnownAt, ProposalFilter, Tz
from api.reading import cached, cached_read_responses, read_time
from api.services import Services
from domain.editorial import EffectiveEvent, effective_events
from domain.event_types import EVENT_TYPES
from domain.exports.plover import plover_record
from domain.exports.registry import ExportEvent, Registry, registry_of, select
from domain.exports.spreadsheet import (
    EVENT_COLUMNS,
    TEMPLATE_COLUMNS,
    CsvLayout,
    event_row,
    template_rows,
    to_csv,
)
from domain.exports.timelinejs import timelinejs
from domain.vocabulary import SLUG_PATTERN
from store.ports import RecordedEvent
from store.projection import logged

CSV = "text/csv"
NDJSON = "application/x-ndjson"
READ_ERRORS = cached_read_responses(400, 404, 503)

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
    """The events an export shows, the registries they resolve against, and whether the
    answer can never change."""

    events: list[ExportEvent]
    registry: Registry
    settled: bool


@get(
    "/exports/timelinejs",
    operation_id="exportTimelineJS",
    summary="A proposal's timeline as a TimelineJS document",
    responses=READ_ERRORS,
    tags=["exports"],
)
async def export_timelinejs(
    request: Request[Any, Any, Any],
    proposal: RequiredProposal,
    as_of: AsOf = None,
    known_at: KnownAt = None,
    tz: Tz = "UTC",
) -> Response[TimelineJSOut]:
    """Title slide for the proposal; one slide per event, grouped by party."""
    view = await _view(request, proposal, as_of, known_at, tz)
    body = timelinejs(view.events, view.registry, proposal)
    return cached(request, body, view.settled)


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
    proposal: ProposalFilter = None,
    layout: Layout = CsvLayout.EVENTS,
    as_of: AsOf = None,
    known_at: KnownAt = None,
    tz: Tz = "UTC",
) -> Response[bytes]:
    """One row per event, in valid-time order; a title row first in the template layout when
    a proposal is given."""
    view = await _view(request, proposal, as_of, known_at, tz)
    if layout is CsvLayout.TIMELINEJS:
        text = to_csv(TEMPLATE_COLUMNS, template_rows(view.events, view.registry, proposal))
    else:
        text = to_csv(EVENT_COLUMNS, (event_row(e, view.registry) for e in view.events))
    name = f"{proposal or 'all'}-{'timelinejs' if layout is CsvLayout.TIMELINEJS else 'events'}"
    return _download(request, text.encode(), CSV, f"{name}.csv", view.settled)


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
    proposal: ProposalFilter = None,
    as_of: AsOf = None,
    known_at: KnownAt = None,
    tz: Tz = "UTC",
) -> Response[bytes]:
    """Events coded with a PLOVER category, in valid-time order, PLOVER's field names."""
    view = await _view(request, proposal, as_of, known_at, tz)
    records = (plover_record(e, view.registry) for e in view.events)
    lines = b"".join(msgspec.json.encode(r) + b"\n" for r in records if r is not None)
    return _download(request, lines, NDJSON, f"{proposal or 'all'}-plover.jsonl", view.settled)


async def _view(
    request: Request[Any, Any, Any],
    proposal: str | None,
    as_of: str | None,
    known_at: str | None,
    tz: str,
) -> ExportView:
    """What every export reads: the selection, the registries, and settledness."""
    services: Services = request.app.state.services
    when = read_time(services, as_of, known_at, tz)
    if proposal is not None:
        await _proposal_exists(services, proposal)
    recorded = await known_events(services.store, when.log_horizon)
    by_id = {r.id: r for r in recorded}
    effective = effective_events(logged(r) for r in recorded)
    # Without as_of, everything known counts, so the answer does not move as the clock does.
    valid = when.as_of if as_of is not None else None
    chosen = select(effective, proposal=proposal, as_of=valid)
    now = services.clock()
    return ExportView(
        events=[_export_event(by_id[e.id], e) for e in chosen],
        registry=registry_of(effective, valid),
        settled=known_at is not None and when.known_at < now and (valid is None or valid < now),
    )


def _export_event(recorded: RecordedEvent, effective: EffectiveEvent) -> ExportEvent:
    codes = recorded.draft.codes or EVENT_TYPES[effective.type].default_codes(effective.payload)
    return ExportEvent(event=effective, stream=recorded.stream, codes=codes)


async def _proposal_exists(services: Services, proposal: str) -> None:
    # As the proposal reads answer: an id never registered is a 404; one registered after
    # known_at is an empty export.
    if not await services.store.registered([f"proposal:{proposal}"]):
        raise NotFoundException(f"no proposal {proposal!r}")


def _download(
    request: Request[Any, Any, Any], content: bytes, media_type: str, filename: str, settled: bool
) -> Response[bytes]:
    """A file to save, with a strong ETag and a 304 when the client has it.

    Not kept with the settled answers: those are replayed as JSON."""
    etag = '"' + hashlib.sha256(content).hexdigest()[:32] + '"'
    response = conditional(request, etag, content, IMMUTABLE if settled else REVALIDATE)
    # Litestar adds `charset=utf-8` to text/* types itself.
    response.media_type = media_type
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
