"""What request handlers depend on: the store, keys, idempotency records, webhook
subscriptions, the desk's sessions and the clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from api.log_horizon import LogHorizon
from store.idempotency import IdempotencyStore
from store.keys import KeyStore
from store.ports import Clock, EventStore
from store.rate_limits import RateLimiter
from store.sessions import SessionStore
from store.subscriptions import SubscriptionStore


def system_clock() -> datetime:
    """The server's clock, in UTC."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True, kw_only=True)
class Services:
    """The process-wide collaborators of the API, made once per app."""

    store: EventStore
    keys: KeyStore
    idempotency: IdempotencyStore
    subscriptions: SubscriptionStore
    sessions: SessionStore
    rate_limiter: RateLimiter | None = None
    clock: Clock = system_clock
    horizon: LogHorizon = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "horizon", LogHorizon(self.store))
