"""Source texts for a key holding `sources:text`: the service the text routes and the editors'
desk (in process) call alike, answering in the API's wire shapes.

    attach_text(services, key, source, text)        -> (created, TextAttachedOut)
    read_source_text(services, key, source)         -> SourceTextOut, or None without a text
    verification_page(services, key, source, ...)   -> VerificationPage

Errors: PermissionDeniedException (403) for a key without the scope; UnknownSource (404);
InvalidSubmission (422) for a text that cannot be attached; RateLimited (429).
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from api.auth import need_scope
from api.problems import PassageOut
from api.schemas import Instant
from api.services import Services
from domain.quotes import closest_passage, quote_of
from domain.valid_time import format_instant, from_micros
from store.errors import UnknownSource
from store.keys import ApiKey
from store.projection import FOREVER
from store.read_models.verification import Attachment, Check, normalised_text
from store.scopes import TEXTS
from store.source_texts import attach_text as attach
from store.source_texts import attachment_of, read_text

__all__ = [
    "FailedQuoteOut",
    "SourceTextOut",
    "TextAttachedOut",
    "TextVerificationOut",
    "VerificationPage",
    "attach_text",
    "read_source_text",
    "verification_page",
]


class FailedQuoteOut(msgspec.Struct, kw_only=True):
    """A quote the source's text does not hold: the event, the quote's `field` (a citation's,
    `sources[j].quote`; or the payload's as the event now stands, `payload.quote`, which no
    text of the event's cited sources holds), `citation` (the index into its `sources` of the
    citation of this source), the quote, and the closest passage."""

    event: str
    position: int
    field: str
    citation: int
    quote: str
    closest: PassageOut


class TextVerificationOut(msgspec.Struct, kw_only=True):
    """How the quotes resting on the source (its quoted citations, and payload quotes) fare
    against its text: how many it verifies, and the first of those it fails (`failed_total` in
    all; the rest page through `next`)."""

    verified: int
    failed: list[FailedQuoteOut]
    failed_total: int
    next: str | None


class TextAttachedOut(msgspec.Struct, kw_only=True):
    """The text a source now has (`attached_at`: when the log recorded its attachment)."""

    source: str
    sha256: str
    characters: int
    attached_at: Instant
    verification: TextVerificationOut


class SourceTextOut(msgspec.Struct, kw_only=True):
    """A source's text with its attachment."""

    source: str
    sha256: str
    characters: int
    attached_at: Instant
    text: str


class VerificationPage(msgspec.Struct, kw_only=True):
    """One page of the quotes resting on a source that its text fails."""

    source: str
    sha256: str | None
    verified: int
    failed_total: int
    items: list[FailedQuoteOut]
    next: str | None


def _allowed(key: ApiKey) -> None:
    if not key.allows(TEXTS):
        raise need_scope(TEXTS)


def _next(source: str, last: Check | None, limit: int) -> str | None:
    if last is None:
        return None
    return f"/v1/sources/{source}/verification?after={last.position}.{last.citation}&limit={limit}"


async def _failed(services: Services, failures: Sequence[Check], text: str) -> list[FailedQuoteOut]:
    """The failures with their events' quotes and the passages closest to them."""
    events = {
        e.position: e for e in await services.store.reads.events_at([c.position for c in failures])
    }
    found = []
    for failure in failures:
        event = events[failure.position]
        if failure.payload:
            field = "payload.quote"
            version = await services.store.reads.version(failure.position, FOREVER - 1)
            standing = event.current_payload() if version is None else version.state["payload"]
            quote = quote_of(standing) or ""
        else:
            field = f"sources[{failure.citation}].quote"
            quote = event.draft.sources[failure.citation].quote or ""
        normalised = normalised_text(failure.sha256, text)
        start, end = closest_passage(quote, text, normalised)
        found.append(
            FailedQuoteOut(
                event=str(event.id),
                position=event.position,
                field=field,
                citation=failure.cited,
                quote=quote,
                closest=PassageOut(start, end, text[start:end]),
            )
        )
    return found


async def attach_text(
    services: Services, key: ApiKey, source: str, text: str
) -> tuple[bool, TextAttachedOut]:
    """Attach a text to a source as this key; whether it was attached now (False: it was
    already), and the answer."""
    _allowed(key)
    limiter = services.rate_limiter
    attached = await attach(
        services.store,
        services.clock,
        source=source,
        text=text,
        metadata={"recorded_by": key.name, "key_id": key.id},
        charge=None if limiter is None else limiter.charge(key.id, services.clock()),
    )
    shown = attached.failures
    more = attached.failed > len(shown)
    return attached.created, TextAttachedOut(
        source=source,
        sha256=attached.attachment.sha256,
        characters=attached.attachment.characters,
        attached_at=_instant(attached.attachment),
        verification=TextVerificationOut(
            verified=attached.verified,
            failed=await _failed(services, shown, text),
            failed_total=attached.failed,
            next=_next(source, shown[-1], len(shown)) if more and shown else None,
        ),
    )


async def read_source_text(services: Services, key: ApiKey, source: str) -> SourceTextOut | None:
    """A source's text (None when it has none)."""
    _allowed(key)
    found = await read_text(services.store, source)
    if found is None:
        return None
    attachment, text = found
    return SourceTextOut(
        source=source,
        sha256=attachment.sha256,
        characters=attachment.characters,
        attached_at=_instant(attachment),
        text=text,
    )


async def verification_page(
    services: Services,
    key: ApiKey,
    source: str,
    after: tuple[int, int] | None = None,
    limit: int = 100,
) -> VerificationPage:
    """One page of the source's citations that its text fails, after a cursor."""
    _allowed(key)
    reads = services.store.reads
    if not await services.store.registered([f"source:{source}"]):
        raise UnknownSource(source)
    attachment = await attachment_of(services.store, source)
    verified, failed = await reads.check_counts(source, FOREVER - 1)
    page = await reads.failures(source, FOREVER - 1, after, limit + 1)
    items: list[FailedQuoteOut] = []
    if page and attachment is not None:
        text = await reads.text(page[0].sha256) or ""
        items = await _failed(services, page[:limit], text)
    return VerificationPage(
        source=source,
        sha256=None if attachment is None else attachment.sha256,
        verified=verified,
        failed_total=failed,
        items=items,
        next=_next(source, page[limit - 1], limit) if len(page) > limit else None,
    )


def _instant(attachment: Attachment) -> str:
    return format_instant(from_micros(attachment.recorded_from))
