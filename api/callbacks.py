"""Callback URLs for webhooks: well-formed http(s), and (unless allowed) resolving only to public
addresses, so a subscription cannot make the server call into its own network (SSRF)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from domain.webhooks import address_refusal

RESOLVE_SECONDS = 5.0
DEFAULT_PORTS = {"http": 80, "https": 443}

Resolver = Callable[[str, int], Awaitable[tuple[str, ...]]]


class CallbackRefused(ValueError):
    """The callback URL may not be used; the message says why."""


@dataclass(frozen=True, slots=True)
class Destination:
    """Where a callback's connection goes: the host and port as the HTTP client connects to them
    (IDNA-encoded, an IPv6 literal without brackets), and the addresses the check approved —
    the only ones to connect to — or None when private addresses are allowed and none was
    checked."""

    host: str
    port: int
    addresses: tuple[str, ...] | None


async def check_callback(
    url: str, *, allow_private: bool, resolve: Resolver | None = None
) -> Destination:
    """Where the URL may be called, or CallbackRefused unless it is usable as a webhook target."""
    if any(ord(c) <= 0x20 or 0x7F <= ord(c) <= 0x9F for c in url):
        raise CallbackRefused("the URL may not contain spaces or control characters")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises ValueError for a port out of range)
    except ValueError as error:
        raise CallbackRefused(f"not a valid URL: {error}") from None
    if parts.scheme not in DEFAULT_PORTS:
        raise CallbackRefused("the URL must start with https:// or http://")
    if not parts.hostname:
        raise CallbackRefused("the URL has no host")
    if parts.fragment:
        raise CallbackRefused("the URL may not have a #fragment")
    try:
        # The host and port exactly as the HTTP client will dial them: that is what gets
        # resolved, checked and pinned.
        target = httpx.URL(url)
        host = target.raw_host.decode("ascii")
        port = target.port or DEFAULT_PORTS[parts.scheme]
    except (httpx.InvalidURL, UnicodeError) as error:
        raise CallbackRefused(f"not a valid URL: {error}") from None
    if allow_private:
        return Destination(host, port, None)
    addresses = await (resolve or resolve_host)(host, port)
    for address in addresses:
        refusal = address_refusal(address)
        if refusal is not None:
            raise CallbackRefused(
                f"{parts.hostname} resolves to {refusal}; "
                "set TIMELINE_WEBHOOK_ALLOW_PRIVATE=1 to allow it"
            )
    return Destination(host, port, addresses)


async def resolve_host(host: str, port: int) -> tuple[str, ...]:
    """The addresses the system resolver gives for a host, in its order; CallbackRefused when
    there are none."""
    loop = asyncio.get_running_loop()
    try:
        found = await asyncio.wait_for(
            loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), RESOLVE_SECONDS
        )
    except (OSError, TimeoutError, UnicodeError) as error:
        raise CallbackRefused(f"{host} does not resolve ({error})") from None
    addresses = tuple(dict.fromkeys(str(info[4][0]) for info in found))
    if not addresses:
        raise CallbackRefused(f"{host} does not resolve (no addresses)")
    return addresses
