"""On PostgreSQL, recorded_at comes from the database's clock, read inside the serialised append
transaction: API processes whose own clocks disagree still stamp from one clock, so none of them
stamps an event before a moment another has answered as settled."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from sqlalchemy.engine import make_url

import store.sql
from domain.valid_time import to_micros
from store.factory import open_store
from tests.builders import draft, raw_source
from tests.clock import FrozenClock
from tests.databases import PostgresDatabases

pytestmark = pytest.mark.postgres

SKEW = timedelta(hours=1)


def database_now(url: str) -> int:
    libpq = make_url(url).set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(libpq) as conn:
        [moment] = conn.execute("SELECT clock_timestamp()").fetchone() or [None]
    assert isinstance(moment, datetime)
    return to_micros(moment)


@pytest.mark.parametrize("skew", [-SKEW, SKEW], ids=["process-behind", "process-ahead"])
async def test_a_process_whose_clock_is_off_stamps_with_the_databases(
    postgresql_databases: PostgresDatabases,
    monkeypatch: pytest.MonkeyPatch,
    skew: timedelta,
) -> None:
    monkeypatch.setattr(store.sql, "_system_clock", lambda: datetime.now(UTC) + skew)
    url = postgresql_databases.fresh()
    sql_store = open_store(url)
    try:
        before = database_now(url.raw)
        first = (
            await sql_store.append("s", [draft(raw_source("a")), draft(raw_source("b"))])
        ).events
        second = (await sql_store.append("s", [draft(raw_source("c"))])).events
        after = database_now(url.raw)
        stamps = [to_micros(e.recorded_at) for e in (*first, *second)]
        assert before <= stamps[0] < stamps[1] < stamps[2] <= after
    finally:
        await sql_store.close()
        postgresql_databases.release(url)


async def test_an_injected_clock_still_stamps_under_the_append_lock(
    postgresql_databases: PostgresDatabases, clock: FrozenClock
) -> None:
    """Tests keep their deterministic clock; the stamps still strictly increase from the log's
    last one, as the database clock's do."""
    url = postgresql_databases.fresh()
    sql_store = open_store(url, clock)
    try:
        first = (await sql_store.append("s", [draft(raw_source("a"))])).events[0]
        clock.advance(seconds=-60)  # an injected clock may go back; the stamps may not
        second = (await sql_store.append("s", [draft(raw_source("b"))])).events[0]
        assert first.recorded_at == clock() + timedelta(seconds=60)
        assert to_micros(second.recorded_at) == to_micros(first.recorded_at) + 1
    finally:
        await sql_store.close()
        postgresql_databases.release(url)
