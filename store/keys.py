"""API keys: made by the CLI, stored only as a SHA-256 of the secret, checked in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.valid_time import from_micros, to_micros
from store.boundary import reading, writing
from store.database import DatabaseUrl, create_engine
from store.read_path import EngineReadPath, ReadPath, constant
from store.scopes import SCOPES
from store.tables import ApiKeyRow

PREFIX = "tl"

api_keys = ApiKeyRow.__table__  # type: ignore[attr-defined]
# Every authenticated request reads its key: on the store's read path, a plan found by identity.
_BY_ID = constant(select(api_keys).where(api_keys.c.id == bindparam("key_id")))


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiKey:
    """A key's public facts: never its secret."""

    id: str
    name: str
    scopes: frozenset[str]
    created_at: datetime
    revoked_at: datetime | None = None

    def allows(self, scope: str) -> bool:
        """Whether this key may act with that scope (`admin` may do anything)."""
        return self.revoked_at is None and (scope in self.scopes or "admin" in self.scopes)


def hash_secret(secret: str) -> str:
    """The stored form of a secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


def split_token(token: str) -> tuple[str, str] | None:
    """`tl_<id>_<secret>` into id and secret, or None when it has another shape."""
    prefix, _, rest = token.partition("_")
    key_id, _, secret = rest.partition("_")
    if prefix != PREFIX or not key_id or not secret or len(key_id) > 32:
        return None
    return key_id, secret


class KeyStore:
    """Creates, finds, lists and revokes API keys."""

    def __init__(self, engine: AsyncEngine, reads: ReadPath | None = None) -> None:
        self._engine = engine
        # The API hands in the event store's read path (the bare driver); the CLI reads through
        # the engine.
        self._reads = reads or EngineReadPath(engine)

    async def create(self, name: str, scopes: frozenset[str], now: datetime) -> tuple[ApiKey, str]:
        """A new key and its token, which is shown once and never stored."""
        unknown = scopes - set(SCOPES)
        if unknown or not scopes:
            raise ValueError(f"scopes must be among {', '.join(SCOPES)}")
        key_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
        key = ApiKey(id=key_id, name=name, scopes=scopes, created_at=now)
        async with writing(self._engine) as conn:
            await conn.execute(
                insert(api_keys).values(
                    id=key_id,
                    name=name,
                    secret_hash=hash_secret(secret),
                    scopes=sorted(scopes),
                    created_at=to_micros(now),
                )
            )
        return key, f"{PREFIX}_{key_id}_{secret}"

    async def authenticate(self, token: str) -> ApiKey | None:
        """The live key this token belongs to, or None."""
        parts = split_token(token)
        if parts is None:
            return None
        key_id, secret = parts
        async with self._reads.reading() as conn:
            row = (await conn.execute(_BY_ID, {"key_id": key_id})).first()
        if row is None or not hmac.compare_digest(row.secret_hash, hash_secret(secret)):
            return None
        key = _key(row)
        return key if key.revoked_at is None else None

    async def find(self, key_id: str) -> ApiKey | None:
        """The live key of this id (a desk session's), or None when unknown or revoked."""
        async with self._reads.reading() as conn:
            row = (await conn.execute(_BY_ID, {"key_id": key_id})).first()
        key = None if row is None else _key(row)
        return key if key is not None and key.revoked_at is None else None

    async def list(self) -> list[ApiKey]:
        """Every key, oldest first."""
        async with reading(self._engine) as conn:
            rows = await conn.execute(select(api_keys).order_by(api_keys.c.created_at))
            return [_key(row) for row in rows]

    async def revoke(self, key_id: str, now: datetime) -> bool:
        """Revoke a key; False when there is no such live key."""
        async with writing(self._engine) as conn:
            result = await conn.execute(
                update(api_keys)
                .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=to_micros(now))
            )
            return bool(result.rowcount)


def _key(row: object) -> ApiKey:
    revoked = getattr(row, "revoked_at", None)
    return ApiKey(
        id=getattr(row, "id"),  # noqa: B009
        name=getattr(row, "name"),  # noqa: B009
        scopes=frozenset(getattr(row, "scopes")),  # noqa: B009
        created_at=from_micros(getattr(row, "created_at")),  # noqa: B009
        revoked_at=None if revoked is None else from_micros(revoked),
    )


@asynccontextmanager
async def opened_key_store(url: DatabaseUrl) -> AsyncIterator[KeyStore]:
    """A key store on its own engine (the CLI's), disposed of when the block ends."""
    engine = create_engine(url)
    try:
        yield KeyStore(engine)
    finally:
        await engine.dispose()
