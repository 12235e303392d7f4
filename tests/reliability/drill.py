"""What the reliability drills share: their size, the CLI, and a reader of the whole log (the
server that can be killed and restarted on the same database is tests/support/live.py's).

The drills run small under `make test` (CI) and long under `make drill` (`TIMELINE_DRILL=long`).
Every figure a drill prints with `-s` is also written to `test-artifacts/reliability/`.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from tests.support import local_http
from tests.support.live import TIMELINE

LONG = os.environ.get("TIMELINE_DRILL", "").lower() == "long"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "reliability"
PROPOSAL = "us-30-day-ceasefire-2025"


def scaled(ci: float, long: float) -> float:
    """The CI-sized value, or the long one under `TIMELINE_DRILL=long`."""
    return long if LONG else ci


def timeline(env: dict[str, str], *arguments: str) -> str:
    """Run the `timeline` CLI to completion (bounded) and return its standard output."""
    done = subprocess.run(
        [TIMELINE, *arguments], env=env, check=True, capture_output=True, text=True, timeout=300
    )
    return done.stdout


def whole_log(base: str, timeout: float = 30) -> list[dict[str, Any]]:
    """Every event of the log through GET /v1/events, page by page."""
    items: list[dict[str, Any]] = []
    after = 0
    with local_http.client(timeout=timeout) as client:
        while True:
            response = client.get(f"{base}/v1/events", params={"after": after, "limit": 1000})
            assert response.status_code == 200, response.text
            page = response.json()
            items.extend(page["items"])
            if not page["items"] or page["next"] is None:
                return items
            after = page["items"][-1]["position"]


def head(base: str) -> int:
    response = local_http.get(f"{base}/v1/health", timeout=10)
    assert response.status_code == 200, response.text
    return int(response.json()["head"])


def write_artifact(name: str, figures: dict[str, Any]) -> Path:
    """Keep a drill's figures as JSON next to the other test artifacts."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    path.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")
    return path
