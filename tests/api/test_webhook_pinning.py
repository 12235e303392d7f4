"""A webhook goes to the address the SSRF check approved, not to wherever the callback's name
resolves a moment later (DNS rebinding): the name is resolved once per attempt, checked, and the
connection is made to that address while the request keeps the name (Host header, TLS SNI)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import anyio
import pytest

from api.notifier import Notifier
from api.settings import WebhookSettings
from api.webhook_delivery import DeliveryWorker
from domain.webhooks import RetrySchedule
from store.subscriptions import DeliveryAttempt, Settlement, Subscription, SubscriptionStore
from tests.builders import draft, raw_source
from tests.support.api import Api

NAME = "rebind.example"
PUBLIC = "93.184.216.34"  # what the name answers first: a public address, so the check passes
LOOPBACK = "127.0.0.1"  # what it answers after: the server's own loopback


@dataclass
class Receiver:
    """A loopback HTTP server that counts connections and records request heads; answers 204."""

    connections: int = 0
    heads: list[bytes] = field(default_factory=list)
    port: int = 0


@asynccontextmanager
async def receiving() -> AsyncIterator[Receiver]:
    receiver = Receiver()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        receiver.connections += 1
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            receiver.heads.append(head)
            length = next(
                (
                    int(line.split(b":", 1)[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                ),
                0,
            )
            await reader.readexactly(length)
            writer.write(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n")
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, LOOPBACK, 0)
    receiver.port = server.sockets[0].getsockname()[1]
    try:
        yield receiver
    finally:
        server.close()
        await server.wait_closed()


class Rebinding:
    """The system resolver, except that NAME answers PUBLIC once and LOOPBACK ever after."""

    def __init__(self, real: Callable[..., Any]) -> None:
        self.real = real
        self.asked = 0

    def __call__(self, host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        if name != NAME:
            return self.real(host, port, *args, **kwargs)
        self.asked += 1
        address = PUBLIC if self.asked == 1 else LOOPBACK
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, int(port)))]


class Observed(SubscriptionStore):
    """The real outbox; every settled attempt is also put on a queue the test awaits."""

    def __init__(self, inner: SubscriptionStore) -> None:
        self.__dict__.update(inner.__dict__)
        self.settled: asyncio.Queue[DeliveryAttempt] = asyncio.Queue()

    async def settle(
        self,
        held: Subscription,
        settlement: Settlement,
        *,
        now: datetime,
        lease: timedelta | None,
        attempt: DeliveryAttempt | None = None,
    ) -> bool:
        kept = await super().settle(held, settlement, now=now, lease=lease, attempt=attempt)
        if attempt is not None:
            self.settled.put_nowait(attempt)
        return kept


async def test_a_name_that_rebinds_to_loopback_after_the_check_is_not_followed(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    rebinding = Rebinding(socket.getaddrinfo)
    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    dialled: list[tuple[str, int]] = []
    connect_tcp = anyio.connect_tcp

    async with receiving() as private, receiving() as public:
        # The network as the test sees it: PUBLIC is served by the `public` receiver; every other
        # address is reached as usual (LOOPBACK is the `private` one).
        async def network(remote_host: Any, remote_port: int, **options: Any) -> Any:
            dialled.append((str(remote_host), remote_port))
            if str(remote_host) == PUBLIC:
                return await connect_tcp(LOOPBACK, public.port, **options)
            return await connect_tcp(remote_host, remote_port, **options)

        monkeypatch.setattr(anyio, "connect_tcp", network)
        services = api.services
        await services.store.append("s", [draft(raw_source("rebinding"))])
        outbox = Observed(services.subscriptions)
        made = await outbox.create(
            owner="k",
            url=f"http://{NAME}:{private.port}/hook",
            filter={},
            description=None,
            cursor=0,
            now=services.clock(),
        )
        notifier = Notifier()
        worker = DeliveryWorker(
            store=services.store,
            subscriptions=outbox,
            notifier=notifier,
            settings=WebhookSettings(
                retry_schedule=RetrySchedule.parse("0,60"),
                allow_private=False,
                timeout=5,
                concurrency=1,
            ),
            clock=services.clock,
        )
        running = asyncio.create_task(worker.run())
        try:
            attempt = await asyncio.wait_for(outbox.settled.get(), timeout=30)
        finally:
            notifier.close()
            await running

    assert private.connections == 0, f"delivery reached loopback: dialled {dialled}"
    assert rebinding.asked == 1, "the name is resolved once, for the check, and not again"
    assert attempt.subscription_id == made.id
    assert attempt.outcome == "delivered", attempt.error
    [head] = public.heads
    assert f"host: {NAME}:{private.port}".encode() in head.lower(), "the URL keeps its name"
    assert dialled == [(PUBLIC, private.port)]
