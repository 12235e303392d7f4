"""Conditional GETs: a body with its strong ETag, or a 304 when the client already has it."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

from litestar import Request, Response

from api.encoded_response import EncodedJson

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"


def conditional(
    request: Request[Any, Any, Any], etag: str, encoded: bytes, cache_control: str
) -> Response[Any]:
    """A 200 with the body, or a 304 when the client's If-None-Match names this ETag."""
    headers = {"ETag": etag, "Cache-Control": cache_control}
    if client_has(request, etag):
        return Response(content=b"", status_code=304, headers=headers)
    return EncodedJson(encoded, headers)


def client_has(request: Request[Any, Any, Any], etag: str) -> bool:
    """Whether the request's If-None-Match names this ETag (or any, with `*`)."""
    # Read from the raw ASGI headers: building the request's Headers for this one cost more
    # than the rest of the check. The first If-None-Match counts, as with headers.get.
    for name, value in request.scope["headers"]:
        if name.lower() == b"if-none-match":
            wanted = value.decode("latin-1")
            return etag in [tag.strip() for tag in wanted.split(",")] or wanted.strip() == "*"
    return False


def http_date(moment: datetime) -> str:
    """An instant as an HTTP-date (RFC 9110), to the whole second below it."""
    return format_datetime(moment.astimezone(UTC).replace(microsecond=0), usegmt=True)


def unmodified_since(request: Request[Any, Any, Any], last_modified: datetime) -> bool:
    """Whether the request's If-Modified-Since is at or after `last_modified` (to the second).
    False when it sends If-None-Match, which then decides alone (RFC 9110, 13.1.3), or an
    If-Modified-Since that is not an HTTP-date."""
    if "if-none-match" in request.headers:
        return False
    sent = request.headers.get("if-modified-since")
    if sent is None:
        return False
    try:
        since = parsedate_to_datetime(sent)
    except (TypeError, ValueError):
        return False
    if since.tzinfo is None:  # "-0000" in the obsolete forms: taken as UTC
        since = since.replace(tzinfo=UTC)
    return last_modified.replace(microsecond=0) <= since
