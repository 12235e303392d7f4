"""The registries of actors and proposals: each one's state over valid time, as known over
transaction time, folded from the current versions of its registration and its changes.

After an effective-events change to a registration, the subjects it was and is about are
re-derived whole (a subject has few registration events) with the same folds the whole-log
reads use (`domain.actors`), and only the rows that differ are closed and replaced.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from domain.actors import actors_as_of, proposals_as_of
from domain.editorial import EffectiveEvent, LoggedEvent
from domain.positions import Segment
from domain.valid_time import from_micros, parse_valid_time
from store.projection import FOREVER
from store.read_models.effective import Change, EffectiveRows, Version, effective_of

Fold = Callable[[Iterable[EffectiveEvent], datetime], dict[str, dict[str, Any]]]
FOLDS: dict[str, Fold] = {"actor": actors_as_of, "proposal": proposals_as_of}


@dataclass(frozen=True, slots=True, kw_only=True)
class Entry:
    """One bitemporal row of the registry."""

    kind: str
    subject: str
    valid_from: int
    valid_to: int
    recorded_from: int
    recorded_to: int
    state: dict[str, Any]

    def same_segment(self, other: Entry) -> bool:
        """Whether two rows say the same thing over the same valid interval."""
        return (self.valid_from, self.valid_to, self.state) == (
            other.valid_from,
            other.valid_to,
            other.state,
        )


class RegistryRows(Protocol):
    """Where the registry's rows live."""

    async def open_entries(self, kind: str, subject: str) -> list[Entry]:
        """A subject's rows as currently known."""
        ...

    async def revise(self, closing: Sequence[Entry], at: int, inserting: Sequence[Entry]) -> None:
        """Close rows at a transaction time and insert their successors."""
        ...


def effective_event(version: Version) -> EffectiveEvent:
    """A version as the folds read it (they need its id, position, type, valid time and
    payload), without the logged event it is a version of."""
    state = version.state
    logged = LoggedEvent(
        id=UUID(state["id"]),
        position=version.position,
        recorded_at=from_micros(version.recorded_from),
        type=version.type,
        valid_time=parse_valid_time(state["occurred_at"], state["timezone"]),
        payload=state["payload"],
    )
    return effective_of(version, logged)


def segments(kind: str, subject: str, versions: Iterable[Version]) -> list[Segment]:
    """A subject's states over valid time, from the versions of its registration events."""
    fold = FOLDS[kind]
    standing = [effective_event(v) for v in versions if not v.retracted]
    found: list[Segment] = []
    for start in sorted({v.valid_earliest for v in versions if not v.retracted}):
        state = fold(standing, from_micros(start)).get(subject)
        if state is None or (found and found[-1].state == state):
            continue
        if found:
            last = found[-1]
            found[-1] = Segment(valid_from=last.valid_from, valid_to=start, state=last.state)
        found.append(Segment(valid_from=start, valid_to=None, state=state))
    return found


async def project_registry(change: Change, effective: EffectiveRows, rows: RegistryRows) -> None:
    """Re-derive the subjects a change to a registration's version touched."""
    old, new = change
    at = new.recorded_from
    subjects = {v.subject for v in (old, new) if v is not None and v.subject is not None}
    for subject in sorted(subjects):
        kind, _, name = subject.partition(":")
        if kind not in FOLDS:
            continue
        versions = await effective.open_versions_of(subject)
        wanted = [_entry(kind, name, s, at) for s in segments(kind, name, versions)]
        current = await rows.open_entries(kind, name)
        closing = [r for r in current if not any(r.same_segment(w) for w in wanted)]
        inserting = [w for w in wanted if not any(w.same_segment(r) for r in current)]
        if closing or inserting:
            await rows.revise(closing, at, inserting)


def _entry(kind: str, subject: str, segment: Segment, at: int) -> Entry:
    return Entry(
        kind=kind,
        subject=subject,
        valid_from=segment.valid_from,
        valid_to=FOREVER if segment.valid_to is None else segment.valid_to,
        recorded_from=at,
        recorded_to=FOREVER,
        state=segment.state,
    )
