"""Bearer keys with scopes: no or bad key is a 401, a key without the scope a 403, a key over
its write rate a 429."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from api.services import Services
from store.errors import RateLimited
from store.keys import ApiKey

KEY_STATE = "api_key"
READS = ("GET", "HEAD", "OPTIONS")


async def authenticate(connection: ASGIConnection[Any, Any, Any, Any]) -> ApiKey:
    """The key presented in the Authorization header, or a 401."""
    header = connection.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthorizedException("send Authorization: Bearer <key>")
    services: Services = connection.app.state.services
    key = await services.keys.authenticate(token.strip())
    if key is None:
        raise NotAuthorizedException("the key is unknown or revoked")
    return key


async def optional_key(connection: ASGIConnection[Any, Any, Any, Any]) -> ApiKey | None:
    """The key of a read that may be made without one: None when no Authorization header is
    sent, the key when a good one is, and a 401 for a bad one (as on every other route)."""
    if not connection.headers.get("authorization"):
        return None
    return await authenticate(connection)


def need_scope(scope: str) -> PermissionDeniedException:
    """The 403 for a key without `scope` (the same words as the `requires` guard's)."""
    return PermissionDeniedException(f"this operation needs the {scope!r} scope")


async def _spend_allowance(connection: ASGIConnection[Any, Any, Any, Any], key: ApiKey) -> None:
    services: Services = connection.app.state.services
    limiter = services.rate_limiter
    if limiter is None:
        return
    allowance = await limiter.spend(key.id, services.clock())
    if not allowance.allowed:
        raise RateLimited(limiter.limit, limiter.seconds, allowance.retry_after)


def requires(scope: str, *, charge: bool = True) -> Any:
    """A guard that lets through only keys holding `scope`, and counts a write against the
    key's allowance; with `charge=False` the handler counts it in its own transaction."""

    async def guard(
        connection: ASGIConnection[Any, Any, Any, Any], _handler: BaseRouteHandler
    ) -> None:
        key = await authenticate(connection)
        if not key.allows(scope):
            raise need_scope(scope)
        if charge and connection.scope.get("method") not in READS:
            await _spend_allowance(connection, key)
        connection.state[KEY_STATE] = key

    return guard
