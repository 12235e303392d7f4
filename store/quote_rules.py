"""The rules a submission meets about texts: a SourceTextAttached comes with its text, and a
quoted citation of a source that has a text quotes it (`domain.quotes` says what that means)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence

from domain.drafts import EventDraft
from domain.quotes import closest_passage, find_quote
from store.errors import FieldError, Passage
from store.ports import EventStore
from store.projection import FOREVER
from store.read_models.verification import ATTACHED, normalised_text


def text_sha256(text: str) -> str:
    """A text's content address: the SHA-256 of its UTF-8 bytes."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def text_errors(drafts: Sequence[EventDraft], texts: Mapping[str, str]) -> list[FieldError]:
    """SourceTextAttached drafts without their text, or whose length is not the text's."""
    errors: list[FieldError] = []
    for i, draft in enumerate(drafts):
        if draft.type != ATTACHED:
            continue
        text = texts.get(str(draft.payload["sha256"]))
        if text is None:
            errors.append(
                FieldError(
                    f"events[{i}].type",
                    "a text is attached with the text itself: PUT /v1/sources/{source}/text",
                )
            )
        elif len(text) != draft.payload["characters"]:
            errors.append(
                FieldError(
                    f"events[{i}].payload.characters",
                    f"the text has {len(text)} characters, not {draft.payload['characters']}",
                )
            )
    return errors


async def misquotes(
    store: EventStore, drafts: Sequence[EventDraft], texts: Mapping[str, str]
) -> list[FieldError]:
    """Quoted citations of sources with a text (the log's, or one the batch attaches before
    them) that the text does not hold, each with the passage closest to it."""
    quoted = sorted({c.source for d in drafts for c in d.sources if c.quote is not None})
    if not quoted:
        return []
    current = {a.source: a.sha256 for a in await store.reads.attachments_among(quoted, FOREVER - 1)}
    loaded: dict[str, str] = dict(texts)
    errors: list[FieldError] = []
    for i, draft in enumerate(drafts):
        if draft.type == ATTACHED:
            current[str(draft.payload["source"])] = str(draft.payload["sha256"])
        for j, citation in enumerate(draft.sources):
            sha256 = current.get(citation.source)
            if citation.quote is None or sha256 is None:
                continue
            if sha256 not in loaded:
                loaded[sha256] = await store.reads.text(sha256) or ""
            text = loaded[sha256]
            normalised = normalised_text(sha256, text)
            if find_quote(citation.quote, normalised) is not None:
                continue
            start, end = closest_passage(citation.quote, text, normalised)
            excerpt = text[start:end]
            errors.append(
                FieldError(
                    f"events[{i}].sources[{j}].quote",
                    f"not in the text of source {citation.source!r} (after normalising "
                    f"whitespace, quote marks, dashes and case; ... or \u2026 for words left "
                    f"out, [brackets] for clarifications); the closest passage reads: "
                    f"\u201c{excerpt}\u201d",
                    Passage(start=start, end=end, text=excerpt),
                )
            )
    return errors
