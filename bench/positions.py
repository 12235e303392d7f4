"""Positions benchmark: rebuild throughput, and bitemporal reads against the naive fold.

    uv run python -m bench.positions [--sizes 10000,100000,1000000] [--backend sqlite|postgresql]
                                     [--quick] [--runs 3]

For each size: a synthetic log (bench/synthetic.py) is loaded straight into a fresh, migrated
database; `store.rebuild.rebuild` builds every read model from it (positions, the timeline's
effective events, the registry: the rebuild measurement, beside a raw `SELECT * FROM events` of
the whole log as its baseline); then random
(pair, as_of, known_at) reads run in-process through `store.position` (beside the same query
through the bare driver, and the naive fold over the whole log held in memory for the same
questions, whose answers are also checked against the table's) and over HTTP against the app.
Results go to bench/results/positions.json (and `--markdown`); bench/RESULTS.md is written by
`python -m bench`.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import json
import logging
import os
import platform
import random
import shutil
import sqlite3
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bench.report import print_verdicts
from bench.synthetic import ACTORS, PROPOSALS, START, YEAR, actor, load, proposal, synthetic_log
from bench.write_floor import write_floor
from domain.editorial import LoggedEvent, effective_events
from domain.positions import fold, unstated
from domain.valid_time import format_instant, from_micros, to_micros
from store.database import DatabaseUrl
from store.factory import open_store
from store.ports import EventQuery
from store.projection import logged
from store.rebuild import rebuild
from store.schema import upgrade
from store.sql import SqlEventStore

ROOT = Path(__file__).resolve().parent
console = Console(stderr=True)
POSITION_SQL = (
    "SELECT state FROM positions WHERE actor = {m} AND proposal = {m} "
    "AND recorded_from <= {m} AND recorded_to > {m} AND valid_from <= {m} AND valid_to > {m} "
    "LIMIT 1"
)
TARGETS = {
    "p50_us": 100.0,
    "p99_us": 1000.0,
    "p50_growth": 1.5,
    "fold_speedup": 100.0,
    "rebuild_events_per_second": 50_000.0,
}


@dataclass(frozen=True, slots=True)
class Query:
    """One bitemporal read: a pair, a valid time and a transaction time (UTC microseconds)."""

    actor: str
    proposal: str
    as_of: int
    known_at: int


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile of some values."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def spread(values: list[float]) -> dict[str, float]:
    """Median, min and max of repeated measurements."""
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def machine(backend: str, postgres_version: str | None) -> dict[str, Any]:
    """What ran the benchmark."""
    memory = "?"
    cpu = platform.processor() or "?"
    with _quiet(), open("/proc/meminfo") as meminfo:
        kib = int(next(line for line in meminfo if line.startswith("MemTotal")).split()[1])
        memory = f"{kib / 1024 / 1024:.1f} GiB"
    with _quiet(), open("/proc/cpuinfo") as cpuinfo:
        cpu = next(line for line in cpuinfo if line.startswith("model name")).split(":")[1].strip()
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory": memory,
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "postgresql": postgres_version,
        "platform": platform.platform(),
        "backend": backend,
    }


@contextmanager
def _quiet() -> Iterator[None]:
    with suppress(OSError, StopIteration, IndexError):
        yield


class Databases:
    """A fresh database per size: a SQLite file under a folder, or a PostgreSQL database."""

    def __init__(self, backend: str, folder: Path, postgres_url: str) -> None:
        self.backend = backend
        self.folder = folder
        self.postgres_url = postgres_url

    def fresh(self, size: int) -> DatabaseUrl:
        if self.backend == "sqlite":
            self.folder.mkdir(parents=True, exist_ok=True)
            path = self.folder / f"positions-{size}-{uuid.uuid4().hex[:8]}.db"
            url = DatabaseUrl(f"sqlite:///{path}")
        else:
            name = f"timeline_bench_{size}_{uuid.uuid4().hex[:8]}"
            self._admin(f'CREATE DATABASE "{name}"')
            url = DatabaseUrl(
                make_url(self.postgres_url).set(database=name).render_as_string(False)
            )
        upgrade(url)
        return url

    def drop(self, url: DatabaseUrl) -> None:
        if self.backend == "sqlite":
            database = make_url(url.raw).database or ""
            for suffix in ("", "-wal", "-shm"):
                Path(database + suffix).unlink(missing_ok=True)
        else:
            self._admin(f'DROP DATABASE IF EXISTS "{make_url(url.raw).database}" WITH (FORCE)')

    def version(self) -> str | None:
        if self.backend != "postgresql":
            return None
        with psycopg.connect(self._libpq(self.postgres_url)) as conn:
            row = conn.execute("SHOW server_version").fetchone()
            return None if row is None else str(row[0])

    def _admin(self, statement: str) -> None:
        with psycopg.connect(self._libpq(self.postgres_url), autocommit=True) as conn:
            conn.execute(statement)  # type: ignore[arg-type,unused-ignore]

    @staticmethod
    def _libpq(url: str) -> str:
        return make_url(url).set(drivername="postgresql").render_as_string(False)


def progress_bar() -> Progress:
    return Progress(
        TextColumn("{task.description:<28}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        console=console,
    )


def random_queries(rng: random.Random, count: int, first: int, last: int) -> list[Query]:
    """Uniform pairs, valid times over the year (and a month past it), known_at over the log."""
    valid_from, valid_to = to_micros(START), to_micros(START + YEAR + timedelta(days=30))
    return [
        Query(
            actor=actor(rng.randrange(ACTORS)),
            proposal=proposal(rng.randrange(PROPOSALS)),
            as_of=rng.randrange(valid_from, valid_to),
            known_at=rng.randrange(first, last + 1),
        )
        for _ in range(count)
    ]


async def timed(work: Callable[[], Awaitable[Any]]) -> float:
    """Seconds one awaited call takes."""
    started = time.perf_counter()
    await work()
    return time.perf_counter() - started


async def raw_read(store: SqlEventStore) -> tuple[float, int]:
    """A plain `SELECT * FROM events` of the whole log through the driver: seconds, rows."""
    started = time.perf_counter()
    async with store.engine.connect() as conn:
        result = await conn.exec_driver_sql("SELECT * FROM events ORDER BY position")
        count = sum(1 for _ in result)
    return time.perf_counter() - started, count


async def store_reads(store: SqlEventStore, queries: list[Query]) -> list[float]:
    """Microseconds per `store.position` read, in-process."""
    latencies = []
    for q in queries:
        started = time.perf_counter_ns()
        await store.position((q.actor, q.proposal), q.as_of, q.known_at)
        latencies.append((time.perf_counter_ns() - started) / 1000)
    return latencies


def driver_reads(url: DatabaseUrl, queries: list[Query]) -> list[float]:
    """Microseconds per read of the same query through the bare synchronous driver."""
    latencies = []
    if url.backend == "sqlite":
        conn = sqlite3.connect(make_url(url.raw).database or "")
        sql = POSITION_SQL.format(m="?")
        try:
            for q in queries:
                started = time.perf_counter_ns()
                row = conn.execute(sql, _params(q)).fetchone()
                if row is not None:
                    json.loads(row[0])
                latencies.append((time.perf_counter_ns() - started) / 1000)
        finally:
            conn.close()
        return latencies
    with psycopg.connect(Databases._libpq(url.raw)) as pg:
        sql = POSITION_SQL.format(m="%s")
        for q in queries:
            started = time.perf_counter_ns()
            pg.execute(sql, _params(q)).fetchone()  # type: ignore[arg-type,unused-ignore]
            latencies.append((time.perf_counter_ns() - started) / 1000)
    return latencies


def _params(q: Query) -> tuple[Any, ...]:
    return (q.actor, q.proposal, q.known_at, q.known_at, q.as_of, q.as_of)


async def whole_log(store: SqlEventStore) -> list[LoggedEvent]:
    """Every event of the log in memory, as the fold reads them."""
    events: list[LoggedEvent] = []
    while True:
        page = await store.read(EventQuery(after=len(events), limit=20_000))
        if not page:
            return events
        events.extend(logged(e) for e in page)


async def fold_reads(
    store: SqlEventStore, log: list[LoggedEvent], queries: list[Query], budget: float
) -> tuple[list[float], int]:
    """Microseconds per naive fold (the whole log known at known_at, then the pair's fold),
    within a time budget; and how many answers disagreed with the table's."""
    stamps = [to_micros(e.recorded_at) for e in log]
    latencies: list[float] = []
    mismatches = 0
    spent = 0.0
    for q in queries:
        if latencies and (spent > budget or len(latencies) >= len(queries)):
            break
        pair = (q.actor, q.proposal)
        started = time.perf_counter_ns()
        known = log[: bisect.bisect_right(stamps, q.known_at)]
        answer = fold(effective_events(known), pair, from_micros(q.as_of)).to_json()
        elapsed = (time.perf_counter_ns() - started) / 1000
        latencies.append(elapsed)
        spent += elapsed / 1e6
        stored = await store.position(pair, q.as_of, q.known_at)
        if (stored or unstated(pair)) != answer:
            mismatches += 1
    return latencies, mismatches


async def http_reads(url: DatabaseUrl, queries: list[Query]) -> dict[str, Any]:
    """Microseconds per GET of one position through the app, in-process (no socket)."""
    try:
        from litestar.testing import AsyncTestClient

        from api.app import create_app
        from api.settings import Settings
    except ImportError as error:  # pragma: no cover - the API is being written beside this
        return {"skipped": f"the app cannot be imported: {error}"}
    logging.getLogger("httpx").setLevel(logging.WARNING)
    latencies: list[float] = []
    app = create_app(Settings(database_url=url))
    async with AsyncTestClient(app=app) as client:
        for q in queries:
            path = f"/v1/proposals/{q.proposal}/positions/{q.actor}"
            params = {
                "as_of": format_instant(from_micros(q.as_of)),
                "known_at": format_instant(from_micros(q.known_at)),
            }
            started = time.perf_counter_ns()
            response = await client.get(path, params=params)
            latencies.append((time.perf_counter_ns() - started) / 1000)
            if response.status_code != 200:
                return {"skipped": f"GET {path} answered {response.status_code}: {response.text}"}
    return {"p50_us": percentile(latencies, 0.5), "p99_us": percentile(latencies, 0.99)}


async def bench_size(
    size: int, databases: Databases, args: argparse.Namespace, progress: Progress
) -> dict[str, Any]:
    """Every measurement at one log size."""
    url = databases.fresh(size)
    store = open_store(url)
    result: dict[str, Any] = {"events": size}
    try:
        loading = progress.add_task(f"{size:,}: load log", total=size, rate="")
        started = time.perf_counter()
        await load(
            store.engine,
            synthetic_log(size, args.seed),
            progress=lambda n: progress.advance(loading, n),
        )
        result["load_seconds"] = time.perf_counter() - started
        if url.backend == "postgresql":
            async with store.engine.begin() as conn:
                await conn.execute(text("ANALYZE"))

        runs = args.runs if size <= args.cheap_limit else 1
        reads = []
        task = progress.add_task(f"{size:,}: raw SELECT * FROM events", total=args.runs, rate="")
        for _ in range(args.runs):
            seconds, count = await raw_read(store)
            assert count == size
            reads.append(count / seconds)
            progress.update(task, advance=1, rate=f"{statistics.median(reads):,.0f} events/s")
        result["raw_read_events_per_second"] = spread(reads)

        rebuilds = []
        for run in range(runs):
            task = progress.add_task(f"{size:,}: rebuild {run + 1}/{runs}", total=size, rate="")

            began = time.perf_counter()

            def advance(done: int, total: int, task: Any = task, began: float = began) -> None:
                rate = done / max(time.perf_counter() - began, 1e-9)
                progress.update(task, completed=done, total=total, rate=f"{rate:,.0f} events/s")

            rebuilds.append(await rebuild(store, None, advance))  # every read model
        last = rebuilds[-1]
        assert last.position == await store.head() == await store.checkpoint() == size
        result["rows"] = last.rows
        result["rebuild_events_per_second"] = spread([r.events_per_second for r in rebuilds])
        result["rebuild_seconds"] = spread([r.seconds for r in rebuilds])
        result["rebuild_replay_seconds"] = spread([r.replay_seconds for r in rebuilds])
        result["rebuild_write_seconds"] = spread([r.write_seconds for r in rebuilds])
        result["rebuild_runs"] = runs
        result["rebuild_models"] = list(last.models)
        result["rebuild_swap_seconds"] = spread([r.swap_seconds for r in rebuilds])
        result["rebuild_vs_raw_read"] = (
            result["rebuild_events_per_second"]["median"]
            / result["raw_read_events_per_second"]["median"]
        )
        if url.backend == "sqlite":
            floors = []
            task = progress.add_task(f"{size:,}: rows by the bare driver", total=runs, rate="")
            database = Path(make_url(url.raw).database or "")
            for _ in range(runs):
                seconds = write_floor(database, database.with_suffix(".floor.db"))
                floors.append(size / seconds)
                progress.update(task, advance=1, rate=f"{statistics.median(floors):,.0f} events/s")
            result["write_floor_events_per_second"] = spread(floors)

        first = to_micros((await store.read(EventQuery(limit=1)))[0].recorded_at)
        [newest] = await store.read(EventQuery(after=size - 1, limit=1))
        last_stamp = to_micros(newest.recorded_at)
        rng = random.Random(args.seed + size)
        queries = random_queries(rng, args.reads, first, last_stamp + 86_400_000_000)
        await store_reads(store, queries[:100])  # warm the pool and the page cache

        p50s, p99s, driver50, driver99 = [], [], [], []
        task = progress.add_task(f"{size:,}: position reads", total=args.runs, rate="")
        for _ in range(args.runs):
            latencies = await store_reads(store, queries)
            p50s.append(percentile(latencies, 0.5))
            p99s.append(percentile(latencies, 0.99))
            raw = driver_reads(url, queries)
            driver50.append(percentile(raw, 0.5))
            driver99.append(percentile(raw, 0.99))
            progress.update(task, advance=1, rate=f"p50 {statistics.median(p50s):,.0f} µs")
        result["read_p50_us"] = spread(p50s)
        result["read_p99_us"] = spread(p99s)
        result["driver_p50_us"] = spread(driver50)
        result["driver_p99_us"] = spread(driver99)
        result["reads"] = len(queries)

        task = progress.add_task(f"{size:,}: naive fold (load log)", total=None, rate="")
        log = await whole_log(store)
        progress.update(task, description=f"{size:,}: naive fold", total=args.folds, completed=0)
        folds, mismatches = await fold_reads(store, log, queries[: args.folds], args.fold_budget)
        progress.update(task, completed=len(folds), total=len(folds), rate=f"{len(folds)} folds")
        del log
        result["fold_p50_us"] = percentile(folds, 0.5)
        result["fold_p99_us"] = percentile(folds, 0.99)
        result["folds"] = len(folds)
        result["fold_mismatches"] = mismatches
        result["fold_speedup_p50"] = result["fold_p50_us"] / result["read_p50_us"]["median"]

        task = progress.add_task(f"{size:,}: HTTP reads", total=None, rate="")
        result["http"] = await http_reads(url, queries[: args.http_reads])
        progress.update(task, total=1, completed=1)
    finally:
        await store.close()
        if not args.keep:
            databases.drop(url)
    return result


def verdicts(results: list[dict[str, Any]], backend: str) -> list[dict[str, Any]]:
    """Each target, met or not, at the largest size measured."""
    largest, smallest = results[-1], results[0]
    size = f"{largest['events']:,}"
    p50 = largest["read_p50_us"]["median"]
    p99 = largest["read_p99_us"]["median"]
    rebuild = min(r["rebuild_events_per_second"]["median"] for r in results)
    growth = p50 / smallest["read_p50_us"]["median"]
    checks = [
        (f"in-process p50 ≤ 100 µs ({backend}, {size})", f"{p50:,.0f} µs", p50 <= 100.0),
        (f"in-process p99 ≤ 1 ms ({backend}, {size})", f"{p99:,.0f} µs", p99 <= 1000.0),
        (
            f"p50 at {size} within 1.5x of p50 at {smallest['events']:,}",
            f"{growth:.2f}x",
            growth <= TARGETS["p50_growth"],
        ),
        (
            f"≥ 100x faster than the naive fold ({size})",
            f"{largest['fold_speedup_p50']:,.0f}x",
            largest["fold_speedup_p50"] >= TARGETS["fold_speedup"],
        ),
        (
            "rebuild ≥ 50,000 events/s (slowest size)",
            f"{rebuild:,.0f} events/s",
            rebuild >= TARGETS["rebuild_events_per_second"],
        ),
    ]
    return [{"target": t, "measured": m, "met": ok} for t, m, ok in checks]


def _range(measure: dict[str, float], unit: str = "") -> str:
    if measure["min"] == measure["max"]:
        return f"{measure['median']:,.0f}{unit}"
    return f"{measure['median']:,.0f}{unit} ({measure['min']:,.0f}-{measure['max']:,.0f})"


def markdown(report: dict[str, Any]) -> str:
    """The results as a page."""
    m = report["machine"]
    lines = [
        "# Benchmark results",
        "",
        "## Positions (`bench/positions.py`)",
        "",
        f"Command: `{report['command']}`  ",
        f"Run at: {report['run_at']}  ",
        f"Machine: {m['nproc']} CPUs ({m['cpu']}), {m['memory']} memory, {m['platform']}; "
        f"Python {m['python']}, SQLite {m['sqlite']}"
        + (f", PostgreSQL {m['postgresql']}" if m["postgresql"] else "")
        + f"; backend **{m['backend']}**.",
        "",
        "Medians of the runs, (min-max) where repeated. Latencies in µs; reads are random "
        "(pair, as_of, known_at) over 200 actors x 50 proposals.",
        "",
        "| events | rows | load s | raw `SELECT *` events/s | rebuild (all models) events/s "
        "| rebuild replay / write s | `store.position` p50 / p99 | bare driver p50 / p99 "
        "| naive fold p50 (n) | speed-up | HTTP p50 / p99 |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in report["results"]:
        http = r["http"]
        http_cell = (
            f"{http['p50_us']:,.0f} / {http['p99_us']:,.0f}" if "p50_us" in http else "skipped"
        )
        lines.append(
            f"| {r['events']:,} | {r['rows']:,} | {r['load_seconds']:,.1f} "
            f"| {_range(r['raw_read_events_per_second'])} "
            f"| {_range(r['rebuild_events_per_second'])} "
            f"| {r['rebuild_replay_seconds']['median']:,.1f} / "
            f"{r['rebuild_write_seconds']['median']:,.1f} "
            f"| {_range(r['read_p50_us'])} / {_range(r['read_p99_us'])} "
            f"| {r['driver_p50_us']['median']:,.0f} / {r['driver_p99_us']['median']:,.0f} "
            f"| {r['fold_p50_us']:,.0f} ({r['folds']}) | {r['fold_speedup_p50']:,.0f}x "
            f"| {http_cell} |"
        )
    lines += ["", "| target | measured | met |", "|---|---:|:---:|"]
    lines += [
        f"| {v['target']} | {v['measured']} | {'yes' if v['met'] else '**no**'} |"
        for v in report["targets"]
    ]
    mismatches = sum(r["fold_mismatches"] for r in report["results"])
    lines += [
        "",
        f"Every timed fold answer was also compared with the table's: {mismatches} disagreed.",
    ]
    skipped = [
        f"{r['events']:,}: {r['http']['skipped']}"
        for r in report["results"]
        if "skipped" in r["http"]
    ]
    if skipped:
        lines += ["", "HTTP skipped — " + "; ".join(skipped)]
    if report.get("notes"):
        lines += ["", *report["notes"]]
    return "\n".join(lines) + "\n"


def summary_table(report: dict[str, Any]) -> Table:
    table = Table(title="positions benchmark")
    columns = ("events", "rebuild ev/s", "p50 µs", "p99 µs", "driver p50", "fold p50", "x", "HTTP")
    for column in columns:
        table.add_column(column, justify="right")
    for r in report["results"]:
        http = r["http"]
        table.add_row(
            f"{r['events']:,}",
            f"{r['rebuild_events_per_second']['median']:,.0f}",
            f"{r['read_p50_us']['median']:,.0f}",
            f"{r['read_p99_us']['median']:,.0f}",
            f"{r['driver_p50_us']['median']:,.0f}",
            f"{r['fold_p50_us']:,.0f}",
            f"{r['fold_speedup_p50']:,.0f}",
            f"{http['p50_us']:,.0f}" if "p50_us" in http else "skipped",
        )
    return table


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.positions", description="Positions benchmark."
    )
    parser.add_argument("--sizes", default="10000,100000", help="log sizes, comma-separated")
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--quick", action="store_true", help="one small size, one run, few reads")
    parser.add_argument("--runs", type=int, default=3, help="repeats of each cheap measurement")
    parser.add_argument("--reads", type=int, default=2000, help="in-process reads per run")
    parser.add_argument("--folds", type=int, default=300, help="naive folds at most")
    parser.add_argument("--fold-budget", type=float, default=60.0, help="seconds of folds at most")
    parser.add_argument("--http-reads", type=int, default=1000)
    parser.add_argument("--cheap-limit", type=int, default=100_000, help="repeat rebuilds up to")
    parser.add_argument("--seed", type=int, default=20250311)
    parser.add_argument("--dir", type=Path, default=ROOT.parent / "var" / "bench")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("TIMELINE_BENCH_POSTGRES_URL")
        or os.environ.get("TIMELINE_TEST_POSTGRES_URL")
        or "postgresql:///postgres?host=/var/run/postgresql",
        help="a server where databases may be created (default: the local socket)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the databases afterwards")
    parser.add_argument("--json", type=Path, help="where the results go (JSON)")
    parser.add_argument("--markdown", type=Path, help="also write the tables here (Markdown)")
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.runs, args.reads, args.folds, args.http_reads = "10000", 1, 500, 50, 200
    args.sizes = sorted(int(s.replace("_", "")) for s in args.sizes.split(","))
    suffix = "-quick" if args.quick else ""
    args.json = args.json or ROOT / "results" / f"positions{suffix}.json"
    return args


async def run(args: argparse.Namespace, command: str) -> dict[str, Any]:
    databases = Databases(args.backend, args.dir, args.postgres_url)
    results = []
    with progress_bar() as progress:
        for size in args.sizes:
            results.append(await bench_size(size, databases, args, progress))
    if args.backend == "sqlite" and args.dir.exists() and not any(args.dir.iterdir()):
        shutil.rmtree(args.dir, ignore_errors=True)
    return {
        "command": command,
        "run_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": machine(args.backend, databases.version()),
        "results": results,
        "targets": verdicts(results, args.backend),
    }


def main(argv: list[str] | None = None) -> None:
    args = arguments(argv)
    for noisy in ("alembic", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    command = "uv run python -m bench.positions " + " ".join(sys.argv[1:] if argv is None else argv)
    report = asyncio.run(run(args, command.strip()))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    if args.markdown is not None:  # bench/RESULTS.md itself is written by `python -m bench`
        args.markdown.write_text(markdown(report))
    console.print(summary_table(report))
    print_verdicts(console, report["targets"])
    console.print(f"results in {args.json}" + (f" and {args.markdown}" if args.markdown else ""))


if __name__ == "__main__":
    main()
