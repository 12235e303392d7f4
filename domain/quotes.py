"""Quotes found in a source's text: both read through one normalisation, then matched.

The rules (the same as `../shared/tools/check-quotes`, the checker the seed data was held to):

- Unicode NFKC (ligatures, full-width forms, `…` read as `...`), then case folded: a quote may
  recapitalise its first word, and the span found points at the text as written anyway.
- Typographic quotes and apostrophes read as straight ones (U+2018, U+2019, U+201A, U+201B as
  ', U+201C to U+201F and guillemets as "), dashes and the minus sign as -, runs of whitespace
  as one space; soft hyphens and zero-width characters are dropped.
- In a quote, `...` (or `…`) leaves words out and `[like this]` is an editor's clarification:
  both split the quote into fragments, which must occur in the text in that order. A fragment's
  edges are trimmed of spaces and of punctuation a quote changes (`.,;:!?` and quote marks).

A match is the tightest span of the text holding every fragment in order, in offsets of the text
as stored (Python string indices, half-open), with the span of each fragment.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz

_READ_AS = {
    **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032", "'"),
    **dict.fromkeys("\u201c\u201d\u201e\u201f\u00ab\u00bb\u2033", '"'),
    **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212", "-"),
}
_DROPPED = frozenset("\u00ad\u200b\u200c\u200d\u2060\ufeff")
_OMISSION = re.compile(r"\.\.\.|\[[^\]]*\]")
_EDGES = " .,;:!?'\""
# A quote is looked for among this many occurrences of its first fragment at most: the tightest
# span among them wins (a short first fragment, "he" of "[T]he", occurs everywhere).
MAX_STARTS = 2000
EXCERPT = 160  # the most characters a closest passage shows


@dataclass(frozen=True, slots=True)
class NormalisedText:
    """A text as the matcher reads it, with where each of its characters came from."""

    text: str
    starts: tuple[int, ...]  # offset in the original of the character each one came from
    ends: tuple[int, ...]  # offset just after it

    def original(self, start: int, end: int) -> tuple[int, int]:
        """The span of the original text that the normalised [start, end) came from."""
        return self.starts[start], self.ends[end - 1]


@dataclass(frozen=True, slots=True)
class Match:
    """Where a quote occurs in a text: the whole span and each fragment's."""

    start: int
    end: int
    fragments: tuple[tuple[int, int], ...]


def normalise(text: str) -> NormalisedText:
    """The text normalised, each character mapped back to its origin."""
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for begin, end in _clusters(text):
        for char in unicodedata.normalize("NFKC", text[begin:end]).casefold():
            char = _READ_AS.get(char, char)
            if char in _DROPPED:
                continue
            if char.isspace():
                if not out or out[-1] == " ":
                    continue
                char = " "
            out.append(char)
            starts.append(begin)
            ends.append(end)
    if out and out[-1] == " ":
        out.pop()
        starts.pop()
        ends.pop()
    return NormalisedText("".join(out), tuple(starts), tuple(ends))


def _clusters(text: str) -> list[tuple[int, int]]:
    """A character and the combining marks after it: NFKC composes them together."""
    found: list[tuple[int, int]] = []
    for i, char in enumerate(text):
        if found and unicodedata.combining(char):
            found[-1] = (found[-1][0], i + 1)
        else:
            found.append((i, i + 1))
    return found


def fragments(quote: str) -> tuple[str, ...]:
    """The parts of a quote that must occur in order, normalised."""
    parts = _OMISSION.split(normalise(quote).text)
    return tuple(p for p in (part.strip(_EDGES) for part in parts) if p)


def find_quote(quote: str, text: NormalisedText) -> Match | None:
    """The tightest span of the text holding the quote's fragments in order, or None."""
    parts = fragments(quote)
    if not parts:
        return None
    haystack = text.text
    best: list[tuple[int, int]] | None = None
    start = haystack.find(parts[0])
    for _ in range(MAX_STARTS):
        if start < 0:
            break
        found = _in_order(haystack, parts, start)
        if found is None:  # nothing from a later start can hold them all either
            break
        if best is None or found[-1][1] - found[0][0] < best[-1][1] - best[0][0]:
            best = found
        start = haystack.find(parts[0], start + 1)
    if best is None:
        return None
    spans = tuple(text.original(s, e) for s, e in best)
    return Match(start=spans[0][0], end=spans[-1][1], fragments=spans)


def _in_order(haystack: str, parts: tuple[str, ...], start: int) -> list[tuple[int, int]] | None:
    found = [(start, start + len(parts[0]))]
    at = found[0][1]
    for part in parts[1:]:
        begin = haystack.find(part, at)
        if begin < 0:
            return None
        found.append((begin, begin + len(part)))
        at = begin + len(part)
    return found


def closest_passage(quote: str, original: str, text: NormalisedText) -> tuple[int, int]:
    """The span of the original text most like the quote (for a refusal to show), at most
    EXCERPT characters long."""
    return _closest(quote, original, text)[1:]


def closest_among(quote: str, texts: Sequence[tuple[str, NormalisedText]]) -> tuple[int, int, int]:
    """The text (an index into `texts`, each original and normalised) holding the passage most
    like the quote, and that passage's span, as `closest_passage` finds it in each."""
    scored = [(*_closest(quote, original, text), i) for i, (original, text) in enumerate(texts)]
    _, start, end, i = max(scored, key=lambda found: (found[0], -found[3]))
    return i, start, end


def _closest(quote: str, original: str, text: NormalisedText) -> tuple[float, int, int]:
    wanted = " ".join(fragments(quote)) or normalise(quote).text
    if not text.text or not wanted:
        return 0.0, 0, min(len(original), EXCERPT)
    found = fuzz.partial_ratio_alignment(wanted, text.text)
    if found is None or found.dest_end <= found.dest_start:
        return 0.0, 0, min(len(original), EXCERPT)
    start, end = text.original(found.dest_start, found.dest_end)
    return (found.score, *_widened(original, start, min(end, start + EXCERPT)))


def _widened(original: str, start: int, end: int, context: int = 24) -> tuple[int, int]:
    """The span with some context either side, cut at whole words, at most EXCERPT long."""
    spare = max(0, EXCERPT - (end - start)) // 2
    wide_start, wide_end = max(0, start - min(context, spare)), min(len(original), end + spare)
    wide_end = min(wide_end, wide_start + EXCERPT)
    if wide_start > 0:
        space = original.find(" ", wide_start, start)
        wide_start = space + 1 if space >= 0 else start
    if wide_end < len(original):
        space = original.rfind(" ", end, wide_end)
        wide_end = space if space >= 0 else wide_end
    return wide_start, wide_end


@dataclass(frozen=True, slots=True)
class Resting:
    """How a payload's quote fares against the texts of the sources its event cites: `holder`
    (an index into those texts) holds it at `match`; else it is `refuted` when every cited
    source has a text and none holds it, and merely unverified when some source has none."""

    holder: int | None = None
    match: Match | None = None
    refuted: bool = False

    @property
    def verified(self) -> bool:
        """Whether a cited source's text holds the quote."""
        return self.match is not None


def rest_quote(quote: str, texts: Sequence[NormalisedText | None]) -> Resting:
    """A payload's quote against its event's cited sources' texts, in citation order (None for
    a source without a text): the first text holding it verifies it; with no source cited, or
    one without a text, a quote none holds is not refuted (its text may yet hold it)."""
    for i, text in enumerate(texts):
        if text is None:
            continue
        found = find_quote(quote, text)
        if found is not None:
            return Resting(holder=i, match=found)
    return Resting(refuted=bool(texts) and all(t is not None for t in texts))


def quote_of(payload: Mapping[str, object]) -> str | None:
    """The quote a payload carries, if any (`quote` on the payload types that have one)."""
    found = payload.get("quote")
    return found if isinstance(found, str) else None
