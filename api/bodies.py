"""Request bodies converted strictly to their wire shapes: a mismatch is a 422 naming the field."""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec

from api.problems import ApiProblem
from domain.drafts import field_error

T = TypeVar("T")


def strict_body(data: Any, shape: type[T]) -> T:
    """`data` (parsed JSON) as `shape`, with no coercion; ApiProblem 422 when it does not fit."""
    try:
        return msgspec.convert(data, shape, strict=True)
    except msgspec.ValidationError as error:
        invalid = field_error(str(error), "")
        raise ApiProblem.bad_body(invalid.field, invalid.message) from None
