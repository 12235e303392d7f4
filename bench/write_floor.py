"""The rebuild's write floor: the rows a rebuild wrote, made beforehand, written again by the bare
driver into an empty database with the same tables, indexes and settings.

No fold, no SQLAlchemy, no JSON serialisation is timed: only `executemany` and the commits, in
batches of the rebuild's own size (`store.rebuild.INSERT_BATCH`), on a connection set up as the
rebuild's writer is (WAL, `synchronous=FULL`, its page cache). A rebuild of every read model
cannot write faster than this, whatever its fold costs: so it is the ceiling for the rebuild's
events/s on this schema and this machine, measured in the same run as the rebuild itself.

The rows are read back from the rebuilt tables a batch at a time (untimed) and streamed across,
so a million-event log does not need its rows in memory at once. SQLite only: the issue's target
row is SQLite's.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path

from store.database import configure_sqlite_connection
from store.read_models.catalog import MODELS
from store.rebuild import INSERT_BATCH, WRITER_CACHE_KIB


def model_tables() -> list[str]:
    """Every read model's tables, in catalogue order."""
    return [table for model in MODELS for table in model.tables]


def write_floor(
    source: Path, scratch: Path, tables: Iterable[str] | None = None, *, keep: bool = False
) -> float:
    """Seconds the bare driver takes to write every row of these tables (every read model's
    when None) from `source` into a new database at `scratch`, removed afterwards unless kept."""
    _remove(scratch)
    reader = sqlite3.connect(source)
    writer = sqlite3.connect(scratch)
    try:
        configure_sqlite_connection(writer)
        writer.execute(f"PRAGMA cache_size=-{WRITER_CACHE_KIB}")
        seconds = 0.0
        for table in model_tables() if tables is None else tables:
            # The table and its indexes as the live database has them, made before the rows go
            # in: the rebuild's shadow tables are indexed while they fill, too.
            for (ddl,) in reader.execute(
                "SELECT sql FROM sqlite_master WHERE tbl_name = ? AND sql IS NOT NULL "
                "ORDER BY type = 'index'",
                (table,),
            ):
                writer.execute(ddl)
            rows = reader.execute(f"SELECT * FROM {table}")
            marks = ", ".join("?" for _ in rows.description)
            insert = f"INSERT INTO {table} VALUES ({marks})"
            while batch := rows.fetchmany(INSERT_BATCH):
                started = time.perf_counter()
                writer.execute("BEGIN IMMEDIATE")
                writer.executemany(insert, batch)
                writer.execute("COMMIT")
                seconds += time.perf_counter() - started
        return seconds
    finally:
        reader.close()
        writer.close()
        if not keep:
            _remove(scratch)


def _remove(database: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
