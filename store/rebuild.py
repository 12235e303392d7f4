"""Rebuild read models from the log, beside the live ones, and swap them in.

The replay feeds each event, in position order, through the same projectors the append path runs
(`store.projection`, `store.read_models`), here over an in-memory index and rows: each event is
projected at its own recorded_at, so the rows come out as the live tables hold them.

The rows are then written into new tables beside the live ones (`<table>__rebuild`), in short
transactions of their own: appends and reads go on meanwhile. Only the last step is serialised
with appends (BEGIN IMMEDIATE on SQLite, the append advisory lock on PostgreSQL): it replays what
was appended since, writes what that changed (rows opened or closed after the replayed head),
drops the live tables, renames the new ones into their place, builds their indexes and moves the
models' checkpoints and versions on. Readers see the old tables until that commit, the new after.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from itertools import islice
from operator import attrgetter
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Index,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    bindparam,
    delete,
    select,
    text,
    update,
)
from sqlalchemy import event as sqlalchemy_event
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import ExternallyTraversible, replacement_traverse

from domain.drafts import Citation
from domain.editorial import LoggedEvent
from domain.event_types import EVENT_TYPES
from domain.valid_time import from_micros
from store.database import create_blocking_engine
from store.memory_positions import MemoryLogIndex, MemoryPositionRows
from store.projection import FOREVER, Row, project
from store.read_models.catalog import BY_NAME, MODELS, NAMES
from store.read_models.effective import Version, project_effective
from store.read_models.memory import MemoryEffectiveRows, MemoryRegistryRows
from store.read_models.registry import project_registry
from store.read_models.sql import (
    effective,
    entry_values,
    lane_values,
    lanes,
    registry,
    version_values,
)
from store.read_models.verification import project_verification
from store.read_models.verification_memory import MemoryVerificationRows
from store.read_models.verification_sql import (
    attachment_values,
    attachments,
    check_values,
    checks,
    texts,
)
from store.read_path import ReadPath, constant
from store.rows import valid_time_of
from store.sql import SqlEventStore
from store.sql_positions import checkpoints, events, positions, values_of
from store.tables import json_text

Progress = Callable[[int, int], None]
INSERT_BATCH = 10_000
WRITER_CACHE_KIB = 512 * 1024  # SQLite's page cache for the connection writing new tables
SHADOW = "__rebuild"
RETIRED = "__retired"


@dataclass(frozen=True, slots=True, kw_only=True)
class RebuildReport:
    """What a rebuild did, and how fast."""

    events: int
    rows: int
    position: int
    seconds: float
    replay_seconds: float
    write_seconds: float
    models: tuple[str, ...] = ("positions",)
    swap_seconds: float = 0.0  # how long appends waited for the final transaction

    @property
    def events_per_second(self) -> float:
        """Events replayed per second of the whole rebuild."""
        return self.events / self.seconds if self.seconds > 0 else 0.0


# What the projectors read of an event (see `_logged`): no actors, codes or metadata (three JSON
# documents fewer to decode per event), nor the stream or the hash.
_COLUMNS = [
    events.c[name]
    for name in (
        "position",
        "id",
        "type",
        "schema_version",
        "occurred_at",
        "occurred_timezone",
        "occurred_earliest",
        "occurred_latest",
        "occurred_precision",
        "occurred_qualifiers",
        "recorded_at",
        "payload",
        "sources",
    )
]
# Yield to the event loop this often while replaying, so the next page is fetched meanwhile.
_YIELD_EVERY = 250


class _Replay:
    """The log replayed so far into an in-memory index and the rows of the chosen models."""

    def __init__(self, models: Iterable[str], progress: Progress | None, total: int) -> None:
        wanted = set(models)
        self.models = wanted
        self.index = MemoryLogIndex()
        self.positions = MemoryPositionRows() if "positions" in wanted else None
        # The registry is folded from the effective events' versions.
        needs_versions = bool(wanted & {"effective_events", "registry"})
        self.effective = MemoryEffectiveRows() if needs_versions else None
        self.registry = MemoryRegistryRows() if "registry" in wanted else None
        self.source: Any = None  # where stored texts are read from (an engine or a connection)
        self.verification = (
            MemoryVerificationRows(load=self._text) if "quote_verification" in wanted else None
        )
        self.position = 0
        self.recorded_at = 0  # the last replayed event's, in UTC microseconds
        self.count = 0
        self.total = total
        self._progress = progress

    async def _text(self, sha256: str) -> str | None:
        statement = select(texts.c.text).where(texts.c.sha256 == sha256)
        if isinstance(self.source, AsyncConnection):
            found = await self.source.scalar(statement)
        else:
            async with self.source.connect() as conn:
                found = await conn.scalar(statement)
        return None if found is None else str(found)

    async def run(self, store: SqlEventStore, batch: int) -> None:
        """Replay the log as it is now, page by page, fetching each page during the last."""
        self.source = store.engine
        page = await _read_page(store.read_path, self.position, batch)
        while page:
            following = (
                asyncio.ensure_future(_read_page(store.read_path, page[-1].position, batch))
                if len(page) == batch
                else None
            )
            try:
                await self.replay(page)
            except BaseException:
                if following is not None:
                    following.cancel()
                raise
            page = await following if following is not None else []

    async def replay(self, page: Sequence[Any]) -> None:
        """Project one page of events, in position order."""
        for i, row in enumerate(page):
            if row.position != self.position + 1:
                raise RuntimeError(f"the log skips from position {self.position} to {row.position}")
            entry = self.index.add_logged(_logged(row))
            if self.positions is not None:
                await project(entry, self.index, self.positions)
            if self.effective is not None:
                change = await project_effective(entry, self.index, self.effective)
                if change is not None and self.registry is not None:
                    await project_registry(change, self.effective, self.registry)
            if self.verification is not None:
                await project_verification(entry, self.index, self.verification)
            self.position, self.recorded_at = row.position, row.recorded_at
            if i % _YIELD_EVERY == 0:
                await asyncio.sleep(0)
        self.count += len(page)
        self.total = max(self.total, self.count)
        if self._progress is not None and page:
            self._progress(self.count, self.total)

    def full_tables(self) -> list[tuple[Table, Iterator[tuple[Any, ...]]]]:
        """Each table the chosen models own, with every row as a tuple of its column values in
        the table's column order, made as they are written (never all at once): the rows are
        the replay's own objects, read by attribute, without a dict per row on the way."""
        found: list[tuple[Table, Iterator[tuple[Any, ...]]]] = []
        if self.positions is not None:
            found.append((positions, _tuples(positions, self._sorted_positions())))
        if self.effective is not None and "effective_events" in self.models:
            versions = self.effective.versions
            found.append((effective, _tuples(effective, iter(versions))))
            found.append((lanes, _lane_tuples(versions)))
        if self.registry is not None:
            found.append((registry, _tuples(registry, iter(self.registry.entries))))
        if self.verification is not None:
            found.append((attachments, _tuples(attachments, iter(self.verification.attachments))))
            found.append((checks, _tuples(checks, iter(self.verification.checks))))
        return found

    def _sorted_positions(self) -> Iterator[Row]:
        """Every position row in key order, so the inserts go in index order: a pair at a time
        (sorting ten thousand pairs and each pair's few rows, not millions of rows at once)."""
        if self.positions is None:
            return
        by_pair = self.positions.rows
        for pair in sorted(by_pair):
            yield from sorted(by_pair[pair], key=_row_key)

    def tables(self, since: int | None = None) -> list[tuple[Table, list[dict[str, Any]]]]:
        """Each table the chosen models own, with its rows as column values; with `since`,
        only the rows opened or closed after that transaction time."""

        def changed(recorded_from: int, recorded_to: int) -> bool:
            return since is None or recorded_from > since or since < recorded_to < FOREVER

        found: list[tuple[Table, list[dict[str, Any]]]] = []
        if self.positions is not None:
            # Sorted (by key: the inserts go in index order) only when all of them are written.
            rows = (
                self.positions.all_rows()
                if since is None
                else [r for pair in self.positions.rows.values() for r in pair]
            )
            found.append(
                (positions, [values_of(r) for r in rows if changed(r.recorded_from, r.recorded_to)])
            )
        if self.effective is not None and "effective_events" in self.models:
            versions = [
                v for v in self.effective.versions if changed(v.recorded_from, v.recorded_to)
            ]
            found.append((effective, [version_values(v) for v in versions]))
            found.append((lanes, [row for v in versions for row in lane_values(v)]))
        if self.registry is not None:
            entries = self.registry.entries
            found.append(
                (
                    registry,
                    [entry_values(e) for e in entries if changed(e.recorded_from, e.recorded_to)],
                )
            )
        if self.verification is not None:
            found.append(
                (
                    attachments,
                    [
                        attachment_values(a)
                        for a in self.verification.attachments
                        if changed(a.recorded_from, a.recorded_to)
                    ],
                )
            )
            found.append(
                (
                    checks,
                    [
                        check_values(c)
                        for c in self.verification.checks
                        if changed(c.recorded_from, c.recorded_to)
                    ],
                )
            )
        return found


_PAGE = constant(
    select(*_COLUMNS)
    .where(events.c.position > bindparam("after"))
    .order_by(events.c.position)
    .limit(bindparam("limit"))
)


async def _read_page(reads: ReadPath, after: int, limit: int) -> list[Any]:
    """A page of the log through the bare driver, in a worker thread (JSON decoded by msgspec,
    no SQLAlchemy result machinery): a third of a replay's own time went to reading pages
    through the async engine, most of it json.loads."""
    async with reads.reading(inline=False) as conn:
        return list(await conn.execute(_PAGE, {"after": after, "limit": limit}))


async def _fetch(conn: AsyncConnection, after: int, limit: int) -> list[Any]:
    """A page of the log inside the caller's transaction (the swap's, an import's)."""
    return list(await conn.execute(_PAGE, {"after": after, "limit": limit}))


def _logged(row: Any) -> LoggedEvent:
    """A row of the events table as the fold reads it: `store.projection.logged` of
    `store.rows.recorded_event`, without the draft and the recorded event between them."""
    return LoggedEvent(
        id=row.id,
        position=row.position,
        recorded_at=from_micros(row.recorded_at),
        type=row.type,
        valid_time=valid_time_of(row),
        payload=EVENT_TYPES[row.type].upcast(row.schema_version, row.payload),
        sources=tuple(Citation(source=s["source"], quote=s.get("quote")) for s in row.sources),
    )


def _chosen(names: Sequence[str] | None) -> tuple[str, ...]:
    if not names:
        return NAMES
    unknown = [n for n in names if n not in BY_NAME]
    if unknown:
        raise ValueError(f"no read model {unknown[0]!r}: the models are {', '.join(NAMES)}")
    return tuple(n for n in NAMES if n in names)


async def rebuild(
    store: SqlEventStore,
    names: Sequence[str] | None = None,
    progress: Progress | None = None,
    batch: int = 5000,
) -> RebuildReport:
    """Replay the whole log into new tables for the named read models (all when none are
    named) and swap them in; each ends identical to what the appends would have built.

    `progress(done, total)` is called after each page of `batch` events. Appends and reads go
    on meanwhile; appends wait only for the final swap, and what they add before it is replayed
    too."""
    if batch < 1:
        raise ValueError("batch must be at least 1")
    models = _chosen(names)
    started = time.perf_counter()
    replay = _Replay(models, progress, await store.head())
    if progress is not None:
        progress(0, replay.total)
    with _collector_paused():
        await replay.run(store, batch)
        replayed_at = time.perf_counter()
        snapshot = replay.recorded_at
        shadows = {}
        row_count = 0
        with _BlockingWriter(store) as writer:
            for table, tuples in replay.full_tables():
                shadows[table.name] = shadow = await _Shadow.beside(store, table)
                row_count += await shadow.fill(store, writer, tuples)
        swap_started = time.perf_counter()
        async with store.engine.connect() as conn:
            conn = await conn.execution_options(**store.write_options)
            async with conn.begin():
                await store.serialize(conn)
                # Appends that landed since the last page; no more can land until commit.
                while tail := await _fetch(conn, replay.position, batch):
                    await replay.replay(tail)
                for table, rows in replay.tables(since=snapshot):
                    await shadows[table.name].catch_up(conn, rows, snapshot)
                    await shadows[table.name].swap(conn)
                await _mark_current(conn, models, replay.position)
        swapped = time.perf_counter()
        for shadow in shadows.values():
            await shadow.retire(store)
            await shadow.analyze(store)
        finished = time.perf_counter()
        report = RebuildReport(
            events=replay.count,
            rows=row_count,
            position=replay.position,
            seconds=finished - started,
            replay_seconds=replayed_at - started,
            write_seconds=finished - replayed_at,
            models=models,
            swap_seconds=swapped - swap_started,
        )
        # Freed here by reference counting, before the collector would walk them all once more.
        del replay
    return report


async def rebuild_positions(
    store: SqlEventStore, progress: Progress | None = None, batch: int = 5000
) -> RebuildReport:
    """Rebuild the positions read model alone."""
    return await rebuild(store, ("positions",), progress, batch)


async def rebuild_within(
    conn: AsyncConnection, progress: Progress | None = None, batch: int = 5000, total: int = 0
) -> int:
    """Rebuild every read model from the log as this connection sees it, inside the caller's
    transaction (which must hold the append lock): its rows replace the tables' when that
    transaction commits. Returns the number of position rows."""
    if batch < 1:
        raise ValueError("batch must be at least 1")
    replay = _Replay(NAMES, progress, total)
    replay.source = conn  # the texts an import wrote are in this transaction
    with _collector_paused():
        while tail := await _fetch(conn, replay.position, batch):
            await replay.replay(tail)
        count = 0
        for table, rows in replay.tables():
            await conn.execute(delete(table))
            await _insert(conn, table.name, table, rows)
            if table is positions:
                count = len(rows)
        await _mark_current(conn, NAMES, replay.position)
        del replay
    return count


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelStatus:
    """A read model's state: the version its rows were written by, its checkpoint, its lag."""

    name: str
    about: str
    version: int
    stored_version: int | None
    checkpoint: int
    lag: int

    @property
    def current(self) -> bool:
        """Whether the rows are this code's and up to the log's head."""
        return self.stored_version == self.version and self.lag == 0


async def model_status(store: SqlEventStore) -> list[ModelStatus]:
    """Every read model's status, in catalog order."""
    head = await store.head()
    async with store.engine.connect() as conn:
        stored = {r.name: r for r in await conn.execute(select(checkpoints))}
    found = []
    for model in MODELS:
        row = stored.get(model.name)
        checkpoint = int(row.position) if row is not None else 0
        found.append(
            ModelStatus(
                name=model.name,
                about=model.about,
                version=model.version,
                stored_version=None if row is None else int(row.version),
                checkpoint=checkpoint,
                lag=head - checkpoint,
            )
        )
    return found


async def stale_models(store: SqlEventStore) -> list[str]:
    """The read models whose stored version is not their code's (rebuild these)."""
    async with store.engine.connect() as conn:
        stored = {
            r.name: r.version
            for r in await conn.execute(select(checkpoints.c.name, checkpoints.c.version))
        }
    return [n for n in NAMES if stored.get(n) != BY_NAME[n].version]


class _Shadow:
    """A new table beside a live one: the same columns, primary key and indexes, under names
    free beside the live one's, filled in short transactions of its own, then swapped in.

    Its indexes are made while it is empty and kept up as it fills, so the swap holds appends
    only for a drop and renames. PostgreSQL renames the indexes to their usual names too;
    SQLite cannot rename an index, so there a model's indexes alternate between their usual
    names and `<name>__rebuild` from one rebuild to the next."""

    def __init__(self, live: Table, table: Table, renames: dict[str, str]) -> None:
        self.live = live
        self.table = table
        self.renames = renames  # shadow index name -> the usual one
        self.retired = f"{live.name}{RETIRED}"

    async def analyze(self, store: SqlEventStore) -> None:
        """Statistics for PostgreSQL's planner: a table swapped in has none, and without them
        it sorts the whole timeline instead of reading its index (244 ms for a page at 100k
        events, 0.15 ms after)."""
        if store.engine.dialect.name == "postgresql":
            async with store.engine.begin() as conn:
                await conn.exec_driver_sql(f"ANALYZE {self.live.name}")

    async def retire(self, store: SqlEventStore) -> None:
        """Empty and drop the table the swap set aside, a batch per short transaction."""
        if store.engine.dialect.name != "sqlite":
            return
        # Its indexes first, each in one short transaction (dropping an index frees its pages
        # without visiting its entries); then each batch deleted touches the table alone,
        # instead of an entry in every index per row (at a million events, most of the time).
        async with _writing(store) as conn:
            names = await _index_names(conn, self.retired)
        for name in sorted(names):
            if not name.startswith("sqlite_autoindex_"):  # the primary key's: it goes with it
                async with _writing(store) as conn:
                    await conn.exec_driver_sql(f"DROP INDEX IF EXISTS {name}")
        while True:
            async with _writing(store) as conn:
                gone = await conn.exec_driver_sql(
                    f"DELETE FROM {self.retired} WHERE rowid IN "
                    f"(SELECT rowid FROM {self.retired} LIMIT {INSERT_BATCH})"
                )
                if gone.rowcount < INSERT_BATCH:
                    await conn.exec_driver_sql(f"DROP TABLE {self.retired}")
                    return

    @classmethod
    async def beside(cls, store: SqlEventStore, live: Table) -> _Shadow:
        async with _writing(store) as conn:
            # One an interrupted rebuild left behind holds index names the new table needs.
            await conn.exec_driver_sql(f"DROP TABLE IF EXISTS {live.name}{RETIRED}")
            taken = await _index_names(conn, live.name)
        key = PrimaryKeyConstraint(
            *(c.name for c in live.primary_key.columns), name=f"{live.name}{SHADOW}_pkey"
        )
        table = Table(live.name + SHADOW, MetaData(), *(c._copy() for c in live.columns), key)
        renames = {}
        for index in live.indexes:
            usual = str(index.name)
            name = usual + SHADOW if usual in taken else usual
            renames[name] = usual
            Index(
                name,
                *(
                    table.c[e] if isinstance(e, str) else _on(table, live, e)
                    for e in index.expressions
                ),
            )
        return cls(live, table, renames)

    async def fill(
        self, store: SqlEventStore, writer: _BlockingWriter, rows: Iterator[tuple[Any, ...]]
    ) -> int:
        """Create the table and write the rows into it, a batch per short transaction; returns
        how many. Each batch is made here while the one before is written in the writer's
        thread (the driver works there without the GIL), so the two overlap."""
        async with _writing(store) as conn:
            await conn.run_sync(lambda sync: self.table.drop(sync, checkfirst=True))
            await conn.run_sync(self.table.create)
        statement = _insert_statement(store.engine.dialect.paramstyle, self.table)
        count = 0
        pending: asyncio.Future[None] | None = None
        try:
            while chunk := list(islice(rows, INSERT_BATCH)):
                if pending is not None:
                    await pending
                pending = writer.write(statement, chunk)
                count += len(chunk)
            if pending is not None:
                await pending
        except BaseException:
            if pending is not None:
                await asyncio.wait([pending])  # never leave a batch half-written behind us
            raise
        return count

    async def catch_up(
        self, conn: AsyncConnection, changed: list[dict[str, Any]], snapshot: int
    ) -> None:
        """From the snapshot's rows to the replay's: the rows opened after the snapshot are
        inserted, the older ones closed after it are closed here too."""
        opened = [r for r in changed if r["recorded_from"] > snapshot]
        closed = [r for r in changed if r["recorded_from"] <= snapshot]
        if closed:
            keys = [c.name for c in self.live.primary_key.columns]
            await conn.execute(
                update(self.table)
                .where(*(self.table.c[k] == bindparam(f"b_{k}") for k in keys))
                .values(recorded_to=bindparam("b_recorded_to")),
                [{f"b_{k}": r[k] for k in [*keys, "recorded_to"]} for r in closed],
            )
        await _insert(conn, self.table.name, self.live, opened)

    async def swap(self, conn: AsyncConnection) -> None:
        """The new table in place of the live one. PostgreSQL drops the old one at once (its
        files are unlinked); SQLite would free its pages one by one, so there it is set aside
        and emptied afterwards, a batch per transaction (see `retire`)."""
        if conn.dialect.name == "sqlite":
            await conn.exec_driver_sql(f"DROP TABLE IF EXISTS {self.retired}")
            await conn.exec_driver_sql(f"ALTER TABLE {self.live.name} RENAME TO {self.retired}")
        else:
            await conn.run_sync(self.live.drop)
        await conn.exec_driver_sql(f"ALTER TABLE {self.table.name} RENAME TO {self.live.name}")
        if conn.dialect.name == "postgresql":
            await conn.exec_driver_sql(
                f"ALTER TABLE {self.live.name} RENAME CONSTRAINT {self.table.name}_pkey "
                f"TO {self.live.name}_pkey"
            )
            for name, usual in self.renames.items():
                if name != usual:
                    await conn.exec_driver_sql(f"ALTER INDEX {name} RENAME TO {usual}")


class _BlockingWriter:
    """Batches of rows written in a thread of its own, over a blocking connection of its own,
    each in a transaction taken as appends take theirs: the event loop goes on meanwhile (it
    makes the next batch), and each batch is one hop, not one per statement."""

    def __init__(self, store: SqlEventStore) -> None:
        self._engine = create_blocking_engine(store.engine)
        self._options = store.write_options
        if self._engine.dialect.name == "sqlite":
            sqlalchemy_event.listen(self._engine, "connect", _large_cache)
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="timeline-rebuild")

    def __enter__(self) -> _BlockingWriter:
        return self

    def __exit__(self, *_: object) -> None:
        self._thread.shutdown(wait=True)
        self._engine.dispose()

    def write(self, statement: str, rows: list[tuple[Any, ...]]) -> asyncio.Future[None]:
        """Start writing one batch; the future is done when it is committed."""
        return asyncio.get_running_loop().run_in_executor(
            self._thread, self._write, statement, rows
        )

    def _write(self, statement: str, rows: list[tuple[Any, ...]]) -> None:
        with self._engine.connect() as conn:
            conn = conn.execution_options(**self._options)
            with conn.begin():
                conn.exec_driver_sql(statement, rows)


def _large_cache(dbapi_connection: Any, _record: Any) -> None:
    """A page cache for this connection alone that holds the new tables' index pages: their
    keys come in no useful order, and with SQLite's default 2 MB cache each insert reads and
    writes pages back and forth once the tables outgrow it."""
    dbapi_connection.execute(f"PRAGMA cache_size=-{WRITER_CACHE_KIB}")


def _insert_statement(paramstyle: str, table: Table) -> str:
    mark = "?" if paramstyle in ("qmark", "numeric") else "%s"
    columns = [c.name for c in table.columns]
    return (
        f"INSERT INTO {table.name} ({', '.join(columns)}) "
        f"VALUES ({', '.join(mark for _ in columns)})"
    )


def _tuples(table: Table, objects: Iterator[Any]) -> Iterator[tuple[Any, ...]]:
    """Objects whose attributes are named as the table's columns, as rows of column values.

    JSON values are serialised as the column's own type serialises them (`json_text`), so the
    stored text matches the live table's; a closed row and its successor share one state
    object, serialised once."""
    names = [c.name for c in table.columns]
    values = attrgetter(*names)
    as_json = [
        (i, write) for i, c in enumerate(table.columns) if (write := json_text(c.type)) is not None
    ]
    if not as_json:
        yield from map(values, objects)
        return
    texts: dict[int, str] = {}
    last: Any = texts  # no row's value: the first is always looked up
    last_text = ""
    for row in objects:
        found = list(values(row))
        for i, write in as_json:
            value = found[i]
            if value is not last:  # the usual case when it repeats: the row just before's
                text = texts.get(id(value))
                if text is None:
                    if len(texts) >= INSERT_BATCH:
                        texts.clear()  # ids are only safe to key on while their rows are held
                    text = texts[id(value)] = write(value)
                last, last_text = value, text
            found[i] = last_text
        yield tuple(found)


def _lane_tuples(versions: Iterable[Version]) -> Iterator[tuple[Any, ...]]:
    """The timeline's by-actor index rows of every version, as `lane_values` has them."""
    names = [c.name for c in lanes.columns]
    if names[0] != "actor":
        raise RuntimeError(f"lanes' columns are {names}: _lane_tuples expects the actor first")
    values = attrgetter(*names[1:])
    for version in versions:
        actors = version.actors
        if actors:
            rest = values(version)
            for actor in actors:
                yield (actor, *rest)


def _row_key(row: Row) -> tuple[int, int]:
    return (row.valid_from, row.recorded_from)


@asynccontextmanager
async def _writing(store: SqlEventStore) -> AsyncIterator[AsyncConnection]:
    """A write transaction as appends take theirs (on SQLite, BEGIN IMMEDIATE: it waits for
    the write lock up front instead of failing when a read has to become a write)."""
    async with store.engine.connect() as conn:
        conn = await conn.execution_options(**store.write_options)
        async with conn.begin():
            yield conn


def _on(table: Table, live: Table, expression: ColumnElement[Any]) -> ColumnElement[Any]:
    """An index expression over the live table's columns, over the new table's instead."""

    def swap(element: ExternallyTraversible, **_: Any) -> ColumnElement[Any] | None:
        if isinstance(element, Column) and element.table is live:
            found: ColumnElement[Any] = table.c[element.name]
            return found
        return None

    moved: ColumnElement[Any] = replacement_traverse(expression, {}, swap)
    return moved


async def _index_names(conn: AsyncConnection, table: str) -> set[str]:
    """The names of a table's indexes (its primary key's among them, on PostgreSQL)."""
    if conn.dialect.name == "sqlite":
        query = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = :table"
    else:
        query = "SELECT indexname FROM pg_indexes WHERE tablename = :table"
    return {str(name) for (name,) in await conn.execute(text(query), {"table": table})}


async def _mark_current(conn: AsyncConnection, models: Iterable[str], position: int) -> None:
    for name in models:
        await conn.execute(
            update(checkpoints)
            .where(checkpoints.c.name == name)
            .values(position=position, version=BY_NAME[name].version)
        )


async def _insert(
    conn: AsyncConnection, name: str, table: Table, rows: list[dict[str, Any]]
) -> None:
    """Insert rows in large batches straight through the driver.

    JSON values are serialised once each (a closed row and its successor share one), as the
    column's own type serialises them (`json_text`), so even the stored text matches the live
    table's."""
    if not rows:
        return
    columns = [c.name for c in table.columns]
    as_json = {c.name: write for c in table.columns if (write := json_text(c.type)) is not None}
    as_bool = {c.name for c in table.columns if isinstance(c.type, Boolean)}
    mark = "?" if conn.dialect.paramstyle in ("qmark", "numeric") else "%s"
    statement = (
        f"INSERT INTO {name} ({', '.join(columns)}) VALUES ({', '.join(mark for _ in columns)})"
    )
    texts: dict[int, str] = {}

    def cell(row: dict[str, Any], column: str) -> Any:
        value = row[column]
        write = as_json.get(column)
        if write is not None:
            text = texts.get(id(value))
            if text is None:
                text = texts[id(value)] = write(value)
            return text
        return bool(value) if column in as_bool else value

    for start in range(0, len(rows), INSERT_BATCH):
        values = [tuple(cell(r, c) for c in columns) for r in rows[start : start + INSERT_BATCH]]
        await conn.exec_driver_sql(statement, values)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while millions of long-lived objects are made.

    The replay allocates objects that live until the rows are written; the collector would scan
    them again and again (half the replay's time) to find no cycles among them.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
