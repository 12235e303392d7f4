"""The append benchmark's own pieces: the workload, the raw rows, the ratios (no server)."""

from __future__ import annotations

import asyncio
import socket
import sqlite3
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from bench.append import (
    BATCH,
    TASKS,
    Bench,
    Clones,
    Numbering,
    Poster,
    Workload,
    bounds,
    ratios,
    raw_appends,
    registered_memory_store,
    registered_store,
    replayed_appends,
    statement_bounds,
    verdicts,
    wire,
    workload,
)
from bench.positions import Databases
from bench.synthetic import METADATA
from domain.drafts import draft_from_json


def test_the_workload_is_deterministic_and_only_position_statements() -> None:
    first, second = workload(300), workload(300)
    assert first == second
    assert len(first.events) == 300
    assert {e.type for e in first.events} == {"PositionStated"}
    assert len(first.registrations) == 280
    assert all(e.valid_time.earliest < datetime(2025, 6, 1, tzinfo=UTC) for e in first.events)


def test_plans_spread_appends_over_the_streams_of_the_concurrent_writers() -> None:
    work = workload(250)
    batches = work.plan(250, BATCH)
    assert [len(drafts) for _, drafts in batches] == [100, 100, 50]
    assert [stream for stream, _ in batches] == ["positions-0", "positions-1", "positions-2"]
    singles = work.plan(250, 1)
    lanes = work.lanes(250)
    assert len(lanes) == TASKS
    assert sum(map(len, lanes.values())) == 250
    assert [d for s, [d] in singles if s == "positions-3"] == lanes["positions-3"]


def test_the_wire_form_reads_back_as_the_same_event() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    for draft in workload(200).events:
        again = draft_from_json(wire(draft), now=now, default_id=uuid4())
        assert again.id == draft.id
        assert again.payload == draft.payload
        assert again.sources == draft.sources
        assert again.valid_time.earliest == draft.valid_time.earliest
        assert again.valid_time.latest == draft.valid_time.latest


def test_raw_rows_number_events_as_the_store_does() -> None:
    work = workload(20)
    numbering = Numbering("sqlite")
    numbering.rows("registry", work.registrations)
    rows, refs = numbering.rows("positions-0", work.events[:3])
    assert [r["position"] for r in rows] == [281, 282, 283]
    assert [r["stream_version"] for r in rows] == [1, 2, 3]
    assert rows[0]["id"] == work.events[0].id.hex
    assert isinstance(rows[0]["payload"], str)
    assert {r["position"] for r in refs} == {281, 282, 283}
    stamps = [r["recorded_at"] for r in rows]
    assert stamps == sorted(set(stamps))


def keeping_bench(tmp_path: Path, work: Workload, keep: Callable[[Any], None]) -> Bench:
    """A SQLite bench whose databases are shown to `keep` before each is dropped."""

    class Keeping(Databases):
        def drop(self, url: Any) -> None:
            keep(url)
            super().drop(url)

    databases = Clones(Keeping("sqlite", tmp_path, ""))
    return Bench(backend="sqlite", databases=databases, work=work, folder=tmp_path)


def test_the_raw_ceiling_writes_the_rows_the_store_writes(tmp_path: Path) -> None:
    """Same columns, same values (but the time of recording, and so the hash) in `events` and
    `event_refs`."""
    count = 12
    work = workload(count)
    kept: dict[str, list[Any]] = {}

    def keep(url: Any) -> None:
        conn = sqlite3.connect(url.raw.removeprefix("sqlite:///"))
        events = conn.execute("SELECT * FROM events ORDER BY position").fetchall()
        refs = conn.execute("SELECT * FROM event_refs ORDER BY position, kind, ref").fetchall()
        conn.close()
        recorded_at, hash_ = 12, 18  # column indexes; the hash covers the time of recording
        assert all(len(e[hash_]) == 64 for e in events)
        kept.setdefault("rows", []).append(
            ([e[:recorded_at] + e[recorded_at + 1 : hash_] for e in events], refs)
        )

    bench = keeping_bench(tmp_path, work, keep)
    assert raw_appends(bench, count, 5, lambda n: None) > 0

    async def through_store() -> None:
        async with registered_store(bench, count) as store:
            for stream, drafts in work.plan(count, 5):
                await store.append(stream, drafts, metadata=METADATA)

    asyncio.run(through_store())
    bench.databases.close()  # the template: its rows are kept too, empty
    raw, stored, template = kept["rows"]
    assert template == ([], [])
    assert raw == stored
    assert bench.durability["raw"] == bench.durability["store"]
    assert bench.durability["raw"]["synchronous"] == "2"  # FULL


def test_the_replay_writes_exactly_what_the_store_wrote(tmp_path: Path) -> None:
    """The store's captured statements, replayed through the bare driver on a fresh database,
    leave every table as the store left it (the same stamps and hashes: it is the same SQL)."""
    count = 10
    tables = ("events", "event_refs", "positions", "effective_events", "registry")
    kept: list[dict[str, list[Any]]] = []

    def keep(url: Any) -> None:
        conn = sqlite3.connect(url.raw.removeprefix("sqlite:///"))
        kept.append({t: sorted(conn.execute(f"SELECT * FROM {t}").fetchall()) for t in tables})
        conn.close()

    bench = keeping_bench(tmp_path, workload(count), keep)
    assert asyncio.run(replayed_appends(bench, count, "single", lambda n: None)) > 0
    stored, replayed = kept
    assert replayed == stored
    assert len(stored["events"]) == len(bench.work.registrations) + count
    assert stored["positions"]


def test_ratios_and_targets_compare_medians() -> None:
    def rate(median: float) -> dict[str, float]:
        return {"median": median, "min": median, "max": median}

    rates = {
        "store_single": rate(80.0),
        "raw_single": rate(100.0),
        "store_batch100": rate(400.0),
        "raw_batch100": rate(1000.0),
    }
    measured = ratios(rates)
    assert measured == {"store_single / raw_single": 0.8, "store_batch100 / raw_batch100": 0.4}
    met = {v["target"].split(" ≥")[0]: v["met"] for v in verdicts(measured, "sqlite")}
    assert met == {"store_single": True, "store_batch100": False}


def test_bounds_add_the_drivers_time_to_the_stores_own_work() -> None:
    """With no overlap, a store that needs 1/memory s of its own per event and 1/raw s of the
    driver's cannot beat 1/(1/memory + 1/raw); overlapping writers are bounded by memory alone."""

    def rate(median: float) -> dict[str, float]:
        return {"median": median, "min": median, "max": median}

    rates = {
        "raw_single": rate(100.0),
        "memory_single": rate(300.0),  # 1/(1/300 + 1/100) = 75 events/s: 0.75 of raw
        "raw_batch100": rate(1000.0),
        "memory_concurrent8": rate(500.0),
        "eventsourcing_threads8": rate(100.0),
    }
    found = bounds(rates)
    assert found == pytest.approx(
        {"store_single / raw_single": 0.75, "store_concurrent8 / eventsourcing_threads8": 5.0}
    )  # no memory_batch100: no bound for the batched row
    [single] = [
        v
        for v in verdicts({"store_single / raw_single": 0.5}, "sqlite", found)
        if v["target"].startswith("store_single")
    ]
    assert single["measured"] == "0.50x (no database at all: at most 0.75x)"
    assert not single["met"]


def test_the_memory_contender_appends_the_store_s_events(tmp_path: Path) -> None:
    """The in-memory store takes the same appends and ends with the same positions as the
    store on a database: it does the same work, without the database."""
    count = 10
    work = workload(count)
    bench = keeping_bench(tmp_path, work, lambda url: None)

    async def positions_of(opened: Any) -> list[Any]:
        async with opened(bench, count, None) as store:
            for stream, drafts in work.plan(count, 5):
                await store.append(stream, drafts, metadata=METADATA)
            pairs = {(d.payload["actor"], d.payload["proposal"]) for d in work.events[:count]}
            now = 2**62
            return [await store.position(pair, now, now) for pair in sorted(pairs)]

    in_memory = asyncio.run(positions_of(registered_memory_store))
    on_sqlite = asyncio.run(positions_of(registered_store))
    bench.databases.close()
    assert in_memory == on_sqlite
    assert all(p is not None for p in in_memory)


class _Canned:
    """A loopback server answering each request with the next canned answer, split across
    several sends (so the poster must read until Content-Length, not just once)."""

    def __init__(self, answers: list[bytes]) -> None:
        self.seen: list[bytes] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.base = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._answers = answers
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        conn, _ = self._listener.accept()
        with conn:
            for answer in self._answers:
                request = b""
                while b"\r\n\r\n" not in request:
                    request += conn.recv(65536)
                head, _, body = request.partition(b"\r\n\r\n")
                length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
                while len(body) < length:
                    body += conn.recv(65536)
                self.seen.append(body)
                middle = len(answer) // 2
                conn.sendall(answer[:middle])
                conn.sendall(answer[middle:])

    def close(self) -> None:
        self._thread.join(timeout=5)
        self._listener.close()


def test_the_poster_reads_whole_answers_and_refuses_any_but_201() -> None:
    created = b'HTTP/1.1 201 Created\r\ncontent-length: 11\r\n\r\n{"ok":true}'
    refused = b'HTTP/1.1 409 Conflict\r\nContent-Length: 14\r\n\r\n{"no":"clash"}'
    server = _Canned([created, created, refused])
    try:
        poster = Poster(type("S", (), {"base": server.base, "key": "k"})())  # type: ignore[arg-type]
        with poster:
            for body in (b'{"a":1}', b'{"b":2}'):
                poster.send(poster.request(body))
            with pytest.raises(RuntimeError, match=r"409.*clash"):
                poster.send(poster.request(b'{"c":3}'))
    finally:
        server.close()

    assert server.seen == [b'{"a":1}', b'{"b":2}', b'{"c":3}']


def test_statement_bounds_put_the_stores_own_statements_in_place_of_the_drivers() -> None:
    """Its own work and its own statements one after the other, for 8 writers too (the work runs
    inside the serialized transaction, between the statements)."""

    def rate(median: float) -> dict[str, float]:
        return {"median": median, "min": median, "max": median}

    rates = {
        "raw_single": rate(100.0),
        "replayed_single": rate(80.0),
        "memory_single": rate(320.0),  # 1/(1/320 + 1/80) = 64 events/s: 0.64 of raw
        "memory_concurrent8": rate(500.0),
        "replayed_concurrent8": rate(125.0),  # 1/(1/500 + 1/125) = 100: 1.0x the peer
        "eventsourcing_threads8": rate(100.0),
        "memory_batch100": rate(1000.0),  # no replayed_batch100: no bound for the batched row
        "raw_batch100": rate(1000.0),
    }
    found = statement_bounds(rates)
    assert found == pytest.approx(
        {"store_single / raw_single": 0.64, "store_concurrent8 / eventsourcing_threads8": 1.0}
    )
    measured = {"store_single / raw_single": 0.5, "store_concurrent8 / eventsourcing_threads8": 0.8}
    said = {
        v["target"].split(" ≥")[0]: v["measured"]
        for v in verdicts(measured, "sqlite", bounds(rates), found)
    }
    assert said == {
        "store_single": "0.50x (no database at all: at most 0.76x; "
        "with its own statements: at most 0.64x)",
        "store_concurrent8": "0.80x (no database at all: at most 5.00x; "
        "with its own statements: at most 1.00x)",
    }
