"""Wire shapes of the v1 API: what clients send and what they get back."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar.openapi.spec.enums import OpenAPIFormat
from litestar.params import KwargDefinition

from api.parameters import STREAM_PATTERN
from domain.vocabulary import END, Quote
from store.submission import MAX_BATCH

Stream = Annotated[
    str,
    msgspec.Meta(
        pattern=STREAM_PATTERN,
        description="A stream id: letters, digits and . _ : / -, at most 200 characters.",
        examples=["proposal-us-30-day-ceasefire-2025"],
    ),
]

# What the API writes with domain.valid_time.format_instant: RFC 3339 in UTC. The format is for
# the document (generators parse these into datetimes); the value stays the string written.
Instant = Annotated[str, KwargDefinition(format=OpenAPIFormat.DATE_TIME)]
Day = Annotated[str, KwargDefinition(format=OpenAPIFormat.DATE)]


class Strict(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """An input shape: unknown fields refused."""


class CitationIn(Strict):
    """A source an event rests on, with an optional short verbatim quote."""

    source: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    quote: Quote | None = None


class CodesIn(Strict):
    """CAMEO and PLOVER codes that override the type's defaults."""

    cameo: Annotated[str, msgspec.Meta(pattern=r"^[0-9]{2,4}" + END)] | None = None
    plover: Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{2,20}" + END)] | None = None
    plover_mode: Annotated[str, msgspec.Meta(max_length=40)] | None = None


class EventIn(Strict):
    """One event to append."""

    type: Annotated[str, msgspec.Meta(max_length=100, examples=["PositionStated"])]
    occurred_at: Annotated[
        str,
        msgspec.Meta(
            min_length=1,
            max_length=100,
            description=(
                "RFC 3339 datetime with offset, or EDTF level 0/1 "
                "(2025-03-12?, 2025-03-12/2025-03-13)."
            ),
            examples=["2025-03-13T18+03:00/2025-03-13T23+03:00"],
        ),
    ]
    payload: dict[str, Any]
    id: UUID | None = None
    timezone: Annotated[str, msgspec.Meta(max_length=64, examples=["Europe/Moscow"])] | None = None
    schema_version: Annotated[int, msgspec.Meta(ge=1, le=1000)] | None = None
    sources: list[CitationIn] = []
    codes: CodesIn | None = None


class AppendIn(Strict):
    """A batch of events appended atomically to one stream."""

    stream: Stream
    events: Annotated[list[EventIn], msgspec.Meta(max_length=MAX_BATCH)]
    expected_version: Annotated[int, msgspec.Meta(ge=0, le=2**53)] | None = None


class AppendedOut(msgspec.Struct, kw_only=True):
    """Where one appended event landed."""

    id: UUID
    position: int
    stream_version: int
    recorded_at: Instant


class AppendOut(msgspec.Struct, kw_only=True):
    """Where a batch landed."""

    stream: str
    stream_version: int
    events: list[AppendedOut]


class ValidTimeOut(msgspec.Struct, kw_only=True):
    """An event's valid time as UTC bounds, precision and qualifiers."""

    earliest: Instant
    latest: Instant
    precision: str
    qualifiers: list[str]


class CitationOut(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A cited source."""

    source: str
    quote: str | None = None


class SpanOut(msgspec.Struct, kw_only=True):
    """Character offsets into a source's stored text, half-open: text[start:end]."""

    start: int
    end: int


class CheckedCitationOut(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A cited source; `verified` when its quote is a span of the source's text (`span`, and
    `fragments` when an ellipsis split the quote), checked against the text of `sha256`. A
    citation of a source without a text, or without a quote, is not verified; one whose quote
    the text does not hold (a text attached after it) is not either, and names the text."""

    source: str
    verified: bool
    quote: str | None = None
    span: SpanOut | None = None
    fragments: list[SpanOut] | None = None
    sha256: str | None = None


class QuoteCheckOut(msgspec.Struct, kw_only=True, omit_defaults=True):
    """How the payload's quote (as the event now stands, after corrections) fares against the
    texts of the sources the event cites: `verified` when one holds it, naming that `source`,
    the text's `sha256`, the quote's `span` in it and, when an ellipsis split it, `fragments`.
    Not verified when none does: `failed` when every cited source has a text (each lists it
    among its failures), else some cited source has no text yet."""

    verified: bool
    source: str | None = None
    span: SpanOut | None = None
    fragments: list[SpanOut] | None = None
    sha256: str | None = None
    failed: bool = False


class CodesOut(msgspec.Struct, kw_only=True):
    """The event's CAMEO and PLOVER codes."""

    cameo: str | None
    plover: str | None
    plover_mode: str | None


class EventOut(msgspec.Struct, kw_only=True):
    """An event of the log, its payload read as the current schema version."""

    id: UUID
    position: int
    stream: str
    stream_version: int
    type: str
    schema_version: int
    occurred_at: str
    timezone: str
    valid_time: ValidTimeOut
    recorded_at: Instant
    actors: list[str]
    payload: dict[str, Any]
    sources: list[CheckedCitationOut]
    codes: CodesOut
    metadata: dict[str, Any]
    # None when the payload carries no quote.
    quote_check: QuoteCheckOut | None = None


class CorroborationOut(msgspec.Struct, kw_only=True):
    """Who supports a world event: the distinct sources it cites (in citation order) and the
    distinct outlets those sources were registered with (sorted by name)."""

    outlets: list[str]
    sources: list[str]


class EventDetailOut(EventOut, kw_only=True):
    """An event with the corrections, retractions and disputes that target it; a world event
    with its corroboration (null for registrations and editorial events), `single_source`
    when exactly one outlet supports it."""

    editorial: list[EventOut]
    corroboration: CorroborationOut | None = None
    single_source: bool | None = None


class EventPage(msgspec.Struct, kw_only=True):
    """A page of the log; `next` is the URL of the following page, or null at the head."""

    items: list[EventOut]
    next: str | None


Sha256Hex = Annotated[
    str,
    msgspec.Meta(
        pattern="^[0-9a-f]{64}$",
        description="A SHA-256 digest as 64 lowercase hex digits.",
    ),
]


class HealthOut(msgspec.Struct, kw_only=True):
    """Whether the service and its database answer, and the log's head position and hash."""

    status: str
    backend: str
    head: int
    head_hash: Annotated[
        Sha256Hex | None,
        msgspec.Meta(
            description="The hash of the event at `head`, chaining it to every event before it "
            "(null when the log is empty). Compare it with a copy kept elsewhere to detect a "
            "rewritten or truncated log."
        ),
    ]


class ChainVerificationOut(msgspec.Struct, kw_only=True):
    """What recomputing the log's hash chain found.

    Each event's hash is `sha256(hash of the previous event as 64 hex digits || canonical
    content)`, starting from 64 zeros; the canonical content is the compact, key-sorted JSON of
    every column the log stores for the event.
    """

    ok: Annotated[bool, msgspec.Meta(description="True when every event's hash checks out.")]
    since: Annotated[
        int,
        msgspec.Meta(
            ge=0,
            description="The check began after this position, which an earlier check found "
            "intact (0: from the start of the log).",
        ),
    ]
    checked: Annotated[
        int, msgspec.Meta(ge=0, description="How many events were checked (those after since).")
    ]
    head: Annotated[int, msgspec.Meta(ge=0, description="The last position checked.")]
    head_hash: Annotated[
        Sha256Hex | None,
        msgspec.Meta(description="The stored hash at `head` (null when the log is empty)."),
    ]
    first_broken: Annotated[
        Annotated[int, msgspec.Meta(ge=1)] | None,
        msgspec.Meta(
            description="The first position whose hash does not follow from its predecessor's "
            "(an event changed there, or just before it when its hash was forged too); null "
            "when the chain is intact.",
        ),
    ]


class SchemaVersionOut(msgspec.Struct, kw_only=True):
    """The JSON Schema of one payload version."""

    version: int
    schema: dict[str, Any]


class EventTypeOut(msgspec.Struct, kw_only=True):
    """An event type: its kind, versions and payload schemas."""

    name: str
    kind: str
    current_version: int
    description: str
    versions: list[SchemaVersionOut]


class EventTypesOut(msgspec.Struct, kw_only=True):
    """Every event type."""

    items: list[EventTypeOut]
