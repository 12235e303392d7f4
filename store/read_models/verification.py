"""The quote-verification read model: which text each source has, for each quoted citation of
a source with a text whether its quote is a span of that text, and where, and the same for each
payload's quote against its event's cited sources; all known over [recorded_from, recorded_to).

A payload's quote (`quote` on PositionStated, StatementMade, ...) rests on the sources its event
cites (`domain.quotes.rest_quote`): its checks are one verified row for the first cited source
whose text holds it; or, when every cited source has a text and none holds it, a failed row for
each of them (so each source's failures list it); otherwise (some cited source has no text yet)
none, as for a citation of a source without a text. Payload rows sit beside the citations' with
`citation` = -1 - j, j the index of the first citation of their source (`Check.payload`).

After a SourceTextAttached the source's attachment is replaced and every quote resting on the
source is checked again against the new text: its quoted citations, and the payload quotes of
the events citing it (found through the log's index, so the cost is that source's citations
and their editorial families, not the log's length). After any other event citing a source that
has a text, its quoted citations of it and its payload's quote are checked. Citations never
change, but a correction replaces a payload (and retracting the correction restores it): after
an EventCorrected or EventRetracted the payload quote of the event it ends at is checked again
as that event now stands (`domain.editorial.effective_events`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Protocol
from uuid import UUID

from domain.editorial import LoggedEvent, effective_events
from domain.event_types import EVENT_TYPES, JsonObject, Kind
from domain.quotes import Match, NormalisedText, find_quote, normalise, quote_of, rest_quote
from domain.valid_time import to_micros
from store.projection import FOREVER, LogIndex, family

ATTACHED = "SourceTextAttached"


@dataclass(frozen=True, slots=True, kw_only=True)
class Attachment:
    """The text a source has, from the event that attached it."""

    source: str
    position: int
    sha256: str
    characters: int
    recorded_from: int
    recorded_to: int = FOREVER


@dataclass(frozen=True, slots=True, kw_only=True)
class Check:
    """Whether the `citation`-th source of the event at `position` quotes its text: the span
    (character offsets into the text, half-open) and, split by ellipses, each fragment's."""

    position: int
    citation: int
    source: str
    sha256: str
    verified: bool
    span_start: int | None
    span_end: int | None
    fragments: list[list[int]] = field(default_factory=list)
    recorded_from: int = 0
    recorded_to: int = FOREVER

    @property
    def key(self) -> tuple[int, int]:
        """The quote it checks: (event position, index among its sources, or -1 - that index
        for the payload's quote against that source's text)."""
        return (self.position, self.citation)

    @property
    def payload(self) -> bool:
        """Whether it checks the payload's quote (not a citation's)."""
        return self.citation < 0

    @property
    def cited(self) -> int:
        """The index among the event's sources of the citation whose source's text it read."""
        return -1 - self.citation if self.citation < 0 else self.citation

    def same(self, other: Check) -> bool:
        """Whether two checks say the same thing (whenever they were known)."""
        return (self.sha256, self.verified, self.span_start, self.span_end, self.fragments) == (
            other.sha256,
            other.verified,
            other.span_start,
            other.span_end,
            other.fragments,
        )


class VerificationRows(Protocol):
    """Where the model's rows live, and the texts they are checked against."""

    async def open_attachment(self, source: str) -> Attachment | None:
        """The text a source has now (None: it has none)."""
        ...

    async def attach(self, closing: Attachment | None, at: int, inserting: Attachment) -> None:
        """Close a source's attachment at a transaction time and open its successor."""
        ...

    async def open_checks(self, source: str) -> list[Check]:
        """The checks of the quotes resting on a source as currently known."""
        ...

    async def open_payload_checks(self, positions: Sequence[int]) -> list[Check]:
        """The checks of the payload quotes of the events at these positions as currently
        known."""
        ...

    async def revise(self, closing: Sequence[Check], at: int, inserting: Sequence[Check]) -> None:
        """Close checks at a transaction time and insert their successors."""
        ...

    async def text(self, sha256: str) -> str:
        """A stored text by its SHA-256 (it is stored before the event attaching it)."""
        ...


class CitingIndex(LogIndex, Protocol):
    """The events citing a source (and the editorial events aimed at them), never past a given
    position."""

    async def citing(self, source: str, upto: int) -> list[LoggedEvent]:
        """Events citing the source (quoted or not), in position order."""
        ...


@lru_cache(maxsize=16)
def normalised_text(sha256: str, text: str) -> NormalisedText:
    """A text as the matcher reads it: texts are content-addressed, so kept by hash."""
    return normalise(text)


def check(
    position: int, citation: int, source: str, quote: str, sha256: str, text: str, at: int
) -> Check:
    """One citation's quote checked against its source's text."""
    found = find_quote(quote, normalised_text(sha256, text))
    return _check(position, citation, source, sha256, found, at)


def _check(
    position: int, citation: int, source: str, sha256: str, found: Match | None, at: int
) -> Check:
    return Check(
        position=position,
        citation=citation,
        source=source,
        sha256=sha256,
        verified=found is not None,
        span_start=None if found is None else found.start,
        span_end=None if found is None else found.end,
        fragments=[] if found is None else [list(f) for f in found.fragments],
        recorded_from=at,
    )


def checks_of(event: LoggedEvent, source: str, sha256: str, text: str, at: int) -> list[Check]:
    """The checks of an event's quoted citations of one source."""
    return [
        check(event.position, j, source, c.quote, sha256, text, at)
        for j, c in enumerate(event.sources)
        if c.source == source and c.quote is not None
    ]


def cited_sources(event: LoggedEvent) -> dict[str, int]:
    """The distinct sources an event cites, each with the index of its first citation."""
    found: dict[str, int] = {}
    for j, citation in enumerate(event.sources):
        found.setdefault(citation.source, j)
    return found


def payload_checks(
    event: LoggedEvent, quote: str, texts: dict[str, tuple[str, str] | None], at: int
) -> list[Check]:
    """The checks of a payload's quote, given the (sha256, text) each cited source has."""
    cited = cited_sources(event)
    order = list(cited)
    held = [texts.get(s) for s in order]
    resting = rest_quote(quote, [None if t is None else normalised_text(*t) for t in held])
    if resting.holder is not None:
        source = order[resting.holder]
        sha256 = texts[source][0]  # type: ignore[index]
        return [_check(event.position, -1 - cited[source], source, sha256, resting.match, at)]
    if not resting.refuted:
        return []
    return [
        _check(event.position, -1 - cited[s], s, t[0], None, at)
        for s, t in zip(order, held, strict=True)
        if t is not None
    ]


def quoting(event: LoggedEvent) -> bool:
    """Whether an event's payload can carry a quote resting on its citations."""
    return bool(event.sources) and EVENT_TYPES[event.type].kind is Kind.WORLD


async def project_verification(
    event: LoggedEvent, index: CitingIndex, rows: VerificationRows
) -> None:
    """Bring the model up to date with one event, as of its recorded_at."""
    at = to_micros(event.recorded_at)
    if event.type == ATTACHED:
        await _attached(event, index, rows, at)
        return
    fresh: list[Check] = []
    for source in dict.fromkeys(c.source for c in event.sources if c.quote is not None):
        attachment = await rows.open_attachment(source)
        if attachment is not None:
            text = await rows.text(attachment.sha256)
            fresh.extend(checks_of(event, source, attachment.sha256, text, at))
    quote = quote_of(event.payload)
    if quote is not None and quoting(event):
        # Nothing aims at an event as it is appended: it has no payload checks yet.
        fresh.extend(payload_checks(event, quote, await _texts(event, rows), at))
    if fresh:
        await rows.revise([], at, fresh)
    if event.type in _REPLACING:
        root = event
        while EVENT_TYPES[root.type].kind is Kind.EDITORIAL:
            [root] = await index.events({UUID(str(root.payload["target"]))})
        if quoting(root):
            await _recheck_payloads([root], index, rows, event.position, at)


# The editorial events that can change what an event's payload is: a correction, and a
# retraction (of a correction, restoring the payload before it, or of such a retraction).
_REPLACING = frozenset({"EventCorrected", "EventRetracted"})


async def _texts(event: LoggedEvent, rows: VerificationRows) -> dict[str, tuple[str, str] | None]:
    found: dict[str, tuple[str, str] | None] = {}
    for source in cited_sources(event):
        attachment = await rows.open_attachment(source)
        found[source] = (
            None if attachment is None else (attachment.sha256, await rows.text(attachment.sha256))
        )
    return found


async def _standing_payloads(
    events: Sequence[LoggedEvent], index: LogIndex, upto: int
) -> dict[int, JsonObject]:
    """Each event's payload as its editorial family up to a position leaves it."""
    relatives = await family({e.id for e in events}, index, upto)
    return {
        e.position: e.payload for e in effective_events([*events, *relatives], keep_retracted=True)
    }


async def _recheck_payloads(
    events: Sequence[LoggedEvent], index: LogIndex, rows: VerificationRows, upto: int, at: int
) -> None:
    """Check these events' payload quotes again, as their editorial families up to a position
    leave them, revising the rows that change."""
    payloads = await _standing_payloads(events, index, upto)
    standing: dict[int, dict[tuple[int, int], Check]] = {}
    for c in await rows.open_payload_checks([e.position for e in events]):
        standing.setdefault(c.position, {})[c.key] = c
    closing: list[Check] = []
    inserting: list[Check] = []
    for event in events:
        quote = quote_of(payloads[event.position])
        old = standing.get(event.position, {})
        if quote is None and not old:
            continue
        new = (
            {}
            if quote is None
            else {c.key: c for c in payload_checks(event, quote, await _texts(event, rows), at)}
        )
        closing.extend(c for k, c in old.items() if k not in new or not new[k].same(c))
        inserting.extend(c for k, c in new.items() if k not in old or not old[k].same(c))
    if closing or inserting:
        await rows.revise(closing, at, inserting)


async def _attached(
    event: LoggedEvent, index: CitingIndex, rows: VerificationRows, at: int
) -> None:
    source, sha256 = str(event.payload["source"]), str(event.payload["sha256"])
    current = await rows.open_attachment(source)
    attachment = Attachment(
        source=source,
        position=event.position,
        sha256=sha256,
        characters=int(event.payload["characters"]),
        recorded_from=at,
    )
    await rows.attach(current, at, attachment)
    text = await rows.text(sha256)
    citing = await index.citing(source, event.position)
    wanted = {c.key: c for cited in citing for c in checks_of(cited, source, sha256, text, at)}
    standing = {c.key: c for c in await rows.open_checks(source) if not c.payload}
    closing = [c for k, c in standing.items() if k not in wanted or not wanted[k].same(c)]
    inserting = [c for k, c in wanted.items() if k not in standing or not standing[k].same(c)]
    if closing or inserting:
        await rows.revise(closing, at, inserting)
    quoted = [e for e in citing if quoting(e)]
    if quoted:
        await _recheck_payloads(quoted, index, rows, event.position, at)
