"""What an event points at, indexed beside the log so reads by actor, source or target are cheap."""

from __future__ import annotations

from collections.abc import Mapping

from domain.drafts import EventDraft
from domain.event_types import Kind

Reference = tuple[str, str]

ACTOR = "actor"
PROPOSAL = "proposal"
CITES = "cites"
TARGET = "target"
REGISTERS = "registers"
PAIR = "pair"
RECORDED_BY = "recorded_by"
MAX_REF = 200  # the width of event_refs.ref
POSITION_TYPES = frozenset({"PositionStated", "ConditionRaised", "ConditionDropped"})


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
    pair = pair_reference(draft.type, payload)
    if pair:
        found.append((PAIR, pair))
    registered = _registered(draft.type, payload)
    if registered:
        found.append((REGISTERS, registered))
    return tuple(dict.fromkeys(found))


def recorder_references(metadata: Mapping[str, object]) -> tuple[Reference, ...]:
    """The key name that appended an event (`metadata.recorded_by`), as a reference: the index
    that editors filter the log by. Metadata without one (or with no usable one) has none."""
    name = metadata.get("recorded_by")
    if isinstance(name, str) and 0 < len(name) <= MAX_REF:
        return ((RECORDED_BY, name),)
    return ()


def event_references(draft: EventDraft, metadata: Mapping[str, object]) -> tuple[Reference, ...]:
    """Every (kind, ref) pair an event is indexed under: its draft's and who recorded it."""
    return (*references(draft), *recorder_references(metadata))


def pair_key(actor: str, proposal: str) -> str:
    """The reference of an (actor, proposal) pair."""
    return f"{actor}|{proposal}"


def pair_reference(type_name: str, payload: dict[str, object]) -> str | None:
    """The pair an event is indexed under: a position event's own, or a correction's new one."""
    # A correction that rewrites a position event's payload may move it to another pair.
    if type_name == "EventCorrected" and isinstance(payload.get("payload"), dict):
        payload = payload["payload"]  # type: ignore[assignment]
    elif type_name not in POSITION_TYPES:
        return None
    actor, proposal = payload.get("actor"), payload.get("proposal")
    if isinstance(actor, str) and isinstance(proposal, str):
        return pair_key(actor, proposal)
    return None


def registration_of(draft: EventDraft) -> str | None:
    """The `kind:id` a registering event registers (a source, an actor, a proposal), or None."""
    return _registered(draft.type, draft.current_payload())


def _registered(type_name: str, payload: dict[str, object]) -> str | None:
    if type_name == "SourceRegistered":
        return f"source:{payload['source']}"
    if type_name == "ActorRegistered":
        return f"actor:{payload['actor']}"
    if type_name == "ProposalTabled":
        return f"proposal:{payload['proposal']}"
    return None
