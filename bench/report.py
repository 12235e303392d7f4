"""The benchmark run as a verdict per target, Markdown tables with ratio columns, and charts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

NOTES = "<!-- notes: everything below is written by hand and kept across runs -->"
TARGETS = {
    "fold_speedup": 100.0,
    "p50_growth": 1.5,
    "rebuild_events_per_second": 50_000.0,
    "feed_p99_ms": 100.0,
}
CONTENDERS = {
    "raw_single": "raw driver, 1 event per transaction (ceiling)",
    "replayed_single": "the store's statements on the raw driver, 1 event per transaction",
    "store_single": "store, 1 event per append",
    "http_single": "HTTP, 1 event per request",
    "eventsourcing_single": "`eventsourcing`, 1 event per call (peer)",
    "raw_batch100": "raw driver, 100 per transaction (ceiling)",
    "store_batch100": "store, 100 per append",
    "http_batch100": "HTTP, 100 per request",
    "replayed_batch100": "the store's statements on the raw driver, 100 per transaction",
    "eventsourcing_batch100": "`eventsourcing`, 100 per call (peer)",
    "store_concurrent8": "store, 8 concurrent writers, 1 event each",
    "replayed_concurrent8": "the store's statements for the 8 writers on the raw driver",
    "eventsourcing_threads8": "`eventsourcing`, 8 threads, 1 event each (peer)",
    "memory_single": "the store's own work, no database: in-memory store, 1 per append",
    "memory_batch100": "the store's own work, no database: in-memory store, 100 per append",
    "memory_concurrent8": "the store's own work, no database: in-memory store, 8 writers",
}
# Which ceiling and which peer each contender is compared with.
BASELINES = {
    "single": ("raw_single", "eventsourcing_single"),
    "batch100": ("raw_batch100", "eventsourcing_batch100"),
    "concurrent8": ("raw_single", "eventsourcing_threads8"),
    "threads8": ("raw_single", "eventsourcing_threads8"),
}


def _median(measure: dict[str, float] | float) -> float:
    return measure["median"] if isinstance(measure, dict) else float(measure)


def _spread(measure: dict[str, float] | float, digits: int = 0) -> str:
    if not isinstance(measure, dict):
        return f"{measure:,.{digits}f}"
    text = f"{measure['median']:,.{digits}f}"
    if measure["min"] != measure["max"]:
        text += f" ({measure['min']:,.{digits}f}-{measure['max']:,.{digits}f})"
    return text


def print_verdicts(console: Any, verdicts: list[dict[str, Any]]) -> None:
    """Each target on the console, met or missed."""
    for verdict in verdicts:
        mark = "[green]met[/green]   " if verdict["met"] else "[red]missed[/red]"
        console.print(f"{mark} {verdict['target']}: {verdict['measured']}")


def _verdict(target: str, measured: str, met: bool) -> dict[str, Any]:
    return {"target": target, "measured": measured, "met": met}


def positions_targets(backend: str, result: dict[str, Any]) -> list[dict[str, Any]]:
    """This issue's position and rebuild targets (the read-latency ones are the positions
    benchmark's own, reported in its section)."""
    sizes = result["results"]
    largest, smallest = sizes[-1], sizes[0]
    n = f"{largest['events']:,}"
    growth = largest["read_p50_us"]["median"] / smallest["read_p50_us"]["median"]
    verdicts = []
    if len(sizes) > 1:
        verdicts.append(
            _verdict(
                f"position read p50 at {n} within 1.5x of p50 at {smallest['events']:,}"
                f" ({backend})",
                f"{growth:.2f}x",
                growth <= TARGETS["p50_growth"],
            )
        )
    verdicts.append(
        _verdict(
            f"position read ≥ 100x faster than the naive fold at {n} ({backend})",
            f"{largest['fold_speedup_p50']:,.0f}x",
            largest["fold_speedup_p50"] >= TARGETS["fold_speedup"],
        )
    )
    if backend == "sqlite":
        at = min(sizes, key=lambda s: s["rebuild_events_per_second"]["median"])
        slowest = at["rebuild_events_per_second"]["median"]
        floor = at.get("write_floor_events_per_second")
        # The ceiling beside it: its rows alone, written by the bare driver (bench/write_floor.py).
        ceiling = "" if floor is None else f"; its rows by the bare driver: {_median(floor):,.0f}"
        verdicts.append(
            _verdict(
                "rebuild ≥ 50,000 events/s on SQLite (slowest size)",
                f"{slowest:,.0f} events/s{ceiling}",
                slowest >= TARGETS["rebuild_events_per_second"],
            )
        )
    return verdicts


def feed_targets(result: dict[str, Any]) -> list[dict[str, Any]]:
    levels = {level["clients"]: level for level in result["latency"]}
    top = levels[max(levels)]
    p99 = top["latency_ms_from_recorded_at"]["p99"]
    idle = result["idle"]
    return [
        _verdict(
            f"feed commit-to-client p99 ≤ 100 ms at {top['clients']:,} clients",
            f"{p99:,.1f} ms",
            p99 <= TARGETS["feed_p99_ms"],
        ),
        _verdict(
            f"{idle['clients']:,} idle SSE clients: memory (no target; reported)",
            f"{idle['rss_mib_delta']:,.1f} MiB over {idle['rss_mib_before']:,.1f} MiB",
            True,
        ),
    ]


def targets_of(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Every target of the run, met or not, in the order the issue lists them."""
    verdicts: list[dict[str, Any]] = []
    for measured in report["backends"].values():
        verdicts.extend(measured.get("append", {}).get("targets", []))
    for backend, measured in report["backends"].items():
        if "positions" in measured:
            verdicts.extend(positions_targets(backend, measured["positions"]))
    for measured in report["backends"].values():
        for key in sorted(k for k in measured if k.startswith("http_")):
            verdicts.extend(measured[key].get("targets", []))
    if "feed" in report:
        verdicts.extend(feed_targets(report["feed"]))
    return verdicts


# --- Markdown ----------------------------------------------------------------------------------


def machine_line(report: dict[str, Any]) -> str:
    m = report["machine"]
    postgres = f", PostgreSQL {m['postgresql']}" if m.get("postgresql") else ""
    return (
        f"{m['nproc']} CPUs ({m['cpu']}), {m['memory']} memory, {m['platform']}; "
        f"Python {m['python']}, SQLite {m['sqlite']}{postgres}; "
        f"1-minute load average {m['load_average_1min']:.1f} at the start"
    )


def targets_table(report: dict[str, Any]) -> list[str]:
    lines = ["| target | measured | met |", "|---|---:|:---:|"]
    for v in report["targets"]:
        lines.append(f"| {v['target']} | {v['measured']} | {'yes' if v['met'] else '**no**'} |")
    return lines


def append_table(backend: str, result: dict[str, Any]) -> list[str]:
    rates = result["rates"]
    lines = [
        f"**{backend}** ({', '.join(f'{k} {v:,}' for k, v in result['events'].items())} events"
        " per run)",
        "",
        "| contender | events/s | x ceiling | x peer |",
        "|---|---:|---:|---:|",
    ]
    for name, label in CONTENDERS.items():
        if name not in rates:
            continue
        ceiling, peer = BASELINES[name.split("_", 1)[1]]
        mine = _median(rates[name])
        to_ceiling = f"{mine / _median(rates[ceiling]):.2f}" if ceiling in rates else ""
        to_peer = f"{mine / _median(rates[peer]):.2f}" if peer in rates else ""
        lines.append(f"| {label} | {_spread(rates[name])} | {to_ceiling} | {to_peer} |")
    return lines


def positions_table(backend: str, result: dict[str, Any]) -> list[str]:
    sizes = result["results"]
    base = sizes[0]["read_p50_us"]["median"]
    lines = [
        f"**{backend}**",
        "",
        "| events | read p50 µs | read p99 µs | x p50 at smallest | fold p50 µs (n) | fold ÷ read"
        " | rebuild events/s | raw read events/s | rebuild ÷ raw read"
        " | its rows by the bare driver, events/s | rebuild ÷ rows by the driver |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in sizes:
        rebuild = s["rebuild_events_per_second"]
        raw = s["raw_read_events_per_second"]
        lines.append(
            f"| {s['events']:,} | {_spread(s['read_p50_us'])} | {_spread(s['read_p99_us'])} "
            f"| {s['read_p50_us']['median'] / base:.2f} | {s['fold_p50_us']:,.0f} ({s['folds']}) "
            f"| {s['fold_speedup_p50']:,.0f}x | {_spread(rebuild)} | {_spread(raw)} "
            f"| {_median(rebuild) / _median(raw):.3f} | {_floor_cells(rebuild, s)} |"
        )
    return lines


def _floor_cells(rebuild: dict[str, float], size: dict[str, Any]) -> str:
    floor = size.get("write_floor_events_per_second")
    if floor is None:  # PostgreSQL's, or a run from before it was measured
        return " | "
    return f"{_spread(floor)} | {_median(rebuild) / _median(floor):.2f}"


def feed_table(result: dict[str, Any]) -> list[str]:
    levels = result["latency"]
    base = levels[0]["latency_ms_from_recorded_at"]
    lines = [
        "| SSE clients | p50 ms | p99 ms | x p50 of 1 client | x p99 of 1 client |",
        "|---:|---:|---:|---:|---:|",
    ]
    for level in levels:
        latency = level["latency_ms_from_recorded_at"]
        p50 = latency.get("p50_runs", latency["p50"])
        p99 = latency.get("p99_runs", latency["p99"])
        lines.append(
            f"| {level['clients']:,} | {_spread(p50, 1)} | {_spread(p99, 1)} "
            f"| {latency['p50'] / base['p50']:.1f} | {latency['p99'] / base['p99']:.1f} |"
        )
    idle = result["idle"]
    lines += [
        "",
        f"Idle: {idle['clients']:,} SSE clients took the server from {idle['rss_mib_before']:,.1f}"
        f" to {idle['rss_mib_with_clients']:,.1f} MiB RSS ({idle['kib_per_connection']:,.1f} KiB"
        " a connection).",
    ]
    return lines


def http_table(report: dict[str, Any]) -> list[str]:
    lines = [
        "| backend | workers | position GET req/s | one-line req/s | ratio | position p50 / p99 ms"
        " | one-line p50 / p99 ms | cache miss req/s (ratio) | miss, answer known: req/s (ratio) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for backend, measured in report["backends"].items():
        for key in sorted(k for k in measured if k.startswith("http_")):
            r = measured[key]
            pos, hello = r["endpoints"]["position"], r["endpoints"]["hello"]
            lines.append(
                f"| {backend} | {r['workers']} | {_spread(pos['rps'])} | {_spread(hello['rps'])}"
                f" | {r['ratio_rps']:.2f} | {_median(pos['p50_ms']):.1f} / "
                f"{_median(pos['p99_ms']):.1f} | {_median(hello['p50_ms']):.1f} / "
                f"{_median(hello['p99_ms']):.1f} | {_miss(r)} | {_known(r)} |"
            )
    return lines


def _miss(result: dict[str, Any]) -> str:
    miss = result["endpoints"].get("position_uncached")
    if miss is None:
        return ""
    return f"{_spread(miss['rps'])} ({result['ratio_rps_uncached']:.2f})"


def _known(result: dict[str, Any]) -> str:
    known = result["endpoints"].get("position_known")
    if known is None:
        return ""
    return f"{_spread(known['rps'])} ({result['ratio_rps_known']:.2f})"


def markdown(report: dict[str, Any], pictures: list[Path]) -> str:
    backends = report["backends"]
    out = [
        "# Benchmark results",
        "",
        f"Command: `{report['command']}` ({report['seconds'] / 60:.0f} min)  ",
        f"Run at: {report['run_at']}, code at {report['revision']}  ",
        f"Machine: {machine_line(report)}.",
        "",
        f"Each figure is the median of {report['runs']} runs, with (min-max) where they differ;"
        " every comparison is between contenders measured in this same run. Durability is the"
        " project's default everywhere: SQLite in WAL mode with `synchronous=FULL`, PostgreSQL"
        " with `synchronous_commit=on`. How each part is measured: `bench/README.md`.",
        "",
        "## Targets",
        "",
        *targets_table(report),
    ]
    if any("append" in m for m in backends.values()):
        out += ["", "## Append", ""]
        for backend, measured in backends.items():
            if "append" in measured:
                out += [*append_table(backend, measured["append"]), ""]
        out += _pictures(pictures, "append")
    if any("positions" in m for m in backends.values()):
        out += ["", "## Position reads and the rebuild", ""]
        for backend, measured in backends.items():
            if "positions" in measured:
                out += [*positions_table(backend, measured["positions"]), ""]
        out += _pictures(pictures, "positions")
    if "feed" in report:
        out += ["", "## Change feed (SQLite, one process)", "", *feed_table(report["feed"])]
    if any(k.startswith("http_") for m in backends.values() for k in m):
        out += ["", "## HTTP: a cacheable position GET beside a one-line handler", ""]
        out += http_table(report)
    return "\n".join(out) + "\n"


def _pictures(pictures: list[Path], prefix: str) -> list[str]:
    return [f"![{p.stem}](results/{p.name})" for p in pictures if p.name.startswith(prefix)]


def write_results(
    report: dict[str, Any], json_path: Path, markdown_path: Path | None, pictures: list[Path]
) -> None:
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(report, indent=2) + "\n")
    if markdown_path is not None:
        kept = markdown_path.read_text() if markdown_path.exists() else ""
        notes = kept[kept.index(NOTES) :] if NOTES in kept else NOTES + "\n"
        markdown_path.write_text(markdown(report, pictures) + "\n" + notes)


# --- charts ------------------------------------------------------------------------------------


def charts(report: dict[str, Any], folder: Path) -> list[Path]:
    """PNG charts of the run: position-read scaling, and append throughput beside the ceiling
    and the peer. Needs matplotlib (the `bench` dependency group)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    made: list[Path] = []
    backends = report["backends"]
    with_positions = {b: m["positions"]["results"] for b, m in backends.items() if "positions" in m}
    if with_positions:
        figure, axes = plt.subplots(figsize=(7, 4.5))
        for backend, sizes in with_positions.items():
            events = [s["events"] for s in sizes]
            axes.plot(
                events,
                [s["read_p50_us"]["median"] for s in sizes],
                "o-",
                label=f"{backend}: stored read p50",
            )
            axes.plot(
                events,
                [s["read_p99_us"]["median"] for s in sizes],
                "o:",
                label=f"{backend}: stored read p99",
            )
            axes.plot(
                events, [s["fold_p50_us"] for s in sizes], "s--", label=f"{backend}: naive fold p50"
            )
        axes.set(
            xscale="log",
            yscale="log",
            xlabel="events in the log",
            ylabel="µs per position read",
            title="Position reads as the log grows",
        )
        axes.grid(True, which="both", alpha=0.3)
        axes.legend(fontsize=8)
        made.append(_save(figure, folder / "positions-scaling.png"))
        plt.close(figure)
    with_append = {b: m["append"]["rates"] for b, m in backends.items() if "append" in m}
    if with_append:
        figure, axes = plt.subplots(figsize=(9, 4.5))
        names = [n for n in CONTENDERS if any(n in r for r in with_append.values())]
        width = 0.8 / len(with_append)
        for i, (backend, rates) in enumerate(with_append.items()):
            xs = [j + i * width for j in range(len(names))]
            axes.bar(xs, [_median(rates.get(n, 0.0)) for n in names], width, label=backend)
        axes.set_xticks([j + width * (len(with_append) - 1) / 2 for j in range(len(names))])
        axes.set_xticklabels([n.replace("_", "\n") for n in names], fontsize=7)
        axes.set(
            yscale="log",
            ylabel="events/s (log)",
            title="Append throughput: the store beside the raw driver and eventsourcing",
        )
        axes.grid(True, axis="y", which="both", alpha=0.3)
        axes.legend()
        made.append(_save(figure, folder / "append-throughput.png"))
        plt.close(figure)
    return made


def _save(figure: Any, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.tight_layout()
    figure.savefig(path, dpi=110, metadata={"Software": None})
    return path
