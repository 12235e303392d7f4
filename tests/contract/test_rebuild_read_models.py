"""`rebuild` replays the log into new tables beside the live ones and swaps them in: every read
model ends with exactly the rows the appends built, while appends go on."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any
from uuid import uuid4

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from sqlalchemy import select, text

import store.rebuild as rebuild_module
from store.database import DatabaseUrl
from store.factory import open_store
from store.read_models.catalog import MODELS, NAMES
from store.rebuild import rebuild, stale_models
from store.sql import SqlEventStore
from store.tables import metadata
from tests.clock import FrozenClock
from tests.contract.test_quote_verification import QUOTES, TEXTS, attachment, quoting, sha
from tests.contract.test_read_models_oracle import Scenario, logs
from tests.support.backends import SQL_BACKENDS

every_sql_backend = pytest.mark.parametrize("database_url", SQL_BACKENDS, indirect=True)
TABLES = [table for model in MODELS for table in model.tables]


async def model_rows(store: SqlEventStore) -> dict[str, list[Any]]:
    """Every row of every read model's table, in primary-key order."""
    found = {}
    async with store.engine.connect() as conn:
        for name in TABLES:
            table = metadata.tables[name]
            order = list(table.primary_key.columns)
            found[name] = [tuple(r) for r in await conn.execute(select(table).order_by(*order))]
    return found


@pytest.fixture
async def store(database_url: DatabaseUrl, clock: FrozenClock) -> AsyncIterator[SqlEventStore]:
    sql_store = open_store(database_url, clock)
    try:
        yield sql_store
    finally:
        await sql_store.close()


async def scenario_log(store: SqlEventStore, clock: FrozenClock, seed: int = 0) -> None:
    """Registrations, statements, meetings and every kind of editorial event."""
    scenario = Scenario()
    steps: list[list[tuple[Any, ...]]] = [
        [("actor", 0, 0, -1, 0), ("actor", 1, 2, 0, 1), ("source", 0, 0)],
        [("table", 0, 0, 2), ("state", 1, 0, "accepted", 3)],
        [("affiliation", 1, 2, True, 4), ("meeting", 0, 1, 0, 5)],
        [("rewrite", 3 + seed, 6, 1), ("move", 4, 6, 0)],
        [("retract", 7, 0, 0), ("dispute", 5, 0, 0), ("amend", 0, 1, 7)],
        [("rewrite", 1, 0, 0), ("retract", 9, 0, 0)],
    ]
    for batch in steps:
        clock.advance(seconds=1)
        await store.append(f"r-{uuid4().hex[:6]}", [scenario.draft(s) for s in batch])
    # Quotes checked against a source's text, before it and after it, and against its successor.
    source = scenario.sources[0]
    for drafts, which in [
        ([quoting((source, QUOTES[0]))], None),
        ([attachment(source, TEXTS[0]), quoting((source, QUOTES[4]), (source, QUOTES[1]))], 0),
        ([attachment(source, TEXTS[2 - seed % 2])], 2 - seed % 2),
    ]:
        clock.advance(seconds=1)
        texts = {} if which is None else {sha(TEXTS[which]): TEXTS[which]}
        await store.append(f"r-{uuid4().hex[:6]}", drafts, texts=texts)


@every_sql_backend
async def test_every_model_rebuilds_to_the_rows_the_appends_made(
    store: SqlEventStore, clock: FrozenClock
) -> None:
    await scenario_log(store, clock)
    before = await model_rows(store)
    assert all(before[name] for name in TABLES)
    seen: list[tuple[int, int]] = []

    report = await rebuild(store, progress=lambda done, total: seen.append((done, total)))

    assert await model_rows(store) == before
    assert report.models == NAMES and report.position == await store.head()
    assert seen[-1] == (report.position, report.position)
    assert await stale_models(store) == []


@every_sql_backend
async def test_one_model_rebuilds_alone_and_the_others_are_untouched(
    store: SqlEventStore, clock: FrozenClock
) -> None:
    await scenario_log(store, clock)
    before = await model_rows(store)
    async with store.engine.begin() as conn:
        await conn.execute(text("DELETE FROM registry"))
        await conn.execute(text("DELETE FROM effective_events WHERE kind = 'world'"))

    report = await rebuild(store, ["registry"])

    after = await model_rows(store)
    assert report.models == ("registry",)
    assert after["registry"] == before["registry"]
    assert after["effective_events"] != before["effective_events"]  # not rebuilt
    await rebuild(store, ["effective_events"])
    assert await model_rows(store) == before


@every_sql_backend
async def test_an_unknown_model_is_named_in_the_refusal(store: SqlEventStore) -> None:
    with pytest.raises(ValueError, match=r"no read model .timeline.*positions"):
        await rebuild(store, ["timeline"])


@every_sql_backend
async def test_appends_made_while_the_new_tables_fill_are_in_them_after_the_swap(
    store: SqlEventStore, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    await scenario_log(store, clock)
    fill = rebuild_module._Shadow.fill
    appended = False

    async def fill_then_append(*args: Any) -> int:
        nonlocal appended
        written = await fill(*args)
        if not appended:  # the head moves while the new tables are being written
            appended = True
            await scenario_log(store, clock, seed=1)
        return written

    monkeypatch.setattr(rebuild_module._Shadow, "fill", fill_then_append)
    report = await rebuild(store, batch=3)
    rebuilt = await model_rows(store)
    assert report.position == await store.head()

    monkeypatch.undo()
    await rebuild(store)  # from scratch, with nothing appended meanwhile
    assert await model_rows(store) == rebuilt


@every_sql_backend
async def test_a_model_whose_version_moved_on_is_stale_until_rebuilt(
    store: SqlEventStore, clock: FrozenClock
) -> None:
    await scenario_log(store, clock)
    async with store.engine.begin() as conn:
        await conn.execute(
            text("UPDATE projection_checkpoints SET version = 0 WHERE name = 'registry'")
        )
    assert await stale_models(store) == ["registry"]
    await rebuild(store, await stale_models(store))
    assert await stale_models(store) == []


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
        live = await model_rows(store)
        report = await rebuild(store, batch=7)
        assert await model_rows(store) == live
        assert report.position == await store.head()

    @settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(batches=logs)
    def random_logs(batches: list[list[tuple[Any, ...]]]) -> None:
        loop.run_until_complete(check(batches))

    try:
        random_logs()
    finally:
        loop.run_until_complete(store.close())
        loop.close()


@every_sql_backend
async def test_the_swapped_in_tables_have_every_index(
    store: SqlEventStore, clock: FrozenClock
) -> None:
    await scenario_log(store, clock)

    async def indexes() -> dict[str, set[str]]:
        async with store.engine.connect() as conn:
            return {name: await rebuild_module._index_names(conn, name) for name in TABLES}

    usual = {name: {str(index.name) for index in metadata.tables[name].indexes} for name in TABLES}
    before = await indexes()
    assert all(usual[name] <= before[name] for name in TABLES)
    await rebuild(store)
    once = await indexes()
    await rebuild(store)
    twice = await indexes()
    if store.engine.dialect.name == "postgresql":  # renamed back to their usual names
        assert once == twice == before
    else:  # SQLite cannot rename an index: the names alternate from one rebuild to the next
        assert all({f"{n}__rebuild" for n in usual[name]} <= once[name] for name in TABLES)
        assert twice == before


@every_sql_backend
async def test_appends_go_on_while_a_rebuild_runs_and_end_up_in_its_tables(
    store: SqlEventStore, clock: FrozenClock
) -> None:
    for seed in range(3):
        await scenario_log(store, clock, seed)
    done = asyncio.Event()
    appended = 0

    async def keep_appending() -> None:
        nonlocal appended
        while not done.is_set() or appended < 3:
            await scenario_log(store, clock)
            appended += 1
            await asyncio.sleep(0)

    async def rebuild_then_stop() -> None:
        try:
            await rebuild(store, batch=5)
        finally:
            done.set()

    await asyncio.gather(keep_appending(), rebuild_then_stop())
    live = await model_rows(store)
    await rebuild(store)
    assert await model_rows(store) == live
    assert appended >= 3


async def stored_state_texts(store: SqlEventStore) -> list[str]:
    """The positions' states as the database holds them, not decoded."""
    query = "SELECT state FROM positions ORDER BY actor, proposal, valid_from, recorded_from"
    async with store.engine.connect() as conn:
        return list((await conn.execute(text(query))).scalars())


@every_sql_backend
async def test_positions_states_are_stored_as_the_apis_compact_json_by_appends_and_rebuilds(
    store: SqlEventStore, clock: FrozenClock
) -> None:
    await scenario_log(store, clock)
    appended = await stored_state_texts(store)
    assert appended
    assert all(t == msgspec.json.encode(msgspec.json.decode(t)).decode() for t in appended)
    await rebuild(store, ["positions"])
    assert await stored_state_texts(store) == appended
