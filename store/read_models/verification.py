"""The quote-verification read model: which text each source has, and for each quoted citation
of a source with a text whether its quote is a span of that text, and where; both known over
[recorded_from, recorded_to).

After a SourceTextAttached the source's attachment is replaced and every quoted citation of the
source is checked again against the new text (the citing events found through the log's index,
so the cost is that source's citations, not the log's length). After any other event citing a
source that has a text, its quoted citations of it are checked. Citations never change (a
correction replaces payloads and valid times only), so nothing else moves a check.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Protocol

from domain.editorial import LoggedEvent
from domain.quotes import NormalisedText, find_quote, normalise
from domain.valid_time import to_micros
from store.projection import FOREVER

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
        """The citation it checks: (event position, index among its sources)."""
        return (self.position, self.citation)

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
        """The checks of a source's citations as currently known."""
        ...

    async def revise(self, closing: Sequence[Check], at: int, inserting: Sequence[Check]) -> None:
        """Close checks at a transaction time and insert their successors."""
        ...

    async def text(self, sha256: str) -> str:
        """A stored text by its SHA-256 (it is stored before the event attaching it)."""
        ...


class CitingIndex(Protocol):
    """The events citing a source, never past a given position."""

    async def citing(self, source: str, upto: int) -> list[LoggedEvent]:
        """Events citing the source, in position order."""
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
    if fresh:
        await rows.revise([], at, fresh)


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
    wanted = {
        c.key: c
        for cited in await index.citing(source, event.position)
        for c in checks_of(cited, source, sha256, text, at)
    }
    standing = {c.key: c for c in await rows.open_checks(source)}
    closing = [c for k, c in standing.items() if k not in wanted or not wanted[k].same(c)]
    inserting = [c for k, c in wanted.items() if k not in standing or not standing[k].same(c)]
    if closing or inserting:
        await rows.revise(closing, at, inserting)
