"""The HTTP benchmark's load generator against a canned server: it counts what it should."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from bench.http import (
    HOST,
    READS,
    Workload,
    generate,
    instant,
    position_paths,
    request_bytes,
    summarise,
    to_micros,
    verdicts,
)

OK = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 17\r\n\r\n"
BODY = b'{"hello":"world"}'


@asynccontextmanager
async def canned(answer: Callable[[bytes], list[bytes]]) -> AsyncIterator[int]:
    """A server answering each request head with the chunks `answer` gives; its port."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                for chunk in answer(head):
                    writer.write(chunk)
                    await writer.drain()
                    await asyncio.sleep(0)
                if b"close" in head.split(b"\r\n")[0]:
                    writer.close()
                    return
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = await asyncio.start_server(serve, HOST, 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()


async def test_counts_answers_split_across_packets() -> None:
    # Head and body in pieces: the parser waits for the whole Content-Length body.
    async with canned(lambda _: [OK[:20], OK[20:] + BODY[:5], BODY[5:]]) as port:
        result = await generate(port, Workload([request_bytes(port, "/x")]), 4, 0.3)
    assert result["ok"] > 10
    assert result["errors"] == 0
    assert 0 < result["p50_ms"] <= result["p99_ms"]


async def test_server_errors_count_as_errors_not_answers() -> None:
    def answer(head: bytes) -> list[bytes]:
        if head.startswith(b"GET /fail"):
            return [b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 2\r\n\r\n{}"]
        return [b"HTTP/1.1 304 Not Modified\r\n\r\n"]

    async with canned(answer) as port:
        work = Workload([request_bytes(port, "/fail"), request_bytes(port, "/ok")])
        result = await generate(port, work, 2, 0.3)
    assert result["ok"] > 0 and result["errors"] > 0
    assert set(result["statuses"]) == {"500"}


async def test_reconnects_when_the_server_closes() -> None:
    close = b"HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 17\r\n\r\n" + BODY
    async with canned(lambda _: [close]) as port:
        result = await generate(port, Workload([request_bytes(port, "/close")]), 2, 0.3)
    assert result["ok"] > 2
    assert result["errors"] == 0


async def test_stride_gives_each_connection_its_own_requests() -> None:
    seen: list[bytes] = []

    def answer(head: bytes) -> list[bytes]:
        seen.append(head.split(b" ")[1])
        return [OK + BODY]

    async with canned(answer) as port:
        work = Workload([request_bytes(port, f"/{i}") for i in range(100_000)], stride=3)
        await generate(port, work, 3, 0.2)
    assert len(seen) == len(set(seen))


def test_instants_round_trip_in_microseconds() -> None:
    moment = datetime(2025, 3, 13, 12, 0, 0, 123456, tzinfo=UTC)
    assert instant(to_micros(moment)) == "2025-03-13T12:00:00.123456Z"
    assert len(position_paths(instant(to_micros(moment)))) == len(READS)


def test_verdict_compares_medians() -> None:
    run = {"ok": 1, "errors": 0, "statuses": {}, "problems": [], "p50_ms": 1.0, "p99_ms": 2.0}
    position = summarise(
        [{**run, "rps": r, "client_cpu": 0.1, "server_cpu": 1.0} for r in (40, 60)]
    )
    hello = summarise([{**run, "rps": 100.0, "client_cpu": 0.1, "server_cpu": 1.0}])
    result = {
        "backend": "sqlite",
        "workers": 2,
        "endpoints": {"position": position, "hello": hello},
        "ratio_rps": 0.5,
    }
    [verdict] = verdicts(result)
    assert verdict["met"]
    assert "(sqlite, 2 workers)" in verdict["target"]


def single_runs(rates: dict[str, float]) -> dict[str, dict[str, Any]]:
    """Each endpoint's figures from one run at its rate."""
    run = {"ok": 1, "errors": 0, "statuses": {}, "problems": [], "p50_ms": 1.0, "p99_ms": 2.0}
    return {
        name: summarise([{**run, "rps": rps, "client_cpu": 0.1, "server_cpu": 0.5}])
        for name, rps in rates.items()
    }


def test_the_uncached_read_is_a_target_row_of_its_own() -> None:
    figures = single_runs({"position": 100.0, "hello": 100.0, "position_uncached": 45.0})
    result = {
        "backend": "sqlite",
        "workers": 1,
        "endpoints": figures,
        "ratio_rps": 1.0,
        "ratio_rps_uncached": 0.45,
    }
    cacheable, uncached = verdicts(result)
    assert cacheable["met"]
    assert uncached["target"].startswith("uncached position GET ÷ one-line handler, req/s ≥ 0.5")
    assert (uncached["measured"], uncached["met"]) == ("0.45 (45 / 100 req/s)", False)
    assert figures["hello"]["server_cpu_us_per_request"]["median"] == 5000


def test_the_uncached_row_says_the_most_a_known_answer_leaves_it() -> None:
    figures = single_runs(
        {"position": 100.0, "hello": 100.0, "position_uncached": 45.0, "position_known": 62.0}
    )
    result = {
        "backend": "sqlite",
        "workers": 1,
        "endpoints": figures,
        "ratio_rps": 1.0,
        "ratio_rps_uncached": 0.45,
        "ratio_rps_known": 0.62,
    }
    _, uncached = verdicts(result)
    assert uncached["measured"] == "0.45 (45 / 100 req/s; its answer known, no read: at most 0.62)"
    assert not uncached["met"]
