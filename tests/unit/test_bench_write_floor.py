"""The rebuild's write floor writes every row of every read model, and nothing else."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from bench.append import workload
from bench.synthetic import METADATA
from bench.write_floor import model_tables, write_floor
from store.database import DatabaseUrl
from store.factory import open_store
from store.schema import upgrade


def test_the_floor_writes_every_rebuilt_row_into_the_same_tables(tmp_path: Path) -> None:
    source = tmp_path / "log.db"
    url = DatabaseUrl(f"sqlite:///{source}")
    upgrade(url)
    work = workload(20)

    async def append() -> None:
        store = open_store(url)
        try:
            await store.append("registry", work.registrations, metadata=METADATA)
            await store.append("positions", list(work.events), metadata=METADATA)
        finally:
            await store.close()

    asyncio.run(append())
    scratch = tmp_path / "floor.db"
    assert write_floor(source, scratch, keep=True) > 0
    original, copy = sqlite3.connect(source), sqlite3.connect(scratch)
    try:
        written = {n for (n,) in copy.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert written == set(model_tables())
        for table in model_tables():
            rows = sorted(original.execute(f"SELECT * FROM {table}").fetchall())
            assert sorted(copy.execute(f"SELECT * FROM {table}").fetchall()) == rows
        assert original.execute("SELECT count(*) FROM positions").fetchone()[0] > 0
        # The indexes the rebuild keeps up while it fills, made before the rows went in.
        indexes = "SELECT count(*) FROM sqlite_master WHERE type='index' AND tbl_name='positions'"
        assert copy.execute(indexes).fetchone() == original.execute(indexes).fetchone()
    finally:
        original.close()
        copy.close()
    write_floor(source, scratch)
    assert not scratch.exists()
