"""Conditional GETs: a body with its strong ETag, or a 304 when the client already has it."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"


def conditional(
    request: Request[Any, Any, Any], etag: str, encoded: bytes, cache_control: str
) -> Response[Any]:
    """A 200 with the body, or a 304 when the client's If-None-Match names this ETag."""
    headers = {"ETag": etag, "Cache-Control": cache_control}
    wanted = request.headers.get("if-none-match", "")
    if etag in [tag.strip() for tag in wanted.split(",")] or wanted.strip() == "*":
        return Response(content=b"", status_code=304, headers=headers)
    return Response(content=encoded, media_type="application/json", headers=headers)
