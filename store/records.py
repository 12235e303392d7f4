"""An event as the log holds it: what every reader of the log (ports, projectors, read
models) shares, so none of them needs another's module."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from domain.drafts import EventDraft
from domain.event_types import Codes, JsonObject


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordedEvent:
    """An event as the log holds it: the draft as appended, and where and when it landed."""

    position: int
    stream: str
    stream_version: int
    recorded_at: datetime
    draft: EventDraft
    metadata: JsonObject = field(default_factory=dict)

    @property
    def id(self) -> UUID:
        """The event's id."""
        return self.draft.id

    @property
    def type(self) -> str:
        """The event's type name."""
        return self.draft.type

    def current_payload(self) -> JsonObject:
        """The payload read as its type's current schema version."""
        return self.draft.current_payload()

    def codes(self) -> Codes:
        """The event's codes: its own override, else its type's defaults."""
        if self.draft.codes is not None:
            return self.draft.codes
        return self.draft.event_type.default_codes(self.current_payload())
