"""The log as readers see it: corrections applied, retractions removed, disputes attached."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from uuid import UUID

from domain.drafts import Citation
from domain.event_types import EVENT_TYPES, JsonObject, Kind
from domain.references import POSITION_TYPES
from domain.valid_time import ValidTime, parse_valid_time


@dataclass(frozen=True, slots=True, kw_only=True)
class LoggedEvent:
    """What the fold needs of a recorded event: payload already read as the current version."""

    id: UUID
    position: int
    recorded_at: datetime
    type: str
    valid_time: ValidTime
    payload: JsonObject
    sources: tuple[Citation, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Dispute:
    """A doubt raised about an event, which stays in the record."""

    event: UUID
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class EffectiveEvent:
    """A world or registration event as it now stands, after every correction aimed at it."""

    event: LoggedEvent
    valid_time: ValidTime
    payload: JsonObject
    corrected_by: tuple[UUID, ...] = ()
    disputes: tuple[Dispute, ...] = ()
    retracted_by: tuple[UUID, ...] = ()

    @property
    def id(self) -> UUID:
        """The original event's id."""
        return self.event.id

    @property
    def position(self) -> int:
        """The original event's log position."""
        return self.event.position

    @property
    def type(self) -> str:
        """The original event's type."""
        return self.event.type

    @property
    def disputed(self) -> bool:
        """Whether any standing dispute is aimed at this event."""
        return bool(self.disputes)

    @property
    def retracted(self) -> bool:
        """Whether a standing retraction withdraws this event (kept only when asked for)."""
        return bool(self.retracted_by)

    def sort_key(self) -> tuple[datetime, int]:
        """Valid-time order: earliest instant, then log order for ties."""
        return (self.valid_time.earliest, self.position)


def effective_events(
    events: Iterable[LoggedEvent], *, keep_retracted: bool = False
) -> list[EffectiveEvent]:
    """Non-editorial events in log order, each as corrected, retracted ones left out, or kept
    and marked with the retractions that stand against them when `keep_retracted` is set.

    An editorial event can itself be retracted, which undoes it (a retracted retraction
    restores its target). Targets always precede their editorial events in the log.
    """
    ordered = sorted(events, key=lambda e: e.position)
    editorial = [e for e in ordered if _kind(e.type) is Kind.EDITORIAL]
    retracted_by: dict[UUID, list[UUID]] = {}
    for e in editorial:
        if e.type == "EventRetracted":
            retracted_by.setdefault(_target(e), []).append(e.id)
    standing: dict[UUID, bool] = {}

    def stands(event_id: UUID) -> bool:
        if event_id not in standing:
            standing[event_id] = not any(stands(r) for r in retracted_by.get(event_id, ()))
        return standing[event_id]

    corrections: dict[UUID, list[LoggedEvent]] = {}
    disputes: dict[UUID, list[Dispute]] = {}
    for e in editorial:
        if not stands(e.id):
            continue
        if e.type == "EventCorrected":
            corrections.setdefault(_target(e), []).append(e)
        elif e.type == "EventDisputed":
            disputes.setdefault(_target(e), []).append(
                Dispute(event=e.id, reason=str(e.payload.get("reason", "")))
            )
    return [
        replace(
            _corrected(e, corrections.get(e.id, []), tuple(disputes.get(e.id, []))),
            retracted_by=tuple(r for r in retracted_by.get(e.id, ()) if stands(r)),
        )
        for e in ordered
        if _kind(e.type) is not Kind.EDITORIAL and (keep_retracted or stands(e.id))
    ]


def _corrected(
    event: LoggedEvent, corrections: Sequence[LoggedEvent], disputes: tuple[Dispute, ...]
) -> EffectiveEvent:
    effective = EffectiveEvent(
        event=event, valid_time=event.valid_time, payload=event.payload, disputes=disputes
    )
    for correction in corrections:
        change = correction.payload
        valid_time = effective.valid_time
        if change.get("occurred_at") is not None or change.get("timezone") is not None:
            valid_time = parse_valid_time(
                change.get("occurred_at") or valid_time.expression,
                change.get("timezone") or valid_time.timezone,
            )
        effective = replace(
            effective,
            valid_time=valid_time,
            payload=change["payload"] if change.get("payload") is not None else effective.payload,
            corrected_by=(*effective.corrected_by, correction.id),
        )
    return effective


def _target(event: LoggedEvent) -> UUID:
    return UUID(str(event.payload["target"]))


def _kind(type_name: str) -> Kind:
    return EVENT_TYPES[type_name].kind


__all__ = ["POSITION_TYPES", "Dispute", "EffectiveEvent", "LoggedEvent", "effective_events"]
