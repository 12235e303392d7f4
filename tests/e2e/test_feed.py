"""The live feed over real HTTP: events in order, resumable by id, heartbeats, bounded lifetime."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

from tests.support import local_http
from tests.support.live import LiveServer

SEED_HEAD = 62


def sse(lines: Iterator[str]) -> Iterator[dict[str, Any]]:
    """Parse an event stream into messages ({id, event, data} or {comment})."""
    message: dict[str, Any] = {}
    for line in lines:
        if not line:
            if message:
                yield message
            message = {}
        elif line.startswith(":"):
            yield {"comment": line[1:].strip()}
        else:
            field, _, value = line.partition(":")
            message[field] = value.lstrip(" ")


def position_event(n: int) -> dict[str, Any]:
    return {
        "type": "StatementMade",
        "occurred_at": "2025-03-14",
        "payload": {"speaker": "donald-trump", "summary": f"statement {n}"},
        "sources": [{"source": "notus-2025-03-13"}],
    }


def append(live: LiveServer, *numbers: int) -> None:
    body = {"stream": "feed-test", "events": [position_event(n) for n in numbers]}
    response = local_http.post(f"{live.base}/v1/events", json=body, headers=live.writer)
    assert response.status_code == 201, response.text


def test_a_client_receives_events_appended_after_it_connected_in_order_within_a_second(
    live: LiveServer,
) -> None:
    with local_http.stream("GET", f"{live.base}/v1/feed?after={SEED_HEAD}", timeout=10) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        messages = sse(response.iter_lines())
        started = time.monotonic()
        append(live, 1, 2)
        append(live, 3)
        got = [m for m in _take_events(messages, 3)]
        assert time.monotonic() - started < 1.5
    assert [int(m["id"]) for m in got] == [SEED_HEAD + 1, SEED_HEAD + 2, SEED_HEAD + 3]
    assert [m["event"] for m in got] == ["StatementMade"] * 3
    data = json.loads(got[0]["data"])
    assert data["position"] == SEED_HEAD + 1
    assert data["payload"]["summary"] == "statement 1"
    listed = local_http.get(f"{live.base}/v1/events?after={SEED_HEAD}&limit=1").json()["items"][0]
    assert data == listed


def test_reconnecting_with_last_event_id_yields_exactly_the_missed_events(live: LiveServer) -> None:
    append(live, 1, 2, 3)
    headers = {"Last-Event-ID": str(SEED_HEAD + 1)}
    with local_http.stream("GET", f"{live.base}/v1/feed", headers=headers, timeout=10) as response:
        messages = sse(response.iter_lines())
        got = list(_take_events(messages, 2))
        assert [int(m["id"]) for m in got] == [SEED_HEAD + 2, SEED_HEAD + 3]
        heartbeat = next(m for m in messages if "comment" in m)
    assert heartbeat["comment"] == f"head {SEED_HEAD + 3}"


def test_filters_apply_to_the_stream(live: LiveServer) -> None:
    url = f"{live.base}/v1/feed?type=EventDisputed&after=0"
    with local_http.stream("GET", url, timeout=10) as response:
        got = list(_take_events(sse(response.iter_lines()), 5))
    assert {m["event"] for m in got} == {"EventDisputed"}


def test_a_stream_ends_after_its_lifetime_so_clients_reconnect_by_id(live: LiveServer) -> None:
    started = time.monotonic()
    with local_http.stream("GET", f"{live.base}/v1/feed?after={SEED_HEAD}", timeout=10) as response:
        for _ in response.iter_lines():
            pass
    assert 2.5 < time.monotonic() - started < 6


def _take_events(messages: Iterator[dict[str, Any]], count: int) -> Iterator[dict[str, Any]]:
    taken = 0
    for message in messages:
        if "id" in message:
            yield message
            taken += 1
            if taken == count:
                return
