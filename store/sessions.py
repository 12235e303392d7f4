"""Editors' desk sessions: opened for an API key, kept only as a SHA-256 of their secret, ended
by sign-out, by idleness or by age. Adapters: SQL (SQLite, PostgreSQL) and in memory."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.valid_time import from_micros, to_micros
from store.boundary import reading, writing
from store.keys import hash_secret
from store.tables import DeskSessionRow

PREFIX = "ds"
# A session's last use is written at most this often: a page view is a read, not a write that
# takes SQLite's write lock from the appends. Idle expiry may so come up to this much early.
TOUCH_EVERY = timedelta(seconds=60)

desk_sessions = DeskSessionRow.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionLifetime:
    """How long a session lives: `idle` since its last use, `absolute` since it was opened."""

    idle: timedelta = timedelta(hours=1)
    absolute: timedelta = timedelta(hours=12)

    def alive(self, session: DeskSession, now: datetime) -> bool:
        """Whether a session that was not revoked is still usable at `now`."""
        return now < session.last_seen_at + self.idle and now < session.created_at + self.absolute


@dataclass(frozen=True, slots=True, kw_only=True)
class DeskSession:
    """A session's public facts: never its secret."""

    id: str
    key_id: str
    created_at: datetime
    last_seen_at: datetime


class SessionStore(Protocol):
    """Opens, finds and revokes editors' desk sessions."""

    lifetime: SessionLifetime

    async def open(self, key_id: str, now: datetime) -> tuple[DeskSession, str]:
        """A new session for a key and its token, which is handed out once and never stored."""
        ...

    async def find(self, token: str, now: datetime) -> DeskSession | None:
        """The live session this token opens (its last use moved to `now`), or None."""
        ...

    async def revoke(self, token: str, now: datetime) -> bool:
        """End the session for good; False when the token opens no live session."""
        ...


def new_token() -> tuple[str, str, str]:
    """A session id, its secret, and the token that carries both."""
    session_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
    return session_id, secret, f"{PREFIX}_{session_id}_{secret}"


def split_token(token: str) -> tuple[str, str] | None:
    """`ds_<id>_<secret>` into id and secret, or None when it has another shape."""
    prefix, _, rest = token.partition("_")
    session_id, _, secret = rest.partition("_")
    if prefix != PREFIX or not session_id or not secret or len(session_id) > 32:
        return None
    return session_id, secret


def _matches(stored_hash: str, secret: str) -> bool:
    return hmac.compare_digest(stored_hash, hash_secret(secret))


class SqlSessionStore:
    """Sessions in the `desk_sessions` table, shared by every API process."""

    def __init__(self, engine: AsyncEngine, lifetime: SessionLifetime | None = None) -> None:
        self._engine = engine
        self.lifetime = lifetime or SessionLifetime()

    async def open(self, key_id: str, now: datetime) -> tuple[DeskSession, str]:
        session_id, secret, token = new_token()
        stamp = to_micros(now)
        async with writing(self._engine) as conn:
            # Ended sessions are of no further use: each sign-in clears them away.
            await conn.execute(
                delete(desk_sessions).where(
                    or_(
                        desk_sessions.c.revoked_at.is_not(None),
                        desk_sessions.c.last_seen_at <= stamp - _micros(self.lifetime.idle),
                        desk_sessions.c.created_at <= stamp - _micros(self.lifetime.absolute),
                    )
                )
            )
            await conn.execute(
                insert(desk_sessions).values(
                    id=session_id,
                    secret_hash=hash_secret(secret),
                    key_id=key_id,
                    created_at=stamp,
                    last_seen_at=stamp,
                )
            )
        return DeskSession(id=session_id, key_id=key_id, created_at=now, last_seen_at=now), token

    async def find(self, token: str, now: datetime) -> DeskSession | None:
        parts = split_token(token)
        if parts is None:
            return None
        session_id, secret = parts
        async with reading(self._engine) as conn:
            row = (
                await conn.execute(select(desk_sessions).where(desk_sessions.c.id == session_id))
            ).first()
        if row is None or row.revoked_at is not None or not _matches(row.secret_hash, secret):
            return None
        session = _session(row)
        if not self.lifetime.alive(session, now):
            return None
        if now - session.last_seen_at < TOUCH_EVERY:
            return session
        async with writing(self._engine) as conn:
            touched = await conn.execute(
                update(desk_sessions)
                .where(desk_sessions.c.id == session_id, desk_sessions.c.revoked_at.is_(None))
                .values(last_seen_at=to_micros(now))
            )
        return replace(session, last_seen_at=now) if touched.rowcount else None

    async def revoke(self, token: str, now: datetime) -> bool:
        parts = split_token(token)
        if parts is None:
            return False
        session_id, secret = parts
        async with writing(self._engine) as conn:
            row = (
                await conn.execute(select(desk_sessions).where(desk_sessions.c.id == session_id))
            ).first()
            if row is None or row.revoked_at is not None or not _matches(row.secret_hash, secret):
                return False
            await conn.execute(
                update(desk_sessions)
                .where(desk_sessions.c.id == session_id)
                .values(revoked_at=to_micros(now))
            )
        return self.lifetime.alive(_session(row), now)


def _micros(span: timedelta) -> int:
    return span // timedelta(microseconds=1)


def _session(row: object) -> DeskSession:
    return DeskSession(
        id=getattr(row, "id"),  # noqa: B009
        key_id=getattr(row, "key_id"),  # noqa: B009
        created_at=from_micros(getattr(row, "created_at")),  # noqa: B009
        last_seen_at=from_micros(getattr(row, "last_seen_at")),  # noqa: B009
    )


@dataclass(slots=True)
class _Held:
    session: DeskSession
    secret_hash: str
    revoked: bool = False


class InMemorySessionStore:
    """Sessions in a dict, held to the same contract as the SQL store."""

    def __init__(self, lifetime: SessionLifetime | None = None) -> None:
        self.lifetime = lifetime or SessionLifetime()
        self._held: dict[str, _Held] = {}

    async def open(self, key_id: str, now: datetime) -> tuple[DeskSession, str]:
        self._held = {
            k: h
            for k, h in self._held.items()
            if not h.revoked and self.lifetime.alive(h.session, now)
        }
        session_id, secret, token = new_token()
        session = DeskSession(id=session_id, key_id=key_id, created_at=now, last_seen_at=now)
        self._held[session_id] = _Held(session, hash_secret(secret))
        return session, token

    def _live(self, token: str, now: datetime) -> _Held | None:
        parts = split_token(token)
        if parts is None:
            return None
        held = self._held.get(parts[0])
        if held is None or held.revoked or not _matches(held.secret_hash, parts[1]):
            return None
        return held if self.lifetime.alive(held.session, now) else None

    async def find(self, token: str, now: datetime) -> DeskSession | None:
        held = self._live(token, now)
        if held is None:
            return None
        if now - held.session.last_seen_at >= TOUCH_EVERY:
            held.session = replace(held.session, last_seen_at=now)
        return held.session

    async def revoke(self, token: str, now: datetime) -> bool:
        held = self._live(token, now)
        if held is None:
            return False
        held.revoked = True
        return True
