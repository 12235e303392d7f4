"""Webhooks against a real server and a real receiver: retries, signatures, order, restarts."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from standardwebhooks import Webhook

from tests.databases import SqliteDatabases
from tests.e2e.receiver import Receiver, Reply, receiving
from tests.support import local_http
from tests.support.live import LiveServer, live_server, make_key, register_wire, statement

FAST_RETRIES = "0,0.2,0.2,0.2,0.2,0.2,0.2,0.2"
SCOPES = ("events:write", "subscriptions:write")


@dataclass
class Hooked:
    """A running server that may deliver to loopback receivers, and how to restart it."""

    server: LiveServer

    @property
    def base(self) -> str:
        return self.server.base

    @property
    def headers(self) -> dict[str, str]:
        return self.server.writer

    def kill(self) -> None:
        """Die at once, mid-delivery if it happens to be delivering."""
        self.server.kill()

    def restart(self) -> None:
        self.server.start()

    def append(self, stream: str, n: int) -> dict[str, Any]:
        response = local_http.post(
            f"{self.base}/v1/events",
            json={"stream": stream, "events": [statement(n)]},
            headers=self.headers,
        )
        assert response.status_code == 201, response.text
        return dict(response.json()["events"][0])

    def subscribe(self, receiver: Receiver, **extra: Any) -> dict[str, Any]:
        response = local_http.post(
            f"{self.base}/v1/subscriptions",
            json={"url": receiver.url, **extra},
            headers=self.headers,
        )
        assert response.status_code == 201, response.text
        return dict(response.json())

    def get(self, path: str) -> Any:
        response = local_http.get(f"{self.base}{path}", headers=self.headers)
        assert response.status_code == 200, response.text
        return response.json()


def hooked_server(
    database_url: str, folder: Path, schedule: str = FAST_RETRIES, name: str = "server"
) -> Iterator[Hooked]:
    """Serve a migrated database with a key that may subscribe, after registering a source;
    stopped at the end."""
    settings = {
        "TIMELINE_WEBHOOK_ALLOW_PRIVATE": "1",
        "TIMELINE_WEBHOOK_RETRY_SCHEDULE": schedule,
        "TIMELINE_WEBHOOK_TIMEOUT": "2",
    }
    key = make_key(database_url, *SCOPES)
    with live_server(database_url, folder, key=key, settings=settings, name=name) as server:
        register_wire(server.base, server.writer)
        yield Hooked(server)


@pytest.fixture
def hooked(sqlite_databases: SqliteDatabases, tmp_path: Path) -> Iterator[Hooked]:
    yield from hooked_server(sqlite_databases.fresh().raw, tmp_path)


def verified(receiver: Receiver, secret: str) -> list[dict[str, Any]]:
    """Every accepted body, each checked against its Standard Webhooks signature."""
    webhook = Webhook(secret)
    return [webhook.verify(r.body, r.headers) for r in receiver.requests if 200 <= r.answered < 300]


def test_every_event_arrives_signed_in_log_order_across_failures_and_a_kill(
    hooked: Hooked,
) -> None:
    with receiving(lambda n: Reply(503) if n <= 3 else Reply(200)) as receiver:
        subscription = hooked.subscribe(receiver, filter={"stream": "hooks"})
        expected = []
        for n in range(30):
            expected.append(hooked.append("hooks", n)["id"])
            hooked.append("elsewhere", n)
            if n == 14:
                assert receiver.wait_for(lambda r: len(r) >= 6, 10)
                hooked.kill()
                hooked.restart()
        assert receiver.wait_for(lambda _: len(receiver.delivered_ids()) >= 30, 60)

        assert receiver.delivered_ids() == [str(e) for e in expected]
        bodies = verified(receiver, subscription["secret"])
        assert {b["data"]["stream"] for b in bodies} == {"hooks"}
        assert all(b["type"] == "StatementMade" for b in bodies)
        assert [r.answered for r in receiver.requests[:3]] == [503, 503, 503]
        attempts = hooked.get(f"/v1/subscriptions/{subscription['id']}/deliveries?limit=500")
        failed = [a for a in attempts["items"] if a["outcome"] == "retry"]
        assert [a["status_code"] for a in failed] == [503, 503, 503]
        assert all(a["latency_ms"] >= 0 and a["attempted_at"] for a in attempts["items"])
        state = hooked.get(f"/v1/subscriptions/{subscription['id']}")
        assert state["status"] == "active"


def test_a_410_disables_the_subscription(hooked: Hooked) -> None:
    with receiving(lambda n: Reply(410)) as receiver:
        subscription = hooked.subscribe(receiver)
        hooked.append("hooks", 1)
        hooked.append("hooks", 2)
        assert receiver.wait_for(lambda r: len(r) >= 1, 10)
        state = wait_for_status(hooked, f"/v1/subscriptions/{subscription['id']}", "disabled")
        assert "410" in state["disabled_reason"]
        assert len(receiver.requests) == 1


def test_a_run_of_failures_disables_and_reactivation_resumes_at_the_same_event(
    sqlite_databases: SqliteDatabases, tmp_path: Path
) -> None:
    accepting = False

    def script(_: int) -> Reply:
        return Reply(200) if accepting else Reply(500)

    with receiving(script) as receiver:
        database = sqlite_databases.fresh().raw
        for hooked in hooked_server(database, tmp_path, schedule="0,0.1,0.1"):
            subscription = hooked.subscribe(receiver)
            event = hooked.append("hooks", 1)
            assert receiver.wait_for(lambda r: len(r) >= 3, 10)
            path = f"/v1/subscriptions/{subscription['id']}"
            state = wait_for_status(hooked, path, "disabled")
            assert "3 attempts" in state["disabled_reason"]
            assert "HTTP 500" in state["disabled_reason"]
            assert len(receiver.requests) == 3

            accepting = True
            response = local_http.post(f"{hooked.base}{path}/reactivate", headers=hooked.headers)
            assert response.status_code == 200
            assert receiver.wait_for(lambda _: len(receiver.delivered_ids()) == 1, 10)
            assert receiver.delivered_ids() == [event["id"]]


def test_retry_after_is_honoured(hooked: Hooked) -> None:
    with receiving(
        lambda n: Reply(429, {"Retry-After": "1"}) if n == 1 else Reply(200)
    ) as receiver:
        hooked.subscribe(receiver)
        hooked.append("hooks", 1)
        assert receiver.wait_for(lambda r: len(r) >= 2, 10)
        first, second = receiver.requests[:2]
        assert second.at - first.at >= 0.9  # the schedule alone says 0.2 s


def wait_for_status(hooked: Hooked, path: str, status: str) -> dict[str, Any]:
    """Poll the subscription until it reaches a status (the API offers no push for this)."""
    deadline = time.monotonic() + 10
    while (state := hooked.get(path))["status"] != status:
        assert time.monotonic() < deadline, f"still {state['status']}"
        time.sleep(0.05)
    return dict(state)
