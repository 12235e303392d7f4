"""`timeline export` on one backend, `timeline import` on the other, through the command line:
PostgreSQL to SQLite and SQLite to PostgreSQL. The restored log verifies (`timeline verify`),
exports to the same lines as its source but the header's backend, and holds the same rows in
the log and in every read model. The log is the seed data, loaded by `timeline seed`, and events
whose numbers PostgreSQL's JSONB would rewrite if they reached it as written (ADR 0005)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from api.cli import main
from store.database import DatabaseUrl
from store.factory import open_store
from tests.support.backups import TABLES, append_figures, table_rows

pytestmark = pytest.mark.postgres

SEEDED = 62


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def database(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> DatabaseUrl:
    """A fresh database of the backend, migrated by `timeline db upgrade` for SQLite."""
    if backend == "postgresql":
        url: DatabaseUrl = request.getfixturevalue("postgresql_databases").fresh()
        return url
    (tmp_path / backend).mkdir()
    return DatabaseUrl(f"sqlite:///{tmp_path / backend / 'timeline.db'}")


def using(url: DatabaseUrl, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIMELINE_DATABASE_URL", url.raw)
    assert run("db", "upgrade")[0] == 0


async def append_figures_to(url: DatabaseUrl) -> int:
    store = open_store(url)
    try:
        return await append_figures(store)
    finally:
        await store.close()


async def tables(url: DatabaseUrl) -> dict[str, list[bytes]]:
    store = open_store(url)
    try:
        return {name: await table_rows(store, name) for name in TABLES}
    finally:
        await store.close()


@pytest.mark.parametrize(
    ("origin", "destination"),
    [("postgresql", "sqlite"), ("sqlite", "postgresql")],
    ids=["postgresql-to-sqlite", "sqlite-to-postgresql"],
)
def test_a_backup_moves_to_the_other_backend_and_back_out_unchanged(
    origin: str,
    destination: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source, target = database(origin, request, tmp_path), database(destination, request, tmp_path)
    using(source, monkeypatch)
    code, _, said = run("seed")
    assert code == 0 and f"appended {SEEDED} seed events" in said, said
    count = SEEDED + asyncio.run(append_figures_to(source))
    backup = tmp_path / "backup.jsonl"
    code, _, said = run("export", "--output", str(backup))
    assert code == 0 and f"exported {count} events; head {count}" in said, said

    using(target, monkeypatch)
    code, _, said = run("import", str(backup))
    assert code == 0 and f"imported {count} events (head {count}" in said, said
    code, out, _ = run("verify")
    assert code == 0 and f"intact: {count} events checked; head {count}" in out, out
    again = tmp_path / "again.jsonl"
    assert run("export", "--output", str(again))[0] == 0

    first, restored = backup.read_bytes().splitlines(), again.read_bytes().splitlines()
    assert len(first) == count + 3  # the header, the events, the one text, the trailer
    assert restored[1:] == first[1:]  # byte for byte, the header aside
    assert (json.loads(first[0])["backend"], json.loads(restored[0])["backend"]) == (
        origin,
        destination,
    )
    assert asyncio.run(tables(target)) == asyncio.run(tables(source))
