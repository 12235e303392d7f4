"""What one more event would change in a party's position: the stance, its conditions and
whether the party's voices disagree; folded in the pure domain, nothing appended."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.editorial import EffectiveEvent
from domain.positions import Position, evolve


@dataclass(frozen=True, slots=True, kw_only=True)
class PositionChange:
    """A pair's position just before an event and just after it."""

    actor: str
    proposal: str
    stance_before: str
    stance_after: str
    speaker: str | None
    effective_from: datetime
    conditions_added: tuple[tuple[str, str], ...]
    conditions_dropped: tuple[tuple[str, str], ...]
    contested_before: bool
    contested_after: bool

    @property
    def stance_changed(self) -> bool:
        """Whether the party's stance moves."""
        return self.stance_before != self.stance_after

    @property
    def changes_anything(self) -> bool:
        """Whether the position comes out any different."""
        return (
            self.stance_changed
            or bool(self.conditions_added or self.conditions_dropped)
            or self.contested_before != self.contested_after
        )


def change_of(before: Position, event: EffectiveEvent) -> PositionChange:
    """What `event` does to `before`, the pair's position as of the event's valid time."""
    after = evolve(before, event)
    had = {c.id: c.text for c in before.conditions}
    has = {c.id: c.text for c in after.conditions}
    return PositionChange(
        actor=before.actor,
        proposal=before.proposal,
        stance_before=before.stance,
        stance_after=after.stance,
        speaker=after.speaker if after.stance_event == event.id else event.payload.get("speaker"),
        effective_from=event.valid_time.earliest,
        conditions_added=tuple((i, t) for i, t in has.items() if had.get(i) != t),
        conditions_dropped=tuple((i, t) for i, t in had.items() if i not in has),
        contested_before=before.contested,
        contested_after=after.contested,
    )
