"""Query, path and header parameters the routes share.

Litestar enforces the patterns and bounds written on these annotations and documents them.
What an annotation cannot say (an instant is a date-time or a date, a zone is one of the zone
database's names, a type is a known event type) is in `exact_schemas`: the OpenAPI document
states it, and the parser each value goes to enforces exactly that.
"""

from __future__ import annotations

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

INSTANT = {
    "type": "string",
    "maxLength": 64,
    "anyOf": [{"format": "date-time"}, {"format": "date"}],
}


def exact_schemas() -> dict[str, dict[str, Any]]:
    """The documented schema of each parameter, by name, where the annotation says too little."""
    return {
        "as_of": INSTANT,
        "known_at": INSTANT,
        "from": INSTANT,
        "to": INSTANT,
        "tz": {"type": "string", "enum": list(zone_names()), "default": "UTC"},
        "type": {"type": "array", "items": {"type": "string", "enum": sorted(EVENT_TYPES)}},
    }


def event_types(values: list[str] | None) -> tuple[str, ...]:
    """The `type` filter, each one a known event type, or a 400."""
    unknown = sorted(set(values or ()) - EVENT_TYPES.keys())
    if unknown:
        raise ApiProblem.bad_parameter("type", f"unknown event type {unknown[0]!r}")
    return tuple(values or ())
