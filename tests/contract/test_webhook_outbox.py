"""The webhook outbox on every SQL backend: leases are exclusive, settlements need the lease,
and the worker delivers each subscription's events in log order with the scheduled retries."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from uuid import UUID

import httpx
import pytest
from standardwebhooks import Webhook

from api.notifier import Notifier
from api.settings import WebhookSettings
from api.webhook_delivery import DeliveryWorker
from domain.webhooks import RetrySchedule
from store.database import DatabaseUrl
from store.factory import open_store
from store.sql import SqlEventStore
from store.subscriptions import DISABLED, Settlement, Subscription, SubscriptionStore
from tests.builders import draft, raw_source
from tests.clock import FrozenClock
from tests.support.backends import SQL_BACKENDS

pytestmark = pytest.mark.parametrize("database_url", SQL_BACKENDS, indirect=True)
LEASE = timedelta(seconds=30)
URL = "https://receiver.example/hook"


@pytest.fixture
async def store(database_url: DatabaseUrl, clock: FrozenClock) -> AsyncIterator[SqlEventStore]:
    sql_store = open_store(database_url, clock)
    try:
        yield sql_store
    finally:
        await sql_store.close()


@pytest.fixture
def outbox(store: SqlEventStore) -> SubscriptionStore:
    return SubscriptionStore(store.engine, store.backend)


async def append(store: SqlEventStore, stream: str, count: int) -> list[UUID]:
    result = await store.append(stream, [draft(raw_source(f"{stream}-{n}")) for n in range(count)])
    return [event.id for event in result.events]


async def subscribe(
    outbox: SubscriptionStore, clock: FrozenClock, cursor: int = 0, **wanted: object
) -> Subscription:
    return await outbox.create(
        owner="k", url=URL, filter=dict(wanted), description=None, cursor=cursor, now=clock()
    )


async def test_a_subscription_is_claimed_only_when_behind_the_head_and_due(
    store: SqlEventStore, outbox: SubscriptionStore, clock: FrozenClock
) -> None:
    made = await subscribe(outbox, clock)
    assert await outbox.claim(head=0, now=clock(), lease=LEASE) is None
    await append(store, "a", 1)
    held = await outbox.claim(head=1, now=clock(), lease=LEASE)
    assert held is not None and held.id == made.id and held.lease_token
    assert await outbox.claim(head=1, now=clock(), lease=LEASE) is None, "leased"
    clock.advance(seconds=31)
    again = await outbox.claim(head=1, now=clock(), lease=LEASE)
    assert again is not None and again.lease_token != held.lease_token, "the lease expired"


async def test_concurrent_claims_from_two_processes_lease_a_subscription_once(
    store: SqlEventStore,
    outbox: SubscriptionStore,
    clock: FrozenClock,
    database_url: DatabaseUrl,
) -> None:
    await subscribe(outbox, clock)
    await append(store, "a", 1)
    other = open_store(database_url, clock)
    try:
        outboxes = [outbox, SubscriptionStore(other.engine, other.backend)] * 5
        claims = await asyncio.gather(
            *(o.claim(head=1, now=clock(), lease=LEASE) for o in outboxes)
        )
    finally:
        await other.close()
    assert len([c for c in claims if c is not None]) == 1


async def test_a_settlement_without_the_lease_moves_nothing(
    store: SqlEventStore, outbox: SubscriptionStore, clock: FrozenClock
) -> None:
    made = await subscribe(outbox, clock)
    await append(store, "a", 2)
    held = await outbox.claim(head=2, now=clock(), lease=LEASE)
    assert held is not None
    clock.advance(seconds=31)
    taken = await outbox.claim(head=2, now=clock(), lease=LEASE)
    assert taken is not None
    moved = Settlement(cursor=2, attempts=0, next_attempt_at=clock())
    assert not await outbox.settle(held, moved, now=clock(), lease=None)
    assert (await outbox.get(made.id)).cursor == 0  # type: ignore[union-attr]
    assert await outbox.settle(taken, moved, now=clock(), lease=None)
    assert (await outbox.get(made.id)).cursor == 2  # type: ignore[union-attr]


async def test_disabled_and_deleted_subscriptions_are_not_claimed(
    store: SqlEventStore, outbox: SubscriptionStore, clock: FrozenClock
) -> None:
    disabled = await subscribe(outbox, clock)
    deleted = await subscribe(outbox, clock)
    await append(store, "a", 1)
    held = await outbox.claim(head=1, now=clock(), lease=LEASE)
    assert held is not None and held.id in (disabled.id, deleted.id)
    stop = Settlement(
        cursor=0, attempts=3, next_attempt_at=clock(), status=DISABLED, disabled_reason="why"
    )
    assert await outbox.settle(held, stop, now=clock(), lease=None)
    other = deleted if held.id == disabled.id else disabled
    assert await outbox.delete(other.id, clock())
    assert await outbox.claim(head=1, now=clock(), lease=LEASE) is None
    assert await outbox.get(other.id) is None
    assert await outbox.reactivate(held.id, clock())
    assert await outbox.claim(head=1, now=clock(), lease=LEASE) is not None


Handler = Callable[[httpx.Request], httpx.Response]


async def run_worker(
    store: SqlEventStore,
    outbox: SubscriptionStore,
    clock: FrozenClock,
    handler: Handler,
    schedule: str = "0,10,60",
) -> DeliveryWorker:
    """Serve until no subscription is due at the clock's time."""
    worker = DeliveryWorker(
        store=store,
        subscriptions=outbox,
        notifier=Notifier(),
        settings=WebhookSettings(
            retry_schedule=RetrySchedule.parse(schedule), allow_private=True, timeout=5
        ),
        clock=clock,
        draw=lambda: 0.5,  # no jitter: the middle of the band
    )
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        while await worker.step(client):
            pass
    return worker


async def test_the_worker_delivers_matching_events_in_log_order_signed(
    store: SqlEventStore, outbox: SubscriptionStore, clock: FrozenClock
) -> None:
    clock.now = datetime.now(UTC)  # receivers refuse signatures over five minutes old
    made = await subscribe(outbox, clock, stream="wanted")
    wanted = []
    for _ in range(3):
        wanted += await append(store, "wanted", 2)
        await append(store, "other", 1)
    received: list[httpx.Request] = []

    def accept(request: httpx.Request) -> httpx.Response:
        received.append(request)
        return httpx.Response(204)

    await run_worker(store, outbox, clock, accept)
    assert [r.headers["webhook-id"] for r in received] == [str(i) for i in wanted]
    for request in received:
        body = Webhook(made.secret).verify(request.content, dict(request.headers))
        assert body["data"]["id"] == request.headers["webhook-id"]
        assert json.loads(request.content)["type"] == "SourceRegistered"
    state = await outbox.get(made.id)
    assert state is not None and state.cursor == await store.head()
    attempts = await outbox.attempts(made.id, before=None, limit=100)
    assert [a.outcome for a in attempts] == ["delivered"] * 6


async def test_failures_wait_for_the_schedule_and_later_events_wait_behind_them(
    store: SqlEventStore, outbox: SubscriptionStore, clock: FrozenClock
) -> None:
    made = await subscribe(outbox, clock)
    first, second = await append(store, "a", 2)
    answers = iter([503, 500, 200, 200])
    received: list[str] = []

    def flaky(request: httpx.Request) -> httpx.Response:
        received.append(request.headers["webhook-id"])
        return httpx.Response(next(answers))

    await run_worker(store, outbox, clock, flaky)
    assert received == [str(first)], "the second waits behind the first"
    state = await outbox.get(made.id)
    assert state is not None and state.attempts == 1
    assert state.next_attempt_at == clock() + timedelta(seconds=10)

    clock.advance(seconds=9)
    await run_worker(store, outbox, clock, flaky)
    assert received == [str(first)], "not due yet"
    clock.advance(seconds=1)
    await run_worker(store, outbox, clock, flaky)
    assert received == [str(first)] * 2
    clock.advance(seconds=60)
    await run_worker(store, outbox, clock, flaky)
    assert received == [str(first)] * 3 + [str(second)]
    attempts = await outbox.attempts(made.id, before=None, limit=100)
    assert [(a.attempt, a.status_code, a.outcome) for a in reversed(attempts)] == [
        (1, 503, "retry"),
        (2, 500, "retry"),
        (3, 200, "delivered"),
        (1, 200, "delivered"),
    ]


async def test_exhausting_the_schedule_disables_with_the_reason(
    store: SqlEventStore, outbox: SubscriptionStore, clock: FrozenClock
) -> None:
    made = await subscribe(outbox, clock)
    await append(store, "a", 1)

    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    for _ in range(3):
        await run_worker(store, outbox, clock, down, schedule="0,1,1")
        clock.advance(seconds=2)
    state = await outbox.get(made.id)
    assert state is not None and state.status == DISABLED
    assert state.disabled_reason is not None
    assert "3 attempts" in state.disabled_reason and "connection refused" in state.disabled_reason
    assert state.cursor == 0, "the undelivered event is still next"
