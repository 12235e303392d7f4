"""The write path's constant statements, sent straight to the driver (store.driver), answer
exactly as SQLAlchemy's execution of the same statements does, and fail as it fails."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from domain.references import ACTOR, PAIR, pair_key
from store.blocking import SyncBridge, drive, pipelined
from store.database import DatabaseUrl
from store.driver import execute
from store.factory import open_store
from store.projection import FOREVER
from store.sql import _BY_IDS, _HEAD, _INSERT_REFS, _STREAM_VERSIONS
from store.sql_positions import _OPEN_ROWS, _REFERRING
from store.tables import EventRefRow
from tests.builders import drafts
from tests.clock import FrozenClock
from tests.support.backends import SQL_BACKENDS

refs = EventRefRow.__table__  # type: ignore[attr-defined]

pytestmark = pytest.mark.parametrize("database_url", SQL_BACKENDS, indirect=True)


def _rows(result: Any) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
    return [(tuple(r), dict(r._mapping)) for r in result]


async def test_constant_reads_answer_as_sqlalchemy_does(
    database_url: DatabaseUrl, clock: FrozenClock
) -> None:
    store = open_store(database_url, clock)
    try:
        written = await store.append("s", drafts(3, actor="russia", proposal="ceasefire"))
        await store.append("t", drafts(2, actor="ukraine", proposal="ceasefire"))
        ids = [e.id for e in written.events]
        cases: list[tuple[Any, dict[str, Any]]] = [
            (_BY_IDS, {"ids": ids}),
            (_STREAM_VERSIONS, {"streams": ["s", "t", "nope"]}),
            (_HEAD, {}),
            (_OPEN_ROWS, {"pairs": [("russia", "ceasefire"), ("ukraine", "ceasefire")]}),
            (
                _REFERRING,
                {"kind": PAIR, "keys": [pair_key("russia", "ceasefire")], "before": FOREVER},
            ),
        ]
        with store.blocking_engine.connect() as conn:
            for statement, parameters in cases:
                expected = _rows(conn.execute(statement, parameters))
                assert _rows(execute(conn, statement, parameters)) == expected, statement
            assert all(_rows(conn.execute(s, p)) for s, p in cases), "every case finds rows"
    finally:
        await store.close()


async def test_a_refused_write_raises_sqlalchemys_error(
    database_url: DatabaseUrl, clock: FrozenClock
) -> None:
    """The group's fallback to one savepoint each relies on a DBAPIError."""
    store = open_store(database_url, clock)
    try:
        appended = await store.append("s", drafts(1))
        position = appended.events[0].position
        with store.blocking_engine.connect() as conn, conn.begin():
            row = {"kind": ACTOR, "ref": "x", "position": position}
            execute(conn, _INSERT_REFS, [row])
            with pytest.raises(IntegrityError):  # the refs table keys on (kind, ref, position)
                execute(conn, _INSERT_REFS, [row])
    finally:
        await store.close()


async def test_writes_in_a_pipeline_land_and_a_refused_one_fails_at_its_end(
    database_url: DatabaseUrl, clock: FrozenClock
) -> None:
    """The write region (`SyncBridge.pipelined`: one round trip on PostgreSQL) writes what it
    is given, and a refusal in it comes out as SQLAlchemy's error by the region's end, inside
    the savepoint around it, which rolls back alone."""
    store = open_store(database_url, clock)
    try:
        appended = await store.append("s", drafts(1))
        position = appended.events[0].position
        count = select(func.count()).select_from(refs).where(refs.c.ref.like("piped-%"))
        with store.blocking_engine.connect() as conn, conn.begin():
            bridge = SyncBridge(conn)

            async def landing() -> None:
                async with pipelined(bridge):
                    for name in ("piped-a", "piped-b"):
                        row = {"kind": ACTOR, "ref": name, "position": position}
                        execute(conn, _INSERT_REFS, [row])

            drive(landing())
            assert conn.scalar(count) == 2

            async def refused() -> None:
                async with bridge.begin_nested(), pipelined(bridge):
                    row = {"kind": ACTOR, "ref": "piped-c", "position": position}
                    execute(conn, _INSERT_REFS, [row])
                    execute(conn, _INSERT_REFS, [row])  # the same key again

            with pytest.raises(IntegrityError):
                drive(refused())
            assert conn.scalar(count) == 2  # the savepoint took back piped-c; a and b stay
        with store.blocking_engine.connect() as conn:
            assert conn.scalar(count) == 2
    finally:
        await store.close()
