"""Bearer keys with scopes: no or bad key is a 401, a key without the scope a 403, a key over
its write rate a 429."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from api.problems import ApiProblem
from api.services import Services
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


async def _spend_allowance(connection: ASGIConnection[Any, Any, Any, Any], key: ApiKey) -> None:
    services: Services = connection.app.state.services
    limiter = services.rate_limiter
    if limiter is None:
        return
    allowance = await limiter.spend(key.id, services.clock())
    if not allowance.allowed:
        raise ApiProblem(
            429,
            "rate-limited",
            "Too many writes",
            f"this key may make {limiter.limit} writes every {limiter.seconds} s; "
            f"retry after {allowance.retry_after} s",
            headers={
                "Retry-After": str(allowance.retry_after),
                "RateLimit-Policy": f"{limiter.limit};w={limiter.seconds}",
            },
        )


def requires(scope: str) -> Any:
    """A guard that lets through only keys holding `scope`."""

    async def guard(
        connection: ASGIConnection[Any, Any, Any, Any], _handler: BaseRouteHandler
    ) -> None:
        key = await authenticate(connection)
        if not key.allows(scope):
            raise PermissionDeniedException(f"this operation needs the {scope!r} scope")
        if connection.scope.get("method") not in READS:
            await _spend_allowance(connection, key)
        connection.state[KEY_STATE] = key

    return guard
