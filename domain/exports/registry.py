"""The registries an export resolves names, parties, sources and proposals against, and
which events are exported: the timeline's selection, each with where it was logged and its
codes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from domain.actors import actors_as_of, proposals_as_of
from domain.editorial import EffectiveEvent
from domain.event_types import EVENT_TYPES, Codes, JsonObject, Kind

END_OF_TIME = datetime.max.replace(tzinfo=UTC)
PARTY_KINDS = frozenset({"state", "organization"})


@dataclass(frozen=True, slots=True, kw_only=True)
class ActorInfo:
    """What an export needs of an actor: its name, kind, party and Wikidata id."""

    id: str
    name: str
    kind: str
    affiliation: str | None = None
    wikidata: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceInfo:
    """What an export needs of a registered source."""

    id: str
    outlet: str
    headline: str
    published_on: str
    url: str | None = None
    language: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ProposalInfo:
    """A proposal's title, proposer and current terms."""

    id: str
    title: str
    proposer: str
    terms: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Registry:
    """Actors, sources and proposals as an export resolves them."""

    actors: Mapping[str, ActorInfo]
    sources: Mapping[str, SourceInfo]
    proposals: Mapping[str, ProposalInfo]

    def name(self, actor: str) -> str:
        """The actor's registered name, or its id when it has none."""
        found = self.actors.get(actor)
        return found.name if found is not None else actor

    def party(self, actor: str) -> ActorInfo | None:
        """The state or organisation an actor belongs to: itself, or where its affiliations
        lead; None for a person without a party."""
        seen: set[str] = set()
        current = self.actors.get(actor)
        while current is not None and current.id not in seen:
            seen.add(current.id)
            above = self.actors.get(current.affiliation) if current.affiliation else None
            if above is None:
                return current if current.kind in PARTY_KINDS else None
            current = above
        return None


def registry_of(events: Sequence[EffectiveEvent], as_of: datetime | None) -> Registry:
    """The registries as of a valid time (all of valid time when None), from the events as
    they stand; sources have no valid time that matters, only whether they are known."""
    when = END_OF_TIME if as_of is None else as_of
    return Registry(
        actors={slug: actor_info(a) for slug, a in actors_as_of(events, when).items()},
        proposals={slug: proposal_info(p) for slug, p in proposals_as_of(events, when).items()},
        sources={
            str(e.payload["source"]): source_info(e.payload)
            for e in events
            if e.type == "SourceRegistered"
        },
    )


def actor_info(actor: Mapping[str, Any]) -> ActorInfo:
    """What an export needs of an actor as the registry states it."""
    return ActorInfo(
        id=str(actor["id"]),
        name=str(actor["name"]),
        kind=str(actor["kind"]),
        affiliation=actor.get("affiliation"),
        wikidata=actor.get("wikidata"),
    )


def proposal_info(proposal: Mapping[str, Any]) -> ProposalInfo:
    """What an export needs of a proposal as the registry states it."""
    return ProposalInfo(
        id=str(proposal["id"]),
        title=str(proposal["title"]),
        proposer=str(proposal["proposer"]),
        terms=tuple(str(term) for term in proposal["terms"]),
    )


def source_info(payload: JsonObject) -> SourceInfo:
    """What an export needs of a source, from its registration."""
    return SourceInfo(
        id=str(payload["source"]),
        outlet=str(payload["outlet"]),
        headline=str(payload["headline"]),
        published_on=str(payload["published_on"]),
        url=payload.get("url"),
        language=payload.get("language"),
    )


# Which events are exported


@dataclass(frozen=True, slots=True, kw_only=True)
class ExportEvent:
    """An event as exports show it: as it now stands, where it was logged, and its codes."""

    event: EffectiveEvent
    stream: str
    codes: Codes


def select(
    events: Iterable[EffectiveEvent], *, proposal: str | None, as_of: datetime | None
) -> list[EffectiveEvent]:
    """The timeline's selection: world events, about the proposal if one is given, whose valid
    time has begun by as_of if one is given; in valid-time order."""
    chosen = [
        e
        for e in events
        if EVENT_TYPES[e.type].kind is Kind.WORLD
        and (proposal is None or e.payload.get("proposal") == proposal)
        and (as_of is None or e.valid_time.earliest <= as_of)
    ]
    return sorted(chosen, key=EffectiveEvent.sort_key)
