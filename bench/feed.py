"""Change-feed benchmark: commit-to-client latency with many SSE clients, and idle memory.

    uv run python -m bench.feed [--clients 1,100,500] [--events 200] [--idle 1000] [--quick]
                                [--profile server.prof] [--server-env NAME=VALUE]

A real `timeline serve` (one process, SQLite in a temporary folder, a free loopback port) is
started, migrated and seeded; it is stopped at the end, on error and on Ctrl-C too.

Latency, for each number of SSE clients (`--clients`): that many raw-socket SSE readers (asyncio
protocols in this process, a minimal HTTP/1.1 GET with a chunked-body and event-stream parser)
follow `/v1/feed` from the head; then `--events` events are appended one at a time through
`POST /v1/events`, each only after every client received the previous one, then a pause of
`--gap` ms (a closed loop: this measures latency, not a queue). For every (event, client) the
receive time (`time.time()`, when the client's socket read returned) is compared with the
event's `recorded_at` from the SSE data (the server's clock, same machine, stamped before the
insert: an upper bound of commit-to-client) and with the moment the POST returned 201 (after the
commit: a lower bound). The baseline is the same run with one client, reported as a ratio.

Memory: after the smallest level, the server's VmRSS (/proc/<pid>/status) is read before
connecting and with `--idle` idle SSE clients connected.

Per-reader cost: once the server has stopped, what one woken reader does (its own `store.read`,
alone and as many at once as the largest level, and the SSE encoding of the event) is replayed
in this process on the server's database.

Results go to bench/results/feed.json (`--quick`: feed-quick.json), and to a Markdown file when
`--markdown` names one; bench/RESULTS.md is written by `python -m bench`. `--profile` runs the
server under cProfile and `--server-env` passes it settings.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import pstats
import random
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path
from types import FrameType
from typing import Any

import httpx
from rich.console import Console
from rich.progress import Progress, TaskID
from rich.table import Table

from bench.positions import machine, percentile, progress_bar, spread
from bench.report import print_verdicts
from bench.server import HOST, Server, running_server
from store.database import DatabaseUrl
from store.factory import open_store
from store.ports import EventQuery

ROOT = Path(__file__).resolve().parent
console = Console(stderr=True)
HEADING = "## Change feed (`bench/feed.py`)"
NOTES = "<!-- feed notes: kept when bench.feed runs again -->"
TARGETS = {"p50_ms": 20.0, "p99_ms": 100.0, "idle_rss_mb": 200.0}
STREAM = "bench-feed"
CONNECT_BATCH = 50
FEED_PAGE = 500  # the page a feed reader asks for (PAGE in api/routes/feed.py)


# --- the server --------------------------------------------------------------------------------


@contextmanager
def feed_server(
    folder: Path, heartbeat: float, lifetime: float, profile: Path | None, extra: dict[str, str]
) -> Iterator[Server]:
    """A migrated, seeded SQLite server whose streams last the whole run."""
    env = {
        **extra,
        "TIMELINE_SSE_HEARTBEAT": str(heartbeat),
        "TIMELINE_SSE_MAX_LIFETIME": str(lifetime),
    }
    with running_server(folder, env=env, profile=profile) as server:
        yield server


# --- the clients -------------------------------------------------------------------------------


@dataclass
class Arrival:
    """One appended event: when each client received it."""

    needed: int
    done: asyncio.Event = field(default_factory=asyncio.Event)
    times: list[float] = field(default_factory=list)
    recorded_at: float | None = None

    def __post_init__(self) -> None:
        if self.needed == 0:
            self.done.set()


class Hub:
    """Where the clients report what arrived; the driver waits on it."""

    def __init__(self) -> None:
        self.expected: dict[int, Arrival] = {}
        self.lost = 0
        self.unexpected = 0

    def expect(self, position: int, clients: int) -> Arrival:
        arrival = self.expected[position] = Arrival(needed=clients)
        return arrival

    def arrived(self, position: int, now: float, recorded_at: float | None) -> None:
        arrival = self.expected.get(position)
        if arrival is None:
            self.unexpected += 1
            return
        arrival.times.append(now)
        if recorded_at is not None:
            arrival.recorded_at = recorded_at
        if len(arrival.times) >= arrival.needed:
            arrival.done.set()


def instant(text: str) -> float:
    """RFC 3339 ('Z') to POSIX seconds."""
    return datetime.fromisoformat(text).timestamp()


class FeedClient(asyncio.Protocol):
    """One SSE reader: sends a GET, then parses the chunked event stream as it arrives."""

    def __init__(self, hub: Hub, request: bytes, parse_data: bool) -> None:
        self.hub = hub
        self.request = request
        self.parse_data = parse_data
        self.transport: asyncio.Transport | None = None
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.raw = bytearray()
        self.text = ""
        self.headers = False
        self.chunked = False
        self.closed = False
        self.closing = False
        self.heartbeats = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        now = time.time()
        self.raw += data
        if not self.headers:
            end = self.raw.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.raw[:end]).decode("latin-1").lower()
            del self.raw[: end + 4]
            self.headers = True
            status = head.split(None, 2)[1]
            if status != "200":
                self._fail(ConnectionError(f"GET /v1/feed answered {status}"))
                return
            self.chunked = "transfer-encoding: chunked" in head
            if not self.ready.done():
                self.ready.set_result(None)
        if not self.chunked:
            body = bytes(self.raw)
            self.raw.clear()
            self._feed(body, now)
            return
        while True:
            line_end = self.raw.find(b"\r\n")
            if line_end < 0:
                return
            size = int(bytes(self.raw[:line_end]).split(b";")[0], 16)
            start = line_end + 2
            if len(self.raw) < start + size + 2:
                return  # a whole chunk (one message) is counted when all of it arrived
            body = bytes(self.raw[start : start + size])
            del self.raw[: start + size + 2]
            if size == 0:
                return
            self._feed(body, now)

    def _feed(self, body: bytes, now: float) -> None:
        self.text = (self.text + body.decode()).replace("\r\n", "\n")
        while (end := self.text.find("\n\n")) >= 0:
            message, self.text = self.text[:end], self.text[end + 2 :]
            self._message(message, now)

    def _message(self, message: str, now: float) -> None:
        position: int | None = None
        recorded_at: float | None = None
        for line in message.split("\n"):
            if line.startswith(":"):
                self.heartbeats += 1
            elif line.startswith("id:"):
                position = int(line[3:].strip())
            elif self.parse_data and line.startswith("data:"):
                recorded_at = instant(json.loads(line[5:])["recorded_at"])
        if position is not None:
            self.hub.arrived(position, now, recorded_at)

    def _fail(self, error: Exception) -> None:
        if not self.ready.done():
            self.ready.set_exception(error)
        self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if not self.closing:
            self.hub.lost += 1
        if not self.ready.done():
            self.ready.set_exception(exc or ConnectionError("closed before the headers"))

    def close(self) -> None:
        self.closing = True
        if self.transport is not None:
            self.transport.close()


async def connect(
    server: Server, hub: Hub, count: int, after: int, progress: Progress, task: TaskID
) -> list[FeedClient]:
    """`count` SSE clients following the feed after `after`, each with its headers back."""
    loop = asyncio.get_running_loop()
    request = (
        f"GET /v1/feed?after={after} HTTP/1.1\r\nHost: {HOST}:{server.port}\r\n"
        "Accept: text/event-stream\r\nCache-Control: no-cache\r\n\r\n"
    ).encode()
    clients: list[FeedClient] = []
    while len(clients) < count:
        batch = min(CONNECT_BATCH, count - len(clients))
        first = not clients
        made = await asyncio.gather(
            *(
                loop.create_connection(
                    partial(FeedClient, hub, request, first and i == 0), HOST, server.port
                )
                for i in range(batch)
            )
        )
        protocols = [protocol for _, protocol in made]
        clients += protocols
        await asyncio.wait_for(asyncio.gather(*(p.ready for p in protocols)), 60)
        progress.update(task, completed=len(clients))
    return clients


async def disconnect(clients: list[FeedClient]) -> None:
    for client in clients:
        client.close()
    await asyncio.sleep(1.0)  # let the server notice and end those streams


# --- the measurements --------------------------------------------------------------------------


def statement(n: int) -> dict[str, Any]:
    return {
        "stream": STREAM,
        "events": [
            {
                "type": "StatementMade",
                "occurred_at": "2025-03-14",
                "payload": {"speaker": "donald-trump", "summary": f"feed benchmark statement {n}"},
                "sources": [{"source": "notus-2025-03-13"}],
            }
        ],
    }


async def head(http: httpx.AsyncClient) -> int:
    response = await http.get("/v1/health")
    response.raise_for_status()
    return int(response.json()["head"])


def summary(values: list[float]) -> dict[str, float]:
    """p50, p90, p99, max (nearest rank)."""
    if not values:
        return {}
    return {
        "p50": percentile(values, 0.5),
        "p90": percentile(values, 0.9),
        "p99": percentile(values, 0.99),
        "max": max(values),
        "mean": statistics.fmean(values),
    }


async def latency(
    server: Server,
    http: httpx.AsyncClient,
    clients: int,
    args: argparse.Namespace,
    progress: Progress,
    rng: random.Random,
) -> dict[str, Any]:
    """Append events one at a time to `clients` SSE readers; every (event, client) latency."""
    hub = Hub()
    label = f"{clients:,} client{'s' if clients != 1 else ''}"
    task = progress.add_task(f"{label}: connect", total=clients, rate="")
    position = await head(http)
    readers = await connect(server, hub, clients, position, progress, task)
    try:
        await asyncio.sleep(args.settle)  # every reader past its first read, waiting
        total = args.warmup + args.events
        progress.update(task, description=f"{label}: append", total=total, completed=0)
        from_recorded: list[float] = []
        from_return: list[float] = []
        last_client: list[float] = []
        first_client: list[float] = []
        post: list[float] = []
        missed = mismatched = 0
        for n in range(total):
            if n == args.warmup:
                cpu, own_cpu, wall = server.cpu_seconds(), time.process_time(), time.perf_counter()
                threads = server.thread_cpu_seconds()
            arrival = hub.expect(position + 1, clients)
            sent = time.time()
            response = await http.post(
                "/v1/events", json=statement(n), headers={"Authorization": f"Bearer {server.key}"}
            )
            returned = time.time()
            if response.status_code != 201:
                raise RuntimeError(
                    f"POST /v1/events answered {response.status_code}: {response.text}"
                )
            [appended] = response.json()["events"]
            if appended["position"] != position + 1:
                raise RuntimeError(f"expected position {position + 1}, got {appended['position']}")
            position += 1
            try:
                await asyncio.wait_for(arrival.done.wait(), args.timeout)
            except TimeoutError:
                missed += clients - len(arrival.times)
            del hub.expected[position]
            recorded = instant(appended["recorded_at"])
            if arrival.recorded_at is not None and abs(arrival.recorded_at - recorded) > 1e-6:
                mismatched += 1
            committed = arrival.recorded_at if arrival.recorded_at is not None else recorded
            if n >= args.warmup:
                post.append((returned - sent) * 1000)
                if arrival.times:
                    from_recorded += [(t - committed) * 1000 for t in arrival.times]
                    from_return += [(t - returned) * 1000 for t in arrival.times]
                    last_client.append((max(arrival.times) - committed) * 1000)
                    first_client.append((min(arrival.times) - committed) * 1000)
            rate = ""
            if from_recorded:
                rate = (
                    f"p50 {percentile(from_recorded, 0.5):,.1f} ms  "
                    f"p99 {percentile(from_recorded, 0.99):,.1f} ms"
                )
            progress.update(task, completed=n + 1, rate=rate)
            await asyncio.sleep(rng.uniform(*args.gap) / 1000)
        wall = time.perf_counter() - wall
        server_cpu = server.cpu_seconds() - cpu
        # Threads that ended (overflow connections closed) leave /proc/<pid>/task, so the
        # other threads' share is the process total less the main thread's.
        main_thread = server.thread_cpu_seconds()[0] - threads[0]
        other_threads = server_cpu - main_thread
        own_cpu = time.process_time() - own_cpu
        heartbeats = sum(r.heartbeats for r in readers)
        dropped = hub.lost
    finally:
        await disconnect(readers)
    return {
        "clients": clients,
        "events": args.events,
        "samples": len(from_recorded),
        "latency_ms_from_recorded_at": summary(from_recorded),
        "latency_ms_from_post_return": summary(from_return),
        "first_client_ms": summary(first_client),
        "last_client_ms": summary(last_client),
        "post_round_trip_ms": summary(post),
        "missed": missed,
        "disconnected": dropped,
        "recorded_at_mismatches": mismatched,
        "heartbeats": heartbeats,
        "seconds": wall,
        "server_cpu_ms_per_event": server_cpu * 1000 / args.events,
        "server_cpu_share": server_cpu / wall,
        "server_main_thread_cpu_ms_per_event": main_thread * 1000 / args.events,
        "server_other_threads_cpu_ms_per_event": other_threads * 1000 / args.events,
        "bench_cpu_share": own_cpu / wall,
    }


async def idle_memory(
    server: Server,
    http: httpx.AsyncClient,
    count: int,
    args: argparse.Namespace,
    progress: Progress,
) -> dict[str, Any]:
    """The server's RSS before connecting and with `count` idle SSE clients connected."""
    task = progress.add_task(f"{count:,} idle clients: connect", total=count, rate="")
    await asyncio.sleep(1.0)
    before = []
    for _ in range(3):
        before.append(server.rss_mib())
        await asyncio.sleep(0.3)
    fds_before = server.open_fds()
    hwm_before = server.status_kib("VmHWM") / 1024
    hub = Hub()
    started = time.perf_counter()
    clients = await connect(server, hub, count, await head(http), progress, task)
    connect_seconds = time.perf_counter() - started
    try:
        progress.update(task, description=f"{count:,} idle clients: hold", total=None)
        await asyncio.sleep(args.settle)
        held = []
        for _ in range(args.hold):
            held.append(server.rss_mib())
            progress.update(task, rate=f"{held[-1]:,.1f} MiB")
            await asyncio.sleep(1.0)
        connected = sum(not c.closed for c in clients)
        fds = server.open_fds()
        hwm = server.status_kib("VmHWM") / 1024
        progress.update(task, total=1, completed=1)
    finally:
        await disconnect(clients)
    rss_before, rss_with = statistics.median(before), max(held)
    return {
        "clients": count,
        "still_connected": connected,
        "connect_seconds": connect_seconds,
        "rss_mib_before": rss_before,
        "rss_mib_with_clients": rss_with,
        "rss_mib_delta": rss_with - rss_before,
        "kib_per_connection": (rss_with - rss_before) * 1024 / count,
        "hwm_mib_before": hwm_before,
        "hwm_mib_with_clients": hwm,
        "open_fds_before": fds_before,
        "open_fds_with_clients": fds,
        "rss_mib_after_disconnect": server.rss_mib(),
    }


async def per_reader_costs(database: str, clients: int, progress: Progress) -> dict[str, Any]:
    """What each woken SSE reader costs, replayed in this process on the server's database once
    the server has stopped: its own `store.read` of the page after its cursor (one at a time,
    and `clients` at once, as one append's wake-up issues them), and encoding the one event as
    an SSE message (`event_out` + msgspec + the SSE framing)."""
    import msgspec
    from litestar.response import ServerSentEventMessage

    from api.presenters import event_out

    task = progress.add_task("per-reader cost (in-process)", total=None, rate="")
    store = open_store(DatabaseUrl(database))
    try:
        query = EventQuery(after=await store.head() - 1, limit=FEED_PAGE)
        for _ in range(20):
            await store.read(query)
        reads = []
        for _ in range(300):
            started = time.perf_counter_ns()
            await store.read(query)
            reads.append((time.perf_counter_ns() - started) / 1000)
        bursts = []
        for _ in range(3):
            started_s = time.perf_counter()
            await asyncio.gather(*(store.read(query) for _ in range(clients)))
            bursts.append((time.perf_counter() - started_s) * 1000)
        [event] = await store.read(query)
        encodes = []
        for _ in range(3000):
            started = time.perf_counter_ns()
            ServerSentEventMessage(
                id=event.position,
                event=event.type,
                data=msgspec.json.encode(event_out(event)).decode(),
            ).encode()
            encodes.append((time.perf_counter_ns() - started) / 1000)
        pool = store.engine.pool
        size, overflow = getattr(pool, "size", lambda: "?")(), getattr(pool, "_max_overflow", "?")
        pool_text = f"{type(pool).__name__} of {size} + {overflow} overflow"
    finally:
        await store.close()
        progress.update(task, total=1, completed=1)
    read_us, encode_us = summary(reads), summary(encodes)
    return {
        "clients": clients,
        "read_us": read_us,
        "concurrent_reads_ms": statistics.median(bursts),
        "encode_us": encode_us,
        "one_shared_read_then_encode_ms": (read_us["p50"] + clients * encode_us["p50"]) / 1000,
        "pool": pool_text,
    }


def verdicts(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target, met or not."""
    levels = {r["clients"]: r for r in report["latency"]}
    target = levels.get(500) or levels[max(levels)]
    n = f"{target['clients']:,} client{'s' if target['clients'] != 1 else ''}"
    p50 = target["latency_ms_from_recorded_at"]["p50"]
    p99 = target["latency_ms_from_recorded_at"]["p99"]
    memory = report["idle"]
    checks = [
        (f"commit-to-client p50 ≤ 20 ms ({n})", f"{p50:,.1f} ms", p50 <= TARGETS["p50_ms"]),
        (f"commit-to-client p99 ≤ 100 ms ({n})", f"{p99:,.1f} ms", p99 <= TARGETS["p99_ms"]),
        (
            f"{memory['clients']:,} idle SSE connections in < 200 MB RSS (one process)",
            f"{memory['rss_mib_with_clients']:,.1f} MiB "
            f"({memory['rss_mib_with_clients'] * 1.048576:,.1f} MB)",
            memory["rss_mib_with_clients"] * 1.048576 < TARGETS["idle_rss_mb"]
            and memory["still_connected"] == memory["clients"],
        ),
    ]
    return [{"target": t, "measured": m, "met": ok} for t, m, ok in checks]


# --- reporting ---------------------------------------------------------------------------------


def _pair(measure: dict[str, float], digits: int = 1) -> str:
    if not measure:
        return "n/a"
    return f"{measure['p50']:,.{digits}f} / {measure['p99']:,.{digits}f}"


def markdown(report: dict[str, Any]) -> str:
    """The "Change feed" section of RESULTS.md."""
    m, s = report["machine"], report["settings"]
    lines = [
        HEADING,
        "",
        f"Command: `{report['command']}`  ",
        f"Run at: {report['run_at']} ({report['seconds']:,.0f} s)  ",
        f"Machine: {m['nproc']} CPUs ({m['cpu']}), {m['memory']} memory, {m['platform']}; "
        f"Python {m['python']}, SQLite {m['sqlite']}; backend **sqlite**, one `timeline serve` "
        f"process; code at {report['revision']}; 1-minute load average "
        f"{report['load_average_1min']['before']:.1f} before, "
        f"{report['load_average_1min']['after']:.1f} after.",
        "",
        "The SSE clients are asyncio raw-socket readers, all in the one benchmark process (the "
        "server has the other core). Each level appends "
        f"{s['events']} events one at a time (after {s['warmup']} not counted), each only once "
        f"every client received the previous one, then a {s['gap_ms'][0]:g}-{s['gap_ms'][1]:g} "
        "ms pause: latency, not a queue. Latency = the client's receive time minus the event's "
        "`recorded_at` from the SSE data (stamped before the insert: an upper bound of commit to "
        "client), and minus the moment `POST /v1/events` returned 201 (after the commit: a lower "
        "bound); over every (event, client). *Last client* is per event, when the slowest client "
        f"had it. Heartbeat {s['heartbeat']:g} s, stream lifetime {s['lifetime']:g} s. "
        "Milliseconds, p50 / p99.",
        "",
        "| SSE clients | from `recorded_at` | from POST return | first client | last client "
        "| POST round trip | server CPU ms/event (loop + SQL threads) | server / bench CPU "
        "| missed / dropped |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in report["latency"]:
        lines.append(
            f"| {r['clients']:,} | {_pair(r['latency_ms_from_recorded_at'])} "
            f"| {_pair(r['latency_ms_from_post_return'])} | {_pair(r['first_client_ms'])} "
            f"| {_pair(r['last_client_ms'])} | {_pair(r['post_round_trip_ms'])} "
            f"| {r['server_cpu_ms_per_event']:,.1f} "
            f"({r['server_main_thread_cpu_ms_per_event']:,.1f} + "
            f"{r['server_other_threads_cpu_ms_per_event']:,.1f}) "
            f"| {r['server_cpu_share']:.0%} / {r['bench_cpu_share']:.0%} "
            f"| {r['missed']} / {r['disconnected']} |"
        )
    ratio = report["ratio"]
    if ratio:
        lines += [
            "",
            f"Against the baseline in this run (1 client): {ratio['clients']:,} clients is "
            f"**{ratio['p50']:,.1f}x** at p50 and **{ratio['p99']:,.1f}x** at p99 "
            f"(from `recorded_at`); the server spends {ratio['cpu']:,.1f}x the CPU per event, "
            f"~{ratio['cpu_ms_per_client']:,.2f} ms more for each client.",
        ]
    c = report.get("per_reader")
    if c:
        lines += [
            "",
            "Per-reader work on a wake-up, replayed in the benchmark process on the server's "
            "database after it stopped: each reader's own `store.read` of the page after its "
            f"cursor is {_pair(c['read_us'], 0)} µs one at a time; {c['clients']:,} of them at "
            f"once (as one append wakes {c['clients']:,} readers; pool {c['pool']}) take "
            f"**{c['concurrent_reads_ms']:,.0f} ms**. Encoding the event as an SSE message "
            f"(`event_out` + msgspec + framing) is {_pair(c['encode_us'], 0)} µs, so one shared "
            f"read plus {c['clients']:,} encodings would be "
            f"~{c['one_shared_read_then_encode_ms']:,.0f} ms.",
        ]
    i = report["idle"]
    lines += [
        "",
        f"Idle connections: {i['clients']:,} SSE clients connected in {i['connect_seconds']:,.1f} "
        f"s, held {s['hold']} s without events ({i['still_connected']:,} still connected).",
        "",
        "| server process | VmRSS MiB | VmHWM MiB | open fds |",
        "|---|---:|---:|---:|",
        f"| before connecting (warmed up) | {i['rss_mib_before']:,.1f} "
        f"| {i['hwm_mib_before']:,.1f} | {i['open_fds_before']:,} |",
        f"| {i['clients']:,} idle SSE clients | {i['rss_mib_with_clients']:,.1f} "
        f"| {i['hwm_mib_with_clients']:,.1f} | {i['open_fds_with_clients']:,} |",
        f"| delta | {i['rss_mib_delta']:,.1f} ({i['kib_per_connection']:,.1f} KiB a connection) "
        "| | |",
        "",
        "| target | measured | met |",
        "|---|---:|:---:|",
    ]
    lines += [
        f"| {v['target']} | {v['measured']} | {'yes' if v['met'] else '**no**'} |"
        for v in report["targets"]
    ]
    return "\n".join(lines) + "\n"


def write_markdown(path: Path, section: str) -> None:
    """Replace this benchmark's section of RESULTS.md (appended at the end the first time);
    notes written by hand below its marker survive."""
    text = path.read_text() if path.exists() else "# Benchmark results\n"
    start = text.find(HEADING)
    if start < 0:
        text = text.rstrip("\n") + "\n\n" + section + "\n" + NOTES + "\n"
    else:
        marker = text.find(NOTES, start)
        tail = text[marker:] if marker >= 0 else NOTES + "\n"
        text = text[:start] + section + "\n" + tail
    path.write_text(text)


def summary_table(report: dict[str, Any]) -> Table:
    table = Table(title="change feed benchmark (ms, p50 / p99)")
    for column in ("clients", "from recorded_at", "from POST return", "last client", "POST"):
        table.add_column(column, justify="right")
    for r in report["latency"]:
        table.add_row(
            f"{r['clients']:,}",
            _pair(r["latency_ms_from_recorded_at"]),
            _pair(r["latency_ms_from_post_return"]),
            _pair(r["last_client_ms"]),
            _pair(r["post_round_trip_ms"]),
        )
    return table


# --- the run -----------------------------------------------------------------------------------


def revision() -> str:
    """The commit measured, with "+changes" when the working tree differs from it."""
    checkout = ROOT.parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=checkout
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "api", "store", "domain"],
            capture_output=True,
            text=True,
            cwd=checkout,
        ).stdout.strip()
    except OSError:
        return "?"
    return (commit or "?") + ("+changes" if dirty else "")


def raise_fd_limit(needed: int) -> int:
    """Raise this process's open-file limit (the server inherits it); the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = needed if hard == resource.RLIM_INFINITY else min(max(soft, needed), hard)
    if wanted > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


async def measure(server: Server, args: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(args.seed)
    levels: list[dict[str, Any]] = []
    idle: dict[str, Any] = {}
    async with httpx.AsyncClient(base_url=server.base, timeout=60) as http:
        with progress_bar() as progress:
            for clients in args.clients:
                levels.append(await latency(server, http, clients, args, progress, rng))
                if not server.alive():
                    raise RuntimeError(f"the server died:\n{server.log.read_text()[-2000:]}")
                if not idle:  # after the smallest level: warmed up, before the big ones
                    idle = await idle_memory(server, http, args.idle, args, progress)
    ratio: dict[str, Any] = {}
    base = next((r for r in levels if r["clients"] == 1), None)
    if base is not None and len(levels) > 1:
        top = next((r for r in levels if r["clients"] == 500), levels[-1])
        ratio = {
            "clients": top["clients"],
            "p50": top["latency_ms_from_recorded_at"]["p50"]
            / base["latency_ms_from_recorded_at"]["p50"],
            "p99": top["latency_ms_from_recorded_at"]["p99"]
            / base["latency_ms_from_recorded_at"]["p99"],
            "cpu": top["server_cpu_ms_per_event"] / base["server_cpu_ms_per_event"],
            "cpu_ms_per_client": (top["server_cpu_ms_per_event"] - base["server_cpu_ms_per_event"])
            / (top["clients"] - 1),
        }
    return {"latency": levels, "idle": idle, "ratio": ratio}


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.feed", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--clients", default="1,100,500", help="SSE clients per level, comma-separated"
    )
    parser.add_argument("--events", type=int, default=200, help="events appended per level")
    parser.add_argument("--warmup", type=int, default=5, help="events not counted, per level")
    parser.add_argument("--gap", default="20,50", help="ms between appends: min,max")
    parser.add_argument("--idle", type=int, default=1000, help="idle clients for the RSS reading")
    parser.add_argument("--hold", type=int, default=5, help="seconds the idle clients are held")
    parser.add_argument("--settle", type=float, default=2.0, help="seconds after connecting")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for an event")
    parser.add_argument("--heartbeat", type=float, default=15.0, help="TIMELINE_SSE_HEARTBEAT")
    parser.add_argument("--lifetime", type=float, default=3600.0, help="TIMELINE_SSE_MAX_LIFETIME")
    parser.add_argument("--quick", action="store_true", help="1 and 500 clients, 30 events each")
    parser.add_argument("--seed", type=int, default=20250311)
    parser.add_argument("--profile", type=Path, help="run the server under cProfile, stats here")
    parser.add_argument(
        "--server-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an environment variable for the server (repeatable)",
    )
    parser.add_argument("--json", type=Path, help="where the results go (JSON)")
    parser.add_argument("--markdown", type=Path, help="where the results go (Markdown)")
    args = parser.parse_args(argv)
    if args.quick:
        args.clients, args.events, args.warmup, args.hold = "1,500", 30, 3, 3
    args.clients = sorted({int(c.replace("_", "")) for c in args.clients.split(",")})
    low, high = (float(g) for g in args.gap.split(","))
    args.gap = (low, high)
    args.server_env = dict(item.split("=", 1) for item in args.server_env)
    suffix = "-quick" if args.quick else ""
    args.json = args.json or ROOT / "results" / f"feed{suffix}.json"
    return args


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> None:
    try:
        run(argv)
    except KeyboardInterrupt:
        console.print("[red]interrupted[/red]: the server was stopped, nothing was written")
        raise SystemExit(130) from None


def collect(args: argparse.Namespace, command: str) -> dict[str, Any]:
    """Start a server, measure every level and the idle memory, stop it: the report."""
    logging.getLogger("httpx").setLevel(logging.WARNING)
    fd_limit = raise_fd_limit(max([*args.clients, args.idle]) * 2 + 256)
    started = time.perf_counter()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="timeline-bench-feed-") as folder:
        console.print("starting a server (migrate, seed, serve)…")
        with feed_server(
            Path(folder), args.heartbeat, args.lifetime, args.profile, args.server_env
        ) as server:
            measured = asyncio.run(measure(server, args))
        with progress_bar() as progress:
            measured["per_reader"] = asyncio.run(
                per_reader_costs(server.database, max(args.clients), progress)
            )
    report: dict[str, Any] = {
        "command": command,
        "run_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "seconds": time.perf_counter() - started,
        "machine": machine("sqlite", None),
        "revision": revision(),
        "load_average_1min": {"before": load_before, "after": os.getloadavg()[0]},
        "settings": {
            "clients": args.clients,
            "events": args.events,
            "warmup": args.warmup,
            "gap_ms": list(args.gap),
            "hold": args.hold,
            "heartbeat": args.heartbeat,
            "lifetime": args.lifetime,
            "fd_limit": fd_limit,
            "client_processes": 1,
            "profiled": args.profile is not None,
            "server_env": args.server_env,
        },
        **measured,
    }
    report["targets"] = verdicts(report)
    return report


def repeated(args: argparse.Namespace, command: str, runs: int) -> dict[str, Any]:
    """`collect` run `runs` times, each on a fresh server: the last report, with every level's
    latency percentiles replaced by their median over the runs (and their spread beside)."""
    reports = [collect(args, command) for _ in range(runs)]
    last = reports[-1]
    for i, level in enumerate(last["latency"]):
        for key in ("latency_ms_from_recorded_at", "latency_ms_from_post_return"):
            for p in ("p50", "p99"):
                values = [r["latency"][i][key][p] for r in reports]
                level[key][p] = statistics.median(values)
                level[key][f"{p}_runs"] = spread(values)
    last["runs"] = runs
    last["targets"] = verdicts(last)
    return last


def run(argv: list[str] | None) -> None:
    args = arguments(argv)
    signal.signal(signal.SIGTERM, _terminate)  # stop the server on `kill` too, not only Ctrl-C
    command = "uv run python -m bench.feed " + " ".join(sys.argv[1:] if argv is None else argv)
    report = collect(args, command.strip())
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    if args.markdown is not None:
        write_markdown(args.markdown, markdown(report))
    console.print(summary_table(report))
    i = report["idle"]
    console.print(
        f"idle: {i['rss_mib_before']:,.1f} MiB before, {i['rss_mib_with_clients']:,.1f} MiB with "
        f"{i['clients']:,} clients (+{i['rss_mib_delta']:,.1f} MiB)"
    )
    print_verdicts(console, report["targets"])
    if args.profile is not None:
        stats = pstats.Stats(str(args.profile), stream=sys.stderr)
        stats.sort_stats("cumulative").print_stats(30)
    console.print(f"results in {args.json}" + (f" and {args.markdown}" if args.markdown else ""))


if __name__ == "__main__":
    main()
