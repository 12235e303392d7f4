"""Append throughput: the store against the bare driver, the HTTP API, and the `eventsourcing` peer.

    uv run --group bench python -m bench.append [--backend sqlite|postgresql] [--quick]
                                                [--runs 3] [--json PATH]

Every contender appends the same deterministic events (bench/synthetic.py: PositionStated
events citing registered sources and naming registered actors; the registrations go into each
fresh database first, untimed) with the same durability — SQLite in WAL with
`synchronous=FULL` (the project's `configure_sqlite_connection`), PostgreSQL with
`synchronous_commit=on` — into a fresh database per contender per run. Runs are interleaved (run
1 of every contender, then run 2, ...) so the shared machine's noise falls on all of them alike;
each figure is the median (min-max) of the runs, and the ratios compare medians of one run of
this module, never figures from different runs.

Contenders (events/s):

- `http_single` / `http_batch100`: one event / 100 events per `POST /v1/events`, sequential,
  over one keep-alive connection against a real `timeline serve` (bench/server.py), each
  request's bytes built before the clock starts (`Poster`: the client's own cost stays out);
- `store_single` / `store_batch100`: `store.append(stream, drafts)` in-process, one event / 100
  per call; `store_concurrent8`: 8 asyncio tasks, each appending single events to its own stream
  with `expected_version` (what a careful client sends), on one store;
- `raw_single` / `raw_batch100` (the ceiling): the bare sync driver (`sqlite3` / `psycopg`)
  inserting the rows the store would write (`store.rows.event_row` / `ref_rows`, JSON columns as
  text) into `events` and `event_refs`, one transaction per event / per 100;
- `replayed_single` / `replayed_batch100` / `replayed_concurrent8`: the statements the store
  itself sent its driver in `store_single` / `store_batch100` / `store_concurrent8` (captured in
  an untimed store run: its reads, the events, every read model, the checkpoint), sent again
  through the bare driver, one transaction per transaction the store committed (a group, for
  the concurrent writers) — the store's I/O without its Python: `store_x / replayed_x` is what
  the store's own code costs, `replayed_x / raw_x` what writing the read models costs;
- `memory_single` / `memory_batch100` / `memory_concurrent8`: the in-memory store
  (`store.memory`) taking the same appends: every check, the canonical form, the hash chain and
  every read model, with no database. A store on a database does all of that and then writes,
  so `memory/(memory+raw)` bounds `store_x / raw_x` in a closed loop, and `memory_concurrent8`
  bounds what 8 writers can reach when group commit overlaps the writes. With the replayed
  contenders' rate in place of raw's (the statements the store sends, read models included), the
  same arithmetic gives the tighter bound of the store as it writes today (for the 8 writers
  too: the store's checks and projection run inside the serialized transaction, between its
  statements). The targets show both;
- `eventsourcing_single` / `eventsourcing_batch100` / `eventsourcing_threads8`: the
  `eventsourcing` library's application recorder on the same backend, a StoredEvent per event
  whose state is the event's JSON (as sent over HTTP), one / 100 per `insert_events`, and 8
  threads each inserting single events for its own aggregate.

Events per run: 500 single / 5,000 batched (quick: 50 / 300). A run must last long enough for
the disk's fsync times to average out: the raw driver's single appends run at 2,000-4,000
events/s here, so 200 events made runs of 50-100 ms that varied by 2x between runs. Single
appends stop at 500 because the HTTP runs are made as users run the server, rate limit on: one
key may make 600 writes a minute. A full run still stays within a few minutes per backend.
Every HTTP run starts its own server on its own fresh database, except in the quick variant:
there one server (and database) serves every HTTP run, with the events given new ids per run,
because a server start (four `timeline` processes) takes 10-25 s here. Results go to
bench/results/append[-quick].json.

Ctrl-C stops after the step under way (a server start finishes first; a second Ctrl-C does not
wait); servers are stopped and databases dropped either way.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import getpass
import importlib.util
import json
import logging
import os
import shutil
import socket
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import (
    AbstractAsyncContextManager,
    AbstractContextManager,
    ExitStack,
    asynccontextmanager,
    closing,
    contextmanager,
    nullcontext,
)
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
import psycopg
from rich.progress import Progress
from rich.table import Table
from sqlalchemy import event as sqlalchemy_event
from sqlalchemy.engine import make_url

from bench.positions import Databases, console, machine, progress_bar, spread
from bench.report import print_verdicts
from bench.server import Server, running_server
from bench.synthetic import ACTORS, METADATA, PROPOSALS, SOURCES, _Log, registrations
from domain.chain import GENESIS
from domain.drafts import EventDraft
from domain.valid_time import Precision
from store.database import DatabaseUrl, configure_sqlite_connection
from store.factory import open_store
from store.memory import InMemoryEventStore
from store.rows import chain, event_row, ref_rows
from store.sql import SqlEventStore

ROOT = Path(__file__).resolve().parent
DEFAULT_POSTGRES = "postgresql:///postgres?host=/var/run/postgresql"
SEED = 20250311
BATCH = 100
TASKS = 8  # concurrent writers, and the streams (aggregates) every contender spreads events over
REGISTRY = "registry"
TOPIC = "bench.append:PositionStated"
# (single-event contenders, batched contenders): events per run.
SIZES = {False: (500, 5000), True: (50, 300)}
CONTENDERS = (
    "http_single",
    "http_batch100",
    "store_batch100",
    "store_single",
    "store_concurrent8",
    "raw_batch100",
    "raw_single",
    "replayed_batch100",
    "replayed_single",
    "replayed_concurrent8",
    "eventsourcing_single",
    "eventsourcing_batch100",
    "eventsourcing_threads8",
    "memory_single",
    "memory_batch100",
    "memory_concurrent8",
)
# The store's own work with no database at all (the in-memory store: the same checks, canonical
# form, hash chain and read models): a store on a database adds the driver's time to it, so in a
# closed loop it cannot beat 1 / (1/raw + 1/memory). name: (target ratio, its memory contender,
# the raw ceiling it adds to, or None where the writes overlap (group commit): then the memory
# rate alone bounds it).
BOUNDS: dict[str, tuple[str, str | None]] = {
    "store_single / raw_single": ("memory_single", "raw_single"),
    "store_batch100 / raw_batch100": ("memory_batch100", "raw_batch100"),
    "store_concurrent8 / eventsourcing_threads8": ("memory_concurrent8", None),
}
# The same, with the statements the store itself sends (the replayed contenders) in place of the
# bare driver's: the read models' rows and the reads its checks make are part of every append.
# One after the other for the 8 writers too: an append's checks and projection run inside its
# group's serialized transaction, between its statements (DESIGN.md: one transaction per append,
# the read models maintained in it), so none of the store's own work overlaps its statements.
# name: (memory contender, replayed contender).
STATEMENT_BOUNDS: dict[str, tuple[str, str]] = {
    "store_single / raw_single": ("memory_single", "replayed_single"),
    "store_batch100 / raw_batch100": ("memory_batch100", "replayed_batch100"),
    "store_concurrent8 / eventsourcing_threads8": ("memory_concurrent8", "replayed_concurrent8"),
}
# name: (numerator, denominator, target or None)
RATIOS: dict[str, tuple[str, str, float | None]] = {
    "store_batch100 / raw_batch100": ("store_batch100", "raw_batch100", 0.5),
    "store_single / raw_single": ("store_single", "raw_single", 0.8),
    "store_concurrent8 / eventsourcing_threads8": (
        "store_concurrent8",
        "eventsourcing_threads8",
        2.0,
    ),
    "http_single / store_single": ("http_single", "store_single", 0.6),
    "http_single / raw_single": ("http_single", "raw_single", None),
    "store_single / replayed_single": ("store_single", "replayed_single", None),
    "replayed_single / raw_single": ("replayed_single", "raw_single", None),
    "store_batch100 / replayed_batch100": ("store_batch100", "replayed_batch100", None),
    "replayed_batch100 / raw_batch100": ("replayed_batch100", "raw_batch100", None),
    "store_concurrent8 / replayed_concurrent8": (
        "store_concurrent8",
        "replayed_concurrent8",
        None,
    ),
    "replayed_concurrent8 / eventsourcing_threads8": (
        "replayed_concurrent8",
        "eventsourcing_threads8",
        None,
    ),
    "http_batch100 / raw_batch100": ("http_batch100", "raw_batch100", None),
    "store_batch100 / eventsourcing_batch100": ("store_batch100", "eventsourcing_batch100", None),
}
JSON_COLUMNS = ("occurred_qualifiers", "actors", "payload", "sources", "codes", "metadata")
EVENT_COLUMNS = (
    "position",
    "id",
    "stream",
    "stream_version",
    "type",
    "schema_version",
    "occurred_at",
    "occurred_timezone",
    "occurred_earliest",
    "occurred_latest",
    "occurred_precision",
    "occurred_qualifiers",
    "recorded_at",
    "actors",
    "payload",
    "sources",
    "codes",
    "metadata",
    "hash",
)
REF_COLUMNS = ("kind", "ref", "position")


class BenchError(Exception):
    """A condition the benchmark cannot run under, told in one line (no traceback)."""


Advance = Callable[[int], None]
Plan = list[tuple[str, list[EventDraft]]]


# --- the workload -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Workload:
    """The events every contender appends: registrations (untimed), then PositionStated."""

    registrations: tuple[EventDraft, ...]
    events: tuple[EventDraft, ...]

    def plan(self, count: int, size: int) -> Plan:
        """The first `count` events in appends of `size`; append k goes to stream k mod 8, so
        single events land on the same streams as the concurrent writers' lanes."""
        chunks = [list(self.events[i : i + size]) for i in range(0, count, size)]
        return [(stream_of(k), chunk) for k, chunk in enumerate(chunks)]

    def lanes(self, count: int) -> dict[str, list[EventDraft]]:
        """The first `count` events, one lane (stream, aggregate) per concurrent writer."""
        lanes: dict[str, list[EventDraft]] = {stream_of(t): [] for t in range(TASKS)}
        for stream, [draft] in self.plan(count, 1):
            lanes[stream].append(draft)
        return lanes


def stream_of(k: int) -> str:
    return f"positions-{k % TASKS}"


def workload(count: int, seed: int = SEED) -> Workload:
    """`count` PositionStated events from the synthetic log's generator (its other kinds are
    drawn and dropped, so every event is the one kind the brief compares)."""
    # Sized for what it will emit (registrations, and ~15% other kinds), so valid times stay
    # within the synthetic year, as in the positions benchmark's log.
    log = _Log(count * 6 // 5 + SOURCES + ACTORS + PROPOSALS, seed)
    registered = tuple(e.draft for e in registrations(log))
    events: list[EventDraft] = []
    while len(events) < count:
        draft = log.position_event()
        log.emit("positions", draft)  # moves the clock, so valid times spread as in the log
        if draft.type == "PositionStated":
            events.append(draft)
    return Workload(registrations=registered, events=tuple(events))


def wire(draft: EventDraft) -> dict[str, Any]:
    """The event as a client sends it to `POST /v1/events`."""
    event: dict[str, Any] = {
        "id": str(draft.id),
        "type": draft.type,
        "occurred_at": draft.valid_time.expression,
        "payload": draft.payload,
        "sources": [c.to_json() for c in draft.sources],
    }
    if draft.valid_time.precision is Precision.DAY:
        event["timezone"] = draft.valid_time.timezone
    return event


# --- helpers ------------------------------------------------------------------------------------


@dataclass
class Bench:
    """What every contender needs: where databases come from, the events, and what was seen of
    each family's durability settings (read back from its own connections)."""

    backend: str
    databases: Clones
    work: Workload
    folder: Path
    shared: ExitStack | None = None  # holds the one HTTP server of a quick run
    server: Server | None = None
    http_runs: int = 0
    wall: dict[str, float] = field(default_factory=dict)
    durability: dict[str, dict[str, str]] = field(default_factory=dict)


def check_cancelled() -> None:
    """Ctrl-C under `asyncio.run` only cancels the main task: let blocking loops notice it."""
    try:
        task = asyncio.current_task()
    except RuntimeError:  # no event loop: called outside `measure`
        return
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


def rate(count: int, started: float) -> float:
    return count / max(time.perf_counter() - started, 1e-9)


class Clones:
    """Fresh migrated databases, each a copy of one database migrated once per measurement.

    A migration costs 0.2-0.5 s (PostgreSQL: plus its drop) and a run makes dozens of databases;
    a copy of the migrated, still empty, database is the same fresh database for a fraction of
    that: SQLite's backup API into a new file, PostgreSQL's CREATE DATABASE ... TEMPLATE.
    """

    def __init__(self, databases: Databases) -> None:
        self.databases = databases
        self.template: DatabaseUrl | None = None

    def fresh(self) -> DatabaseUrl:
        """A new database at the newest schema, its tables empty."""
        if self.template is None:
            self.template = self.databases.fresh(0)
        name = f"append_{uuid.uuid4().hex[:8]}"
        if self.databases.backend == "sqlite":
            self.databases.folder.mkdir(parents=True, exist_ok=True)
            path = self.databases.folder / f"{name}.db"
            with (
                closing(sqlite3.connect(sqlite_path(self.template))) as source,
                closing(sqlite3.connect(path)) as target,
            ):
                source.backup(target)
            return DatabaseUrl(f"sqlite:///{path}")
        return self.created(f"timeline_bench_{name}", make_url(self.template.raw).database)

    def empty(self) -> DatabaseUrl:
        """A new PostgreSQL database without our tables (for the peer library)."""
        return self.created(f"timeline_bench_{uuid.uuid4().hex[:8]}")

    def created(self, name: str, template: str | None = None) -> DatabaseUrl:
        statement = f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")
        with psycopg.connect(libpq(self.databases.postgres_url), autocommit=True) as conn:
            conn.execute(statement)  # type: ignore[arg-type,unused-ignore]
        url = make_url(self.databases.postgres_url).set(database=name)
        return DatabaseUrl(url.render_as_string(False))

    def drop(self, url: DatabaseUrl) -> None:
        self.databases.drop(url)

    def close(self) -> None:
        """Drop the template."""
        if self.template is not None:
            self.databases.drop(self.template)
            self.template = None


@contextmanager
def fresh_database(bench: Bench, empty: bool = False) -> Iterator[DatabaseUrl]:
    """A fresh database (migrated unless `empty`), dropped however the block ends."""
    url = bench.databases.empty() if empty else bench.databases.fresh()
    try:
        yield url
    finally:
        bench.databases.drop(url)


def sqlite_path(url: DatabaseUrl) -> str:
    return make_url(url.raw).database or ""


def libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(False)


# --- in-process store ---------------------------------------------------------------------------


@asynccontextmanager
async def registered_memory_store(
    bench: Bench, count: int, capture: Capture | None = None
) -> AsyncIterator[InMemoryEventStore]:
    """The in-memory store holding the registrations (nothing to capture: it has no driver).

    The cyclic collector is off while it is in use: its log and read models grow with every
    append, and the collector's passes over them (up to 300 µs an event at a few thousand
    events) are no work a store on a database does, whose heap stays flat. Without them the
    memory rate is the store's own work, and the bound it gives the highest it can be."""
    store = InMemoryEventStore()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        await store.append(REGISTRY, bench.work.registrations, metadata=METADATA)
        yield store
        expected = len(bench.work.registrations) + count
        if await store.head() != expected:
            raise RuntimeError(f"the log holds {await store.head()} events, not {expected}")
    finally:
        if was_enabled:
            gc.enable()


@asynccontextmanager
async def registered_store(
    bench: Bench, count: int, capture: Capture | None = None
) -> AsyncIterator[SqlEventStore]:
    """The store on a fresh database holding the registrations (which also warm its pool);
    with `capture`, what its writer sends the driver is kept, registrations first."""
    with fresh_database(bench) as url:
        store = open_store(url)
        try:
            if capture is not None:
                capture.attach(store.blocking_engine)
            await store.append(REGISTRY, bench.work.registrations, metadata=METADATA)
            if "store" not in bench.durability:
                bench.durability["store"] = await store_durability(store)
            yield store
            expected = len(bench.work.registrations) + count
            if await store.head() != expected:
                raise RuntimeError(f"the log holds {await store.head()} events, not {expected}")
        finally:
            await store.close()


async def store_durability(store: SqlEventStore) -> dict[str, str]:
    """The settings the store's own connections run with."""
    if store.backend == "postgresql":
        statements = {"synchronous_commit": "SHOW synchronous_commit", "fsync": "SHOW fsync"}
    else:
        statements = {"journal_mode": "PRAGMA journal_mode", "synchronous": "PRAGMA synchronous"}
    async with store.engine.connect() as conn:
        return {
            name: str((await conn.exec_driver_sql(sql)).scalar())
            for name, sql in statements.items()
        }


async def store_appends(
    bench: Bench,
    count: int,
    size: int,
    advance: Advance,
    capture: Capture | None = None,
    opened: Opener = registered_store,
) -> float:
    """Events/s through `store.append`, `size` events per call, one call after another."""
    plan = bench.work.plan(count, size)
    async with opened(bench, count, capture) as store:
        started = time.perf_counter()
        for stream, drafts in plan:
            await store.append(stream, drafts, metadata=METADATA)
            advance(len(drafts))
        return rate(count, started)


async def store_concurrent(
    bench: Bench,
    count: int,
    advance: Advance,
    capture: Capture | None = None,
    opened: Opener = registered_store,
) -> float:
    """Events/s of 8 asyncio tasks on one store, each appending single events to its own stream
    with the version it last saw as `expected_version`."""
    lanes = bench.work.lanes(count)
    async with opened(bench, count, capture) as store:
        versions = {stream: await store.stream_version(stream) for stream in lanes}

        async def lane(stream: str, drafts: list[EventDraft]) -> None:
            version = versions[stream]
            for draft in drafts:
                result = await store.append(
                    stream, [draft], expected_version=version, metadata=METADATA
                )
                version = result.stream_version
                advance(1)

        started = time.perf_counter()
        await asyncio.gather(*(lane(stream, drafts) for stream, drafts in lanes.items()))
        return rate(count, started)


# --- the bare driver ----------------------------------------------------------------------------

Write = Callable[[list[dict[str, Any]], list[dict[str, Any]]], None]


class Numbering:
    """Positions, stream versions and recorded_at stamps, assigned as the store assigns them."""

    def __init__(self, backend: str) -> None:
        self.backend = backend
        self.head = 0
        self.last_stamp = 0
        self.versions: dict[str, int] = {}
        self.prev_hash = GENESIS

    def rows(
        self, stream: str, drafts: Sequence[EventDraft]
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The driver parameters of the events rows and event_refs rows of one append."""
        rows, refs = [], []
        now = time.time_ns() // 1000
        for draft in drafts:
            self.head += 1
            self.last_stamp = max(now, self.last_stamp + 1)
            version = self.versions[stream] = self.versions.get(stream, 0) + 1
            row = event_row(
                position=self.head,
                stream=stream,
                stream_version=version,
                recorded_at=self.last_stamp,
                draft=draft,
                metadata=dict(METADATA),
            )
            self.prev_hash = chain([row], self.prev_hash)
            rows.append(self.driver_values(row))
            refs.extend(ref_rows(self.head, draft, METADATA))
        return rows, refs

    def driver_values(self, row: dict[str, Any]) -> dict[str, Any]:
        """JSON columns as text; the id as SQLAlchemy's `Uuid` stores it on SQLite (32 hex
        digits), a UUID for psycopg."""
        for column in JSON_COLUMNS:
            row[column] = json.dumps(row[column])
        if self.backend == "sqlite":
            row["id"] = row["id"].hex
        return row


def insert_sql(table: str, columns: Sequence[str], mark: Callable[[str], str]) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(map(mark, columns))})"


@contextmanager
def raw_writer(url: DatabaseUrl, durability: dict[str, dict[str, str]]) -> Iterator[Write]:
    """A function writing rows in one transaction through the bare synchronous driver."""
    if url.backend == "sqlite":
        with sqlite_writer(sqlite_path(url), durability) as write:
            yield write
    else:
        with postgres_writer(url.raw, durability) as write:
            yield write


@contextmanager
def sqlite_writer(path: str, durability: dict[str, dict[str, str]]) -> Iterator[Write]:
    """`sqlite3` with the store's connection settings; BEGIN IMMEDIATE, as the store begins."""
    conn = sqlite3.connect(path)
    configure_sqlite_connection(conn)  # WAL, synchronous=FULL, busy timeout; we begin
    events_sql = insert_sql("events", EVENT_COLUMNS, lambda c: f":{c}")
    refs_sql = insert_sql("event_refs", REF_COLUMNS, lambda c: f":{c}")
    durability.setdefault(
        "raw",
        {
            "journal_mode": str(conn.execute("PRAGMA journal_mode").fetchone()[0]),
            "synchronous": str(conn.execute("PRAGMA synchronous").fetchone()[0]),
        },
    )

    def write(rows: list[dict[str, Any]], refs: list[dict[str, Any]]) -> None:
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.executemany(events_sql, rows)
            if refs:
                conn.executemany(refs_sql, refs)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    try:
        yield write
    finally:
        conn.close()


@contextmanager
def postgres_writer(url: str, durability: dict[str, dict[str, str]]) -> Iterator[Write]:
    """`psycopg` (sync), one explicit transaction per write; `executemany` pipelines a batch."""
    events_sql = insert_sql("events", EVENT_COLUMNS, lambda c: f"%({c})s")
    refs_sql = insert_sql("event_refs", REF_COLUMNS, lambda c: f"%({c})s")
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        durability.setdefault("raw", postgres_settings(conn))

        def write(rows: list[dict[str, Any]], refs: list[dict[str, Any]]) -> None:
            with conn.transaction(), conn.cursor() as cursor:
                cursor.executemany(events_sql, rows)  # type: ignore[arg-type,unused-ignore]
                if refs:
                    cursor.executemany(refs_sql, refs)  # type: ignore[arg-type,unused-ignore]

        yield write


def postgres_settings(conn: psycopg.Connection[Any]) -> dict[str, str]:
    """The durability settings a connection runs with (rows as tuples or, for the
    library's connections, dicts)."""
    settings = {}
    for name in ("synchronous_commit", "fsync"):
        row = conn.execute(f"SHOW {name}").fetchone()  # type: ignore[arg-type,unused-ignore]
        if row is not None:
            settings[name] = str(row[name] if isinstance(row, dict) else row[0])
    return settings


def raw_appends(bench: Bench, count: int, size: int, advance: Advance) -> float:
    """Events/s writing the store's rows through the bare driver, one transaction per `size`
    events. The rows are built inside the timed loop, as the store builds them."""
    plan = bench.work.plan(count, size)
    with fresh_database(bench) as url, raw_writer(url, bench.durability) as write:
        numbering = Numbering(url.backend)
        write(*numbering.rows(REGISTRY, bench.work.registrations))
        started = time.perf_counter()
        for stream, drafts in plan:
            write(*numbering.rows(stream, drafts))
            advance(len(drafts))
        return rate(count, started)


# --- the store's own statements on the bare driver ---------------------------------------------


class Capture:
    """The statements a store's writer sends its driver, as sent (SQL text, driver
    parameters), one list per committed transaction."""

    def __init__(self) -> None:
        self.transactions: list[list[tuple[str, Any, bool]]] = []
        self._current: list[tuple[str, Any, bool]] = []

    def attach(self, engine: Any) -> None:
        sqlalchemy_event.listen(engine, "before_cursor_execute", self._statement)
        sqlalchemy_event.listen(engine, "commit", self._commit)
        sqlalchemy_event.listen(engine, "rollback", self._rollback)

    def _statement(self, *args: Any) -> None:
        _conn, _cursor, statement, parameters, _context, many = args
        self._current.append((statement, parameters, many))

    def _commit(self, _conn: Any) -> None:
        self.transactions.append(self._current)
        self._current = []

    def _rollback(self, _conn: Any) -> None:
        self._current = []


# Opens a store with the registrations in it: on a fresh database, or in memory.
Opener = Callable[[Bench, int, Capture | None], AbstractAsyncContextManager[Any]]


async def replayed_appends(bench: Bench, count: int, how: str, advance: Advance) -> float:
    """Events/s of the statements the store sent its driver for the appends of `store_{how}`
    — its reads, the events, the read models, the checkpoint — sent again straight to the bare
    driver, one transaction per transaction the store committed: what the store's I/O costs
    without its Python (a ceiling for the store that writes what it writes)."""
    capture = Capture()
    ignore: Advance = lambda n: None  # noqa: E731
    if how == "concurrent8":
        await store_concurrent(bench, count, ignore, capture)
    else:
        await store_appends(bench, count, BATCH if how == "batch100" else 1, ignore, capture)
    registering, *appends = capture.transactions
    with fresh_database(bench) as url, replayer(url) as replay:
        replay(registering)
        started = time.perf_counter()
        for transaction in appends:
            replay(transaction)
        advance(count)
        return rate(count, started)


Replay = Callable[[list[tuple[str, Any, bool]]], None]


@contextmanager
def replayer(url: DatabaseUrl) -> Iterator[Replay]:
    """Runs captured transactions on a bare driver connection, committing each."""
    if url.backend == "sqlite":
        conn = sqlite3.connect(sqlite_path(url))
        configure_sqlite_connection(conn)  # the store's settings: WAL, synchronous=FULL
    else:
        conn = psycopg.connect(libpq(url.raw))  # type: ignore[assignment]

    def replay(transaction: list[tuple[str, Any, bool]]) -> None:
        cursor = conn.cursor()
        for statement, parameters, many in transaction:
            if many:
                cursor.executemany(statement, parameters)
            else:
                cursor.execute(statement, parameters)
            if cursor.description is not None:
                cursor.fetchall()
        conn.commit()

    try:
        yield replay
    finally:
        conn.close()


# --- HTTP ---------------------------------------------------------------------------------------


def post(client: httpx.Client, stream: str, drafts: Sequence[EventDraft]) -> None:
    body = {"stream": stream, "events": [wire(d) for d in drafts]}
    response = client.post("/v1/events", json=body)
    if response.status_code != 201:
        raise RuntimeError(f"POST /v1/events answered {response.status_code}: {response.text}")


@contextmanager
def registered_server(bench: Bench) -> Iterator[Server]:
    """A real server (one worker) on a fresh database holding the registrations; stopped and
    dropped however the block ends."""
    with (
        fresh_database(bench) as url,
        tempfile.TemporaryDirectory(dir=bench.folder, prefix="server-") as folder,
        running_server(Path(folder), url.raw, env=AS_USERS_RUN_IT) as server,
        http_client(server) as client,
    ):
        post(client, REGISTRY, bench.work.registrations)
        yield server


# The write rate limit on, at its default, as users run the server: its count is part of what an
# append costs. No run makes more than 500 writes on one server, within it (SIZES).
AS_USERS_RUN_IT = {"TIMELINE_WRITE_RATE_LIMIT": "600/60"}


def renamed(drafts: Sequence[EventDraft], salt: int) -> list[EventDraft]:
    return [replace(d, id=uuid.uuid5(d.id, str(salt))) for d in drafts]


def http_client(server: Server) -> httpx.Client:
    """Keep-alive: one connection for every request of a run."""
    headers = {"Authorization": f"Bearer {server.key}"}
    return httpx.Client(base_url=server.base, headers=headers, timeout=60)


def http_server(bench: Bench) -> AbstractContextManager[Server]:
    """A fresh server per run; in the quick variant one server for every HTTP run, since a
    server start (migrate, seed, create a key, serve: four processes) costs more than the
    quick variant's whole budget here."""
    if bench.shared is None:
        return registered_server(bench)
    if bench.server is None:
        bench.server = bench.shared.enter_context(registered_server(bench))
    return nullcontext(bench.server)


def http_appends(bench: Bench, count: int, size: int, advance: Advance) -> float:
    """Events/s of sequential `POST /v1/events` with `size` events each, over one keep-alive
    connection, each request built before the clock starts (`Poster`)."""
    plan = bench.work.plan(count, size)
    if bench.shared is not None:  # one database for every run: new ids, the same events
        bench.http_runs += 1
        plan = [(stream, renamed(drafts, bench.http_runs)) for stream, drafts in plan]
    with http_server(bench) as server, Poster(server) as poster:
        requests = [
            (
                len(drafts),
                poster.request(
                    json.dumps({"stream": stream, "events": [wire(d) for d in drafts]}).encode()
                ),
            )
            for stream, drafts in plan
        ]
        started = time.perf_counter()
        for events, request in requests:
            poster.send(request)
            advance(events)
        return rate(count, started)


class Poster:
    """POSTs to `/v1/events` over one keep-alive socket, each request's bytes built beforehand,
    each answer read by its Content-Length: a client whose own cost stays out of the figure, as
    `bench.http`'s load generator does for reads. (httpx cost ~680 µs of CPU a request here,
    against the server's ~1,750: on two cores, in a closed loop, a third of every request's
    time was the client's.)"""

    def __init__(self, server: Server) -> None:
        host, port = server.base.removeprefix("http://").rsplit(":", 1)
        self._host = host
        self._key = server.key
        self._socket = socket.create_connection((host, int(port)))
        self._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._buffer = b""

    def __enter__(self) -> Poster:
        return self

    def __exit__(self, *_: object) -> None:
        self._socket.close()

    def request(self, body: bytes) -> bytes:
        head = (
            f"POST /v1/events HTTP/1.1\r\nHost: {self._host}\r\n"
            f"Authorization: Bearer {self._key}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        return head.encode() + body

    def send(self, request: bytes) -> None:
        """Send one request and read its whole answer; a RuntimeError unless it is a 201."""
        self._socket.sendall(request)
        while b"\r\n\r\n" not in self._buffer:
            self._receive()
        head, _, self._buffer = self._buffer.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split()[1])
        length = next(
            int(line.split(b":", 1)[1])
            for line in lines
            if line.lower().startswith(b"content-length:")
        )
        while len(self._buffer) < length:
            self._receive()
        body, self._buffer = self._buffer[:length], self._buffer[length:]
        if status != 201:
            raise RuntimeError(
                f"POST /v1/events answered {status}: {body.decode(errors='replace')}"
            )

    def _receive(self) -> None:
        chunk = self._socket.recv(65536)
        if not chunk:
            raise RuntimeError("the server closed the connection")
        self._buffer += chunk


# --- eventsourcing ------------------------------------------------------------------------------


class Aggregates:
    """StoredEvents for the library's recorder: one aggregate per stream, the event's JSON (as
    sent over HTTP) as its state."""

    def __init__(self) -> None:
        self.versions: dict[str, int] = {}

    def stored(self, stream: str, drafts: Sequence[EventDraft]) -> list[Any]:
        from eventsourcing.persistence import StoredEvent

        events = []
        for draft in drafts:
            version = self.versions[stream] = self.versions.get(stream, 0) + 1
            events.append(
                StoredEvent(
                    originator_id=uuid.uuid5(uuid.NAMESPACE_URL, stream),
                    originator_version=version,
                    topic=TOPIC,
                    state=json.dumps(wire(draft)).encode(),
                )
            )
        return events


@contextmanager
def recorder(bench: Bench, pool: int) -> Iterator[Any]:
    """The library's application recorder on a fresh SQLite file or PostgreSQL database."""
    if bench.backend == "sqlite":
        with sqlite_recorder(bench, pool) as made:
            yield made
    else:
        with postgres_recorder(bench, pool) as made:
            yield made


@contextmanager
def sqlite_recorder(bench: Bench, pool: int) -> Iterator[Any]:
    """SQLiteApplicationRecorder over a datastore whose connections also set synchronous=FULL.

    The library's pool opens connections in autocommit mode, switches the file to WAL, sets a
    lock timeout, and leaves `synchronous` at the build's default (FULL for this sqlite3 build,
    but not promised: some builds default WAL databases to NORMAL). The subclassed pool pins it,
    so its commits fsync exactly as ours do.
    """
    from eventsourcing.sqlite import (
        SQLiteApplicationRecorder,
        SQLiteConnectionPool,
        SQLiteDatastore,
    )

    class DurablePool(SQLiteConnectionPool):  # type: ignore[misc,unused-ignore]
        def _create_connection(self) -> Any:
            connection = super()._create_connection()
            connection._sqlite_conn.execute("PRAGMA synchronous=FULL")
            return connection

    bench.folder.mkdir(parents=True, exist_ok=True)
    path = bench.folder / f"eventsourcing-{uuid.uuid4().hex[:8]}.db"
    datastore = SQLiteDatastore(str(path), pool_size=pool, lock_timeout=10)
    datastore.pool.close()
    datastore.pool = DurablePool(db_name=str(path), pool_size=pool, lock_timeout=10)
    try:
        made = SQLiteApplicationRecorder(datastore)
        made.create_table()
        if "eventsourcing" not in bench.durability:
            with datastore.transaction(commit=False) as cursor:
                cursor.execute("PRAGMA journal_mode")
                mode = cursor.fetchone()[0]
                cursor.execute("PRAGMA synchronous")
                sync = cursor.fetchone()[0]
            bench.durability["eventsourcing"] = {
                "journal_mode": str(mode),
                "synchronous": str(sync),
            }
        yield made
    finally:
        datastore.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


@contextmanager
def postgres_recorder(bench: Bench, pool: int) -> Iterator[Any]:
    """PostgresApplicationRecorder on a fresh database; `synchronous_commit` stays the server's
    default (on), as for our store. Its inserts take `LOCK TABLE ... IN EXCLUSIVE MODE` and
    NOTIFY, as ours take an advisory lock and NOTIFY: both serialise writers for a gapless order."""
    from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore

    with fresh_database(bench, empty=True) as url:
        parts = make_url(url.raw)
        host = parts.host or parts.query.get("host") or "/var/run/postgresql"
        datastore = PostgresDatastore(
            dbname=parts.database or "",
            host=str(host),
            port=parts.port or 5432,
            user=parts.username or getpass.getuser(),
            password=parts.password or "",
            pool_size=pool,
        )
        try:
            made = PostgresApplicationRecorder(datastore)
            made.create_table()
            if "eventsourcing" not in bench.durability:
                with datastore.get_connection() as conn:
                    bench.durability["eventsourcing"] = postgres_settings(conn)
            yield made
        finally:
            datastore.close()


def eventsourcing_appends(bench: Bench, count: int, size: int, advance: Advance) -> float:
    """Events/s through the recorder's `insert_events`, `size` events per call."""
    plan = bench.work.plan(count, size)
    aggregates = Aggregates()
    with recorder(bench, pool=1) as made:
        started = time.perf_counter()
        for stream, drafts in plan:
            made.insert_events(aggregates.stored(stream, drafts))
            advance(len(drafts))
        return rate(count, started)


def eventsourcing_threads(bench: Bench, count: int, advance: Advance) -> float:
    """Events/s of 8 threads, each inserting single events for its own aggregate."""
    lanes = bench.work.lanes(count)
    stop = threading.Event()
    errors: list[BaseException] = []
    ready = threading.Barrier(len(lanes) + 1)

    def lane(made: Any, stream: str, drafts: list[EventDraft]) -> None:
        aggregates = Aggregates()
        try:
            ready.wait()
            for draft in drafts:
                if stop.is_set():
                    return
                made.insert_events(aggregates.stored(stream, [draft]))
                advance(1)
        except BaseException as error:
            errors.append(error)
            stop.set()

    with recorder(bench, pool=TASKS) as made:
        threads = [
            threading.Thread(target=lane, args=(made, stream, drafts), daemon=True)
            for stream, drafts in lanes.items()
        ]
        for thread in threads:
            thread.start()
        try:
            ready.wait()
            started = time.perf_counter()
            for thread in threads:
                while thread.is_alive():
                    thread.join(0.1)
                    check_cancelled()
            events_per_second = rate(count, started)
        finally:
            stop.set()
            ready.abort()  # threads still at the start line give up rather than wait
            for thread in threads:
                thread.join(10)
        if errors:
            raise errors[0]
        return events_per_second


# --- the measurement ----------------------------------------------------------------------------


async def contend(bench: Bench, name: str, count: int, advance: Advance) -> float:
    """One run of one contender: events/s."""
    size = BATCH if name.endswith("batch100") else 1
    if name.startswith("http_"):
        return http_appends(bench, count, size, advance)
    if name == "store_concurrent8":
        return await store_concurrent(bench, count, advance)
    if name.startswith("store_"):
        return await store_appends(bench, count, size, advance)
    if name == "memory_concurrent8":
        return await store_concurrent(bench, count, advance, opened=registered_memory_store)
    if name.startswith("memory_"):
        return await store_appends(bench, count, size, advance, opened=registered_memory_store)
    if name.startswith("raw_"):
        return raw_appends(bench, count, size, advance)
    if name.startswith("replayed_"):
        return await replayed_appends(bench, count, name.removeprefix("replayed_"), advance)
    if name == "eventsourcing_threads8":
        return eventsourcing_threads(bench, count, advance)
    return eventsourcing_appends(bench, count, size, advance)


def events_per_run(quick: bool) -> dict[str, int]:
    single, batched = SIZES[quick]
    return {name: batched if name.endswith("batch100") else single for name in CONTENDERS}


def ratios(rates: dict[str, dict[str, float]]) -> dict[str, float]:
    """Median over median, for the pairs both measured."""
    return {
        name: rates[top]["median"] / rates[bottom]["median"]
        for name, (top, bottom, _) in RATIOS.items()
        if top in rates and bottom in rates
    }


def bounds(rates: dict[str, dict[str, float]]) -> dict[str, float]:
    """For each target ratio that has one, the most it could be with the store's own work as it
    is (the in-memory store's rate) and the bare driver's time added to it."""
    found = {}
    for name, (memory, ceiling) in BOUNDS.items():
        bound = _bound(rates, name, memory, ceiling)
        if bound is not None:
            found[name] = bound
    return found


def statement_bounds(rates: dict[str, dict[str, float]]) -> dict[str, float]:
    """For each target ratio that has one, the most it could be with the store's own work and
    its own statements as they are (the memory and replayed contenders' rates)."""
    found = {}
    for name, (memory, replayed) in STATEMENT_BOUNDS.items():
        bound = _bound(rates, name, memory, replayed)
        if bound is not None:
            found[name] = bound
    return found


def _bound(
    rates: dict[str, dict[str, float]], name: str, memory: str, database: str | None
) -> float | None:
    """The rate of `memory`'s work followed by `database`'s (`memory`'s alone without one), over
    the target ratio's denominator; None when a contender was not run."""
    _, bottom, _ = RATIOS[name]
    wanted = [memory, bottom] + ([] if database is None else [database])
    if any(contender not in rates for contender in wanted):
        return None
    alone = rates[memory]["median"]
    if database is not None:
        alone = 1 / (1 / alone + 1 / rates[database]["median"])
    return alone / rates[bottom]["median"]


def verdicts(
    measured: dict[str, float],
    backend: str,
    bounded: dict[str, float] | None = None,
    by_statements: dict[str, float] | None = None,
) -> list[dict[str, Any]]:
    """Each target ratio, met or not, with the bounds the store's own work sets (if known):
    alone beside the bare driver, and beside the store's own statements."""
    bounded = bounded or {}
    by_statements = by_statements or {}

    def limits(name: str) -> str:
        said = []
        if name in bounded:
            said.append(f"no database at all: at most {bounded[name]:.2f}x")
        if name in by_statements:
            said.append(f"with its own statements: at most {by_statements[name]:.2f}x")
        return f" ({'; '.join(said)})" if said else ""

    return [
        {
            "target": f"{top} ≥ {target:g}x {bottom} ({backend})",
            "measured": f"{measured[name]:.2f}x{limits(name)}",
            "met": measured[name] >= target,
        }
        for name, (top, bottom, target) in RATIOS.items()
        if target is not None and name in measured
    ]


def preflight(backend: str, databases: Databases, postgres_url: str) -> str | None:
    """Fail early, in one line: the peer library missing, PostgreSQL unreachable."""
    if importlib.util.find_spec("eventsourcing") is None:
        raise BenchError("eventsourcing is not installed: run with `uv run --group bench ...`")
    if backend != "postgresql":
        return None
    try:
        return databases.version()
    except psycopg.Error as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise BenchError(f"PostgreSQL is not reachable at {postgres_url}: {reason}") from None


async def interleaved(
    bench: Bench, counts: dict[str, int], runs: int, progress: Progress
) -> dict[str, list[float]]:
    """Run 1 of every contender, then run 2, ...: events/s of each run, by contender. The wall
    time of each contender's runs, set-up included, goes to `bench.wall` (for sizing)."""
    samples: dict[str, list[float]] = {name: [] for name in counts}
    tasks = {
        name: progress.add_task(f"{bench.backend}: {name}", total=runs * n, rate="")
        for name, n in counts.items()
    }
    for _ in range(runs):
        for name, count in counts.items():

            def advance(n: int, task: Any = tasks[name]) -> None:
                progress.advance(task, n)
                if threading.current_thread() is threading.main_thread():
                    check_cancelled()

            began = time.perf_counter()
            samples[name].append(await contend(bench, name, count, advance))
            bench.wall[name] = bench.wall.get(name, 0.0) + time.perf_counter() - began
            median = statistics.median(samples[name])
            progress.update(tasks[name], rate=f"{median:,.0f} events/s")
    return samples


async def measure(
    backend: str,
    postgres_url: str,
    *,
    quick: bool,
    runs: int,
    progress: Progress,
    folder: Path,
    contenders: Sequence[str] = CONTENDERS,
) -> dict[str, Any]:
    """Every contender `runs` times on one backend, runs interleaved; rates, ratios, targets."""
    databases = Databases(backend, folder / "append", postgres_url)
    version = preflight(backend, databases, postgres_url)
    counts = {name: n for name, n in events_per_run(quick).items() if name in contenders}
    bench = Bench(
        backend=backend,
        databases=Clones(databases),
        work=workload(max(counts.values())),
        folder=folder / "append",
    )
    bench.folder.mkdir(parents=True, exist_ok=True)
    try:
        with ExitStack() as shared:
            bench.shared = shared if quick else None
            samples = await interleaved(bench, counts, runs, progress)
    finally:
        bench.databases.close()
        if bench.folder.exists() and not any(bench.folder.iterdir()):
            shutil.rmtree(bench.folder, ignore_errors=True)
    rates = {name: spread(values) for name, values in samples.items()}
    measured = ratios(rates)
    bounded, by_statements = bounds(rates), statement_bounds(rates)
    return {
        "backend": backend,
        "events": counts,
        "rates": rates,
        "ratios": measured,
        "bounds": bounded,
        "statement_bounds": by_statements,
        "targets": verdicts(measured, backend, bounded, by_statements),
        "settings": settings(bench, quick, runs, version),
    }


def settings(bench: Bench, quick: bool, runs: int, version: str | None) -> dict[str, Any]:
    """How the figures were made, beside them."""
    sizes = [len(json.dumps(wire(d)).encode()) for d in bench.work.events]
    return {
        "quick": quick,
        "runs": runs,
        "batch": BATCH,
        "concurrency": TASKS,
        "streams": TASKS,
        "seed": SEED,
        "registrations": len(bench.work.registrations),
        "event_json_bytes": round(statistics.mean(sizes)),
        "durability": bench.durability,
        "database": "fresh per contender per run"
        + ("; HTTP: one server and database for every HTTP run" if quick else ""),
        "server": "timeline serve, 1 worker, write rate limit 600 a minute (as users run it)",
        "wall_seconds": {name: round(seconds, 1) for name, seconds in bench.wall.items()},
        "machine": {**machine(bench.backend, version), "load_average_1min": os.getloadavg()[0]},
    }


# --- the command line ---------------------------------------------------------------------------


def summary_table(report: dict[str, Any]) -> Table:
    table = Table(title=f"append throughput ({report['backend']}), events/s")
    for column in ("contender", "events/run", "median", "min", "max"):
        table.add_column(column, justify="left" if column == "contender" else "right")
    for name, measure_ in report["rates"].items():
        table.add_row(
            name,
            f"{report['events'][name]:,}",
            f"{measure_['median']:,.0f}",
            f"{measure_['min']:,.0f}",
            f"{measure_['max']:,.0f}",
        )
    return table


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.append", description="Append throughput benchmark."
    )
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--quick", action="store_true", help="a few hundred events per run")
    parser.add_argument("--runs", type=int, default=3, help="runs of each contender (median)")
    parser.add_argument("--json", type=Path, help="where the results go (JSON)")
    parser.add_argument(
        "--contenders",
        default=",".join(CONTENDERS),
        help="a comma-separated subset of: " + ", ".join(CONTENDERS),
    )
    parser.add_argument("--dir", type=Path, default=ROOT.parent / "var" / "bench")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("TIMELINE_BENCH_POSTGRES_URL")
        or os.environ.get("TIMELINE_TEST_POSTGRES_URL")
        or DEFAULT_POSTGRES,
        help="a server where databases may be created (default: the local socket)",
    )
    args = parser.parse_args(argv)
    args.contenders = [c.strip() for c in args.contenders.split(",") if c.strip()]
    unknown = sorted(set(args.contenders) - set(CONTENDERS))
    if unknown or not args.contenders:
        parser.error(f"unknown contenders: {', '.join(unknown) or '(none given)'}")
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    args.json = args.json or ROOT / "results" / f"append{'-quick' if args.quick else ''}.json"
    return args


async def run(args: argparse.Namespace) -> dict[str, Any]:
    with progress_bar() as progress:
        return await measure(
            args.backend,
            args.postgres_url,
            quick=args.quick,
            runs=args.runs,
            progress=progress,
            folder=args.dir,
            contenders=args.contenders,
        )


def main(argv: list[str] | None = None) -> None:
    args = arguments(argv)
    for noisy in ("alembic", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    command = "uv run --group bench python -m bench.append " + " ".join(
        sys.argv[1:] if argv is None else argv
    )
    started = time.perf_counter()
    try:
        result = asyncio.run(run(args))
    except (BenchError, RuntimeError, psycopg.OperationalError, OSError) as error:
        console.print(f"[red]error:[/red] {error}", soft_wrap=True)
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        console.print("[yellow]interrupted[/yellow]: servers stopped, databases dropped")
        raise SystemExit(130) from None
    report = {
        "command": command.strip(),
        "run_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "seconds": round(time.perf_counter() - started, 1),
        **result,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    console.print(summary_table(report))
    for name, value in report["ratios"].items():
        console.print(f"  {name}: {value:.2f}x")
    print_verdicts(console, report["targets"])
    console.print(f"{report['seconds']:.0f} s; results in {args.json}")


if __name__ == "__main__":
    main()
