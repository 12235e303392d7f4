"""What an event points at, indexed beside the log so reads by actor, source or target are cheap."""

from __future__ import annotations

from domain.drafts import EventDraft
from domain.event_types import Kind

Reference = tuple[str, str]

ACTOR = "actor"
PROPOSAL = "proposal"
CITES = "cites"
TARGET = "target"
REGISTERS = "registers"


def references(draft: EventDraft) -> tuple[Reference, ...]:
    """Every (kind, ref) pair of one event, without repeats, in a stable order."""
    payload = draft.current_payload()
    found: list[Reference] = [(ACTOR, actor) for actor in draft.actors()]
    proposal = payload.get("proposal")
    if isinstance(proposal, str):
        found.append((PROPOSAL, proposal))
    found.extend((CITES, citation.source) for citation in draft.sources)
    if draft.event_type.kind is Kind.EDITORIAL:
        found.append((TARGET, str(payload["target"])))
    registered = _registered(draft.type, payload)
    if registered:
        found.append((REGISTERS, registered))
    return tuple(dict.fromkeys(found))


def _registered(type_name: str, payload: dict[str, object]) -> str | None:
    if type_name == "SourceRegistered":
        return f"source:{payload['source']}"
    if type_name == "ActorRegistered":
        return f"actor:{payload['actor']}"
    if type_name == "ProposalTabled":
        return f"proposal:{payload['proposal']}"
    return None
