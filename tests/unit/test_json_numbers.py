"""Canonical JSON numbers, checked against the decimal each number's shortest text stands for."""

from __future__ import annotations

import json
import math
from decimal import Decimal
from typing import Any

import msgspec
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from domain.json_numbers import canonical_json, canonical_number, floats_in

doubles = st.floats(allow_nan=False, allow_infinity=False)


def value_of(number: int | float) -> Decimal:
    return Decimal(number) if isinstance(number, int) else Decimal(repr(number))


@given(doubles)
@example(1e20)
@example(-0.0)
@example(1e23)
@example(2.0**53 + 2)
@example(1.7976931348623157e308)
@example(5e-324)
def test_a_double_becomes_an_int_exactly_when_its_value_is_an_integer(number: float) -> None:
    canonical = canonical_number(number)
    value = value_of(number)
    assert isinstance(canonical, int) == (value == value.to_integral_value())
    assert value_of(canonical) == value  # the value its shortest text denotes, not the binary's


@given(st.one_of(doubles, st.integers()))
def test_a_canonical_number_comes_back_from_json_text_as_it_went(number: int | float) -> None:
    canonical = canonical_number(number) if isinstance(number, float) else number
    for back in (
        json.loads(json.dumps(canonical)),
        msgspec.json.decode(msgspec.json.encode(canonical)),
    ):
        assert type(back) is type(canonical) and back == canonical


@pytest.mark.parametrize(
    ("number", "canonical"),
    [
        (1e20, 100000000000000000000),
        (1e23, 10**23),  # not 99999999999999991611392, the double's own value
        (1.0, 1),
        (-0.0, 0),
        (1e16, 10**16),
        (-2.5, -2.5),
        (0.1, 0.1),
        (5e-324, 5e-324),
    ],
)
def test_examples(number: float, canonical: int | float) -> None:
    found = canonical_number(number)
    assert type(found) is type(canonical) and found == canonical


@pytest.mark.parametrize("number", [math.nan, math.inf, -math.inf])
def test_nan_and_the_infinities_are_not_json_numbers(number: float) -> None:
    with pytest.raises(ValueError, match="is not a JSON number"):
        canonical_number(number)


def test_json_without_floats_is_given_back_as_it_is() -> None:
    value: dict[str, Any] = {"a": [1, "2", None, True, {"b": 2**80}]}
    assert canonical_json(value) is value


def test_every_float_is_made_canonical_wherever_it_is() -> None:
    value = {"a": [1.0, "x", {"b": (1e20, 0.5)}], "c": -0.0, "d": 3}
    assert canonical_json(value) == {"a": [1, "x", {"b": [10**20, 0.5]}], "c": 0, "d": 3}
    assert msgspec.json.encode(canonical_json(value)) == (
        b'{"a":[1,"x",{"b":[100000000000000000000,0.5]}],"c":0,"d":3}'
    )


def test_floats_are_found_with_their_paths() -> None:
    value = {"a": [1, {"b": 2.5}], "c": -0.0, "d": "1.0"}
    assert list(floats_in(value, "payload")) == [("payload.a[1].b", 2.5), ("payload.c", -0.0)]
