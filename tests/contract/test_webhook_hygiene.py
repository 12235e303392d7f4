"""Webhook hygiene on every SQL backend (the outbox has no in-memory adapter): rotating a signing
secret with an overlap in which both secrets sign, and pruning delivery attempts past their
retention in bounded batches — never those at an event a subscription has still to get past."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import httpx
import pytest
from standardwebhooks import Webhook

import api.webhook_delivery as delivery
from api.notifier import Notifier
from api.settings import WebhookSettings
from api.webhook_delivery import DeliveryWorker
from domain.webhooks import RetrySchedule
from store.database import DatabaseUrl
from store.factory import open_store
from store.sql import SqlEventStore
from store.subscriptions import (
    DISABLED,
    DeliveryAttempt,
    Settlement,
    Subscription,
    SubscriptionStore,
)
from tests.builders import draft, raw_source
from tests.clock import FrozenClock
from tests.support.backends import SQL_BACKENDS

pytestmark = pytest.mark.parametrize("database_url", SQL_BACKENDS, indirect=True)
LEASE = timedelta(seconds=30)
DAY = timedelta(days=1)
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


async def subscribe(outbox: SubscriptionStore, clock: FrozenClock) -> Subscription:
    return await outbox.create(
        owner="k", url=URL, filter={}, description=None, cursor=0, now=clock()
    )


async def append(store: SqlEventStore, count: int) -> None:
    await store.append("s", [draft(raw_source(f"s-{n}")) for n in range(count)])


# Secret rotation


async def test_a_rotation_keeps_the_old_secret_beside_the_new_one_for_the_overlap(
    outbox: SubscriptionStore, clock: FrozenClock
) -> None:
    made = await subscribe(outbox, clock)
    clock.advance(hours=1)
    rotated = await outbox.rotate_secret(made.id, now=clock(), overlap=DAY)
    assert rotated is not None
    assert rotated.secret.startswith("whsec_") and rotated.secret != made.secret
    assert rotated.previous_secret == made.secret
    assert rotated.previous_secret_until == clock() + DAY
    assert rotated.changed_at == clock()
    assert await outbox.get(made.id) == rotated
    assert (rotated.cursor, rotated.status, rotated.url) == (made.cursor, made.status, made.url)


async def test_rotating_again_within_the_overlap_ends_the_older_secret_at_once(
    outbox: SubscriptionStore, clock: FrozenClock
) -> None:
    made = await subscribe(outbox, clock)
    first = await outbox.rotate_secret(made.id, now=clock(), overlap=DAY)
    clock.advance(minutes=5)
    second = await outbox.rotate_secret(made.id, now=clock(), overlap=DAY)
    assert first is not None and second is not None
    assert second.previous_secret == first.secret
    assert made.secret not in (second.secret, second.previous_secret)
    assert second.previous_secret_until == clock() + DAY


async def test_a_rotation_without_overlap_keeps_no_old_secret(
    outbox: SubscriptionStore, clock: FrozenClock
) -> None:
    made = await subscribe(outbox, clock)
    await outbox.rotate_secret(made.id, now=clock(), overlap=DAY)
    rotated = await outbox.rotate_secret(made.id, now=clock(), overlap=timedelta(0))
    assert rotated is not None
    assert (rotated.previous_secret, rotated.previous_secret_until) == (None, None)


async def test_a_deleted_or_unknown_subscription_is_not_rotated(
    outbox: SubscriptionStore, clock: FrozenClock
) -> None:
    made = await subscribe(outbox, clock)
    assert await outbox.delete(made.id, clock())
    assert await outbox.rotate_secret(made.id, now=clock(), overlap=DAY) is None
    assert await outbox.rotate_secret("sub_" + "0" * 24, now=clock(), overlap=DAY) is None


async def test_deliveries_in_the_overlap_carry_both_signatures_and_after_it_only_the_new(
    store: SqlEventStore, outbox: SubscriptionStore, clock: FrozenClock
) -> None:
    made = await subscribe(outbox, clock)
    rotated = await outbox.rotate_secret(made.id, now=clock(), overlap=DAY)
    assert rotated is not None
    requests: list[httpx.Request] = []

    def accept(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(204)

    worker = DeliveryWorker(
        store=store,
        subscriptions=outbox,
        notifier=Notifier(),
        settings=WebhookSettings(
            retry_schedule=RetrySchedule.parse("0"), allow_private=True, timeout=5
        ),
        clock=clock,
    )

    async def deliver_one() -> tuple[list[str], Callable[[str], str]]:
        await append(store, 1)
        async with httpx.AsyncClient(transport=httpx.MockTransport(accept)) as client:
            while await worker.step(client):
                pass
        request = requests[-1]
        stamp = datetime.fromtimestamp(int(request.headers["webhook-timestamp"]), UTC)

        def signed_by(secret: str) -> str:
            return Webhook(secret).sign(
                request.headers["webhook-id"], stamp, request.content.decode()
            )

        return request.headers["webhook-signature"].split(" "), signed_by

    clock.advance(hours=23, minutes=59)
    sent, signed_by = await deliver_one()
    assert sent == [signed_by(rotated.secret), signed_by(made.secret)], "new first, then old"

    clock.advance(minutes=1)  # the overlap is over
    sent, signed_by = await deliver_one()
    assert sent == [signed_by(rotated.secret)]
    assert len(requests) == 2


# Retention of delivery attempts

HEAD = 3
RETENTION = timedelta(days=30)
LATER = timedelta(days=365)  # a settlement's next attempt, far enough not to be claimed again


async def with_attempts(
    outbox: SubscriptionStore,
    clock: FrozenClock,
    positions: list[int],
    *,
    cursor: int,
    disable: bool = False,
) -> Subscription:
    """A subscription with attempts at these positions made now, left at `cursor`."""
    made = await subscribe(outbox, clock)
    held = await outbox.claim(head=HEAD, now=clock(), lease=LEASE)
    assert held is not None and held.id == made.id
    standing = Settlement(cursor=cursor, attempts=0, next_attempt_at=clock() + LATER)
    for number, position in enumerate(positions, 1):
        attempt = DeliveryAttempt(
            id=0,
            subscription_id=made.id,
            position=position,
            event_id=uuid4(),
            attempt=number,
            attempted_at=clock(),
            outcome="delivered" if position <= cursor else "retry",
            status_code=204 if position <= cursor else 503,
            latency_ms=1.0,
            error=None,
            next_attempt_at=None,
        )
        assert await outbox.settle(held, standing, now=clock(), lease=LEASE, attempt=attempt)
    if disable:
        stop = replace(standing, status=DISABLED, disabled_reason="gone")
        assert await outbox.settle(held, stop, now=clock(), lease=None)
    return made


async def positions(outbox: SubscriptionStore, subscription: Subscription) -> list[int]:
    found = await outbox.attempts(subscription.id, before=None, limit=100)
    return sorted(a.position for a in found)


async def test_old_attempts_at_settled_events_go_in_bounded_batches_and_still_due_ones_stay(
    outbox: SubscriptionStore, clock: FrozenClock
) -> None:
    old = clock()
    delivered = await with_attempts(outbox, clock, [1, 2, 3], cursor=3)
    retrying = await with_attempts(outbox, clock, [1, 1], cursor=0)
    stopped = await with_attempts(outbox, clock, [1, 2], cursor=1, disable=True)
    deleted = await with_attempts(outbox, clock, [1], cursor=0)
    assert await outbox.delete(deleted.id, clock())
    clock.advance(days=1)
    recent = await with_attempts(outbox, clock, [1], cursor=1)

    cutoff = old + timedelta(seconds=1)
    batches = [await outbox.prune_attempts(before=cutoff, limit=2) for _ in range(4)]
    assert batches == [2, 2, 1, 0], "three delivered, one settled by a stop, one deleted"
    assert await positions(outbox, delivered) == []
    assert await positions(outbox, retrying) == [1, 1], "still due: the retries of event 1"
    assert await positions(outbox, stopped) == [2], "the event it stopped on is still due"
    assert await positions(outbox, deleted) == []
    assert await positions(outbox, recent) == [1], "younger than the cut-off"
    state = await outbox.get(delivered.id)
    assert state is not None and state.cursor == 3, "the cursor is never touched"


async def test_nothing_younger_than_the_cut_off_goes(
    outbox: SubscriptionStore, clock: FrozenClock
) -> None:
    delivered = await with_attempts(outbox, clock, [1, 2], cursor=2)
    assert await outbox.prune_attempts(before=clock(), limit=100) == 0
    assert await positions(outbox, delivered) == [1, 2]


class Observed(SubscriptionStore):
    """The real outbox; every prune batch is also put on a queue the test awaits."""

    def __init__(self, inner: SubscriptionStore) -> None:
        self.__dict__.update(inner.__dict__)
        self.batches: asyncio.Queue[tuple[datetime, int]] = asyncio.Queue()

    async def prune_attempts(self, *, before: datetime, limit: int) -> int:
        pruned = await super().prune_attempts(before=before, limit=limit)
        self.batches.put_nowait((before, pruned))
        return pruned


async def one_prune(observed: Observed) -> list[int]:
    """The sizes of the batches of the next prune, which ends with a short one."""
    sizes: list[int] = []
    while not sizes or sizes[-1] == delivery.PRUNE_BATCH:
        _, pruned = await asyncio.wait_for(observed.batches.get(), timeout=30)
        sizes.append(pruned)
    return sizes


async def test_the_delivery_worker_prunes_in_the_background_and_again_an_interval_later(
    store: SqlEventStore,
    outbox: SubscriptionStore,
    clock: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(delivery, "PRUNE_BATCH", 2)
    await append(store, HEAD)
    # Neither is due (one is at the head, one is disabled): the worker has nothing to deliver.
    delivered = await with_attempts(outbox, clock, [1, 2, 3], cursor=HEAD)
    stopped = await with_attempts(outbox, clock, [1], cursor=0, disable=True)
    clock.advance(days=30, seconds=1)
    observed = Observed(outbox)
    notifier = Notifier()
    worker = DeliveryWorker(
        store=store,
        subscriptions=observed,
        notifier=notifier,
        settings=WebhookSettings(
            retry_schedule=RetrySchedule.parse("0"),
            allow_private=False,
            timeout=5,
            concurrency=1,
            delivery_retention=RETENTION.total_seconds(),
        ),
        clock=clock,
    )
    running = asyncio.create_task(worker.run())
    try:
        assert await one_prune(observed) == [2, 1]
        assert await positions(outbox, delivered) == []
        assert await positions(outbox, stopped) == [1]
        assert observed.batches.empty(), "one prune, not one per look"

        clock.advance(hours=1)  # the next prune is due; an append's wake-up finds it
        notifier.notify(HEAD)
        before, pruned = await asyncio.wait_for(observed.batches.get(), timeout=30)
        assert (before, pruned) == (clock() - RETENTION, 0)
    finally:
        notifier.close()
        await running


async def test_a_retention_of_zero_keeps_every_attempt(
    store: SqlEventStore, outbox: SubscriptionStore, clock: FrozenClock
) -> None:
    delivered = await with_attempts(outbox, clock, [1, 2], cursor=2)
    clock.advance(days=3650)
    worker = DeliveryWorker(
        store=store,
        subscriptions=outbox,
        notifier=Notifier(),
        settings=WebhookSettings(
            retry_schedule=RetrySchedule.parse("0"), timeout=5, delivery_retention=0
        ),
        clock=clock,
    )
    assert await worker.prune() == 0
    assert await positions(outbox, delivered) == [1, 2]
