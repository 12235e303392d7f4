"""Request bodies read strictly: JSON only when it says it is JSON, every key once, converted to
its wire shape without coercion. Malformed is a 400, a mismatch a 422 naming the field."""

from __future__ import annotations

import json
from typing import Any, TypeVar

import msgspec
from litestar import Request

from api.problems import ApiProblem
from domain.drafts import field_error

T = TypeVar("T")


async def json_body(request: Request[Any, Any, Any]) -> Any:
    """The body parsed as JSON: 415 unless its Content-Type is JSON, 400 when it is malformed or
    repeats a key (parsers disagree on which copy wins, so neither may)."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/json" and not (media.startswith("application/") and "+json" in media):
        raise ApiProblem(
            415,
            "unsupported-media-type",
            "Unsupported media type",
            f"the body must be application/json, not {media or 'unlabelled'}",
        )
    raw = await request.body()
    try:
        parsed = msgspec.json.decode(raw)
    except msgspec.DecodeError as error:
        raise ApiProblem(
            400, "malformed-json", "Malformed JSON", f"the body is not JSON: {error}"
        ) from None
    # msgspec keeps the last copy of a repeated key without saying so; the standard library's
    # parser can at least show each object's pairs.
    json.loads(raw, object_pairs_hook=_unique_keys)
    return parsed


def strict_body(data: Any, shape: type[T]) -> T:
    """`data` (parsed JSON) as `shape`, with no coercion; ApiProblem 422 when it does not fit."""
    try:
        return msgspec.convert(data, shape, strict=True)
    except msgspec.ValidationError as error:
        invalid = field_error(str(error), "")
        raise ApiProblem.bad_body(invalid.field, invalid.message) from None


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            raise ApiProblem(
                400, "malformed-json", "Malformed JSON", f"the body repeats the key {key!r}"
            )
        seen.add(key)
    return dict(pairs)
