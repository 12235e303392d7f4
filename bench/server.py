"""A real API server for the benchmarks: migrated, seeded, on a free loopback port, stopped after
(tests/support/live.py starts it, as it starts every live server of the tests).

`running_server` starts `timeline serve` (or uvicorn on another app factory, e.g. `bench.app`'s,
which adds a one-line handler beside the API) on SQLite or PostgreSQL, with one or more worker
processes, and stops it however the block ends: on an error, on Ctrl-C, on SIGTERM.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.live import HOST, TIMELINE, LiveServer, make_key, ready_database, server_env

API = "api.app:app_factory"
BENCH_APP = "bench.app:app_factory"
# With PYTHONDONTWRITEBYTECODE set (as on this machine), every server start compiled the
# project's modules from source again. The servers keep their bytecode under var/ instead: an
# untimed start gets cheaper, and nothing measured changes.
PYCACHE = Path(__file__).resolve().parent.parent / "var" / "pycache"
__all__ = ["HOST", "Server", "running_server"]


@dataclass
class Server(LiveServer):
    """A running server (tests/support/live.py's), and what the benchmarks read of its process."""

    def status_kib(self, name: str) -> int:
        """A kB figure from /proc/<pid>/status (VmRSS, VmHWM)."""
        with open(f"/proc/{self.pid}/status") as status:
            for line in status:
                if line.startswith(name + ":"):
                    return int(line.split()[1])
        raise LookupError(name)

    def rss_mib(self) -> float:
        return self.status_kib("VmRSS") / 1024

    def cpu_seconds(self) -> float:
        """User + system CPU the server process has used."""
        with open(f"/proc/{self.pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def thread_cpu_seconds(self) -> tuple[float, float]:
        """CPU of the main thread (the event loop), and of the other live threads together
        (the aiosqlite connection threads, where the SQL runs)."""
        main = others = 0.0
        tick = os.sysconf("SC_CLK_TCK")
        for tid in os.listdir(f"/proc/{self.pid}/task"):
            try:
                with open(f"/proc/{self.pid}/task/{tid}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:  # the thread ended meanwhile
                continue
            used = (int(fields[11]) + int(fields[12])) / tick
            if int(tid) == self.pid:
                main += used
            else:
                others += used
        return main, others

    def open_fds(self) -> int:
        return len(os.listdir(f"/proc/{self.pid}/fd"))


@contextmanager
def running_server(
    folder: Path,
    database: str | None = None,
    *,
    workers: int = 1,
    app: str = API,
    env: dict[str, str] | None = None,
    scopes: tuple[str, ...] = ("events:write",),
    profile: Path | None = None,
) -> Iterator[Server]:
    """A migrated, seeded server on a free port (SQLite in `folder` unless a database is named).

    `app` other than the API's own factory is served by uvicorn directly, with the same options
    `timeline serve` gives it. Writes are not rate-limited unless `env` says so (the append
    benchmark does: users run the server with the limit on).
    """
    database = ready_database(database or f"sqlite:///{folder / 'bench.db'}")
    key = make_key(database, *scopes, name="bench")
    root = str(Path(__file__).resolve().parent.parent)
    environment = {
        **server_env(database, env),
        "PYTHONDONTWRITEBYTECODE": "",
        "PYTHONPYCACHEPREFIX": str(PYCACHE),
        "PYTHONPATH": os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p),
    }
    if app == API:
        command = [TIMELINE, "serve", "--workers", str(workers)]
    elif app == BENCH_APP:  # on the inherited socket as it is (TCP_NODELAY): see bench.app
        command = [sys.executable, "-m", "bench.app", "--workers", str(workers)]
    else:
        command = [sys.executable, "-m", "uvicorn", app, "--factory", "--workers", str(workers)]
        command += ["--log-level", "warning", "--timeout-graceful-shutdown", "5"]
    if profile is not None:  # `python -m cProfile -o F <script or -m module> ...`
        target = command if app == API else command[1:]
        command = [sys.executable, "-m", "cProfile", "-o", str(profile), *target]
    server = Server(database, key, folder / "server.log", environment, command, cwd=folder)
    try:
        server.start()
        yield server
    finally:
        # Under cProfile, SIGINT: uvicorn re-raises the signal it caught once it has shut
        # down, and only a KeyboardInterrupt (not SIGTERM's default action) lets the
        # profiler write its stats.
        server.stop(signal.SIGTERM if profile is None else signal.SIGINT)
