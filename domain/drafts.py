"""Event drafts: what a client asks to append, checked against its type before any store."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import msgspec

from domain.errors import InvalidEvent, InvalidValidTime
from domain.event_types import Codes, EventType, JsonObject, Kind, event_type
from domain.valid_time import ValidTime, parse_valid_time
from domain.vocabulary import SLUG_PATTERN

FUTURE_TOLERANCE = timedelta(days=1)
CODE_FIELDS = frozenset({"cameo", "plover", "plover_mode"})
_AT_PATH = re.compile(r" - at `\$(?P<path>[^`]*)`$")
_NAMED_FIELD = re.compile(r"(?:unknown|missing required) field `(?P<name>[^`]*)`")
_SLUG = re.compile(SLUG_PATTERN)


@dataclass(frozen=True, slots=True, kw_only=True)
class Citation:
    """A source an event rests on, with the short quote taken from it."""

    source: str
    quote: str | None = None

    def to_json(self) -> dict[str, str]:
        """The citation as events store and show it (no quote key when there is none)."""
        return {"source": self.source, **({"quote": self.quote} if self.quote is not None else {})}


@dataclass(frozen=True, slots=True, kw_only=True)
class EventDraft:
    """A checked event, ready to append: payload normalised, valid time read."""

    id: UUID
    type: str
    schema_version: int
    valid_time: ValidTime
    payload: JsonObject
    sources: tuple[Citation, ...]
    codes: Codes | None = None

    @property
    def event_type(self) -> EventType:
        """The type this draft is an event of."""
        return event_type(self.type)

    def current_payload(self) -> JsonObject:
        """The payload read as the type's current schema version."""
        return self.event_type.upcast(self.schema_version, self.payload)

    def actors(self) -> tuple[str, ...]:
        """The actors this event is about."""
        return self.event_type.actors(self.current_payload())


def validate_payload(
    kind: EventType, version: int, payload: Any, *, at: str = "payload"
) -> JsonObject:
    """The payload normalised by its schema, or InvalidEvent naming the offending field."""
    struct_type = kind.payload_type(version)
    try:
        struct = msgspec.convert(payload, struct_type, strict=True)
    except msgspec.ValidationError as error:
        raise field_error(str(error), at) from None
    # Through JSON and back, so the draft equals what any store will read back (lists, not tuples).
    normalised: JsonObject = msgspec.json.decode(msgspec.json.encode(struct))
    return normalised


def build_draft(
    *,
    id: UUID,
    type: str,
    occurred_at: str,
    payload: Any,
    sources: Sequence[Mapping[str, Any]] = (),
    timezone: str | None = None,
    schema_version: int | None = None,
    codes: Codes | None = None,
    now: datetime,
) -> EventDraft:
    """A checked draft; `now` is the server's clock, against which the future is refused."""
    kind = event_type(type)
    version = kind.current_version if schema_version is None else schema_version
    normalised = validate_payload(kind, version, payload)
    valid_time = _valid_time(occurred_at, timezone, now)
    citations = tuple(_citation(raw, f"sources[{i}]") for i, raw in enumerate(sources))
    if kind.kind is Kind.WORLD and not citations:
        raise InvalidEvent(f"a {type} event must cite at least one source", field="sources")
    return EventDraft(
        id=id,
        type=type,
        schema_version=version,
        valid_time=valid_time,
        payload=normalised,
        sources=citations,
        codes=codes,
    )


def draft_from_json(raw: Mapping[str, Any], *, now: datetime, default_id: UUID) -> EventDraft:
    """A checked draft from its JSON form; `default_id` serves when the draft brings none."""
    try:
        event_id = UUID(str(raw["id"])) if raw.get("id") is not None else default_id
    except ValueError:
        raise InvalidEvent("not a UUID", field="id") from None
    codes = raw.get("codes")
    if codes is not None and (not isinstance(codes, Mapping) or set(codes) - CODE_FIELDS):
        raise InvalidEvent(f"codes take only {', '.join(sorted(CODE_FIELDS))}", field="codes")
    return build_draft(
        id=event_id,
        type=raw["type"],
        occurred_at=raw["occurred_at"],
        timezone=raw.get("timezone"),
        payload=raw["payload"],
        sources=raw.get("sources") or (),
        schema_version=raw.get("schema_version"),
        codes=Codes(**codes) if codes is not None else None,
        now=now,
    )


def _valid_time(occurred_at: str, timezone: str | None, now: datetime) -> ValidTime:
    try:
        valid_time = parse_valid_time(occurred_at, timezone)
    except InvalidValidTime as error:
        raise InvalidEvent(str(error), field="occurred_at") from None
    if valid_time.earliest > now + FUTURE_TOLERANCE:
        raise InvalidEvent(
            f"occurred_at {occurred_at!r} is more than a day in the future",
            field="occurred_at",
        )
    return valid_time


def _citation(raw: Mapping[str, Any], at: str) -> Citation:
    source, quote = raw.get("source"), raw.get("quote")
    if not isinstance(source, str) or not _SLUG.match(source):
        raise InvalidEvent("a citation needs a registered source id (a slug)", field=f"{at}.source")
    if quote is not None and (not isinstance(quote, str) or not quote.strip()):
        raise InvalidEvent("a quote must be non-empty text", field=f"{at}.quote")
    return Citation(source=source, quote=quote)


def field_error(message: str, at: str) -> InvalidEvent:
    """An InvalidEvent from a msgspec validation message, its JSON path prefixed with `at`."""
    located = _AT_PATH.search(message)
    path = located.group("path") if located else ""
    named = _NAMED_FIELD.search(message)
    if named:
        path = f"{path}.{named.group('name')}"
    text = _AT_PATH.sub("", message)
    return InvalidEvent(text, field=f"{at}{path}".lstrip(".") or "body")
