"""`rebuild_positions` replays the log from scratch and ends with the table the appends built."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from sqlalchemy import text

import store.rebuild as rebuild_module
from api.cli import main
from store.database import DatabaseUrl
from store.factory import open_store
from store.read_models.catalog import BY_NAME, NAMES
from store.rebuild import rebuild_positions
from store.sql import SqlEventStore
from tests.builders import draft, raw_editorial, raw_position
from tests.clock import FrozenClock
from tests.contract.test_positions_oracle import Scenario, logs
from tests.support.backends import SQL_BACKENDS

every_sql_backend = pytest.mark.parametrize("database_url", SQL_BACKENDS, indirect=True)


@pytest.fixture
async def store(database_url: DatabaseUrl, clock: FrozenClock) -> AsyncIterator[SqlEventStore]:
    """An empty store on the parametrised backend."""
    sql_store = open_store(database_url, clock)
    try:
        yield sql_store
    finally:
        await sql_store.close()


async def _append(store: SqlEventStore, clock: FrozenClock, *raws: dict[str, Any]) -> list[UUID]:
    clock.advance(minutes=5)
    result = await store.append(f"s-{uuid4().hex[:8]}", [draft(raw) for raw in raws])
    return [e.id for e in result.events]


async def eventful_log(store: SqlEventStore, clock: FrozenClock) -> None:
    """Statements in and out of order, conditions, and every kind of editorial event."""
    [ushakov] = await _append(
        store,
        clock,
        raw_position(
            "russia",
            "noncommittal",
            occurred_at="2025-03-13T10:00:00+03:00",
            timezone=None,
            speaker="yuri-ushakov",
        ),
    )
    [putin, ukraine] = await _append(
        store,
        clock,
        raw_position(
            "russia",
            "conditional",
            occurred_at="2025-03-13T20:00:00+03:00",
            timezone=None,
            speaker="vladimir-putin",
            conditions=[{"id": "kursk", "text": "Ukrainian troops leave Kursk"}],
        ),
        raw_position("ukraine", "accepted", occurred_at="2025-03-11", timezone="Europe/Kyiv"),
    )
    # Late: known only now, it happened before everything above.
    [late] = await _append(
        store, clock, raw_position("russia", "rejected", occurred_at="2025-03-12")
    )
    await _append(
        store,
        clock,
        {
            "type": "ConditionRaised",
            "occurred_at": "2025-03-14",
            "payload": {
                "actor": "russia",
                "proposal": "us-30-day-ceasefire-2025",
                "condition": {"id": "no-arms", "text": "Western arms deliveries stop"},
                "speaker": "vladimir-putin",
            },
            "sources": [{"source": "notus"}],
        },
    )
    # Corrections: one moves an event in valid time, one gives it to another actor.
    [moved] = await _append(
        store, clock, raw_editorial("EventCorrected", late, occurred_at="2025-03-15")
    )
    reassigned = dict(
        raw_position("belarus", "accepted", occurred_at="2025-03-11")["payload"],
        stance="accepted",
    )
    await _append(store, clock, raw_editorial("EventCorrected", ukraine, payload=reassigned))
    await _append(store, clock, raw_editorial("EventDisputed", putin))
    await _append(store, clock, raw_editorial("EventRetracted", ushakov))
    # A retracted correction undoes it: the late statement is back on the 12th.
    await _append(store, clock, raw_editorial("EventRetracted", moved))
    await _append(
        store,
        clock,
        {
            "type": "ConditionDropped",
            "occurred_at": "2025-03-16",
            "payload": {
                "actor": "russia",
                "proposal": "us-30-day-ceasefire-2025",
                "condition_id": "kursk",
            },
            "sources": [{"source": "notus"}],
        },
        raw_position("ukraine", "proposed", occurred_at="2025-03-10"),
    )


@every_sql_backend
async def test_a_rebuild_gives_the_rows_the_appends_made(
    store: SqlEventStore, clock: FrozenClock
) -> None:
    await eventful_log(store, clock)
    before = await store.position_rows()
    assert len({(r.actor, r.proposal) for r in before}) == 3
    assert any(r.recorded_to != 2**63 - 1 for r in before)  # superseded rows are in there too
    seen: list[tuple[int, int]] = []

    report = await rebuild_positions(store, lambda done, total: seen.append((done, total)), 4)

    assert await store.position_rows() == before
    head = await store.head()
    assert await store.checkpoint() == head == report.position == report.events
    assert report.rows == len(before)
    assert seen[0] == (0, head) and seen[-1] == (head, head)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)
    assert report.events_per_second > 0


@every_sql_backend
async def test_an_empty_log_rebuilds_to_an_empty_table(store: SqlEventStore) -> None:
    report = await rebuild_positions(store)

    assert (report.events, report.rows, report.position) == (0, 0, 0)
    assert await store.position_rows() == []
    assert await store.checkpoint() == 0


@every_sql_backend
async def test_a_rebuild_is_idempotent(store: SqlEventStore, clock: FrozenClock) -> None:
    await eventful_log(store, clock)
    first = await rebuild_positions(store, batch=3)
    rows = await store.position_rows()
    second = await rebuild_positions(store)

    assert await store.position_rows() == rows
    assert (second.events, second.rows, second.position) == (
        first.events,
        first.rows,
        first.position,
    )


@every_sql_backend
async def test_a_damaged_table_is_restored(store: SqlEventStore, clock: FrozenClock) -> None:
    await eventful_log(store, clock)
    before = await store.position_rows()
    async with store.engine.begin() as conn:
        await conn.execute(text("DELETE FROM positions WHERE actor = 'russia'"))
        await conn.execute(text("UPDATE positions SET recorded_to = 5 WHERE actor = 'belarus'"))
        await conn.execute(text("UPDATE projection_checkpoints SET position = 1"))
    assert await store.position_rows() != before

    await rebuild_positions(store)

    assert await store.position_rows() == before
    assert await store.checkpoint() == await store.head()


@every_sql_backend
async def test_events_appended_during_the_replay_are_replayed_too(
    store: SqlEventStore, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    await eventful_log(store, clock)
    replay_run = rebuild_module._Replay.run

    async def run_then_append(replay: Any, engine: Any, batch: int) -> None:
        await replay_run(replay, engine, batch)
        # The head moves after the last page was read, before the write transaction.
        await _append(store, clock, raw_position("russia", "withdrawn", occurred_at="2025-03-17"))
        await _append(store, clock, raw_position("nato", "proposed", occurred_at="2025-03-01"))

    monkeypatch.setattr(rebuild_module._Replay, "run", run_then_append)
    report = await rebuild_positions(store, batch=2)
    live = await store.position_rows()
    assert report.position == report.events == await store.head()
    assert await store.checkpoint() == report.position

    monkeypatch.undo()
    await rebuild_positions(store)
    assert await store.position_rows() == live
    assert {r.actor for r in live} >= {"nato", "russia"}


@every_sql_backend
def test_random_logs_rebuild_to_the_rows_the_appends_made(database_url: DatabaseUrl) -> None:
    loop = asyncio.new_event_loop()
    clock = FrozenClock()
    store = open_store(database_url, clock)

    async def check(batches: list[list[tuple[Any, ...]]]) -> None:
        scenario = Scenario()
        for batch in batches:
            clock.advance(seconds=1)
            await store.append(f"r-{uuid4().hex[:6]}", [scenario.draft(s) for s in batch])
        live = await store.position_rows()
        report = await rebuild_positions(store, batch=7)
        assert await store.position_rows() == live
        assert report.position == await store.checkpoint() == await store.head()

    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(batches=logs)
    def random_logs(batches: list[list[tuple[Any, ...]]]) -> None:
        loop.run_until_complete(check(batches))

    try:
        random_logs()
    finally:
        loop.run_until_complete(store.close())
        loop.close()


def test_timeline_projections_rebuild_says_what_it_did_and_changes_no_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("TIMELINE_DATABASE_URL", url)
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"]).exit_code == 0
    assert runner.invoke(main, ["seed"]).exit_code == 0

    async def rows_and_head() -> tuple[list[Any], int]:
        store = open_store(DatabaseUrl(url))
        try:
            return await store.position_rows(), await store.head()
        finally:
            await store.close()

    before, head = asyncio.run(rows_and_head())
    assert before

    result = runner.invoke(main, ["projections", "rebuild", "positions", "--batch", "10"])

    assert result.exit_code == 0, result.output
    assert f"replayed {head} events into {len(before)} rows of positions" in result.stderr
    assert "Traceback" not in result.output
    assert asyncio.run(rows_and_head()) == (before, head)

    every = runner.invoke(main, ["projections", "rebuild"])
    assert every.exit_code == 0, every.output
    assert "of positions, effective_events, registry" in every.stderr
    assert asyncio.run(rows_and_head()) == (before, head)

    unknown = runner.invoke(main, ["projections", "rebuild", "timeline"])
    assert unknown.exit_code == 2
    assert "no read model 'timeline'" in unknown.output and "Traceback" not in unknown.output

    status = runner.invoke(main, ["projections", "status"], terminal_width=200)
    assert status.exit_code == 0, status.output
    for name in ("positions", "effective_events", "registry"):
        line = next(row for row in status.stdout.splitlines() if f" {name} " in row)
        version = BY_NAME[name].version
        assert f"{version} (code {version})" in line and f" {head} " in line and "current" in line


def test_db_upgrade_rebuilds_the_models_whose_version_moved_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'stale.db'}"
    monkeypatch.setenv("TIMELINE_DATABASE_URL", url)
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"]).exit_code == 0
    assert runner.invoke(main, ["seed"]).exit_code == 0

    async def stale(version: int | None = None) -> list[str]:
        store = open_store(DatabaseUrl(url))
        try:
            if version is not None:
                async with store.engine.begin() as conn:
                    await conn.execute(
                        text(f"UPDATE projection_checkpoints SET version = {version}")
                    )
            return await rebuild_module.stale_models(store)
        finally:
            await store.close()

    assert asyncio.run(stale(0)) == list(NAMES)
    result = runner.invoke(main, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert f"of {', '.join(NAMES)}" in result.stderr
    assert asyncio.run(stale()) == []


def test_a_rebuild_without_a_database_is_one_line_of_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TIMELINE_DATABASE_URL", f"sqlite:///{tmp_path / 'never-migrated.db'}")

    result = CliRunner().invoke(main, ["projections", "rebuild"])

    assert result.exit_code == 1
    assert result.stderr.startswith("error:") and "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1
