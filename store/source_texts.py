"""Attaching an article's text to a registered source, and reading it back: the use cases the
API's text routes and the editors' desk share.

The text is checked (non-empty, printable, at most MAX_CHARACTERS), then attached by a
SourceTextAttached event on the source's own text stream, at the version read just before: two
editors attaching at once cannot both append, and the loser finds the winner's attachment (the
same text: nothing to do) or attaches after it. The same text attached again appends nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from domain.valid_time import format_instant, to_micros
from store.errors import FieldError, InvalidSubmission, StaleExpectedVersion, UnknownSource
from store.ports import Clock, EventStore
from store.projection import FOREVER
from store.quote_rules import text_sha256
from store.rate_limits import WriteCharge
from store.read_models.verification import ATTACHED, Attachment, Check
from store.submission import submit

MAX_CHARACTERS = 1_000_000
FAILURES_SHOWN = 100  # in an attachment's answer; the rest page through the verification read
# As domain.vocabulary.PRINTABLE_PATTERN: no C0 controls but tab and newlines (PostgreSQL
# cannot hold NUL), no U+FFFE/U+FFFF.
_UNPRINTABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")
_ATTEMPTS = 3


@dataclass(frozen=True, slots=True, kw_only=True)
class TextAttached:
    """A source's text as attached, and how its citations' quotes fare against it."""

    attachment: Attachment
    created: bool  # False: this very text was attached already, and nothing was appended
    verified: int
    failed: int
    failures: tuple[Check, ...]  # the first FAILURES_SHOWN of them


def text_stream(source: str) -> str:
    """The stream a source's text attachments are appended to."""
    return f"texts/{source}"


def check_text(text: str, field: str = "body") -> None:
    """Refuse a text that cannot be attached, naming the field it came in."""
    problem = None
    if not text.strip():
        problem = "the text is empty"
    elif len(text) > MAX_CHARACTERS:
        problem = f"the text has {len(text)} characters; at most {MAX_CHARACTERS} are kept"
    elif found := _UNPRINTABLE.search(text):
        problem = f"the text holds the control character U+{ord(found.group()):04X}"
    if problem is not None:
        raise InvalidSubmission([FieldError(field, problem)])


async def attach_text(
    store: EventStore,
    clock: Clock,
    *,
    source: str,
    text: str,
    metadata: Mapping[str, Any],
    charge: WriteCharge | None = None,
) -> TextAttached:
    """Attach a text to a registered source (UnknownSource if it is not; InvalidSubmission if
    the text cannot be attached); appending nothing if that text is attached already."""
    check_text(text)
    if not await store.registered([f"source:{source}"]):
        raise UnknownSource(source)
    sha256 = text_sha256(text)
    stream = text_stream(source)
    for attempt in range(_ATTEMPTS):
        current = await attachment_of(store, source)
        if current is not None and current.sha256 == sha256:
            return await _answer(store, current, created=False)
        version = await store.stream_version(stream)
        payload = {"source": source, "sha256": sha256, "characters": len(text)}
        try:
            result = await submit(
                store,
                clock,
                stream=stream,
                events=[
                    {
                        "type": ATTACHED,
                        "occurred_at": format_instant(clock()),
                        "payload": payload,
                    }
                ],
                expected_version=version,
                metadata=metadata,
                charge=charge,
                texts={sha256: text},
            )
        except StaleExpectedVersion:
            if attempt + 1 == _ATTEMPTS:
                raise
            continue
        [event] = result.events
        attached = Attachment(
            source=source,
            position=event.position,
            sha256=sha256,
            characters=len(text),
            recorded_from=to_micros(event.recorded_at),
        )
        return await _answer(store, attached, created=not result.duplicate)
    raise AssertionError("unreachable")  # pragma: no cover


async def attachment_of(store: EventStore, source: str) -> Attachment | None:
    """The text a source has now, if any."""
    found = await store.reads.attachments_among([source], FOREVER - 1)
    return found[0] if found else None


async def read_text(store: EventStore, source: str) -> tuple[Attachment, str] | None:
    """A source's text and its attachment (UnknownSource for a source not registered)."""
    if not await store.registered([f"source:{source}"]):
        raise UnknownSource(source)
    current = await attachment_of(store, source)
    if current is None:
        return None
    text = await store.reads.text(current.sha256)
    return None if text is None else (current, text)


async def _answer(store: EventStore, attachment: Attachment, *, created: bool) -> TextAttached:
    verified, failed = await store.reads.check_counts(attachment.source, FOREVER - 1)
    failures = await store.reads.failures(attachment.source, FOREVER - 1, None, FAILURES_SHOWN)
    return TextAttached(
        attachment=attachment,
        created=created,
        verified=verified,
        failed=failed,
        failures=tuple(failures),
    )
