"""Actors, proposals and sources as of a valid time: folds of their registrations and changes."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from domain.editorial import EffectiveEvent
from domain.valid_time import format_instant

ACTOR_TYPES = ("ActorRegistered", "AffiliationChanged")
PROPOSAL_TYPES = ("ProposalTabled", "ProposalAmended")
_AFFILIATION_FIELDS = ("affiliation", "role", "authority")


def actors_as_of(events: Iterable[EffectiveEvent], as_of: datetime) -> dict[str, dict[str, Any]]:
    """Every registered actor's name, kind, affiliation, role and authority at a valid time."""
    actors: dict[str, dict[str, Any]] = {}
    for event in _in_order(events, ACTOR_TYPES, as_of):
        payload = event.payload
        actor = str(payload["actor"])
        if event.type == "ActorRegistered":
            actors[actor] = {
                "id": actor,
                "name": payload["name"],
                "kind": payload["kind"],
                "affiliation": payload.get("affiliation"),
                "role": payload.get("role"),
                "authority": payload.get("authority"),
                "wikidata": payload.get("wikidata"),
                "since": format_instant(event.valid_time.earliest),
                "based_on": [str(event.id)],
            }
        elif actor in actors:
            # A change names what changed; a field left out keeps its value.
            changed = {k: payload[k] for k in _AFFILIATION_FIELDS if payload.get(k) is not None}
            actors[actor] = {
                **actors[actor],
                **changed,
                "since": format_instant(event.valid_time.earliest),
                "based_on": [*actors[actor]["based_on"], str(event.id)],
            }
    return actors


def proposals_as_of(events: Iterable[EffectiveEvent], as_of: datetime) -> dict[str, dict[str, Any]]:
    """Every tabled proposal with its current terms at a valid time."""
    proposals: dict[str, dict[str, Any]] = {}
    for event in _in_order(events, PROPOSAL_TYPES, as_of):
        payload = event.payload
        proposal = str(payload["proposal"])
        if event.type == "ProposalTabled":
            proposals[proposal] = {
                "id": proposal,
                "title": payload["title"],
                "proposer": payload["proposer"],
                "terms": list(payload["terms"]),
                "tabled_at": format_instant(event.valid_time.earliest),
                "amended_at": None,
                "based_on": [str(event.id)],
            }
        elif proposal in proposals:
            proposals[proposal] = {
                **proposals[proposal],
                "terms": list(payload["terms"]),
                "amended_at": format_instant(event.valid_time.earliest),
                "based_on": [*proposals[proposal]["based_on"], str(event.id)],
            }
    return proposals


def _in_order(
    events: Iterable[EffectiveEvent], types: tuple[str, ...], as_of: datetime
) -> list[EffectiveEvent]:
    chosen = (e for e in events if e.type in types and e.valid_time.earliest <= as_of)
    return sorted(chosen, key=EffectiveEvent.sort_key)
