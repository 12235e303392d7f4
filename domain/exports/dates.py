"""Valid time as people read it: a span in local time, TimelineJS date parts, and words.

Dates are shown where the event happened: a date-only valid time in its own timezone, a datetime
at the offset it was written with. TimelineJS and spreadsheets know no timezones, so the offset
goes into the display date.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

from domain.errors import InvalidValidTime
from domain.valid_time import Precision, ValidTime, parse_valid_time

MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
# Precision is declared coarsest first, so its members line up with a datetime's fields.
DATE_FIELDS = ("year", "month", "day", "hour", "minute", "second")
CLOCK_PRECISIONS = frozenset({Precision.HOUR, Precision.MINUTE, Precision.SECOND})
# Ranges are written with an en dash: closed up between numbers, spaced between phrases.
DASH = "\u2013"
SPACED_DASH = f" {DASH} "

_DATETIME_END = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt]")
_OFFSET = re.compile(r"(?:([Zz])|([+-])([0-9]{2}):([0-9]{2}))$")


@dataclass(frozen=True, slots=True, kw_only=True)
class Span:
    """A valid time where it happened: its first and last instants in local time, each at the
    precision its end was written with, and its qualifiers."""

    start: datetime
    start_precision: Precision
    end: datetime
    end_precision: Precision
    qualifiers: tuple[str, ...] = ()

    @property
    def start_parts(self) -> dict[str, int]:
        """The start as date parts, down to its precision."""
        return date_parts(self.start, self.start_precision)

    @property
    def end_parts(self) -> dict[str, int]:
        """The end as date parts, down to its precision."""
        return date_parts(self.end, self.end_precision)

    @property
    def has_end(self) -> bool:
        """Whether the valid time runs past the unit it starts in (a range, not one day)."""
        return self.start_parts != self.end_parts

    @property
    def uncertain(self) -> bool:
        """Whether a reader needs words, not just a date: a range, a qualifier, or anything
        coarser than a second."""
        return self.has_end or bool(self.qualifiers) or self.start_precision != Precision.SECOND


def span_of(valid_time: ValidTime) -> Span:
    """The local reading of a valid time."""
    ends = valid_time.expression.split("/")
    first, last = ends[0], ends[-1]
    start_precision = end_precision = valid_time.precision
    if len(ends) == 2:
        start_precision = _end_precision(first, valid_time)
        end_precision = _end_precision(last, valid_time)
    return Span(
        start=valid_time.earliest.astimezone(_frame(first, valid_time.timezone)),
        start_precision=start_precision,
        end=valid_time.latest.astimezone(_frame(last, valid_time.timezone)),
        end_precision=end_precision,
        qualifiers=valid_time.qualifiers(),
    )


def _frame(end: str, zone: str) -> tzinfo:
    """Where one written end is read: the offset a datetime carries, else the event's zone."""
    if not _DATETIME_END.match(end):
        return ZoneInfo(zone)
    offset = _OFFSET.search(end)
    if offset is None or offset.group(1):
        return UTC
    sign, hours, minutes = offset.group(2), int(offset.group(3)), int(offset.group(4))
    shift = timedelta(hours=hours, minutes=minutes)
    return timezone(-shift if sign == "-" else shift)


def _end_precision(end: str, valid_time: ValidTime) -> Precision:
    try:
        return parse_valid_time(end, valid_time.timezone).precision
    except InvalidValidTime:
        # Some ends are valid only inside an interval (a qualified season): the whole will do.
        return valid_time.precision


def date_parts(moment: datetime, precision: Precision) -> dict[str, int]:
    """A local moment as TimelineJS date parts, down to a precision and no further."""
    count = list(Precision).index(precision) + 1
    return {field: int(getattr(moment, field)) for field in DATE_FIELDS[:count]}


def display_date(span: Span) -> str:
    """A valid time in words: '11 March 2025', 'March 2025 (approximate)', '11 March 2025,
    09:00 UTC+03:00'; ranges joined by an en dash."""
    text = _range_words(span)
    return f"{text} ({', '.join(span.qualifiers)})" if span.qualifiers else text


def _range_words(span: Span) -> str:
    a, b = span.start, span.end
    pa, pb = span.start_precision, span.end_precision
    if pa in CLOCK_PRECISIONS and pb in CLOCK_PRECISIONS:
        return _clock_range_words(span)
    if not span.has_end:
        return _date_words(a, pa)
    if pa == pb == Precision.DAY and (a.year, a.month) == (b.year, b.month):
        return f"{a.day}{DASH}{b.day} {MONTHS[a.month - 1]} {a.year}"
    if pa == pb == Precision.DAY and a.year == b.year:
        return f"{a.day} {MONTHS[a.month - 1]}{SPACED_DASH}{b.day} {MONTHS[b.month - 1]} {a.year}"
    if pa == pb == Precision.MONTH and a.year == b.year:
        return f"{MONTHS[a.month - 1]}{DASH}{MONTHS[b.month - 1]} {a.year}"
    if pa == pb == Precision.YEAR:
        return f"{a.year}{DASH}{b.year}"
    return f"{_date_words(a, pa)}{SPACED_DASH}{_date_words(b, pb)}"


def _clock_range_words(span: Span) -> str:
    a, b = span.start, span.end
    first, last = clock(a, span.start_precision), clock(b, span.end_precision)
    if a.date() == b.date() and a.utcoffset() == b.utcoffset():
        times = first if first == last else f"{first}{DASH}{last}"
        return f"{_date_words(a, Precision.DAY)}, {times} {zone_label(a)}"
    return (
        f"{_date_words(a, Precision.DAY)}, {first} {zone_label(a)}{SPACED_DASH}"
        f"{_date_words(b, Precision.DAY)}, {last} {zone_label(b)}"
    )


def _date_words(moment: datetime, precision: Precision) -> str:
    if precision == Precision.YEAR:
        return str(moment.year)
    if precision == Precision.MONTH:
        return f"{MONTHS[moment.month - 1]} {moment.year}"
    return f"{moment.day} {MONTHS[moment.month - 1]} {moment.year}"


def clock(moment: datetime, precision: Precision) -> str:
    """The local time of day: to the second when written so, else to the minute (the last
    minute of a range written to the hour is its :59)."""
    if precision == Precision.SECOND:
        return f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}"
    return f"{moment.hour:02d}:{moment.minute:02d}"


def zone_label(moment: datetime) -> str:
    """'UTC', or 'UTC+03:00' / 'UTC-04:00'."""
    offset = moment.utcoffset() or timedelta(0)
    if not offset:
        return "UTC"
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(offset) // timedelta(minutes=1)
    return f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"
