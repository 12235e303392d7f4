"""Live servers: the one way end-to-end, reliability and browser tests and `bench/` run the API.

A database is made ready in this process (migrated, seeded, a key made: no `timeline`
subprocess, whose imports alone cost seconds) and only `timeline serve` runs as a child. The
child serves a socket bound here and handed over by file descriptor, so no other process can
take the port between choosing and binding it, and the first request simply waits in the
socket's backlog until the server is ready: no polling. A `LiveServer` may be killed and started
again on the same port and database (the drills do).
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx

from tests.support import local_http

T = TypeVar("T")
HOST = "127.0.0.1"
TIMELINE = str(Path(sys.executable).parent / "timeline")
# How long a (re)start may take: on a loaded two-core machine importing the app alone has taken
# more than 20 s.
START_BOUND = 120.0
# What every live server of a test gets unless the test says otherwise: tests append faster than
# any newsroom (the rate limit has tests of its own).
TEST_SETTINGS = {"TIMELINE_WRITE_RATE_LIMIT": "0"}


def in_thread(work: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine to completion on a thread of its own: the caller's thread may be running
    an event loop already (an async test's, or Playwright's)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(work())).result()  # type: ignore[arg-type]


def migrate(url: str) -> None:
    """Migrate a database to the newest schema, in this process."""
    from store.database import DatabaseUrl
    from store.schema import upgrade

    # Alembic's env.py runs its own event loop: give it a thread without one.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(upgrade, DatabaseUrl(url)).result()


def seed(url: str) -> int:
    """Load the first data set into a migrated database, in this process; how many it added."""
    from api.seeding import seed as seed_log
    from store.database import DatabaseUrl
    from store.factory import open_store

    async def work() -> int:
        store = open_store(DatabaseUrl(url))
        try:
            return (await seed_log(store, lambda: datetime.now(UTC))).appended
        finally:
            await store.close()

    return in_thread(work)


def make_key(url: str, *scopes: str, name: str = "tests") -> str:
    """A key with these scopes (default: may append), made in this process; its token."""
    from store.database import DatabaseUrl, create_engine
    from store.keys import KeyStore

    async def work() -> str:
        engine = create_engine(DatabaseUrl(url))
        try:
            granted = frozenset(scopes or ("events:write",))
            _, token = await KeyStore(engine).create(name, granted, datetime.now(UTC))
            return token
        finally:
            await engine.dispose()

    return in_thread(work)


def listening_socket(port: int = 0) -> socket.socket:
    """A loopback socket already listening: on a free port, or again on `port` after a kill."""
    sock = socket.socket()
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((HOST, port))
        sock.listen(1024)
    except OSError:
        sock.close()
        raise
    return sock


@dataclass
class LiveServer:
    """A server process on a socket bound here, with a key, its log, and how to restart it.

    `command` is `timeline serve` unless another ASGI app is served by uvicorn (the benchmarks'
    one-line handler); either way the socket is handed over as `--fd`.
    """

    database: str
    key: str
    log: Path
    env: dict[str, str]
    command: list[str] = field(default_factory=lambda: [TIMELINE, "serve"])
    cwd: Path | None = None
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    kills: int = 0
    started: list[float] = field(default_factory=list)

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def writer(self) -> dict[str, str]:
        """Headers for a request with this server's key."""
        return {"Authorization": f"Bearer {self.key}"}

    def start(self) -> None:
        """Start on this server's port (a free one the first time) and database; return once it
        answers /v1/health. Its output goes to its log, quoted when it fails to start."""
        sock = listening_socket(self.port)
        self.port = int(sock.getsockname()[1])
        try:
            with self.log.open("ab") as log:
                self.process = subprocess.Popen(
                    [*self.command, "--fd", str(sock.fileno())],
                    env=self.env,
                    cwd=self.cwd,
                    pass_fds=(sock.fileno(),),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    # Its own process group: Ctrl-C reaches only the caller, who stops it in
                    # order, and a stop reaches every worker process.
                    start_new_session=True,
                )
        finally:
            sock.close()  # the child holds it now: when the child dies, the port is closed
        self._wait_until_ready()
        self.started.append(time.monotonic())

    def _wait_until_ready(self) -> None:
        # The socket listens already, so a request waits in its backlog until the app is up.
        deadline = time.monotonic() + START_BOUND
        while True:
            try:
                response = local_http.get(
                    f"{self.base}/v1/health", timeout=max(1.0, deadline - time.monotonic())
                )
                if response.status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert self.process is not None
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.stop()
                tail = self.log.read_text(errors="replace")[-3000:]
                raise RuntimeError(f"the server on port {self.port} did not start:\n{tail}")
            time.sleep(0.05)  # refused while a restarted process was still binding: try again

    def kill(self) -> None:
        """SIGKILL: no shutdown hook runs, whatever the server was doing."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        self.process = None
        self.kills += 1

    def restart(self) -> None:
        """Kill it, and start it again on the same port and database."""
        self.kill()
        self.start()

    def stop(self, how: signal.Signals = signal.SIGTERM) -> None:
        """A clean stop (SIGTERM to the group; SIGINT to the process alone, which a profiler
        needs to write its stats), SIGKILL after 20 s; nothing when it is not running."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        if how == signal.SIGINT:
            process.send_signal(how)
        else:
            os.killpg(process.pid, how)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def pid(self) -> int:
        assert self.process is not None, "the server is not running"
        return self.process.pid


def server_env(database: str, settings: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a server process on `database`."""
    return {
        **os.environ,
        **TEST_SETTINGS,
        **(settings or {}),
        "TIMELINE_DATABASE_URL": database,
    }


@contextmanager
def live_server(
    database: str,
    folder: Path,
    *,
    key: str | None = None,
    settings: dict[str, str] | None = None,
    command: list[str] | None = None,
    name: str = "server",
) -> Iterator[LiveServer]:
    """A running server on a ready database (made one with `ready_database`), stopped however
    the block ends. Without `key`, one that may append is made."""
    server = LiveServer(
        database=database,
        key=key if key is not None else make_key(database),
        log=folder / f"{name}.log",
        env=server_env(database, settings),
        command=command or [TIMELINE, "serve"],
    )
    try:
        server.start()
        yield server
    finally:
        server.stop()


def ready_database(url: str, *, seeded: bool = True) -> str:
    """Migrate (and seed) a database that is not a copy of a prepared one; its URL."""
    migrate(url)
    if seeded:
        seed(url)
    return url


def statement(n: int) -> dict[str, Any]:
    """A StatementMade citing the `wire` source that `register_wire` adds."""
    return {
        "type": "StatementMade",
        "occurred_at": "2025-03-14",
        "payload": {"speaker": "someone", "summary": f"statement {n}"},
        "sources": [{"source": "wire"}],
    }


def register_wire(base: str, headers: dict[str, str]) -> None:
    """Register the `wire` source on a fresh log, so statements can cite it."""
    source = {
        "type": "SourceRegistered",
        "occurred_at": "2025-03-13",
        "payload": {
            "source": "wire",
            "outlet": "Wire",
            "headline": "H",
            "published_on": "2025-03-13",
        },
    }
    response = local_http.post(
        f"{base}/v1/events", json={"stream": "sources", "events": [source]}, headers=headers
    )
    assert response.status_code == 201, response.text
