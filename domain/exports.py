"""Exports for other tools: TimelineJS slides, spreadsheet rows and PLOVER event records.

Pure: from events as they now stand (corrections applied, retractions gone, disputes attached)
and the actor, source and proposal registries, to plain dicts and strings. The HTTP layer reads
the log and writes the bytes.

Dates are shown where the event happened: a date-only valid time in its own timezone, a datetime
at the offset it was written with. TimelineJS and spreadsheets know no timezones, so the offset
goes into the display date.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from enum import StrEnum
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

from domain.actors import actors_as_of, proposals_as_of
from domain.editorial import EffectiveEvent
from domain.errors import InvalidValidTime
from domain.event_types import EVENT_TYPES, Codes, JsonObject, Kind
from domain.valid_time import Precision, ValidTime, format_instant, parse_valid_time

END_OF_TIME = datetime.max.replace(tzinfo=UTC)
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
# Precision is declared coarsest first, so its members line up with a datetime's fields.
DATE_FIELDS = ("year", "month", "day", "hour", "minute", "second")
CLOCK_PRECISIONS = frozenset({Precision.HOUR, Precision.MINUTE, Precision.SECOND})
PARTY_KINDS = frozenset({"state", "organization"})
# Ranges are written with an en dash: closed up between numbers, spaced between phrases.
DASH = "\u2013"
SPACED_DASH = f" {DASH} "


class CsvLayout(StrEnum):
    """The columns of a CSV export: the events as data, or TimelineJS's spreadsheet template."""

    EVENTS = "events"
    TIMELINEJS = "timelinejs"


EVENT_COLUMNS = (
    "id",
    "position",
    "stream",
    "type",
    "occurred_at",
    "timezone",
    "valid_from",
    "valid_to",
    "precision",
    "qualifiers",
    "display_date",
    "actors",
    "group",
    "proposal",
    "headline",
    "summary",
    "details",
    "quote",
    "cameo",
    "plover",
    "plover_mode",
    "disputed",
    "disputes",
    "corrected_by",
    "sources",
    "source_ids",
    "recorded_at",
)
# Exactly the columns of TimelineJS's Google Sheets template, in its order.
TEMPLATE_COLUMNS = (
    "Year",
    "Month",
    "Day",
    "Time",
    "End Year",
    "End Month",
    "End Day",
    "End Time",
    "Display Date",
    "Headline",
    "Text",
    "Media",
    "Media Credit",
    "Media Caption",
    "Media Thumbnail",
    "Type",
    "Group",
    "Background",
)
LIST_SEPARATOR = "; "
# Quotes may hold semicolons; a source entry is ended by a pipe, which they rarely do.
SOURCE_SEPARATOR = " | "

_DATETIME_END = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt]")
_OFFSET = re.compile(r"(?:([Zz])|([+-])([0-9]{2}):([0-9]{2}))$")
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_GUARD = "'"


# The registries an export resolves names, parties, sources and proposals against


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
    actors = {
        slug: ActorInfo(
            id=slug,
            name=str(actor["name"]),
            kind=str(actor["kind"]),
            affiliation=actor.get("affiliation"),
            wikidata=actor.get("wikidata"),
        )
        for slug, actor in actors_as_of(events, when).items()
    }
    proposals = {
        slug: ProposalInfo(
            id=slug,
            title=str(proposal["title"]),
            proposer=str(proposal["proposer"]),
            terms=tuple(str(term) for term in proposal["terms"]),
        )
        for slug, proposal in proposals_as_of(events, when).items()
    }
    sources = {
        str(e.payload["source"]): _source_info(e.payload)
        for e in events
        if e.type == "SourceRegistered"
    }
    return Registry(actors=actors, sources=sources, proposals=proposals)


def _source_info(payload: JsonObject) -> SourceInfo:
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


# Valid time as people read it


@dataclass(frozen=True, slots=True, kw_only=True)
class Span:
    """A valid time where it happened: its first and last instants in local time, each at the
    precision its end was written with, and its qualifiers."""

    start: datetime
    start_precision: Precision
    end: datetime
    end_precision: Precision
    qualifiers: tuple[str, ...] = ()

    @property
    def start_parts(self) -> dict[str, int]:
        """The start as date parts, down to its precision."""
        return date_parts(self.start, self.start_precision)

    @property
    def end_parts(self) -> dict[str, int]:
        """The end as date parts, down to its precision."""
        return date_parts(self.end, self.end_precision)

    @property
    def has_end(self) -> bool:
        """Whether the valid time runs past the unit it starts in (a range, not one day)."""
        return self.start_parts != self.end_parts

    @property
    def uncertain(self) -> bool:
        """Whether a reader needs words, not just a date: a range, a qualifier, or anything
        coarser than a second."""
        return self.has_end or bool(self.qualifiers) or self.start_precision != Precision.SECOND


def span_of(valid_time: ValidTime) -> Span:
    """The local reading of a valid time."""
    ends = valid_time.expression.split("/")
    first, last = ends[0], ends[-1]
    start_precision = end_precision = valid_time.precision
    if len(ends) == 2:
        start_precision = _end_precision(first, valid_time)
        end_precision = _end_precision(last, valid_time)
    return Span(
        start=valid_time.earliest.astimezone(_frame(first, valid_time.timezone)),
        start_precision=start_precision,
        end=valid_time.latest.astimezone(_frame(last, valid_time.timezone)),
        end_precision=end_precision,
        qualifiers=valid_time.qualifiers(),
    )


def _frame(end: str, zone: str) -> tzinfo:
    """Where one written end is read: the offset a datetime carries, else the event's zone."""
    if not _DATETIME_END.match(end):
        return ZoneInfo(zone)
    offset = _OFFSET.search(end)
    if offset is None or offset.group(1):
        return UTC
    sign, hours, minutes = offset.group(2), int(offset.group(3)), int(offset.group(4))
    shift = timedelta(hours=hours, minutes=minutes)
    return timezone(-shift if sign == "-" else shift)


def _end_precision(end: str, valid_time: ValidTime) -> Precision:
    try:
        return parse_valid_time(end, valid_time.timezone).precision
    except InvalidValidTime:
        # Some ends are valid only inside an interval (a qualified season): the whole will do.
        return valid_time.precision


def date_parts(moment: datetime, precision: Precision) -> dict[str, int]:
    """A local moment as TimelineJS date parts, down to a precision and no further."""
    count = list(Precision).index(precision) + 1
    return {field: int(getattr(moment, field)) for field in DATE_FIELDS[:count]}


def display_date(span: Span) -> str:
    """A valid time in words: '11 March 2025', 'March 2025 (approximate)', '11 March 2025,
    09:00 UTC+03:00'; ranges joined by an en dash."""
    text = _range_words(span)
    return f"{text} ({', '.join(span.qualifiers)})" if span.qualifiers else text


def _range_words(span: Span) -> str:
    a, b = span.start, span.end
    pa, pb = span.start_precision, span.end_precision
    if pa in CLOCK_PRECISIONS and pb in CLOCK_PRECISIONS:
        return _clock_range_words(span)
    if not span.has_end:
        return _date_words(a, pa)
    if pa == pb == Precision.DAY and (a.year, a.month) == (b.year, b.month):
        return f"{a.day}{DASH}{b.day} {MONTHS[a.month - 1]} {a.year}"
    if pa == pb == Precision.DAY and a.year == b.year:
        return f"{a.day} {MONTHS[a.month - 1]}{SPACED_DASH}{b.day} {MONTHS[b.month - 1]} {a.year}"
    if pa == pb == Precision.MONTH and a.year == b.year:
        return f"{MONTHS[a.month - 1]}{DASH}{MONTHS[b.month - 1]} {a.year}"
    if pa == pb == Precision.YEAR:
        return f"{a.year}{DASH}{b.year}"
    return f"{_date_words(a, pa)}{SPACED_DASH}{_date_words(b, pb)}"


def _clock_range_words(span: Span) -> str:
    a, b = span.start, span.end
    first, last = clock(a, span.start_precision), clock(b, span.end_precision)
    if a.date() == b.date() and a.utcoffset() == b.utcoffset():
        times = first if first == last else f"{first}{DASH}{last}"
        return f"{_date_words(a, Precision.DAY)}, {times} {zone_label(a)}"
    return (
        f"{_date_words(a, Precision.DAY)}, {first} {zone_label(a)}{SPACED_DASH}"
        f"{_date_words(b, Precision.DAY)}, {last} {zone_label(b)}"
    )


def _date_words(moment: datetime, precision: Precision) -> str:
    if precision == Precision.YEAR:
        return str(moment.year)
    if precision == Precision.MONTH:
        return f"{MONTHS[moment.month - 1]} {moment.year}"
    return f"{moment.day} {MONTHS[moment.month - 1]} {moment.year}"


def clock(moment: datetime, precision: Precision) -> str:
    """The local time of day: to the second when written so, else to the minute (the last
    minute of a range written to the hour is its :59)."""
    if precision == Precision.SECOND:
        return f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}"
    return f"{moment.hour:02d}:{moment.minute:02d}"


def zone_label(moment: datetime) -> str:
    """'UTC', or 'UTC+03:00' / 'UTC-04:00'."""
    offset = moment.utcoffset() or timedelta(0)
    if not offset:
        return "UTC"
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(offset) // timedelta(minutes=1)
    return f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"


# What an event says, in words


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
    return Description(headline=event.type, summary=_text(payload, "summary"))


def _text(payload: JsonObject, field: str) -> str:
    value = payload.get(field)
    return value if isinstance(value, str) else ""


def _names(registry: Registry, slugs: Any) -> str:
    found = slugs if isinstance(slugs, list | tuple) else [slugs]
    return ", ".join(registry.name(str(s)) for s in found if s)


def _proposal_title(payload: JsonObject, registry: Registry) -> str:
    slug = _text(payload, "proposal")
    found = registry.proposals.get(slug)
    return found.title if found is not None else slug


def _speaker(payload: JsonObject, registry: Registry) -> str | None:
    speaker = _text(payload, "speaker")
    return registry.name(speaker) if speaker else None


def _tabled(payload: JsonObject, registry: Registry) -> Description:
    return Description(
        headline=f"Proposal tabled: {_text(payload, 'title')}",
        summary=f"{registry.name(_text(payload, 'proposer'))} tables the proposal.",
        details=tuple(f"Term: {t}" for t in payload.get("terms") or ()),
    )


def _amended(payload: JsonObject, registry: Registry) -> Description:
    by = _text(payload, "amended_by")
    return Description(
        headline=f"Proposal amended: {_proposal_title(payload, registry)}",
        summary=_text(payload, "summary") or (f"Amended by {registry.name(by)}." if by else ""),
        details=tuple(f"Term: {t}" for t in payload.get("terms") or ()),
    )


def _stated(payload: JsonObject, registry: Registry) -> Description:
    party = registry.name(_text(payload, "actor"))
    stance = _text(payload, "stance")
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
        headline=f"{registry.name(_text(payload, 'actor'))} raises a condition",
        summary=text,
        quote=payload.get("quote"),
        speaker=_speaker(payload, registry),
    )


def _dropped(payload: JsonObject, registry: Registry) -> Description:
    return Description(
        headline=f"{registry.name(_text(payload, 'actor'))} drops a condition",
        summary=f"Condition “{_text(payload, 'condition_id')}” dropped.",
        quote=payload.get("quote"),
        speaker=_speaker(payload, registry),
    )


def _met(payload: JsonObject, registry: Registry) -> Description:
    names = _names(registry, payload.get("participants"))
    how = FORMAT_WORDS.get(_text(payload, "format"), _text(payload, "format"))
    place = _text(payload, "place")
    where = f" in {place}" if place else ""
    return Description(
        headline=f"Meeting: {names}",
        summary=_text(payload, "summary") or f"{names} meet {how}{where}.",
        details=tuple(d for d in (f"Format: {how}", f"Place: {place}" if place else "") if d),
    )


def _arrived(payload: JsonObject, registry: Registry) -> Description:
    envoy = registry.name(_text(payload, "envoy"))
    host = _text(payload, "host")
    headline = f"{envoy} arrives in {_text(payload, 'place')}"
    hosted = f", hosted by {registry.name(host)}" if host else ""
    return Description(
        headline=headline, summary=_text(payload, "purpose") or f"{headline}{hosted}."
    )


def _statement(payload: JsonObject, registry: Registry) -> Description:
    speaker = _speaker(payload, registry)
    return Description(
        headline=f"Statement by {speaker}",
        summary=_text(payload, "summary"),
        quote=payload.get("quote"),
        speaker=speaker,
    )


def _threat(payload: JsonObject, registry: Registry) -> Description:
    speaker = _speaker(payload, registry)
    return Description(
        headline=f"{speaker} threatens {registry.name(_text(payload, 'against'))}",
        summary=_text(payload, "summary"),
        quote=payload.get("quote"),
        speaker=speaker,
    )


def _measure(payload: JsonObject, registry: Registry) -> Description:
    measure = _text(payload, "measure").replace("-", " ")
    return Description(
        headline=f"{registry.name(_text(payload, 'by'))}: {measure}",
        summary=_text(payload, "summary"),
        quote=payload.get("quote"),
    )


def _military(payload: JsonObject, registry: Registry) -> Description:
    place = _text(payload, "place")
    return Description(
        headline="Military development" + (f": {place}" if place else ""),
        summary=_text(payload, "summary"),
        quote=payload.get("quote"),
        speaker=_speaker(payload, registry),
    )


def _affiliation(payload: JsonObject, registry: Registry) -> Description:
    actor = registry.name(_text(payload, "actor"))
    affiliation = _text(payload, "affiliation")
    now = [_text(payload, "role"), f"of {registry.name(affiliation)}" if affiliation else ""]
    return Description(
        headline=f"{actor}: new affiliation",
        summary=f"{actor} is now {' '.join(w for w in now if w) or 'reassigned'}.",
    )


_DESCRIBERS: Mapping[str, Callable[[JsonObject, Registry], Description]] = {
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


# TimelineJS


def timelinejs(events: Sequence[ExportEvent], registry: Registry, proposal: str) -> dict[str, Any]:
    """A TimelineJS document: the proposal as its title slide, one slide per event."""
    return {
        "title": {"text": title_text(proposal, registry)},
        "events": [slide(e, registry) for e in events],
    }


def title_text(proposal: str, registry: Registry) -> dict[str, str]:
    """The title slide's headline and HTML text: the terms and who proposed them."""
    found = registry.proposals.get(proposal)
    if found is None:
        return {
            "headline": escape(proposal),
            "text": "<p>Not tabled as of this export's valid and transaction times.</p>",
        }
    terms = "".join(f"<li>{escape(t)}</li>" for t in found.terms)
    return {
        "headline": escape(found.title),
        "text": f"<ul>{terms}</ul><p>Proposed by {escape(registry.name(found.proposer))}.</p>",
    }


def slide(event: ExportEvent, registry: Registry) -> dict[str, Any]:
    """One TimelineJS slide: dates to the event's precision, HTML text citing its sources."""
    effective = event.event
    span = span_of(effective.valid_time)
    description = describe(effective, registry)
    out: dict[str, Any] = {"unique_id": str(effective.id), "start_date": span.start_parts}
    if span.has_end:
        out["end_date"] = span.end_parts
    if span.uncertain:
        out["display_date"] = display_date(span)
    out["text"] = {
        "headline": escape(headline_of(effective, description)),
        "text": html_text(effective, description, registry),
    }
    group = group_of(effective, registry)
    if group is not None:
        out["group"] = escape(group)
    return out


def html_text(event: EffectiveEvent, description: Description, registry: Registry) -> str:
    """The slide's text as HTML, every value escaped: doubts first, then what happened, the
    quote, and the sources with their quotes."""
    parts = [f"<p><strong>Disputed:</strong> {escape(d.reason)}</p>" for d in event.disputes]
    if event.corrected_by:
        parts.append("<p><em>Corrected since first recorded; shown as corrected.</em></p>")
    if description.summary:
        parts.append(f"<p>{escape(description.summary)}</p>")
    if description.details:
        items = "".join(f"<li>{escape(d)}</li>" for d in description.details)
        parts.append(f"<ul>{items}</ul>")
    if description.quote:
        by = f" — {escape(description.speaker)}" if description.speaker else ""
        parts.append(f"<blockquote>“{escape(description.quote)}”{by}</blockquote>")
    cited = "".join(
        f"<li>{_source_html(c.source, c.quote, registry)}</li>" for c in event.event.sources
    )
    if cited:
        parts.append(f"<p>Sources:</p><ul>{cited}</ul>")
    return "".join(parts)


def _source_html(source: str, quote: str | None, registry: Registry) -> str:
    found = registry.sources.get(source)
    said = f": “{escape(quote)}”" if quote else ""
    if found is None:
        return f"{escape(source)}{said}"
    outlet = escape(found.outlet)
    if found.url and found.url.startswith(("https://", "http://")):
        outlet = f'<a href="{escape(found.url)}" rel="noopener noreferrer">{outlet}</a>'
    return f"{outlet}, <cite>{escape(found.headline)}</cite> ({escape(found.published_on)}){said}"


# Spreadsheets


def event_row(event: ExportEvent, registry: Registry) -> dict[str, str]:
    """One event as a row of EVENT_COLUMNS, lists joined into one cell each."""
    effective = event.event
    valid_time = effective.valid_time
    span = span_of(valid_time)
    description = describe(effective, registry)
    citations = effective.event.sources
    return {
        "id": str(effective.id),
        "position": str(effective.position),
        "stream": event.stream,
        "type": effective.type,
        "occurred_at": valid_time.expression,
        "timezone": valid_time.timezone,
        "valid_from": format_instant(valid_time.earliest),
        "valid_to": format_instant(valid_time.latest),
        "precision": str(valid_time.precision),
        "qualifiers": LIST_SEPARATOR.join(valid_time.qualifiers()),
        "display_date": display_date(span),
        "actors": LIST_SEPARATOR.join(EVENT_TYPES[effective.type].actors(effective.payload)),
        "group": group_of(effective, registry) or "",
        "proposal": _text(effective.payload, "proposal"),
        "headline": headline_of(effective, description),
        "summary": description.summary,
        "details": SOURCE_SEPARATOR.join(description.details),
        "quote": description.quote or "",
        "cameo": event.codes.cameo or "",
        "plover": event.codes.plover or "",
        "plover_mode": event.codes.plover_mode or "",
        "disputed": "true" if effective.disputed else "false",
        "disputes": SOURCE_SEPARATOR.join(d.reason for d in effective.disputes),
        "corrected_by": LIST_SEPARATOR.join(str(c) for c in effective.corrected_by),
        "sources": SOURCE_SEPARATOR.join(
            source_words(c.source, c.quote, registry) for c in citations
        ),
        "source_ids": LIST_SEPARATOR.join(c.source for c in citations),
        "recorded_at": format_instant(effective.event.recorded_at),
    }


def template_rows(
    events: Sequence[ExportEvent], registry: Registry, proposal: str | None
) -> list[dict[str, str]]:
    """Rows of TimelineJS's spreadsheet template: a title row when exporting one proposal."""
    rows = [_title_row(proposal, registry)] if proposal is not None else []
    return rows + [_template_row(slide(e, registry), span_of(e.event.valid_time)) for e in events]


def _title_row(proposal: str, registry: Registry) -> dict[str, str]:
    text = title_text(proposal, registry)
    return {**_blank_row(), "Headline": text["headline"], "Text": text["text"], "Type": "title"}


def _template_row(slide_: Mapping[str, Any], span: Span) -> dict[str, str]:
    start, end = slide_["start_date"], slide_.get("end_date", {})
    return {
        **_blank_row(),
        "Year": _part(start, "year"),
        "Month": _part(start, "month"),
        "Day": _part(start, "day"),
        "Time": clock(span.start, span.start_precision) if "hour" in start else "",
        "End Year": _part(end, "year"),
        "End Month": _part(end, "month"),
        "End Day": _part(end, "day"),
        "End Time": clock(span.end, span.end_precision) if "hour" in end else "",
        "Display Date": slide_.get("display_date", ""),
        "Headline": slide_["text"]["headline"],
        "Text": slide_["text"]["text"],
        "Group": slide_.get("group", ""),
    }


def _blank_row() -> dict[str, str]:
    return dict.fromkeys(TEMPLATE_COLUMNS, "")


def _part(parts: Mapping[str, int], field: str) -> str:
    return str(parts[field]) if field in parts else ""


def to_csv(columns: Sequence[str], rows: Iterable[Mapping[str, str]]) -> str:
    """RFC 4180 CSV with a header; cells a spreadsheet would run as formulas are guarded."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow(spreadsheet_safe(row.get(c, "")) for c in columns)
    return out.getvalue()


def spreadsheet_safe(cell: str) -> str:
    """The cell with a leading apostrophe when it would start a formula (OWASP's advice), or
    already starts with one (so that `unguarded` gives back exactly the original)."""
    if cell.startswith((*_FORMULA_START, _FORMULA_GUARD)):
        return _FORMULA_GUARD + cell
    return cell


def unguarded(cell: str) -> str:
    """The original value of a guarded cell."""
    return cell[1:] if cell.startswith(_FORMULA_GUARD) else cell


# PLOVER


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
        link=_text(payload, "proposal") or None,
        cite_info=[_citation(c.source, c.quote, registry) for c in effective.event.sources],
        disputed=effective.disputed,
        disputes=[d.reason for d in effective.disputes],
        corrected_by=[str(c) for c in effective.corrected_by],
        coded_date=format_instant(effective.event.recorded_at)[:10],
        coded_time=format_instant(effective.event.recorded_at)[11:],
    )
    speaker = _text(payload, "speaker")
    if speaker:
        record["speaker"] = actor_object(speaker, registry)
    place = _text(payload, "place")
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
        proposal = registry.proposals.get(_text(payload, "proposal"))
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
