"""The fixed words of the domain: stances, kinds of actor, authority, meeting formats, id shapes."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import msgspec


class Stance(StrEnum):
    """What a party says it will do about a proposal."""

    PROPOSED = "proposed"
    ACCEPTED = "accepted"
    CONDITIONAL = "conditional"
    NONCOMMITTAL = "noncommittal"
    REJECTED = "rejected"
    COUNTERED = "countered"
    WITHDRAWN = "withdrawn"


class ActorKind(StrEnum):
    """What sort of actor a registration describes."""

    STATE = "state"
    ORGANIZATION = "organization"
    PERSON = "person"


class Authority(StrEnum):
    """How far a person's word binds their party: head of state, minister or envoy, official."""

    HEAD = "head"
    MINISTER = "minister"
    OFFICIAL = "official"


class MeetingFormat(StrEnum):
    """How the participants of a meeting met."""

    IN_PERSON = "in_person"
    CALL = "call"
    VIDEO = "video"


# Python's `$` also matches before a final newline; `(?!\n)` makes it the true end (and is valid
# ECMA-262, the JSON Schema dialect these patterns are published in).
END = r"$(?!\n)"
SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*" + END
# Free text may hold any character but C0/C1-style controls (tab and newlines are fine) and the
# Unicode non-characters U+FFFE/U+FFFF: neither PostgreSQL (NUL) nor XML (Atom) can carry them.
PRINTABLE_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]*$"

Slug = Annotated[
    str,
    msgspec.Meta(
        pattern=SLUG_PATTERN,
        min_length=1,
        max_length=100,
        description="A lower-case slug id such as `russia` or `yuri-ushakov`.",
    ),
]
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=2000, pattern=PRINTABLE_PATTERN)]
ShortText = Annotated[str, msgspec.Meta(min_length=1, max_length=300, pattern=PRINTABLE_PATTERN)]
Quote = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=1000,
        pattern=PRINTABLE_PATTERN,
        description="A short quote, verbatim from the cited source.",
    ),
]
WikidataId = Annotated[str, msgspec.Meta(pattern=r"^Q[1-9][0-9]*" + END)]
Url = Annotated[str, msgspec.Meta(pattern=r"^https?://[^\s]+" + END, max_length=2000)]
LanguageTag = Annotated[str, msgspec.Meta(pattern=r"^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*" + END)]
