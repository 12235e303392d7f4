"""The read time's parsing: the fast path for plain UTC instants answers exactly as the full
parser does (api.reading.moment); its times spliced into a stored state's JSON are what
encoding the two together gives."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
import pendulum
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from api.problems import ApiProblem
from api.reading import ReadTime, moment
from domain.errors import InvalidValidTime
from domain.valid_time import parse_instant

DIGITS = st.text("0123456789", min_size=1, max_size=1)


@st.composite
def plain_utc(draw: st.DrawFn) -> str:
    """Strings of the fast path's shape, valid or not (month 13, second 60, year 0)."""
    digits = "".join(draw(DIGITS) for _ in range(14))
    y, mo, d, h, mi, s = (
        digits[:4],
        digits[4:6],
        digits[6:8],
        digits[8:10],
        digits[10:12],
        digits[12:],
    )
    fraction = draw(st.sampled_from(["", ".000000", ".123456", ".999999"]))
    return f"{y}-{mo}-{d}T{h}:{mi}:{s}{fraction}Z"


@given(st.one_of(plain_utc(), st.datetimes(timezones=st.just(UTC)).map(lambda d: d.isoformat())))
@example("2025-03-13T12:00:00Z")
@example("2025-02-29T00:00:00Z")
@example("0000-01-01T00:00:00Z")
@example("2016-12-31T23:59:60Z")
@example("9999-12-31T23:59:59.999999Z")
def test_a_plain_utc_instant_reads_as_the_full_parser_reads_it(text: str) -> None:
    try:
        expected: datetime | None = parse_instant(text, "UTC")
    except InvalidValidTime:
        expected = None
    if expected is None:
        with pytest.raises(ApiProblem):
            moment(text, "UTC", "as_of")
    else:
        found = moment(text, "UTC", "as_of")
        assert (found, found.utcoffset()) == (expected, expected.utcoffset())


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)
STATES = st.dictionaries(
    st.text().filter(lambda key: key not in ("as_of", "known_at")), JSON_VALUES, max_size=6
)
MOMENTS = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.timezones()
)


@given(STATES, MOMENTS | MOMENTS.map(pendulum.instance), MOMENTS)
@example({}, datetime(2025, 3, 13, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC))
@example({"a": 1}, pendulum.datetime(2025, 3, 13), datetime(2026, 1, 1, 0, 0, 0, 1, tzinfo=UTC))
def test_the_times_spliced_after_a_stored_state_are_the_bytes_encoding_them_together_gives(
    state: dict[str, Any], as_of: datetime, known_at: datetime
) -> None:
    when = ReadTime(as_of=as_of, known_at=known_at, settled=False)
    spliced = when.echoed_after(msgspec.json.encode(state))
    assert spliced == msgspec.json.encode({**state, **when.echo()})
