"""Retry drill: the server dies right after an append under an Idempotency-Key has committed and
before its answer leaves (`TIMELINE_DRILL_CRASH_AFTER_COMMIT`, seeded draws), many times; the
client retries each request with the same key and no event ids, as a client that never heard
back would, until it is answered. Afterwards every logical append is in the log exactly once,
and every answer names the events the log holds.

Before the answer was recorded by the append's own transaction, the reservation stayed pending
after such a crash, was taken over once it looked abandoned, and the retry appended the events a
second time (they had no client-chosen ids to be recognised by)."""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.databases import PostgresDatabases, SqliteDatabases
from tests.reliability.drill import scaled, whole_log, write_artifact
from tests.support import local_http
from tests.support.live import LiveServer, make_key, server_env

SEED = int(os.environ.get("TIMELINE_DRILL_SEED", "20250311"))
APPENDS = int(scaled(25, 300))
CRASH_SHARE = 0.3
# A retry waits at most this long for an answer: the restarted server answers at once (a replay
# or a fresh append); a pending reservation would hold it off for ABANDONED_AFTER (10 s).
RETRY_BOUND = 60.0


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def crashing_server(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[str, LiveServer]]:
    databases: SqliteDatabases | PostgresDatabases = request.getfixturevalue(
        f"{request.param}_databases"
    )
    database = databases.seeded().raw
    settings = {"TIMELINE_DRILL_CRASH_AFTER_COMMIT": str(CRASH_SHARE)}
    server = LiveServer(
        database,
        make_key(database, "events:write"),
        tmp_path / "server.log",
        server_env(database, settings),
    )
    try:
        start(server)
        yield request.param, server
    finally:
        server.stop()


def start(server: LiveServer) -> None:
    """(Re)start with fresh draws: the same seed again would crash at the same moments."""
    server.env["TIMELINE_DRILL_SEED"] = str(SEED + len(server.started))
    server.start()


def logical_append(n: int) -> dict[str, Any]:
    """One request's body: a statement, without an event id (the server picks it)."""
    event = {
        "type": "StatementMade",
        "occurred_at": "2025-03-14",
        "payload": {"speaker": "drill", "summary": f"logical append {n}"},
        "sources": [{"source": "notus-2025-03-13"}],
    }
    return {"stream": "retried", "events": [event]}


def answered(server: LiveServer, n: int, figures: Counter[str]) -> dict[str, Any]:
    """POST logical append n under its key until it is answered; restart the server when it dies."""
    headers = {**server.writer, "Idempotency-Key": f"logical-{n}"}
    deadline = time.monotonic() + RETRY_BOUND
    while time.monotonic() < deadline:
        try:
            response = local_http.post(
                f"{server.base}/v1/events", json=logical_append(n), headers=headers, timeout=30
            )
        except httpx.TransportError:  # no answer: the server died after the commit
            assert server.process is not None
            server.process.wait(timeout=30)
            server.process = None
            server.kills += 1
            figures["kills"] += 1
            start(server)
            continue
        if response.status_code == 409:  # a pending reservation: what must no longer happen
            figures["in progress"] += 1
            time.sleep(float(response.headers.get("retry-after", "1")))
            continue
        assert response.status_code == 201, response.text
        figures["replayed"] += response.headers.get("idempotent-replayed") == "true"
        body: dict[str, Any] = response.json()
        return body
    raise AssertionError(f"logical append {n} was not answered within {RETRY_BOUND} s")


@pytest.mark.slow
def test_a_retry_after_a_crash_between_commit_and_answer_appends_nothing_twice(
    crashing_server: tuple[str, LiveServer],
) -> None:
    backend, server = crashing_server
    figures: Counter[str] = Counter()
    answers = [answered(server, n, figures) for n in range(APPENDS)]

    log = whole_log(server.base)
    present = Counter(
        e["payload"]["summary"] for e in log if e["payload"].get("speaker") == "drill"
    )
    duplicates = sum(count - 1 for count in present.values() if count > 1)
    report = {
        "backend": backend,
        "seed": SEED,
        "kills": figures["kills"],
        "appends acknowledged": len(answers),
        "appends present": len(present),
        "duplicates": duplicates,
        "answers replayed": figures["replayed"],
        "retries held off as in progress": figures["in progress"],
    }
    print(f"\nretry-after-commit drill ({backend}): {report}")
    write_artifact(f"retry-after-commit-{backend}.json", report)
    assert figures["kills"] > 0, "no crash was drawn: the drill tested nothing"
    assert duplicates == 0
    assert sorted(present) == sorted(f"logical append {n}" for n in range(APPENDS))
    by_id = {e["id"]: e for e in log}
    for n, answer in enumerate(answers):
        [event] = answer["events"]
        assert by_id[event["id"]]["payload"]["summary"] == f"logical append {n}"
        assert by_id[event["id"]]["position"] == event["position"]
