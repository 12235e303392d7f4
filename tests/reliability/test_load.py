"""Load drill: many concurrent clients of mixed traffic against a live SQLite server — 80%
position, proposal and timeline reads, 15% feed (connect after the head, read until the first
heartbeat or event, close), 5% appends with an Idempotency-Key. No 5xx, no transport error and
no unexpected status; throughput and latency per kind are printed and written to
`test-artifacts/reliability/load.json` (no timing is asserted: machines are noisy).

CI: 20 clients for 15 s; `TIMELINE_DRILL=long`: 50 clients for 60 s."""

from __future__ import annotations

import asyncio
import random
import statistics
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.databases import SqliteDatabases
from tests.reliability.drill import LONG, PROPOSAL, head, scaled, write_artifact
from tests.support.live import LiveServer, live_server

CLIENTS = int(scaled(20, 50))
SECONDS = scaled(15, 60)
SEED = 20250313
REQUEST_TIMEOUT = 30.0
# Past and future valid times, dates and datetimes with offsets, and a transaction time.
AS_OF = [
    "2025-03-10",
    "2025-03-11",
    "2025-03-12T12:00:00+00:00",
    "2025-03-13T12:00:00+03:00",
    "2025-03-13T23:00:00+03:00",
    "2025-03-14",
    "2025-04-01",
    "2030-01-01",
]
ACTORS = ["russia", "ukraine", "united-states"]
KINDS = ("position", "timeline", "proposal", "feed", "write")
EXPECTED = {"position": {200}, "timeline": {200}, "proposal": {200}, "feed": {200}, "write": {201}}


@dataclass
class Tally:
    """Every request's kind, status (0 for a transport error) and latency."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in KINDS})
    statuses: dict[str, Counter[int]] = field(default_factory=lambda: {k: Counter() for k in KINDS})
    errors: list[str] = field(default_factory=list)
    head: int = 0

    def record(self, kind: str, status: int, seconds: float, detail: str = "") -> None:
        self.latencies[kind].append(seconds)
        self.statuses[kind][status] += 1
        if status not in EXPECTED[kind] and len(self.errors) < 20:
            self.errors.append(f"{kind} {status} {detail[:300]}")


def read_request(rng: random.Random) -> tuple[str, str, dict[str, str]]:
    """One of the reads a newsroom page makes."""
    roll = rng.random()
    if roll < 0.5:
        params = {"as_of": rng.choice(AS_OF)}
        if rng.random() < 0.3:
            params["known_at"] = "2025-06-01T00:00:00+00:00"
        path = f"/v1/proposals/{PROPOSAL}/positions/{rng.choice(ACTORS)}"
        if rng.random() < 0.2:
            return "position", f"{path}/history", {}
        return "position", path, params
    if roll < 0.8:
        return "timeline", "/v1/timeline", {"proposal": PROPOSAL}
    return "proposal", f"/v1/proposals/{PROPOSAL}", {"as_of": rng.choice(AS_OF)}


async def feed_once(client: httpx.AsyncClient, tally: Tally) -> tuple[int, str]:
    """Open the feed after the head, read until a heartbeat or an event, close."""
    async with client.stream("GET", "/v1/feed", params={"after": str(tally.head)}) as response:
        if response.status_code != 200:
            return response.status_code, (await response.aread()).decode(errors="replace")
        async for line in response.aiter_lines():
            if line.startswith(":") or line.startswith("id:"):
                return 200, ""
        return -1, "the stream ended before a heartbeat or an event"


async def write_once(
    client: httpx.AsyncClient, live: LiveServer, n: int, tally: Tally
) -> tuple[int, str]:
    body = {
        "stream": f"load-{n % 8}",
        "events": [
            {
                "type": "StatementMade",
                "occurred_at": "2025-03-14",
                "payload": {"speaker": "donald-trump", "summary": f"load statement {n}"},
                "sources": [{"source": "notus-2025-03-13"}],
            }
        ],
    }
    headers = {**live.writer, "Idempotency-Key": str(uuid.uuid4())}
    response = await client.post("/v1/events", json=body, headers=headers)
    if response.status_code == 201:
        tally.head = max(tally.head, response.json()["events"][-1]["position"])
    return response.status_code, response.text


async def client_loop(
    number: int, live: LiveServer, tally: Tally, until: float, counter: Iterator[int]
) -> None:
    rng = random.Random(SEED * 1000 + number)
    async with httpx.AsyncClient(base_url=live.base, timeout=REQUEST_TIMEOUT) as client:
        while time.monotonic() < until:
            roll = rng.random()
            started = time.perf_counter()
            kind = "feed" if roll < 0.15 else "write" if roll < 0.20 else ""
            try:
                if kind == "feed":
                    status, detail = await feed_once(client, tally)
                elif kind == "write":
                    status, detail = await write_once(client, live, next(counter), tally)
                else:
                    kind, path, params = read_request(rng)
                    response = await client.get(path, params=params)
                    status, detail = response.status_code, response.text
            except httpx.TransportError as error:
                status, detail = 0, repr(error)
            tally.record(kind or "position", status, time.perf_counter() - started, detail)


async def generate(live: LiveServer, tally: Tally) -> float:
    """All clients for SECONDS; the wall time they took."""
    tally.head = head(live.base)
    counter = iter(range(10**9))
    started = time.monotonic()
    until = started + SECONDS
    async with asyncio.timeout(SECONDS + REQUEST_TIMEOUT + 30):
        await asyncio.gather(*(client_loop(n, live, tally, until, counter) for n in range(CLIENTS)))
    return time.monotonic() - started


def summary(latencies: list[float], seconds: float) -> dict[str, float | int]:
    ordered = sorted(latencies)
    if not ordered:
        return {"requests": 0}
    cuts = statistics.quantiles(ordered, n=100, method="inclusive") if len(ordered) > 1 else []
    return {
        "requests": len(ordered),
        "per_second": round(len(ordered) / seconds, 1),
        "p50_ms": round((cuts[49] if cuts else ordered[0]) * 1000, 2),
        "p99_ms": round((cuts[98] if cuts else ordered[0]) * 1000, 2),
        "max_ms": round(ordered[-1] * 1000, 2),
    }


@pytest.fixture
def live(sqlite_databases: SqliteDatabases, tmp_path: Path) -> Iterator[LiveServer]:
    """A seeded server whose idle feed answers with a heartbeat within a quarter second."""
    settings = {"TIMELINE_SSE_HEARTBEAT": "0.25", "TIMELINE_SSE_MAX_LIFETIME": "30"}
    with live_server(sqlite_databases.seeded().raw, tmp_path, settings=settings) as server:
        yield server


def test_mixed_load_gets_no_server_error_and_every_kind_is_exercised(live: LiveServer) -> None:
    tally = Tally()
    wall: list[float] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            wall.append(asyncio.run(generate(live, tally)))
        except BaseException as error:
            failure.append(error)

    # Its own thread and event loop: nothing else in this process competes with the clients.
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(SECONDS + REQUEST_TIMEOUT + 60)
    assert not thread.is_alive(), "the load generator hung"
    assert not failure, repr(failure[0])
    seconds = wall[0]

    everything = [s for k in KINDS for s in tally.latencies[k]]
    figures: dict[str, Any] = {
        "clients": CLIENTS,
        "seconds": round(seconds, 1),
        "long": LONG,
        "overall": summary(everything, seconds),
        "kinds": {k: summary(tally.latencies[k], seconds) for k in KINDS},
        "statuses": {k: dict(tally.statuses[k]) for k in KINDS},
    }
    path = write_artifact("load.json", figures)
    print(f"\n[load drill] {CLIENTS} clients for {seconds:.1f}s -> {path}")
    for kind, row in [("overall", figures["overall"]), *figures["kinds"].items()]:
        print(f"[load drill] {kind:>9}: {row}")
    print(f"[load drill] statuses: {figures['statuses']}")

    assert all(tally.latencies[k] for k in KINDS), f"a kind was never exercised: {figures}"
    server_errors = sum(n for k in KINDS for s, n in tally.statuses[k].items() if s >= 500)
    transport_errors = sum(tally.statuses[k][0] for k in KINDS)
    assert server_errors == 0, f"{server_errors} 5xx: {tally.errors}"
    assert transport_errors == 0, f"{transport_errors} transport errors: {tally.errors}"
    assert not tally.errors, f"unexpected statuses: {tally.errors}"
