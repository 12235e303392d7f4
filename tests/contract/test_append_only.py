"""The log is append-only: the database itself refuses to rewrite it, whoever connects."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from store.database import DatabaseUrl
from store.factory import open_store
from store.sql import SqlEventStore
from tests.builders import draft, raw_editorial, raw_source
from tests.clock import FrozenClock
from tests.support.backends import SQL_BACKENDS

BOTH = ("sqlite", "postgresql")
REWRITES = [
    (BOTH, "update-events", "UPDATE events SET stream = 'forged'"),
    (BOTH, "no-op-update", "UPDATE events SET payload = payload WHERE position = 2"),
    (BOTH, "delete-events", "DELETE FROM events"),
    (BOTH, "delete-one-event", "DELETE FROM events WHERE position = 3"),
    (BOTH, "update-refs", "UPDATE event_refs SET ref = 'forged'"),
    (BOTH, "delete-refs", "DELETE FROM event_refs"),
    (BOTH, "delete-one-ref", "DELETE FROM event_refs WHERE kind = 'target'"),
    (
        BOTH,
        "upsert-events",
        "INSERT INTO events SELECT * FROM events WHERE position = 1 "
        "ON CONFLICT (position) DO UPDATE SET stream = 'forged'",
    ),
    (("postgresql",), "truncate-events", "TRUNCATE events"),
    (("postgresql",), "truncate-refs", "TRUNCATE event_refs"),
    (("postgresql",), "truncate-both", "TRUNCATE events, event_refs"),
]


def rewrites() -> list[Any]:
    """Each statement on each SQL backend it exists on, with that backend's marks."""
    cases = []
    for backend in SQL_BACKENDS:
        name, marks = (
            (backend, ()) if isinstance(backend, str) else (backend.values[0], backend.marks)
        )
        cases.extend(
            pytest.param(name, statement, marks=marks, id=f"{name}-{case}")
            for backends, case, statement in REWRITES
            if name in backends
        )
    return cases


@pytest.fixture
async def store(database_url: DatabaseUrl, clock: FrozenClock) -> AsyncIterator[SqlEventStore]:
    """A store on the parametrised backend, holding a few events appended the normal way."""
    sql_store = open_store(database_url, clock)
    target = draft()
    await sql_store.append("sources", [draft(raw_source())])
    await sql_store.append("s", [target, draft()])
    await sql_store.append("editorial", [draft(raw_editorial("EventDisputed", target.id))])
    try:
        yield sql_store
    finally:
        await sql_store.close()


async def snapshot(store: SqlEventStore) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of both log tables, in key order."""
    async with store.engine.connect() as conn:
        events = await conn.execute(text("SELECT * FROM events ORDER BY position"))
        refs = await conn.execute(text("SELECT * FROM event_refs ORDER BY kind, ref, position"))
        return {"events": [tuple(r) for r in events], "event_refs": [tuple(r) for r in refs]}


@pytest.mark.parametrize(("database_url", "statement"), rewrites(), indirect=["database_url"])
async def test_the_database_refuses_to_rewrite_the_log(
    store: SqlEventStore, statement: str
) -> None:
    before = await snapshot(store)
    assert len(before["events"]) == 4
    assert len(before["event_refs"]) >= 4
    with pytest.raises(DBAPIError, match="append-only"):
        async with store.engine.begin() as conn:
            await conn.execute(text(statement))
    assert await snapshot(store) == before


@pytest.mark.parametrize("database_url", SQL_BACKENDS, indirect=True)
async def test_appending_still_works_after_a_refused_rewrite(store: SqlEventStore) -> None:
    with pytest.raises(DBAPIError, match="append-only"):
        async with store.engine.begin() as conn:
            await conn.execute(text("DELETE FROM events"))
    result = await store.append("s", [draft()])
    assert [e.position for e in result.events] == [5]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_the_database_refuses_to_replace_a_logged_event(store: SqlEventStore) -> None:
    before = await snapshot(store)
    try:
        async with store.engine.begin() as conn:
            await conn.execute(
                text(
                    "REPLACE INTO events SELECT position, id, 'forged', stream_version, type, "
                    "schema_version, occurred_at, occurred_timezone, occurred_earliest, "
                    "occurred_latest, occurred_precision, occurred_qualifiers, recorded_at, "
                    "actors, payload, sources, codes, metadata, hash FROM events WHERE position = 1"
                )
            )
    except DBAPIError as error:
        assert "append-only" in str(error)
    else:
        pytest.fail("REPLACE INTO events was accepted")
    assert await snapshot(store) == before
