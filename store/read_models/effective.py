"""The effective-events read model: one version of each world or registration event per change
the editorial events make to it, known over [recorded_from, recorded_to).

After each appended event the projector re-derives the one event it changes (itself, or the root
an editorial chain aims at) from that root and its editorial family, exactly as
`domain.editorial.effective_events` does over the whole log, and closes the superseded version.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID

from domain.editorial import Dispute, EffectiveEvent, LoggedEvent, effective_events
from domain.event_types import EVENT_TYPES, Kind
from domain.valid_time import parse_valid_time, to_micros
from store.projection import FOREVER, LogIndex, family

# The registrations whose subject the registries fold, by the payload field naming it.
SUBJECT_FIELDS = {
    "ActorRegistered": ("actor", "actor"),
    "AffiliationChanged": ("actor", "actor"),
    "ProposalTabled": ("proposal", "proposal"),
    "ProposalAmended": ("proposal", "proposal"),
    "SourceRegistered": ("source", "source"),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Version:
    """One version of an event as it stands after the editorial events known at recorded_from.

    `state` holds everything derived (valid time as written, payload, actors, the editorial
    events standing against it); the other fields are its indexed parts."""

    position: int
    type: str
    kind: str
    subject: str | None
    proposal: str | None
    valid_earliest: int
    valid_latest: int
    retracted: bool
    state: dict[str, Any]
    recorded_from: int
    recorded_to: int = FOREVER
    # How many distinct outlets a world event's citations come from (0 for other events): the
    # timeline's `min_outlets` filters on it in SQL.
    outlets: int = 0

    @property
    def actors(self) -> tuple[str, ...]:
        """The actors a world event is about (none for registrations)."""
        return tuple(self.state["actors"])

    def same(self, other: Version) -> bool:
        """Whether two versions say the same thing (whenever they were known)."""
        return self.state == other.state


def version_of(event: EffectiveEvent, at: int, outlets: Mapping[str, str] | None = None) -> Version:
    """The version an effective event is, known from transaction time `at`; `outlets` names
    the outlet of each source a world event cites (as registered)."""
    kind = EVENT_TYPES[event.type].kind
    payload = event.payload
    actors = EVENT_TYPES[event.type].actors(payload) if kind is Kind.WORLD else ()
    proposal = payload.get("proposal")
    state = {
        "id": str(event.id),
        "occurred_at": event.valid_time.expression,
        "timezone": event.valid_time.timezone,
        "payload": payload,
        "actors": list(actors),
        "corrected_by": [str(i) for i in event.corrected_by],
        "disputes": [{"event": str(d.event), "reason": d.reason} for d in event.disputes],
        "retracted_by": [str(i) for i in event.retracted_by],
    }
    supported = 0
    if kind is Kind.WORLD:
        found = corroboration(event.event, outlets or {})
        state["corroboration"] = found
        supported = len(found["outlets"])
    return Version(
        position=event.position,
        type=event.type,
        kind=kind.value,
        subject=subject_of(event.type, payload),
        proposal=proposal if isinstance(proposal, str) else None,
        valid_earliest=to_micros(event.valid_time.earliest),
        valid_latest=to_micros(event.valid_time.latest),
        retracted=event.retracted,
        state=state,
        recorded_from=at,
        outlets=supported,
    )


def corroboration(event: LoggedEvent, outlets: Mapping[str, str]) -> dict[str, list[str]]:
    """The distinct sources a world event cites (in citation order) and the distinct outlets
    they were registered with (sorted). Corrections replace payloads and valid times, never
    citations, so this is the logged event's own."""
    sources = list(dict.fromkeys(c.source for c in event.sources))
    named = sorted({outlets[s] for s in sources if s in outlets})
    return {"outlets": named, "sources": sources}


async def outlets_of(event: LoggedEvent, rows: EffectiveRows) -> dict[str, str]:
    """The outlet of each source an event cites, from the source's first registration (citing
    an unregistered source is refused, so it is known before the citation)."""
    found: dict[str, str] = {}
    for source in dict.fromkeys(c.source for c in event.sources):
        for version in await rows.open_versions_of(f"source:{source}"):
            outlet = version.state["payload"].get("outlet")
            if isinstance(outlet, str):
                found[source] = outlet
                break
    return found


def subject_of(type_name: str, payload: dict[str, Any]) -> str | None:
    """What a registration registers or changes, as `kind:id`; None for other events."""
    found = SUBJECT_FIELDS.get(type_name)
    if found is None or not isinstance(payload.get(found[1]), str):
        return None
    return f"{found[0]}:{payload[found[1]]}"


def effective_of(version: Version, event: LoggedEvent) -> EffectiveEvent:
    """The effective event a version describes, over the logged event it is a version of."""
    state = version.state
    return EffectiveEvent(
        event=event,
        valid_time=parse_valid_time(state["occurred_at"], state["timezone"]),
        payload=state["payload"],
        corrected_by=tuple(UUID(i) for i in state["corrected_by"]),
        disputes=tuple(
            Dispute(event=UUID(d["event"]), reason=d["reason"]) for d in state["disputes"]
        ),
        retracted_by=tuple(UUID(i) for i in state["retracted_by"]),
    )


class EffectiveRows(Protocol):
    """Where the versions live."""

    async def open_version(self, position: int) -> Version | None:
        """The current version of the event at a log position (None if it has none)."""
        ...

    async def revise(self, closing: Version | None, at: int, inserting: Version) -> None:
        """Close a version at a transaction time and insert its successor."""
        ...

    async def open_versions_of(self, subject: str) -> list[Version]:
        """The current versions of every registration about a subject."""
        ...


Change = tuple[Version | None, Version]


async def project_effective(
    event: LoggedEvent, index: LogIndex, rows: EffectiveRows
) -> Change | None:
    """Bring the version of the event this one changes up to date, as of its recorded_at; the
    (old, new) versions when it changed."""
    at = to_micros(event.recorded_at)
    if EVENT_TYPES[event.type].kind is not Kind.EDITORIAL:
        # What `effective_events([event], keep_retracted=True)` gives of an event nothing in
        # the log aims at yet (a rebuild makes a million of these: a tenth of its replay).
        effective = EffectiveEvent(event=event, valid_time=event.valid_time, payload=event.payload)
        outlets = await outlets_of(event, rows) if event.sources else {}
        fresh = version_of(effective, at, outlets)
        await rows.revise(None, at, fresh)
        return (None, fresh)
    root = event
    while EVENT_TYPES[root.type].kind is Kind.EDITORIAL:
        [root] = await index.events({UUID(str(root.payload["target"]))})
    relatives = await family({root.id}, index, event.position)
    [effective] = effective_events([root, *relatives], keep_retracted=True)
    outlets = await outlets_of(root, rows) if root.sources else {}
    fresh = version_of(effective, at, outlets)
    current = await rows.open_version(root.position)
    if current is not None and current.same(fresh):
        return None
    await rows.revise(current, at, fresh)
    return (current, fresh)
