"""The log's canonical JSON numbers (ADR 0005): one form per number, the one every backend gives
back as it was written, so an event's hash does not depend on where it is stored.

- A number whose value is an integer is an int: `1.0`, `1E+2`, `1e20` and `-0.0` are 1, 100,
  100000000000000000000 and 0. Its value is the one its shortest text denotes (`1e23` is
  10**23, not the double nearest it), as PostgreSQL's JSONB reads that text.
- Any other number is a finite double, written in its shortest round-trip form.

PostgreSQL's JSONB keeps numbers as decimals and gives them back in positional notation (`1e20`
as `100000000000000000000`, `-0.0` as `0.0`), which the JSON parser reads as an int or as the same
double: the canonical forms are exactly those that come back unchanged, from it and from SQLite's
JSON text alike. Every store makes an event's numbers canonical as it writes its row, before the
row is hashed; the hash's serialiser writes them as it always has, so the hashes of logs that
hold none but canonical numbers (all the API could ever write) stay as they were.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

# Below this, a double that is an integer converts to int exactly and its shortest text is those
# digits; from here on it is written with an exponent, and its text is what a reader keeps.
_EXACT = 2.0**53


def canonical_number(number: float) -> int | float:
    """The canonical form of a double; ValueError for NaN and the infinities (not JSON)."""
    if not math.isfinite(number):
        raise ValueError(f"{number!r} is not a JSON number")
    if not number.is_integer():
        return number
    if -_EXACT < number < _EXACT:
        return int(number)
    return int(Decimal(repr(number)))


def canonical_json(value: Any) -> Any:
    """`value` (parsed JSON) with every number canonical; the same object when it already was,
    so the common case, no floats at all, costs one walk and no copies."""
    if not _has_float(value):
        return value
    return _canonical(value)


def floats_in(value: Any, path: str) -> Iterator[tuple[str, float]]:
    """Every float in parsed JSON, with its path (`payload.figures[2]`) under `path`."""
    kind = type(value)
    if kind is float:
        yield path, value
    elif kind is dict:
        for key, item in value.items():
            yield from floats_in(item, f"{path}.{key}")
    elif kind in _ARRAYS:
        for index, item in enumerate(value):
            yield from floats_in(item, f"{path}[{index}]")


_ARRAYS = frozenset({list, tuple})
_NESTED = frozenset({dict, list, tuple, float})


def _has_float(value: Any) -> bool:
    kind = type(value)
    if kind is float:
        return True
    if kind is dict:
        return any(type(v) in _NESTED and _has_float(v) for v in value.values())
    if kind in _ARRAYS:
        return any(type(v) in _NESTED and _has_float(v) for v in value)
    return False


def _canonical(value: Any) -> Any:
    kind = type(value)
    if kind is float:
        return canonical_number(value)
    if kind is dict:
        return {key: _canonical(item) for key, item in value.items()}
    if kind in _ARRAYS:
        return [_canonical(item) for item in value]
    return value
