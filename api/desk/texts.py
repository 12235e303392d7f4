"""Source texts at the desk: pasted to attach, read to highlight quotes in. Through the source
texts service (issue 20, items 1-2: `PUT`/`GET /v1/sources/{source}/text`, scope
`sources:text`), called in-process.

TEXTS-PENDING: the service lands with branch `texts`; until it is merged this module says that
texts cannot be attached or read, and the desk shows so where it would offer them. To wire it
once merged: `available()` answers True; `attach` calls `api.source_texts.attach_text(services,
key, source, text)` and reads characters, sha256 and the verification counts from its answer;
`read` returns `read_source_text(...).text` (None when it answers None); their refusals (an
ApiProblem naming `body`) go to the desk's text field (sources._attach). The browser test's
highlight step and its misquote test (tests/browser/test_desk.py, TEXTS) then run."""

from __future__ import annotations

from dataclasses import dataclass

from api.services import Services
from store.keys import ApiKey

TEXT_SCOPE = "sources:text"


@dataclass(frozen=True, slots=True, kw_only=True)
class Attached:
    """A text attached to a source, and what checking the source's citations against it found."""

    source: str
    sha256: str
    characters: int
    verified: int
    failed: int


class TextsUnavailable(Exception):
    """This build cannot attach or read source texts."""


def available() -> bool:
    """Whether source texts can be attached and read."""
    return False


async def attach(services: Services, key: ApiKey, source: str, text: str) -> Attached:
    """Attach `text` to a registered source, for `key` (which needs `sources:text`)."""
    raise TextsUnavailable("source texts are not available in this build yet")


async def read(services: Services, key: ApiKey, source: str) -> str | None:
    """The text attached to a source, or None when it has none."""
    raise TextsUnavailable("source texts are not available in this build yet")


def refusal(key: ApiKey) -> str | None:
    """Why this key cannot see source texts at the desk, or None when it can."""
    if not available():
        return "Source texts are not available in this build yet; type the quote."
    if not key.allows(TEXT_SCOPE):
        return f"Your key lacks the {TEXT_SCOPE!r} scope, so texts are not shown; type the quote."
    return None
