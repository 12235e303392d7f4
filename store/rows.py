"""Between table rows and recorded events: one mapping, shared by every SQL store."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from domain.canonical import codes_dict
from domain.chain import content_of, link
from domain.drafts import Citation, EventDraft
from domain.event_types import Codes
from domain.json_numbers import canonical_json
from domain.references import event_references
from domain.valid_time import Precision, ValidTime, from_micros, to_micros
from store.records import RecordedEvent


def event_row(
    *,
    position: int,
    stream: str,
    stream_version: int,
    recorded_at: int,
    draft: EventDraft,
    metadata: dict[str, Any],
) -> dict[str, Any]:
    """The column values of one event, its numbers canonical (domain.json_numbers): the hash
    covers what every backend gives back."""
    valid_time = draft.valid_time
    return {
        "position": position,
        "id": draft.id,
        "stream": stream,
        "stream_version": stream_version,
        "type": draft.type,
        "schema_version": draft.schema_version,
        "occurred_at": valid_time.expression,
        "occurred_timezone": valid_time.timezone,
        "occurred_earliest": to_micros(valid_time.earliest),
        "occurred_latest": to_micros(valid_time.latest),
        "occurred_precision": str(valid_time.precision),
        "occurred_qualifiers": list(valid_time.qualifiers()),
        "recorded_at": recorded_at,
        "actors": list(draft.actors()),
        "payload": canonical_json(draft.payload),
        "sources": [c.to_json() for c in draft.sources],
        "codes": None if draft.codes is None else codes_dict(draft.codes),
        "metadata": canonical_json(metadata),
    }


def canonical_draft(draft: EventDraft) -> EventDraft:
    """The draft as a store keeps it: its payload's numbers canonical (itself when they are)."""
    payload = canonical_json(draft.payload)
    return draft if payload is draft.payload else replace(draft, payload=payload)


def logged_row(event: RecordedEvent) -> dict[str, Any]:
    """The column values of an event already in the log (the hash aside)."""
    return event_row(
        position=event.position,
        stream=event.stream,
        stream_version=event.stream_version,
        recorded_at=to_micros(event.recorded_at),
        draft=event.draft,
        metadata=event.metadata,
    )


def chain_content(row: Mapping[str, Any]) -> bytes:
    """The hashed content of an events row, from its column values (fresh or fetched)."""
    return content_of(
        position=row["position"],
        id=row["id"],
        stream=row["stream"],
        stream_version=row["stream_version"],
        type=row["type"],
        schema_version=row["schema_version"],
        occurred_at=row["occurred_at"],
        timezone=row["occurred_timezone"],
        occurred_earliest=row["occurred_earliest"],
        occurred_latest=row["occurred_latest"],
        occurred_precision=row["occurred_precision"],
        occurred_qualifiers=row["occurred_qualifiers"],
        recorded_at=row["recorded_at"],
        payload=row["payload"],
        sources=row["sources"],
        codes=row["codes"],
        metadata=row["metadata"],
        actors=row["actors"],
    )


def chain(rows: list[dict[str, Any]], prev_hash: str) -> str:
    """Give each new events row, in position order, its hash; the last one's is returned."""
    for row in rows:
        row["hash"] = prev_hash = link(prev_hash, chain_content(row))
    return prev_hash


def ref_rows(position: int, draft: EventDraft, metadata: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The index rows of one event (what it points at, and who recorded it)."""
    return [
        {"kind": kind, "ref": ref, "position": position}
        for kind, ref in event_references(draft, metadata)
    ]


def valid_time_of(row: Any) -> ValidTime:
    """The valid time stored in a row of the events table."""
    qualifiers = row.occurred_qualifiers
    return ValidTime(
        expression=row.occurred_at,
        timezone=row.occurred_timezone,
        earliest=from_micros(row.occurred_earliest),
        latest=from_micros(row.occurred_latest),
        precision=Precision(row.occurred_precision),
        uncertain="uncertain" in qualifiers,
        approximate="approximate" in qualifiers,
    )


def recorded_event(row: Any) -> RecordedEvent:
    """A recorded event from a row of the events table."""
    valid_time = valid_time_of(row)
    draft = EventDraft(
        id=row.id,
        type=row.type,
        schema_version=row.schema_version,
        valid_time=valid_time,
        payload=row.payload,
        sources=tuple(Citation(source=s["source"], quote=s.get("quote")) for s in row.sources),
        codes=None if row.codes is None else Codes(**row.codes),
    )
    return RecordedEvent(
        position=row.position,
        stream=row.stream,
        stream_version=row.stream_version,
        recorded_at=from_micros(row.recorded_at),
        draft=draft,
        metadata=row.metadata,
    )
