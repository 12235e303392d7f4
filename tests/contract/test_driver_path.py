"""The write path's constant statements, sent straight to the driver (store.driver), answer
exactly as SQLAlchemy's execution of the same statements does, and fail as it fails."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError

from domain.references import ACTOR, PAIR, pair_key
from store.database import DatabaseUrl
from store.driver import execute
from store.factory import open_store
from store.projection import FOREVER
from store.sql import _BY_IDS, _HEAD, _INSERT_REFS, _STREAM_VERSIONS
from store.sql_positions import _OPEN_ROWS, _REFERRING
from tests.builders import drafts
from tests.clock import FrozenClock
from tests.support.backends import SQL_BACKENDS

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
