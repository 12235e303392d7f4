"""Two API processes on one PostgreSQL database, one of them with a clock 30 s behind (Debian's
`faketime`): events are stamped from the database's clock, so the lagging process never stamps
an event before a moment the other has answered, and a settled answer is the same from either
process, at any later time."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from domain.valid_time import format_instant
from tests.databases import PostgresDatabases
from tests.reliability.drill import scaled
from tests.support import local_http
from tests.support.live import TIMELINE, LiveServer, live_server, register_wire, statement

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

LAG_SECONDS = 30
# Rounds of ask, append, ask again; the appends alternate between the processes.
ROUNDS = int(scaled(2, 100))
IMMUTABLE = "public, max-age=31536000, immutable"


def test_a_process_whose_clock_lags_never_changes_an_answer_another_gave(
    postgresql_databases: PostgresDatabases, tmp_path: Path
) -> None:
    if shutil.which("faketime") is None:
        pytest.skip("needs Debian's faketime (.ci/run installs it)")
    url = postgresql_databases.fresh().raw
    lagging_command = ["faketime", "-f", f"-{LAG_SECONDS}s", TIMELINE, "serve"]
    with (
        live_server(url, tmp_path, name="on-time") as on_time,
        live_server(
            url,
            tmp_path,
            key=on_time.key,
            name="lagging",
            command=lagging_command,
            settings={"FAKETIME_DONT_FAKE_MONOTONIC": "1"},
        ) as lagging,
    ):
        register_wire(on_time.base, on_time.writer)
        for round_ in range(ROUNDS):
            writer = (lagging, on_time)[round_ % 2]
            one_round(on_time, lagging, writer, round_)


def one_round(on_time: LiveServer, lagging: LiveServer, writer: LiveServer, round_: int) -> None:
    """Ask about this moment, append (through `writer`), ask again from both processes."""
    moment = format_instant(datetime.now(UTC))  # past for the on-time process from here on
    page = f"/v1/timeline?known_at={moment}&limit=1000"
    first = local_http.get(on_time.base + page)
    assert first.status_code == 200, first.text
    # The log has not passed the moment yet: an append may still be stamped before it.
    assert first.headers["cache-control"] == "no-cache"

    body = {"stream": "skewed", "events": [statement(round_)]}
    appended = local_http.post(f"{writer.base}/v1/events", json=body, headers=writer.writer)
    assert appended.status_code == 201, appended.text
    [event] = appended.json()["events"]
    assert event["recorded_at"] > moment  # the database's clock, not the process's

    for server in (lagging, on_time):
        answer = local_http.get(server.base + page)
        assert answer.status_code == 200, answer.text
        assert answer.headers["cache-control"] == IMMUTABLE  # the log has passed it now
        assert answer.content == first.content
        assert answer.headers["etag"] == first.headers["etag"]
