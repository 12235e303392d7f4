"""Builders for logged events, for tests of the pure fold: say only what a test is about.

`Log` numbers events from position 1, stamps `recorded_at` one second apart and gives each event
an id that shows its position (`…-000000000007`). World events cite a source unless told
otherwise; editorial events cite none. Payloads are checked against their type's current struct,
so a builder cannot make an event the write path would refuse.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import msgspec
from hypothesis import strategies as st

from domain.drafts import Citation
from domain.editorial import EffectiveEvent, LoggedEvent, effective_events
from domain.event_types import EVENT_TYPES, JsonObject, Kind
from domain.valid_time import parse_valid_time

PROPOSAL = "us-30-day-ceasefire-2025"
RECORDING_STARTS = datetime(2025, 3, 14, tzinfo=UTC)
# Editorial events happen in the newsroom; their valid time plays no part in the fold.
EDITORIAL_AT = "2025-03-14"

Target = LoggedEvent | UUID


def cite(source: str = "notus-2025-03-13", quote: str | None = None) -> Citation:
    """A citation of a registered source, with an optional quote."""
    return Citation(source=source, quote=quote)


def condition(condition_id: str, text: str | None = None) -> JsonObject:
    """A condition as payloads carry it; the text defaults to one derived from the id."""
    return {"id": condition_id, "text": text if text is not None else f"Condition {condition_id}."}


def position_stated(
    actor: str,
    stance: str,
    *,
    proposal: str = PROPOSAL,
    speaker: str | None = None,
    conditions: list[JsonObject] | None = None,
    quote: str | None = None,
) -> JsonObject:
    """A PositionStated payload; `conditions`, when given, is the full set."""
    return _without_none(
        actor=actor,
        proposal=proposal,
        stance=stance,
        speaker=speaker,
        conditions=conditions,
        quote=quote,
    )


def condition_raised(
    actor: str,
    condition_id: str,
    text: str | None = None,
    *,
    proposal: str = PROPOSAL,
    speaker: str | None = None,
) -> JsonObject:
    """A ConditionRaised payload."""
    return _without_none(
        actor=actor,
        proposal=proposal,
        condition=condition(condition_id, text),
        speaker=speaker,
    )


def condition_dropped(
    actor: str, condition_id: str, *, proposal: str = PROPOSAL, speaker: str | None = None
) -> JsonObject:
    """A ConditionDropped payload."""
    return _without_none(actor=actor, proposal=proposal, condition_id=condition_id, speaker=speaker)


def event_corrected(
    target: Target,
    *,
    occurred_at: str | None = None,
    timezone: str | None = None,
    payload: JsonObject | None = None,
    reason: str = "a better source",
) -> JsonObject:
    """An EventCorrected payload: the fields given replace the target's."""
    return _without_none(
        target=_id(target),
        reason=reason,
        occurred_at=occurred_at,
        timezone=timezone,
        payload=payload,
    )


def event_retracted(target: Target, *, reason: str = "not what happened") -> JsonObject:
    """An EventRetracted payload."""
    return {"target": _id(target), "reason": reason}


def event_disputed(target: Target, *, reason: str = "no other source says so") -> JsonObject:
    """An EventDisputed payload."""
    return {"target": _id(target), "reason": reason}


def event_id(position: int) -> UUID:
    """The id `Log` gives the event at a position."""
    return UUID(f"00000000-0000-4000-8000-{position:012x}")


class Log:
    """An append-only list of LoggedEvents, built one event at a time."""

    def __init__(self) -> None:
        self.events: list[LoggedEvent] = []

    def append(
        self,
        type_name: str,
        payload: JsonObject,
        *,
        at: str = "2025-03-13",
        tz: str | None = None,
        sources: tuple[Citation, ...] | None = None,
    ) -> LoggedEvent:
        """Append one event of any type; world events cite one source by default."""
        event_type = EVENT_TYPES[type_name]
        msgspec.convert(payload, event_type.payload_type(event_type.current_version))
        if sources is None:
            sources = (cite(),) if event_type.kind is Kind.WORLD else ()
        position = len(self.events) + 1
        event = LoggedEvent(
            id=event_id(position),
            position=position,
            recorded_at=RECORDING_STARTS + timedelta(seconds=position),
            type=type_name,
            valid_time=parse_valid_time(at, tz),
            payload=payload,
            sources=sources,
        )
        self.events.append(event)
        return event

    def stated(
        self,
        actor: str,
        stance: str,
        *,
        at: str = "2025-03-13",
        tz: str | None = None,
        sources: tuple[Citation, ...] | None = None,
        **fields: Any,
    ) -> LoggedEvent:
        """Append a PositionStated (fields: proposal, speaker, conditions, quote)."""
        payload = position_stated(actor, stance, **fields)
        return self.append("PositionStated", payload, at=at, tz=tz, sources=sources)

    def raised(
        self,
        actor: str,
        condition_id: str,
        text: str | None = None,
        *,
        at: str = "2025-03-13",
        tz: str | None = None,
        sources: tuple[Citation, ...] | None = None,
        **fields: Any,
    ) -> LoggedEvent:
        """Append a ConditionRaised (fields: proposal, speaker)."""
        payload = condition_raised(actor, condition_id, text, **fields)
        return self.append("ConditionRaised", payload, at=at, tz=tz, sources=sources)

    def dropped(
        self,
        actor: str,
        condition_id: str,
        *,
        at: str = "2025-03-13",
        tz: str | None = None,
        sources: tuple[Citation, ...] | None = None,
        **fields: Any,
    ) -> LoggedEvent:
        """Append a ConditionDropped (fields: proposal, speaker)."""
        payload = condition_dropped(actor, condition_id, **fields)
        return self.append("ConditionDropped", payload, at=at, tz=tz, sources=sources)

    def corrected(self, target: Target, **fields: Any) -> LoggedEvent:
        """Append an EventCorrected (fields: occurred_at, timezone, payload, reason)."""
        return self.append("EventCorrected", event_corrected(target, **fields), at=EDITORIAL_AT)

    def retracted(self, target: Target, **fields: Any) -> LoggedEvent:
        """Append an EventRetracted."""
        return self.append("EventRetracted", event_retracted(target, **fields), at=EDITORIAL_AT)

    def disputed(self, target: Target, **fields: Any) -> LoggedEvent:
        """Append an EventDisputed."""
        return self.append("EventDisputed", event_disputed(target, **fields), at=EDITORIAL_AT)

    def effective(self) -> list[EffectiveEvent]:
        """The log as readers see it."""
        return effective_events(self.events)


def _id(target: Target) -> str:
    return str(target.id if isinstance(target, LoggedEvent) else target)


def _without_none(**fields: Any) -> JsonObject:
    return {name: value for name, value in fields.items() if value is not None}


# Random logs, for property tests.

ACTORS = ("russia", "ukraine")
PROPOSALS = (PROPOSAL, "black-sea-truce-2025")
PAIRS = tuple((actor, proposal) for actor in ACTORS for proposal in PROPOSALS)
SPEAKERS = (None, "vladimir-putin", "yuri-ushakov", "volodymyr-zelenskyy")
CONDITION_IDS = ("ukrainian-troops-in-kursk", "no-mobilisation", "control-and-verification")
CONDITION_TEXTS = (None, "Worded otherwise.")
STANCES = ("proposed", "accepted", "conditional", "noncommittal", "rejected", "countered")
CITATIONS = (
    cite("notus-2025-03-13"),
    cite("notus-2025-03-13", "nothing more than a temporary respite"),
    cite("rt-2025-03-13"),
    cite("us-daily-2025-03-13", "highly conditional support"),
)
# Few instants, written many ways: equal instants force ties, and the same date means another
# instant in another zone. (expression, timezone) as an occurred_at and its timezone.
VALID_TIMES: tuple[tuple[str, str | None], ...] = (
    ("2025-03-11", "Asia/Riyadh"),  # 2025-03-10T21:00Z
    ("2025-03-11", None),  # 2025-03-11T00:00Z
    ("2025-03-11T03+03:00", None),  # the same instant
    ("2025-03-11/2025-03-13", "UTC"),  # the same instant, as an interval
    ("2025-03-12?", "Europe/Moscow"),  # 2025-03-11T21:00Z, uncertain
    ("2025-03-13", "Europe/Moscow"),  # 2025-03-12T21:00Z, Ushakov's day
    ("2025-03-12T21:00:00Z", None),  # the same instant
    ("2025-03-13T00:00+03:00", None),  # the same instant
    ("2025-03-13T18+03:00/2025-03-13T23+03:00", "Europe/Moscow"),  # 15:00Z, Putin's evening
    ("2025-03-13T10:00-05:00", None),  # the same instant, in Washington
    ("2025-03-13T15:00:00.000001Z", None),  # one microsecond later
    ("2025-03~", None),  # 2025-03-01T00:00Z, approximate
    ("2025-03-14", "Europe/Kyiv"),  # 2025-03-13T22:00Z
)
TIMEZONES = ("UTC", "Europe/Moscow", "America/New_York")


VALID_TIME_STRATEGY = st.sampled_from(VALID_TIMES)
SOURCES_STRATEGY = st.lists(st.sampled_from(CITATIONS), min_size=1, max_size=3).map(tuple)
WORLD_TYPES = ("PositionStated", "PositionStated", "ConditionRaised", "ConditionDropped")
EDITORIAL_TYPES = ("EventCorrected", "EventCorrected", "EventRetracted", "EventDisputed")


def random_position_payload(draw: st.DrawFn, type_name: str) -> JsonObject:
    """A payload of a position event type about one of `PAIRS`."""
    actor, proposal = draw(st.sampled_from(PAIRS))
    speaker = draw(st.sampled_from(SPEAKERS))
    if type_name == "PositionStated":
        stance = draw(st.sampled_from(STANCES))
        conditions = None
        if draw(st.booleans()):
            ids = draw(st.lists(st.sampled_from(CONDITION_IDS), unique=True, max_size=3))
            conditions = [condition(i, draw(st.sampled_from(CONDITION_TEXTS))) for i in ids]
        return position_stated(
            actor, stance, proposal=proposal, speaker=speaker, conditions=conditions
        )
    condition_id = draw(st.sampled_from(CONDITION_IDS))
    if type_name == "ConditionRaised":
        text = draw(st.sampled_from(CONDITION_TEXTS))
        return condition_raised(actor, condition_id, text, proposal=proposal, speaker=speaker)
    return condition_dropped(actor, condition_id, proposal=proposal, speaker=speaker)


@st.composite
def random_logs(draw: st.DrawFn, max_events: int = 30) -> list[LoggedEvent]:
    """Logs of position events about `PAIRS`, with editorial events aimed at earlier events.

    Corrections move events in valid time (or re-read their date in another zone) and rewrite
    payloads, actor and proposal included; retractions hit world and editorial events alike;
    disputes hit world events, and now and then an editorial one.
    """
    log = Log()
    for _ in range(draw(st.integers(min_value=0, max_value=max_events))):
        world = [e for e in log.events if EVENT_TYPES[e.type].kind is Kind.WORLD]
        type_name = draw(st.sampled_from(WORLD_TYPES + (EDITORIAL_TYPES if world else ())))
        if type_name in WORLD_TYPES:
            at, tz = draw(VALID_TIME_STRATEGY)
            payload = random_position_payload(draw, type_name)
            log.append(type_name, payload, at=at, tz=tz, sources=draw(SOURCES_STRATEGY))
        elif type_name == "EventCorrected":
            target = draw(st.sampled_from(world))
            fields: JsonObject = {}
            change = draw(st.sampled_from(["time", "zone", "payload", "time and payload"]))
            if "time" in change:
                fields["occurred_at"], fields["timezone"] = draw(VALID_TIME_STRATEGY)
            if change == "zone":
                fields["timezone"] = draw(st.sampled_from(TIMEZONES))
            if "payload" in change:
                fields["payload"] = random_position_payload(draw, target.type)
            log.corrected(target, **fields)
        elif type_name == "EventRetracted":
            log.retracted(draw(st.sampled_from(log.events)))
        else:
            log.disputed(draw(st.sampled_from(world if draw(st.booleans()) else log.events)))
    return log.events
