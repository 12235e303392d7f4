"""Source texts at the desk: pasted to attach, read to highlight quotes in. Through the source
texts service (`api.source_texts`, the one behind `PUT`/`GET /v1/sources/{source}/text`),
called in-process with the editor's key, which needs the `sources:text` scope for it; its
refusals are raised as the API's own errors, for the desk to place beside the text field.
The quotes of a draft are checked at the preview by the append path's own rule."""

from __future__ import annotations

from dataclasses import dataclass

from api.services import Services
from api.source_texts import attach_text, read_source_text
from domain.drafts import EventDraft
from store.keys import ApiKey
from store.quote_rules import misquotes
from store.scopes import TEXTS

TEXT_SCOPE = TEXTS
NO_SCOPE = (
    f"Your key lacks the {TEXT_SCOPE!r} scope, so source texts are neither shown nor "
    "attached at this desk; type quotes (the engine still checks them against any text a "
    f"source has). Ask for a key with {TEXT_SCOPE!r} to highlight quotes in the text."
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Attached:
    """A text attached to a source, and what checking the source's citations against it found."""

    source: str
    sha256: str
    characters: int
    created: bool
    verified: int
    failed: int


async def attach(services: Services, key: ApiKey, source: str, text: str) -> Attached:
    """Attach `text` to a registered source, for `key` (which needs `sources:text`)."""
    created, answer = await attach_text(services, key, source, text)
    return Attached(
        source=source,
        sha256=answer.sha256,
        characters=answer.characters,
        created=created,
        verified=answer.verification.verified,
        failed=answer.verification.failed_total,
    )


async def read(services: Services, key: ApiKey, source: str) -> str | None:
    """The text attached to a source, or None when it has none."""
    found = await read_source_text(services, key, source)
    return None if found is None else found.text


async def misquoted(services: Services, draft: EventDraft) -> list[tuple[str, str]]:
    """The quotes of a draft its sources' texts do not hold, as (field, message) pairs naming
    `sources[j].quote`: the append path's own rule, asked before the editor may append."""
    found = await misquotes(services.store, [draft], {})
    return [(error.field.removeprefix("events[0]."), error.message) for error in found]


def refusal(key: ApiKey) -> str | None:
    """Why this key cannot see source texts at the desk, or None when it can."""
    return None if key.allows(TEXT_SCOPE) else NO_SCOPE
