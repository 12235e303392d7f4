"""A backup moves between backends: exported from PostgreSQL and imported into SQLite, or the other
way, the log comes back row for row (ids, positions, stream versions, recorded_at to the
microsecond, hashes), so do every read model's tables, the chain verifies, and the restored log
exports to the same lines. The log holds the seed data and events whose payloads and metadata
carry numbers PostgreSQL's JSONB would rewrite if they reached it as written (ADR 0005)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from api.seeding import seed
from domain.backup_format import BackupError, encode, event_hash
from store.backup import export_log, import_log
from store.database import DatabaseUrl
from store.factory import open_store
from store.ports import EventQuery
from store.sql import SqlEventStore
from tests.builders import draft, raw_position, raw_source
from tests.clock import FrozenClock
from tests.support.backups import TABLES, append_figures, table_rows, with_figures

EXPORTED_AT = "2026-01-01T00:00:00+00:00"


@pytest.fixture
async def open_database(
    request: pytest.FixtureRequest, clock: FrozenClock
) -> AsyncIterator[Callable[[str], SqlEventStore]]:
    """Opens a fresh, migrated database of a backend; closed when the test is done."""
    opened: list[tuple[SqlEventStore, Any, DatabaseUrl]] = []

    def opening(backend: str) -> SqlEventStore:
        databases = request.getfixturevalue(f"{backend}_databases")
        url = databases.fresh()
        opened.append((open_store(url, clock), databases, url))
        return opened[-1][0]

    try:
        yield opening
    finally:
        for store, databases, url in opened:
            await store.close()
            databases.release(url)


async def fill(store: SqlEventStore, clock: FrozenClock) -> None:
    """The seed data, then the events carrying FIGURES."""
    await seed(store, clock)
    clock.advance(minutes=1)
    await append_figures(store)


async def export(store: SqlEventStore, path: Path) -> list[bytes]:
    with path.open("wb") as file:
        await export_log(store, file.write, exported_at=EXPORTED_AT)
    return lines(path)


def lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("origin", "destination"),
    [("postgresql", "sqlite"), ("sqlite", "postgresql")],
    ids=["postgresql-to-sqlite", "sqlite-to-postgresql"],
)
async def test_a_backup_restores_on_the_other_backend_row_for_row(
    origin: str,
    destination: str,
    open_database: Callable[[str], SqlEventStore],
    clock: FrozenClock,
    tmp_path: Path,
) -> None:
    source, target = open_database(origin), open_database(destination)
    await fill(source, clock)
    assert (await source.verify_chain()).ok
    backup = await export(source, tmp_path / "source.jsonl")

    report = await import_log(target, tmp_path / "source.jsonl")

    assert (report.events, report.head) == (70, 70)
    for name in TABLES:
        assert await table_rows(target, name) == await table_rows(source, name), name
    verified = await target.verify_chain()
    assert (verified.ok, verified.checked) == (True, 70)
    assert await target.chain_head() == await source.chain_head() == (70, report.head_hash)
    again = await export(target, tmp_path / "restored.jsonl")
    header, restored_header = json.loads(backup[0]), json.loads(again[0])
    assert (header["backend"], restored_header["backend"]) == (origin, destination)
    assert again[1:] == backup[1:]  # byte for byte, but for the header naming the backend


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("origin", "destination"),
    [("postgresql", "sqlite"), ("sqlite", "postgresql")],
    ids=["postgresql-to-sqlite", "sqlite-to-postgresql"],
)
async def test_the_restored_log_takes_the_same_appends_as_its_source(
    origin: str,
    destination: str,
    open_database: Callable[[str], SqlEventStore],
    clock: FrozenClock,
    tmp_path: Path,
) -> None:
    source, target = open_database(origin), open_database(destination)
    await fill(source, clock)
    await export(source, tmp_path / "source.jsonl")
    await import_log(target, tmp_path / "source.jsonl")
    clock.advance(seconds=1)
    later = with_figures(raw_position(stance="countered", source="figures-desk"))
    for store in (source, target):
        await store.append("after-restore", [later])
    assert await target.chain_head() == await source.chain_head()
    for name in TABLES:
        assert await table_rows(target, name) == await table_rows(source, name), name


@pytest.fixture
async def legacy_backup(
    open_database: Callable[[str], SqlEventStore], clock: FrozenClock, tmp_path: Path
) -> Path:
    """The backup of a log written before its numbers were canonical: on SQLite an event could
    keep `1e20` as a double, and its hash covers `1e20`."""
    store = open_database("sqlite")
    await store.append("sources", [draft(raw_source())])
    await store.append("figures", [draft(raw_position())])
    header, first, event, _ = (json.loads(line) for line in await export(store, tmp_path / "a"))
    event["payload"]["figures"] = {"huge": 1e20, "fine": [1.5, 7]}
    event["hash"] = event_hash(event, first["hash"])
    path = tmp_path / "legacy.jsonl"
    end = {"end": True, "events": 2, "head": 2, "head_hash": event["hash"]}
    path.write_bytes(b"".join(encode(v) for v in (header, first, event, end)))
    return path


@pytest.mark.postgres
async def test_a_backup_holding_numbers_jsonb_would_rewrite_is_refused_by_postgresql(
    open_database: Callable[[str], SqlEventStore], legacy_backup: Path
) -> None:
    target = open_database("postgresql")
    with pytest.raises(
        BackupError,
        match=r"^line 3: payload\.figures\.huge is 1e\+20, which PostgreSQL's JSONB would give "
        r"back as 100000000000000000000, .* restored into SQLite, not PostgreSQL$",
    ):
        await import_log(target, legacy_backup)
    assert await target.chain_head() == (0, None)


async def test_sqlite_restores_such_a_backup_as_it_is(
    open_database: Callable[[str], SqlEventStore], legacy_backup: Path
) -> None:
    target = open_database("sqlite")
    await import_log(target, legacy_backup)
    assert (await target.verify_chain()).ok
    restored = await target.read(EventQuery(stream="figures"))
    assert restored[0].draft.payload["figures"] == {"huge": 1e20, "fine": [1.5, 7]}
    assert isinstance(restored[0].draft.payload["figures"]["huge"], float)
