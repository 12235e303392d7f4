"""The one canonical serialization of event content: for idempotency checks and the hash chain.

An event's numbers are already canonical when its row is hashed (`domain.json_numbers`: every
store makes them so as it writes the row), and this writes them as msgspec does, as it always
has."""

from __future__ import annotations

from typing import Any

import msgspec

from domain.drafts import EventDraft
from domain.event_types import Codes
from domain.json_numbers import canonical_json

_encoder = msgspec.json.Encoder(order="sorted")


def canonical_bytes(value: Any) -> bytes:
    """Compact JSON with sorted keys: equal content, equal bytes."""
    return _encoder.encode(value)


def draft_content(stream: str, draft: EventDraft) -> dict[str, Any]:
    """What makes two appends of the same event id the same event."""
    return {
        "id": str(draft.id),
        "stream": stream,
        "type": draft.type,
        "schema_version": draft.schema_version,
        "occurred_at": draft.valid_time.expression,
        "timezone": draft.valid_time.timezone,
        # As the stores keep it: a retry whose numbers are spelled otherwise is the same event.
        "payload": canonical_json(draft.payload),
        "sources": [c.to_json() for c in draft.sources],
        "codes": None if draft.codes is None else codes_dict(draft.codes),
    }


def codes_dict(codes: Codes) -> dict[str, str | None]:
    """Codes as JSON."""
    return {"cameo": codes.cameo, "plover": codes.plover, "plover_mode": codes.plover_mode}
