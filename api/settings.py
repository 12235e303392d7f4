"""Configuration from the environment, read once when the app is made."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import timedelta

from domain.webhooks import DEFAULT_RETRY_SCHEDULE, RetrySchedule
from store.database import DatabaseUrl, PostgresOptions, configured_url
from store.sessions import SessionLifetime

MAX_BODY_BYTES = 1024 * 1024
DAY_SECONDS = 86_400


def _number(name: str, default: str, *, low: float, high: float) -> float:
    text = os.environ.get(name) or default
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{name} must be a number, not {text!r}") from None
    if not low <= value <= high:
        raise ValueError(f"{name} must be within {low:g}..{high:g}, not {text!r}")
    return value


def _whole(name: str, default: str, *, low: int, high: int) -> int:
    text = (os.environ.get(name) or default).strip()
    if not (text.isascii() and text.isdigit()) or not low <= int(text) <= high:
        raise ValueError(f"{name} must be a whole number within {low}..{high}, not {text!r}")
    return int(text)


def _postgres_options() -> PostgresOptions:
    """The API's PostgreSQL sessions: a runaway statement, or a transaction left open by a
    stalled process (holding the append lock), is ended by the server, not waited for."""
    return PostgresOptions(
        statement_timeout=_number("TIMELINE_PG_STATEMENT_TIMEOUT", "30", low=0, high=86_400),
        idle_in_transaction_timeout=_number(
            "TIMELINE_PG_IDLE_IN_TRANSACTION_TIMEOUT", "60", low=0, high=86_400
        ),
        pool_size=_whole("TIMELINE_PG_POOL_SIZE", "10", low=1, high=1000),
    )


def _retry_schedule() -> RetrySchedule:
    text = os.environ.get("TIMELINE_WEBHOOK_RETRY_SCHEDULE") or DEFAULT_RETRY_SCHEDULE
    try:
        return RetrySchedule.parse(text)
    except ValueError as error:
        raise ValueError(f"TIMELINE_WEBHOOK_RETRY_SCHEDULE: {error}") from None


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookSettings:
    """How webhook deliveries are made and retried."""

    retry_schedule: RetrySchedule = field(default_factory=_retry_schedule)
    allow_private: bool = field(default_factory=lambda: _flag("TIMELINE_WEBHOOK_ALLOW_PRIVATE"))
    timeout: float = field(
        default_factory=lambda: _number("TIMELINE_WEBHOOK_TIMEOUT", "10", low=0.1, high=120)
    )
    concurrency: int = field(
        default_factory=lambda: int(_number("TIMELINE_WEBHOOK_CONCURRENCY", "4", low=0, high=64))
    )
    # Seconds the secret a rotation replaces goes on signing beside the new one (0: not at all).
    secret_overlap: float = field(
        default_factory=lambda: _number(
            "TIMELINE_WEBHOOK_SECRET_OVERLAP", str(DAY_SECONDS), low=0, high=30 * DAY_SECONDS
        )
    )
    # Seconds delivery attempts are kept before the worker prunes them (0: kept for ever).
    delivery_retention: float = field(
        default_factory=lambda: _number(
            "TIMELINE_DELIVERY_RETENTION", str(30 * DAY_SECONDS), low=0, high=3650 * DAY_SECONDS
        )
    )


def _write_rate_limit() -> tuple[int, int] | None:
    """TIMELINE_WRITE_RATE_LIMIT: `writes/seconds` per key (default 600/60); `0` turns it off."""
    text = (os.environ.get("TIMELINE_WRITE_RATE_LIMIT") or "600/60").strip()
    if text == "0":
        return None
    count, _, seconds = text.partition("/")
    if not (count.isascii() and count.isdigit() and seconds.isascii() and seconds.isdigit()):
        raise ValueError(f"TIMELINE_WRITE_RATE_LIMIT must look like 600/60, not {text!r}")
    if int(count) < 1 or not 1 <= int(seconds) <= 86_400:
        raise ValueError(f"TIMELINE_WRITE_RATE_LIMIT: {text!r} is out of range")
    return int(count), int(seconds)


def _desk_lifetime() -> SessionLifetime:
    """TIMELINE_DESK_SESSION_IDLE (seconds since last use, default an hour) and
    TIMELINE_DESK_SESSION_LIFETIME (seconds since sign-in, default 12 hours)."""
    idle = _whole("TIMELINE_DESK_SESSION_IDLE", "3600", low=60, high=DAY_SECONDS)
    absolute = _whole(
        "TIMELINE_DESK_SESSION_LIFETIME", str(12 * 3600), low=300, high=30 * DAY_SECONDS
    )
    return SessionLifetime(idle=timedelta(seconds=idle), absolute=timedelta(seconds=absolute))


@dataclass(frozen=True, slots=True, kw_only=True)
class DeskSettings:
    """The editors' desk: how long its sessions live and whether their cookie is `Secure`."""

    lifetime: SessionLifetime = field(default_factory=_desk_lifetime)
    # `Secure` always, for a TLS proxy uvicorn does not trust (FORWARDED_ALLOW_IPS); otherwise
    # whenever the request came over https (a trusted proxy's X-Forwarded-Proto included).
    secure_cookie: bool = field(default_factory=lambda: _flag("TIMELINE_DESK_SECURE_COOKIE"))


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    """What a running API needs to know."""

    database_url: DatabaseUrl = field(default_factory=configured_url)
    host: str = field(default_factory=lambda: os.environ.get("TIMELINE_HOST", "127.0.0.1"))
    port: int = field(default_factory=lambda: int(os.environ.get("TIMELINE_PORT", "8000")))
    max_body_bytes: int = MAX_BODY_BYTES
    webhooks: WebhookSettings = field(default_factory=WebhookSettings)
    desk: DeskSettings = field(default_factory=DeskSettings)
    write_rate_limit: tuple[int, int] | None = field(default_factory=_write_rate_limit)
    # Reliability drills only (api/drill_faults.py): die after this share of idempotent appends.
    crash_after_commit: float = field(
        default_factory=lambda: _number("TIMELINE_DRILL_CRASH_AFTER_COMMIT", "0", low=0, high=1)
    )
    drill_seed: int = field(
        default_factory=lambda: int(_number("TIMELINE_DRILL_SEED", "0", low=0, high=2**31))
    )
    postgres: PostgresOptions = field(default_factory=_postgres_options)
