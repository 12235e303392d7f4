"""The webhook delivery worker: drains each subscription's outbox in log order.

Runs in every API process. A subscription is served by whichever worker holds its lease, so with
several processes an event never goes to one subscription twice at the same time; the cursor and
every attempt are in the database, so a restarted process resumes where the last one stopped.
Delivery is at least once: a receiver deduplicates by `webhook-id` (the event id).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
import msgspec
from standardwebhooks import Webhook

from api.callback_transport import PinnedTransport, pinned
from api.callbacks import CallbackRefused, check_callback
from api.feed_filter import FeedFilter, read_after
from api.notifier import Notifier
from api.presenters import Checks, checks_of, event_out
from api.settings import WebhookSettings
from domain.valid_time import format_instant
from domain.webhooks import Verdict, decide, parse_retry_after, signing_secrets
from store.ports import Clock, EventStore
from store.records import RecordedEvent
from store.subscriptions import (
    DISABLED,
    DeliveryAttempt,
    Settlement,
    Subscription,
    SubscriptionStore,
)

log = logging.getLogger("timeline.webhooks")
BATCH = 100
IDLE_POLL_SECONDS = 1.0  # how often an idle worker looks for retries come due
COALESCE_SECONDS = 0.05  # the least time between two looks that appends wake
SHUTDOWN_GRACE_SECONDS = 3.0
PRUNE_EVERY = timedelta(hours=1)  # how often old delivery attempts are looked for
PRUNE_BATCH = 500  # attempts deleted per transaction: the SQLite write lock is held that long
USER_AGENT = "DiplomaticTimeline-Webhooks/1"


@dataclass(frozen=True, slots=True)
class Answer:
    """What one HTTP attempt came back with."""

    status: int | None
    error: str | None
    retry_after: str | None
    latency_ms: float


def webhook_body(event: RecordedEvent, checks: Checks | None = None) -> bytes:
    """The Standard Webhooks payload: type, timestamp, and the event as `/v1/events` shows it."""
    return msgspec.json.encode(
        {
            "type": event.type,
            "timestamp": format_instant(event.recorded_at),
            "data": event_out(event, checks=checks),
        }
    )


class DeliveryWorker:
    """Claims due subscriptions and delivers their events; one task per subscription at a time."""

    def __init__(
        self,
        *,
        store: EventStore,
        subscriptions: SubscriptionStore,
        notifier: Notifier,
        settings: WebhookSettings,
        clock: Clock,
        draw: Callable[[], float] = random.random,
    ) -> None:
        self._store = store
        self._subscriptions = subscriptions
        self._notifier = notifier
        self._settings = settings
        self._clock = clock
        self._draw = draw
        # Long enough for one attempt and its settlement; then another worker may take over.
        self._lease = timedelta(seconds=2 * settings.timeout + 5)
        self._next_prune: datetime | None = None  # None: at the first look

    async def run(self) -> None:
        """Serve due subscriptions, up to `concurrency` at once, until the process shuts down."""
        async with delivery_client(self._settings) as client:
            serving: set[asyncio.Task[None]] = set()
            pruning: asyncio.Task[None] | None = None
            try:
                loop = asyncio.get_running_loop()
                while not self._notifier.closing:
                    seen = self._notifier.head
                    if (pruning is None or pruning.done()) and self._prune_due():
                        # Beside the deliveries, not in their way: its batches are short writes.
                        pruning = asyncio.create_task(self._prune_logged())
                    idle = await self._dispatch(client, serving)
                    looked = loop.time()
                    woken = asyncio.ensure_future(self._notifier.wait(idle, seen))
                    done, _ = await asyncio.wait(
                        {woken, *serving}, return_when=asyncio.FIRST_COMPLETED
                    )
                    woken.cancel()
                    if woken in done and woken.result():
                        # Woken by an append: under a stream of appends, look at most every
                        # COALESCE_SECONDS (each look is two reads), not once per append.
                        await asyncio.sleep(max(0.0, looked + COALESCE_SECONDS - loop.time()))
            finally:
                # In-flight attempts get a moment to settle; any cut short is redelivered.
                if serving:
                    await asyncio.wait(serving, timeout=SHUTDOWN_GRACE_SECONDS)
                for task in serving:
                    task.cancel()
                others = set(serving) if pruning is None else {*serving, pruning}
                if pruning is not None:
                    pruning.cancel()
                await asyncio.gather(*others, return_exceptions=True)

    async def _dispatch(self, client: httpx.AsyncClient, serving: set[asyncio.Task[None]]) -> float:
        """Start serving due subscriptions while slots are free; seconds until one may be due."""
        try:
            while len(serving) < self._settings.concurrency:
                wait, held = await self._claim_due()
                if held is None:
                    return wait
                task = asyncio.create_task(self._serve_logged(client, held))
                serving.add(task)
                task.add_done_callback(serving.discard)
            return IDLE_POLL_SECONDS  # every slot busy: a finishing one wakes the loop
        except Exception:  # the worker outlives any one failure; leases make retrying safe
            log.exception("webhook dispatch failed; retrying shortly")
            return IDLE_POLL_SECONDS

    async def step(self, client: httpx.AsyncClient) -> bool:
        """Serve one due subscription to the end of its batch; False when none was due."""
        _, held = await self._claim_due()
        if held is None:
            return False
        await self._serve(client, held)
        return True

    async def prune(self) -> int:
        """Delete the delivery attempts older than the retention, a bounded batch per
        transaction, until none is left; how many went. Never an attempt at an event its
        subscription has still to get past (store/subscriptions.py, `prune_attempts`)."""
        retention = self._settings.delivery_retention
        if not retention:
            return 0
        before = self._clock() - timedelta(seconds=retention)
        total = 0
        while True:
            pruned = await self._subscriptions.prune_attempts(before=before, limit=PRUNE_BATCH)
            total += pruned
            if pruned < PRUNE_BATCH:
                return total

    def _prune_due(self) -> bool:
        now = self._clock()
        if self._next_prune is not None and now < self._next_prune:
            return False
        self._next_prune = now + PRUNE_EVERY
        return True

    async def _prune_logged(self) -> None:
        try:
            pruned = await self.prune()
        except Exception:  # the next prune comes within PRUNE_EVERY; nothing is lost meanwhile
            log.exception("pruning old webhook delivery attempts failed")
            return
        if pruned:
            log.info("pruned %d webhook delivery attempts past their retention", pruned)

    async def _claim_due(self) -> tuple[float, Subscription | None]:
        """A due subscription, leased; or None and the seconds until one may be due."""
        # A read first: with nothing due (the usual case) no write transaction is begun.
        head = await self._store.head()
        due = await self._subscriptions.next_due(head)
        if due is None:
            return IDLE_POLL_SECONDS, None
        wait = (due - self._clock()).total_seconds()
        if wait > 0:
            return min(IDLE_POLL_SECONDS, max(0.01, wait)), None
        held = await self._subscriptions.claim(head=head, now=self._clock(), lease=self._lease)
        return (0.05 if held is None else 0.0), held  # None: another process just took it

    async def _serve_logged(self, client: httpx.AsyncClient, held: Subscription) -> None:
        try:
            await self._serve(client, held)
        except Exception:  # its lease runs out and the subscription is served again
            log.exception("serving webhook subscription %s failed", held.id)

    async def _serve(self, client: httpx.AsyncClient, held: Subscription) -> None:
        page = await read_after(self._store, FeedFilter.from_json(held.filter), held.cursor, BATCH)
        cursor, attempts = held.cursor, held.attempts
        for event in page.events:
            settlement, attempt = await self._attempt(client, held, event, cursor, attempts + 1)
            more = settlement.status != DISABLED and settlement.attempts == 0
            kept = await self._subscriptions.settle(
                held,
                settlement,
                now=self._clock(),
                lease=self._lease if more else None,
                attempt=attempt,
            )
            if not (kept and more):
                return
            cursor, attempts = settlement.cursor, 0
        await self._subscriptions.settle(
            held,
            Settlement(cursor=page.resume, attempts=0, next_attempt_at=self._clock()),
            now=self._clock(),
            lease=None,
        )

    async def _attempt(
        self,
        client: httpx.AsyncClient,
        held: Subscription,
        event: RecordedEvent,
        cursor: int,
        number: int,
    ) -> tuple[Settlement, DeliveryAttempt]:
        """Post one event; where the subscription stands after, and the attempt's record."""
        attempted_at = self._clock()
        answer = await self._post(client, held, event)
        now = self._clock()
        decision = decide(
            attempt=number,
            status=answer.status,
            error=answer.error,
            retry_after=parse_retry_after(answer.retry_after, now),
            schedule=self._settings.retry_schedule,
            jitter=self._draw(),
        )
        next_at = now + timedelta(seconds=decision.delay)
        match decision.verdict:
            case Verdict.DELIVERED:
                settlement = Settlement(cursor=event.position, attempts=0, next_attempt_at=now)
            case Verdict.RETRY:
                settlement = Settlement(cursor=cursor, attempts=number, next_attempt_at=next_at)
            case Verdict.DISABLE:
                settlement = Settlement(
                    cursor=cursor,
                    attempts=number,
                    next_attempt_at=now,
                    status=DISABLED,
                    disabled_reason=decision.reason,
                )
        attempt = DeliveryAttempt(
            id=0,
            subscription_id=held.id,
            position=event.position,
            event_id=event.id,
            attempt=number,
            attempted_at=attempted_at,
            outcome=str(decision.verdict),
            status_code=answer.status,
            latency_ms=answer.latency_ms,
            error=answer.error,
            next_attempt_at=next_at if decision.verdict is Verdict.RETRY else None,
        )
        return settlement, attempt

    async def _post(
        self, client: httpx.AsyncClient, held: Subscription, event: RecordedEvent
    ) -> Answer:
        started = time.perf_counter()

        def answer(status: int | None, error: str | None, retry_after: str | None) -> Answer:
            return Answer(status, error, retry_after, (time.perf_counter() - started) * 1000)

        try:
            # Checked again at delivery: the name may resolve elsewhere than when subscribed.
            # The connection goes to the addresses checked here, not to a second resolution.
            destination = await check_callback(held.url, allow_private=self._settings.allow_private)
        except CallbackRefused as refused:
            return answer(None, f"refused: {refused}", None)
        body = webhook_body(event, await checks_of(self._store.reads, [event]))
        now = self._clock()
        secrets = signing_secrets(
            held.secret, held.previous_secret, held.previous_secret_until, now
        )
        headers = signed_headers(secrets, str(event.id), now, body)
        try:
            with pinned(destination):
                async with client.stream(
                    "POST", held.url, content=body, headers=headers
                ) as response:
                    return answer(response.status_code, None, response.headers.get("retry-after"))
        except httpx.TimeoutException:
            return answer(None, f"no answer within {self._settings.timeout:g} s", None)
        except (httpx.HTTPError, httpx.InvalidURL) as error:
            return answer(None, f"{type(error).__name__}: {error}"[:500], None)


def delivery_client(settings: WebhookSettings) -> httpx.AsyncClient:
    """The HTTP client deliveries are made with: it connects only to checked addresses."""
    return httpx.AsyncClient(
        transport=PinnedTransport(),
        timeout=settings.timeout,
        follow_redirects=False,
        # No proxy from the environment: a proxy would resolve the name again itself.
        trust_env=False,
        headers={"user-agent": USER_AGENT},
    )


def signed_headers(
    secrets: tuple[str, ...], message_id: str, now: datetime, body: bytes
) -> dict[str, str]:
    """The Standard Webhooks headers, with one signature per secret, space-separated."""
    text = body.decode()
    return {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": " ".join(
            Webhook(secret).sign(message_id, now, text) for secret in secrets
        ),
    }
