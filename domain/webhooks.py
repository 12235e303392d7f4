"""Webhook delivery rules: the retry schedule, what an attempt's answer means, which callback
addresses are refused, which secrets sign. Pure: the clock, the randomness and the network are
the caller's."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from enum import StrEnum

DEFAULT_RETRY_SCHEDULE = "0,5,300,1800,7200,18000,36000"
JITTER = 0.2  # each delay is stretched or shrunk by up to this fraction
MAX_RETRY_AFTER = 86_400.0  # a receiver cannot park a subscription for more than a day
GONE = 410


@dataclass(frozen=True, slots=True)
class RetrySchedule:
    """Seconds to wait before each attempt at one event; the first is usually 0."""

    delays: tuple[float, ...]

    @classmethod
    def parse(cls, text: str) -> RetrySchedule:
        """`0,5,300` into a schedule; ValueError names what is wrong."""
        delays: list[float] = []
        for item in text.split(","):
            try:
                delay = float(item.strip())
            except ValueError:
                raise ValueError(f"retry schedule item {item.strip()!r} is not a number") from None
            if not 0 <= delay <= MAX_RETRY_AFTER:
                raise ValueError(f"retry delays must be within 0..{MAX_RETRY_AFTER:g} s: {item!r}")
            delays.append(delay)
        return cls(tuple(delays))

    @property
    def attempts(self) -> int:
        """How many attempts an event gets before the subscription is disabled."""
        return len(self.delays)


class Verdict(StrEnum):
    """What happens after an attempt."""

    DELIVERED = "delivered"
    RETRY = "retry"
    DISABLE = "disable"


@dataclass(frozen=True, slots=True)
class Decision:
    """The verdict on an attempt, with the wait before the next one or why we stop."""

    verdict: Verdict
    delay: float = 0.0
    reason: str | None = None


def decide(
    *,
    attempt: int,
    status: int | None,
    error: str | None,
    retry_after: float | None,
    schedule: RetrySchedule,
    jitter: float,
) -> Decision:
    """The verdict on attempt number `attempt` (1-based) at one event.

    `status` is the receiver's HTTP status (None when no answer came, with `error` saying why);
    `jitter` is a number in [0, 1) drawn by the caller.
    """
    if status is not None and 200 <= status < 300:
        return Decision(Verdict.DELIVERED)
    if status == GONE:
        return Decision(Verdict.DISABLE, reason="the receiver answered 410 Gone")
    failure = error or f"the receiver answered HTTP {status}"
    if attempt >= schedule.attempts:
        return Decision(
            Verdict.DISABLE,
            reason=f"{attempt} attempts at one event failed in a row; the last: {failure}",
        )
    delay = schedule.delays[attempt] * (1 - JITTER + 2 * JITTER * jitter)
    if retry_after is not None:
        delay = max(delay, min(retry_after, MAX_RETRY_AFTER))
    return Decision(Verdict.RETRY, delay=delay, reason=failure)


def overlap_end(
    previous: str | None, previous_until: datetime | None, now: datetime
) -> datetime | None:
    """When the secret a rotation replaced stops signing, if it still signs at `now`."""
    if previous is not None and previous_until is not None and now < previous_until:
        return previous_until
    return None


def signing_secrets(
    current: str, previous: str | None, previous_until: datetime | None, now: datetime
) -> tuple[str, ...]:
    """The secrets a delivery made at `now` is signed with: the current one first, and the one a
    rotation replaced while its overlap lasts (Standard Webhooks lets `webhook-signature` carry
    several), so a receiver can switch to the new secret at any moment of the overlap."""
    if previous is not None and overlap_end(previous, previous_until, now) is not None:
        return (current, previous)
    return (current,)


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """A Retry-After header (seconds or an HTTP date) as seconds from `now`; None if unusable."""
    if value is None:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - now).total_seconds())


def address_refusal(address: str) -> str | None:
    """Why a callback may not go to this IP address, or None when it is a public one."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return f"{address!r} is not an IP address"
    if isinstance(ip, ipaddress.IPv6Address):
        # An IPv4 address carried inside IPv6 (mapped, 6to4, Teredo) is judged as itself.
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None:
            return address_refusal(str(embedded))
    for kind, flag in (
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("private", ip.is_private),
        ("multicast", ip.is_multicast),
        ("unspecified", ip.is_unspecified),
        ("reserved", ip.is_reserved),
        ("non-public", not ip.is_global),
    ):
        if flag:
            return f"{ip} is a {kind} address"
    return None
