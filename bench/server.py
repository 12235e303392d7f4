"""A real API server for the benchmarks: migrated, seeded, on a free loopback port, stopped after.

`running_server` starts `timeline serve` (or uvicorn on another app factory, e.g. `bench.app`'s,
which adds a one-line handler beside the API) on SQLite or PostgreSQL, with one or more worker
processes, and stops it however the block ends: on an error, on Ctrl-C, on SIGTERM.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

HOST = "127.0.0.1"
TIMELINE = str(Path(sys.executable).parent / "timeline")
API = "api.app:app_factory"
# With PYTHONDONTWRITEBYTECODE set (as on this machine), every process of a server start
# (migrate, seed, make a key, serve) compiled SQLAlchemy and Litestar from source again, seconds
# each. The servers keep their bytecode under var/ instead: an untimed start gets cheaper, and
# nothing measured changes.
PYCACHE = Path(__file__).resolve().parent.parent / "var" / "pycache"


@dataclass
class Server:
    """A running server: where it listens, a key with the scopes asked for, its process."""

    process: subprocess.Popen[bytes]
    port: int
    key: str
    log: Path
    database: str

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"

    def status_kib(self, name: str) -> int:
        """A kB figure from /proc/<pid>/status (VmRSS, VmHWM)."""
        with open(f"/proc/{self.process.pid}/status") as status:
            for line in status:
                if line.startswith(name + ":"):
                    return int(line.split()[1])
        raise LookupError(name)

    def rss_mib(self) -> float:
        return self.status_kib("VmRSS") / 1024

    def cpu_seconds(self) -> float:
        """User + system CPU the server process has used."""
        with open(f"/proc/{self.process.pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def thread_cpu_seconds(self) -> tuple[float, float]:
        """CPU of the main thread (the event loop), and of the other live threads together
        (the aiosqlite connection threads, where the SQL runs)."""
        main = others = 0.0
        tick = os.sysconf("SC_CLK_TCK")
        for tid in os.listdir(f"/proc/{self.process.pid}/task"):
            try:
                with open(f"/proc/{self.process.pid}/task/{tid}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:  # the thread ended meanwhile
                continue
            used = (int(fields[11]) + int(fields[12])) / tick
            if int(tid) == self.process.pid:
                main += used
            else:
                others += used
        return main, others

    def open_fds(self) -> int:
        return len(os.listdir(f"/proc/{self.process.pid}/fd"))

    def alive(self) -> bool:
        return self.process.poll() is None


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def timeline(env: dict[str, str], folder: Path, *args: str) -> str:
    """Run a `timeline` command in `folder`; its standard output."""
    done = subprocess.run([TIMELINE, *args], env=env, cwd=folder, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"timeline {' '.join(args)} failed:\n{done.stderr or done.stdout}")
    return done.stdout


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
    `timeline serve` gives it. Writes are not rate-limited: the benchmarks append faster than the
    default allows.
    """
    database = database or f"sqlite:///{folder / 'bench.db'}"
    environment = {
        **os.environ,
        "TIMELINE_WRITE_RATE_LIMIT": "0",
        "PYTHONDONTWRITEBYTECODE": "",
        "PYTHONPYCACHEPREFIX": str(PYCACHE),
        **(env or {}),
        "TIMELINE_DATABASE_URL": database,
    }
    timeline(environment, folder, "db", "upgrade")
    timeline(environment, folder, "seed")
    created = timeline(
        environment, folder, "keys", "create", *(f"--scope={s}" for s in scopes), "--name=bench"
    )
    key = created.strip().splitlines()[-1]
    port = free_port()
    if app == API:
        command = [TIMELINE, "serve", "--host", HOST, "--port", str(port)]
        command += ["--workers", str(workers)]
    else:
        command = [sys.executable, "-m", "uvicorn", app, "--factory", "--host", HOST]
        command += ["--port", str(port), "--workers", str(workers), "--log-level", "warning"]
        command += ["--timeout-graceful-shutdown", "5"]
    if profile is not None:  # `python -m cProfile -o F <script or -m module> ...`
        target = command if app == API else command[1:]
        command = [sys.executable, "-m", "cProfile", "-o", str(profile), *target]
    log = folder / f"server-{port}.log"
    root = str(Path(__file__).resolve().parent.parent)
    environment["PYTHONPATH"] = os.pathsep.join(
        p for p in (root, environment.get("PYTHONPATH", "")) if p
    )
    with log.open("wb") as out:
        # Its own session: Ctrl-C reaches only us, and we stop the server in order.
        process = subprocess.Popen(
            command,
            env=environment,
            cwd=folder,  # not the checkout: `python -m cProfile` puts its cwd first on sys.path
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(process=process, port=port, key=key, log=log, database=database)
    try:
        wait_until_up(server)
        yield server
    finally:
        # Under cProfile, SIGINT: uvicorn re-raises the signal it caught once it has shut
        # down, and only a KeyboardInterrupt (not SIGTERM's default action) lets the
        # profiler write its stats.
        stop_server(process, signal.SIGTERM if profile is None else signal.SIGINT)


def wait_until_up(server: Server) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"{server.base}/v1/health", timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline or not server.alive():
                raise RuntimeError(
                    f"the server did not start:\n{server.log.read_text()[-2000:]}"
                ) from None
            time.sleep(0.05)


def stop_server(process: subprocess.Popen[bytes], how: signal.Signals) -> None:
    """SIGTERM or SIGINT (uvicorn shuts down gracefully either way), SIGKILL after 20 s."""
    if process.poll() is not None:
        return
    # SIGTERM to the whole group reaches every worker process; SIGINT only the profiled one.
    if how == signal.SIGINT:
        process.send_signal(how)
    else:
        os.killpg(process.pid, how)
    deadline = time.monotonic() + 20
    while True:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
            return
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        except KeyboardInterrupt:  # Ctrl-C again (or `uv run` passing the first one on)
            os.killpg(process.pid, signal.SIGKILL)
