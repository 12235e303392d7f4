"""What the reliability drills share: their size, a server that can be killed and restarted on
the same database, and a reader of the whole log.

The drills run small under `make test` (CI) and long under `make drill` (`TIMELINE_DRILL=long`).
Every figure a drill prints with `-s` is also written to `test-artifacts/reliability/`.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.conftest import TIMELINE, stop_server

LONG = os.environ.get("TIMELINE_DRILL", "").lower() == "long"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "reliability"
PROPOSAL = "us-30-day-ceasefire-2025"
# How long a (re)start may take: importing the app alone takes several seconds of CPU, and a
# loaded two-core CI machine has been seen to need more than 20 s.
START_BOUND = 120.0


def scaled(ci: float, long: float) -> float:
    """The CI-sized value, or the long one under `TIMELINE_DRILL=long`."""
    return long if LONG else ci


def timeline(env: dict[str, str], *arguments: str) -> str:
    """Run the `timeline` CLI to completion (bounded) and return its standard output."""
    done = subprocess.run(
        [TIMELINE, *arguments], env=env, check=True, capture_output=True, text=True, timeout=300
    )
    return done.stdout


def make_key(env: dict[str, str]) -> str:
    """A key that may append and subscribe."""
    out = timeline(
        env, "keys", "create", "--scope", "events:write", "--scope", "subscriptions:write"
    )
    return out.strip().splitlines()[-1]


@dataclass
class Restartable:
    """A `timeline serve` on a fixed port that a drill may SIGKILL and start again."""

    env: dict[str, str]
    port: int
    log: Path
    process: subprocess.Popen[bytes] | None = None
    kills: int = 0
    started: list[float] = field(default_factory=list)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start on the same port and database; wait (bounded) until it answers /v1/health.
        The server's output goes to a log beside the database, quoted when it fails to start."""
        log = self.log.open("ab")
        try:
            self.process = subprocess.Popen(
                [TIMELINE, "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                env={"TIMELINE_WRITE_RATE_LIMIT": "0", **self.env},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        finally:
            log.close()
        deadline = time.monotonic() + START_BOUND
        while True:
            try:
                if httpx.get(f"{self.base}/v1/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.stop()
                tail = self.log.read_text(errors="replace")[-3000:]
                raise AssertionError(f"the server on port {self.port} did not start:\n{tail}")
            time.sleep(0.1)
        self.started.append(time.monotonic())

    def kill(self) -> None:
        """SIGKILL: no shutdown hook runs, whatever the server was doing."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)
        self.process = None
        self.kills += 1

    def stop(self) -> None:
        """A clean stop (SIGTERM), or nothing when it is not running."""
        if self.process is not None:
            if self.process.poll() is None:
                stop_server(self.process)
            self.process = None


def whole_log(base: str, timeout: float = 30) -> list[dict[str, Any]]:
    """Every event of the log through GET /v1/events, page by page."""
    items: list[dict[str, Any]] = []
    after = 0
    with httpx.Client(timeout=timeout) as client:
        while True:
            response = client.get(f"{base}/v1/events", params={"after": after, "limit": 1000})
            assert response.status_code == 200, response.text
            page = response.json()
            items.extend(page["items"])
            if not page["items"] or page["next"] is None:
                return items
            after = page["items"][-1]["position"]


def head(base: str) -> int:
    response = httpx.get(f"{base}/v1/health", timeout=10)
    assert response.status_code == 200, response.text
    return int(response.json()["head"])


def write_artifact(name: str, figures: dict[str, Any]) -> Path:
    """Keep a drill's figures as JSON next to the other test artifacts."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    path.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")
    return path
