"""The rules a submission meets about texts: a SourceTextAttached comes with its text, a
quoted citation of a source that has a text quotes it (`domain.quotes` says what that means),
and a payload's quote is in the text of some source its event cites, unless one of them has no
text yet (`domain.quotes.rest_quote`)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from uuid import UUID

from domain.drafts import EventDraft
from domain.event_types import Kind
from domain.quotes import closest_among, closest_passage, find_quote, quote_of, rest_quote
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
    """Quotes the texts they rest on do not hold (the log's texts, or ones the batch attaches
    before them), each with the passage closest to it: a quoted citation of a source with a
    text, and a payload's quote (a world event's, or the one a correction gives its target)
    when every source its event cites has a text and none holds it."""
    resting = await _payload_quotes(store, drafts)
    quoted = {c.source for d in drafts for c in d.sources if c.quote is not None}
    quoted.update(s for _, _, sources in resting.values() for s in sources)
    if not quoted:
        return []
    current = {
        a.source: a.sha256 for a in await store.reads.attachments_among(sorted(quoted), FOREVER - 1)
    }
    loaded: dict[str, str] = dict(texts)

    async def text_of(source: str) -> tuple[str, str] | None:
        sha256 = current.get(source)
        if sha256 is None:
            return None
        if sha256 not in loaded:
            loaded[sha256] = await store.reads.text(sha256) or ""
        return sha256, loaded[sha256]

    errors: list[FieldError] = []
    for i, draft in enumerate(drafts):
        if draft.type == ATTACHED:
            current[str(draft.payload["source"])] = str(draft.payload["sha256"])
        for j, citation in enumerate(draft.sources):
            found = None if citation.quote is None else await text_of(citation.source)
            if citation.quote is None or found is None:
                continue
            normalised = normalised_text(*found)
            if find_quote(citation.quote, normalised) is not None:
                continue
            text = found[1]
            start, end = closest_passage(citation.quote, text, normalised)
            errors.append(
                FieldError(
                    f"events[{i}].sources[{j}].quote",
                    f"not in the text of source {citation.source!r} ({_READ}); the closest "
                    f"passage reads: \u201c{text[start:end]}\u201d",
                    Passage(start=start, end=end, text=text[start:end], source=citation.source),
                )
            )
        if i in resting:
            field, quote, sources = resting[i]
            held = [await text_of(s) for s in sources]
            if not rest_quote(
                quote, [None if t is None else normalised_text(*t) for t in held]
            ).refuted:
                continue
            among = [(t[1], normalised_text(*t)) for t in held if t is not None]
            k, start, end = closest_among(quote, among)
            text, source = among[k][0], sources[k]
            named = ", ".join(repr(s) for s in sources)
            errors.append(
                FieldError(
                    f"events[{i}].{field}",
                    f"not in the text of any source the event cites ({named}; {_READ}); the "
                    f"closest passage, in {source!r}, reads: \u201c{text[start:end]}\u201d",
                    Passage(start=start, end=end, text=text[start:end], source=source),
                )
            )
    return errors


_READ = (
    "after normalising whitespace, quote marks, dashes and case; ... or \u2026 for words left "
    "out, [brackets] for clarifications"
)


async def _payload_quotes(
    store: EventStore, drafts: Sequence[EventDraft]
) -> dict[int, tuple[str, str, list[str]]]:
    """By draft: the field of a payload's quote, the quote, and the sources it rests on (the
    distinct sources a world event cites; a correction's, those of the event it corrects)."""
    found: dict[int, tuple[str, str, list[str]]] = {}
    in_batch = {d.id: d for d in drafts}
    for i, draft in enumerate(drafts):
        if draft.event_type.kind is Kind.WORLD:
            quote = quote_of(draft.current_payload())
            if quote is not None:
                found[i] = ("payload.quote", quote, _sources(draft))
        elif draft.type == "EventCorrected" and isinstance(draft.payload.get("payload"), dict):
            quote = quote_of(draft.payload["payload"])
            if quote is None:
                continue
            target_id = UUID(str(draft.payload["target"]))
            target = in_batch.get(target_id)
            if target is None:
                recorded = await store.get(target_id)
                target = None if recorded is None else recorded.draft
            if target is not None and target.event_type.kind is Kind.WORLD:
                found[i] = ("payload.payload.quote", quote, _sources(target))
    return found


def _sources(draft: EventDraft) -> list[str]:
    return list(dict.fromkeys(c.source for c in draft.sources))
