"""PLOVER (0.7b1) event records, one per event with a PLOVER category, for JSON Lines: who
acts on whom, when, with CAMEO codes, Wikidata ids and the citations."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from domain.editorial import EffectiveEvent
from domain.event_types import EVENT_TYPES, JsonObject
from domain.exports.dates import CLOCK_PRECISIONS, Span, span_of, zone_label
from domain.exports.describe import describe, payload_text
from domain.exports.registry import ExportEvent, Registry
from domain.valid_time import format_instant

# Who acts (PLOVER `source`) and who is acted on (`recipient`), by payload field. Meetings and
# fighting are reciprocal: every party is a source and there is no recipient (PLOVER 0.7b1).
_ROLES: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "ProposalTabled": (("proposer",), ()),
    "ProposalAmended": (("amended_by",), ()),
    "PositionStated": (("actor",), ()),
    "ConditionRaised": (("actor",), ()),
    "ConditionDropped": (("actor",), ()),
    "MeetingHeld": (("participants",), ()),
    "EnvoyArrived": (("envoy",), ("host",)),
    "StatementMade": (("speaker",), ("about",)),
    "ThreatIssued": (("speaker",), ("against",)),
    "MeasureTaken": (("by",), ("target",)),
    "MilitaryDevelopment": (("actors",), ()),
    "AffiliationChanged": (("actor",), ("affiliation",)),
}
# A party's answer to a proposal is aimed at whoever proposed it.
_ANSWERS = frozenset({"PositionStated", "ConditionRaised", "ConditionDropped"})


def plover_record(event: ExportEvent, registry: Registry) -> dict[str, Any] | None:
    """A PLOVER (0.7b1 JSON fields) record of an event with a PLOVER category, else None.

    Beyond PLOVER's own fields: `cameo`, `precision`, `qualifiers`, `occurred_at`, `timezone`,
    `type`, `disputed`, `disputes`, `corrected_by`, and `speaker` (who spoke for the source)."""
    if not event.codes.plover:
        return None
    effective = event.event
    payload = effective.payload
    span = span_of(effective.valid_time)
    description = describe(effective, registry)
    sources, recipients = _parties(effective, registry)
    record: dict[str, Any] = {"id": str(effective.id), **_plover_dates(span)}
    record.update(
        precision=str(span.start_precision),
        qualifiers=list(span.qualifiers),
        occurred_at=effective.valid_time.expression,
        timezone=effective.valid_time.timezone,
        source=[actor_object(a, registry) for a in sources],
        recipient=[actor_object(a, registry) for a in recipients],
        event=[event.codes.plover],
        mode=event.codes.plover_mode,
        context=[],
        cameo=event.codes.cameo,
        type=effective.type,
        text=description.summary or description.headline,
        event_text=[description.quote] if description.quote else [],
        link=payload_text(payload, "proposal") or None,
        cite_info=[_citation(c.source, c.quote, registry) for c in effective.event.sources],
        disputed=effective.disputed,
        disputes=[d.reason for d in effective.disputes],
        corrected_by=[str(c) for c in effective.corrected_by],
        coded_date=format_instant(effective.event.recorded_at)[:10],
        coded_time=format_instant(effective.event.recorded_at)[11:],
    )
    speaker = payload_text(payload, "speaker")
    if speaker:
        record["speaker"] = actor_object(speaker, registry)
    place = payload_text(payload, "place")
    if place:
        record["event_loc"] = {"name": place}
    return record


def _plover_dates(span: Span) -> dict[str, str]:
    """`date` and `time` (so that date + 'T' + time is ISO 8601), and the end when a range."""
    dates = {"date": span.start.date().isoformat()}
    if span.start_precision in CLOCK_PRECISIONS:
        dates["time"] = _iso_time(span.start)
    if span.has_end:
        dates["enddate"] = span.end.date().isoformat()
        if span.end_precision in CLOCK_PRECISIONS:
            dates["endtime"] = _iso_time(span.end)
    return dates


def _iso_time(moment: datetime) -> str:
    offset = zone_label(moment).removeprefix("UTC") or "Z"
    return f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}{offset}"


def _parties(event: EffectiveEvent, registry: Registry) -> tuple[list[str], list[str]]:
    payload = event.payload
    source_fields, recipient_fields = _ROLES.get(
        event.type, (EVENT_TYPES[event.type].actor_fields, ())
    )
    sources = _slugs(payload, source_fields)
    recipients = [r for r in _slugs(payload, recipient_fields) if r not in sources]
    if event.type in _ANSWERS:
        proposal = registry.proposals.get(payload_text(payload, "proposal"))
        if proposal is not None and proposal.proposer not in sources:
            recipients.append(proposal.proposer)
    return sources, recipients


def _slugs(payload: JsonObject, fields: Sequence[str]) -> list[str]:
    found: list[str] = []
    for name in fields:
        value = payload.get(name)
        values = value if isinstance(value, list | tuple) else [value]
        found.extend(v for v in values if isinstance(v, str) and v and v not in found)
    return found


def actor_object(actor: str, registry: Registry) -> dict[str, Any]:
    """A PLOVER actor object: `actor_text` the registered name, `identifier_id` its Wikidata id
    (null when the registry has none); `id` and `party` are this service's slugs."""
    found = registry.actors.get(actor)
    party = registry.party(actor)
    return {
        "id": actor,
        "actor_text": registry.name(actor),
        "identifier_id": found.wikidata if found is not None else None,
        "party": party.id if party is not None else None,
    }


def _citation(source: str, quote: str | None, registry: Registry) -> dict[str, Any]:
    """A PLOVER citation object (`cite_info`), with the quote the event rests on."""
    found = registry.sources.get(source)
    if found is None:
        return {"citation": source, "quote": quote}
    return {
        "citation": source,
        "publication": found.outlet,
        "title": found.headline,
        "published_on": found.published_on,
        "url": found.url,
        "language": found.language,
        "quote": quote,
    }
