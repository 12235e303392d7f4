"""Recorded events as the API shows them."""

from __future__ import annotations

from typing import Any

from api.schemas import CitationOut, CodesOut, CorroborationOut, EventOut, ValidTimeOut
from domain.event_types import Codes
from domain.valid_time import ValidTime, format_instant
from store.read_models.effective import Version
from store.records import RecordedEvent


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


def event_out(event: RecordedEvent, *, audit: bool = False) -> EventOut:
    """The wire form of one event, upcast to its type's current schema version; with `audit`
    (the reader's key holds events:audit) its metadata names the key that recorded it."""
    draft = event.draft
    valid_time = draft.valid_time
    codes = event.codes()
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
        payload=event.current_payload(),
        sources=[CitationOut(source=c.source, quote=c.quote) for c in draft.sources],
        codes=codes_out(codes),
        metadata=event.metadata if audit else public_metadata(event.metadata),
    )


def corroboration_out(version: Version) -> CorroborationOut:
    """A world event's corroboration, as its version in the read model holds it."""
    found = version.state.get("corroboration") or {"outlets": [], "sources": []}
    return CorroborationOut(outlets=list(found["outlets"]), sources=list(found["sources"]))
