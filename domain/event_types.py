"""The catalogue of event types: schema versions, upcasters, default codes, actors named."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import msgspec

from domain import payloads as p
from domain.errors import UnknownEventType, UnsupportedSchemaVersion
from domain.vocabulary import MeetingFormat, Stance

JsonObject = dict[str, Any]
Upcaster = Callable[[JsonObject], JsonObject]


class Kind(StrEnum):
    """Registrations set the cast; world events need sources; editorial events target others."""

    REGISTRATION = "registration"
    WORLD = "world"
    EDITORIAL = "editorial"


@dataclass(frozen=True, slots=True, kw_only=True)
class Codes:
    """CAMEO and PLOVER classification of an event."""

    cameo: str | None = None
    plover: str | None = None
    plover_mode: str | None = None


NO_CODES = Codes()


@dataclass(frozen=True, slots=True, kw_only=True)
class EventType:
    """One event type: its payload struct per schema version and the rules that read it."""

    name: str
    kind: Kind
    versions: Mapping[int, type[p.Payload]]
    upcasters: Mapping[int, Upcaster] = field(default_factory=dict)
    actor_fields: tuple[str, ...] = ()
    default_codes: Callable[[JsonObject], Codes] = lambda _payload: NO_CODES

    @property
    def current_version(self) -> int:
        """The newest schema version; everything stored is read as this one."""
        return max(self.versions)

    def payload_type(self, version: int) -> type[p.Payload]:
        """The struct for one schema version."""
        try:
            return self.versions[version]
        except KeyError:
            known = ", ".join(str(v) for v in sorted(self.versions))
            raise UnsupportedSchemaVersion(
                f"{self.name} has no schema version {version} (known: {known})",
                field="schema_version",
            ) from None

    def upcast(self, version: int, payload: JsonObject) -> JsonObject:
        """A stored payload of any version, read as the current version."""
        self.payload_type(version)
        for step in range(version, self.current_version):
            payload = self.upcasters[step](payload)
        return payload

    def actors(self, payload: JsonObject) -> tuple[str, ...]:
        """The actors an event of this type is about, in field order, without repeats."""
        found: list[str] = []
        for name in self.actor_fields:
            value = payload.get(name)
            values = value if isinstance(value, list | tuple) else [value]
            found.extend(v for v in values if isinstance(v, str) and v not in found)
        return tuple(found)


def _meeting_v1_to_v2(payload: JsonObject) -> JsonObject:
    upgraded = {k: v for k, v in payload.items() if k not in ("medium", "location")}
    upgraded["format"] = payload["medium"]
    if payload.get("location") is not None:
        upgraded["place"] = payload["location"]
    return upgraded


_STANCE_CODES = {
    Stance.PROPOSED: Codes(cameo="036", plover="REQUEST"),
    Stance.ACCEPTED: Codes(cameo="030", plover="AGREE"),
    Stance.CONDITIONAL: Codes(cameo="030", plover="AGREE", plover_mode="conditional"),
    Stance.NONCOMMITTAL: Codes(cameo="010"),
    Stance.REJECTED: Codes(cameo="127", plover="REJECT"),
    Stance.COUNTERED: Codes(cameo="036", plover="REQUEST", plover_mode="counter"),
    Stance.WITHDRAWN: Codes(cameo="120", plover="REJECT", plover_mode="withdraw"),
}

_MEETING_CODES = {
    MeetingFormat.CALL: Codes(cameo="041", plover="CONSULT", plover_mode="phone"),
    MeetingFormat.VIDEO: Codes(cameo="041", plover="CONSULT", plover_mode="phone"),
    MeetingFormat.IN_PERSON: Codes(cameo="040", plover="CONSULT", plover_mode="meet"),
}


def _fixed(codes: Codes) -> Callable[[JsonObject], Codes]:
    return lambda _payload: codes


def _by_stance(payload: JsonObject) -> Codes:
    return _STANCE_CODES.get(Stance(payload["stance"]), NO_CODES)


def _by_format(payload: JsonObject) -> Codes:
    return _MEETING_CODES.get(MeetingFormat(payload["format"]), NO_CODES)


def _type(payload: type[p.Payload], kind: Kind, *actor_fields: str, **rules: Any) -> EventType:
    return EventType(
        name=payload.__name__,
        kind=kind,
        versions=rules.pop("versions", {1: payload}),
        actor_fields=actor_fields,
        **rules,
    )


_TYPES = (
    _type(p.SourceRegistered, Kind.REGISTRATION),
    _type(p.SourceTextAttached, Kind.REGISTRATION),
    _type(p.ActorRegistered, Kind.REGISTRATION, "actor", "affiliation"),
    _type(p.AffiliationChanged, Kind.WORLD, "actor", "affiliation"),
    _type(
        p.ProposalTabled,
        Kind.WORLD,
        "proposer",
        default_codes=_fixed(Codes(cameo="036", plover="REQUEST")),
    ),
    _type(
        p.ProposalAmended,
        Kind.WORLD,
        "amended_by",
        default_codes=_fixed(Codes(cameo="036", plover="REQUEST")),
    ),
    _type(p.PositionStated, Kind.WORLD, "actor", "speaker", default_codes=_by_stance),
    _type(
        p.ConditionRaised,
        Kind.WORLD,
        "actor",
        "speaker",
        default_codes=_fixed(Codes(cameo="100", plover="REQUEST", plover_mode="demand")),
    ),
    _type(
        p.ConditionDropped,
        Kind.WORLD,
        "actor",
        "speaker",
        default_codes=_fixed(Codes(cameo="080", plover="CONCEDE")),
    ),
    _type(
        p.MeetingHeld,
        Kind.WORLD,
        "participants",
        versions={1: p.MeetingHeldV1, 2: p.MeetingHeld},
        upcasters={1: _meeting_v1_to_v2},
        default_codes=_by_format,
    ),
    _type(
        p.EnvoyArrived,
        Kind.WORLD,
        "envoy",
        "host",
        default_codes=_fixed(Codes(cameo="042", plover="CONSULT", plover_mode="visit")),
    ),
    _type(
        p.StatementMade, Kind.WORLD, "speaker", "about", default_codes=_fixed(Codes(cameo="010"))
    ),
    _type(
        p.ThreatIssued,
        Kind.WORLD,
        "speaker",
        "against",
        default_codes=_fixed(Codes(cameo="130", plover="THREATEN")),
    ),
    _type(p.MeasureTaken, Kind.WORLD, "by", "target"),
    _type(
        p.MilitaryDevelopment,
        Kind.WORLD,
        "actors",
        "speaker",
        default_codes=_fixed(Codes(cameo="190", plover="ASSAULT")),
    ),
    _type(p.EventCorrected, Kind.EDITORIAL),
    _type(p.EventRetracted, Kind.EDITORIAL),
    _type(p.EventDisputed, Kind.EDITORIAL),
)

EVENT_TYPES: Mapping[str, EventType] = {t.name: t for t in _TYPES}


def event_type(name: str) -> EventType:
    """The event type of that name, or UnknownEventType naming the known ones."""
    try:
        return EVENT_TYPES[name]
    except KeyError:
        raise UnknownEventType(
            f"unknown event type {name!r}; known types: {', '.join(EVENT_TYPES)}", field="type"
        ) from None


def payload_schema(payload_type: type[p.Payload]) -> JsonObject:
    """The JSON Schema of one payload struct."""
    schema: JsonObject = msgspec.json.schema(payload_type)
    return schema
