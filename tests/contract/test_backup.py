"""Backup and restore on every SQL backend: a seeded log exported and imported into a fresh
database comes back row for row (hashes and recorded_at included) with the same read model; a
cut, edited or forged file, or a database that is not empty, is refused and nothing is written."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from api.seeding import seed
from domain.backup_format import BackupError, encode, event_hash
from store.backup import LogNotEmpty, export_log, import_log
from store.database import DatabaseUrl
from store.factory import open_store
from store.sql import SqlEventStore, events, refs
from tests.builders import draft
from tests.clock import FrozenClock
from tests.contract.test_quote_verification import sha
from tests.support.backends import SQL_BACKENDS
from tests.support.backups import DESK_TEXT, TABLES, append_figures, table_rows

pytestmark = pytest.mark.parametrize("database_url", SQL_BACKENDS, indirect=True)


@pytest.fixture
async def source(database_url: DatabaseUrl, clock: FrozenClock) -> AsyncIterator[SqlEventStore]:
    """A store holding the seed data set, appended the normal way."""
    store = open_store(database_url, clock)
    await seed(store, clock)
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture
async def target(
    database_url: DatabaseUrl, request: pytest.FixtureRequest, clock: FrozenClock
) -> AsyncIterator[SqlEventStore]:
    """An empty, migrated database of the same backend."""
    url = request.getfixturevalue(f"{database_url.backend}_databases").fresh()
    store = open_store(url, clock)
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture
async def backup(source: SqlEventStore, tmp_path: Path) -> Path:
    path = tmp_path / "log.jsonl"
    with path.open("wb") as file:
        report = await export_log(source, file.write, exported_at="2026-01-01T00:00:00+00:00")
    assert report.events == report.head == 62
    return path


async def table(store: SqlEventStore, which: Any, *order: Any) -> list[dict[str, Any]]:
    async with store.engine.connect() as conn:
        return [dict(r._mapping) for r in await conn.execute(select(which).order_by(*order))]


async def assert_empty(store: SqlEventStore) -> None:
    assert await store.chain_head() == (0, None)
    assert await table(store, refs, refs.c.position) == []
    assert await store.position_rows() == []
    assert await store.checkpoint() == 0


def lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


async def test_an_imported_log_equals_its_source_row_for_row(
    source: SqlEventStore, target: SqlEventStore, backup: Path
) -> None:
    calls: list[str] = []
    report = await import_log(
        target, backup, progress=lambda phase, _d, _t: calls.append(phase), batch=7
    )
    assert (report.events, report.head) == (62, 62)
    assert {"checking", "importing", "projecting"} <= set(calls)
    assert await table(target, events, events.c.position) == await table(
        source, events, events.c.position
    )
    ref_order = (refs.c.kind, refs.c.ref, refs.c.position)
    assert await table(target, refs, *ref_order) == await table(source, refs, *ref_order)
    assert await target.position_rows() == await source.position_rows()
    assert await target.checkpoint() == await source.checkpoint() == 62
    verified = await target.verify_chain()
    assert verified.ok and verified.checked == 62
    assert await target.chain_head() == await source.chain_head() == (62, report.head_hash)


async def test_the_restored_log_takes_appends_like_the_source(
    source: SqlEventStore, target: SqlEventStore, backup: Path
) -> None:
    await import_log(target, backup)
    same = draft()
    for store in (source, target):
        await store.append("after-restore", [same])
    assert await target.chain_head() == await source.chain_head()
    assert await target.position_rows() == await source.position_rows()


async def test_the_export_is_a_header_an_event_per_line_and_a_trailer(backup: Path) -> None:
    header, *body, end = (json.loads(line) for line in lines(backup))
    assert header["format"] == "diplomatic-timeline-log" and header["version"] == 2
    assert [e["position"] for e in body] == list(range(1, 63))
    assert isinstance(body[0]["recorded_at"], int) and len(body[0]["hash"]) == 64
    assert end == {"end": True, "events": 62, "head": 62, "head_hash": body[-1]["hash"]}


async def test_a_file_cut_in_the_middle_of_a_line_is_refused_naming_it(
    target: SqlEventStore, backup: Path, tmp_path: Path
) -> None:
    kept = lines(backup)
    cut = tmp_path / "cut.jsonl"
    cut.write_bytes(b"".join(kept[:20]) + kept[20][: len(kept[20]) // 2])
    with pytest.raises(BackupError, match=r"^line 21: .*truncated"):
        await import_log(target, cut)
    await assert_empty(target)


async def test_a_file_cut_at_a_line_boundary_lacks_its_trailer(
    target: SqlEventStore, backup: Path, tmp_path: Path
) -> None:
    cut = tmp_path / "cut.jsonl"
    cut.write_bytes(b"".join(lines(backup)[:-1]))  # every event, no trailer
    with pytest.raises(BackupError, match=r"^line 64: the file ends without its trailer"):
        await import_log(target, cut)
    await assert_empty(target)


async def test_an_edited_payload_is_refused_naming_its_line(
    target: SqlEventStore, backup: Path, tmp_path: Path
) -> None:
    kept = lines(backup)
    k = 30
    event = json.loads(kept[k - 1])
    event["payload"]["edited"] = True
    kept[k - 1] = encode(event)
    edited = tmp_path / "edited.jsonl"
    edited.write_bytes(b"".join(kept))
    with pytest.raises(BackupError, match=rf"^line {k}: the hash chain breaks"):
        await import_log(target, edited)
    await assert_empty(target)


async def test_a_forged_file_the_database_refuses_midway_writes_nothing(
    target: SqlEventStore, backup: Path, tmp_path: Path
) -> None:
    """A forger re-hashes the chain after giving event 40 the id of event 39: every line
    checks out, and the database refuses it only after earlier batches were inserted."""
    header, *body, _ = (json.loads(line) for line in lines(backup))
    body[39]["id"] = body[38]["id"]
    prev = body[38]["hash"]
    for event in body[39:]:
        event["hash"] = prev = event_hash(event, prev)
    end = {"end": True, "events": 62, "head": 62, "head_hash": prev}
    forged = tmp_path / "forged.jsonl"
    forged.write_bytes(b"".join(encode(v) for v in (header, *body, end)))
    with pytest.raises(
        BackupError, match=r"^line 32: the database refuses the events on lines 32-41"
    ):
        await import_log(target, forged, batch=10)
    await assert_empty(target)


async def test_a_database_whose_log_is_not_empty_is_refused(
    source: SqlEventStore, backup: Path
) -> None:
    before = await source.chain_head()
    with pytest.raises(LogNotEmpty, match="already holds 62 events"):
        await import_log(source, backup)
    assert await source.chain_head() == before


async def export_to(store: SqlEventStore, path: Path) -> list[bytes]:
    with path.open("wb") as file:
        await export_log(store, file.write, exported_at="2026-01-01T00:00:00+00:00")
    return lines(path)


async def test_texts_travel_with_the_log_and_are_checked_against_their_events(
    source: SqlEventStore, target: SqlEventStore, tmp_path: Path
) -> None:
    await append_figures(source)
    exported = await export_to(source, tmp_path / "texts.jsonl")
    [at] = [i for i, line in enumerate(exported) if b'"sha256"' in line and b'"text"' in line]
    assert json.loads(exported[at]) == {
        "text": DESK_TEXT,
        "sha256": sha(DESK_TEXT),
        "characters": len(DESK_TEXT),
    }
    assert json.loads(exported[at + 1])["type"] == "SourceTextAttached"
    edited = tmp_path / "edited.jsonl"
    edited.write_bytes(
        b"".join(
            [*exported[:at], exported[at].replace(b"made-up", b"made-on"), *exported[at + 1 :]]
        )
    )
    with pytest.raises(BackupError, match=rf"^line {at + 1}: the text does not have the SHA-256"):
        await import_log(target, edited)
    dropped = tmp_path / "dropped.jsonl"
    dropped.write_bytes(b"".join([*exported[:at], *exported[at + 1 :]]))
    with pytest.raises(BackupError, match=rf"^line {at + 1}: the text .* is not before it"):
        await import_log(target, dropped)
    await assert_empty(target)
    await import_log(target, tmp_path / "texts.jsonl")
    for name in TABLES:
        assert await table_rows(target, name) == await table_rows(source, name), name
    assert await target.reads.text(sha(DESK_TEXT)) == DESK_TEXT
    assert await export_to(target, tmp_path / "again.jsonl") == exported
