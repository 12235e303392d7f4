"""Wire shapes of the read model: positions, their history and diffs, proposals, actors, sources."""

from __future__ import annotations

from enum import StrEnum
from typing import Any
from uuid import UUID

import msgspec

from api.schemas import CitationOut, CorroborationOut, Day, EventOut, Instant
from domain.positions import UNSTATED
from domain.vocabulary import Stance


class PositionStance(StrEnum):
    """A party's stance as a read states it: a stated one, or `unstated` when nothing is known."""

    PROPOSED = Stance.PROPOSED.value
    ACCEPTED = Stance.ACCEPTED.value
    CONDITIONAL = Stance.CONDITIONAL.value
    NONCOMMITTAL = Stance.NONCOMMITTAL.value
    REJECTED = Stance.REJECTED.value
    COUNTERED = Stance.COUNTERED.value
    WITHDRAWN = Stance.WITHDRAWN.value
    UNSTATED = UNSTATED


class ConditionOut(msgspec.Struct, kw_only=True):
    """An open condition, who raised it and when."""

    id: str
    text: str
    raised_by: str | None
    raised_at: Instant
    event: UUID


class VoiceOut(msgspec.Struct, kw_only=True):
    """One speaker's latest stance for the party."""

    speaker: str
    stance: PositionStance
    since: Instant
    event: UUID


class PositionState(msgspec.Struct, kw_only=True):
    """A party's position on a proposal."""

    actor: str
    proposal: str
    stance: PositionStance
    speaker: str | None
    since: Instant | None
    conditions: list[ConditionOut]
    based_on: list[UUID]
    sources: list[CitationOut]
    voices: list[VoiceOut]
    contested: bool
    disputed: list[UUID]


class PositionOut(PositionState, kw_only=True):
    """A position, with the valid and transaction times it answers for."""

    as_of: Instant
    known_at: Instant


class SegmentOut(PositionState, kw_only=True):
    """The position over a valid interval [valid_from, valid_to); valid_to null: still holds."""

    valid_from: Instant
    valid_to: Instant | None


class HistoryOut(msgspec.Struct, kw_only=True):
    """A position's changes in valid time, as known at known_at."""

    actor: str
    proposal: str
    known_at: Instant
    items: list[SegmentOut]


class HistoriesOut(msgspec.Struct, kw_only=True):
    """A page of the parties' position changes on a proposal, as known at known_at, by actor;
    `next` continues after the page."""

    proposal: str
    known_at: Instant
    items: list[HistoryOut]
    next: str | None


class Change(msgspec.Struct, kw_only=True):
    """A value before and after."""

    before: Any
    after: Any


class VoiceChange(msgspec.Struct, kw_only=True):
    """A speaker whose stance changed (null: no stance then)."""

    speaker: str
    before: PositionStance | None
    after: PositionStance | None


class DiffOut(msgspec.Struct, kw_only=True):
    """What changed in a position between two valid times, as known at known_at."""

    actor: str
    proposal: str
    from_: Instant = msgspec.field(name="from")
    to: Instant
    known_at: Instant
    changed: bool
    stance: Change | None
    speaker: Change | None
    contested: Change | None
    conditions_added: list[ConditionOut]
    conditions_removed: list[ConditionOut]
    voices: list[VoiceChange]


class ProposalSummary(msgspec.Struct, kw_only=True):
    """A proposal and its terms as of as_of."""

    id: str
    title: str
    proposer: str
    terms: list[str]
    tabled_at: str
    amended_at: Instant | None
    based_on: list[UUID]


class ProposalPage(msgspec.Struct, kw_only=True):
    """Proposals tabled by as_of, as known at known_at."""

    items: list[ProposalSummary]
    next: str | None
    as_of: Instant
    known_at: Instant


class ProposalOut(ProposalSummary, kw_only=True):
    """A proposal with every party's position."""

    positions: list[PositionState]
    as_of: Instant
    known_at: Instant


class DisputeOut(msgspec.Struct, kw_only=True):
    """A dispute aimed at an event."""

    event: UUID
    reason: str


class TimelineItem(EventOut, kw_only=True):
    """An event as it now stands: corrections applied, disputes flagged, retractions marked
    (retracted events appear only when asked for); `single_source` when exactly one outlet
    supports it."""

    corroboration: CorroborationOut
    single_source: bool
    corrected_by: list[UUID]
    disputed: bool
    disputes: list[DisputeOut]
    retracted: bool = False
    retracted_by: list[UUID] = msgspec.field(default_factory=list)


class TimelinePage(msgspec.Struct, kw_only=True):
    """Events in valid-time order; `next` continues after the last item."""

    items: list[TimelineItem]
    next: str | None
    known_at: Instant


class ActorOut(msgspec.Struct, kw_only=True):
    """An actor as of as_of: name, kind, affiliation, role, authority."""

    id: str
    name: str
    kind: str
    affiliation: str | None
    role: str | None
    authority: str | None
    wikidata: str | None
    since: Instant
    based_on: list[UUID]


class ActorDetailOut(ActorOut, kw_only=True):
    """One actor, with the valid and transaction times it answers for."""

    as_of: Instant
    known_at: Instant


class ActorPage(msgspec.Struct, kw_only=True):
    """Actors registered by as_of."""

    items: list[ActorOut]
    next: str | None
    as_of: Instant
    known_at: Instant


class TextMetaOut(msgspec.Struct, kw_only=True):
    """That a source has a text, and which (the text itself is served only to a key with the
    `sources:text` scope, at /v1/sources/{source}/text)."""

    sha256: str
    characters: int
    attached_at: Instant


class SourceOut(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A registered source; `text` when an article's text is attached to it."""

    id: str
    outlet: str
    headline: str
    published_on: Day
    registered_by: UUID
    author: str | None = None
    url: str | None = None
    language: str | None = None
    reliability: dict[str, Any] | None = None
    text: TextMetaOut | None = None


class SourcePage(msgspec.Struct, kw_only=True):
    """Sources registered by known_at."""

    items: list[SourceOut]
    next: str | None
    known_at: Instant


class SourceDetailOut(SourceOut, kw_only=True):
    """A source and one page of the events that cite it; `next` continues after the page."""

    cited_by: list[EventOut]
    next: str | None
    known_at: Instant
