"""Requests read strictly, before Litestar converts them: the query string and the headers are
bounded, a parameter that takes one value given twice is refused rather than one copy silently
winning, and an integer is written in decimal digits (Litestar's lax conversion would also take
`1e3`, `1_000` or `+5`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, get_args

from litestar import Request
from litestar.handlers import HTTPRouteHandler
from litestar.typing import FieldDefinition

from api.problems import ApiProblem

DECIMAL = re.compile(r"-?[0-9]{1,20}")
MAX_QUERY_BYTES = 8 * 1024
MAX_HEADER_BYTES = 16 * 1024


@dataclass(frozen=True, slots=True)
class QueryShape:
    """Which query names of one handler take one value, and which of them an integer."""

    single: frozenset[str]
    integers: frozenset[str]


_SHAPE_KEY = "timeline.query_shape"


async def read_query_strictly(request: Request[Any, Any, Any]) -> None:
    """A 414 or 431 for an oversized query string or headers; a 400 for a repeated
    single-valued parameter or an integer that is not plain digits."""
    if len(request.scope["query_string"]) > MAX_QUERY_BYTES:
        raise ApiProblem(
            414, "uri-too-long", "URI too long", f"the query string is over {MAX_QUERY_BYTES} bytes"
        )
    if sum(len(name) + len(value) for name, value in request.scope["headers"]) > MAX_HEADER_BYTES:
        raise ApiProblem(
            431,
            "headers-too-large",
            "Request header fields too large",
            f"the headers are over {MAX_HEADER_BYTES} bytes",
        )
    shape = _shape(request.route_handler)
    query = request.query_params
    for name in query:
        values = query.getall(name)
        if len(values) > 1 and name in shape.single:
            raise ApiProblem.bad_parameter(name, "given more than once; it takes one value")
        if name in shape.integers and not DECIMAL.fullmatch(values[0]):
            raise ApiProblem.bad_parameter(name, f"{values[0]!r} is not an integer")


def _shape(handler: HTTPRouteHandler) -> QueryShape:
    # Kept with the handler itself: it lives as long as the app that owns it.
    found = handler.opt.get(_SHAPE_KEY)
    if not isinstance(found, QueryShape):
        found = handler.opt[_SHAPE_KEY] = _read_shape(handler)
    return found


def _read_shape(handler: HTTPRouteHandler) -> QueryShape:
    single: set[str] = set()
    integers: set[str] = set()
    for field in handler.parsed_fn_signature.parameters.values():
        name = _query_name(field)
        if not field.is_non_string_sequence:
            single.add(name)
        if field.annotation is int or int in get_args(field.annotation):
            integers.add(name)
    return QueryShape(frozenset(single), frozenset(integers))


def _query_name(field: FieldDefinition) -> str:
    alias = getattr(field.kwarg_definition, "name", None)
    return alias if isinstance(alias, str) else field.name
