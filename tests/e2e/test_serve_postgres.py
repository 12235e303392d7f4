"""A real `timeline serve` on PostgreSQL whose connections the server drops while they idle (a
restart, a failover, pg_terminate_backend): the next requests succeed, with no ping before each
checkout to find the dropped ones."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from tests.databases import PostgresDatabases
from tests.support import local_http
from tests.support.live import live_server, register_wire, statement

pytestmark = pytest.mark.postgres
# How long pg_terminate_backend waits for each backend to end (it returns as soon as it has).
TERMINATION_BOUND_MS = 10_000


def test_the_next_requests_succeed_after_the_server_dropped_every_connection(
    postgresql_databases: PostgresDatabases, tmp_path: Path
) -> None:
    url = postgresql_databases.seeded()
    with (
        live_server(url.raw, tmp_path) as server,
        local_http.client(base_url=server.base) as client,
    ):
        register_wire(server.base, server.writer)
        events = {"stream": "wire", "events": [statement(1)]}
        assert client.post("/v1/events", json=events, headers=server.writer).status_code == 201
        assert client.get("/v1/events?limit=1").status_code == 200

        libpq = make_url(url.raw).set(drivername="postgresql").render_as_string(False)
        with psycopg.connect(libpq, autocommit=True) as admin:
            ended = admin.execute(
                "SELECT pg_terminate_backend(pid, %s) FROM pg_stat_activity"
                " WHERE datname = %s AND pid <> pg_backend_pid()",
                (TERMINATION_BOUND_MS, make_url(url.raw).database),
            ).fetchall()
        # the engine's, the writer's, the read pool's and the feed listener's
        assert len(ended) >= 4 and all(ok for (ok,) in ended)

        events = {"stream": "wire", "events": [statement(2)]}
        appended = client.post("/v1/events", json=events, headers=server.writer)
        assert appended.status_code == 201, appended.text
        assert (
            client.get("/v1/events?stream=wire").json()["items"][-1]["payload"]
            == (statement(2)["payload"])
        )
        position = "/v1/proposals/us-30-day-ceasefire-2025/positions/russia?as_of=2025-03-20"
        assert client.get(position).status_code == 200
    assert "Traceback" not in server.log.read_text()
