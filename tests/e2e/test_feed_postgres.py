"""The feed across processes on PostgreSQL: appends through one reach SSE clients of another."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from tests.databases import PostgresDatabases
from tests.e2e.test_feed import sse
from tests.support import local_http
from tests.support.live import LiveServer, live_server, register_wire, statement

pytestmark = pytest.mark.postgres
WRITERS, EVENTS_PER_WRITER = 4, 500


@pytest.fixture
def two_servers(
    postgresql_databases: PostgresDatabases, tmp_path: Path
) -> Iterator[tuple[LiveServer, LiveServer, str]]:
    """Two API processes on one fresh PostgreSQL database, and the database's libpq URL."""
    url = postgresql_databases.fresh().raw
    settings = {
        "TIMELINE_SSE_HEARTBEAT": "0.5",
        # One stream must outlast all 2,000 appends, however loaded the machine (the default
        # lifetime, 300 s, was reached once at a load average of 7).
        "TIMELINE_SSE_MAX_LIFETIME": "3600",
    }
    with (
        live_server(url, tmp_path, settings=settings, name="a") as a,
        live_server(url, tmp_path, key=a.key, settings=settings, name="b") as b,
    ):
        register_wire(a.base, a.writer)
        libpq = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        yield a, b, libpq


def read_positions(server: LiveServer, until: int, into: list[int], ready: threading.Event) -> None:
    with local_http.stream("GET", f"{server.base}/v1/feed?after=1", timeout=30) as response:
        ready.set()
        for message in sse(response.iter_lines()):
            if "id" in message:
                into.append(int(message["id"]))
                if into[-1] >= until:
                    return


def test_every_client_on_both_processes_sees_every_position_once_in_order(
    two_servers: tuple[LiveServer, LiveServer, str],
) -> None:
    a, b, _ = two_servers
    total = 1 + WRITERS * EVENTS_PER_WRITER
    seen: list[list[int]] = [[], [], []]
    readers = []
    for server, into in zip((a, b, b), seen, strict=True):
        ready = threading.Event()
        thread = threading.Thread(target=read_positions, args=(server, total, into, ready))
        thread.start()
        assert ready.wait(10)
        readers.append(thread)

    def write(server: LiveServer, writer: int) -> None:
        for n in range(EVENTS_PER_WRITER):
            body = {"stream": f"w{writer}", "events": [statement(n)]}
            assert (
                local_http.post(
                    f"{server.base}/v1/events", json=body, headers=server.writer
                ).status_code
                == 201
            )

    writers = [threading.Thread(target=write, args=((a, b)[w % 2], w)) for w in range(WRITERS)]
    for thread in writers:
        thread.start()
    for thread in [*writers, *readers]:
        thread.join(timeout=600)
    for positions in seen:
        assert positions == list(range(2, total + 1))


def test_delivery_continues_after_the_listener_connection_is_killed(
    two_servers: tuple[LiveServer, LiveServer, str],
) -> None:
    a, b, libpq = two_servers
    seen: list[int] = []
    ready = threading.Event()
    reader = threading.Thread(target=read_positions, args=(b, 4, seen, ready))
    reader.start()
    assert ready.wait(10)
    with psycopg.connect(libpq, autocommit=True) as conn:
        killed = conn.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND query ILIKE 'LISTEN%'"
        ).fetchone()
    assert killed is not None and killed[0] >= 2
    for n in range(3):
        body = {"stream": "after-kill", "events": [statement(n)]}
        assert (
            local_http.post(f"{a.base}/v1/events", json=body, headers=a.writer).status_code == 201
        )
    reader.join(timeout=15)
    assert seen == [2, 3, 4]
    assert listeners_come_back(libpq, 2), "each process's listener reconnects"


def listeners_come_back(libpq: str, count: int) -> bool:
    """Whether `count` LISTEN connections are back within 10 s (the poll would hide their loss)."""
    deadline = time.monotonic() + 10
    with psycopg.connect(libpq, autocommit=True) as conn:
        while time.monotonic() < deadline:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND query ILIKE 'LISTEN%'"
            ).fetchone()
            if row is not None and row[0] >= count:
                return True
            time.sleep(0.1)
    return False
