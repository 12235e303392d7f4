"""Webhook subscriptions and their delivery attempts: the outbox that delivery workers drain.

Each subscription keeps its own cursor into the log. A worker claims a due subscription with a
lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL, the write lock on SQLite), so one subscription is
served by one worker at a time, across processes; every settlement is checked against the lease.
"""

from __future__ import annotations

import base64
import secrets
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import and_, bindparam, case, delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from domain.event_types import JsonObject
from domain.valid_time import from_micros, to_micros
from store.boundary import reading, writing
from store.read_path import EngineReadPath, ReadPath, constant
from store.tables import DeliveryRow, SubscriptionRow

subscriptions = SubscriptionRow.__table__  # type: ignore[attr-defined]
deliveries = DeliveryRow.__table__  # type: ignore[attr-defined]

ACTIVE, DISABLED, DELETED = "active", "disabled", "deleted"


@dataclass(frozen=True, slots=True, kw_only=True)
class Subscription:
    """A receiver of webhooks, its filter, and where its deliveries stand."""

    id: str
    owner: str
    url: str
    filter: JsonObject
    description: str | None
    secret: str
    status: str
    disabled_reason: str | None
    created_at: datetime
    changed_at: datetime
    cursor: int
    attempts: int
    next_attempt_at: datetime
    lease_token: str | None = None
    # The secret the last rotation replaced, and until when it still signs beside `secret`.
    previous_secret: str | None = None
    previous_secret_until: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryAttempt:
    """One attempt to deliver one event: when, what came back, how long it took."""

    id: int
    subscription_id: str
    position: int
    event_id: UUID
    attempt: int
    attempted_at: datetime
    outcome: str
    status_code: int | None
    latency_ms: float
    error: str | None
    next_attempt_at: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Settlement:
    """Where a subscription stands after an attempt (or after skipping filtered-out events)."""

    cursor: int
    attempts: int
    next_attempt_at: datetime
    status: str = ACTIVE
    disabled_reason: str | None = None


def new_secret() -> str:
    """A Standard Webhooks signing secret: `whsec_` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


_CLAIMABLE_AT = case(
    (subscriptions.c.leased_until > subscriptions.c.next_attempt_at, subscriptions.c.leased_until),
    else_=subscriptions.c.next_attempt_at,
)
_SOONEST = constant(
    select(func.min(_CLAIMABLE_AT)).where(
        subscriptions.c.status == ACTIVE, subscriptions.c.cursor < bindparam("head")
    )
)


class SubscriptionStore:
    """Subscriptions, their cursors and leases, and the log of delivery attempts."""

    def __init__(self, engine: AsyncEngine, backend: str, reads: ReadPath | None = None) -> None:
        self._engine = engine
        self._backend = backend
        # The delivery worker asks `next_due` whenever appends wake it: the API hands in the
        # event store's read path (the bare driver) for it.
        self._reads = reads or EngineReadPath(engine)

    async def create(
        self,
        *,
        owner: str,
        url: str,
        filter: JsonObject,
        description: str | None,
        cursor: int,
        now: datetime,
    ) -> Subscription:
        """A new active subscription whose first delivery is the first event after `cursor`."""
        row: dict[str, Any] = {
            "id": "sub_" + secrets.token_hex(12),
            "owner": owner,
            "url": url,
            "filter": filter,
            "description": description,
            "secret": new_secret(),
            "status": ACTIVE,
            "disabled_reason": None,
            "created_at": to_micros(now),
            "changed_at": to_micros(now),
            "cursor": cursor,
            "attempts": 0,
            "next_attempt_at": to_micros(now),
            "leased_until": 0,
            "lease_token": None,
            "previous_secret": None,
            "previous_secret_until": None,
        }
        async with self._write() as conn:
            await conn.execute(insert(subscriptions).values(**row))
        return _subscription(row)

    async def get(self, subscription_id: str) -> Subscription | None:
        """A subscription that has not been deleted, or None."""
        async with self._read() as conn:
            row = (
                await conn.execute(
                    select(subscriptions).where(
                        subscriptions.c.id == subscription_id, subscriptions.c.status != DELETED
                    )
                )
            ).first()
        return None if row is None else _subscription(row._mapping)

    async def live(self, owner: str | None) -> list[Subscription]:
        """Live subscriptions (of one owner, or all), oldest first."""
        query = select(subscriptions).where(subscriptions.c.status != DELETED)
        if owner is not None:
            query = query.where(subscriptions.c.owner == owner)
        async with self._read() as conn:
            rows = await conn.execute(query.order_by(subscriptions.c.created_at))
            return [_subscription(row._mapping) for row in rows]

    async def delete(self, subscription_id: str, now: datetime) -> bool:
        """Stop deliveries for good; its attempts stay on record. False if there is none."""
        async with self._write() as conn:
            result = await conn.execute(
                update(subscriptions)
                .where(subscriptions.c.id == subscription_id, subscriptions.c.status != DELETED)
                .values(status=DELETED, changed_at=to_micros(now))
            )
            return bool(result.rowcount)

    async def reactivate(self, subscription_id: str, now: datetime) -> bool:
        """Resume a disabled subscription at the event it stopped on, with a fresh schedule.

        An active one is left as it is (its retries keep their backoff); False if none is
        disabled."""
        async with self._write() as conn:
            result = await conn.execute(
                update(subscriptions)
                .where(subscriptions.c.id == subscription_id, subscriptions.c.status == DISABLED)
                .values(
                    status=ACTIVE,
                    disabled_reason=None,
                    attempts=0,
                    next_attempt_at=to_micros(now),
                    changed_at=to_micros(now),
                )
            )
            return bool(result.rowcount)

    async def rotate_secret(
        self, subscription_id: str, *, now: datetime, overlap: timedelta
    ) -> Subscription | None:
        """Give a live subscription a new signing secret; the one it replaces goes on signing
        beside it until `now + overlap` (with no overlap, not at all). None if there is none.

        Only the secret just replaced overlaps: rotating again within the overlap ends the one
        before it at once."""
        overlapping = overlap > timedelta(0)
        async with self._write() as conn:
            changed = await conn.execute(
                update(subscriptions)
                .where(subscriptions.c.id == subscription_id, subscriptions.c.status != DELETED)
                .values(
                    # SET reads the row as it was: the old secret moves aside as the new comes in.
                    previous_secret=subscriptions.c.secret if overlapping else None,
                    previous_secret_until=to_micros(now + overlap) if overlapping else None,
                    secret=new_secret(),
                    changed_at=to_micros(now),
                )
            )
            if not changed.rowcount:
                return None
            row = (
                await conn.execute(
                    select(subscriptions).where(subscriptions.c.id == subscription_id)
                )
            ).one()
        return _subscription(row._mapping)

    async def prune_attempts(self, *, before: datetime, limit: int) -> int:
        """Delete up to `limit` attempts made before `before`, oldest first; how many went.

        Attempts at an event the subscription has not got past yet (its retries, or the event a
        disabled one stopped on) stay, however old: they say why it stands where it stands. Those
        of a deleted subscription go. The subscription itself, its cursor, is never touched."""
        settled = (
            select(deliveries.c.id)
            .join(subscriptions, subscriptions.c.id == deliveries.c.subscription_id)
            .where(
                deliveries.c.attempted_at < to_micros(before),
                or_(
                    deliveries.c.position <= subscriptions.c.cursor,
                    subscriptions.c.status == DELETED,
                ),
            )
            .order_by(deliveries.c.attempted_at)
            .limit(limit)
            # Two processes pruning at once skip each other's rows instead of queueing on them.
            .with_for_update(of=deliveries, skip_locked=True)
        )
        async with self._write() as conn:
            result = await conn.execute(delete(deliveries).where(deliveries.c.id.in_(settled)))
            return int(result.rowcount)

    async def attempts(
        self, subscription_id: str, *, before: int | None, limit: int
    ) -> list[DeliveryAttempt]:
        """Delivery attempts, newest first, optionally those older than attempt id `before`."""
        query = select(deliveries).where(deliveries.c.subscription_id == subscription_id)
        if before is not None:
            query = query.where(deliveries.c.id < before)
        async with self._read() as conn:
            rows = await conn.execute(query.order_by(deliveries.c.id.desc()).limit(limit))
            return [_attempt(row._mapping) for row in rows]

    async def claim(self, *, head: int, now: datetime, lease: timedelta) -> Subscription | None:
        """Lease one active subscription that is behind `head` and due, or None."""
        token = secrets.token_hex(16)
        micros = to_micros(now)
        due = (
            select(subscriptions)
            .where(
                subscriptions.c.status == ACTIVE,
                subscriptions.c.cursor < head,
                subscriptions.c.next_attempt_at <= micros,
                subscriptions.c.leased_until <= micros,
            )
            .order_by(subscriptions.c.next_attempt_at)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        async with self._write() as conn:
            row = (await conn.execute(due)).first()
            if row is None:
                return None
            await conn.execute(
                update(subscriptions)
                .where(subscriptions.c.id == row.id)
                .values(leased_until=to_micros(now + lease), lease_token=token)
            )
        return replace(_subscription(row._mapping), lease_token=token)

    async def next_due(self, head: int) -> datetime | None:
        """When the soonest active subscription behind `head` can be claimed, if any can."""
        async with self._reads.reading() as conn:
            soonest = await conn.scalar(_SOONEST, {"head": head})
        return None if soonest is None else from_micros(int(soonest))

    async def settle(
        self,
        held: Subscription,
        settlement: Settlement,
        *,
        now: datetime,
        lease: timedelta | None,
        attempt: DeliveryAttempt | None = None,
    ) -> bool:
        """Record an attempt and move the subscription on, if the lease is still ours.

        `lease` extends the lease for more work; None releases it. The attempt is recorded even
        when the lease was lost: it did happen.
        """
        values: dict[str, Any] = {
            "cursor": settlement.cursor,
            "attempts": settlement.attempts,
            "next_attempt_at": to_micros(settlement.next_attempt_at),
            "leased_until": 0 if lease is None else to_micros(now + lease),
            "lease_token": None if lease is None else held.lease_token,
        }
        if settlement.status != ACTIVE:
            values |= {
                "status": settlement.status,
                "disabled_reason": settlement.disabled_reason,
                "changed_at": to_micros(now),
            }
        async with self._write() as conn:
            if attempt is not None:
                await conn.execute(insert(deliveries).values(**_attempt_row(attempt)))
            result = await conn.execute(
                update(subscriptions)
                .where(
                    and_(
                        subscriptions.c.id == held.id,
                        subscriptions.c.lease_token == held.lease_token,
                        subscriptions.c.status == ACTIVE,
                    )
                )
                .values(**values)
            )
            return bool(result.rowcount)

    def _read(self) -> AbstractAsyncContextManager[AsyncConnection]:
        return reading(self._engine)

    def _write(self) -> AbstractAsyncContextManager[AsyncConnection]:
        return writing(self._engine)


def _subscription(row: Any) -> Subscription:
    until = row["previous_secret_until"]
    return Subscription(
        id=row["id"],
        owner=row["owner"],
        url=row["url"],
        filter=dict(row["filter"]),
        description=row["description"],
        secret=row["secret"],
        status=row["status"],
        disabled_reason=row["disabled_reason"],
        created_at=from_micros(row["created_at"]),
        changed_at=from_micros(row["changed_at"]),
        cursor=row["cursor"],
        attempts=row["attempts"],
        next_attempt_at=from_micros(row["next_attempt_at"]),
        lease_token=row["lease_token"],
        previous_secret=row["previous_secret"],
        previous_secret_until=None if until is None else from_micros(until),
    )


def _attempt(row: Any) -> DeliveryAttempt:
    next_at = row["next_attempt_at"]
    return DeliveryAttempt(
        id=row["id"],
        subscription_id=row["subscription_id"],
        position=row["position"],
        event_id=row["event_id"],
        attempt=row["attempt"],
        attempted_at=from_micros(row["attempted_at"]),
        outcome=row["outcome"],
        status_code=row["status_code"],
        latency_ms=row["latency_ms"],
        error=row["error"],
        next_attempt_at=None if next_at is None else from_micros(next_at),
    )


def _attempt_row(attempt: DeliveryAttempt) -> dict[str, Any]:
    return {
        "subscription_id": attempt.subscription_id,
        "position": attempt.position,
        "event_id": attempt.event_id,
        "attempt": attempt.attempt,
        "attempted_at": to_micros(attempt.attempted_at),
        "outcome": attempt.outcome,
        "status_code": attempt.status_code,
        "latency_ms": attempt.latency_ms,
        "error": None if attempt.error is None else attempt.error[:1000],
        "next_attempt_at": None
        if attempt.next_attempt_at is None
        else to_micros(attempt.next_attempt_at),
    }
