"""`domain.positions.evolve` and `Position.to_json` against the straightforward fold they
replaced for speed (the rebuild runs them once per event and re-derived state).

The reference below is the earlier implementation, kept verbatim in spirit: every step copies
the citations of every event seen, and `to_json` works everything out from the properties. The
faster one keeps only the citations of the events the position is based on and caches each
condition's and voice's JSON; its states must be the same at every step of every fold.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from uuid import UUID

from hypothesis import given

from domain.drafts import Citation
from domain.editorial import EffectiveEvent, LoggedEvent, effective_events
from domain.positions import Position, events_of, evolve, history
from domain.valid_time import format_instant
from tests.unit.fold_builders import PAIRS, random_logs


@dataclass(frozen=True, slots=True, kw_only=True)
class _Condition:
    id: str
    text: str
    raised_by: str | None
    raised_at: datetime
    event: UUID


@dataclass(frozen=True, slots=True, kw_only=True)
class _Voice:
    speaker: str
    stance: str
    since: datetime
    event: UUID


@dataclass(frozen=True, slots=True, kw_only=True)
class _Position:
    actor: str
    proposal: str
    stance: str = "unstated"
    speaker: str | None = None
    since: datetime | None = None
    stance_event: UUID | None = None
    conditions: tuple[_Condition, ...] = ()
    voices: tuple[_Voice, ...] = ()
    sources_by_event: tuple[tuple[UUID, tuple[Citation, ...]], ...] = ()
    disputed_events: frozenset[UUID] = field(default_factory=frozenset)

    def to_json(self) -> dict[str, Any]:
        based_on = tuple(
            dict.fromkeys(
                ([] if self.stance_event is None else [self.stance_event])
                + [c.event for c in self.conditions]
            )
        )
        by_event = dict(self.sources_by_event)
        sources = tuple(dict.fromkeys(c for e in based_on for c in by_event.get(e, ())))
        return {
            "actor": self.actor,
            "proposal": self.proposal,
            "stance": self.stance,
            "speaker": self.speaker,
            "since": None if self.since is None else format_instant(self.since),
            "conditions": [
                {
                    "id": c.id,
                    "text": c.text,
                    "raised_by": c.raised_by,
                    "raised_at": format_instant(c.raised_at),
                    "event": str(c.event),
                }
                for c in self.conditions
            ],
            "based_on": [str(e) for e in based_on],
            "sources": [c.to_json() for c in sources],
            "voices": [
                {
                    "speaker": v.speaker,
                    "stance": v.stance,
                    "since": format_instant(v.since),
                    "event": str(v.event),
                }
                for v in self.voices
            ],
            "contested": len({v.stance for v in self.voices}) > 1,
            "disputed": [str(e) for e in based_on if e in self.disputed_events],
        }


def _condition(raw: dict[str, Any], event: EffectiveEvent) -> _Condition:
    return _Condition(
        id=raw["id"],
        text=raw["text"],
        raised_by=event.payload.get("speaker"),
        raised_at=event.valid_time.earliest,
        event=event.id,
    )


def _evolve(position: _Position, event: EffectiveEvent) -> _Position:
    disputed = position.disputed_events | {event.id} if event.disputed else position.disputed_events
    position = replace(
        position,
        sources_by_event=(*position.sources_by_event, (event.id, event.event.sources)),
        disputed_events=disputed,
    )
    payload = event.payload
    if event.type == "PositionStated":
        at = event.valid_time.earliest
        speaker = payload.get("speaker")
        voice = _Voice(
            speaker=speaker or position.actor, stance=payload["stance"], since=at, event=event.id
        )
        conditions = position.conditions
        if payload.get("conditions") is not None:
            kept = {(c.id, c.text): c for c in position.conditions}
            conditions = tuple(
                kept.get((c["id"], c["text"])) or _condition(c, event)
                for c in payload["conditions"]
            )
        return replace(
            position,
            stance=payload["stance"],
            speaker=speaker,
            since=at,
            stance_event=event.id,
            conditions=conditions,
            voices=(*(v for v in position.voices if v.speaker != voice.speaker), voice),
        )
    if event.type == "ConditionRaised":
        raised = _condition(payload["condition"], event)
        kept_conditions = tuple(c for c in position.conditions if c.id != raised.id)
        return replace(position, conditions=(*kept_conditions, raised))
    if event.type == "ConditionDropped":
        gone = payload["condition_id"]
        return replace(position, conditions=tuple(c for c in position.conditions if c.id != gone))
    return position


@given(events=random_logs(max_events=40))
def test_every_step_of_every_fold_has_the_reference_state(events: list[LoggedEvent]) -> None:
    effective = effective_events(events, keep_retracted=False)
    for pair in PAIRS:
        fast = Position(actor=pair[0], proposal=pair[1])
        slow = _Position(actor=pair[0], proposal=pair[1])
        assert fast.to_json() == slow.to_json()
        for event in events_of(effective, pair):
            fast, slow = evolve(fast, event), _evolve(slow, event)
            assert fast.to_json() == slow.to_json()
            # The properties say what the state says.
            state = fast.to_json()
            assert [str(e) for e in fast.based_on] == state["based_on"]
            assert [c.to_json() for c in fast.sources] == state["sources"]
            assert [str(e) for e in fast.disputed] == state["disputed"]


@given(events=random_logs(max_events=40))
def test_a_state_handed_out_is_the_callers_to_change(events: list[LoggedEvent]) -> None:
    # Conditions and voices keep their JSON; a state's lists must not share it.
    effective = effective_events(events)
    for pair in PAIRS:
        # The states of one history share their conditions and voices (objects, not JSON).
        segments = history(effective, pair)
        before = json.loads(json.dumps([s.state for s in segments]))
        for segment in segments[:1]:
            for item in (*segment.state["conditions"], *segment.state["voices"]):
                item["event"] = "changed"
        assert [s.state for s in segments[1:]] == before[1:]
