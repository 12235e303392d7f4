"""Every benchmark in one run: `make bench` (full) and `make bench-quick` (under 3 minutes).

    uv run --group bench python -m bench [--quick] [--backends sqlite,postgresql]
                                         [--only append,positions,feed,http] [--runs 3]

For each backend, in one run so the figures compare as ratios: appends (HTTP, the store, the raw
driver as the ceiling, the `eventsourcing` library as the peer), position reads at each log size
beside the naive fold, the rebuild beside a raw read of the log, the change feed's latency and
idle memory, and a cacheable position GET beside a one-line handler on the same server. Results
go to bench/results/latest.json (quick: quick.json), the tables and charts to bench/RESULTS.md
(full runs only; hand-written notes in it are kept).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
import tempfile
import time
from pathlib import Path
from types import FrameType
from typing import Any

import psycopg
from rich.progress import Progress

from bench import append, feed, http, positions
from bench.positions import Databases, console, machine, progress_bar
from bench.report import charts, print_verdicts, targets_of, write_results

ROOT = Path(__file__).resolve().parent
SECTIONS = ("append", "positions", "feed", "http")
DEFAULT_POSTGRES = "postgresql:///postgres?host=/var/run/postgresql"


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, short runs (< 3 min)")
    parser.add_argument("--backends", default="sqlite,postgresql", help="comma-separated")
    parser.add_argument("--only", default=",".join(SECTIONS), help="sections, comma-separated")
    parser.add_argument("--runs", type=int, default=3, help="repeats of each measurement (≥ 3)")
    parser.add_argument("--sizes", help="position-read log sizes (default 10k,100k,1M; quick 2k)")
    parser.add_argument(
        "--postgres-sizes",
        help="the same on PostgreSQL (default 10k,100k: a million there takes most of an hour)",
    )
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("TIMELINE_BENCH_POSTGRES_URL")
        or os.environ.get("TIMELINE_TEST_POSTGRES_URL")
        or DEFAULT_POSTGRES,
        help="where fresh PostgreSQL databases are made",
    )
    parser.add_argument("--json", type=Path, help="where the results go")
    parser.add_argument("--markdown", type=Path, help="where the tables go (default: full runs)")
    args = parser.parse_args(argv)
    args.backends = [b for b in args.backends.split(",") if b]
    args.only = [s for s in args.only.split(",") if s]
    unknown = sorted({*args.backends} - {"sqlite", "postgresql"}) + sorted(
        {*args.only} - {*SECTIONS}
    )
    if unknown:
        parser.error(f"unknown backend or section: {', '.join(unknown)}")
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    args.sizes = args.sizes or ("2000" if args.quick else "10000,100000,1000000")
    args.postgres_sizes = args.postgres_sizes or ("2000" if args.quick else "10000,100000")
    args.json = args.json or ROOT / "results" / ("quick.json" if args.quick else "latest.json")
    if args.markdown is None and not args.quick:
        args.markdown = ROOT / "RESULTS.md"
    return args


def postgres_version(url: str) -> str | None:
    """The server's version, or None when it cannot be reached (then its runs are skipped)."""
    try:
        return Databases("postgresql", ROOT, url).version()
    except psycopg.Error as error:
        console.print(f"[yellow]PostgreSQL at {url} cannot be reached[/yellow]: {error}")
        return None


def positions_arguments(args: argparse.Namespace, backend: str, folder: Path) -> argparse.Namespace:
    quick = ["--reads", "300", "--folds", "20", "--fold-budget", "5", "--http-reads", "100"]
    return positions.arguments(
        [
            f"--sizes={args.sizes if backend == 'sqlite' else args.postgres_sizes}",
            f"--backend={backend}",
            f"--runs={args.runs}",
            f"--postgres-url={args.postgres_url}",
            f"--dir={folder}",
            *(quick if args.quick else []),
        ]
    )


def feed_arguments(args: argparse.Namespace) -> argparse.Namespace:
    if args.quick:
        quick = ["--clients=1,100", "--events=15", "--warmup=2", "--idle=100", "--hold=1"]
        return feed.arguments([*quick, "--settle=0.5"])
    return feed.arguments(["--clients=1,100,500"])


async def measure_backend(
    args: argparse.Namespace, backend: str, progress: Progress, folder: Path
) -> dict[str, Any]:
    """Every section but the feed on one backend."""
    measured: dict[str, Any] = {}
    if "append" in args.only:
        measured["append"] = await append.measure(
            backend,
            args.postgres_url,
            quick=args.quick,
            runs=args.runs,
            progress=progress,
            folder=folder,
        )
    if "http" in args.only:
        for workers in (1, 2) if backend == "postgresql" else (1,):
            measured[f"http_{workers}"] = await http.measure(
                backend,
                args.postgres_url,
                workers=workers,
                quick=args.quick,
                runs=args.runs,
                progress=progress,
                folder=folder,
                # What a read costs when no kept answer serves it, beside.
                uncached=workers == 1,
            )
    return measured


def run(args: argparse.Namespace, command: str) -> dict[str, Any]:
    started = time.perf_counter()
    version = postgres_version(args.postgres_url) if "postgresql" in args.backends else None
    backends = [b for b in args.backends if b == "sqlite" or version is not None]
    report: dict[str, Any] = {
        "command": command,
        "quick": args.quick,
        "run_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {
            **machine(",".join(backends), version),
            "load_average_1min": os.getloadavg()[0],
        },
        "revision": feed.revision(),
        "runs": args.runs,
        "backends": {},
    }
    with tempfile.TemporaryDirectory(prefix="timeline-bench-") as scratch:
        folder = Path(scratch)
        for backend in backends:
            console.rule(f"[bold]{backend}")
            measured: dict[str, Any] = {}
            with progress_bar() as progress:
                measured.update(asyncio.run(measure_backend(args, backend, progress, folder)))
            if "positions" in args.only:
                measured["positions"] = asyncio.run(
                    positions.run(positions_arguments(args, backend, folder / "positions"), command)
                )
            report["backends"][backend] = measured
        if "feed" in args.only and "sqlite" in backends:
            console.rule("[bold]feed (sqlite, one process)")
            feed_args = feed_arguments(args)
            feed.raise_fd_limit(max([*feed_args.clients, feed_args.idle]) * 2 + 256)
            # Quick: one run of the feed (a fresh server each run is most of its cost).
            report["feed"] = feed.repeated(feed_args, command, 1 if args.quick else args.runs)
    report["seconds"] = time.perf_counter() - started
    report["targets"] = targets_of(report)
    return report


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> None:
    args = arguments(argv)
    for noisy in ("alembic", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    signal.signal(signal.SIGTERM, _terminate)  # servers and databases are cleaned up on kill too
    command = "uv run --group bench python -m bench " + " ".join(
        sys.argv[1:] if argv is None else argv
    )
    try:
        report = run(args, command.strip())
    except KeyboardInterrupt:
        console.print("[red]interrupted[/red]: servers stopped, nothing written")
        raise SystemExit(130) from None
    # The charts go beside the Markdown that embeds them (bench/results/ for bench/RESULTS.md).
    pictures = charts(report, args.markdown.parent / "results") if args.markdown else []
    write_results(report, args.json, args.markdown, pictures)
    print_verdicts(console, report["targets"])
    console.print(f"{report['seconds']:.0f} s; results in {args.json}")


if __name__ == "__main__":
    main()
