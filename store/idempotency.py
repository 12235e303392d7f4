"""Idempotency-Key records: the first response to a POST, replayed to retries of the same body."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from domain.valid_time import to_micros
from store.boundary import reading, writing
from store.errors import ReservationLost
from store.ports import AppendResult, IdempotentAnswer
from store.read_path import constant
from store.tables import IdempotencyRow

records = IdempotencyRow.__table__  # type: ignore[attr-defined]
PENDING = 0
# A reservation still pending after this long belongs to a process that died mid-request
# (an append answers in well under a second, or 503s when the database is gone); without a
# way out, every retry with its key would be told "in progress" for ever. Retries of requests
# that name their event ids are safe to run again: the store replays an append it already has.
ABANDONED_AFTER = timedelta(seconds=10)


@dataclass(frozen=True, slots=True)
class Recorded:
    """A request seen before under the same key."""

    request_hash: str
    status_code: int
    response: dict[str, Any]

    @property
    def pending(self) -> bool:
        """Whether the first request is still running."""
        return self.status_code == PENDING


_RECORD_ANSWER = constant(
    update(records)
    .where(
        records.c.api_key_id == bindparam("b_api_key_id"),
        records.c.key == bindparam("b_key"),
        records.c.status_code == PENDING,
        records.c.created_at == bindparam("b_reserved_at"),
    )
    .values(status_code=bindparam("b_status"), response=bindparam("b_response"))
)


async def record_answer(
    conn: AsyncConnection, answer: IdempotentAnswer, result: AppendResult
) -> None:
    """Record the append's answer in the caller's transaction; ReservationLost when the
    reservation is no longer this request's (then the caller must not append)."""
    status, body = answer.respond(result)
    recorded = await conn.execute(
        _RECORD_ANSWER,
        {
            "b_api_key_id": answer.api_key_id,
            "b_key": answer.key,
            "b_reserved_at": answer.reserved_at,
            "b_status": status,
            "b_response": body,
        },
    )
    if recorded.rowcount != 1:
        raise ReservationLost(answer.key)


class IdempotencyStore:
    """Reserves a key before the work runs, so two concurrent retries cannot both run it."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def reserve(
        self, api_key_id: str, key: str, request_hash: str, now: datetime
    ) -> Recorded | None:
        """None when this key is new (and now reserved); else what was recorded under it."""
        try:
            async with writing(self._engine) as conn:
                await conn.execute(
                    insert(records).values(
                        api_key_id=api_key_id,
                        key=key,
                        request_hash=request_hash,
                        status_code=PENDING,
                        response={},
                        created_at=to_micros(now),
                    )
                )
            return None
        except IntegrityError:
            if await self._take_over_abandoned(api_key_id, key, request_hash, now):
                return None
            async with reading(self._engine) as conn:
                row = (
                    await conn.execute(
                        select(records).where(
                            records.c.api_key_id == api_key_id, records.c.key == key
                        )
                    )
                ).one()
            return Recorded(row.request_hash, row.status_code, row.response)

    async def _take_over_abandoned(
        self, api_key_id: str, key: str, request_hash: str, now: datetime
    ) -> bool:
        """Reserve the key again if its reservation was abandoned; one retry alone wins."""
        async with writing(self._engine) as conn:
            taken = await conn.execute(
                update(records)
                .where(
                    records.c.api_key_id == api_key_id,
                    records.c.key == key,
                    records.c.status_code == PENDING,
                    records.c.created_at < to_micros(now - ABANDONED_AFTER),
                )
                .values(request_hash=request_hash, created_at=to_micros(now))
            )
        return taken.rowcount == 1

    async def complete(
        self,
        api_key_id: str,
        key: str,
        reserved_at: datetime,
        status_code: int,
        response: dict[str, Any],
    ) -> None:
        """Record the response the key will replay (a refusal: an append that wrote events
        records its answer in its own transaction, see `IdempotentAnswer`). Only the holder of
        the reservation made at `reserved_at` may."""
        async with writing(self._engine) as conn:
            await conn.execute(
                update(records)
                .where(*_held(api_key_id, key, reserved_at))
                .values(status_code=status_code, response=response)
            )

    async def release(self, api_key_id: str, key: str, reserved_at: datetime) -> None:
        """Forget a reservation whose request failed on our side, so a retry may run; not one
        taken over meanwhile by another request."""
        async with writing(self._engine) as conn:
            await conn.execute(delete(records).where(*_held(api_key_id, key, reserved_at)))


def _held(api_key_id: str, key: str, reserved_at: datetime) -> list[Any]:
    """The reservation made at `reserved_at`, still pending."""
    return [
        records.c.api_key_id == api_key_id,
        records.c.key == key,
        records.c.status_code == PENDING,
        records.c.created_at == to_micros(reserved_at),
    ]
