"""Desk sessions on every backend: a token opens its session until it is revoked, left idle
or too old; only a hash of its secret is stored; a sign-in clears away ended sessions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from store.database import create_engine
from store.keys import KeyStore
from store.sessions import (
    InMemorySessionStore,
    SessionLifetime,
    SessionStore,
    SqlSessionStore,
    desk_sessions,
    new_token,
    split_token,
)
from tests.clock import FrozenClock
from tests.support.backends import BACKENDS

LIFETIME = SessionLifetime(idle=timedelta(minutes=30), absolute=timedelta(hours=8))


class Desk:
    """A session store and the key id its sessions are opened for."""

    def __init__(self, sessions: SessionStore, key_id: str, engine: object = None) -> None:
        self.sessions, self.key_id, self.engine = sessions, key_id, engine


@pytest.fixture(params=BACKENDS)
async def desk(request: pytest.FixtureRequest, clock: FrozenClock) -> AsyncIterator[Desk]:
    if request.param == "memory":
        yield Desk(InMemorySessionStore(LIFETIME), "k1")
        return
    databases = request.getfixturevalue(f"{request.param}_databases")
    url = databases.fresh()
    engine = create_engine(url)
    try:
        key, _ = await KeyStore(engine).create("editor", frozenset({"events:write"}), clock())
        yield Desk(SqlSessionStore(engine, LIFETIME), key.id, engine)
    finally:
        await engine.dispose()
        databases.release(url)


async def test_a_token_opens_its_session_for_its_key(desk: Desk, clock: FrozenClock) -> None:
    opened, token = await desk.sessions.open(desk.key_id, clock())
    found = await desk.sessions.find(token, clock())
    assert found is not None
    assert (found.id, found.key_id) == (opened.id, desk.key_id)


async def test_a_token_with_another_secret_or_shape_opens_nothing(
    desk: Desk, clock: FrozenClock
) -> None:
    opened, token = await desk.sessions.open(desk.key_id, clock())
    assert await desk.sessions.find(token[:-2] + "xx", clock()) is None
    assert await desk.sessions.find(f"ds_{opened.id}_", clock()) is None
    assert await desk.sessions.find("tl_" + token[3:], clock()) is None
    assert await desk.sessions.find("", clock()) is None
    assert await desk.sessions.find(token, clock()) is not None


async def test_two_sessions_of_one_key_are_apart(desk: Desk, clock: FrozenClock) -> None:
    _, first = await desk.sessions.open(desk.key_id, clock())
    _, second = await desk.sessions.open(desk.key_id, clock())
    assert await desk.sessions.revoke(first, clock())
    assert await desk.sessions.find(first, clock()) is None
    assert await desk.sessions.find(second, clock()) is not None


async def test_a_revoked_session_stays_revoked(desk: Desk, clock: FrozenClock) -> None:
    _, token = await desk.sessions.open(desk.key_id, clock())
    assert await desk.sessions.revoke(token, clock())
    assert await desk.sessions.find(token, clock()) is None
    assert not await desk.sessions.revoke(token, clock()), "nothing left to revoke"


async def test_an_idle_session_ends_and_use_keeps_it_alive(desk: Desk, clock: FrozenClock) -> None:
    _, used = await desk.sessions.open(desk.key_id, clock())
    _, idle = await desk.sessions.open(desk.key_id, clock())
    for _ in range(3):
        clock.advance(minutes=20)
        assert await desk.sessions.find(used, clock()) is not None
    assert await desk.sessions.find(idle, clock()) is None


async def test_a_session_ends_at_its_absolute_lifetime_however_used(
    desk: Desk, clock: FrozenClock
) -> None:
    _, token = await desk.sessions.open(desk.key_id, clock())
    for _ in range(31):
        clock.advance(minutes=15)
        assert await desk.sessions.find(token, clock()) is not None
    clock.advance(minutes=15)  # 8 hours since sign-in
    assert await desk.sessions.find(token, clock()) is None


async def test_only_a_hash_of_the_secret_is_stored(desk: Desk, clock: FrozenClock) -> None:
    if desk.engine is None:
        pytest.skip("the in-memory store keeps no rows to read")
    opened, token = await desk.sessions.open(desk.key_id, clock())
    parts = split_token(token)
    assert parts is not None
    secret = parts[1]
    async with desk.engine.connect() as conn:  # type: ignore[attr-defined]
        rows = (await conn.execute(select(desk_sessions))).mappings().all()
    assert [r["id"] for r in rows] == [opened.id]
    assert secret not in str(dict(rows[0])) and token not in str(dict(rows[0]))


def test_a_token_splits_into_its_id_and_whole_secret_whatever_the_secret_holds() -> None:
    # token_urlsafe secrets may hold "_" themselves: only the first two separate the parts.
    for _ in range(200):
        session_id, secret, token = new_token()
        assert split_token(token) == (session_id, secret)
    assert split_token("ds_0a1b_se_cr_et") == ("0a1b", "se_cr_et")


async def test_a_sign_in_clears_away_ended_sessions(desk: Desk, clock: FrozenClock) -> None:
    if desk.engine is None:
        pytest.skip("the in-memory store keeps no rows to read")
    _, revoked = await desk.sessions.open(desk.key_id, clock())
    await desk.sessions.revoke(revoked, clock())
    await desk.sessions.open(desk.key_id, clock())
    clock.advance(hours=1)
    latest, _ = await desk.sessions.open(desk.key_id, clock())
    async with desk.engine.connect() as conn:  # type: ignore[attr-defined]
        ids = [r.id for r in await conn.execute(select(desk_sessions.c.id))]
    assert ids == [latest.id]
