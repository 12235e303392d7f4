"""The read time's parsing: the fast path for plain UTC instants answers exactly as the full
parser does (api.reading.moment)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from api.problems import ApiProblem
from api.reading import moment
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
