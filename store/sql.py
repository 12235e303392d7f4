"""The event store over SQLAlchemy: one implementation, a serialisation hook per database."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from typing import Any, ClassVar
from uuid import UUID

from sqlalchemy import LargeBinary, Select, bindparam, func, insert, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from domain.chain import GENESIS
from domain.drafts import EventDraft
from domain.editorial import POSITION_TYPES
from domain.event_types import JsonObject
from domain.positions import Pair, Segment
from domain.references import ACTOR, PROPOSAL, RECORDED_BY, REGISTERS, TARGET, pair_key
from domain.valid_time import to_micros
from store.append_rules import check_expected_version, recorded_stamps, replay_of_earlier_append
from store.blocking import SyncBridge, drive, pipelined
from store.boundary import connection_failed, driver_errors, unavailable
from store.database import PostgresOptions, closed_by_server, create_blocking_engine
from store.errors import RateLimited, ReservationLost, StoreError
from store.idempotency import record_answer
from store.ports import (
    AppendResult,
    ChainReport,
    Clock,
    EventQuery,
    IdempotentAnswer,
    Progress,
)
from store.projection import CHECKPOINT, Row, logged, pair_of, project, segments_of
from store.rate_limits import WriteCharge, count_write
from store.read_models.effective import project_effective
from store.read_models.registry import project_registry
from store.read_models.sql import (
    INLINE_ROWS,
    BufferedEffectiveRows,
    BufferedRegistryRows,
    SqlReadModels,
)
from store.read_models.verification import ATTACHED, project_verification
from store.read_models.verification_sql import BufferedVerificationRows, store_texts
from store.read_path import ReadConnection, ReadPath, constant, read_path
from store.records import RecordedEvent
from store.rows import chain, event_row, recorded_event, ref_rows
from store.sql_positions import (
    PARTIES,
    PARTY_STATES,
    BatchLogIndex,
    BufferedPositionRows,
    checkpoints,
    positions,
    row_of,
    save_checkpoint,
)
from store.tables import EventRefRow, EventRow
from store.verification import verify_log, verify_since_checkpoint

events = EventRow.__table__  # type: ignore[attr-defined]
refs = EventRefRow.__table__  # type: ignore[attr-defined]

BeforeCommit = Callable[[Sequence[RecordedEvent]], Awaitable[None]]

# The write path's statements, built once: building one and its cache key anew on every call
# cost more than SQLite spends running it; as `constant`s they go straight to the driver's cursor.
_BY_IDS = constant(select(events).where(events.c.id.in_(bindparam("ids", expanding=True))))
_STREAM_VERSIONS = constant(
    select(events.c.stream, func.max(events.c.stream_version))
    .where(events.c.stream.in_(bindparam("streams", expanding=True)))
    .group_by(events.c.stream)
)
_HEAD = constant(
    select(events.c.position, events.c.recorded_at, events.c.hash)
    .order_by(events.c.position.desc())
    .limit(1)
)
_INSERT_EVENTS = constant(insert(events))
_INSERT_REFS = constant(insert(refs))

# The reads' statements, built once for the same reason: their plans are then found by the
# cache key SQLAlchemy memoizes on each (see store.read_path).
_KNOWN = (  # rows known at a transaction time, as store.sql_positions.known says
    positions.c.recorded_from <= bindparam("known_at"),
    positions.c.recorded_to > bindparam("known_at"),
)


# At most one row matches; walked back from `as_of`, the index finds it among the pair's rows
# at once (walked forward, a pair with hundreds of rows was scanned from its first: 56 -> 22 µs
# at a million events).
def _position_read(state: ColumnElement[Any]) -> Select[Any]:
    return (
        select(state)
        .where(
            positions.c.actor == bindparam("actor"), positions.c.proposal == bindparam("proposal")
        )
        .where(*_KNOWN, positions.c.valid_from <= bindparam("as_of"))
        .where(positions.c.valid_to > bindparam("as_of"))
        .order_by(positions.c.valid_from.desc())
        .limit(1)
    )


class utf8_bytes(FunctionElement[bytes]):
    """A text column's value as its UTF-8 bytes, as the driver hands bytes over: no str made
    of it only to be encoded again (2.5 kB of a state with a curly quote: 1.5 µs each way)."""

    type = LargeBinary()
    inherit_cache = True


@compiles(utf8_bytes, "sqlite")
def _sqlite_utf8_bytes(element: utf8_bytes, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST({compiler.process(element.clauses, **kw)} AS BLOB)"  # the same bytes


@compiles(utf8_bytes, "postgresql")
def _postgres_utf8_bytes(element: utf8_bytes, compiler: SQLCompiler, **kw: Any) -> str:
    # Not CAST(... AS bytea): that would read the JSON's backslashes as bytea escapes.
    return f"convert_to({compiler.process(element.clauses, **kw)}, 'UTF8')"


_POSITION = _position_read(positions.c.state)
# The same state as stored, not decoded: the API's own JSON (see store.tables.CompactJson).
_POSITION_JSON = _position_read(utf8_bytes(positions.c.state))
_POSITION_HISTORY = select(positions).where(
    positions.c.actor == bindparam("actor"), positions.c.proposal == bindparam("proposal"), *_KNOWN
)
_REGISTERED = (
    select(refs.c.ref)
    .where(refs.c.kind == REGISTERS, refs.c.ref.in_(bindparam("refs", expanding=True)))
    .distinct()
)
_LAST_POSITION = select(func.coalesce(func.max(events.c.position), 0))
_STREAM_VERSION = select(func.coalesce(func.max(events.c.stream_version), 0)).where(
    events.c.stream == bindparam("stream")
)
_BY_ID = select(events).where(events.c.id == bindparam("id"))
_TARGETING = (
    select(events)
    .where(
        events.c.position.in_(
            select(refs.c.position).where(refs.c.kind == TARGET, refs.c.ref == bindparam("target"))
        )
    )
    .order_by(events.c.position)
)
_CHECKPOINT = select(checkpoints.c.position).where(checkpoints.c.name == CHECKPOINT)
for _read in (
    _HEAD,
    _POSITION,
    _POSITION_JSON,
    _POSITION_HISTORY,
    _REGISTERED,
    _LAST_POSITION,
    _STREAM_VERSION,
    _BY_ID,
    _TARGETING,
    _CHECKPOINT,
    PARTIES,
    PARTY_STATES,
):
    constant(_read)


def _system_clock() -> datetime:
    return datetime.now(UTC)


class SqlEventStore:
    """Appends inside one transaction whose position assignment the subclass serialises."""

    backend = "sql"
    write_options: ClassVar[dict[str, Any]] = {}

    def __init__(
        self,
        engine: AsyncEngine,
        clock: Clock | None = None,
        *,
        before_commit: BeforeCommit | None = None,
        postgres: PostgresOptions | None = None,
    ) -> None:
        self.engine = engine
        self._clock = clock
        self._before_commit = before_commit
        self._postgres = postgres  # the writer's engine and the read pool are bounded alike
        self._queue: list[_Request] = []
        self._writer: asyncio.Task[None] | None = None
        self._writes: ThreadPoolExecutor | None = None
        self._held_writer: Connection | None = None  # used in the writer thread only
        self._registrations: set[str] = set()
        self._blocking_engine: Engine | None = None
        self._read_path = read_path(engine, postgres)
        self.reads = SqlReadModels(self._reading)

    @property
    def read_path(self) -> ReadPath:
        """Where this store's reads run (the bare driver); other stores on its database share it."""
        return self._read_path

    @property
    def blocking_engine(self) -> Engine:
        """A blocking engine on the same database, for the writer thread (made when first used)."""
        if self._blocking_engine is None:
            self._blocking_engine = create_blocking_engine(self.engine, self._postgres)
        return self._blocking_engine

    async def serialize(self, conn: AsyncConnection) -> None:
        """Make concurrent appends take positions in commit order."""

    async def serialized_time(self, conn: AsyncConnection) -> int:
        """`serialize`, then `transaction_time` (a backend may read both in one statement)."""
        await self.serialize(conn)
        return await self.transaction_time(conn)

    async def transaction_time(self, conn: AsyncConnection) -> int:
        """Now, in UTC microseconds, for the stamps of the appends serialised in this
        transaction: the injected clock's (tests), else this process's (PostgreSQL reads the
        database's instead, in `serialized_time`)."""
        return to_micros((self._clock or _system_clock)())

    async def next_positions(self, conn: AsyncConnection, head: int, count: int) -> list[int]:
        """The positions of the next `count` events: the ones after the head, under `serialize`."""
        return list(range(head + 1, head + count + 1))

    async def append(
        self,
        stream: str,
        drafts: Sequence[EventDraft],
        *,
        expected_version: int | None = None,
        metadata: JsonObject | None = None,
        charge: WriteCharge | None = None,
        answer: IdempotentAnswer | None = None,
        texts: Mapping[str, str] | None = None,
    ) -> AppendResult:
        """Append a batch atomically; idempotent by event id.

        Appends made at the same time share one transaction and one commit (group commit):
        each is checked and written in its own savepoint, in arrival order, so one refused
        append (a stale expected_version, say) leaves the others whole.
        """
        request = _Request(stream, drafts, expected_version, metadata, charge, answer, texts)
        self._queue.append(request)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_queued())
        # Shielded: a caller that goes away must not cancel the commit its neighbours wait for.
        return await asyncio.shield(request.outcome)

    async def _write_queued(self) -> None:
        """Commit what is queued, group after group, until nothing is left."""
        while self._queue:
            group, self._queue = self._queue[:MAX_GROUP], self._queue[MAX_GROUP:]
            await self._commit_group(group)

    async def _commit_group(self, group: list[_Request]) -> None:
        outcomes: list[AppendResult | Exception] = []
        try:
            if self._before_commit is None:
                loop = asyncio.get_running_loop()
                outcomes = await loop.run_in_executor(
                    self._write_thread(), self._write_group_blocking, group
                )
            else:  # the hook may suspend: then the group is written on the event loop
                async with self.engine.connect() as conn:
                    conn = await conn.execution_options(**self.write_options)
                    outcomes = await self._write_group(conn, group)
        except Exception as error:
            outcomes = [unavailable(error) or error] * len(group)
        except BaseException:  # cancelled (the loop is closing): its waiters must not hang
            for request in group:
                request.outcome.cancel()
            raise
        for request, outcome in zip(group, outcomes, strict=True):
            request.settle(outcome)

    def _write_thread(self) -> ThreadPoolExecutor:
        if self._writes is None:
            self._writes = ThreadPoolExecutor(max_workers=1, thread_name_prefix="timeline-writes")
        return self._writes

    def _write_group_blocking(self, group: list[_Request]) -> list[AppendResult | Exception]:
        """The group written in the writer thread, over its blocking connection (one hop)."""
        conn = self._writer_connection()
        try:
            return drive(self._write_group(SyncBridge(conn), group))  # type: ignore[arg-type]
        except BaseException:
            self._release_writer_connection()  # the next group starts on a fresh one
            raise

    def _writer_connection(self) -> Connection:
        """The writer thread's connection, kept from one group to the next: a checkout from the
        pool and its return (with the reset) each time cost more CPU than the statements of a
        single-event append. A PostgreSQL connection the server has closed meanwhile is found
        as the pool's checkout finds it, with no round trip, and replaced."""
        held = self._held_writer
        if held is not None and (held.invalidated or closed_by_server(held)):
            self._release_writer_connection()
            held = None
        if held is None:
            held = self.blocking_engine.connect().execution_options(**self.write_options)
            self._held_writer = held
        return held

    def _release_writer_connection(self) -> None:
        held, self._held_writer = self._held_writer, None
        if held is not None:
            with contextlib.suppress(Exception):  # a connection already lost: nothing to return
                held.close()

    async def _write_group(
        self, conn: AsyncConnection, group: list[_Request]
    ) -> list[AppendResult | Exception]:
        """One transaction, one commit: each append's outcome, in order."""
        async with conn.begin():
            now = await self.serialized_time(conn)
            if len(group) == 1:  # a refusal writes nothing (but its charge): no savepoint needed
                outcomes: list[AppendResult | Exception] = await self._append_all(
                    conn, [group[0].arguments], now
                )
            else:
                outcomes = await self._append_together(conn, group, now)
            written = landed(outcomes)
            if written:  # the read model has projected up to here, in the same transaction
                await save_checkpoint(conn, written[-1].events[-1].position)
            return outcomes

    async def _append_together(
        self, conn: AsyncConnection, group: list[_Request], now: int
    ) -> list[AppendResult | Exception]:
        """The group's appends written as one batch; if the database refuses that (a constraint
        the checks cannot see), one by one, each in its own savepoint, so it fails alone."""
        try:
            async with conn.begin_nested():
                return await self._append_all(conn, [r.arguments for r in group], now)
        except DBAPIError as error:
            if connection_failed(error):
                raise
        return [await self._in_savepoint(conn, r, now) for r in group]

    async def _in_savepoint(
        self, conn: AsyncConnection, request: _Request, now: int
    ) -> AppendResult | Exception:
        """One append of a group; its own failure is rolled back to its savepoint and returned.

        A failure of the connection itself is raised: then the whole group fails.
        """
        try:
            async with conn.begin_nested():
                [outcome] = await self._append_all(conn, [request.arguments], now)
                if isinstance(outcome, Exception):
                    raise outcome  # rolled back to the savepoint
                return outcome
        except DBAPIError as error:
            if connection_failed(error):
                raise
            return error
        except Exception as error:
            return error

    async def _append_all(
        self, conn: AsyncConnection, appends: Sequence[AppendArguments], now: int
    ) -> list[AppendResult | Exception]:
        """Appends in order, checked against the log and each other, then written set-wise.

        The log is read once for all of them (ids already there, stream versions, the head); each
        is then checked in memory against that and the ones before it, so a refused append
        (a stale expected_version, a conflicting id) writes nothing and moves nothing on. The
        accepted ones are written in one INSERT per table and projected together.
        """
        existing = await self._by_ids(conn, [d.id for _, drafts, *_ in appends for d in drafts])
        versions = await self._stream_versions(conn, {stream for stream, *_ in appends})
        head, last_recorded, prev_hash = await self._head(conn)
        outcomes: list[AppendResult | Exception] = []
        rows: list[dict[str, Any]] = []
        written: list[RecordedEvent] = []
        kept: dict[str, str] = {}  # the texts the written appends attach
        for stream, drafts, expected_version, metadata, charge, answer, texts in appends:
            try:
                if charge is not None:
                    await self._count_write(conn, charge)
                mine = {d.id: existing[d.id] for d in drafts if d.id in existing}
                replay = replay_of_earlier_append(stream, drafts, mine)
                if replay is None:
                    check_expected_version(stream, expected_version, versions.get(stream, 0))
                elif answer is not None:
                    await record_answer(conn, answer, replay)
            except StoreError as refused:
                outcomes.append(refused)
                continue
            if replay is not None:
                outcomes.append(replay)
                continue
            stamps = recorded_stamps(now, last_recorded, len(drafts))
            positions = await self.next_positions(conn, head, len(drafts))
            version = versions.get(stream, 0)
            batch = [
                event_row(
                    position=position,
                    stream=stream,
                    stream_version=version + i + 1,
                    recorded_at=stamp,
                    draft=draft,
                    metadata=dict(metadata or {}),
                )
                for i, (position, draft, stamp) in enumerate(
                    zip(positions, drafts, stamps, strict=True)
                )
            ]
            appended = tuple(recorded_event(_Row(row)) for row in batch)
            result = AppendResult(
                stream=stream, stream_version=version + len(drafts), events=appended
            )
            if answer is not None:
                try:
                    await record_answer(conn, answer, result)
                except ReservationLost as lost:
                    outcomes.append(lost)
                    continue
            prev_hash = chain(batch, prev_hash)
            kept.update(texts or {})
            rows.extend(batch)
            written.extend(appended)
            existing.update((event.id, event) for event in appended)
            head, last_recorded = max(positions), stamps[-1]
            versions[stream] = result.stream_version
            outcomes.append(result)
        if written:
            # From here the writes go out without waiting for their answers (on PostgreSQL, one
            # pipeline): each read the projection makes takes the writes before it along, and the
            # read models' rows and the NOTIFY go out together at the end.
            async with pipelined(conn):
                await conn.execute(_INSERT_EVENTS, rows)
                index = [
                    r
                    for event in written
                    for r in ref_rows(event.position, event.draft, event.metadata)
                ]
                if index:
                    await conn.execute(_INSERT_REFS, index)
                await store_texts(conn, kept)
                await self._project(conn, written, kept)
                await self._announce(conn, written[-1].position)
            if self._before_commit is not None:
                for outcome in landed(outcomes):
                    await self._before_commit(outcome.events)
        return outcomes

    async def _count_write(self, conn: AsyncConnection, charge: WriteCharge) -> None:
        """Count the write in the append's transaction; over the allowance, refuse it."""
        allowance = await count_write(conn, self.backend, charge)
        if not allowance.allowed:
            raise RateLimited(charge.limit, charge.seconds, allowance.retry_after)

    async def _stream_versions(self, conn: AsyncConnection, streams: set[str]) -> dict[str, int]:
        result = await conn.execute(_STREAM_VERSIONS, {"streams": sorted(streams)})
        return {stream: int(version) for stream, version in result}

    async def _head(self, conn: AsyncConnection) -> tuple[int, int, str]:
        """The last position, its recorded_at and hash (0, 0, GENESIS for an empty log)."""
        last = (await conn.execute(_HEAD)).first()
        return (last.position, last.recorded_at, last.hash) if last else (0, 0, GENESIS)

    @staticmethod
    async def _project(
        conn: AsyncConnection, appended: Sequence[RecordedEvent], texts: Mapping[str, str]
    ) -> None:
        """Bring the read models up to date with a batch, reading and writing set-wise."""
        seen = [logged(event) for event in appended]
        pairs = {pair_of(e.payload) for e in seen if e.type in POSITION_TYPES}
        log_index = BatchLogIndex(conn, seen)
        position_rows = BufferedPositionRows(conn)
        await log_index.prefetch({pair_key(*pair) for pair in pairs})
        fresh = {pair for pair in pairs if not log_index.has_history(pair_key(*pair))}
        await position_rows.prefetch(pairs, without_rows=fresh)
        versions = BufferedEffectiveRows(conn)
        entries = BufferedRegistryRows(conn)
        checks = BufferedVerificationRows(conn, texts)
        # One read for the texts of every source the batch quotes (none when it quotes none).
        await checks.prefetch(
            {c.source for e in seen for c in e.sources if c.quote is not None}
            | {str(e.payload["source"]) for e in seen if e.type == ATTACHED}
        )
        for event in seen:
            await project(event, log_index, position_rows)
            change = await project_effective(event, log_index, versions)
            if change is not None:
                await project_registry(change, versions, entries)
            await project_verification(event, log_index, checks)
        # Only written from here on, nothing read back: in the caller's pipeline, one round trip
        # for all of them (and the announcement after them).
        await position_rows.flush()
        await versions.flush()
        await entries.flush()
        await checks.flush()

    async def _announce(self, conn: AsyncConnection, head: int) -> None:
        """Tell other processes the log moved on, at commit (PostgreSQL's NOTIFY; SQLite's
        listeners poll instead)."""

    async def _by_ids(
        self, conn: AsyncConnection, ids: Sequence[UUID]
    ) -> dict[UUID, RecordedEvent]:
        if not ids:
            return {}
        result = await conn.execute(_BY_IDS, {"ids": list(ids)})
        return {row.id: recorded_event(row) for row in result}

    async def read(self, query: EventQuery) -> list[RecordedEvent]:
        """Events after `query.after`, in position order, filtered."""
        stmt = select(events).where(events.c.position > query.after)
        if query.stream is not None:
            stmt = stmt.where(events.c.stream == query.stream)
        if query.types:
            stmt = stmt.where(events.c.type.in_(query.types))
        if query.before is not None:
            stmt = stmt.where(events.c.position < query.before)
        for kind, ref in (
            (ACTOR, query.actor),
            (PROPOSAL, query.proposal),
            (RECORDED_BY, query.recorded_by),
        ):
            if ref is not None:
                stmt = stmt.where(
                    events.c.position.in_(
                        select(refs.c.position).where(
                            refs.c.kind == kind,
                            refs.c.ref == ref,
                            refs.c.position > query.after,
                        )
                    )
                )
        order = events.c.position if query.before is None else events.c.position.desc()
        return await self._fetch(
            stmt.order_by(order).limit(query.limit), inline=query.limit <= INLINE_ROWS
        )

    async def get(self, event_id: UUID) -> RecordedEvent | None:
        """One event by id."""
        found = await self._fetch(_BY_ID, {"id": event_id})
        return found[0] if found else None

    async def get_many(self, event_ids: Sequence[UUID]) -> dict[UUID, RecordedEvent]:
        """Events by id; unknown ids are left out."""
        if not event_ids:
            return {}
        found = await self._fetch(select(events).where(events.c.id.in_(list(event_ids))))
        return {e.id: e for e in found}

    async def targeting(self, event_id: UUID) -> list[RecordedEvent]:
        """The editorial events that target an event, in position order."""
        return await self._fetch(_TARGETING, {"target": str(event_id)})

    async def registered(self, refs_wanted: Sequence[str]) -> set[str]:
        """Which of these registrations exist.

        A registration, once in the log, stays there: those found are remembered, and only the
        others are looked up (every position read checks its actor and proposal this way).
        """
        missing = [r for r in refs_wanted if r not in self._registrations]
        if missing:
            async with self._reading() as conn:
                result = await conn.execute(_REGISTERED, {"refs": missing})
                self._registrations.update(row.ref for row in result)
        return {r for r in refs_wanted if r in self._registrations}

    async def head(self) -> int:
        """The last position in the log."""
        async with self._reading() as conn:
            return int(await conn.scalar(_LAST_POSITION) or 0)

    async def last_recorded_at(self) -> int:
        """The last event's recorded_at in UTC microseconds (0 when the log is empty)."""
        async with self._reading() as conn:
            last = (await conn.execute(_HEAD)).first()
        return int(last.recorded_at) if last else 0

    async def chain_head(self) -> tuple[int, str | None]:
        """The last position and its hash, read together ((0, None) when the log is empty)."""
        async with self._reading() as conn:
            last = (await conn.execute(_HEAD)).first()
        return (last.position, last.hash) if last else (0, None)

    async def verify_chain(
        self, progress: Progress | None = None, batch: int = 5000
    ) -> ChainReport:
        """Recompute the hash chain over the whole log, streamed in position order."""
        with driver_errors():
            return await verify_log(self.engine, progress, batch)

    async def verify_chain_since_checkpoint(self) -> ChainReport:
        """Recompute the chain after the last position found intact; move that on."""
        with driver_errors():
            return await verify_since_checkpoint(self.engine, self.write_options)

    async def stream_version(self, stream: str) -> int:
        """The stream's current version."""
        async with self._reading() as conn:
            return int(await conn.scalar(_STREAM_VERSION, {"stream": stream}) or 0)

    async def close(self) -> None:
        """Release connections and the writer thread."""
        await self._read_path.close()
        if self._writes is not None:
            # Returned where it is used: SQLite's connections belong to their thread.
            await asyncio.get_running_loop().run_in_executor(
                self._writes, self._release_writer_connection
            )
            self._writes.shutdown(wait=True)
            self._writes = None
        if self._blocking_engine is not None:
            self._blocking_engine.dispose()
            self._blocking_engine = None
        await self.engine.dispose()

    async def position(self, pair: Pair, as_of: int, known_at: int) -> dict[str, Any] | None:
        """The stored state of a pair at a valid time as known at a transaction time."""
        params = {"actor": pair[0], "proposal": pair[1], "as_of": as_of, "known_at": known_at}
        async with self._reading() as conn:
            state = await conn.scalar(_POSITION, params)
        return None if state is None else dict(state)

    async def position_json(self, pair: Pair, as_of: int, known_at: int) -> bytes | None:
        """The stored state of a pair as the API's JSON, as stored: one statement, not decoded."""
        params = {"actor": pair[0], "proposal": pair[1], "as_of": as_of, "known_at": known_at}
        state: bytes | None = await self._read_path.scalar(_POSITION_JSON, params)
        return state

    async def position_history(self, pair: Pair, known_at: int) -> list[Segment]:
        """The pair's history in valid time as known at a transaction time."""
        params = {"actor": pair[0], "proposal": pair[1], "known_at": known_at}
        async with self._reading() as conn:
            return segments_of(row_of(r) for r in await conn.execute(_POSITION_HISTORY, params))

    async def proposal_positions(
        self, proposal: str, as_of: int, known_at: int
    ) -> dict[str, dict[str, Any]]:
        """Every party's stored state on a proposal, by actor: a seek per party."""
        params = {"proposal": proposal, "as_of": as_of, "known_at": known_at}
        async with self._reading() as conn:
            return {r.actor: dict(r.state) for r in await conn.execute(PARTY_STATES, params)}

    async def parties(self, proposal: str, known_at: int) -> set[str]:
        """Every actor with a position on the proposal at any valid time, as known at known_at."""
        params = {"proposal": proposal, "known_at": known_at}
        async with self._reading() as conn:
            return {r.actor for r in await conn.execute(PARTIES, params)}

    async def position_rows(self) -> list[Row]:
        """Every row of the read model, in a stable order (for checks and rebuilds)."""
        stmt = select(positions).order_by(
            positions.c.actor,
            positions.c.proposal,
            positions.c.valid_from,
            positions.c.recorded_from,
        )
        async with self._reading(inline=False) as conn:  # the whole model: not on the loop
            return [row_of(r) for r in await conn.execute(stmt)]

    async def checkpoint(self) -> int:
        """The last position the read model has projected."""
        async with self._reading() as conn:
            return int(await conn.scalar(_CHECKPOINT) or 0)

    async def _fetch(
        self, stmt: Any, params: dict[str, Any] | None = None, *, inline: bool = True
    ) -> list[RecordedEvent]:
        async with self._reading(inline=inline) as conn:
            return [recorded_event(row) for row in await conn.execute(stmt, params)]

    def _reading(self, *, inline: bool = True) -> AbstractAsyncContextManager[ReadConnection]:
        """One read (one snapshot on SQLite); `inline=False` for one that may return many rows.
        Operational failures surface as DatabaseUnavailable."""
        return self._read_path.reading(inline=inline)  # type: ignore[no-any-return]


def landed(outcomes: Sequence[AppendResult | Exception]) -> list[AppendResult]:
    """The appends of a group that wrote events (not refused, not replays), in log order."""
    return [o for o in outcomes if isinstance(o, AppendResult) and not o.duplicate]


# An append's arguments: stream, drafts, expected_version, metadata, charge, answer, texts.
AppendArguments = tuple[
    str,
    Sequence[EventDraft],
    int | None,
    JsonObject | None,
    WriteCharge | None,
    IdempotentAnswer | None,
    Mapping[str, str] | None,
]

# Appends committed together at most; more wait for the next commit, so no group grows unbounded.
MAX_GROUP = 64


class _Request:
    """An append waiting for its group's commit."""

    def __init__(
        self,
        stream: str,
        drafts: Sequence[EventDraft],
        expected_version: int | None,
        metadata: JsonObject | None,
        charge: WriteCharge | None,
        answer: IdempotentAnswer | None,
        texts: Mapping[str, str] | None = None,
    ) -> None:
        self.arguments: AppendArguments = (
            stream,
            drafts,
            expected_version,
            metadata,
            charge,
            answer,
            texts,
        )
        self.outcome: asyncio.Future[AppendResult] = asyncio.get_running_loop().create_future()

    def settle(self, outcome: AppendResult | Exception) -> None:
        if self.outcome.done():  # its caller was cancelled
            return
        if isinstance(outcome, Exception):
            self.outcome.set_exception(outcome)
        else:
            self.outcome.set_result(outcome)


class _Row:
    """Attribute access over a column dict, so fresh rows map like fetched ones."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)
