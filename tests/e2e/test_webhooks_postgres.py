"""Webhooks from two API processes on one PostgreSQL database: each subscription is served by
one worker at a time, so every receiver gets every event once, in log order, never two at once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

from tests.databases import PostgresDatabases
from tests.e2e.receiver import Reply, receiving
from tests.e2e.test_webhooks import Hooked, hooked_server
from tests.support import local_http
from tests.support.live import LiveServer

pytestmark = pytest.mark.postgres
EVENTS_PER_PROCESS = 60


@pytest.fixture
def two_processes(
    postgresql_databases: PostgresDatabases, tmp_path: Path
) -> Iterator[tuple[Hooked, Hooked]]:
    for first in hooked_server(postgresql_databases.fresh().raw, tmp_path, name="first"):
        running = first.server
        second = LiveServer(
            running.database, running.key, tmp_path / "second.log", running.env, running.command
        )
        try:
            second.start()
            yield first, Hooked(second)
        finally:
            second.stop()


def test_each_subscription_gets_every_event_once_in_order_from_either_process(
    two_processes: tuple[Hooked, Hooked],
) -> None:
    a, b = two_processes
    with (
        receiving(lambda _: Reply(200, delay=0.01)) as one,
        receiving(lambda _: Reply(200, delay=0.01)) as two,
    ):
        a.subscribe(one, filter={"type": ["StatementMade"]})
        b.subscribe(two, filter={"type": ["StatementMade"]})
        appended: list[int] = []
        lock = threading.Lock()

        def write(server: Hooked, tag: str) -> None:
            for n in range(EVENTS_PER_PROCESS):
                event = server.append(f"{tag}-stream", n)
                with lock:
                    appended.append(event["position"])

        writers = [threading.Thread(target=write, args=(s, s.base)) for s in (a, b)]
        for thread in writers:
            thread.start()
        for thread in writers:
            thread.join(timeout=120)
        total = 2 * EVENTS_PER_PROCESS
        for receiver in (one, two):
            everything_arrived = partial(lambda r, _: len(r.delivered_ids()) >= total, receiver)
            assert receiver.wait_for(everything_arrived, 60)

        in_log_order = [
            str(e["id"])
            for e in local_http.get(
                f"{a.base}/v1/events?type=StatementMade&limit=1000", headers=a.headers
            ).json()["items"]
        ]
        for receiver in (one, two):
            assert receiver.delivered_ids() == in_log_order
            assert len(receiver.requests) == total, "nothing delivered twice"
            assert receiver.most_in_flight == 1, "never two deliveries at once"
