"""The database boundary (store/boundary.py): whichever store meets a database it cannot reach
— the event store, keys, Idempotency-Key records, rate windows, subscriptions — raises
DatabaseUnavailable (the API's 503), never a driver or SQLAlchemy error (which the API would
have to know about, or answer with a 500)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from store.database import DatabaseUrl, create_engine
from store.errors import DatabaseUnavailable
from store.idempotency import IdempotencyStore
from store.keys import KeyStore
from store.rate_limits import RateLimiter
from store.subscriptions import SubscriptionStore
from tests.clock import FrozenClock
from tests.databases import SqliteDatabases

Call = Callable[[AsyncEngine, str, FrozenClock], Awaitable[Any]]

CALLS: dict[str, Call] = {
    "keys.create": lambda e, b, c: KeyStore(e).create("k", frozenset({"events:write"}), c()),
    "keys.list": lambda e, b, c: KeyStore(e).list(),
    "keys.revoke": lambda e, b, c: KeyStore(e).revoke("k", c()),
    "idempotency.reserve": lambda e, b, c: IdempotencyStore(e).reserve("k", "i", "h", c()),
    "idempotency.release": lambda e, b, c: IdempotencyStore(e).release("k", "i", c()),
    "rate_limits.spend": lambda e, b, c: RateLimiter(e, b, limit=5, seconds=60).spend("k", c()),
    "subscriptions.get": lambda e, b, c: SubscriptionStore(e, b).get("s"),
    "subscriptions.live": lambda e, b, c: SubscriptionStore(e, b).live(None),
    "subscriptions.delete": lambda e, b, c: SubscriptionStore(e, b).delete("s", c()),
}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def unreachable(
    request: pytest.FixtureRequest, sqlite_databases: SqliteDatabases
) -> AsyncIterator[tuple[AsyncEngine, str]]:
    """An engine on a database that cannot be reached: a SQLite file that is a folder, or a
    PostgreSQL port that refuses every connection."""
    if request.param == "sqlite":
        url = sqlite_databases.fresh()
        path = Path(str(make_url(url.raw).database))
        os.unlink(path)
        os.mkdir(path)
    else:
        url = DatabaseUrl("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2")
    engine = create_engine(url)
    try:
        yield engine, request.param
    finally:
        await engine.dispose()


@pytest.mark.parametrize("call", sorted(CALLS))
async def test_a_store_that_cannot_reach_its_database_says_it_is_unavailable(
    unreachable: tuple[AsyncEngine, str], clock: FrozenClock, call: str
) -> None:
    engine, backend = unreachable
    with pytest.raises(DatabaseUnavailable):
        await CALLS[call](engine, backend, clock)
