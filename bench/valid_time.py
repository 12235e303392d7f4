"""Valid-time parsing, per call, beside a baseline version of the same module in the same run.

    uv run python -m bench.valid_time [REV]      # REV: the baseline's git revision (default main)

Reading valid time is on the append path (every occurred_at) and on every read (as_of, known_at,
and the read models decoding stored rows), so a change to domain/valid_time.py is measured here:
the module as it is at REV and as it is in the working tree parse the same mix (the seed data's
shapes) in alternating rounds, and the best CPU time of each is kept (the machines are shared).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import subprocess
import sys
import tempfile
import time
import timeit
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType

from api.reading import moment
from domain import valid_time
from domain.errors import InvalidValidTime

ROUNDS, NUMBER = 21, 1000
Case = tuple[str, str | None]
Parse = Callable[[str, str | None], object]

OCCURRED: list[Case] = [
    ("2025-03-13?", "Europe/Moscow"),
    ("2025-03-13", "Europe/Moscow"),
    ("2025-03-12", "Europe/Kyiv"),
    ("2025-03-11T09+03:00/2025-03-11T23+03:00", None),
    ("2025-03-13T18+03:00/2025-03-13T23+03:00", None),
    ("2025-03-13T19:30:00+03:00", None),
    ("2025-03-13T15:00:00Z", None),
    ("2025-03-13T15:00:00.123456Z", None),
    ("2025-03-12/2025-03-13", "America/New_York"),
    ("2025-01", None),
    ("1992", None),
    ("2025-03-09", "America/New_York"),
]
DATETIMES: list[Case] = [
    ("2025-03-13T19:30:00+03:00", None),
    ("2025-03-13T15:00:00Z", None),
    ("2025-03-13T15:00:00.123456Z", None),
    ("2025-03-13T18+03:00", None),
    ("2025-03-13T11:05-04:00", None),
]
INTERVALS = [case for case in OCCURRED if "T" in case[0] and "/" in case[0]]
DATES = [case for case in OCCURRED if "T" not in case[0]]
REFUSED: list[Case] = [
    ("2025-02-29T10:00Z", None),
    ("2025-03-13T24:00Z", None),
    ("2025-03-13T10:00+24:00", None),
]
INSTANTS: list[Case] = [
    ("2025-03-13T12:00+03:00", "UTC"),
    ("2025-03-13", "Europe/Moscow"),
    ("2025-03-13", "UTC"),
    ("2025-03-13T15:00:00Z", "UTC"),
    ("2025-03-13T15:00:00.250000Z", "UTC"),
    ("2025-03-13T09:00:00-04:00", "UTC"),
]
PLAIN_UTC: list[Case] = [("2025-03-13T15:00:00Z", "UTC"), ("2025-03-13T15:00:00.250000Z", "UTC")]


def baseline(revision: str) -> ModuleType:
    """domain/valid_time.py as it is at `revision`, loaded beside the working tree's."""
    source = subprocess.run(
        ["git", "show", f"{revision}:domain/valid_time.py"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "valid_time_baseline.py"
        path.write_text(source)
        spec = importlib.util.spec_from_file_location("valid_time_baseline", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        # dataclasses look their module up while the class is made.
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
    return module


def per_call(calls: Sequence[Parse], cases: list[Case]) -> list[float]:
    """Best CPU time per call of each function over `cases`, in µs, measured alternately."""

    def runner(call: Parse) -> Callable[[], None]:
        def run() -> None:
            for text, zone in cases:
                with contextlib.suppress(InvalidValidTime):
                    call(text, zone)

        return run

    runs = [runner(call) for call in calls]
    best = [float("inf")] * len(runs)
    for _ in range(ROUNDS):
        for index, run in enumerate(runs):
            spent = timeit.timeit(run, number=NUMBER, timer=time.process_time)
            best[index] = min(best[index], spent)
    return [seconds / NUMBER / len(cases) * 1e6 for seconds in best]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.valid_time", description=__doc__)
    parser.add_argument("revision", nargs="?", default="main", help="the baseline (git revision)")
    revision = parser.parse_args(argv).revision
    old = baseline(revision)

    def instant(module: ModuleType) -> Parse:
        return lambda text, zone: module.parse_instant(text, zone)

    rows = [
        ("parse_valid_time, seed-shaped mix", OCCURRED),
        ("parse_valid_time, datetimes", DATETIMES),
        ("parse_valid_time, datetime intervals", INTERVALS),
        ("parse_valid_time, dates/EDTF", DATES),
        ("parse_valid_time, refused datetimes", REFUSED),
    ]
    print(f"{'µs per call, CPU time':40} {revision:>10} {'now':>10}")
    for name, cases in rows:
        before, after = per_call([old.parse_valid_time, valid_time.parse_valid_time], cases)
        print(f"{name:40} {before:10.2f} {after:10.2f} {after / before - 1:+6.0%}")
    for name, cases in (("parse_instant, mix", INSTANTS), ("parse_instant, plain UTC", PLAIN_UTC)):
        before, after = per_call([instant(old), instant(valid_time)], cases)
        print(f"{name:40} {before:10.2f} {after:10.2f} {after / before - 1:+6.0%}")
    fast, full = per_call(
        [lambda text, zone: moment(text, zone or "UTC", "as_of"), instant(valid_time)], PLAIN_UTC
    )
    print(
        f"{'api.reading.moment fast path, plain UTC':40} {'':10} {fast:10.2f} ({full:.2f} without)"
    )


if __name__ == "__main__":
    main()
