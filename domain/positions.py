"""A party's position on a proposal: the fold of its statements, and its history in valid time."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from uuid import UUID

from domain.drafts import Citation
from domain.editorial import POSITION_TYPES, EffectiveEvent
from domain.valid_time import format_instant, parse_instant, to_micros

UNSTATED = "unstated"
Pair = tuple[str, str]


@dataclass(frozen=True, slots=True, kw_only=True)
class OpenCondition:
    """A condition the party attaches to its stance, until dropped or replaced."""

    id: str
    text: str
    raised_by: str | None
    raised_at: datetime
    event: UUID
    # Its JSON, made once: a condition stays open over many states of its pair, and each state
    # is serialised (times formatted, ids written out) when the pair is re-derived.
    _json: dict[str, Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        json = {
            "id": self.id,
            "text": self.text,
            "raised_by": self.raised_by,
            "raised_at": format_instant(self.raised_at),
            "event": str(self.event),
        }
        object.__setattr__(self, "_json", json)

    def to_json(self) -> dict[str, Any]:
        """The condition as a position's state lists it (a copy: the caller may change it)."""
        return dict(self._json)


@dataclass(frozen=True, slots=True, kw_only=True)
class Voice:
    """One speaker's latest stance for the party."""

    speaker: str
    stance: str
    since: datetime
    event: UUID
    _json: dict[str, Any] = field(init=False, repr=False, compare=False)  # as OpenCondition's

    def __post_init__(self) -> None:
        json = {
            "speaker": self.speaker,
            "stance": self.stance,
            "since": format_instant(self.since),
            "event": str(self.event),
        }
        object.__setattr__(self, "_json", json)

    def to_json(self) -> dict[str, Any]:
        """The voice as a position's state lists it (a copy: the caller may change it)."""
        return dict(self._json)


@dataclass(frozen=True, slots=True, kw_only=True)
class Position:
    """Where a party stands on a proposal as of some valid time."""

    actor: str
    proposal: str
    stance: str = UNSTATED
    speaker: str | None = None
    since: datetime | None = None
    stance_event: UUID | None = None
    conditions: tuple[OpenCondition, ...] = ()
    voices: tuple[Voice, ...] = ()
    sources_by_event: tuple[tuple[UUID, tuple[Citation, ...]], ...] = ()
    disputed_events: frozenset[UUID] = field(default_factory=frozenset)

    @property
    def based_on(self) -> tuple[UUID, ...]:
        """The events the stance and the open conditions rest on, in the order they applied."""
        ids = [] if self.stance_event is None else [self.stance_event]
        ids.extend(c.event for c in self.conditions)
        return tuple(dict.fromkeys(ids))

    @property
    def sources(self) -> tuple[Citation, ...]:
        """The citations of the events the position is based on, without repeats."""
        by_event = dict(self.sources_by_event)
        found = [c for event in self.based_on for c in by_event.get(event, ())]
        return tuple(dict.fromkeys(found))

    @property
    def contested(self) -> bool:
        """Whether the party's voices disagree."""
        return len({v.stance for v in self.voices}) > 1

    @property
    def disputed(self) -> tuple[UUID, ...]:
        """Which of the events the position is based on are disputed."""
        return tuple(e for e in self.based_on if e in self.disputed_events)

    def to_json(self) -> dict[str, Any]:
        """The position as stored in the read model and shown by the API."""
        # As the properties say, with `based_on` worked out once (every refold calls this).
        based_on = self.based_on
        by_event = dict(self.sources_by_event)
        sources = dict.fromkeys(c for event in based_on for c in by_event.get(event, ()))
        return {
            "actor": self.actor,
            "proposal": self.proposal,
            "stance": self.stance,
            "speaker": self.speaker,
            "since": None if self.since is None else format_instant(self.since),
            "conditions": [c.to_json() for c in self.conditions],
            "based_on": [str(e) for e in based_on],
            "sources": [c.to_json() for c in sources],
            "voices": [v.to_json() for v in self.voices],
            "contested": self.contested,
            "disputed": [str(e) for e in based_on if e in self.disputed_events],
        }


def restore(state: dict[str, Any]) -> Position:
    """The position a stored state (`Position.to_json`) describes, to fold more events into.
    Citations are not carried back: a state lists them by position, not by event."""
    return Position(
        actor=state["actor"],
        proposal=state["proposal"],
        stance=state["stance"],
        speaker=state.get("speaker"),
        since=None if state.get("since") is None else parse_instant(state["since"]),
        stance_event=UUID(state["based_on"][0])
        if state["stance"] != UNSTATED and state.get("based_on")
        else None,
        conditions=tuple(
            OpenCondition(
                id=c["id"],
                text=c["text"],
                raised_by=c.get("raised_by"),
                raised_at=parse_instant(c["raised_at"]),
                event=UUID(c["event"]),
            )
            for c in state.get("conditions", ())
        ),
        voices=tuple(
            Voice(
                speaker=v["speaker"],
                stance=v["stance"],
                since=parse_instant(v["since"]),
                event=UUID(v["event"]),
            )
            for v in state.get("voices", ())
        ),
        disputed_events=frozenset(UUID(e) for e in state.get("disputed", ())),
    )


def pair_of(event: EffectiveEvent) -> Pair | None:
    """The (actor, proposal) a position event is about, as it now stands; None for others."""
    if event.type not in POSITION_TYPES:
        return None
    return (str(event.payload["actor"]), str(event.payload["proposal"]))


def evolve(position: Position, event: EffectiveEvent) -> Position:
    """The position after one more event about it."""
    # One Position made per step, field by field (`dataclasses.replace` twice a step was a
    # tenth of a rebuild's fold).
    stance, speaker, since = position.stance, position.speaker, position.since
    stance_event, conditions, voices = position.stance_event, position.conditions, position.voices
    payload = event.payload
    if event.type == "PositionStated":
        since = event.valid_time.earliest
        speaker = payload.get("speaker")
        stance, stance_event = payload["stance"], event.id
        voice = Voice(speaker=speaker or position.actor, stance=stance, since=since, event=event.id)
        if payload.get("conditions") is not None:
            # A full set replaces the open conditions; one restated unchanged keeps its origin.
            kept = {(c.id, c.text): c for c in conditions}
            conditions = tuple(
                kept.get((c["id"], c["text"])) or _condition(c, event)
                for c in payload["conditions"]
            )
        voices = (*(v for v in voices if v.speaker != voice.speaker), voice)
    elif event.type == "ConditionRaised":
        raised = _condition(payload["condition"], event)
        conditions = (*_without(conditions, raised.id), raised)
    elif event.type == "ConditionDropped":
        conditions = _without(conditions, payload["condition_id"])
    # Only the events the position is based on can ever be cited by it: an event leaves
    # `based_on` for good (a condition or stance comes back only with a newer event), so the
    # others' citations are dropped here instead of being carried, copied and re-scanned by
    # every later step (which made a pair's fold quadratic in its events).
    based_on = {stance_event, *(c.event for c in conditions)}
    cited = (*position.sources_by_event, (event.id, event.event.sources))
    return Position(
        actor=position.actor,
        proposal=position.proposal,
        stance=stance,
        speaker=speaker,
        since=since,
        stance_event=stance_event,
        conditions=conditions,
        voices=voices,
        sources_by_event=tuple(s for s in cited if s[0] in based_on),
        disputed_events=(
            position.disputed_events | {event.id} if event.disputed else position.disputed_events
        ),
    )


def _condition(raw: dict[str, Any], event: EffectiveEvent) -> OpenCondition:
    return OpenCondition(
        id=raw["id"],
        text=raw["text"],
        raised_by=event.payload.get("speaker"),
        raised_at=event.valid_time.earliest,
        event=event.id,
    )


def _without(conditions: tuple[OpenCondition, ...], condition_id: str) -> tuple[OpenCondition, ...]:
    return tuple(c for c in conditions if c.id != condition_id)


def events_of(events: Iterable[EffectiveEvent], pair: Pair) -> list[EffectiveEvent]:
    """The events about one pair, in valid-time order (log order breaks ties)."""
    return sorted((e for e in events if pair_of(e) == pair), key=EffectiveEvent.sort_key)


def fold(events: Iterable[EffectiveEvent], pair: Pair, as_of: datetime) -> Position:
    """The naive fold: the position as of a valid time, from every effective event."""
    position = Position(actor=pair[0], proposal=pair[1])
    for event in events_of(events, pair):
        if event.valid_time.earliest > as_of:
            break
        position = evolve(position, event)
    return position


@dataclass(frozen=True, slots=True, kw_only=True)
class Segment:
    """The position over a half-open valid interval [valid_from, valid_to) in UTC microseconds."""

    valid_from: int
    valid_to: int | None
    state: dict[str, Any]


def history(events: Iterable[EffectiveEvent], pair: Pair) -> list[Segment]:
    """The pair's position over all valid time: a segment per change, equal neighbours merged."""
    segments: list[Segment] = []
    position = Position(actor=pair[0], proposal=pair[1])
    nothing = position.to_json()
    ordered: Sequence[EffectiveEvent] = events_of(events, pair)
    for i, event in enumerate(ordered):
        position = evolve(position, event)
        start = to_micros(event.valid_time.earliest)
        if i + 1 < len(ordered) and to_micros(ordered[i + 1].valid_time.earliest) == start:
            continue
        state = position.to_json()
        # Nothing known yet is no segment at all; an unchanged state extends the last one.
        if segments[-1].state == state if segments else state == nothing:
            continue
        if segments:
            segments[-1] = replace(segments[-1], valid_to=start)
        segments.append(Segment(valid_from=start, valid_to=None, state=state))
    return segments


def unstated(pair: Pair) -> dict[str, Any]:
    """The state of a pair about which nothing is known."""
    return Position(actor=pair[0], proposal=pair[1]).to_json()


def segment_at(segments: Sequence[Segment], as_of: datetime) -> Segment | None:
    """The segment covering a valid time, if any."""
    moment = to_micros(as_of)
    for segment in segments:
        if segment.valid_from <= moment and (segment.valid_to is None or moment < segment.valid_to):
            return segment
    return None
