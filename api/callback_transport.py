"""The HTTP transport of webhook deliveries: it connects only to the addresses the SSRF check
approved (api/callbacks.py), never to what the callback's name resolves to a moment later.

Resolving a name twice — once to check it, once to connect — lets a name whose answer changes in
between (DNS rebinding) lead the server into its own network. Here the check's addresses are
pinned for the delivery (`pinned`), and the connection pool's network backend dials them; the
request itself keeps the URL's host name, so the Host header, TLS SNI and certificate checks are
those of the name, as without pinning.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import httpcore
import httpx

from api.callbacks import Destination

SocketOption = (
    tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]
)

# A context variable, not an argument: httpx hands nothing of a request down to the connect. The
# pool connects in the task that sends the request, so each delivery sees its own destination.
_destination: ContextVar[Destination | None] = ContextVar("webhook_destination", default=None)


@contextmanager
def pinned(destination: Destination) -> Iterator[None]:
    """Within the block, connections to the destination's host go to its checked addresses."""
    token = _destination.set(destination)
    try:
        yield
    finally:
        _destination.reset(token)


class PinnedBackend(httpcore.AsyncNetworkBackend):
    """Dials the pinned addresses of the destination being delivered to; refuses anything else."""

    def __init__(self, inner: httpcore.AsyncNetworkBackend | None = None) -> None:
        self._inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's signature)
        local_address: str | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        destination = _destination.get()
        if destination is None or (destination.host, destination.port) != (host, port):
            # Fail closed: a connection nobody checked (a redirect, a proxy) is not made.
            raise httpcore.ConnectError(f"{host}:{port} was not checked for delivery")
        if destination.addresses is None:  # private addresses allowed: nothing to pin
            return await self._inner.connect_tcp(host, port, timeout, local_address, socket_options)
        failures: list[str] = []
        for address in destination.addresses:
            try:
                return await self._inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except httpcore.ConnectError as error:  # refused or unreachable: try the next one
                failures.append(f"{address}: {error or 'connection failed'}")
        raise httpcore.ConnectError("; ".join(failures) or f"{host} has no checked address")

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's signature)
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("webhooks are delivered over TCP only")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class PinnedTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport (its request and error mapping), over a pool that dials through a
    PinnedBackend."""

    def __init__(self, backend: httpcore.AsyncNetworkBackend | None = None) -> None:
        ssl_context = httpx.create_ssl_context()
        super().__init__(verify=ssl_context)
        # httpx has no parameter for the pool's network backend: the pool is made again, as
        # httpx makes it by default (its default limits), with ours.
        # tests/api/test_webhook_pinning.py fails if this stops being the pool httpx uses.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=100,
            max_keepalive_connections=20,
            keepalive_expiry=5.0,
            network_backend=backend or PinnedBackend(),
        )
