"""Valid time: reading occurred_at and as_of expressions into ranges of UTC instants."""

from __future__ import annotations

import calendar
import dataclasses
from datetime import UTC, date, datetime, time, timedelta, timezone
from functools import cache
from zoneinfo import ZoneInfo

import pendulum
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import domain.valid_time as vt
from domain.errors import InvalidValidTime
from domain.valid_time import (
    Precision,
    ValidTime,
    format_instant,
    from_micros,
    parse_instant,
    parse_valid_time,
    to_micros,
    validate_timezone,
)

ONE_MICRO = timedelta(microseconds=1)
HOUR = timedelta(hours=1)
DST_ZONES = ["America/New_York", "Europe/London", "Europe/Kyiv", "Australia/Sydney"]
# Odd offsets (+05:45, +13:45, -03:30), half-hour DST (Lord Howe) and midnight DST changes
# (Sao Paulo, Santiago) are where day arithmetic goes wrong.
ZONES = [
    "UTC",
    "Europe/Moscow",
    *DST_ZONES,
    "Asia/Kathmandu",
    "Pacific/Chatham",
    "America/St_Johns",
    "Australia/Lord_Howe",
    "America/Sao_Paulo",
    "America/Santiago",
    "Pacific/Kiritimati",
    "Pacific/Pago_Pago",
]


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, us: int = 0
) -> datetime:
    """An aware UTC datetime from its fields."""
    return datetime(year, month, day, hour, minute, second, us, tzinfo=UTC)


def rejects(expression: object, *fragments: str, timezone: str | None = None) -> str:
    """Assert that parsing fails with a message containing every fragment; return the message."""
    with pytest.raises(InvalidValidTime) as caught:
        parse_valid_time(expression, timezone)  # type: ignore[arg-type]
    message = str(caught.value)
    for fragment in fragments:
        assert fragment in message
    return message


# Datetimes with offsets


def test_datetime_with_offset_denotes_its_instant_to_the_second() -> None:
    value = parse_valid_time("2025-03-13T19:30:00+03:00")
    assert value.earliest == utc(2025, 3, 13, 16, 30)
    assert value.latest == utc(2025, 3, 13, 16, 30, 0, 999_999)
    assert value.precision is Precision.SECOND
    assert value.earliest.tzinfo is UTC and value.latest.tzinfo is UTC


def test_datetime_in_zulu_is_utc() -> None:
    assert parse_valid_time("2025-03-13T15:00:00Z").earliest == utc(2025, 3, 13, 15)


def test_fractional_seconds_denote_one_exact_instant() -> None:
    value = parse_valid_time("2025-03-13T19:30:00.25-05:00")
    assert value.earliest == value.latest == utc(2025, 3, 14, 0, 30, 0, 250_000)
    assert value.precision is Precision.SECOND


def test_nanoseconds_are_truncated_to_microseconds() -> None:
    value = parse_valid_time("2025-03-13T10:00:00.123456789Z")
    assert value.earliest == utc(2025, 3, 13, 10, 0, 0, 123_456)


def test_datetime_without_seconds_spans_its_minute() -> None:
    value = parse_valid_time("2025-03-13T19:30+03:00")
    assert value.earliest == utc(2025, 3, 13, 16, 30)
    assert value.latest == utc(2025, 3, 13, 16, 30, 59, 999_999)
    assert value.precision is Precision.MINUTE


def test_datetime_with_only_an_hour_spans_its_hour() -> None:
    value = parse_valid_time("2025-03-13T19+03:00")
    assert value.earliest == utc(2025, 3, 13, 16)
    assert value.latest == utc(2025, 3, 13, 16, 59, 59, 999_999)
    assert value.precision is Precision.HOUR


def test_datetime_keeps_its_own_offset_when_a_timezone_is_also_given() -> None:
    value = parse_valid_time("2025-03-13T19:30:00+03:00", "America/New_York")
    assert value.earliest == utc(2025, 3, 13, 16, 30)
    assert value.timezone == "America/New_York"


def test_lowercase_t_and_z_are_accepted_as_rfc_3339_allows() -> None:
    assert parse_valid_time("2025-03-13t10:00:00z").earliest == utc(2025, 3, 13, 10)


def test_thursday_evening_in_moscow_is_an_interval_of_two_datetimes() -> None:
    value = parse_valid_time("2025-03-13T18+03:00/2025-03-13T23+03:00")
    assert value.earliest == utc(2025, 3, 13, 15)
    assert value.latest == utc(2025, 3, 13, 20, 59, 59, 999_999)
    assert value.precision is Precision.HOUR


def test_datetime_interval_takes_the_coarser_precision_of_its_ends() -> None:
    value = parse_valid_time("2025-03-13T18:15:00Z/2025-03-13T20+00:00")
    assert value.precision is Precision.HOUR
    assert value.latest == utc(2025, 3, 13, 20, 59, 59, 999_999)


# EDTF dates


def test_year_spans_the_whole_year() -> None:
    value = parse_valid_time("2025")
    assert (value.earliest, value.latest) == (
        utc(2025, 1, 1),
        utc(2025, 12, 31, 23, 59, 59, 999_999),
    )
    assert value.precision is Precision.YEAR


def test_month_spans_its_last_day() -> None:
    value = parse_valid_time("2024-02")
    assert value.latest == utc(2024, 2, 29, 23, 59, 59, 999_999)
    assert value.precision is Precision.MONTH


def test_date_without_timezone_is_a_utc_day() -> None:
    value = parse_valid_time("2025-03-11")
    assert (value.earliest, value.latest) == (
        utc(2025, 3, 11),
        utc(2025, 3, 11, 23, 59, 59, 999_999),
    )
    assert value.precision is Precision.DAY
    assert value.timezone == "UTC"
    assert value.qualifiers() == ()


def test_date_in_moscow_starts_at_local_midnight() -> None:
    value = parse_valid_time("2025-03-13", "Europe/Moscow")
    assert value.earliest == utc(2025, 3, 12, 21)
    assert value.latest == utc(2025, 3, 13, 20, 59, 59, 999_999)
    assert value.timezone == "Europe/Moscow"


def test_spring_forward_day_in_new_york_is_23_hours_long() -> None:
    value = parse_valid_time("2025-03-09", "America/New_York")
    assert value.earliest == utc(2025, 3, 9, 5)
    assert value.latest - value.earliest + ONE_MICRO == 23 * HOUR


def test_fall_back_day_in_new_york_is_25_hours_long() -> None:
    value = parse_valid_time("2025-11-02", "America/New_York")
    assert value.latest - value.earliest + ONE_MICRO == 25 * HOUR


def test_day_whose_midnight_dst_skips_starts_at_one_in_the_morning() -> None:
    value = parse_valid_time("2018-11-04", "America/Sao_Paulo")
    assert value.earliest == utc(2018, 11, 4, 3)  # 01:00 local, -02:00
    assert value.latest - value.earliest + ONE_MICRO == 23 * HOUR


@pytest.mark.parametrize(
    ("expression", "qualifiers"),
    [
        ("2025-03-12?", ("uncertain",)),
        ("2025-03-12~", ("approximate",)),
        ("2025-03-12%", ("uncertain", "approximate")),
        ("2025?", ("uncertain",)),
        ("1984?/2004~", ("uncertain", "approximate")),
    ],
)
def test_edtf_qualifiers_are_reported_and_keep_the_day(
    expression: str, qualifiers: tuple[str, ...]
) -> None:
    value = parse_valid_time(expression)
    assert value.qualifiers() == qualifiers
    assert value.uncertain == ("uncertain" in qualifiers)
    assert value.approximate == ("approximate" in qualifiers)


def test_qualified_date_spans_the_same_day_as_the_plain_date() -> None:
    plain, qualified = parse_valid_time("2025-03-12"), parse_valid_time("2025-03-12%")
    assert (plain.earliest, plain.latest) == (qualified.earliest, qualified.latest)


@pytest.mark.parametrize(
    ("expression", "first", "last", "precision"),
    [
        ("2025-03-XX", date(2025, 3, 1), date(2025, 3, 31), Precision.MONTH),
        ("2024-02-XX", date(2024, 2, 1), date(2024, 2, 29), Precision.MONTH),
        ("2025-XX", date(2025, 1, 1), date(2025, 12, 31), Precision.YEAR),
        ("2025-XX-XX", date(2025, 1, 1), date(2025, 12, 31), Precision.YEAR),
        ("201X", date(2010, 1, 1), date(2019, 12, 31), Precision.YEAR),
        ("20XX", date(2000, 1, 1), date(2099, 12, 31), Precision.YEAR),
        ("2025-21", date(2025, 3, 1), date(2025, 5, 31), Precision.MONTH),
        ("2025-22", date(2025, 6, 1), date(2025, 8, 31), Precision.MONTH),
        ("2025-23", date(2025, 9, 1), date(2025, 11, 30), Precision.MONTH),
        ("2025-24", date(2025, 12, 1), date(2026, 2, 28), Precision.MONTH),
        ("2025-03-12/2025-03-13", date(2025, 3, 12), date(2025, 3, 13), Precision.DAY),
        ("2025-03-12/2025-04", date(2025, 3, 12), date(2025, 4, 30), Precision.MONTH),
        ("2024/2025-03-12~", date(2024, 1, 1), date(2025, 3, 12), Precision.YEAR),
        ("2025-21?/2025-22", date(2025, 3, 1), date(2025, 8, 31), Precision.MONTH),
    ],
)
def test_edtf_forms_span_whole_utc_days(
    expression: str, first: date, last: date, precision: Precision
) -> None:
    value = parse_valid_time(expression)
    assert value.earliest == datetime.combine(first, time(), UTC)
    assert value.latest == datetime.combine(last, time.max, UTC)
    assert value.precision is precision


def test_date_interval_in_a_zone_uses_local_midnights() -> None:
    value = parse_valid_time("2025-03-12/2025-03-13", "Europe/Moscow")
    assert value.earliest == utc(2025, 3, 11, 21)
    assert value.latest == utc(2025, 3, 13, 20, 59, 59, 999_999)


def test_expression_is_returned_exactly_as_given() -> None:
    assert parse_valid_time("2025-03-12%").expression == "2025-03-12%"


def test_valid_time_is_immutable() -> None:
    value = parse_valid_time("2025")
    with pytest.raises(dataclasses.FrozenInstanceError):
        value.expression = "2026"  # type: ignore[misc]


def test_valid_time_refuses_a_naive_or_inverted_range() -> None:
    fields = {"expression": "x", "timezone": "UTC", "precision": Precision.DAY}
    with pytest.raises(InvalidValidTime, match="aware UTC"):
        ValidTime(earliest=datetime(2025, 1, 1), latest=utc(2025, 1, 2), **fields)  # type: ignore[arg-type]
    with pytest.raises(InvalidValidTime, match="before earliest"):
        ValidTime(earliest=utc(2025, 1, 2), latest=utc(2025, 1, 1), **fields)  # type: ignore[arg-type]


# Errors


def test_datetime_without_offset_is_refused_not_guessed() -> None:
    message = rejects("2025-03-13T10:00:00")
    assert message == "datetime '2025-03-13T10:00:00' has no UTC offset; add Z or ±HH:MM"


def test_datetime_without_offset_is_refused_even_with_a_timezone() -> None:
    rejects("2025-03-13T10:00", "has no UTC offset", timezone="Europe/Moscow")


def test_unknown_timezone_is_named() -> None:
    assert rejects("2025-03-13", timezone="Mars/Olympus") == "unknown timezone 'Mars/Olympus'"


@pytest.mark.parametrize("name", ["", "../etc/passwd", "/etc/localtime", "localtime", "America"])
def test_names_that_are_not_iana_zones_are_unknown_timezones(name: str) -> None:
    with pytest.raises(InvalidValidTime, match="unknown timezone"):
        validate_timezone(name)


def test_known_timezone_is_returned_unchanged() -> None:
    assert validate_timezone("Europe/Kyiv") == "Europe/Kyiv"


def test_month_13_is_named() -> None:
    message = rejects("2025-13-01")
    assert message == "'2025-13-01' is not an EDTF level 0/1 date: month 13"


@pytest.mark.parametrize("expression", ["2025/..", "../2025"])
def test_open_interval_ends_are_refused(expression: str) -> None:
    rejects(expression, "open or unknown interval ends ('..') are not allowed for occurred_at")


@pytest.mark.parametrize("expression", ["2025/", "/2025", "/"])
def test_unknown_interval_ends_are_refused(expression: str) -> None:
    rejects(expression, "open or unknown interval ends (empty) are not allowed for occurred_at")


@pytest.mark.parametrize(
    ("expression", "fragment"),
    [
        ("2025-02-29", "day 29 (2025-02 has 28 days)"),
        ("2025-04-31", "day 31 (2025-04 has 30 days)"),
        ("2025-00", "month 0"),
        ("0000", "year 0000 is or includes year 0"),
        ("00XX", "year 00XX is or includes year 0"),
        ("-0001", "years outside 1..9999"),
        ("Y170000", "years outside 1..9999"),
        ("25", "year '25' must be four digits"),
        ("2025-3", "month '3' must be two digits"),
        ("2025-03-1X", "day '1X' must be two digits or XX"),
        ("2025-03-12-01", "expected YYYY, YYYY-MM or YYYY-MM-DD"),
        ("2025-21-01", "season 21 cannot have a day"),
        ("2025-21?", "a qualified season is EDTF level 2"),
        ("2025?-03", "the qualifier '?' may appear only once, at the end"),
        ("2025-XX-01", "a day cannot follow an unspecified month"),
        ("201X-03", "a month cannot follow unspecified year digits"),
        ("2025-XX/2026", "unspecified digits (X) in an interval end are EDTF level 2"),
        ("2025S2", "unexpected character 'S'"),
        ("March 2025", "unexpected character 'M'"),
    ],
)
def test_malformed_edtf_dates_say_what_is_wrong(expression: str, fragment: str) -> None:
    rejects(expression, f"{expression!r} is not an EDTF level 0/1 date", fragment)


@pytest.mark.parametrize(
    ("expression", "fragment"),
    [
        ("2025-03-13T24:00:00Z", "hour 24"),
        ("2025-03-13T10:60Z", "minute 60"),
        ("2025-03-13T23:59:60Z", "second 60 (leap seconds are not supported)"),
        ("2025-03-13T10:00+24:00", "offset +24:00"),
        ("2025-02-30T10:00Z", "day 30 (2025-02 has 28 days)"),
        ("2025-13-01T10:00Z", "month 13"),
    ],
)
def test_impossible_datetimes_say_which_field_is_wrong(expression: str, fragment: str) -> None:
    rejects(expression, f"{expression!r} is not a valid datetime: {fragment}")


@pytest.mark.parametrize(
    "expression", ["2025-03-13T10:00:00+0300", "2025-03-13 10:00Z", "2025-03-13T1Z", "T10:00Z"]
)
def test_datetimes_outside_rfc_3339_are_refused_with_the_expected_form(expression: str) -> None:
    rejects(expression, "is not an RFC 3339 datetime", "followed by Z or ±HH:MM")


# ISO 8601 forms pendulum's reader accepts and RFC 3339 does not: the pattern in front of it keeps
# them out (and offsets of a day or more, which pendulum also reads).
@pytest.mark.parametrize(
    ("expression", "fragment"),
    [
        ("2025-03-13T10:00:00,5Z", "is not an RFC 3339 datetime"),
        ("2025-03-13T10:00+03", "is not an RFC 3339 datetime"),
        ("2025-072T10:00Z", "is not an RFC 3339 datetime"),
        ("2025-03-13T10:00+03:60", "is not a valid datetime: offset +03:60"),
        ("2025-03-13T10:00-99:00", "is not a valid datetime: offset -99:00"),
        ("20250313T10Z", "is not an EDTF level 0/1 date: unexpected character 'T'"),
        ("2025-W11-4", "is not an EDTF level 0/1 date: unexpected character 'W'"),
    ],
)
def test_iso_8601_forms_outside_rfc_3339_are_refused(expression: str, fragment: str) -> None:
    rejects(expression, fragment)
    with pytest.raises(InvalidValidTime):
        parse_instant(expression)


def test_qualified_datetime_is_refused() -> None:
    rejects("2025-03-13T10:00Z?", "qualifiers ('?', '~', '%') apply to dates only")


def test_interval_mixing_a_date_and_a_datetime_is_refused() -> None:
    rejects("2025-03-13/2025-03-14T10:00Z", "mixes a date and a datetime")


def test_interval_ending_before_it_starts_is_refused() -> None:
    rejects("2025-03-13/2025-03-12", "interval '2025-03-13/2025-03-12' ends before it starts")
    rejects("2025-03-13T10Z/2025-03-13T09Z", "ends before it starts")


def test_interval_with_more_than_two_ends_is_refused() -> None:
    rejects("2025/2026/2027", "more than one '/'")


def test_day_a_zone_skipped_does_not_exist() -> None:
    rejects("2011-12-30", "does not exist in Pacific/Apia", timezone="Pacific/Apia")


@pytest.mark.parametrize(
    ("expression", "zone"),
    [("0001-01-01", "Asia/Tokyo"), ("9999-12-31", "America/New_York"), ("9999-24", "UTC")],
)
def test_dates_reaching_beyond_year_9999_in_utc_are_refused(expression: str, zone: str) -> None:
    rejects(expression, "outside", "9999", timezone=zone)


def test_datetime_reaching_year_0_in_utc_is_refused() -> None:
    rejects("0001-01-01T00:30+01:00", "falls outside years 1..9999 in UTC")


def test_last_representable_day_in_utc_is_accepted() -> None:
    assert parse_valid_time("9999-12-31").latest == datetime.max.replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("", "occurred_at is empty"),
        ("   ", "occurred_at is empty"),
        (" 2025", "occurred_at ' 2025' has surrounding whitespace"),
        ("2025\n", "occurred_at '2025\\n' has surrounding whitespace"),
        (2025, "occurred_at must be a string, not int"),
        (None, "occurred_at must be a string, not NoneType"),
    ],
)
def test_empty_padded_and_non_string_expressions_are_refused(
    expression: object, message: str
) -> None:
    assert rejects(expression) == message


def test_non_string_timezone_is_refused() -> None:
    rejects("2025", "timezone must be a string, not int", timezone=3)  # type: ignore[arg-type]


# Instants for as_of / known_at


def test_instant_with_offset_is_that_instant_in_utc() -> None:
    assert parse_instant("2025-03-13T18:00:00+03:00") == utc(2025, 3, 13, 15)
    assert parse_instant("2025-03-13T18:00:00+03:00").tzinfo is UTC


def test_instant_given_as_a_date_is_the_end_of_that_utc_day() -> None:
    assert parse_instant("2025-03-13") == utc(2025, 3, 13, 23, 59, 59, 999_999)


def test_instant_given_as_a_date_in_moscow_is_the_end_of_the_moscow_day() -> None:
    assert parse_instant("2025-03-13", "Europe/Moscow") == utc(2025, 3, 13, 20, 59, 59, 999_999)


def test_instant_without_offset_is_refused() -> None:
    with pytest.raises(InvalidValidTime, match="has no UTC offset"):
        parse_instant("2025-03-13T10:00:00")


@pytest.mark.parametrize("value", ["2025-03", "2025", "yesterday", "2025-03-13/2025-03-14"])
def test_instant_in_any_other_form_is_refused(value: str) -> None:
    with pytest.raises(InvalidValidTime, match="is not an instant"):
        parse_instant(value)


def test_instant_on_an_impossible_date_is_refused() -> None:
    with pytest.raises(InvalidValidTime, match=r"day 29 \(2025-02 has 28 days\)"):
        parse_instant("2025-02-29")


def test_instant_with_unknown_timezone_is_refused() -> None:
    with pytest.raises(InvalidValidTime, match="unknown timezone 'Mars/Olympus'"):
        parse_instant("2025-03-13", "Mars/Olympus")


# Microseconds and formatting


def test_micros_count_from_the_unix_epoch() -> None:
    assert to_micros(utc(1970, 1, 1)) == 0
    assert to_micros(utc(1970, 1, 1, 0, 0, 1, 5)) == 1_000_005
    assert to_micros(utc(1969, 12, 31, 23, 59, 59, 999_999)) == -1
    assert from_micros(-1) == utc(1969, 12, 31, 23, 59, 59, 999_999)


def test_naive_datetimes_have_no_micros_and_no_format() -> None:
    with pytest.raises(ValueError, match="naive"):
        to_micros(datetime(2025, 1, 1))
    with pytest.raises(ValueError, match="naive"):
        format_instant(datetime(2025, 1, 1))


def test_micros_beyond_year_9999_are_refused() -> None:
    with pytest.raises(ValueError, match=r"outside years 1\.\.9999"):
        from_micros(to_micros(datetime.max.replace(tzinfo=UTC)) + 1)


def test_format_instant_is_rfc_3339_in_utc() -> None:
    moscow = ZoneInfo("Europe/Moscow")
    assert format_instant(datetime(2025, 3, 13, 18, tzinfo=moscow)) == "2025-03-13T15:00:00Z"
    assert format_instant(utc(2025, 3, 13, 15, 0, 0, 5)) == "2025-03-13T15:00:00.000005Z"
    assert format_instant(utc(33, 1, 1)) == "0033-01-01T00:00:00Z"


# Properties

instants = st.datetimes(
    min_value=datetime(1900, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
offsets = st.integers(min_value=-(23 * 60 + 59), max_value=23 * 60 + 59).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
days = st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31))


def written(instant: datetime, offset: timezone) -> str:
    """`instant` written as RFC 3339 in `offset`, with microseconds."""
    return instant.astimezone(offset).isoformat(timespec="microseconds")


@given(instant=instants, first=offsets, second=offsets)
def test_the_same_instant_in_any_offset_parses_to_the_same_earliest(
    instant: datetime, first: timezone, second: timezone
) -> None:
    a = parse_valid_time(written(instant, first))
    b = parse_valid_time(written(instant, second))
    assert a.earliest == b.earliest == instant


@given(a=instants, b=instants, first=offsets, second=offsets)
def test_ordering_of_earliest_matches_ordering_of_the_instants(
    a: datetime, b: datetime, first: timezone, second: timezone
) -> None:
    left = parse_valid_time(written(a, first)).earliest
    right = parse_valid_time(written(b, second)).earliest
    assert (left < right) == (a < b)
    assert (left == right) == (a == b)


@settings(deadline=None)
@given(day=days, zone=st.sampled_from(ZONES), offset=st.integers(-2 * 86_400, 3 * 86_400))
def test_an_instant_lies_in_a_date_exactly_when_it_falls_on_that_local_day(
    day: date, zone: str, offset: int
) -> None:
    value = parse_valid_time(day.isoformat(), zone)
    assert value.earliest <= value.latest
    instant = datetime.combine(day, time(), UTC) + timedelta(seconds=offset, microseconds=offset)
    on_that_day = instant.astimezone(ZoneInfo(zone)).date() == day
    assert (value.earliest <= instant <= value.latest) == on_that_day


@settings(deadline=None)
@given(day=days, zone=st.sampled_from(ZONES))
def test_a_date_window_is_exactly_the_local_day(day: date, zone: str) -> None:
    value = parse_valid_time(day.isoformat(), zone)
    local = ZoneInfo(zone)
    assert value.earliest.astimezone(local).date() == day
    assert value.latest.astimezone(local).date() == day
    assert (value.earliest - ONE_MICRO).astimezone(local).date() < day
    assert (value.latest + ONE_MICRO).astimezone(local).date() > day


@settings(deadline=None)
@given(day=days, zone=st.sampled_from(ZONES), offset=st.integers(-40 * 86_400, 40 * 86_400))
def test_an_instant_lies_in_a_month_exactly_when_it_falls_in_that_local_month(
    day: date, zone: str, offset: int
) -> None:
    value = parse_valid_time(f"{day.year:04d}-{day.month:02d}", zone)
    instant = datetime.combine(day, time(), UTC) + timedelta(seconds=offset)
    local = instant.astimezone(ZoneInfo(zone))
    inside = (local.year, local.month) == (day.year, day.month)
    assert (value.earliest <= instant <= value.latest) == inside


@settings(deadline=None)
@given(
    day=st.dates(min_value=date(1995, 1, 1), max_value=date(2040, 12, 31)),
    zone=st.sampled_from(DST_ZONES),
)
def test_a_local_day_lasts_as_long_as_the_zone_rules_say(day: date, zone: str) -> None:
    value = parse_valid_time(day.isoformat(), zone)
    length = value.latest - value.earliest + ONE_MICRO
    following = day + timedelta(days=1)
    start = pendulum.datetime(day.year, day.month, day.day, tz=zone)
    end = pendulum.datetime(following.year, following.month, following.day, tz=zone)
    assert length == end - start
    assert length in (23 * HOUR, 24 * HOUR, 25 * HOUR)


@pytest.mark.parametrize("zone", DST_ZONES)
def test_a_dst_zone_has_one_short_day_and_one_long_day_in_2025(zone: str) -> None:
    first = date(2025, 1, 1).toordinal()
    values = [parse_valid_time(date.fromordinal(first + n).isoformat(), zone) for n in range(365)]
    lengths = [value.latest - value.earliest + ONE_MICRO for value in values]
    assert lengths.count(23 * HOUR) == lengths.count(25 * HOUR) == 1


micros = st.integers(
    min_value=to_micros(datetime.min.replace(tzinfo=UTC)),
    max_value=to_micros(datetime.max.replace(tzinfo=UTC)),
)


@given(count=micros)
def test_micros_survive_a_round_trip_through_datetime(count: int) -> None:
    moment = from_micros(count)
    assert moment.tzinfo is UTC
    assert to_micros(moment) == count


@given(
    moment=st.datetimes(
        min_value=datetime(1900, 1, 1),
        max_value=datetime(2100, 1, 1),
        timezones=st.sampled_from([UTC, *map(ZoneInfo, ZONES)]) | offsets,
        allow_imaginary=False,
    )
)
def test_datetimes_survive_a_round_trip_through_micros(moment: datetime) -> None:
    count = to_micros(moment)
    as_utc = moment.astimezone(UTC)
    assert count == calendar.timegm(as_utc.utctimetuple()) * 1_000_000 + as_utc.microsecond
    # Compared in UTC: Python never calls an ambiguous local time equal to another zone's.
    assert from_micros(count) == as_utc


@given(moment=instants)
def test_formatted_instants_parse_back_to_themselves(moment: datetime) -> None:
    text = format_instant(moment)
    assert text.endswith("Z")
    assert parse_instant(text) == moment


def edtf_text(day: date, form: int, mark: str) -> str:
    """`day` written in one of several EDTF level 0/1 forms, with an optional qualifier."""
    written = [f"{day:%Y}", f"{day:%Y-%m}", day.isoformat(), f"{day:%Y}-XX", f"{day:%Y-%m}-XX"]
    return written[form] + mark


@settings(deadline=None)
@given(
    day=days,
    form=st.integers(0, 4),
    mark=st.sampled_from(["", "?", "~", "%"]),
    zone=st.sampled_from(ZONES),
)
def test_expression_comes_back_unchanged(day: date, form: int, mark: str, zone: str) -> None:
    expression = edtf_text(day, form, mark)
    value = parse_valid_time(expression, zone)
    assert value.expression == expression
    assert value.earliest <= value.latest


@given(instant=instants, offset=offsets)
def test_datetime_expression_comes_back_unchanged(instant: datetime, offset: timezone) -> None:
    expression = written(instant, offset)
    assert parse_valid_time(expression).expression == expression


near_misses = st.text(alphabet="0123456789X-/.?~%TZtz:+ SY", max_size=40)


@settings(deadline=None, max_examples=300)
@given(text=st.text() | near_misses, zone=st.none() | st.text() | st.sampled_from(ZONES))
def test_any_text_either_parses_or_is_refused_as_invalid_valid_time(
    text: str, zone: str | None
) -> None:
    try:
        value = parse_valid_time(text, zone)
    except InvalidValidTime:
        return
    assert value.earliest <= value.latest
    assert value.expression == text


@settings(deadline=None)
@given(text=st.text() | near_misses, zone=st.none() | st.text())
def test_any_text_either_is_an_instant_or_is_refused(text: str, zone: str | None) -> None:
    try:
        moment = parse_instant(text, zone)
    except InvalidValidTime:
        return
    assert moment.tzinfo is UTC


# Any RFC 3339 date-time or full date is an instant a read may ask for (it is what the OpenAPI
# document promises): one that shifts outside years 1..9999 in UTC is the first or last instant.

FIRST_INSTANT, LAST_INSTANT = datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC)
offsets = st.builds(
    lambda sign, hours, minutes: f"{sign}{hours:02d}:{minutes:02d}",
    st.sampled_from("+-"),
    st.integers(0, 23),
    st.integers(0, 59),
)
rfc3339 = st.builds(
    lambda moment, fraction, offset: (
        moment.strftime("%Y-%m-%dT%H:%M:%S").rjust(19, "0") + fraction + offset
    ),
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59)),
    st.sampled_from(["", ".5", ".123456"]),
    st.just("Z") | offsets,
)


@given(rfc3339)
def test_any_rfc3339_datetime_is_an_instant_clamped_to_years_1_to_9999(text: str) -> None:
    local = datetime.fromisoformat(text.replace("Z", "+00:00"))
    try:
        expected = local.astimezone(UTC)
    except OverflowError:
        expected = FIRST_INSTANT if local.year == 1 else LAST_INSTANT
    assert parse_instant(text) == expected


@given(st.dates(), st.sampled_from(["UTC", "Pacific/Kiritimati", "Etc/GMT+12", "Europe/Kyiv"]))
def test_any_full_date_is_an_instant_in_its_day_or_clamped(day: date, tz: str) -> None:
    end, start = (
        parse_instant(day.isoformat(), tz),
        parse_instant(day.isoformat(), tz, day_start=True),
    )
    assert FIRST_INSTANT <= start <= end <= LAST_INSTANT
    if start > FIRST_INSTANT and end < LAST_INSTANT:
        local_start = start.astimezone(ZoneInfo(tz))
        assert local_start.date() == day and end.astimezone(ZoneInfo(tz)).date() == day


# Oracles: the parser against an independent reading. A datetime's instant is what
# datetime.fromisoformat and plain offset arithmetic say; whether a field is in range is what the
# Gregorian rules below say; a local day is the instants zoneinfo puts on it.

MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def leap(year: int) -> bool:
    """The Gregorian rule, written out: every fourth year, but not centuries unless by 400."""
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def days_in(year: int, month: int) -> int:
    """How many days `month` of `year` has."""
    return 29 if month == 2 and leap(year) else MONTH_DAYS[month - 1]


def offset_text(offset: timedelta) -> str:
    """±HH:MM for a whole-minute offset."""
    minutes = offset // timedelta(minutes=1)
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def oracle_window(text: str) -> tuple[datetime, datetime] | None:
    """The first and last instants of an RFC 3339 datetime (with its optional parts), from
    datetime.fromisoformat; None when they fall outside years 1..9999 in UTC."""
    upper = text.upper()
    local = datetime.fromisoformat(upper.replace("Z", "+00:00"))
    clock = upper.split("T")[1]
    if "." in clock:
        span = timedelta(0)
    else:
        written = clock[: -1 if clock.endswith("Z") else -6].count(":")  # 0: hour, 1: min, 2: s
        span = timedelta(seconds=(3600, 60, 1)[written]) - ONE_MICRO
    try:
        return local.astimezone(UTC), (local + span).astimezone(UTC)
    except OverflowError:
        return None


# Years reach both ends of 1..9999 (where a shift to UTC overflows) and the century leap rules.
oracle_years = st.sampled_from([1, 2, 4, 100, 400, 1900, 2000, 2024, 2025, 2100, 9996, 9999])
any_offset = st.sampled_from(["Z", "z", "+00:00", "-00:00"]) | st.integers(
    -(23 * 60 + 59), 23 * 60 + 59
).map(lambda minutes: offset_text(timedelta(minutes=minutes)))
fractions = st.sampled_from(["", ".0", ".5", ".25", ".123456", ".1234567", ".999999999"])


@st.composite
def rfc3339_texts(draw: st.DrawFn) -> str:
    """An RFC 3339 datetime in any form the API accepts: to the hour, minute, second or a
    fraction, 'T' or 't', 'Z', 'z' or any offset within a day, years 1..9999."""
    year, month = draw(oracle_years | st.integers(1, 9999)), draw(st.integers(1, 12))
    day = draw(st.integers(1, days_in(year, month)))
    hour, minute, second = (
        draw(st.integers(0, 23)),
        draw(st.integers(0, 59)),
        draw(st.integers(0, 59)),
    )
    clock = draw(
        st.sampled_from(
            [f"{hour:02d}", f"{hour:02d}:{minute:02d}", f"{hour:02d}:{minute:02d}:{second:02d}"]
        )
    )
    if clock.count(":") == 2:
        clock += draw(fractions)
    return f"{year:04d}-{month:02d}-{day:02d}{draw(st.sampled_from('Tt'))}{clock}{draw(any_offset)}"


@given(rfc3339_texts())
def test_a_datetime_denotes_the_window_fromisoformat_reads(text: str) -> None:
    expected = oracle_window(text)
    if expected is None:
        rejects(text, f"{text!r} falls outside years 1..9999 in UTC")
        return
    value = parse_valid_time(text)
    assert (value.earliest, value.latest) == expected
    assert value.earliest.tzinfo is UTC and value.latest.tzinfo is UTC


@given(rfc3339_texts())
def test_a_datetime_is_the_instant_fromisoformat_reads_or_clamped(text: str) -> None:
    local = datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
    try:
        expected = local.astimezone(UTC)
    except OverflowError:
        expected = FIRST_INSTANT if local.year == 1 else LAST_INSTANT
    moment = parse_instant(text)
    assert moment == expected and moment.tzinfo is UTC


def expected_problem(fields: tuple[int, ...], offset: str) -> str | None:
    """What the parser must say is wrong with these datetime fields (the first wrong one,
    calendar before clock before offset), or None when they name a real moment."""
    year, month, day, hour, minute, second = fields
    if year == 0:
        return "year 0 is outside 1..9999"
    if not 1 <= month <= 12:
        return f"month {month}"
    if not 1 <= day <= days_in(year, month):
        return f"day {day} ({year:04d}-{month:02d} has {days_in(year, month)} days)"
    for name, value, top in (("hour", hour, 23), ("minute", minute, 59)):
        if value > top:
            return f"{name} {value}"
    if second == 60:
        return "second 60 (leap seconds are not supported)"
    if second > 59:
        return f"second {second}"
    if offset != "Z" and (int(offset[1:3]) > 23 or int(offset[4:6]) > 59):
        return f"offset {offset}"
    return None


near_range = st.sampled_from([0, 1, 23, 24, 28, 29, 30, 31, 32, 59, 60, 61, 99])


@given(
    fields=st.tuples(
        oracle_years | st.sampled_from([0, 1000, 1600, 1700]),
        st.sampled_from([0, 1, 2, 4, 12, 13, 99]) | st.integers(1, 12),
        near_range | st.integers(1, 28),
        near_range | st.integers(0, 23),
        near_range | st.integers(0, 59),
        near_range | st.integers(0, 59),
    ),
    offset=st.just("Z")
    | st.builds(
        lambda sign, hours, minutes: f"{sign}{hours:02d}:{minutes:02d}",
        st.sampled_from("+-"),
        near_range | st.integers(0, 23),
        near_range | st.integers(0, 59),
    ),
)
def test_a_datetime_field_out_of_range_is_named_and_any_other_is_read(
    fields: tuple[int, ...], offset: str
) -> None:
    year, month, day, hour, minute, second = fields
    text = f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}{offset}"
    problem = expected_problem(fields, offset)
    if problem is not None:
        assert rejects(text) == f"{text!r} is not a valid datetime: {problem}"
        with pytest.raises(InvalidValidTime, match="is not a valid datetime"):
            parse_instant(text)
        return
    expected = oracle_window(text)
    if expected is None:
        rejects(text, "falls outside years 1..9999 in UTC")
    else:
        assert parse_valid_time(text).earliest == expected[0]


@given(year=st.integers(1, 9999) | oracle_years, form=st.integers(0, 2))
def test_february_29_exists_exactly_in_leap_years(year: int, form: int) -> None:
    text = [f"{year:04d}-02-29", f"{year:04d}-02-29T12:00Z", f"{year:04d}-02-29~"][form]
    if leap(year):
        value = parse_valid_time(text)
        assert value.earliest == utc(year, 2, 29, 12 if form == 1 else 0)
        assert parse_valid_time(f"{year:04d}-02").latest == utc(year, 2, 29, 23, 59, 59, 999_999)
    else:
        rejects(text, f"day 29 ({year:04d}-02 has 28 days)")
        assert parse_valid_time(f"{year:04d}-02").latest == utc(year, 2, 28, 23, 59, 59, 999_999)
    if form == 0 and leap(year):
        assert parse_instant(text) == utc(year, 2, 29, 23, 59, 59, 999_999)
    elif form == 0:
        with pytest.raises(InvalidValidTime, match=r"day 29 \(\d{4}-02 has 28 days\)"):
            parse_instant(text)


# Zones whose clocks change around midnight or by half an hour, where local days are not 24 hours.
# Havana falls back from 01:00 to 00:00, so its midnight comes twice: the day starts at the first.
EDGE_ZONES = [
    *DST_ZONES,
    "America/Havana",
    "America/Sao_Paulo",
    "America/Santiago",
    "Australia/Lord_Howe",
    "Asia/Beirut",
]


@cache
def offset_changes(zone: str, year: int) -> tuple[datetime, ...]:
    """The UTC instants in `year` at which `zone` changes its offset (to the minute)."""
    local = ZoneInfo(zone)
    found: list[datetime] = []
    moment = utc(year, 1, 1)
    while moment.year == year:
        after = moment + HOUR
        if moment.astimezone(local).utcoffset() != after.astimezone(local).utcoffset():
            low, high = moment, after  # the offset changes in (low, high]
            while high - low > timedelta(minutes=1):
                middle = low + (high - low) / 2
                same = middle.astimezone(local).utcoffset() == low.astimezone(local).utcoffset()
                low, high = (middle, high) if same else (low, middle)
            found.append(high)
        moment = after
    return tuple(found)


@given(
    zone=st.sampled_from(EDGE_ZONES),
    year=st.integers(1995, 2040),
    which=st.integers(0, 1),
    shift=st.integers(-150 * 60, 150 * 60),
    fold=st.integers(0, 1),
)
def test_wall_times_around_a_clock_change_denote_what_their_offset_says(
    zone: str, year: int, which: int, shift: int, fold: int
) -> None:
    changes = offset_changes(zone, year)
    assume(changes)  # Sao Paulo stopped changing its clocks in 2019
    change = changes[which % len(changes)]
    # A wall time near the change, possibly one the change skipped or repeated, written with the
    # offset the zone gives it on the side `fold` picks.
    wall = change.astimezone(ZoneInfo(zone)).replace(tzinfo=None) + timedelta(seconds=shift)
    offset = wall.replace(tzinfo=ZoneInfo(zone), fold=fold).utcoffset()
    assert offset is not None
    text = wall.isoformat() + offset_text(offset)
    instant = (wall - offset).replace(tzinfo=UTC)
    assert parse_valid_time(text).earliest == instant == datetime.fromisoformat(text)
    assert parse_instant(text) == instant


@given(
    zone=st.sampled_from(EDGE_ZONES),
    year=st.integers(1995, 2040),
    which=st.integers(0, 1),
    days=st.integers(-1, 1),
)
def test_a_day_around_a_clock_change_is_exactly_the_instants_on_that_local_date(
    zone: str, year: int, which: int, days: int
) -> None:
    changes = offset_changes(zone, year)
    assume(changes)
    local = ZoneInfo(zone)
    day = changes[which % len(changes)].astimezone(local).date() + timedelta(days=days)
    value = parse_valid_time(day.isoformat(), zone)
    assert value.earliest.astimezone(local).date() == day
    assert (value.earliest - ONE_MICRO).astimezone(local).date() < day
    assert value.latest.astimezone(local).date() == day
    assert (value.latest + ONE_MICRO).astimezone(local).date() > day
    assert parse_instant(day.isoformat(), zone, day_start=True) == value.earliest
    assert parse_instant(day.isoformat(), zone) == value.latest


def test_a_day_whose_midnight_comes_twice_starts_at_the_first() -> None:
    # Havana fell back from 01:00 (-04:00) to 00:00 (-05:00) on 3 November 2024: 04:00 UTC is
    # already that day (the rule "the later of a repeated time" would start it at 05:00).
    value = parse_valid_time("2024-11-03", "America/Havana")
    assert value.earliest == utc(2024, 11, 3, 4)
    assert value.latest - value.earliest + ONE_MICRO == 25 * HOUR


@given(st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)))
def test_a_plain_day_is_read_as_edtf_reads_it(day: date) -> None:
    assert vt._edtf_days(day.isoformat(), 0) == vt._edtf_grammar_days(day.isoformat(), 0)
