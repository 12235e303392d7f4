"""Backup and restore of the whole log as JSON Lines (the format: `domain.backup_format`).

Export streams the events table in position order, a page at a time, up to the head read when it
starts (positions are taken in commit order, so nothing can land below it later). Objects in the
JSON columns are written with their keys sorted, so the same log exports to the same bytes from
SQLite and from PostgreSQL (whose JSONB keeps keys in an order of its own).

Source texts travel with the log: each before the first event attaching it, checked against its
hash and against that event (see the format).

Import goes into an empty, migrated database only, in two passes over the file so that memory
stays bounded by a batch: the first checks every line (JSON, fields, positions, the hash chain,
the trailer) and writes nothing; the second, inside one transaction holding the append lock,
checks each line again as it inserts the events and their reference rows in batches, then
rebuilds every read model with the rebuild's own replay. Any refusal rolls all of it back.

A backup moves between backends: the numbers of a log are canonical (ADR 0005), and come back
from either database as written. Only a log written before that may hold a number PostgreSQL's
JSONB would change under its hash (`1e20`, `-0.0` kept as doubles on SQLite): PostgreSQL refuses
such a file up front, naming the line and the field; SQLite restores it as it is.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from uuid import UUID

from sqlalchemy import func, insert, select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.backup_format import (
    JSON_COLUMNS,
    BackupError,
    LogChecker,
    Summary,
    encode,
    header,
    is_text_line,
    text_line,
    trailer,
)
from domain.json_numbers import canonical_number, floats_in
from store.boundary import connection_failed, driver_errors, reading
from store.errors import DatabaseUnavailable, StoreError
from store.read_models.verification import ATTACHED
from store.read_models.verification_sql import store_texts, texts
from store.rebuild import rebuild_within
from store.rows import recorded_event, ref_rows
from store.sql import SqlEventStore
from store.tables import EventRefRow, EventRow

events = EventRow.__table__  # type: ignore[attr-defined]
refs = EventRefRow.__table__  # type: ignore[attr-defined]

# progress(phase, done, total): phases are "exporting", "checking" (bytes), "importing" and
# "projecting" (events).
BackupProgress = Callable[[str, int, int], None]
BATCH = 1000

_COUNT = select(func.count()).select_from(events)
_INSERT_EVENTS = insert(events)
_INSERT_REFS = insert(refs)


class LogNotEmpty(StoreError):
    """An import was aimed at a database whose log already holds events."""


@dataclass(frozen=True, slots=True)
class BackupReport:
    """What an export wrote or an import restored."""

    events: int
    head: int
    head_hash: str | None
    position_rows: int = 0


def line_of(row: Any) -> dict[str, Any]:
    # `row`: a mapping of the events table's columns (a RowMapping as fetched).
    """The backup line of an events row: every column, named as the hash chain names them."""
    return {
        "position": row["position"],
        "id": str(row["id"]),
        "stream": row["stream"],
        "stream_version": row["stream_version"],
        "type": row["type"],
        "schema_version": row["schema_version"],
        "occurred_at": row["occurred_at"],
        "timezone": row["occurred_timezone"],
        "occurred_earliest": row["occurred_earliest"],
        "occurred_latest": row["occurred_latest"],
        "occurred_precision": row["occurred_precision"],
        "occurred_qualifiers": row["occurred_qualifiers"],
        "recorded_at": row["recorded_at"],
        "actors": row["actors"],
        "payload": keys_sorted(row["payload"]),
        "sources": keys_sorted(row["sources"]),
        "codes": keys_sorted(row["codes"]),
        "metadata": keys_sorted(row["metadata"]),
        "hash": row["hash"],
    }


def keys_sorted(value: Any) -> Any:
    """JSON with every object's keys in sorted order: JSONB gives them back in its own order
    (shortest first), SQLite as written, and an export should not depend on which it came from."""
    if isinstance(value, dict):
        return {key: keys_sorted(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [keys_sorted(item) for item in value]
    return value


def row_of(line: Mapping[str, Any]) -> dict[str, Any]:
    """The events row a checked backup line restores."""
    row = {k: v for k, v in line.items() if k != "timezone"}
    row["id"] = UUID(line["id"])
    row["occurred_timezone"] = line["timezone"]
    return row


async def export_log(
    store: SqlEventStore,
    write: Callable[[bytes], object],
    *,
    exported_at: str,
    progress: BackupProgress | None = None,
    batch: int = BATCH,
) -> BackupReport:
    """Write the log to `write`, line by line, `batch` events read at a time."""
    if batch < 1:
        raise ValueError("batch must be at least 1")
    head, _ = await store.chain_head()
    write(encode(header(store.backend, exported_at)))
    count, last, head_hash = 0, 0, None
    written: set[str] = set()  # the texts written so far
    while last < head:
        statement = (
            select(events)
            .where(events.c.position > last, events.c.position <= head)
            .order_by(events.c.position)
            .limit(batch)
        )
        async with reading(store.engine) as conn:
            page = list(await conn.execute(statement))
        if not page:
            break
        for row in page:
            digest = row.payload.get("sha256") if row.type == ATTACHED else None
            if isinstance(digest, str) and digest not in written:
                write(encode(text_line(await _stored_text(store, digest))))
                written.add(digest)
            write(encode(line_of(row._mapping)))
        count += len(page)
        last, head_hash = page[-1].position, page[-1].hash
        if progress is not None:
            progress("exporting", count, head)
    if count != head:
        raise StoreError(f"the log holds {count} events up to head {head}: positions are missing")
    write(encode(trailer(count, head, head_hash)))
    return BackupReport(events=count, head=head, head_hash=head_hash)


async def _stored_text(store: SqlEventStore, digest: str) -> str:
    async with reading(store.engine) as conn:
        found = await conn.scalar(select(texts.c.text).where(texts.c.sha256 == digest))
    if found is None:
        raise StoreError(f"the text {digest} is attached in the log but not stored")
    return str(found)


async def import_log(
    store: SqlEventStore,
    path: Path,
    *,
    progress: BackupProgress | None = None,
    batch: int = BATCH,
) -> BackupReport:
    """Restore a backup into an empty log, whole or not at all (see the module's docstring)."""
    if batch < 1:
        raise ValueError("batch must be at least 1")
    async with store.engine.connect() as conn:
        await _refuse_a_non_empty_log(conn)
    summary = _check_file(path, progress, store.backend)
    with driver_errors():
        return await _write(store, path, summary, progress, batch)


def _check_file(path: Path, progress: BackupProgress | None, backend: str) -> Summary:
    """The first pass: every line checked, nothing written."""
    size = path.stat().st_size
    checker = LogChecker()
    done = 0
    for raw, _value in _checked(path, checker, backend):
        done += len(raw)
        if progress is not None and checker.line % BATCH == 0:
            progress("checking", done, size)
    summary = checker.finish()
    if progress is not None:
        progress("checking", size, size)
    return summary


def _checked(
    path: Path, checker: LogChecker, backend: str
) -> Iterator[tuple[bytes, dict[str, Any] | None]]:
    """Each raw line and, for event lines, the checked event (mapped as the store maps it)."""
    with path.open("rb") as file:
        for raw in file:
            value = checker.feed(raw)
            if value is not None and not is_text_line(value):
                try:
                    recorded_event(SimpleNamespace(**row_of(value)))
                except (ValueError, TypeError, KeyError) as error:
                    raise BackupError(checker.line, f"the event cannot be read: {error}") from None
                if backend == "postgresql":
                    _refuse_numbers_jsonb_rewrites(checker.line, value)
            yield raw, value


def _refuse_numbers_jsonb_rewrites(line: int, value: dict[str, Any]) -> None:
    """A number JSONB would give back otherwise than the line has it (a log written before its
    numbers were canonical, ADR 0005): restored, its event would no longer match its hash."""
    for column in JSON_COLUMNS:
        for path, number in floats_in(value[column], column):
            kept = jsonb_reading(number)
            if kept is not None:
                raise BackupError(
                    line,
                    f"{path} is {number!r}, which PostgreSQL's JSONB would give back as "
                    f"{kept!r}, and the event's hash covers it as written: this log can be "
                    "restored into SQLite, not PostgreSQL",
                )


def jsonb_reading(number: float) -> int | float | None:
    """What PostgreSQL gives back for a double sent as Python's JSON writes it, when that is
    not the same double: JSONB keeps a decimal, so `-0.0` loses its sign and an exponent
    (`1e+20`) comes back as the integer's digits."""
    if number == 0 and math.copysign(1.0, number) < 0:
        return 0.0
    if "e+" in repr(number):
        return canonical_number(number)
    return None


async def _write(
    store: SqlEventStore,
    path: Path,
    summary: Summary,
    progress: BackupProgress | None,
    batch: int,
) -> BackupReport:
    async with store.engine.connect() as conn:
        conn = await conn.execution_options(**store.write_options)
        async with conn.begin():
            await store.serialize(conn)
            await _refuse_a_non_empty_log(conn)  # again, under the append lock
            checker = LogChecker()
            rows: list[dict[str, Any]] = []
            first_line = 0
            inserted = 0
            for _raw, value in _checked(path, checker, store.backend):
                if value is None:
                    continue
                if is_text_line(value):
                    await store_texts(conn, {value["sha256"]: value["text"]})
                    continue
                if not rows:
                    first_line = checker.line
                rows.append(row_of(value))
                if len(rows) == batch:
                    inserted += await _insert(conn, rows, first_line)
                    rows = []
                    if progress is not None:
                        progress("importing", inserted, summary.events)
            if rows:
                inserted += await _insert(conn, rows, first_line)
            if checker.finish() != summary:
                raise BackupError(checker.line, "the file changed while it was being imported")
            if progress is not None:
                progress("importing", inserted, summary.events)

            def projected(done: int, total: int) -> None:
                if progress is not None:
                    progress("projecting", done, total)

            position_rows = await rebuild_within(conn, projected, max(batch, 5000), summary.events)
    return BackupReport(
        events=summary.events,
        head=summary.head,
        head_hash=summary.head_hash,
        position_rows=position_rows,
    )


async def _insert(conn: AsyncConnection, rows: list[dict[str, Any]], first_line: int) -> int:
    """One batch of events rows and their reference rows, exactly as given."""
    logged = (recorded_event(SimpleNamespace(**row)) for row in rows)
    index = [ref for e in logged for ref in ref_rows(e.position, e.draft, e.metadata)]
    try:
        await conn.execute(_INSERT_EVENTS, rows)
        if index:
            await conn.execute(_INSERT_REFS, index)
    except IntegrityError as error:
        raise BackupError(
            first_line,
            f"the database refuses the events on lines {first_line}-{first_line + len(rows) - 1}: "
            f"{error.orig}",
        ) from None
    return len(rows)


async def _refuse_a_non_empty_log(conn: AsyncConnection) -> None:
    try:
        count = int(await conn.scalar(_COUNT) or 0)
    except DBAPIError as error:
        if connection_failed(error) and "no such table" not in str(error.orig):
            raise DatabaseUnavailable(str(error.orig)) from error
        raise StoreError(
            f"the database cannot take an import ({error.orig}); is it migrated? "
            "(timeline db upgrade)"
        ) from None
    if count:
        raise LogNotEmpty(
            f"the log already holds {count} events: import needs an empty, migrated database"
        )
