"""Callback URLs for webhooks: well-formed http(s), and (unless allowed) resolving only to public
addresses, so a subscription cannot make the server call into its own network (SSRF)."""

from __future__ import annotations

import asyncio
import socket
from urllib.parse import urlsplit

from domain.webhooks import address_refusal

RESOLVE_SECONDS = 5.0


class CallbackRefused(ValueError):
    """The callback URL may not be used; the message says why."""


async def check_callback(url: str, *, allow_private: bool) -> None:
    """Raise CallbackRefused unless the URL is usable as a webhook target."""
    if any(ord(c) <= 0x20 or 0x7F <= ord(c) <= 0x9F for c in url):
        raise CallbackRefused("the URL may not contain spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as error:
        raise CallbackRefused(f"not a valid URL: {error}") from None
    if parts.scheme not in ("http", "https"):
        raise CallbackRefused("the URL must start with https:// or http://")
    host = parts.hostname
    if not host:
        raise CallbackRefused("the URL has no host")
    if parts.fragment:
        raise CallbackRefused("the URL may not have a #fragment")
    if allow_private:
        return
    for address in await _addresses(host, port):
        refusal = address_refusal(address)
        if refusal is not None:
            raise CallbackRefused(
                f"{host} resolves to {refusal}; set TIMELINE_WEBHOOK_ALLOW_PRIVATE=1 to allow it"
            )


async def _addresses(host: str, port: int) -> set[str]:
    loop = asyncio.get_running_loop()
    try:
        found = await asyncio.wait_for(
            loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), RESOLVE_SECONDS
        )
    except (OSError, TimeoutError, UnicodeError) as error:
        raise CallbackRefused(f"{host} does not resolve ({error})") from None
    return {str(info[4][0]) for info in found}
