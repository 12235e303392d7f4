"""HTTP benchmark: requests/s and latency of a cacheable position GET beside a one-line handler.

    uv run python -m bench.http [--backend sqlite|postgresql] [--workers 1[,2]] [--quick]
                                [--runs 3] [--connections 16] [--duration 10] [--uncached]
                                [--json PATH]

A real server (`bench.app:app_factory`: the API plus `GET /bench/hello`, uvicorn, one or more
worker processes) is started on a fresh, migrated and seeded database — SQLite in a temporary
folder, or a new PostgreSQL database — and stopped at the end, on an error and on Ctrl-C too.
Both endpoints are served by the same processes, so the gap between them is the position read's
own work: routing, middleware, uvicorn and the socket cost both the same.

The position GET asks for seeded positions (Russia's, Ukraine's and the United States' on the
30-day ceasefire proposal) at explicit past `as_of` and `known_at`: a settled read, which the API
marks `immutable`. A few (actor, as_of) are rotated so no single answer is measured.

The load is a closed loop: `--connections` keep-alive connections, each sending its next
request as soon as the previous answer is in, for `--duration` seconds. The client is a bare
asyncio protocol with pre-built HTTP/1.1 requests and a Content-Length-only response parser, in
a forked process of its own; its CPU use is reported beside the server's (2 cores here: a
client near a full core would be the bottleneck, not the server). Runs of the two endpoints
alternate (position, hello, position, ...) so noise falls on both alike; each figure is the
median of `--runs` runs with min and max.

Settled answers are kept in memory by the server (api/settled_answers.py), so after the first
request of each URL the position GET is answered from there. `--uncached` adds a third endpoint:
the same reads, each request with its own `known_at` (1 µs apart, so a URL never seen before):
what a miss costs — the route, the query, the encoding. Its ratio to the one-line handler is
issue 17's target row, "uncached position GET ÷ one-line handler, req/s ≥ 0.5", reported as a
target beside the cacheable one. With it goes a fourth endpoint, `position_known`: the same
requests to the same route's parameters, hooks and response (bench.app), its answer's bytes kept
after the first request of each (actor, as_of): what a miss would cost with the read, the read
times and the encoding free, so the most the uncached ratio could reach without changing the
route, the framework or the server. The server's CPU per request is printed too: on a machine
shared with other work, it moves less than requests/s.

Results go to bench/results/http.json (`--quick`: http-quick.json); nothing is written to
bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from multiprocessing.connection import Connection
from pathlib import Path
from types import FrameType
from typing import Any

import psycopg
from rich import box
from rich.console import Console
from rich.progress import Progress, TaskID
from rich.table import Table

from bench.app import HELLO, KNOWN_ROOT
from bench.positions import Databases, machine, percentile, progress_bar, spread
from bench.report import print_verdicts
from bench.server import HOST, Server, running_server
from tests.support.live import register_wire

ROOT = Path(__file__).resolve().parent
console = Console(stderr=True)
APP = "bench.app:app_factory"
PROPOSAL = "us-30-day-ceasefire-2025"
# Seeded (actor, as_of) on the proposal, each with a stated position (not `unstated`): Russia
# rejecting in the morning of 13 March and conditional from that evening, Ukraine and the
# United States on the 12th.
READS = (
    ("russia", "2025-03-13T12:00:00Z"),
    ("russia", "2025-03-14T12:00:00Z"),
    ("ukraine", "2025-03-12T12:00:00Z"),
    ("united-states", "2025-03-12T12:00:00Z"),
)
ENDPOINTS = ("position", "hello")
UNCACHED = "position_uncached"
KNOWN = "position_known"  # the route with its answers known (bench.app): the floor of a miss
TARGET_RATIO = 0.5
CONNECTIONS = 16
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_RPS = 5000  # distinct uncached reads prepared per second of a run
DRAIN = 2.0  # seconds allowed for answers in flight at the deadline (not counted)


class BenchError(RuntimeError):
    """A failure worth one line to the user, not a traceback."""


@dataclass(frozen=True, slots=True)
class Settings:
    """How hard and how long each endpoint is loaded."""

    connections: int
    duration: float
    warmup: float
    runs: int

    @classmethod
    def of(
        cls, quick: bool, runs: int, connections: int = CONNECTIONS, duration: float | None = None
    ) -> Settings:
        """Full: 10 s runs after 2 s of warm-up. Quick: 1.5 s runs after 0.5 s, so that a quick
        configuration stays within about 25 s (starting the server takes 7-10 s of it)."""
        default, warmup = (1.5, 0.5) if quick else (10.0, 2.0)
        return cls(connections, duration or default, warmup, max(1, runs))


@dataclass(frozen=True, slots=True)
class Workload:
    """The requests of one run: connection i sends requests i, i + stride, i + 2 * stride, ...
    (wrapping round)."""

    requests: list[bytes]
    stride: int = 1


# --- the load generator (runs in a forked process) -------------------------------------------


@dataclass
class Tally:
    """What the connections of one run saw, in the measured window only."""

    deadline: float = 0.0
    ok: int = 0
    errors: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


class LoadConnection(asyncio.Protocol):
    """One keep-alive connection sending its next request as soon as an answer is complete.

    Responses are parsed only as far as needed: the status code and Content-Length (the API
    sends no chunked bodies for these reads; one would count as an error and end the
    connection).
    """

    def __init__(self, requests: list[bytes], offset: int, stride: int, tally: Tally) -> None:
        self.requests = requests
        self.next = offset
        self.stride = stride
        self.tally = tally
        self.buffer = bytearray()
        self.body_end: int | None = None
        self.sent = 0.0
        self.in_flight = False
        self.status = 0
        self.keep_alive = True
        self.transport: asyncio.Transport | None = None
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def send(self) -> None:
        assert self.transport is not None
        request = self.requests[self.next % len(self.requests)]
        self.next += self.stride
        self.in_flight = True
        self.sent = time.perf_counter()
        self.transport.write(request)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while self.in_flight and self._complete():
            pass

    def _complete(self) -> bool:
        """Account for one response if the buffer holds all of it; whether it did."""
        if self.body_end is None:
            head_end = self.buffer.find(b"\r\n\r\n")
            if head_end < 0:
                return False
            head = bytes(self.buffer[:head_end]).lower()
            if b"transfer-encoding: chunked" in head:
                self._fail("a chunked response (only Content-Length bodies are parsed)")
                return False
            self.status = int(head[9:12])
            self.keep_alive = b"\r\nconnection: close" not in head
            start = head.find(b"\r\ncontent-length:")
            end = head.find(b"\r\n", start + 2)
            length = 0 if start < 0 else int(head[start + 17 : end if end > 0 else len(head)])
            self.body_end = head_end + 4 + length
        if len(self.buffer) < self.body_end:
            return False
        now = time.perf_counter()
        del self.buffer[: self.body_end]
        self.body_end = None
        self.in_flight = False
        self._account(now)
        if now >= self.tally.deadline or not self.keep_alive:
            self.close()
        else:
            self.send()
        return True

    def _account(self, now: float) -> None:
        if now > self.tally.deadline:
            return  # answered after the window closed: neither counted nor an error
        if 200 <= self.status < 400:
            self.tally.ok += 1
            self.tally.latencies.append(now - self.sent)
        else:
            self.tally.errors += 1
            self.tally.statuses[self.status] += 1

    def _fail(self, problem: str) -> None:
        self.tally.errors += 1
        if len(self.tally.problems) < 5:
            self.tally.problems.append(problem)
        self.in_flight = False
        self.close()

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.in_flight and time.perf_counter() <= self.tally.deadline:
            self.tally.errors += 1
            if len(self.tally.problems) < 5:
                self.tally.problems.append(f"connection lost mid-request: {exc or 'closed'}")
        self.in_flight = False
        if not self.closed.done():
            self.closed.set_result(None)


async def connection_loop(
    port: int, work: Workload, offset: int, tally: Tally, started: asyncio.Event
) -> None:
    """One client's connection for the whole window, reconnecting if the server closes it."""
    loop = asyncio.get_running_loop()
    first = True
    while True:
        _, conn = await loop.create_connection(
            partial(LoadConnection, work.requests, offset, work.stride, tally), HOST, port
        )
        if first:
            await started.wait()  # every connection is open before the clock starts
            first = False
        if time.perf_counter() >= tally.deadline:
            conn.close()
            return
        conn.send()
        await conn.closed
        offset = conn.next
        if time.perf_counter() >= tally.deadline:
            return


async def generate(port: int, work: Workload, connections: int, duration: float) -> dict[str, Any]:
    """A closed loop of `connections` connections for `duration` seconds: the tally and the
    client's own CPU over the window."""
    tally = Tally(deadline=float("inf"))
    started = asyncio.Event()
    loops = [
        asyncio.create_task(connection_loop(port, work, i, tally, started))
        for i in range(connections)
    ]
    await asyncio.sleep(0.05)  # let the connections open (they wait for `started`)
    cpu = time.process_time()
    began = time.perf_counter()
    tally.deadline = began + duration
    started.set()
    await asyncio.sleep(duration)
    cpu = time.process_time() - cpu
    elapsed = time.perf_counter() - began
    _, pending = await asyncio.wait(loops, timeout=DRAIN)
    for task in pending:
        task.cancel()
    failures = [t.exception() for t in loops if t.done() and not t.cancelled() and t.exception()]
    problems = tally.problems + [repr(f) for f in failures[:3]]
    latencies = tally.latencies or [float("nan")]
    return {
        "ok": tally.ok,
        "errors": tally.errors + len(failures),
        "statuses": {str(k): v for k, v in tally.statuses.items()},
        "problems": problems,
        "rps": tally.ok / elapsed,
        "p50_ms": percentile(latencies, 0.5) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "client_cpu": cpu / elapsed,
    }


def _generator_process(
    pipe: Connection, port: int, work: Workload, connections: int, duration: float
) -> None:
    """The forked client: Ctrl-C is the parent's to handle (it terminates us)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        pipe.send(asyncio.run(generate(port, work, connections, duration)))
    except Exception as error:  # reported by the parent as a failed run
        pipe.send({"failure": repr(error)})
    finally:
        pipe.close()


# --- measuring --------------------------------------------------------------------------------


def request_bytes(port: int, path: str) -> bytes:
    """A complete keep-alive HTTP/1.1 GET, built once and sent as is."""
    return (
        f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nAccept: application/json\r\n"
        "User-Agent: bench.http\r\n\r\n"
    ).encode("ascii")


def position_path(actor: str, as_of: str, known_at: str, root: str = "/v1") -> str:
    return f"{root}/proposals/{PROPOSAL}/positions/{actor}?as_of={as_of}&known_at={known_at}"


def position_paths(known_at: str) -> list[str]:
    """The rotated position GETs: past `as_of`, and a past `known_at` after the seed."""
    return [position_path(actor, as_of, known_at) for actor, as_of in READS]


class DistinctReads:
    """Position GETs that no answer kept in memory can serve: each request of a run has its own
    `known_at` (one microsecond apart, all after the seed and in the past), so each is a
    settled read the server has not seen — what a cache miss costs."""

    def __init__(self, port: int, after: datetime, connections: int, root: str = "/v1") -> None:
        self.port = port
        self.next = to_micros(after)
        self.connections = connections
        self.root = root

    async def workload(self, duration: float) -> Workload:
        count = int(duration * MAX_RPS) + self.connections
        first, self.next = self.next, self.next + count
        ahead = self.next - to_micros(datetime.now(UTC))
        if ahead >= 0:  # every known_at strictly in the past
            await asyncio.sleep(ahead / 1e6 + 0.001)
        requests = [
            request_bytes(
                self.port, position_path(*READS[i % len(READS)], instant(first + i), self.root)
            )
            for i in range(count)
        ]
        return Workload(requests, stride=self.connections)


def to_micros(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(microseconds=1)


def instant(micros: int) -> str:
    """RFC 3339 in UTC with microseconds, as a query parameter."""
    return (EPOCH + timedelta(microseconds=micros)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def process_tree_cpu(pid: int) -> float:
    """User + system CPU seconds of a process and its live descendants (uvicorn's workers)."""
    parents: dict[int, int] = {}
    cpu: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        parents[int(entry)] = int(fields[1])
        cpu[int(entry)] = (int(fields[11]) + int(fields[12])) / tick
    tree, frontier = {pid}, [pid]
    while frontier:
        parent = frontier.pop()
        children = [p for p, pp in parents.items() if pp == parent and p not in tree]
        tree.update(children)
        frontier.extend(children)
    return sum(cpu.get(p, 0.0) for p in tree)


async def get_once(port: int, path: str) -> tuple[int, dict[str, str], bytes]:
    """One GET on a new connection (status, headers, body): checking what will be measured."""
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        writer.write(request_bytes(port, path))
        await writer.drain()
        head = (await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)).decode("latin-1")
        lines = head.split("\r\n")
        headers = dict(
            (name.strip().lower(), value.strip())
            for name, _, value in (line.partition(":") for line in lines[1:] if line)
        )
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        return int(lines[0].split()[1]), headers, body
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


async def verify(server: Server, paths: list[str]) -> str:
    """Every position URL answers 200 with a stated position, and hello answers 200; the
    position's Cache-Control (settled reads are `immutable`)."""
    cache_control = ""
    for path in paths:
        status, headers, body = await get_once(server.port, path)
        if status != 200 or not body:
            raise BenchError(f"GET {path} answered {status}: {body[:300]!r}")
        stance = json.loads(body).get("stance")
        if stance in (None, "unstated"):
            raise BenchError(f"GET {path} found no seeded position (stance {stance!r})")
        cache_control = headers.get("cache-control", "")
    status, _, body = await get_once(server.port, HELLO)
    if status != 200:
        raise BenchError(f"GET {HELLO} answered {status}: {body[:300]!r}")
    return cache_control


@dataclass
class Clock:
    """Progress in seconds of load, across the whole configuration."""

    progress: Progress
    task: TaskID

    def tick(self, seconds: float) -> None:
        self.progress.advance(self.task, seconds)


async def load_run(
    server: Server, work: Workload, settings: Settings, duration: float, clock: Clock
) -> dict[str, Any]:
    """One run in a forked client process, with the server's CPU use over it."""
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(
        target=_generator_process,
        args=(sender, server.port, work, settings.connections, duration),
        daemon=True,
    )
    server_cpu = await asyncio.to_thread(process_tree_cpu, server.pid)
    began = time.perf_counter()
    process.start()
    sender.close()
    ticked = 0.0
    try:
        while not receiver.poll():
            if not process.is_alive() and not receiver.poll():
                raise BenchError(f"the load generator died (exit code {process.exitcode})")
            await asyncio.sleep(0.1)
            step = min(duration, time.perf_counter() - began) - ticked
            clock.tick(step)
            ticked += step
        result: dict[str, Any] = receiver.recv()
        wall = time.perf_counter() - began
        result["server_cpu"] = (
            await asyncio.to_thread(process_tree_cpu, server.pid) - server_cpu
        ) / wall
    finally:
        clock.tick(duration - ticked)
        receiver.close()
        if process.is_alive():
            process.terminate()
        await asyncio.to_thread(process.join, 5)
    if "failure" in result:
        raise BenchError(f"the load generator failed: {result['failure']}")
    if not server.alive():
        raise BenchError(f"the server died:\n{server.log.read_text()[-2000:]}")
    return result


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One endpoint's runs: spreads of the figures, and every error counted."""
    statuses: Counter[str] = Counter()
    for run in runs:
        statuses.update(run["statuses"])
    return {
        "rps": spread([r["rps"] for r in runs]),
        "p50_ms": spread([r["p50_ms"] for r in runs]),
        "p99_ms": spread([r["p99_ms"] for r in runs]),
        "errors": sum(r["errors"] for r in runs),
        "error_statuses": dict(statuses),
        "problems": [p for r in runs for p in r["problems"]][:5],
        "requests": sum(r["ok"] for r in runs),
        "client_cpu_cores": spread([r["client_cpu"] for r in runs]),
        "server_cpu_cores": spread([r["server_cpu"] for r in runs]),
        # CPU the server spent per answer: on a shared machine, steadier than req/s.
        "server_cpu_us_per_request": spread(
            [r["server_cpu"] / r["rps"] * 1e6 for r in runs if r["rps"] > 0] or [float("nan")]
        ),
    }


def verdicts(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The targets: the position GET keeps at least half the one-line handler's throughput,
    answered from the kept answers (cacheable) and, with --uncached, read from the database
    (issue 17's row: "uncached position GET ÷ one-line handler, req/s ≥ 0.5")."""
    workers = result["workers"]
    config = f"{result['backend']}, {workers} worker{'s' if workers > 1 else ''}"
    hello = result["endpoints"]["hello"]["rps"]["median"]
    position = result["endpoints"]["position"]["rps"]["median"]
    ratio = result["ratio_rps"]
    rows = [
        {
            "target": "cacheable position GET ≥ 50% of the one-line handler's requests/s "
            f"({config})",
            "measured": f"{ratio:.2f} ({position:,.0f} / {hello:,.0f} req/s)",
            "met": ratio >= TARGET_RATIO,
        }
    ]
    if UNCACHED in result["endpoints"]:
        miss = result["endpoints"][UNCACHED]["rps"]["median"]
        ratio = result["ratio_rps_uncached"]
        floor = result.get("ratio_rps_known")
        rows.append(
            {
                "target": f"uncached position GET ÷ one-line handler, req/s ≥ {TARGET_RATIO} "
                f"({config})",
                "measured": f"{ratio:.2f} ({miss:,.0f} / {hello:,.0f} req/s"
                + ("" if floor is None else f"; its answer known, no read: at most {floor:.2f}")
                + ")",
                "met": ratio >= TARGET_RATIO,
            }
        )
    return rows


@contextlib.asynccontextmanager
async def bench_server(
    backend: str, postgres_url: str, workers: int, folder: Path
) -> AsyncIterator[Server]:
    """A server on a fresh database, removed afterwards however the block ends."""
    await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="http-", dir=folder) as scratch:
        databases = Databases(backend, Path(scratch), postgres_url)
        url = None
        try:
            if backend == "postgresql":
                try:
                    url = await asyncio.to_thread(databases.fresh, workers)
                except psycopg.OperationalError as error:
                    raise BenchError(
                        f"PostgreSQL at {postgres_url} is unreachable: {error}"
                    ) from None
            database = None if url is None else url.raw
            with running_server(Path(scratch), database, workers=workers, app=APP) as server:
                yield server
        finally:
            if url is not None:
                databases.drop(url)


async def measure(
    backend: str,
    postgres_url: str,
    *,
    workers: int,
    quick: bool,
    runs: int,
    progress: Progress,
    folder: Path,
    connections: int = CONNECTIONS,
    duration: float | None = None,
    uncached: bool = False,
) -> dict[str, Any]:
    """Position GET and hello, interleaved run by run, on one server configuration; with
    `uncached`, a third endpoint: position GETs no kept answer can serve."""
    settings = Settings.of(quick, runs, connections, duration)
    endpoints = (*ENDPOINTS, UNCACHED, KNOWN) if uncached else ENDPOINTS
    name = f"HTTP {backend}, {workers} worker{'s' if workers > 1 else ''}"
    task = progress.add_task(f"{name}: start server", total=None, rate="")
    async with bench_server(backend, postgres_url, workers, folder) as server:
        after_seed = datetime.now(UTC)
        known_at = instant(to_micros(after_seed))
        # A read is settled once the log has recorded an event after its known_at (see
        # api/log_horizon.py): one is appended a second later, past every known_at the distinct
        # reads ask for (a microsecond apart, one per request).
        await asyncio.sleep(1.0)
        await asyncio.to_thread(register_wire, server.base, server.writer)
        paths = position_paths(known_at)
        cache_control = await verify(server, paths)
        if uncached:
            await verify(server, [position_path(a, t, known_at, KNOWN_ROOT) for a, t in READS])
        distinct = {
            UNCACHED: DistinctReads(server.port, after_seed, settings.connections),
            KNOWN: DistinctReads(server.port, after_seed, settings.connections, KNOWN_ROOT),
        }
        fixed = {
            "position": Workload([request_bytes(server.port, p) for p in paths]),
            "hello": Workload([request_bytes(server.port, HELLO)]),
        }

        async def workload(endpoint: str, seconds: float) -> Workload:
            if endpoint in fixed:
                return fixed[endpoint]
            return await distinct[endpoint].workload(seconds)

        total = len(endpoints) * (settings.warmup + settings.runs * settings.duration)
        progress.update(task, description=f"{name}: warm-up", total=total, completed=0)
        clock = Clock(progress, task)
        for endpoint in endpoints:
            work = await workload(endpoint, settings.warmup)
            await load_run(server, work, settings, settings.warmup, clock)
        measured: dict[str, list[dict[str, Any]]] = {e: [] for e in endpoints}
        for run in range(settings.runs):
            progress.update(task, description=f"{name}: run {run + 1}/{settings.runs}")
            for endpoint in endpoints:  # interleaved: position, hello, position, hello, ...
                work = await workload(endpoint, settings.duration)
                measured[endpoint].append(
                    await load_run(server, work, settings, settings.duration, clock)
                )
            rates = {e: statistics.median(r["rps"] for r in measured[e]) for e in ENDPOINTS}
            progress.update(task, rate=f"{rates['position']:,.0f} / {rates['hello']:,.0f} req/s")
    progress.update(task, description=f"{name}: done")
    return report(backend, workers, settings, measured, paths, cache_control)


def report(
    backend: str,
    workers: int,
    settings: Settings,
    measured: dict[str, list[dict[str, Any]]],
    paths: list[str],
    cache_control: str,
) -> dict[str, Any]:
    """One configuration's figures, ratios to hello and the target's verdict."""
    endpoints = {e: summarise(runs) for e, runs in measured.items()}
    hello = endpoints["hello"]["rps"]["median"]
    result: dict[str, Any] = {
        "backend": backend,
        "workers": workers,
        "settings": {
            "connections": settings.connections,
            "duration_s": settings.duration,
            "warmup_s": settings.warmup,
            "runs": settings.runs,
            "order": "interleaved: " + ", ".join(measured) + ", ...",
            "position_paths": paths,
            "hello_path": HELLO,
            "position_cache_control": cache_control,
            "client": "closed loop, raw asyncio keep-alive connections, one forked process",
        },
        "endpoints": endpoints,
        "ratio_rps": endpoints["position"]["rps"]["median"] / hello,
        "ratio_rps_paired": spread(
            [
                p["rps"] / h["rps"]
                for p, h in zip(measured["position"], measured["hello"], strict=True)
            ]
        ),
        "p99_ms": {e: figures["p99_ms"]["median"] for e, figures in endpoints.items()},
    }
    if UNCACHED in endpoints:
        result["settings"]["uncached"] = (
            "the same reads, each request with its own known_at (1 µs apart): never served "
            "from the answers kept in memory"
        )
        result["ratio_rps_uncached"] = endpoints[UNCACHED]["rps"]["median"] / hello
        result["ratio_rps_uncached_paired"] = spread(
            [
                u["rps"] / h["rps"]
                for u, h in zip(measured[UNCACHED], measured["hello"], strict=True)
            ]
        )
    if KNOWN in endpoints:
        result["settings"]["known"] = (
            "the uncached requests' shape on the position route's parameters, hooks and "
            "response, each answer's bytes kept after its first request (bench.app)"
        )
        result["ratio_rps_known"] = endpoints[KNOWN]["rps"]["median"] / hello
    result["targets"] = verdicts(result)
    return result


# --- the command line -------------------------------------------------------------------------


def _range(measure: dict[str, float], digits: int = 0) -> str:
    figure = f"{{:,.{digits}f}}"
    middle = figure.format(measure["median"])
    if measure["min"] == measure["max"]:
        return middle
    return f"{middle} ({figure.format(measure['min'])}-{figure.format(measure['max'])})"


def summary_table(results: list[dict[str, Any]]) -> Table:
    """Medians, with the spread of requests/s; CPU in cores busy (client / server)."""
    table = Table(title="HTTP benchmark (medians of the runs)", box=box.SIMPLE_HEAD, pad_edge=False)
    table.padding = (0, 1)
    columns = ("config", "endpoint", "req/s (min-max)", "p50 ms", "p99 ms", "errors")
    for column in (*columns, "CPU cli/srv", "ratio"):
        table.add_column(column, justify="right")
    for result in results:
        hello = result["endpoints"]["hello"]["rps"]["median"]
        for endpoint, figures in result["endpoints"].items():
            first = endpoint == ENDPOINTS[0]
            table.add_row(
                f"{result['backend']} {result['workers']}w" if first else "",
                endpoint.replace("position_", ""),
                _range(figures["rps"]),
                f"{figures['p50_ms']['median']:,.1f}",
                f"{figures['p99_ms']['median']:,.1f}",
                f"{figures['errors']:,}",
                f"{figures['client_cpu_cores']['median']:.2f}/"
                f"{figures['server_cpu_cores']['median']:.2f}",
                f"{figures['rps']['median'] / hello:.2f}" if endpoint != "hello" else "",
            )
    return table


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.http", description=(__doc__ or "").split("\n")[0]
    )
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--workers", default="1", help="server processes, e.g. 1 or 1,2")
    parser.add_argument("--quick", action="store_true", help="1.5 s runs after 0.5 s of warm-up")
    parser.add_argument("--runs", type=int, default=3, help="runs of each endpoint (≥ 3 advised)")
    parser.add_argument("--connections", type=int, default=CONNECTIONS, help="client connections")
    parser.add_argument("--duration", type=float, help="seconds per run (10; quick: 1.5)")
    parser.add_argument(
        "--uncached",
        action="store_true",
        help="also position GETs with a new known_at each (what a miss of the kept answers costs)",
    )
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("TIMELINE_BENCH_POSTGRES_URL")
        or os.environ.get("TIMELINE_TEST_POSTGRES_URL")
        or "postgresql:///postgres?host=/var/run/postgresql",
        help="a server where databases may be created (default: the local socket)",
    )
    parser.add_argument("--dir", type=Path, default=ROOT.parent / "var" / "bench")
    parser.add_argument("--json", type=Path, help="where the results go (JSON)")
    args = parser.parse_args(argv)
    try:
        args.workers = [int(w) for w in args.workers.split(",")]
    except ValueError:
        parser.error(f"--workers: expected numbers like 1 or 1,2, not {args.workers!r}")
    if min(args.workers) < 1 or args.connections < 1 or args.runs < 1:
        parser.error("--workers, --connections and --runs must be at least 1")
    suffix = "-quick" if args.quick else ""
    args.json = args.json or ROOT / "results" / f"http{suffix}.json"
    return args


async def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    results = []
    with progress_bar() as progress:
        for workers in args.workers:
            results.append(
                await measure(
                    args.backend,
                    args.postgres_url,
                    workers=workers,
                    quick=args.quick,
                    runs=args.runs,
                    progress=progress,
                    folder=args.dir,
                    connections=args.connections,
                    duration=args.duration,
                    uncached=args.uncached,
                )
            )
    return results


def postgres_version(args: argparse.Namespace) -> str | None:
    with contextlib.suppress(psycopg.Error):
        return Databases(args.backend, args.dir, args.postgres_url).version()
    return None


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


@contextlib.contextmanager
def friendly_errors() -> Iterator[None]:
    """One line for what a user can act on; the server and databases are already cleaned up."""
    try:
        yield
    except KeyboardInterrupt:
        console.print("[red]interrupted[/red]: the server was stopped, nothing was written")
        raise SystemExit(130) from None
    except (BenchError, psycopg.OperationalError, RuntimeError, OSError) as error:
        console.print(f"[red]error[/red]: {error}")
        raise SystemExit(1) from None


def main(argv: list[str] | None = None) -> None:
    args = arguments(argv)
    signal.signal(signal.SIGTERM, _terminate)  # stop the server on `kill` too, not only Ctrl-C
    command = "uv run python -m bench.http " + " ".join(sys.argv[1:] if argv is None else argv)
    started = time.perf_counter()
    load_before = os.getloadavg()[0]
    with friendly_errors():
        results = asyncio.run(run(args))
    report: dict[str, Any] = {
        "command": command.strip(),
        "run_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "seconds": time.perf_counter() - started,
        "machine": machine(args.backend, postgres_version(args)),
        "load_average_1min": {"before": load_before, "after": os.getloadavg()[0]},
        "results": results,
        "targets": [t for r in results for t in r["targets"]],
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    # Not a terminal (a log, CI): wide enough for the table rather than rich's default 80.
    wide = console if console.is_terminal else Console(stderr=True, width=110)
    wide.print(summary_table(results))
    for result in results:
        p99 = ", ".join(f"{e} {ms:,.1f} ms" for e, ms in result["p99_ms"].items())
        console.print(f"p99 ({result['backend']}, {result['workers']}w): {p99}")
        cpu = ", ".join(
            f"{e} {f['server_cpu_us_per_request']['median']:,.0f} µs"
            for e, f in result["endpoints"].items()
        )
        console.print(f"server CPU per request ({result['backend']}, {result['workers']}w): {cpu}")
    print_verdicts(console, report["targets"])
    console.print(f"results in {args.json} ({report['seconds']:.0f} s)")


if __name__ == "__main__":
    main()
