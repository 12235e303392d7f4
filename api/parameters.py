"""Query, path and header parameters the routes share.

Litestar enforces the patterns and bounds written on these annotations and documents them.
What an annotation cannot say (an instant is a date-time or a date, a zone is one of the zone
database's names, a type is a known event type) is in `exact_schemas`: the OpenAPI document
states it, and the parser each value goes to enforces exactly that.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Annotated, Any

from litestar.params import PathParameter, QueryParameter

from api.problems import ApiProblem
from domain.event_types import EVENT_TYPES
from domain.valid_time import zone_names
from domain.vocabulary import END, SLUG_PATTERN

STREAM_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,199}" + END
UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}" + END
SUBSCRIPTION_PATTERN = r"^sub_[0-9a-f]{24}" + END

SlugPath = Annotated[str, PathParameter(pattern=SLUG_PATTERN, max_length=100)]
EventId = Annotated[
    str, PathParameter(pattern=UUID_PATTERN, max_length=36, description="The event's UUID.")
]
SubscriptionId = Annotated[
    str,
    PathParameter(pattern=SUBSCRIPTION_PATTERN, max_length=28, description="A subscription id."),
]

StreamFilter = Annotated[
    str | None,
    QueryParameter(pattern=STREAM_PATTERN, max_length=200, description="Only this stream."),
]
ActorFilter = Annotated[
    str | None,
    QueryParameter(pattern=SLUG_PATTERN, max_length=100, description="Only events about it."),
]
ProposalFilter = Annotated[
    str | None,
    QueryParameter(pattern=SLUG_PATTERN, max_length=100, description="Only events about it."),
]
TypeFilter = Annotated[
    list[str] | None, QueryParameter(name="type", description="One or more event types.")
]

AsOf = Annotated[
    str | None,
    QueryParameter(
        max_length=64,
        description=(
            "Valid time: an RFC 3339 datetime with offset, or a date meaning the end of that "
            "day in `tz`. Default: now."
        ),
    ),
]
KnownAt = Annotated[
    str | None,
    QueryParameter(
        max_length=64,
        description="Transaction time: what the log knew then; forms as `as_of`. Default: now.",
    ),
]
From = Annotated[str, QueryParameter(name="from", max_length=64, description="Forms as `as_of`.")]
To = Annotated[str, QueryParameter(max_length=64, description="Forms as `as_of`.")]
OptionalFrom = Annotated[
    str | None, QueryParameter(name="from", max_length=64, description="Forms as `as_of`.")
]
OptionalTo = Annotated[str | None, QueryParameter(max_length=64, description="Forms as `as_of`.")]
Tz = Annotated[
    str,
    QueryParameter(max_length=64, description="IANA zone for bare dates (default UTC)."),
]

# Each form its own typed branch: a generator reads `type` and `format` from one place (with
# the formats beside a shared `type`, openapi-python-client typed these parameters `Any`).
INSTANT = {
    "anyOf": [
        {"type": "string", "format": "date-time", "maxLength": 64},
        {"type": "string", "format": "date", "maxLength": 64},
    ]
}
ZONE_NAME = "ZoneName"
EVENT_TYPE_NAME = "EventTypeName"


def exact_schemas(ref: str) -> dict[str, dict[str, Any]]:
    """The documented schema of each parameter, by name, where the annotation says too little."""
    return {
        "as_of": INSTANT,
        "known_at": INSTANT,
        "from": INSTANT,
        "to": INSTANT,
        "tz": {"$ref": ref.format(name=ZONE_NAME), "default": "UTC"},
        "type": {"type": "array", "items": {"$ref": ref.format(name=EVENT_TYPE_NAME)}},
    }


def vocabulary_components() -> dict[str, dict[str, Any]]:
    """The closed lists parameters and bodies share, each once, as components: a generator
    makes one type of each instead of one per parameter."""
    return {
        ZONE_NAME: _named_enum(zone_names(), "An IANA time zone name."),
        EVENT_TYPE_NAME: _named_enum(sorted(EVENT_TYPES), "An event type."),
    }


def _named_enum(values: Sequence[str], description: str) -> dict[str, Any]:
    """A string enum with a distinct identifier for each value (`x-enum-varnames`): generators
    that turn values into identifiers otherwise make one of `GMT+0`, `GMT-0` and `GMT0`."""
    names = [enum_identifier(value) for value in values]
    clashes = sorted({name for name in names if names.count(name) > 1})
    if clashes:
        raise ValueError(f"enum values that share an identifier: {clashes}")
    return {
        "type": "string",
        "enum": list(values),
        "x-enum-varnames": names,
        "description": description,
    }


def enum_identifier(value: str) -> str:
    """An upper-case identifier for an enum value: `Etc/GMT+10` is ETC_GMT_PLUS_10."""
    spelled = (
        value.replace("+", "_PLUS_").replace("-", "_MINUS_") if _SIGNED.search(value) else value
    )
    return "_".join(_WORD.findall(spelled)).upper()


# A sign before a digit is an offset's (Etc/GMT-3), elsewhere a hyphen (Port-au-Prince).
_SIGNED = re.compile(r"[+-][0-9]")
_WORD = re.compile(r"[A-Za-z0-9]+")


def event_types(values: list[str] | None) -> tuple[str, ...]:
    """The `type` filter, each one a known event type, or a 400."""
    unknown = sorted(set(values or ()) - EVENT_TYPES.keys())
    if unknown:
        raise ApiProblem.bad_parameter("type", f"unknown event type {unknown[0]!r}")
    return tuple(values or ())
