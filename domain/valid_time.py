"""Valid time: when an event happened, as written and as the range of UTC instants it can denote."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from edtf import Date, Season, Unspecified
from pendulum.parsing import parse_iso8601

from domain.errors import InvalidValidTime


class Precision(StrEnum):
    """How finely a valid time was written, from a whole year down to a second."""

    YEAR = "year"
    MONTH = "month"
    DAY = "day"
    HOUR = "hour"
    MINUTE = "minute"
    SECOND = "second"


_FINENESS = {precision: rank for rank, precision in enumerate(Precision)}


@dataclass(frozen=True, slots=True, kw_only=True)
class ValidTime:
    """When an event happened: the expression as written and the UTC instants it can denote."""

    expression: str
    timezone: str
    earliest: datetime
    latest: datetime
    precision: Precision
    uncertain: bool = False
    approximate: bool = False

    def __post_init__(self) -> None:
        for name, moment in (("earliest", self.earliest), ("latest", self.latest)):
            if moment.utcoffset() != timedelta(0):
                raise InvalidValidTime(f"{name} must be an aware UTC datetime, got {moment!r}")
        if self.latest < self.earliest:
            raise InvalidValidTime(f"latest {self.latest} is before earliest {self.earliest}")

    def qualifiers(self) -> tuple[str, ...]:
        """The EDTF qualifiers that apply, in the order uncertain, approximate."""
        flags = (("uncertain", self.uncertain), ("approximate", self.approximate))
        return tuple(name for name, on in flags if on)


class _Window(NamedTuple):
    """The first and last instants one written end can denote, and how finely it was written."""

    earliest: datetime
    latest: datetime
    precision: Precision


class _Shape(NamedTuple):
    """One EDTF date: its text without qualifier, precision, and season (21..24, or 0)."""

    body: str
    precision: Precision
    season: int


_ONE_MICRO = timedelta(microseconds=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_FIRST, _LAST = datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC)
# [0-9], not \d: \d also matches non-ASCII digits, which int() would happily accept.
_DATETIME = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2})"
    r"(?::([0-9]{2})(?::([0-9]{2})(?:\.([0-9]{1,9}))?)?)?([Zz]|[+-][0-9]{2}:[0-9]{2})?"
)
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_YEAR = re.compile(r"[0-9]{4}|[0-9]{3}X|[0-9]{2}XX")
_TWO_DIGITS = re.compile(r"[0-9]{2}")
_ZONE_NAME = re.compile(r"[A-Za-z0-9_+-]+(?:/[A-Za-z0-9_+-]+)*")
# Files of the host's zone database that are not IANA zones; 'localtime' differs per machine.
_NOT_ZONES = frozenset({"localtime", "posixrules"})
# A datetime starts with a full date and 'T' (or a space, refused later), or has a clock's ':'.
_DATETIME_LIKE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ]|.*:")
_SECONDS_IN = {Precision.HOUR: 3600, Precision.MINUTE: 60, Precision.SECOND: 1}


def parse_valid_time(expression: str, timezone: str | None = None) -> ValidTime:
    """Read an occurred_at: RFC 3339 datetime with offset, EDTF level 0/1 date, or an interval."""
    text = _require_text(expression, "occurred_at")
    zone_name = "UTC" if timezone is None else validate_timezone(timezone)
    ends = text.split("/")
    if len(ends) > 2:
        raise InvalidValidTime(f"{text!r} has more than one '/'; an interval is START/END")
    if ".." in ends or "" in ends:
        which = "'..'" if ".." in ends else "empty"
        raise InvalidValidTime(
            f"open or unknown interval ends ({which}) are not allowed for occurred_at: {text!r}"
        )
    kinds = {_DATETIME_LIKE.match(end) is not None for end in ends}
    if len(kinds) == 2:
        raise InvalidValidTime(f"interval {text!r} mixes a date and a datetime end")
    if True in kinds:
        windows = [_parse_datetime(end) for end in ends]
    else:
        windows = _parse_edtf(text, ends, ZoneInfo(zone_name))
    start, end = windows[0], windows[-1]
    if end.latest < start.earliest:
        if len(ends) == 1:
            raise InvalidValidTime(f"{text!r} does not exist in {zone_name}: the zone skipped it")
        raise InvalidValidTime(f"interval {text!r} ends before it starts")
    precision = min(start.precision, end.precision, key=_FINENESS.__getitem__)
    return ValidTime(
        expression=text,
        timezone=zone_name,
        earliest=start.earliest,
        latest=end.latest,
        precision=precision,
        # Only EDTF dates get this far with these characters, and only as qualifiers.
        uncertain="?" in text or "%" in text,
        approximate="~" in text or "%" in text,
    )


def parse_instant(value: str, tz: str | None = None, *, day_start: bool = False) -> datetime:
    """Read an as_of/known_at: a datetime with offset, or a date meaning the end of that day
    (its start, with `day_start`: where a range begins)."""
    text = _require_text(value, "instant")
    zone_name = "UTC" if tz is None else validate_timezone(tz)
    if _DATETIME_LIKE.match(text):
        return _parse_datetime(text, clamp=True).earliest
    match = _DATE.fullmatch(text)
    if match is None:
        raise InvalidValidTime(
            f"{text!r} is not an instant: expected an RFC 3339 datetime with offset "
            "(e.g. 2025-03-13T15:00:00Z) or a date YYYY-MM-DD"
        )
    year, month, day = (int(part) for part in match.groups())
    problem = _calendar_problem(year, month, day)
    if problem:
        raise InvalidValidTime(f"{text!r} is not a valid date: {problem}")
    if day_start:
        return _day_start(date(year, month, day), ZoneInfo(zone_name), text, clamp=True)
    return _day_end(date(year, month, day), ZoneInfo(zone_name), text, clamp=True)


def to_micros(moment: datetime) -> int:
    """The exact number of microseconds from the Unix epoch to an aware datetime."""
    if moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment.isoformat()} has no UTC offset")
    return (moment - _EPOCH) // _ONE_MICRO


def from_micros(micros: int) -> datetime:
    """The aware UTC datetime that many microseconds after the Unix epoch."""
    try:
        return _EPOCH + timedelta(microseconds=micros)
    except OverflowError:
        raise ValueError(f"{micros} microseconds from the epoch is outside years 1..9999") from None


def format_instant(moment: datetime) -> str:
    """RFC 3339 in UTC with 'Z'; microseconds appear only when non-zero."""
    if moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment.isoformat()} has no UTC offset")
    # isoformat pads the year to four digits and omits a zero microsecond, as wanted.
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat() + "Z"


@lru_cache(maxsize=1)
def zone_names() -> tuple[str, ...]:
    """Every IANA zone name this machine's zone database knows, sorted."""
    return tuple(sorted(available_timezones() - _NOT_ZONES))


def validate_timezone(name: str) -> str:
    """Return `name` unchanged if it names an IANA timezone."""
    if not isinstance(name, str):
        raise InvalidValidTime(f"timezone must be a string, not {type(name).__name__}")
    # The pattern keeps paths ('..', leading '/') and odd files away from ZoneInfo; the list
    # makes the accepted names exactly the ones the API documents.
    if not _ZONE_NAME.fullmatch(name) or name not in _zone_set():
        raise InvalidValidTime(f"unknown timezone {name!r}")
    try:
        ZoneInfo(name)  # cached by zoneinfo, so callers may build it again for free
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise InvalidValidTime(f"unknown timezone {name!r}") from None
    return name


@lru_cache(maxsize=1)
def _zone_set() -> frozenset[str]:
    return frozenset(zone_names())


def _require_text(value: object, what: str) -> str:
    """`value` itself, if it is a non-empty string without surrounding whitespace."""
    if not isinstance(value, str):
        raise InvalidValidTime(f"{what} must be a string, not {type(value).__name__}")
    if not value.strip():
        raise InvalidValidTime(f"{what} is empty")
    if value != value.strip():
        raise InvalidValidTime(f"{what} {value!r} has surrounding whitespace")
    return value


def _parse_datetime(text: str, *, clamp: bool = False) -> _Window:
    """The window of an RFC 3339 datetime with offset, possibly without minutes or seconds.

    With `clamp`, a moment whose shift to UTC leaves years 1..9999 becomes the first or last
    instant there (a query's as_of, not a fact's valid time)."""
    match = _DATETIME.fullmatch(text)
    if match is None:
        if any(char in text for char in "?~%"):
            raise InvalidValidTime(f"{text!r}: qualifiers ('?', '~', '%') apply to dates only")
        raise InvalidValidTime(
            f"{text!r} is not an RFC 3339 datetime: "
            "expected YYYY-MM-DDTHH[:MM[:SS[.ffffff]]] followed by Z or ±HH:MM"
        )
    minute, second, fraction, offset = match.groups()[4:]
    if offset is None:
        raise InvalidValidTime(f"datetime {text!r} has no UTC offset; add Z or ±HH:MM")
    local = _read_datetime(text, match)
    precision = Precision.SECOND if second else Precision.MINUTE if minute else Precision.HOUR
    span = timedelta(0) if fraction else timedelta(seconds=_SECONDS_IN[precision]) - _ONE_MICRO
    # The window stays inside its local hour, so only the shift to UTC can leave years 1..9999.
    try:
        end = local + span
    except OverflowError:
        end = datetime.max.replace(tzinfo=local.tzinfo)
    return _Window(_to_utc(local, text, clamp), _to_utc(end, text, clamp), precision)


def _read_datetime(text: str, match: re.Match[str]) -> datetime:
    """The aware local datetime of a text `_DATETIME` matched, or why it names no moment."""
    offset = match[8]
    # pendulum reads offsets of a day or more (+24:00) and carries minutes past 59 (+03:60 is
    # +04:00); RFC 3339 has neither.
    offset_ok = offset.upper() == "Z" or (offset[1:3] <= "23" and offset[4:6] <= "59")
    reason = f"offset {offset}"
    if offset_ok:
        try:
            # pendulum's ISO 8601 reader checks the calendar and the clock (leap years, no second
            # 60) and truncates digits past the microsecond, which keeps earliest a lower bound.
            # It reads 'T' and 'Z' in capitals only; the match has made the rest ISO 8601.
            parsed = parse_iso8601(text.upper())
        except ValueError as error:
            reason = str(error)
        else:
            if isinstance(parsed, datetime):  # a date and a time of day always read as one
                return parsed
            reason = f"read as a {type(parsed).__name__}"
    # Refused: say which field is wrong, in the API's words rather than pendulum's.
    y, mo, d, h, mi, s = (int(part or 0) for part in match.groups()[:6])
    problem = _calendar_problem(y, mo, d) or _clock_problem(h, mi, s, offset) or reason
    raise InvalidValidTime(f"{text!r} is not a valid datetime: {problem}")


def _clock_problem(hour: int, minute: int, second: int, offset: str) -> str | None:
    """What is wrong with a time of day and offset, or None."""
    if hour > 23:
        return f"hour {hour}"
    if minute > 59:
        return f"minute {minute}"
    if second == 60:
        return "second 60 (leap seconds are not supported)"
    if second > 59:
        return f"second {second}"
    if offset.upper() != "Z" and (int(offset[1:3]) > 23 or int(offset[4:6]) > 59):
        return f"offset {offset}"
    return None


def _calendar_problem(year: int, month: int, day: int) -> str | None:
    """What is wrong with a calendar date, or None."""
    if year < 1:
        return f"year {year} is outside 1..9999"
    if not 1 <= month <= 12:
        return f"month {month}"
    last = calendar.monthrange(year, month)[1]
    if not 1 <= day <= last:
        return f"day {day} ({year:04d}-{month:02d} has {last} days)"
    return None


def _parse_edtf(text: str, ends: list[str], zone: ZoneInfo) -> list[_Window]:
    """The window of each end of an EDTF level 0/1 date or interval, as whole days in `zone`."""
    windows: list[_Window] = []
    for end in ends:
        shape = _edtf_shape(end, in_interval=len(ends) == 2)
        if isinstance(shape, str):
            raise InvalidValidTime(f"{text!r} is not an EDTF level 0/1 date: {shape}")
        first, last = _edtf_days(shape.body, shape.season)
        if shape.season == 24:
            # edtf ends winter with December; the winter that starts in December runs into February.
            if first.year == 9999:
                raise InvalidValidTime(f"{text!r}: winter 9999 ends in year 10000, outside 1..9999")
            last = date(first.year + 1, 3, 1) - timedelta(days=1)
        start, stop = _day_start(first, zone, text), _day_end(last, zone, text)
        windows.append(_Window(start, stop, shape.precision))
    return windows


_PLAIN_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _edtf_days(body: str, season: int) -> tuple[date, date]:
    """The first and last calendar days of an unqualified EDTF level 0/1 date."""
    # The form most events are dated in, a plain day, read in C (edtf's grammar, through
    # pyparsing, took ~50 µs here for each day not yet in the cache: a fifth of an append's
    # checks). A day the calendar refuses is left to edtf, which says why.
    if not season and _PLAIN_DAY.fullmatch(body):
        try:
            day = date.fromisoformat(body)
        except ValueError:
            pass
        else:
            return day, day
    return _edtf_grammar_days(body, season)


@lru_cache(maxsize=4096)
def _edtf_grammar_days(body: str, season: int) -> tuple[date, date]:
    """The first and last calendar days of an unqualified EDTF level 0/1 date, read by edtf."""
    # Only the one rule that applies: parse_edtf also tries every level 2 rule, ten times slower.
    rule: Any = Season if season else Unspecified if "X" in body else Date
    try:
        parsed = rule.parser.parse_string(body, parse_all=True)[0]
    except Exception:
        # _edtf_shape has already checked the text, so this is edtf disagreeing, still bad input.
        raise InvalidValidTime(f"{body!r} is not an EDTF level 0/1 date") from None
    low, high = parsed.lower_strict(), parsed.upper_strict()
    return date(low.tm_year, low.tm_mon, low.tm_mday), date(high.tm_year, high.tm_mon, high.tm_mday)


def _edtf_shape(end: str, *, in_interval: bool) -> _Shape | str:
    """The precision and season of one EDTF level 0/1 date, or what keeps it from being one."""
    body = end[:-1] if end.endswith(("?", "~", "%")) else end
    if body.startswith(("-", "Y")):
        return "years outside 1..9999 are not supported"
    for char in body:
        if char in "?~%":
            return f"the qualifier {char!r} may appear only once, at the end"
        if char not in "0123456789X-":
            return f"unexpected character {char!r}"
    year, *rest = body.split("-")
    if len(rest) > 2:
        return "expected YYYY, YYYY-MM or YYYY-MM-DD"
    month = rest[0] if rest else None
    day = rest[1] if len(rest) > 1 else None
    if not _YEAR.fullmatch(year):
        return f"year '{year}' must be four digits, or end in X or XX"
    if int(year.replace("X", "0")) == 0:
        return f"year {year} is or includes year 0, outside 1..9999"
    if "X" in body and in_interval:
        return "unspecified digits (X) in an interval end are EDTF level 2"
    if "X" in year and rest:
        return "a month cannot follow unspecified year digits"
    if month is None or month == "XX":
        if day not in (None, "XX"):
            return "a day cannot follow an unspecified month"
        return _Shape(body, Precision.YEAR, 0)
    if not _TWO_DIGITS.fullmatch(month):
        return f"month '{month}' must be two digits or XX"
    number = int(month)
    if 21 <= number <= 24:
        if day is not None:
            return f"season {number} cannot have a day"
        if body != end and not in_interval:
            return "a qualified season is EDTF level 2"
        return _Shape(body, Precision.MONTH, number)
    if not 1 <= number <= 12:
        return f"month {number}"
    if day is None or day == "XX":
        return _Shape(body, Precision.MONTH, 0)
    if not _TWO_DIGITS.fullmatch(day):
        return f"day '{day}' must be two digits or XX"
    return _calendar_problem(int(year), number, int(day)) or _Shape(body, Precision.DAY, 0)


def _day_start(day: date, zone: ZoneInfo, text: str, clamp: bool = False) -> datetime:
    """The first instant of the local calendar day `day` in `zone`, in UTC."""
    # fold=0 maps a local midnight skipped by DST to the transition, the day's true first instant,
    # and a repeated midnight to its first pass. Not pendulum: its rule for a repeated time is the
    # later pass (a Havana day starting an hour late), and end_of("day") runs past a day the zone
    # skipped (Apia's 2011-12-30), which must be refused.
    return _to_utc(datetime(day.year, day.month, day.day, tzinfo=zone), text, clamp)


def _day_end(day: date, zone: ZoneInfo, text: str, clamp: bool = False) -> datetime:
    """The last microsecond of the local calendar day `day` in `zone`, in UTC."""
    if day == date.max:
        return _to_utc(datetime.combine(day, time.max, tzinfo=zone), text, clamp)
    # The next day's start never overflows: no zone is more than a day away from UTC.
    return _day_start(day + timedelta(days=1), zone, text) - _ONE_MICRO


def _to_utc(moment: datetime, text: str, clamp: bool = False) -> datetime:
    """`moment` in UTC, which must still fall within years 1..9999 unless clamped to them."""
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        if clamp:
            return _FIRST if moment.year == 1 else _LAST
        raise InvalidValidTime(f"{text!r} falls outside years 1..9999 in UTC") from None
