"""The payload of every event type, one frozen struct per schema version."""

# mypy reads msgspec subclasses of a frozen Struct as non-frozen dataclasses (they are frozen).
# mypy: disable-error-code="misc"
from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec

from domain.vocabulary import (
    ActorKind,
    Authority,
    LanguageTag,
    MeetingFormat,
    Quote,
    ShortText,
    Slug,
    Stance,
    Text,
    Url,
    WikidataId,
)


class Payload(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True
):
    """Base of every payload: immutable, strict, unknown fields refused."""


class Reliability(Payload):
    """Admiralty grading: source reliability (A to F), information credibility (1 to 6)."""

    source: Literal["A", "B", "C", "D", "E", "F"]
    information: Literal[1, 2, 3, 4, 5, 6]


class Condition(Payload):
    """A condition a party attaches to its stance."""

    id: Slug
    text: Text


class SourceRegistered(Payload):
    """A publication that events can cite."""

    source: Slug
    outlet: ShortText
    headline: Text
    published_on: date
    author: ShortText | None = None
    url: Url | None = None
    language: LanguageTag | None = None
    reliability: Reliability | None = None


Sha256 = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^[0-9a-f]{64}$(?!\n)",
        description="The SHA-256 of a text's UTF-8 bytes, as 64 lower-case hex digits.",
    ),
]


class SourceTextAttached(Payload):
    """An article's text attached to a registered source (replacing any before it): the text
    is kept beside the log, content-addressed; the log holds its hash, so the chain covers it."""

    source: Slug
    sha256: Sha256
    characters: Annotated[int, msgspec.Meta(ge=1, description="Its length in characters.")]


class ActorRegistered(Payload):
    """A state, organisation or person that takes part."""

    actor: Slug
    name: ShortText
    kind: ActorKind
    affiliation: Slug | None = None
    role: ShortText | None = None
    authority: Authority | None = None
    wikidata: WikidataId | None = None


class AffiliationChanged(Payload):
    """A person's party, role or authority changed."""

    actor: Slug
    affiliation: Slug | None = None
    role: ShortText | None = None
    authority: Authority | None = None


Terms = Annotated[tuple[Text, ...], msgspec.Meta(min_length=1, max_length=100)]


class ProposalTabled(Payload):
    """A negotiable proposal was put on the table."""

    proposal: Slug
    title: ShortText
    proposer: Slug
    terms: Terms


class ProposalAmended(Payload):
    """A proposal's terms changed."""

    proposal: Slug
    terms: Terms
    amended_by: Slug | None = None
    summary: Text | None = None


Conditions = Annotated[tuple[Condition, ...], msgspec.Meta(max_length=100)]


class PositionStated(Payload):
    """A party's stance on a proposal, as stated by a speaker; `conditions` replaces the set."""

    actor: Slug
    proposal: Slug
    stance: Stance
    speaker: Slug | None = None
    conditions: Conditions | None = None
    quote: Quote | None = None


class ConditionRaised(Payload):
    """A party added a condition to its stance on a proposal."""

    actor: Slug
    proposal: Slug
    condition: Condition
    speaker: Slug | None = None
    quote: Quote | None = None


class ConditionDropped(Payload):
    """A party dropped one of its conditions."""

    actor: Slug
    proposal: Slug
    condition_id: Slug
    speaker: Slug | None = None
    quote: Quote | None = None


Participants = Annotated[tuple[Slug, ...], msgspec.Meta(min_length=2, max_length=100)]


class MeetingHeldV1(Payload):
    """Schema version 1 of MeetingHeld: `location` and `medium`, renamed in version 2."""

    participants: Participants
    medium: MeetingFormat
    location: ShortText | None = None


class MeetingHeld(Payload):
    """Participants met in person, by call or by video."""

    participants: Participants
    format: MeetingFormat
    place: ShortText | None = None
    proposal: Slug | None = None
    summary: Text | None = None


class EnvoyArrived(Payload):
    """An envoy arrived somewhere, perhaps as someone's guest."""

    envoy: Slug
    place: ShortText
    host: Slug | None = None
    purpose: Text | None = None


About = Annotated[tuple[Slug, ...], msgspec.Meta(max_length=100)]


class StatementMade(Payload):
    """Someone said something on the record."""

    speaker: Slug
    summary: Text
    quote: Quote | None = None
    about: About = ()
    proposal: Slug | None = None


class ThreatIssued(Payload):
    """Someone threatened consequences."""

    speaker: Slug
    against: Slug
    summary: Text
    quote: Quote | None = None
    proposal: Slug | None = None


class MeasureTaken(Payload):
    """A party acted: aid suspended or resumed, sanctions, a commitment made."""

    by: Slug
    measure: Slug
    summary: Text
    target: Slug | None = None
    quote: Quote | None = None
    proposal: Slug | None = None


Actors = Annotated[tuple[Slug, ...], msgspec.Meta(min_length=1, max_length=100)]


class MilitaryDevelopment(Payload):
    """Something happened on the battlefield."""

    actors: Actors
    summary: Text
    place: ShortText | None = None
    speaker: Slug | None = None
    quote: Quote | None = None


Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]


class EventCorrected(Payload):
    """An earlier event's valid time or payload, replaced; the original stays in the log."""

    target: UUID
    reason: Reason
    occurred_at: Annotated[str, msgspec.Meta(min_length=1, max_length=100)] | None = None
    timezone: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] | None = None
    payload: dict[str, Any] | None = None


class EventRetracted(Payload):
    """An earlier event withdrawn from the record, with the reason."""

    target: UUID
    reason: Reason


class EventDisputed(Payload):
    """An earlier event flagged as doubtful; it stays in the record."""

    target: UUID
    reason: Reason
