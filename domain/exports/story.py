"""An event told to a reader of a feed or a page: its type in words, when it happened in its own
zone, what it says, the sources it rests on, and what editors later said of it."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from uuid import UUID
from zoneinfo import ZoneInfo

from domain.drafts import Citation
from domain.editorial import EffectiveEvent, LoggedEvent, effective_events
from domain.event_types import EVENT_TYPES, JsonObject, Kind
from domain.exports.dates import MONTHS, display_date, span_of
from domain.exports.describe import Description, describe, payload_text
from domain.exports.registry import Registry
from domain.valid_time import ValidTime

EDITORIAL_WORDS = {
    "EventCorrected": "Correction",
    "EventRetracted": "Retraction",
    "EventDisputed": "Dispute",
}
_WORDS = re.compile(r"[A-Z][a-z]*|[^A-Z]+")
_CLOCK = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt]")


@dataclass(frozen=True, slots=True, kw_only=True)
class CitedSource:
    """One citation as a reader is shown it: the publication, when registered, and the quote."""

    source: str
    outlet: str | None = None
    headline: str | None = None
    published_on: str | None = None
    url: str | None = None
    quote: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Story:
    """An event as a reader is told it: what kind of event, when, what it says, on what sources,
    and whom it is about (id and name)."""

    id: UUID
    type: str
    kind: str
    description: Description
    occurred: str
    occurred_from: datetime  # its earliest instant, in UTC
    sources: tuple[CitedSource, ...]
    actors: tuple[tuple[str, str], ...]
    target: UUID | None = None  # what an editorial event is aimed at


def story_of(
    event: LoggedEvent,
    registry: Registry,
    targets: Mapping[str, LoggedEvent],
    *,
    standing: EffectiveEvent | None = None,
) -> Story:
    """The story of a logged event: as it now stands when `standing` (its corrections applied)
    is given, else as it was logged; an editorial event told by its target (`targets`, by id)."""
    payload = standing.payload if standing is not None else event.payload
    valid_time = standing.valid_time if standing is not None else event.valid_time
    if standing is not None:
        description = describe(standing, registry)
    else:
        description = describe_logged(event, registry, targets)
    target = event.payload.get("target") if _is_editorial(event.type) else None
    return Story(
        id=event.id,
        type=event.type,
        kind=type_words(event.type),
        description=description,
        occurred=occurred_words(valid_time),
        occurred_from=valid_time.earliest,
        sources=tuple(cited_sources(event.sources, registry)),
        actors=tuple((a, registry.name(a)) for a in EVENT_TYPES[event.type].actors(payload)),
        target=UUID(str(target)) if target is not None else None,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class EditorialNote:
    """A correction, retraction or dispute aimed at an event, as its page lists it."""

    id: UUID
    type: str
    kind: str
    reason: str
    details: tuple[str, ...]
    recorded_at: datetime
    recorded: str
    target: UUID
    withdrawn: bool  # itself retracted, and that retraction stands


@dataclass(frozen=True, slots=True, kw_only=True)
class EventRecord:
    """An event's page: its story as it now stands, what editors said of it, and how it was
    first logged when a correction has since changed it."""

    story: Story
    notes: tuple[EditorialNote, ...]
    recorded_at: datetime
    recorded: str
    retracted: bool = False
    disputed: bool = False
    first_occurred: str | None = None  # when a correction moved its time


def event_record(
    event: LoggedEvent,
    family: Sequence[LoggedEvent],
    registry: Registry,
    targets: Mapping[str, LoggedEvent],
) -> EventRecord:
    """The page of an event, given its editorial family (every editorial event aimed at it or
    at one of those), the registry they name and, for an editorial event, its targets."""
    effective = effective_events([event, *family], keep_retracted=True)
    standing = next((e for e in effective if e.id == event.id), None)
    story = story_of(event, registry, targets, standing=standing)
    moved = standing is not None and standing.valid_time != event.valid_time
    return EventRecord(
        story=story,
        notes=tuple(_notes(family)),
        recorded_at=event.recorded_at,
        recorded=recorded_words(event.recorded_at),
        retracted=standing is not None and standing.retracted,
        disputed=standing is not None and standing.disputed,
        first_occurred=occurred_words(event.valid_time) if moved else None,
    )


def recorded_words(moment: datetime) -> str:
    """A transaction time in words, in UTC: '1 January 2026, 12:00 UTC'."""
    at = moment.astimezone(UTC)
    return f"{at.day} {MONTHS[at.month - 1]} {at.year}, {at:%H:%M} UTC"


def _notes(family: Sequence[LoggedEvent]) -> list[EditorialNote]:
    retracting: dict[UUID, list[UUID]] = {}
    for e in family:
        if e.type == "EventRetracted":
            retracting.setdefault(_target(e), []).append(e.id)

    def stands(note: UUID) -> bool:  # a retracted retraction restores what it retracted
        return not any(stands(r) for r in retracting.get(note, ()))

    return [
        EditorialNote(
            id=e.id,
            type=e.type,
            kind=EDITORIAL_WORDS.get(e.type, type_words(e.type)),
            reason=payload_text(e.payload, "reason"),
            details=describe_editorial(e.type, e.payload, Description(headline="")).details,
            recorded_at=e.recorded_at,
            recorded=recorded_words(e.recorded_at),
            target=_target(e),
            withdrawn=not stands(e.id),
        )
        for e in family
    ]


def _target(event: LoggedEvent) -> UUID:
    return UUID(str(event.payload["target"]))


def _is_editorial(type_name: str) -> bool:
    return EVENT_TYPES[type_name].kind is Kind.EDITORIAL


def type_words(type_name: str) -> str:
    """An event type as words: `PositionStated` is 'Position stated'."""
    first, *rest = _WORDS.findall(type_name) or [type_name]
    return " ".join([first, *(word.lower() for word in rest)])


def occurred_words(valid_time: ValidTime) -> str:
    """When it happened, in the event's own zone, named: '13 March 2025, Europe/Moscow time',
    '13 March 2025, 21:00 UTC+03:00, Europe/Moscow time'; a time written with an offset and no
    zone of its own stays at that offset: '13 March 2025, 21:00 UTC+03:00'."""
    zone = valid_time.timezone
    span = span_of(valid_time)
    clocked = [bool(_CLOCK.match(end)) for end in valid_time.expression.split("/")]
    if zone == "UTC" and all(clocked):
        return display_date(span)
    if any(clocked):  # ends written with an offset, shown in the event's zone instead
        local = ZoneInfo(zone)
        span = replace(span, start=span.start.astimezone(local), end=span.end.astimezone(local))
    return f"{display_date(span)}, {zone} time"


def describe_logged(
    event: LoggedEvent, registry: Registry, targets: Mapping[str, LoggedEvent]
) -> Description:
    """Any logged event in words; an editorial one by what it is aimed at (`targets`, by id)."""
    if not _is_editorial(event.type):
        as_logged = EffectiveEvent(event=event, valid_time=event.valid_time, payload=event.payload)
        return describe(as_logged, registry)
    target = targets.get(str(UUID(str(event.payload["target"]))))
    aimed_at = (
        describe_logged(target, registry, targets)
        if target is not None
        else Description(headline="an event not in the log")
    )
    return describe_editorial(event.type, event.payload, aimed_at)


def describe_editorial(type_name: str, payload: JsonObject, target: Description) -> Description:
    """A correction, retraction or dispute in words: what it is aimed at, and why."""
    occurred_at = payload_text(payload, "occurred_at")
    return Description(
        headline=f"{EDITORIAL_WORDS.get(type_name, type_words(type_name))}: {target.headline}",
        summary=payload_text(payload, "reason"),
        details=(f"Now dated {occurred_at}",) if occurred_at else (),
    )


def cited_sources(citations: Sequence[Citation], registry: Registry) -> list[CitedSource]:
    """An event's citations with what the registry knows of each source."""
    found = []
    for citation in citations:
        info = registry.sources.get(citation.source)
        if info is None:
            found.append(CitedSource(source=citation.source, quote=citation.quote))
            continue
        found.append(
            CitedSource(
                source=citation.source,
                outlet=info.outlet,
                headline=info.headline,
                published_on=info.published_on,
                url=info.url,
                quote=citation.quote,
            )
        )
    return found
