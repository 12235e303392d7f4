"""Webhook delivery rules: the retry schedule, the verdict on an attempt, Retry-After, refusals."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.webhooks import (
    DEFAULT_RETRY_SCHEDULE,
    JITTER,
    MAX_RETRY_AFTER,
    RetrySchedule,
    Verdict,
    address_refusal,
    decide,
    overlap_end,
    parse_retry_after,
    signing_secrets,
)

NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)
DEFAULT = RetrySchedule.parse(DEFAULT_RETRY_SCHEDULE)
TOLERANCE = 1e-9  # relative: the jittered delay is one float multiplication off the exact bound

# A schedule of 2..10 attempts, and an attempt number that still leaves a retry.
schedules = st.lists(
    st.floats(min_value=0, max_value=MAX_RETRY_AFTER), min_size=2, max_size=10
).map(lambda delays: RetrySchedule(tuple(delays)))
jitters = st.floats(min_value=0, max_value=1, exclude_max=True)


@st.composite
def retrying(draw: st.DrawFn) -> tuple[RetrySchedule, int]:
    """A schedule and an attempt number after which it retries."""
    schedule = draw(schedules)
    return schedule, draw(st.integers(min_value=1, max_value=schedule.attempts - 1))


# RetrySchedule.parse


def test_the_default_schedule_parses_to_seven_attempts() -> None:
    assert DEFAULT.attempts == 7
    assert DEFAULT.delays == (0.0, 5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0)


def test_a_schedule_takes_fractions_and_spaces() -> None:
    assert RetrySchedule.parse(" 0, 0.25 ,1.5").delays == (0.0, 0.25, 1.5)


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("0,5,soon", "soon"),
        ("0,-1", "-1"),
        ("0,86401", "86401"),
        ("0,1e9", "1e9"),
        ("0,,5", "''"),
        ("", "''"),
        ("0,nan", "nan"),
        ("0,inf", "inf"),
    ],
)
def test_a_bad_schedule_item_is_refused_by_name(text: str, named: str) -> None:
    with pytest.raises(ValueError, match="retry") as caught:
        RetrySchedule.parse(text)
    assert named in str(caught.value)


# decide


def verdict_on(
    status: int | None,
    *,
    attempt: int = 1,
    error: str | None = None,
    retry_after: float | None = None,
    jitter: float = 0.5,
    schedule: RetrySchedule = DEFAULT,
) -> tuple[Verdict, float, str | None]:
    """The verdict, delay and reason `decide` gives."""
    decision = decide(
        attempt=attempt,
        status=status,
        error=error,
        retry_after=retry_after,
        schedule=schedule,
        jitter=jitter,
    )
    return decision.verdict, decision.delay, decision.reason


@pytest.mark.parametrize("status", range(200, 300))
def test_every_2xx_is_delivered(status: int) -> None:
    assert verdict_on(status, attempt=DEFAULT.attempts)[0] is Verdict.DELIVERED


@pytest.mark.parametrize("attempt", [1, 7])
def test_410_gone_disables_at_once(attempt: int) -> None:
    verdict, _, reason = verdict_on(410, attempt=attempt)
    assert verdict is Verdict.DISABLE
    assert reason is not None and "410" in reason


@pytest.mark.parametrize(
    ("status", "error", "shown"),
    [
        (500, None, "500"),
        (503, None, "503"),
        (404, None, "404"),
        (301, None, "301"),
        (199, None, "199"),
        (None, "ConnectError: connection refused", "connection refused"),
        (None, "no answer within 10 s", "no answer within 10 s"),
    ],
)
def test_other_answers_are_retried_until_the_schedule_runs_out(
    status: int | None, error: str | None, shown: str
) -> None:
    for attempt in range(1, DEFAULT.attempts):
        verdict, _, reason = verdict_on(status, attempt=attempt, error=error)
        assert verdict is Verdict.RETRY
        assert reason is not None and shown in reason
    verdict, _, reason = verdict_on(status, attempt=DEFAULT.attempts, error=error)
    assert verdict is Verdict.DISABLE
    assert reason is not None
    assert str(DEFAULT.attempts) in reason
    assert shown in reason


def test_the_delay_before_attempt_n_plus_one_is_the_schedules_nth() -> None:
    # jitter 0.5 is the unstretched delay: before attempt 2 comes delays[1], 5 s
    assert verdict_on(500, attempt=1, jitter=0.5)[1] == pytest.approx(5.0)
    assert verdict_on(500, attempt=2, jitter=0.5)[1] == pytest.approx(300.0)
    assert verdict_on(500, attempt=6, jitter=0.5)[1] == pytest.approx(36000.0)


@given(retrying(), jitters)
def test_a_retry_delay_stays_within_the_jitter_of_the_schedule(
    case: tuple[RetrySchedule, int], jitter: float
) -> None:
    schedule, attempt = case
    verdict, delay, _ = verdict_on(500, attempt=attempt, jitter=jitter, schedule=schedule)
    expected = schedule.delays[attempt]
    assert verdict is Verdict.RETRY
    assert expected * (1 - JITTER) * (1 - TOLERANCE) <= delay
    assert delay <= expected * (1 + JITTER) * (1 + TOLERANCE)


@given(retrying(), jitters, st.floats(min_value=0, max_value=10 * MAX_RETRY_AFTER))
def test_retry_after_lengthens_the_delay_but_never_past_a_day(
    case: tuple[RetrySchedule, int], jitter: float, retry_after: float
) -> None:
    schedule, attempt = case
    _, jittered, _ = verdict_on(503, attempt=attempt, jitter=jitter, schedule=schedule)
    verdict, delay, _ = verdict_on(
        503, attempt=attempt, jitter=jitter, schedule=schedule, retry_after=retry_after
    )
    assert verdict is Verdict.RETRY
    assert delay >= min(retry_after, MAX_RETRY_AFTER)
    assert delay == max(jittered, min(retry_after, MAX_RETRY_AFTER))


def test_retry_after_does_not_save_the_last_attempt() -> None:
    assert verdict_on(503, attempt=DEFAULT.attempts, retry_after=5)[0] is Verdict.DISABLE


# parse_retry_after


def test_retry_after_in_seconds() -> None:
    assert parse_retry_after("120", NOW) == 120.0
    assert parse_retry_after(" 0 ", NOW) == 0.0


def test_retry_after_as_an_http_date() -> None:
    when = format_datetime(NOW + timedelta(seconds=30), usegmt=True)
    assert parse_retry_after(when, NOW) == pytest.approx(30.0)


def test_retry_after_in_the_past_is_zero() -> None:
    when = format_datetime(NOW - timedelta(hours=1), usegmt=True)
    assert parse_retry_after(when, NOW) == 0.0


@pytest.mark.parametrize("value", [None, "", "soon", "-5", "1.5", "Friday", "Mon, 99 Foo 2026"])
def test_an_unusable_retry_after_is_none(value: str | None) -> None:
    assert parse_retry_after(value, NOW) is None


def test_a_digit_that_is_not_a_decimal_is_unusable_not_a_crash() -> None:
    assert parse_retry_after("²", NOW) is None


# address_refusal


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.5.6.7",
        "::1",
        "10.1.2.3",
        "192.168.0.1",
        "172.16.5.4",
        "fd00::1",
        "169.254.169.254",
        "fe80::1",
        "fe80::1%eth0",
        "0.0.0.0",
        "::",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "224.0.0.1",
        "ff02::1",
        "100.64.0.1",
        "255.255.255.255",
    ],
)
def test_non_public_addresses_are_refused_with_a_reason(address: str) -> None:
    reason = address_refusal(address)
    assert reason is not None
    assert "address" in reason


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert address_refusal(address) is None


@pytest.mark.parametrize("text", ["example.com", "", "999.1.1.1", "localhost"])
def test_what_is_not_an_ip_address_is_refused(text: str) -> None:
    reason = address_refusal(text)
    assert reason is not None and "not an IP address" in reason


@given(st.ip_addresses(v=4))
def test_an_ipv4_address_is_allowed_exactly_when_it_is_global_unicast(
    ip: ipaddress.IPv4Address,
) -> None:
    allowed = address_refusal(str(ip)) is None
    assert allowed == (ip.is_global and not ip.is_multicast)


@given(st.ip_addresses(v=4))
def test_an_ipv4_mapped_address_is_judged_as_its_ipv4_address(ip: ipaddress.IPv4Address) -> None:
    assert (address_refusal(f"::ffff:{ip}") is None) == (address_refusal(str(ip)) is None)


# Which secrets sign: the current one, and the one a rotation replaced until its overlap ends

instants = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC)
)


@given(instants, st.one_of(st.none(), instants), st.booleans())
def test_the_replaced_secret_signs_beside_the_current_one_exactly_until_its_overlap_ends(
    now: datetime, until: datetime | None, rotated: bool
) -> None:
    previous = "whsec_old" if rotated else None
    secrets = signing_secrets("whsec_new", previous, until, now)
    overlapping = rotated and until is not None and now < until
    assert secrets == (("whsec_new", "whsec_old") if overlapping else ("whsec_new",))
    assert overlap_end(previous, until, now) == (until if overlapping else None)


def test_at_the_end_of_the_overlap_only_the_current_secret_signs() -> None:
    assert signing_secrets("whsec_new", "whsec_old", NOW, NOW) == ("whsec_new",)
    earlier = NOW - timedelta(microseconds=1)
    assert signing_secrets("whsec_new", "whsec_old", NOW, earlier) == ("whsec_new", "whsec_old")
