"""Recorded events as the API shows them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from api.schemas import (
    CheckedCitationOut,
    CodesOut,
    CorroborationOut,
    EventOut,
    QuoteCheckOut,
    SpanOut,
    ValidTimeOut,
)
from domain.drafts import Citation
from domain.event_types import Codes, JsonObject, Kind
from domain.quotes import quote_of
from domain.valid_time import ValidTime, format_instant
from store.projection import FOREVER
from store.read_models.effective import Version
from store.read_models.queries import ReadModels
from store.read_models.verification import Check
from store.records import RecordedEvent

# The quote checks of a page of events, by (event position, citation index; -1 - the index of
# the citation whose text was read, for the payload's quote).
Checks = Mapping[tuple[int, int], Check]


def codes_out(codes: Codes) -> CodesOut:
    """CAMEO and PLOVER codes as the API shows them."""
    return CodesOut(cameo=codes.cameo, plover=codes.plover, plover_mode=codes.plover_mode)


def valid_time_out(valid_time: ValidTime) -> ValidTimeOut:
    """A valid time as UTC bounds, precision and qualifiers."""
    return ValidTimeOut(
        earliest=format_instant(valid_time.earliest),
        latest=format_instant(valid_time.latest),
        precision=str(valid_time.precision),
        qualifiers=list(valid_time.qualifiers()),
    )


# Who appended an event: the key's name and id. Shown only to a key with the events:audit scope
# (store.scopes.AUDIT); the rest of the metadata (a correlation id) is shown to everyone.
PRIVATE_METADATA = frozenset({"recorded_by", "key_id"})


def public_metadata(metadata: dict[str, Any]) -> dict[str, Any]:
    """An event's metadata without the recording key's name and id."""
    return {k: v for k, v in metadata.items() if k not in PRIVATE_METADATA}


async def checks_of(
    reads: ReadModels, events: Iterable[RecordedEvent], known_at: int = FOREVER - 1
) -> dict[tuple[int, int], Check]:
    """The quote checks of these events' citations and payloads as known at known_at (now by
    default): one read, and none when no citation has a quote and no event is a world event
    (whose payload, as corrected, may have one)."""
    quoting = [
        e.position
        for e in events
        if e.draft.event_type.kind is Kind.WORLD
        or any(c.quote is not None for c in e.draft.sources)
    ]
    if not quoting:
        return {}
    return {c.key: c for c in await reads.checks(quoting, known_at)}


def citation_out(position: int, j: int, citation: Citation, checks: Checks) -> CheckedCitationOut:
    """A citation with its quote's check, if its source had a text."""
    found = checks.get((position, j))
    if found is None:
        return CheckedCitationOut(source=citation.source, quote=citation.quote, verified=False)
    span = None
    if found.verified and found.span_start is not None and found.span_end is not None:
        span = SpanOut(start=found.span_start, end=found.span_end)
    parts = [SpanOut(start=s, end=e) for s, e in found.fragments]
    return CheckedCitationOut(
        source=citation.source,
        quote=citation.quote,
        verified=found.verified,
        span=span,
        fragments=parts if len(parts) > 1 else None,
        sha256=found.sha256,
    )


def quote_check_out(
    position: int, citations: int, payload: JsonObject, checks: Checks
) -> QuoteCheckOut | None:
    """The check of an event's payload quote (its `citations` counted), if it has one."""
    found = [checks[(position, -1 - j)] for j in range(citations) if (position, -1 - j) in checks]
    held = next((c for c in found if c.verified), None)
    if held is not None:
        parts = [SpanOut(start=s, end=e) for s, e in held.fragments]
        return QuoteCheckOut(
            verified=True,
            source=held.source,
            span=None
            if held.span_start is None or held.span_end is None
            else SpanOut(start=held.span_start, end=held.span_end),
            fragments=parts if len(parts) > 1 else None,
            sha256=held.sha256,
        )
    if found:
        return QuoteCheckOut(verified=False, failed=True)
    return None if quote_of(payload) is None else QuoteCheckOut(verified=False)


def event_out(
    event: RecordedEvent, *, audit: bool = False, checks: Checks | None = None
) -> EventOut:
    """The wire form of one event, upcast to its type's current schema version; with `audit`
    (the reader's key holds events:audit) its metadata names the key that recorded it; its
    citations and payload quote with their checks (from `checks_of`)."""
    draft = event.draft
    valid_time = draft.valid_time
    codes = event.codes()
    payload = event.current_payload()
    return EventOut(
        id=event.id,
        position=event.position,
        stream=event.stream,
        stream_version=event.stream_version,
        type=event.type,
        schema_version=draft.event_type.current_version,
        occurred_at=valid_time.expression,
        timezone=valid_time.timezone,
        valid_time=valid_time_out(valid_time),
        recorded_at=format_instant(event.recorded_at),
        actors=list(draft.actors()),
        payload=payload,
        sources=[
            citation_out(event.position, j, c, checks or {}) for j, c in enumerate(draft.sources)
        ],
        codes=codes_out(codes),
        metadata=event.metadata if audit else public_metadata(event.metadata),
        quote_check=quote_check_out(event.position, len(draft.sources), payload, checks or {}),
    )


def corroboration_out(version: Version) -> CorroborationOut:
    """A world event's corroboration, as its version in the read model holds it."""
    found = version.state.get("corroboration") or {"outlets": [], "sources": []}
    return CorroborationOut(outlets=list(found["outlets"]), sources=list(found["sources"]))
