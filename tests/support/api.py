"""The API in-process over a fresh database, with a key of each kind, and the assertions its
tests share about problem documents."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from uuid import uuid4

from litestar.testing import AsyncTestClient

from api.app import create_app
from api.services import Services
from api.settings import Settings, WebhookSettings
from store.database import DatabaseUrl
from store.factory import open_store
from store.idempotency import IdempotencyStore
from store.keys import KeyStore
from store.sessions import SqlSessionStore
from store.subscriptions import SubscriptionStore
from tests.builders import draft, raw_source
from tests.clock import FrozenClock


@dataclass
class Api:
    """A client, the store behind it, and bearer headers for each scope."""

    client: AsyncTestClient  # type: ignore[type-arg]
    services: Services
    writer: dict[str, str]
    subscriber: dict[str, str]
    revoked: dict[str, str]


def problem(response: Any, status: int, slug: str) -> dict[str, Any]:
    """Assert a problem document of this status and type; its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["type"].endswith(f"/{slug}")
    assert body["status"] == status
    assert body["title"] and body["detail"]
    return body


def bearer(token: str) -> dict[str, str]:
    """The Authorization header for a key."""
    return {"Authorization": f"Bearer {token}"}


@asynccontextmanager
async def serving(
    url: DatabaseUrl, clock: FrozenClock, *, seeded: bool = False
) -> AsyncIterator[Api]:
    """The API over a fresh database, with a key of each kind; optionally seeded."""
    store = open_store(url, clock)
    keys = KeyStore(store.engine, store.read_path)
    services = Services(
        store=store,
        keys=keys,
        idempotency=IdempotencyStore(store.engine),
        subscriptions=SubscriptionStore(store.engine, store.backend, store.read_path),
        sessions=SqlSessionStore(store.engine),
        clock=clock,
    )
    _, writer = await keys.create("writer", frozenset({"events:write"}), clock())
    _, subscriber = await keys.create("subscriber", frozenset({"subscriptions:write"}), clock())
    revoked_key, revoked = await keys.create("gone", frozenset({"events:write"}), clock())
    await keys.revoke(revoked_key.id, clock())
    if seeded:
        from api.seeding import seed

        await seed(store, clock)
    # No delivery worker: webhook deliveries are tested against real receivers in e2e/.
    settings = Settings(webhooks=WebhookSettings(concurrency=0, allow_private=False))
    try:
        async with AsyncTestClient(app=create_app(settings, services=services)) as client:
            yield Api(client, services, bearer(writer), bearer(subscriber), bearer(revoked))
    finally:
        await store.close()


async def log_moves_on(api: Api, **delta: float) -> None:
    """Move the clock on and append an unrelated event then: every moment before it is now
    settled (the log has passed it; see api.log_horizon)."""
    clock: FrozenClock = api.services.clock  # type: ignore[assignment]
    clock.advance(**delta)
    await api.services.store.append("later", [draft(raw_source(f"later-{uuid4().hex[:8]}"))])
