"""Every read endpoint over HTTP at 10k, 100k and 1M events: is each bounded by its page?

    uv run python -m bench.reads [--sizes 10000,100000,1000000] [--backend sqlite|postgresql]
                                 [--requests 40] [--browser] [--appends]

For each size it loads the synthetic log (`bench/synthetic.py`: 200 actors, 50 proposals, 30
sources; late events, corrections, retractions, disputes) into a migrated database, builds every
read model with `store.rebuild.rebuild` (SQLite files are kept under var/bench/ and reused while
the read models' versions are the same: a million events take a while to build), starts a real
server (`timeline serve`, one process) and asks every read endpoint `--requests` times, "now"
(no known_at: nothing is answered from the settled cache), interleaving the endpoints so noise
falls on all alike. It reports p50 and p99 per endpoint and size, the ratio of each p50 to the
smallest size's (the target: within 1.5x at 1M, and at most 50 ms), and the server's RSS after
the sweep (target: at most 250 MB at 1M).

Exports stream: their time to the first byte is what a page read costs, the rest is the size of
the export (a proposal at 1M has 20,000 events); both are reported.

`--browser` times the newsroom page in chromium until its lanes and first events are drawn
(target: 1 s at 1M). `--appends` measures 100-event appends in-process with and without the
effective-events and registry projections (target: at most 25% slower with them).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from bench.positions import console, machine, progress_bar
from bench.server import PYCACHE, Server
from bench.synthetic import load, synthetic_log
from domain.valid_time import parse_instant, to_micros
from store.database import DatabaseUrl
from store.factory import open_store
from store.read_models.catalog import MODELS
from store.rebuild import rebuild
from tests.support.live import HOST, TIMELINE, make_key, migrate, server_env

ROOT = Path(__file__).resolve().parent.parent
FOLDER = ROOT / "var" / "bench"
RESULTS = Path(__file__).resolve().parent / "results" / "reads.json"
PROPOSAL = "proposal-07"
ACTOR = "actor-042"
SOURCE = "source-03"
PAGE_TARGET_RATIO = 1.5
PAGE_TARGET_MS = 50.0
RSS_TARGET_MB = 250.0
PAGE_READY_TARGET_MS = 1000.0
APPEND_SLOWDOWN_TARGET = 1.25


def endpoints(head: int, mid_cursor: str, event_id: str) -> dict[str, str]:
    """Every read, as a client asks for it "now"."""
    return {
        "timeline": "/v1/timeline?limit=50",
        "timeline, page 2": f"/v1/timeline?limit=50&after={mid_cursor}",
        "timeline by proposal": f"/v1/timeline?limit=50&proposal={PROPOSAL}",
        "timeline by actor": f"/v1/timeline?limit=50&actor={ACTOR}",
        "timeline, a month": "/v1/timeline?limit=50&from=2024-09-01&to=2024-09-30",
        "timeline, retracted shown": "/v1/timeline?limit=50&retracted=show",
        "source with citing events": f"/v1/sources/{SOURCE}?limit=50",
        "sources": "/v1/sources",
        "actors": "/v1/actors",
        "actor": f"/v1/actors/{ACTOR}",
        "proposals": "/v1/proposals",
        "proposal with positions": f"/v1/proposals/{PROPOSAL}",
        "position": f"/v1/proposals/{PROPOSAL}/positions/{ACTOR}",
        "position history": f"/v1/proposals/{PROPOSAL}/positions/{ACTOR}/history",
        "log page": f"/v1/events?limit=50&after={max(head - 500, 0)}",
        "event with its edits": f"/v1/events/{event_id}",
        "atom feed": "/v1/feed.atom",
        "atom feed by proposal": f"/v1/feed.atom?proposal={PROPOSAL}",
        "log verify": "/v1/log/verify",
        "export csv (first byte)": f"/v1/exports/events.csv?proposal={PROPOSAL}",
        "export plover (first byte)": f"/v1/exports/plover.jsonl?proposal={PROPOSAL}",
        "export timelinejs (first byte)": f"/v1/exports/timelinejs?proposal={PROPOSAL}",
    }


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.reads", description=__doc__)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--backend", default="sqlite", choices=("sqlite", "postgresql"))
    parser.add_argument("--postgres-url", default="postgresql:///postgres?host=/var/run/postgresql")
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--browser", action="store_true", help="time the newsroom page too")
    parser.add_argument("--appends", action="store_true", help="appends with and without")
    parser.add_argument("--json", type=Path, default=RESULTS)
    parser.add_argument("--markdown", type=Path, help="where the tables go (bench/READS.md)")
    args = parser.parse_args(argv)
    args.sizes = [int(s) for s in args.sizes.split(",")]
    return args


def _versions() -> str:
    return "-".join(f"{m.name}{m.version}" for m in MODELS)


async def built_database(size: int, args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    """A database holding the synthetic log of `size` events with every read model built;
    on SQLite one built earlier by this code is reused."""
    info: dict[str, Any] = {}
    if args.backend == "sqlite":
        FOLDER.mkdir(parents=True, exist_ok=True)
        path = FOLDER / f"reads-{size}-{_versions()}.db"
        url = f"sqlite:///{path}"
        if path.exists():
            return url, {"reused": True}
        partial = path.with_suffix(".partial")
        for leftover in FOLDER.glob(partial.name + "*"):
            leftover.unlink()
        building = f"sqlite:///{partial}"
    else:
        import psycopg

        name = f"timeline_reads_{size}_{int(time.time())}"
        with psycopg.connect(args.postgres_url) as c:
            c.autocommit = True
            c.execute(f"CREATE DATABASE {name}")
        url = building = args.postgres_url.replace("/postgres?", f"/{name}?")
    migrate(building)
    store = open_store(DatabaseUrl(building))
    try:
        with progress_bar() as progress:
            task = progress.add_task(f"loading {size:,}", total=size, rate="")
            started = time.perf_counter()
            await load(
                store.engine, synthetic_log(size), progress=lambda n: progress.advance(task, n)
            )
            info["load_seconds"] = time.perf_counter() - started
            task = progress.add_task(f"building read models {size:,}", total=size, rate="")

            def advance(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            report = await rebuild(store, progress=advance)
        info.update(
            rebuild_seconds=report.seconds,
            rebuild_events_per_second=report.events_per_second,
            rebuild_swap_seconds=report.swap_seconds,
            rows=report.rows,
        )
    finally:
        await store.close()
    if args.backend == "sqlite":
        _keep(partial, path)
    return url, info


def _keep(partial: Path, path: Path) -> None:
    """A database built whole, under the name that is reused (the last connection closed, so
    its write-ahead log is in it)."""
    partial.rename(path)
    for suffix in ("-wal", "-shm"):
        Path(str(partial) + suffix).unlink(missing_ok=True)


@contextmanager
def serving(database: str, folder: Path) -> Iterator[Server]:
    """`timeline serve` on the database, one process, as a user runs it."""
    key = make_key(database, "events:write", name="bench-reads")
    environment = {
        **server_env(database),
        "PYTHONDONTWRITEBYTECODE": "",
        "PYTHONPYCACHEPREFIX": str(PYCACHE),
    }
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / "server.log"
    server = Server(database, key, log, environment, [TIMELINE, "serve"], cwd=ROOT)
    try:
        server.start()
        yield server
    finally:
        server.stop()


def _sweep(base: str, reads: dict[str, str], rounds: int) -> dict[str, list[float]]:
    """Milliseconds per request of every read, round-robin; exports to their first byte and
    to their last."""
    timings: dict[str, list[float]] = {name: [] for name in reads}
    whole: dict[str, list[float]] = {}
    with httpx.Client(base_url=base, timeout=600) as client:
        for _ in range(rounds):
            for name, path in reads.items():
                started = time.perf_counter()
                with client.stream("GET", path) as response:
                    first = None
                    for _chunk in response.iter_raw():
                        if first is None:
                            first = time.perf_counter()
                    ended = time.perf_counter()
                if response.status_code != 200:
                    raise RuntimeError(f"{path} answered {response.status_code}")
                timings[name].append(((first or ended) - started) * 1000)
                if "export" in name:
                    whole.setdefault(name.replace("first byte", "whole"), []).append(
                        (ended - started) * 1000
                    )
    return {**timings, **whole}


def _summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": statistics.median(ordered),
        "p99_ms": ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))],
        "n": len(ordered),
    }


def _probe(base: str) -> tuple[int, str, str]:
    """The head, a cursor mid-way through the timeline, and one event's id."""
    with httpx.Client(base_url=base, timeout=60) as client:
        head = client.get("/v1/health").json()["head"]
        page = client.get("/v1/timeline", params={"limit": 1, "from": "2024-08-01"}).json()
        item = page["items"][0]
        earliest = item["valid_time"]["earliest"]
        cursor = f"{to_micros(parse_instant(earliest))}.{item['position']}"
        return head, cursor, item["id"]


def page_ready(base: str, runs: int = 5) -> list[float]:
    """Milliseconds from navigation to the lanes and first events drawn, fresh contexts."""
    from playwright.sync_api import sync_playwright

    found = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=shutil.which("chromium") or "/usr/bin/chromium",
            args=["--no-sandbox"],
        )
        try:
            for _ in range(runs):
                context = browser.new_context()
                page = context.new_page()
                started = time.perf_counter()
                page.goto(f"{base}/?proposal={PROPOSAL}")
                page.wait_for_selector(".lane .segment", timeout=120_000)
                page.wait_for_selector(".event", timeout=120_000)
                found.append((time.perf_counter() - started) * 1000)
                context.close()
        finally:
            browser.close()
    return found


async def bench_size(size: int, args: argparse.Namespace) -> dict[str, Any]:
    database, info = await built_database(size, args)
    result: dict[str, Any] = {"events": size, **info}
    with serving(database, FOLDER / f"server-{size}") as server:
        base = f"http://{HOST}:{server.port}"
        head, cursor, event_id = _probe(base)
        reads = endpoints(head, cursor, event_id)
        _sweep(base, reads, 1)  # warm: the pool, the page cache, the OpenAPI-free paths
        rss_before = server.rss_mib()
        timings = _sweep(base, reads, args.requests)
        result["reads"] = {name: _summary(samples) for name, samples in timings.items()}
        result["rss_mib_after_sweep"] = server.rss_mib()
        result["rss_mib_before_sweep"] = rss_before
        if args.browser:
            ready = await asyncio.to_thread(page_ready, base)
            result["page_ready_ms"] = {"median": statistics.median(ready), "all": ready}
    if args.backend == "postgresql":
        _drop(args.postgres_url, database)
    return result


def _drop(admin_url: str, database: str) -> None:
    """The benchmark's PostgreSQL database, dropped (its server stopped already)."""
    import psycopg
    from sqlalchemy.engine import make_url

    name = make_url(database).database
    with psycopg.connect(admin_url) as conn:
        conn.autocommit = True
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def appends(args: argparse.Namespace, rounds: int = 7, batches: int = 20) -> dict[str, Any]:
    """Events/s of 100-event appends in-process (SQLite), with every read model and with the
    positions model alone, alternating round by round on fresh databases."""
    from unittest.mock import patch

    from tests.builders import draft, raw_position, raw_source

    async def no_change(*_: Any) -> None:
        return None

    rates: dict[str, list[float]] = {"every model": [], "positions alone": []}
    for round_ in range(rounds):
        for label in rates:
            path = FOLDER / f"appends-{round_}-{label.replace(' ', '-')}.db"
            url = f"sqlite:///{path}"
            migrate(url)
            alone = patch("store.sql.project_effective", no_change)
            store = open_store(DatabaseUrl(url))
            try:
                if label == "positions alone":
                    alone.start()
                await store.append("sources", [draft(raw_source())])
                started = time.perf_counter()
                for b in range(batches):
                    actors = [f"actor-{(b * 100 + i) % 50}" for i in range(100)]
                    await store.append(f"s-{b}", [draft(raw_position(a)) for a in actors])
                rates[label].append(batches * 100 / (time.perf_counter() - started))
            finally:
                if label == "positions alone":
                    alone.stop()
                await store.close()
                for leftover in FOLDER.glob(path.name + "*"):
                    leftover.unlink()
    medians = {label: statistics.median(r) for label, r in rates.items()}
    return {
        "events_per_second": medians,
        "all": rates,
        "slowdown": medians["positions alone"] / medians["every model"],
    }


def report(results: dict[str, Any]) -> None:
    sizes = results["sizes"]
    smallest = sizes[0]
    console.print(f"\n[bold]reads over HTTP, {results['backend']}, p50 / p99 ms[/bold]")
    names = list(smallest["reads"])
    header = "read".ljust(34) + "".join(f"{s['events']:>22,}" for s in sizes) + "   ratio"
    console.print(header)
    for name in names:
        base = smallest["reads"][name]["p50_ms"]
        cells = "".join(
            f"{s['reads'][name]['p50_ms']:>12.1f} / {s['reads'][name]['p99_ms']:>7.1f}"
            for s in sizes
        )
        ratio = sizes[-1]["reads"][name]["p50_ms"] / base if base else float("nan")
        console.print(name.ljust(34) + cells + f"   {ratio:5.2f}")
    for s in sizes:
        line = f"{s['events']:,} events: RSS {s['rss_mib_after_sweep']:.0f} MiB after the sweep"
        if "page_ready_ms" in s:
            line += f"; page ready {s['page_ready_ms']['median']:.0f} ms"
        console.print(line)


def markdown(results: dict[str, Any]) -> str:
    """The tables of bench/READS.md, each target with its verdict."""
    sizes = results["sizes"]
    first, last = sizes[0], sizes[-1]
    lines = [
        "# Reads at scale",
        "",
        f"`{results['command']}` on {results['machine'].get('cpu', '?')}, "
        f"{results['machine'].get('memory', '?')}; {results['backend']}, one server process, "
        'every request "now" (nothing from the settled cache), p50 / p99 in ms over HTTP.',
        "",
        "| read | "
        + " | ".join(f"{s['events']:,} events" for s in sizes)
        + f" | p50 {last['events']:,} ÷ {first['events']:,} | target |",
        "|---|" + "---:|" * len(sizes) + "---:|---|",
    ]
    for name in first["reads"]:
        cells = [
            f"{s['reads'][name]['p50_ms']:.1f} / {s['reads'][name]['p99_ms']:.1f}" for s in sizes
        ]
        ratio = last["reads"][name]["p50_ms"] / first["reads"][name]["p50_ms"]
        if "whole" in name:
            verdict = "streams the whole export: grows with it"
        else:
            met = ratio <= PAGE_TARGET_RATIO and last["reads"][name]["p50_ms"] <= PAGE_TARGET_MS
            verdict = "met" if met else "**missed**"
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {ratio:.2f} | {verdict} |")
    lines += ["", "| figure | " + " | ".join(f"{s['events']:,}" for s in sizes) + " | target |"]
    lines.append("|---|" + "---:|" * len(sizes) + "---|")
    rss = [s["rss_mib_after_sweep"] for s in sizes]
    verdict = "met" if rss[-1] <= RSS_TARGET_MB else "**missed**"
    lines.append(
        "| server RSS after the sweep, MiB | "
        + " | ".join(f"{r:.0f}" for r in rss)
        + f" | ≤ {RSS_TARGET_MB:.0f} at the largest: {verdict} |"
    )
    if all("page_ready_ms" in s for s in sizes):
        ready = [s["page_ready_ms"]["median"] for s in sizes]
        verdict = "met" if ready[-1] <= PAGE_READY_TARGET_MS else "**missed**"
        lines.append(
            "| newsroom page ready (chromium, median of 5), ms | "
            + " | ".join(f"{r:.0f}" for r in ready)
            + f" | ≤ {PAGE_READY_TARGET_MS:.0f} at the largest: {verdict} |"
        )
    built = [s for s in sizes if "rebuild_events_per_second" in s]
    if len(built) == len(sizes):
        lines.append(
            "| rebuild of every read model, events/s | "
            + " | ".join(f"{s['rebuild_events_per_second']:,.0f}" for s in sizes)
            + " | (issue 17) |"
        )
        lines.append(
            "| rebuild: appends held by the final swap, s | "
            + " | ".join(f"{s['rebuild_swap_seconds']:.2f}" for s in sizes)
            + " | short |"
        )
    if "appends" in results:
        found = results["appends"]
        rates = found["events_per_second"]
        verdict = "met" if found["slowdown"] <= APPEND_SLOWDOWN_TARGET else "**missed**"
        lines += [
            "",
            "Appends of 100 events in-process (SQLite, fresh databases, rounds alternating): "
            f"{rates['every model']:,.0f} events/s with every read model, "
            f"{rates['positions alone']:,.0f} with the positions model alone: "
            f"{(found['slowdown'] - 1) * 100:.0f}% slower (target ≤ 25%: {verdict}).",
        ]
    return "\n".join(lines) + "\n"


async def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    results: dict[str, Any] = {
        "command": "python -m bench.reads " + " ".join(sys.argv[1:] if argv is None else argv),
        "backend": args.backend,
        "machine": machine(args.backend, None),
        "sizes": [],
    }
    for size in args.sizes:
        results["sizes"].append(await bench_size(size, args))
    if args.appends:
        results["appends"] = await appends(args)
    report(results)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2) + "\n")
    console.print(f"results: {args.json}")
    if args.markdown is not None:
        args.markdown.write_text(markdown(results))
        console.print(f"tables: {args.markdown}")
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
