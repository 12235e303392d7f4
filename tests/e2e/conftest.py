"""A real `timeline serve` on a free loopback port, started and stopped by the test using it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

TIMELINE = str(Path(sys.executable).parent / "timeline")


@dataclass(frozen=True)
class LiveServer:
    """Where the server listens, and a key that may append."""

    base: str
    key: str

    @property
    def writer(self) -> dict[str, str]:
        """Headers for an append."""
        return {"Authorization": f"Bearer {self.key}"}


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
    response = httpx.post(
        f"{base}/v1/events", json={"stream": "sources", "events": [source]}, headers=headers
    )
    assert response.status_code == 201, response.text


def free_port() -> int:
    """A port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    """Start `timeline serve` and wait until it answers."""
    process = subprocess.Popen(
        [TIMELINE, "serve", "--host", "127.0.0.1", "--port", str(port)],
        # These tests append faster than any newsroom; the rate limit has tests of its own.
        env={"TIMELINE_WRITE_RATE_LIMIT": "0", **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/health", timeout=1).close()
            return process
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise
            time.sleep(0.05)


def stop_server(process: subprocess.Popen[bytes]) -> None:
    """Stop a server, waiting for it to exit."""
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def seeded_server(folder: Path, **settings: str) -> Iterator[LiveServer]:
    """A migrated, seeded SQLite server in `folder`, with a key that may append; stopped on exit."""
    env = {**os.environ, "TIMELINE_DATABASE_URL": f"sqlite:///{folder / 'live.db'}", **settings}
    for step in (["db", "upgrade"], ["seed"]):
        subprocess.run([TIMELINE, *step], env=env, check=True, capture_output=True)
    made = subprocess.run(
        [TIMELINE, "keys", "create", "--scope", "events:write"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    port = free_port()
    process = start_server(env, port)
    try:
        yield LiveServer(base=f"http://127.0.0.1:{port}", key=made.stdout.strip().splitlines()[-1])
    finally:
        stop_server(process)


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveServer]:
    """A seeded server with fast heartbeats and short stream lifetimes."""
    with seeded_server(
        tmp_path, TIMELINE_SSE_HEARTBEAT="0.5", TIMELINE_SSE_MAX_LIFETIME="3"
    ) as server:
        yield server
