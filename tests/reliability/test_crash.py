"""Crash drill: a live server is SIGKILLed at random moments under concurrent writers and
restarted on the same database. Afterwards every acknowledged event is in the log exactly once
and where its acknowledgement said, positions and stream versions have no gaps, the read model
equals a fresh rebuild, an SSE client that resumed by Last-Event-ID saw every position once, and
a webhook receiver got every event at least once.

The kill moments come from a seeded random generator (`TIMELINE_DRILL_SEED`, logged), so a
failing run can be replayed. `TIMELINE_DRILL=long` makes more kills and more writing."""

from __future__ import annotations

import contextlib
import json
import os
import random
import sqlite3
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from sqlalchemy.engine import make_url

from store.postgres import APPEND_LOCK_KEY
from store.read_models.catalog import NAMES
from tests.databases import PostgresDatabases, SqliteDatabases
from tests.e2e.receiver import Reply, receiving
from tests.e2e.test_feed import sse
from tests.reliability.drill import (
    LONG,
    PROPOSAL,
    head,
    scaled,
    timeline,
    whole_log,
    write_artifact,
)
from tests.support import local_http
from tests.support.live import LiveServer, make_key, server_env

SEED = int(os.environ.get("TIMELINE_DRILL_SEED", "20250311"))
WRITERS = 4
KILLS = int(scaled(3, 10))
# After each (re)start, every writer has this many appends acknowledged before the next kill is
# armed; the kill then lands a random time later, while the writers keep going.
ACKS_BEFORE_KILL = int(scaled(5, 40))
KILL_DELAY = (0.0, scaled(0.8, 3.0))
ACKS_AFTER_LAST_RESTART = int(scaled(10, 100))
# A writer that cannot get one append acknowledged within this long has hung or lost its server.
APPEND_BOUND = 120.0
DRILL_BOUND = scaled(400, 1800)
DELIVERY_BOUND = scaled(60, 180)
SERVER_SETTINGS = {
    "TIMELINE_SSE_HEARTBEAT": "0.5",
    # Short stream lifetimes: the SSE client also resumes from ends the server chose.
    "TIMELINE_SSE_MAX_LIFETIME": "5",
    "TIMELINE_WEBHOOK_ALLOW_PRIVATE": "1",
    "TIMELINE_WEBHOOK_RETRY_SCHEDULE": "0,0.2,0.2,0.5,0.5,1,1,1",
    "TIMELINE_WEBHOOK_TIMEOUT": "2",
}
ACTORS = ["russia", "ukraine", "united-states"]
STANCES = ["proposed", "accepted", "conditional", "noncommittal", "rejected", "countered"]


def drill_event(rng: random.Random, writer: int, n: int) -> dict[str, Any]:
    """A PositionStated (so the read model moves) or a StatementMade, with a client-chosen id:
    a retry of the same body is the same event, which the store appends at most once."""
    event_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    day = f"2025-03-{rng.randint(1, 13):02d}"
    if n % 2 == 0:
        return {
            "id": event_id,
            "type": "PositionStated",
            "occurred_at": day,
            "payload": {
                "actor": rng.choice(ACTORS),
                "proposal": PROPOSAL,
                "stance": rng.choice(STANCES),
            },
            "sources": [{"source": "notus-2025-03-13"}],
        }
    return {
        "id": event_id,
        "type": "StatementMade",
        "occurred_at": day,
        "payload": {"speaker": "donald-trump", "summary": f"writer {writer} statement {n}"},
        "sources": [{"source": "notus-2025-03-13"}],
    }


@dataclass
class Progress:
    """Acknowledgements so far per writer; the kill loop waits on it instead of sleeping."""

    acks: list[int]
    changed: threading.Condition = field(default_factory=threading.Condition)

    def add(self, writer: int, count: int) -> None:
        with self.changed:
            self.acks[writer] += count
            self.changed.notify_all()

    def wait_each(self, beyond: Sequence[int], more: int, timeout: float) -> bool:
        """Until every writer has `more` acknowledgements beyond `beyond`."""
        with self.changed:
            return self.changed.wait_for(
                lambda: all(a >= b + more for a, b in zip(self.acks, beyond, strict=True)),
                timeout,
            )

    def snapshot(self) -> list[int]:
        with self.changed:
            return list(self.acks)


@dataclass
class Writer:
    """One client appending batches of 1-3 events to its own stream, retrying each batch (same
    body, same event ids) through errors and restarts until it is acknowledged."""

    index: int
    servers: Sequence[LiveServer]
    headers: dict[str, str]
    progress: Progress
    stop: threading.Event
    acked: dict[str, tuple[int, int]] = field(default_factory=dict)  # id -> (position, version)
    requests: int = 0
    transport_errors: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    error: BaseException | None = None

    @property
    def stream(self) -> str:
        return f"drill-writer-{self.index}"

    def run(self) -> None:
        try:
            self._write()
        except BaseException as error:  # reported by the test, not lost in the thread
            self.error = error

    def _write(self) -> None:
        rng = random.Random(SEED * 100 + self.index)
        target = self.index % len(self.servers)
        n = 0
        with local_http.client(timeout=httpx.Timeout(10.0)) as client:
            while not self.stop.is_set():
                batch = [drill_event(rng, self.index, n + i) for i in range(rng.randint(1, 3))]
                n += len(batch)
                body = {"stream": self.stream, "events": batch}
                deadline = time.monotonic() + APPEND_BOUND
                while True:
                    if time.monotonic() > deadline:
                        raise AssertionError(
                            f"{self.stream}: no acknowledgement in {APPEND_BOUND}s"
                        )
                    self.requests += 1
                    try:
                        response = client.post(
                            f"{self.servers[target].base}/v1/events",
                            json=body,
                            headers=self.headers,
                        )
                    except httpx.TransportError:
                        # Down or dying: retry, on the other process when there is one.
                        self.transport_errors += 1
                        target = (target + 1) % len(self.servers)
                        time.sleep(0.05)
                        continue
                    self.statuses[response.status_code] += 1
                    # 200: a retry of an append that landed before its answer was lost; the
                    # server answers with the events as first written. Both acknowledge.
                    if response.status_code in (200, 201):
                        for event in response.json()["events"]:
                            self.acked[event["id"]] = (event["position"], event["stream_version"])
                        self.progress.add(self.index, len(batch))
                        break
                    if response.status_code != 503:
                        raise AssertionError(
                            f"{self.stream}: {response.status_code} {response.text}"
                        )
                    time.sleep(float(response.headers.get("retry-after", "0.1")))


@dataclass
class Follower:
    """An SSE client that reconnects with Last-Event-ID whenever its stream ends or breaks."""

    server: LiveServer
    after: int
    seen: list[int] = field(default_factory=list)
    connections: int = 0
    broken: int = 0
    until: int | None = None
    done: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None

    def finish_at(self, position: int) -> None:
        self.until = position

    def run(self) -> None:
        try:
            self._follow()
        except BaseException as error:
            self.error = error
        finally:
            self.done.set()

    def _finished(self) -> bool:
        last = self.seen[-1] if self.seen else self.after
        return self.until is not None and last >= self.until

    def _follow(self) -> None:
        deadline = time.monotonic() + DRILL_BOUND
        while not self._finished():
            if time.monotonic() > deadline:
                raise AssertionError("the SSE client never caught up with the head")
            last = self.seen[-1] if self.seen else self.after
            try:
                with local_http.stream(
                    "GET",
                    f"{self.server.base}/v1/feed",
                    headers={"Last-Event-ID": str(last)},
                    timeout=httpx.Timeout(5.0),
                ) as response:
                    assert response.status_code == 200, response.read()
                    self.connections += 1
                    for message in sse(response.iter_lines()):
                        if "id" in message:
                            self.seen.append(int(message["id"]))
                        if self._finished():
                            return
            except httpx.TransportError:
                self.broken += 1
                time.sleep(0.05)


MODEL_TABLES = {
    "positions": "actor, proposal, valid_from, recorded_from",
    "effective_events": "position, recorded_from",
    "effective_event_actors": "actor, valid_earliest, position, recorded_from",
    "registry": "kind, subject, valid_from, recorded_from",
    "source_text_attachments": "source, recorded_from",
    "citation_checks": "position, citation, recorded_from",
}


def read_model(database_url: str) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Every row of every read model's table, and the projection checkpoints, sorted."""
    url = make_url(database_url)
    rows: list[tuple[Any, ...]] = []
    queries = [
        (table, f"SELECT * FROM {table} ORDER BY {key}") for table, key in MODEL_TABLES.items()
    ]
    marks_query = "SELECT name, position FROM projection_checkpoints WHERE name <> 'chain'"
    if url.get_backend_name() == "sqlite":
        with sqlite3.connect(str(url.database)) as conn:
            for table, query in queries:
                rows += [(table, *_decoded(r)) for r in conn.execute(query).fetchall()]
            marks = sorted(conn.execute(marks_query).fetchall())
    else:
        libpq = url.set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(libpq) as conn:
            for table, query in queries:
                rows += [(table, *tuple(r)) for r in conn.execute(query)]
            marks = sorted(tuple(r) for r in conn.execute(marks_query))
    return rows, marks


def _decoded(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """A SQLite row with its JSON text read back as the values PostgreSQL's driver returns."""
    return tuple(json.loads(v) if isinstance(v, str) and v[:1] in "{[" else v for v in row)


def rebuilt_read_model(env: dict[str, str]) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The read model after `timeline projections rebuild` on a copy (SQLite) or in place (the
    servers are stopped by then; on PostgreSQL the live rows were read before)."""
    url = make_url(env["TIMELINE_DATABASE_URL"])
    if url.get_backend_name() == "sqlite":
        original = Path(str(url.database))
        copy = original.with_name(f"{original.stem}-rebuilt.db")
        with sqlite3.connect(original) as source, sqlite3.connect(copy) as target:
            source.backup(target)
        env = {**env, "TIMELINE_DATABASE_URL": f"sqlite:///{copy}"}
    timeline(env, "projections", "rebuild")
    return read_model(env["TIMELINE_DATABASE_URL"])


def drill_servers(database: str, folder: Path, count: int) -> tuple[list[LiveServer], str]:
    """Servers (not started) on one seeded database, and a key that may append and subscribe."""
    key = make_key(database, "events:write", "subscriptions:write")
    env = server_env(database, SERVER_SETTINGS)
    logs = [folder / f"server-{n}.log" for n in range(1, count + 1)]
    return [LiveServer(database, key, log, env) for log in logs], key


def run_drill(
    backend: str, servers: Sequence[LiveServer], victims: Sequence[LiveServer], key: str
) -> None:
    """The drill itself; `servers` are running, each kill picks one of `victims`."""
    started = time.monotonic()
    rng = random.Random(SEED)
    headers = {"Authorization": f"Bearer {key}"}
    base = servers[0].base
    before = head(base)
    print(f"\n[crash drill {backend}] seed {SEED}, {KILLS} kills, {WRITERS} writers, head {before}")

    with receiving(lambda _: Reply(200)) as receiver:
        subscribed = local_http.post(
            f"{base}/v1/subscriptions",
            json={"url": receiver.url, "after": before},
            headers=headers,
            timeout=10,
        )
        assert subscribed.status_code == 201, subscribed.text

        follower = Follower(victims[0], before)
        progress = Progress([0] * WRITERS)
        stop = threading.Event()
        writers = [Writer(i, servers, headers, progress, stop) for i in range(WRITERS)]
        threads = [threading.Thread(target=w.run, daemon=True) for w in writers]
        threads.append(threading.Thread(target=follower.run, daemon=True))
        for thread in threads:
            thread.start()
        try:
            kill_log = kill_repeatedly(rng, victims, progress, writers)
            mark = progress.snapshot()
            assert progress.wait_each(mark, ACKS_AFTER_LAST_RESTART, APPEND_BOUND), (
                f"writers stalled after the last restart: {progress.snapshot()} from {mark}; "
                f"errors {[repr(w.error) for w in writers]}"
            )
        finally:
            stop.set()
            for thread in threads[:WRITERS]:
                thread.join(timeout=APPEND_BOUND + 15)
        for writer in writers:
            assert writer.error is None, f"writer {writer.index}: {writer.error!r}"
        assert not any(t.is_alive() for t in threads[:WRITERS]), "a writer hung"

        final = head(base)
        log = whole_log(base)
        follower.finish_at(final)
        figures = check_log(backend, log, final, writers)

        assert follower.done.wait(DELIVERY_BOUND), "the SSE client did not reach the head"
        assert follower.error is None, repr(follower.error)
        expected_positions = list(range(before + 1, final + 1))
        sse_duplicates = len(follower.seen) - len(set(follower.seen))
        sse_missing = sorted(set(expected_positions) - set(follower.seen))
        assert follower.seen == expected_positions, (
            f"SSE: {sse_duplicates} duplicates, missing {sse_missing[:20]}"
        )

        after_subscribing = {str(e["id"]) for e in log if e["position"] > before}
        delivered = receiver.wait_for(
            lambda _: after_subscribing <= set(receiver.delivered_ids()), DELIVERY_BOUND
        )
        undelivered = after_subscribing - set(receiver.delivered_ids())
        assert delivered, f"webhook: {len(undelivered)} events never delivered"
        hook_requests = len(receiver.requests)

    for server in servers:
        server.stop()
    env = servers[0].env
    live_model = read_model(env["TIMELINE_DATABASE_URL"])
    rebuilt_model = rebuilt_read_model(env)
    models = sorted((name, final) for name in NAMES)
    assert live_model[1] == rebuilt_model[1] == models, "checkpoints"
    assert len(live_model[0]) == len(rebuilt_model[0])
    assert live_model[0] == rebuilt_model[0], "the read model differs from a fresh rebuild"

    figures.update(
        seed=SEED,
        long=LONG,
        kills=sum(s.kills for s in servers),
        kill_log=kill_log,
        sse_events=len(follower.seen),
        sse_connections=follower.connections,
        sse_broken_connections=follower.broken,
        sse_duplicates=sse_duplicates,
        sse_missing=len(sse_missing),
        webhook_events=len(after_subscribing),
        webhook_requests=hook_requests,
        webhook_redeliveries=hook_requests - len(receiver.delivered_ids()),
        read_model_rows=len(live_model[0]),
        seconds=round(time.monotonic() - started, 1),
    )
    write_artifact(f"crash-{backend}.json", figures)
    print(
        f"[crash drill {backend}] kills survived {figures['kills']}; events acknowledged "
        f"{figures['acknowledged']} vs present {figures['present']}; duplicates "
        f"{figures['duplicates']}; lost {figures['lost']}; append requests {figures['requests']} "
        f"({figures['transport_errors']} transport errors, statuses {figures['statuses']}); "
        f"SSE {figures['sse_events']} events over {follower.connections} connections "
        f"({follower.broken} broken), 0 gaps, 0 duplicates; webhook {len(after_subscribing)} "
        f"events in {hook_requests} requests; read model {len(live_model[0])} rows = rebuild; "
        f"{figures['seconds']}s"
    )


def kill_repeatedly(
    rng: random.Random,
    victims: Sequence[LiveServer],
    progress: Progress,
    writers: Sequence[Writer],
) -> list[dict[str, Any]]:
    """KILLS times: once the writers are going, SIGKILL a server a random moment later and
    start it again on the same database."""
    kills = []
    for k in range(KILLS):
        mark = progress.snapshot()
        assert progress.wait_each(mark, ACKS_BEFORE_KILL, APPEND_BOUND), (
            f"writers stalled before kill {k + 1}: {progress.snapshot()} from {mark}; "
            f"errors {[repr(w.error) for w in writers]}"
        )
        delay = rng.uniform(*KILL_DELAY)
        victim = victims[rng.randrange(len(victims))]
        time.sleep(delay)  # the random moment itself: nothing to wait for
        acks = sum(progress.snapshot())
        victim.kill()
        restart_started = time.monotonic()
        victim.start()
        entry = {
            "kill": k + 1,
            "port": victim.port,
            "delay": round(delay, 3),
            "acknowledged_before": acks,
            "restart_seconds": round(time.monotonic() - restart_started, 2),
        }
        kills.append(entry)
        print(f"[crash drill] {entry}")
    return kills


def check_log(
    backend: str, log: list[dict[str, Any]], final: int, writers: Sequence[Writer]
) -> dict[str, Any]:
    """Every acknowledged event exactly once, where it was acknowledged; no gaps."""
    positions = [e["position"] for e in log]
    assert positions == list(range(1, final + 1)), "positions are not gap-free 1..head"
    counts = Counter(str(e["id"]) for e in log)
    duplicates = sum(c - 1 for c in counts.values())
    by_id = {str(e["id"]): e for e in log}
    acknowledged = {i: at for w in writers for i, at in w.acked.items()}
    lost = sorted(set(acknowledged) - set(by_id))
    misplaced = [
        i
        for i, (position, version) in acknowledged.items()
        if i in by_id and (by_id[i]["position"], by_id[i]["stream_version"]) != (position, version)
    ]
    drill_events = [e for e in log if str(e["stream"]).startswith("drill-writer-")]
    unacknowledged = [str(e["id"]) for e in drill_events if str(e["id"]) not in acknowledged]
    figures = {
        "backend": backend,
        "acknowledged": len(acknowledged),
        "present": sum(1 for i in acknowledged if i in by_id),
        "drill_events_in_log": len(drill_events),
        "duplicates": duplicates,
        "lost": len(lost),
        "misplaced": len(misplaced),
        "unacknowledged_present": len(unacknowledged),
        "head": final,
        "requests": sum(w.requests for w in writers),
        "transport_errors": sum(w.transport_errors for w in writers),
        "statuses": dict(sum((w.statuses for w in writers), Counter[int]())),
    }
    assert duplicates == 0, f"{duplicates} duplicated event ids"
    assert not lost, f"{len(lost)} acknowledged events lost: {lost[:10]}"
    assert not misplaced, f"acknowledged at another position or version: {misplaced[:10]}"
    assert not unacknowledged, "writers retry until acknowledged: none may be left unanswered"
    for writer in writers:
        versions = [e["stream_version"] for e in log if e["stream"] == writer.stream]
        assert versions == list(range(1, len(versions) + 1)), f"{writer.stream} versions"
        assert len(versions) == len(writer.acked)
    return figures


@pytest.fixture
def sqlite_server(
    sqlite_databases: SqliteDatabases, tmp_path: Path
) -> Iterator[tuple[LiveServer, str]]:
    """A seeded SQLite server that the drill may kill; stopped at the end whatever happens."""
    [server], key = drill_servers(sqlite_databases.seeded().raw, tmp_path, 1)
    try:
        server.start()
        yield server, key
    finally:
        server.stop()


def test_sqlite_server_killed_at_random_moments_loses_and_duplicates_nothing(
    sqlite_server: tuple[LiveServer, str],
) -> None:
    server, key = sqlite_server
    run_drill("sqlite", [server], [server], key)


@pytest.fixture
def postgres_servers(
    postgresql_databases: PostgresDatabases, tmp_path: Path
) -> Iterator[tuple[list[LiveServer], str]]:
    """Two seeded API processes on one fresh PostgreSQL database."""
    servers, key = drill_servers(postgresql_databases.seeded().raw, tmp_path, 2)
    try:
        for server in servers:
            server.start()
        yield servers, key
    finally:
        for server in servers:
            server.stop()


@pytest.mark.postgres
def test_postgres_process_killed_beside_a_live_one_loses_and_duplicates_nothing(
    postgres_servers: tuple[list[LiveServer], str],
) -> None:
    servers, key = postgres_servers
    run_drill("postgresql", servers, servers[:1], key)


@pytest.mark.postgres
def test_a_retry_with_the_idempotency_key_of_a_request_killed_mid_append_succeeds(
    postgresql_databases: PostgresDatabases, tmp_path: Path
) -> None:
    """Reserve a key, block its append on the append lock, SIGKILL the server, restart: a
    client retrying the same request (as Retry-After invites it to) must get it done."""
    [victim], key = drill_servers(postgresql_databases.seeded().raw, tmp_path, 1)
    try:
        victim.start()
        _kill_mid_append_and_retry(victim, key)
    finally:
        victim.stop()


def _kill_mid_append_and_retry(victim: LiveServer, key: str) -> None:
    libpq = (
        make_url(victim.env["TIMELINE_DATABASE_URL"])
        .set(drivername="postgresql")
        .render_as_string(hide_password=False)
    )
    headers = {"Authorization": f"Bearer {key}", "Idempotency-Key": "killed-mid-append"}
    body = {"stream": "idempotent", "events": [drill_event(random.Random(SEED), 0, 1)]}
    with psycopg.connect(libpq, autocommit=True) as lock:
        lock.execute("SELECT pg_advisory_lock(%s)", (APPEND_LOCK_KEY,))
        blocked = threading.Thread(
            target=lambda: _post_ignoring_errors(f"{victim.base}/v1/events", body, headers),
            daemon=True,
        )
        blocked.start()
        deadline = time.monotonic() + 30
        while not lock.execute("SELECT 1 FROM idempotency_records").fetchone():
            assert time.monotonic() < deadline, "the request never reserved its key"
            time.sleep(0.05)
        victim.kill()
        lock.execute("SELECT pg_advisory_unlock(%s)", (APPEND_LOCK_KEY,))
    blocked.join(timeout=30)
    victim.start()
    answers: list[int] = []
    deadline = time.monotonic() + 20
    with local_http.client(timeout=10) as client:
        while time.monotonic() < deadline:
            response = client.post(f"{victim.base}/v1/events", json=body, headers=headers)
            answers.append(response.status_code)
            if response.status_code != 409:
                break
            time.sleep(float(response.headers.get("retry-after", "1")))
    assert answers[-1] == 201, f"answers to the retries: {Counter(answers)}"


def _post_ignoring_errors(url: str, body: dict[str, Any], headers: dict[str, str]) -> None:
    """The request that is in flight when its server dies."""
    with contextlib.suppress(httpx.TransportError):
        local_http.post(url, json=body, headers=headers, timeout=60)
