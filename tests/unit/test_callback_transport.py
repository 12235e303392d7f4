"""The delivery transport dials only the checked addresses, and keeps the URL's host name for
everything else: the Host header, TLS SNI and the certificate check."""

from __future__ import annotations

import ssl
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx
import pytest

from api.callback_transport import PinnedBackend, PinnedTransport, pinned
from api.callbacks import CallbackRefused, Destination, check_callback

NO_CONTENT = [b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n"]


class Stream(httpcore.AsyncMockStream):
    """A canned answer; remembers how TLS was started on it."""

    def __init__(self, buffer: list[bytes], tls: list[tuple[str | None, bool]]) -> None:
        super().__init__(buffer)
        self.written: list[bytes] = []
        self._tls = tls

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:  # noqa: ASYNC109
        self.written.append(buffer)

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's signature)
    ) -> httpcore.AsyncNetworkStream:
        self._tls.append((server_hostname, ssl_context.check_hostname))
        return self


class Network(httpcore.AsyncNetworkBackend):
    """Addresses it was asked to dial; `down` ones refuse, the rest answer 204."""

    def __init__(self, down: Iterable[str] = ()) -> None:
        self.dialled: list[tuple[str, int]] = []
        self.tls: list[tuple[str | None, bool]] = []
        self.streams: list[Stream] = []
        self.down = set(down)

    async def connect_tcp(
        self, host: str, port: int, *args: Any, **kwargs: Any
    ) -> httpcore.AsyncNetworkStream:
        self.dialled.append((host, port))
        if host in self.down:
            raise httpcore.ConnectError("connection refused")
        stream = Stream(list(NO_CONTENT), self.tls)
        self.streams.append(stream)
        return stream

    async def sleep(self, seconds: float) -> None:
        pass


async def post(network: Network, url: str, destination: Destination | None) -> httpx.Response:
    transport = PinnedTransport(PinnedBackend(network))
    async with httpx.AsyncClient(transport=transport, trust_env=False) as client:
        if destination is None:
            return await client.post(url, content=b"{}")
        with pinned(destination):
            return await client.post(url, content=b"{}")


async def test_https_dials_the_checked_address_and_keeps_the_name_for_tls() -> None:
    network = Network()
    checked = Destination("hooks.example", 443, ("93.184.216.34",))
    response = await post(network, "https://hooks.example/in", checked)
    assert response.status_code == 204
    assert network.dialled == [("93.184.216.34", 443)]
    assert network.tls == [("hooks.example", True)], "SNI and the certificate check: the name"
    head = b"".join(network.streams[0].written).split(b"\r\n\r\n")[0]
    assert b"\r\nHost: hooks.example\r\n" in head


async def test_the_next_checked_address_is_tried_when_one_refuses() -> None:
    network = Network(down={"2001:db8::1"})
    checked = Destination("hooks.example", 8080, ("2001:db8::1", "93.184.216.34"))
    response = await post(network, "http://hooks.example:8080/in", checked)
    assert response.status_code == 204
    assert network.dialled == [("2001:db8::1", 8080), ("93.184.216.34", 8080)]


async def test_when_every_checked_address_refuses_the_error_names_them() -> None:
    network = Network(down={"93.184.216.34"})
    checked = Destination("hooks.example", 443, ("93.184.216.34",))
    with pytest.raises(httpx.ConnectError, match=r"93\.184\.216\.34: connection refused"):
        await post(network, "https://hooks.example/in", checked)


@pytest.mark.parametrize(
    ("url", "destination"),
    [
        ("https://hooks.example/in", None),  # nothing was checked
        ("https://elsewhere.example/in", Destination("hooks.example", 443, ("93.184.216.34",))),
        ("https://hooks.example:8443/in", Destination("hooks.example", 443, ("93.184.216.34",))),
    ],
)
async def test_a_connection_nobody_checked_is_not_made(
    url: str, destination: Destination | None
) -> None:
    network = Network()
    with pytest.raises(httpx.ConnectError, match="was not checked"):
        await post(network, url, destination)
    assert network.dialled == []


async def test_with_private_addresses_allowed_the_name_is_dialled_as_it_is() -> None:
    network = Network()
    response = await post(network, "http://localhost:9000/in", Destination("localhost", 9000, None))
    assert response.status_code == 204
    assert network.dialled == [("localhost", 9000)]


class Resolver:
    """Answers every name with these addresses; remembers what it was asked."""

    def __init__(self, *addresses: str) -> None:
        self.addresses = addresses
        self.asked: list[tuple[str, int]] = []

    async def __call__(self, host: str, port: int) -> tuple[str, ...]:
        self.asked.append((host, port))
        return self.addresses


@pytest.mark.parametrize(
    ("url", "host", "port"),
    [
        ("https://Hooks.Example/in", "hooks.example", 443),
        ("http://bücher.example:8080/in", "xn--bcher-kva.example", 8080),
        ("http://[2606:4700::1111]/in", "2606:4700::1111", 80),
    ],
)
async def test_the_check_resolves_and_returns_the_host_as_the_client_dials_it(
    url: str, host: str, port: int
) -> None:
    resolver = Resolver("93.184.216.34", "2606:4700::1111")
    checked = await check_callback(url, allow_private=False, resolve=resolver)
    assert checked == Destination(host, port, ("93.184.216.34", "2606:4700::1111"))
    assert resolver.asked == [(host, port)]


async def test_one_private_address_among_public_ones_refuses_the_callback() -> None:
    resolver = Resolver("93.184.216.34", "10.0.0.7")
    with pytest.raises(CallbackRefused, match=r"10\.0\.0\.7 is a private address"):
        await check_callback("https://hooks.example/in", allow_private=False, resolve=resolver)


async def test_with_private_addresses_allowed_nothing_is_resolved() -> None:
    resolver = Resolver("127.0.0.1")
    checked = await check_callback("http://localhost:9000/", allow_private=True, resolve=resolver)
    assert checked == Destination("localhost", 9000, None)
    assert resolver.asked == []
