"""Database outage drill: PostgreSQL stops for five seconds under load. Meanwhile the API
answers 503 problem documents with Retry-After (no 500s, no hangs); it recovers by itself;
nothing acknowledged is lost; a feed client resumes from its cursor without gaps."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from uuid import uuid4

import httpx
import pytest

from tests.reliability.private_cluster import Cluster, private_cluster
from tests.support import local_http
from tests.support.live import LiveServer, live_server, ready_database, register_wire, statement

OUTAGE_SECONDS = 5.0
# Longer than any answer may take: a request still open after this is a hang.
REQUEST_BOUND = 15.0
RECOVERY_BOUND = 60.0
PROPOSAL = "us-30-day-ceasefire-2025"


@dataclass
class Answer:
    """One request: what it was, when it started, how it ended, and how long it took."""

    kind: str
    started: float
    seconds: float
    status: int | None = None
    problem: bool = False
    retry_after: str | None = None
    error: str | None = None
    event: str | None = None


@dataclass
class Traffic:
    """Everything the load saw; shared by its threads."""

    answers: list[Answer] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, answer: Answer) -> None:
        with self.lock:
            self.answers.append(answer)

    def acknowledged(self) -> list[str]:
        with self.lock:
            return [
                a.event for a in self.answers if a.kind == "write" and a.status == 201 if a.event
            ]

    def acknowledged_since(self, moment: float) -> int:
        with self.lock:
            return sum(
                1
                for a in self.answers
                if a.kind == "write" and a.status == 201 and a.started > moment
            )


def call(
    client: httpx.Client,
    traffic: Traffic,
    kind: str,
    request: httpx.Request,
    event: str | None = None,
) -> None:
    started = time.monotonic()
    answer = Answer(kind=kind, started=started, seconds=0.0, event=event)
    try:
        response = client.send(request)
        answer.status = response.status_code
        answer.problem = response.headers.get("content-type", "").startswith(
            "application/problem+json"
        )
        answer.retry_after = response.headers.get("retry-after")
    except httpx.HTTPError as error:
        answer.error = f"{type(error).__name__}: {error}"
    answer.seconds = time.monotonic() - started
    traffic.record(answer)


def writer(server: LiveServer, traffic: Traffic, name: str) -> None:
    with local_http.client(
        base_url=server.base, timeout=REQUEST_BOUND, headers=server.writer
    ) as client:
        n = 0
        while not traffic.stop.is_set():
            n += 1
            event = {**statement(n), "id": str(uuid4())}
            body = {"stream": f"outage-{name}", "events": [event]}
            call(
                client,
                traffic,
                "write",
                client.build_request("POST", "/v1/events", json=body),
                event["id"],
            )


def reader(server: LiveServer, traffic: Traffic) -> None:
    paths = [
        f"/v1/proposals/{PROPOSAL}/positions/russia",
        f"/v1/timeline?proposal={PROPOSAL}",
        "/v1/health",
    ]
    with local_http.client(base_url=server.base, timeout=REQUEST_BOUND) as client:
        n = 0
        while not traffic.stop.is_set():
            path = paths[n % len(paths)]
            n += 1
            call(client, traffic, "read", client.build_request("GET", path))


@dataclass
class FeedReader:
    """An SSE client that reconnects with Last-Event-ID, as browsers do, and keeps every id."""

    base: str
    after: int
    ids: list[int] = field(default_factory=list)
    reconnects: int = 0
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self.stop.is_set():
            last = self.ids[-1] if self.ids else self.after
            try:
                with local_http.stream(
                    "GET",
                    f"{self.base}/v1/feed?after={self.after}",
                    headers={"Last-Event-ID": str(last)},
                    timeout=httpx.Timeout(5.0, read=5.0),
                ) as response:
                    if response.status_code != 200:
                        raise httpx.TransportError(f"feed answered {response.status_code}")
                    for line in response.iter_lines():
                        if line.startswith("id:"):
                            self.ids.append(int(line[3:].strip()))
                        if self.stop.is_set():
                            return
            except httpx.HTTPError:
                # The stream broke (the database went away, or a heartbeat was late): resume.
                pass
            self.reconnects += 1
            self.stop.wait(0.5)


@pytest.fixture
def outage_server(tmp_path: Path) -> Iterator[tuple[LiveServer, Cluster]]:
    """A seeded server on a private cluster the test may stop."""
    with private_cluster() as cluster:
        database = ready_database(cluster.url)
        settings = {"TIMELINE_SSE_HEARTBEAT": "0.5"}
        with live_server(database, tmp_path, settings=settings) as server:
            yield server, cluster


def wait_until(condition: object, bound: float, what: str) -> float:
    """Seconds until `condition()` held; fails after `bound`."""
    started = time.monotonic()
    while not condition():  # type: ignore[operator]
        if time.monotonic() - started > bound:
            pytest.fail(f"{what} did not happen within {bound} s")
        time.sleep(0.05)
    return time.monotonic() - started


def test_a_five_second_database_outage_under_load(
    outage_server: tuple[LiveServer, Cluster],
) -> None:
    server, cluster = outage_server
    register_wire(server.base, server.writer)
    head = local_http.get(f"{server.base}/v1/health").json()["head"]
    traffic = Traffic()
    feed = FeedReader(server.base, after=head)
    threads = [threading.Thread(target=writer, args=(server, traffic, str(n))) for n in range(4)]
    threads += [threading.Thread(target=reader, args=(server, traffic)) for _ in range(2)]
    threads.append(threading.Thread(target=feed.run))
    for thread in threads:
        thread.start()
    try:
        wait_until(lambda: traffic.acknowledged_since(0) >= 10, 30, "ten acknowledged writes")

        cluster.stop()
        down = time.monotonic()
        time.sleep(OUTAGE_SECONDS)  # the drill's outage: its length is the point, not an event
        cluster.start()
        up = time.monotonic()
        recovery = wait_until(
            lambda: traffic.acknowledged_since(up) >= 10, RECOVERY_BOUND, "writes after the outage"
        )
    finally:
        traffic.stop.set()
        for thread in threads[:-1]:
            thread.join(timeout=REQUEST_BOUND + 5)

    final = local_http.get(f"{server.base}/v1/health", timeout=10).json()["head"]
    wait_until(lambda: bool(feed.ids) and feed.ids[-1] >= final, 30, "the feed catching up")
    feed.stop.set()
    threads[-1].join(timeout=10)

    during = [a for a in traffic.answers if down <= a.started <= up]
    failures = [
        a for a in traffic.answers if a.status is not None and a.status >= 500 and a.status != 503
    ]
    refusals = [a for a in traffic.answers if a.status == 503]
    errors = [a for a in traffic.answers if a.error is not None]
    slowest = max(a.seconds for a in traffic.answers)
    acknowledged = traffic.acknowledged()
    present = logged_ids(server.base)
    print(
        f"\noutage drill: {len(traffic.answers)} requests, {len(during)} during the outage, "
        f"{len(refusals)} answered 503, {len(failures)} other 5xx, {len(errors)} transport errors; "
        f"slowest {slowest:.2f} s; recovered {recovery:.2f} s after the database returned; "
        f"{len(acknowledged)} writes acknowledged, "
        f"{sum(1 for e in acknowledged if e in present)} present; "
        f"feed reconnected {feed.reconnects} times, received {len(feed.ids)} events"
    )

    assert failures == []
    assert errors == []
    assert refusals, "no request met the outage: the drill tested nothing"
    assert all(a.problem and a.retry_after for a in refusals)
    assert slowest < REQUEST_BOUND
    assert all(present.get(e) == 1 for e in acknowledged)
    assert feed.ids == list(range(head + 1, final + 1))


def logged_ids(base: str) -> dict[str, int]:
    """How many times each event id is in the log."""
    counts: dict[str, int] = {}
    after = 0
    with local_http.client(base_url=base, timeout=30) as client:
        while True:
            page = client.get("/v1/events", params={"after": after, "limit": 1000}).json()
            for event in page["items"]:
                counts[event["id"]] = counts.get(event["id"], 0) + 1
                after = event["position"]
            if not page["items"]:
                return counts
