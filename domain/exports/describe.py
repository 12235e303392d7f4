"""What an event says, in words: its headline, summary, details and quote, names resolved
through the registry; its party (the TimelineJS group) and its sources as text."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from domain.editorial import EffectiveEvent
from domain.event_types import EVENT_TYPES, JsonObject
from domain.exports.registry import Registry


@dataclass(frozen=True, slots=True, kw_only=True)
class Description:
    """An event in words: a headline, a summary, details (terms, conditions), its own quote."""

    headline: str
    summary: str = ""
    details: tuple[str, ...] = ()
    quote: str | None = None
    speaker: str | None = None


STANCE_WORDS = {
    "proposed": "puts forward",
    "accepted": "accepts",
    "conditional": "supports with conditions",
    "noncommittal": "is noncommittal on",
    "rejected": "rejects",
    "countered": "counters",
    "withdrawn": "withdraws",
}
FORMAT_WORDS = {"in_person": "in person", "call": "by call", "video": "by video"}


def describe(event: EffectiveEvent, registry: Registry) -> Description:
    """The event in words, names resolved through the registry."""
    payload = event.payload
    describer = _DESCRIBERS.get(event.type)
    if describer is not None:
        return describer(payload, registry)
    return Description(headline=event.type, summary=payload_text(payload, "summary"))


def payload_text(payload: JsonObject, field: str) -> str:
    value = payload.get(field)
    return value if isinstance(value, str) else ""


def _names(registry: Registry, slugs: Any) -> str:
    found = slugs if isinstance(slugs, list | tuple) else [slugs]
    return ", ".join(registry.name(str(s)) for s in found if s)


def _proposal_title(payload: JsonObject, registry: Registry) -> str:
    slug = payload_text(payload, "proposal")
    found = registry.proposals.get(slug)
    return found.title if found is not None else slug


def _speaker(payload: JsonObject, registry: Registry) -> str | None:
    speaker = payload_text(payload, "speaker")
    return registry.name(speaker) if speaker else None


def _source(payload: JsonObject, registry: Registry) -> Description:
    outlet, headline = payload_text(payload, "outlet"), payload_text(payload, "headline")
    author = payload_text(payload, "author")
    by = f" by {author}" if author else ""
    return Description(
        headline=f"Source: {outlet} — {headline}",
        summary=f"{outlet} published “{headline}”{by} on {payload_text(payload, 'published_on')}.",
    )


def _actor(payload: JsonObject, registry: Registry) -> Description:
    name = payload_text(payload, "name")
    role = payload_text(payload, "role")
    return Description(
        headline=f"Registered: {name}",
        summary=f"{name}, {role}." if role else f"{name}, a {payload_text(payload, 'kind')}.",
    )


def _tabled(payload: JsonObject, registry: Registry) -> Description:
    return Description(
        headline=f"Proposal tabled: {payload_text(payload, 'title')}",
        summary=f"{registry.name(payload_text(payload, 'proposer'))} tables the proposal.",
        details=tuple(f"Term: {t}" for t in payload.get("terms") or ()),
    )


def _amended(payload: JsonObject, registry: Registry) -> Description:
    by = payload_text(payload, "amended_by")
    return Description(
        headline=f"Proposal amended: {_proposal_title(payload, registry)}",
        summary=payload_text(payload, "summary")
        or (f"Amended by {registry.name(by)}." if by else ""),
        details=tuple(f"Term: {t}" for t in payload.get("terms") or ()),
    )


def _stated(payload: JsonObject, registry: Registry) -> Description:
    party = registry.name(payload_text(payload, "actor"))
    stance = payload_text(payload, "stance")
    speaker = _speaker(payload, registry)
    verb = STANCE_WORDS.get(stance, stance)
    said = f", stated by {speaker}" if speaker else ""
    return Description(
        headline=f"{party} {verb} the proposal" + (f" ({speaker})" if speaker else ""),
        summary=f"Stance of {party} on {_proposal_title(payload, registry)}: {stance}{said}.",
        details=tuple(
            f"Condition: {c.get('text', '')}"
            for c in payload.get("conditions") or ()
            if isinstance(c, dict)
        ),
        quote=payload.get("quote"),
        speaker=speaker,
    )


def _raised(payload: JsonObject, registry: Registry) -> Description:
    condition = payload.get("condition")
    text = str(condition.get("text", "")) if isinstance(condition, dict) else ""
    return Description(
        headline=f"{registry.name(payload_text(payload, 'actor'))} raises a condition",
        summary=text,
        quote=payload.get("quote"),
        speaker=_speaker(payload, registry),
    )


def _dropped(payload: JsonObject, registry: Registry) -> Description:
    return Description(
        headline=f"{registry.name(payload_text(payload, 'actor'))} drops a condition",
        summary=f"Condition “{payload_text(payload, 'condition_id')}” dropped.",
        quote=payload.get("quote"),
        speaker=_speaker(payload, registry),
    )


def _met(payload: JsonObject, registry: Registry) -> Description:
    names = _names(registry, payload.get("participants"))
    how = FORMAT_WORDS.get(payload_text(payload, "format"), payload_text(payload, "format"))
    place = payload_text(payload, "place")
    where = f" in {place}" if place else ""
    return Description(
        headline=f"Meeting: {names}",
        summary=payload_text(payload, "summary") or f"{names} meet {how}{where}.",
        details=tuple(d for d in (f"Format: {how}", f"Place: {place}" if place else "") if d),
    )


def _arrived(payload: JsonObject, registry: Registry) -> Description:
    envoy = registry.name(payload_text(payload, "envoy"))
    host = payload_text(payload, "host")
    headline = f"{envoy} arrives in {payload_text(payload, 'place')}"
    hosted = f", hosted by {registry.name(host)}" if host else ""
    return Description(
        headline=headline, summary=payload_text(payload, "purpose") or f"{headline}{hosted}."
    )


def _statement(payload: JsonObject, registry: Registry) -> Description:
    speaker = _speaker(payload, registry)
    return Description(
        headline=f"Statement by {speaker}",
        summary=payload_text(payload, "summary"),
        quote=payload.get("quote"),
        speaker=speaker,
    )


def _threat(payload: JsonObject, registry: Registry) -> Description:
    speaker = _speaker(payload, registry)
    return Description(
        headline=f"{speaker} threatens {registry.name(payload_text(payload, 'against'))}",
        summary=payload_text(payload, "summary"),
        quote=payload.get("quote"),
        speaker=speaker,
    )


def _measure(payload: JsonObject, registry: Registry) -> Description:
    measure = payload_text(payload, "measure").replace("-", " ")
    return Description(
        headline=f"{registry.name(payload_text(payload, 'by'))}: {measure}",
        summary=payload_text(payload, "summary"),
        quote=payload.get("quote"),
    )


def _military(payload: JsonObject, registry: Registry) -> Description:
    place = payload_text(payload, "place")
    return Description(
        headline="Military development" + (f": {place}" if place else ""),
        summary=payload_text(payload, "summary"),
        quote=payload.get("quote"),
        speaker=_speaker(payload, registry),
    )


def _affiliation(payload: JsonObject, registry: Registry) -> Description:
    actor = registry.name(payload_text(payload, "actor"))
    affiliation = payload_text(payload, "affiliation")
    now = [payload_text(payload, "role"), f"of {registry.name(affiliation)}" if affiliation else ""]
    return Description(
        headline=f"{actor}: new affiliation",
        summary=f"{actor} is now {' '.join(w for w in now if w) or 'reassigned'}.",
    )


_DESCRIBERS: Mapping[str, Callable[[JsonObject, Registry], Description]] = {
    "SourceRegistered": _source,
    "ActorRegistered": _actor,
    "ProposalTabled": _tabled,
    "ProposalAmended": _amended,
    "PositionStated": _stated,
    "ConditionRaised": _raised,
    "ConditionDropped": _dropped,
    "MeetingHeld": _met,
    "EnvoyArrived": _arrived,
    "StatementMade": _statement,
    "ThreatIssued": _threat,
    "MeasureTaken": _measure,
    "MilitaryDevelopment": _military,
    "AffiliationChanged": _affiliation,
}


def headline_of(event: EffectiveEvent, description: Description) -> str:
    """The headline, flagged when the claim is disputed."""
    return f"Disputed: {description.headline}" if event.disputed else description.headline


def group_of(event: EffectiveEvent, registry: Registry) -> str | None:
    """The party the event belongs to: that of the first of its actors that has one."""
    for actor in EVENT_TYPES[event.type].actors(event.payload):
        party = registry.party(actor)
        if party is not None:
            return party.name
    return None


def source_words(citation_source: str, quote: str | None, registry: Registry) -> str:
    """One citation as text: 'outlet — headline (date): “quote”'."""
    found = registry.sources.get(citation_source)
    said = f": “{quote}”" if quote else ""
    if found is None:
        return f"{citation_source}{said}"
    return f"{found.outlet} — {found.headline} ({found.published_on}){said}"
