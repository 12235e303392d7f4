"""Reads on the bare driver: SQLAlchemy compiles a read once, the driver runs it.

Every store read goes through `ReadPath.reading()`. Through SQLAlchemy's async engine a read
cost ~3 ms of server time, for a ~15 µs index lookup: a statement built and its cache key made,
a pool checkout with BEGIN and ROLLBACK, each statement a hop to aiosqlite's thread and back
(with the GIL handed over between a dozen threads each time), the result through the async
adapter. Here SQLAlchemy Core is only the compiler:

- a statement is compiled once per dialect, found again by its cache key (which SQLAlchemy
  memoizes on the statement: the store's hot reads are module constants with bound parameters,
  so finding their plan costs one dictionary look-up), with its bind and result processors;
- on SQLite the driver's connections (a small pool of them, WAL mode: readers never wait for the
  writer) run the plan on the event loop's own thread: a short read finishes sooner than a hop to
  another thread would. Reads that may return many rows (`inline=False`) run in a worker thread
  instead, so they do not hold up every other request while they run;
- on PostgreSQL psycopg's own async pool serves them, in autocommit and without a ping before
  each checkout (see `PostgresReadPath`).

Each `reading()` block is one read transaction on SQLite, as before: the statements of a block
see one snapshot. Appends commit before they return, so a read that starts after one sees it.
An operational failure of the driver surfaces as `DatabaseUnavailable`.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections import OrderedDict, namedtuple
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from itertools import repeat
from operator import is_
from typing import Any, Protocol, TypeVar

import psycopg
from psycopg import AsyncConnection as PsycopgConnection
from psycopg_pool import AsyncConnectionPool, PoolTimeout
from sqlalchemy import JSON
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from store.database import POOL_SIZE, PostgresOptions, configure_sqlite_connection
from store.errors import DatabaseUnavailable
from store.tables import CompactJson, json_value

Processor = Callable[[Any], Any]
T = TypeVar("T")

# Plans kept per read path: the store's reads have a few dozen shapes; a bound keeps a caller
# that builds statements with ever new shapes from growing the cache without end.
MAX_PLANS = 512
# Idle SQLite connections kept open between reads (more are opened under a burst, then closed).
IDLE_CONNECTIONS = 8
# PostgreSQL: how long a read waits for a connection of the read pool before it is answered as
# an outage (the pool reconnects meanwhile, in the background).
CHECKOUT_SECONDS = 3.0


# Statements built once and kept for the life of the process, by id (held here, so an id is
# never reused): their plans are found by identity, and bound without SQLAlchemy's help.
_CONSTANTS: dict[int, Any] = {}
_REQUIRED = object()  # a bound parameter that has no value of its own


def constant(statement: T) -> T:
    """Mark a module-level statement as built once: the hot reads' plans are found by its
    identity, not by its cache key (hashing the key of a statement costs as much as the
    look-up it is for)."""
    _CONSTANTS[id(statement)] = statement
    return statement


def is_constant(statement: object) -> bool:
    """Whether a statement was marked `constant` (the writer's driver path runs those too)."""
    return _CONSTANTS.get(id(statement)) is statement


class Rows(list[Any]):
    """A read's rows, fetched whole: iterated, or `first()` as SQLAlchemy's results are."""

    def first(self) -> Any:
        return self[0] if self else None


class ReadConnection(Protocol):
    """What a read block is given: statements executed, rows returned."""

    async def execute(self, statement: Any, parameters: Mapping[str, Any] | None = None) -> Any:
        """The rows of a statement (each with attribute access and `_mapping`)."""
        ...

    async def scalar(self, statement: Any, parameters: Mapping[str, Any] | None = None) -> Any:
        """The first column of the first row, or None."""
        ...


class ReadPath(Protocol):
    """Where a store's reads run."""

    def reading(self, *, inline: bool = True) -> Any:
        """An async context manager giving a ReadConnection for one read (one snapshot)."""
        ...

    async def scalar(self, statement: Any, parameters: Mapping[str, Any] | None = None) -> Any:
        """The first column of one statement's first row (None without one), the statement a
        read of its own: for the hot reads one statement answers, with nothing around it."""
        ...

    async def close(self) -> None:
        """Close what is idle; a read in progress finishes on its own connection."""
        ...


class Plan:
    """One statement compiled for one dialect: its SQL, how its parameters are bound, and how
    its rows are decoded — SQLAlchemy's own processors, applied without its result machinery."""

    __slots__ = (
        "_compiled",
        "_defaults",
        "_dialect",
        "_expands",
        "_make",
        "_positions",
        "_processed",
        "_processors",
        "_slots",
        "sql",
    )

    def __init__(self, statement: Any, dialect: Dialect, key: Any = None) -> None:
        # As the engine compiles for its cache: the plan then takes the values that another
        # statement of the same shape carries (its cache key's bind parameters).
        compiled: Any = statement._compiler(dialect, cache_key=key, column_keys=[])
        self._compiled = compiled
        self._dialect = dialect
        self.sql: str = compiled.string
        self._positions: tuple[str, ...] | None = (
            tuple(compiled.positiontup) if compiled.positional else None
        )
        self._processors: dict[str, Processor] = dict(compiled._bind_processors)
        self._expands = bool(compiled.literal_execute_params or compiled.post_compile_params)
        # For the statement compiled here itself: each placeholder's parameter key, the value
        # the statement binds when the caller gives none (none: the caller must), and its
        # processor, in order.
        binds = compiled.binds
        self._slots = tuple(
            (
                name,
                binds[name].key,
                _REQUIRED if binds[name].required else binds[name].effective_value,
                self._processors.get(name),
            )
            for name in (self._positions or binds)
        )
        # The same, as `bind_own` walks them: one pass for the values, one over the few slots
        # with a processor (building a tuple per slot cost more than the look-ups).
        self._defaults = tuple((key, value) for _, key, value, _ in self._slots)
        self._processed = tuple(
            (i, process) for i, (*_, process) in enumerate(self._slots) if process is not None
        )
        columns = compiled._result_columns
        decoders = [_decoder(c.type.dialect_impl(dialect), dialect) for c in columns]
        self._make = _row_maker([c.keyname for c in columns], decoders)

    def bind(self, parameters: Mapping[str, Any] | None, key: Any = None) -> tuple[str, Any]:
        """The SQL to run and the driver's parameters (a sequence or a dict, by paramstyle),
        for these values and those of the statement whose cache key is `key`."""
        compiled = self._compiled
        values = compiled.construct_params(
            parameters,
            extracted_parameters=None if key is None else key.bindparams,
            escape_names=False,
            _collected_params=None if key is None else key.params,
        )
        sql, positions, processors = self.sql, self._positions, self._processors
        if self._expands:  # IN lists: one placeholder per value, rendered for these values
            state = compiled._process_parameters_for_postcompile(values)
            sql, positions = state.statement, state.positiontup
            processors = {**processors, **state.processors}
            values = state.parameters
        if positions is not None:
            return sql, [
                processors[key](values[key]) if key in processors else values[key]
                for key in positions
            ]
        escaped = compiled.escaped_bind_names
        return sql, {
            escaped.get(key, key): processors[key](value) if key in processors else value
            for key, value in values.items()
        }

    def bind_own(self, parameters: Mapping[str, Any] | None) -> tuple[str, Any]:
        """`bind` for the very statement compiled here, without SQLAlchemy's parameter
        construction: its own bound values are the ones compiled in."""
        if self._expands:
            return self.bind(parameters)
        given = parameters or {}
        values = [given.get(key, value) for key, value in self._defaults]
        if any(map(is_, values, repeat(_REQUIRED))):
            missing = [k for k, value in self._defaults if value is _REQUIRED and k not in given]
            raise KeyError(f"no value for the bound parameter(s) {missing}")
        for i, process in self._processed:
            values[i] = process(values[i])
        if self._positions is not None:
            return self.sql, values
        escaped = self._compiled.escaped_bind_names
        return self.sql, {
            escaped.get(name, name): value
            for (name, *_), value in zip(self._slots, values, strict=True)
        }

    def rows(self, fetched: Iterable[Sequence[Any]]) -> Rows:
        return Rows(map(self._make, fetched))


def _decoder(column_type: Any, dialect: Dialect) -> Processor | None:
    """How a column's values are decoded: SQLAlchemy's processor, except for JSON text."""
    if isinstance(column_type, CompactJson):
        return json_value  # its own decoding, without a call through the TypeDecorator
    processor: Processor | None = column_type.result_processor(dialect, None)
    if processor is not None and isinstance(column_type, JSON):
        return json_value
    return processor


def _row_maker(names: list[str], decoders: list[Processor | None]) -> Callable[[Any], Any]:
    """A function from a driver's row to a row with attributes, `_mapping` and decoded values."""
    base = namedtuple("Row", names, rename=True)  # type: ignore[misc]
    row_type: Any = type(
        "Row", (base,), {"__slots__": (), "_mapping": property(lambda row: row._asdict())}
    )
    make = row_type._make
    decoding = [(i, d) for i, d in enumerate(decoders) if d is not None]
    if not decoding:
        return make  # type: ignore[no-any-return]

    def decoded(raw: Sequence[Any]) -> Any:
        values = list(raw)
        for i, decode in decoding:
            values[i] = decode(values[i])
        return make(values)

    return decoded


class Plans:
    """Plans by SQLAlchemy cache key, for one dialect (least recently used dropped first)."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self._plans: OrderedDict[Any, Plan] = OrderedDict()
        self._constants: dict[int, Plan] = {}

    def bound(self, statement: Any, parameters: Mapping[str, Any] | None) -> tuple[Plan, str, Any]:
        """The statement's plan, SQL and driver parameters for these values."""
        own = self._constants.get(id(statement))
        if own is None and _CONSTANTS.get(id(statement)) is statement:
            own = self._constants[id(statement)] = Plan(statement, self.dialect)
        if own is not None:
            return (own, *own.bind_own(parameters))
        key = statement._generate_cache_key()
        if key is None:  # not cacheable: compiled for this once
            plan = Plan(statement, self.dialect)
            return (plan, *plan.bind(parameters))
        found = self._plans.get(key.key)  # the key proper (a CacheKey is not hashable)
        if found is None:
            plan = self._plans[key.key] = Plan(statement, self.dialect, key)
            if len(self._plans) > MAX_PLANS:
                self._plans.popitem(last=False)
        else:
            plan = found
        return (plan, *plan.bind(parameters, key))


# How many SQLite virtual-machine steps a read in a worker thread runs between looks at whether
# it was abandoned (a look costs a call into Python: ~0.1 µs a step at this interval).
PROGRESS_STEPS = 10_000


class SqliteReadPath:
    """SQLite's reads on the sqlite3 module's own connections, run where they are asked."""

    def __init__(self, database: str, dialect: Dialect) -> None:
        self._database = database
        self._plans = Plans(dialect)
        self._idle: list[sqlite3.Connection] = []

    def _connect(self) -> sqlite3.Connection:
        # Usable from a worker thread too (a long read); one block holds a connection at a time.
        conn = sqlite3.connect(self._database, check_same_thread=False, cached_statements=256)
        configure_sqlite_connection(conn)
        conn.execute("PRAGMA query_only=ON")  # this path only reads; a bug that writes fails
        return conn

    def reading(self, *, inline: bool = True) -> _SqliteReads:
        """One read transaction on an idle connection (a new one if none is idle)."""
        return _SqliteReads(self, inline)

    async def scalar(self, statement: Any, parameters: Mapping[str, Any] | None = None) -> Any:
        # No BEGIN and COMMIT around it: outside a transaction SQLite gives a statement a
        # snapshot of its own, so a lone statement is one read without the two round trips.
        plan, sql, bound = self._plans.bound(statement, parameters)
        try:
            conn = self._take()
        except sqlite3.OperationalError as error:
            raise DatabaseUnavailable(str(error)) from error
        broken = True
        try:
            # fetchall, not fetchone: stepped to its end, the statement lets go of its snapshot.
            found = conn.execute(sql, bound).fetchall()
            broken = False
        except sqlite3.OperationalError as error:
            raise DatabaseUnavailable(str(error)) from error
        finally:
            self._give_back(conn, broken)
        return plan.rows(found[:1])[0][0] if found else None

    def _take(self) -> sqlite3.Connection:
        """An idle connection, or a new one when none is idle."""
        return self._idle.pop() if self._idle else self._connect()

    def _give_back(self, conn: sqlite3.Connection, broken: bool) -> None:
        """Keep a connection for the next read, unless it broke or enough are idle."""
        if broken or len(self._idle) >= IDLE_CONNECTIONS:
            conn.close()
        else:
            self._idle.append(conn)

    def _checkout(self) -> sqlite3.Connection:
        conn = self._take()
        try:
            conn.execute("BEGIN")
        except sqlite3.Error:
            conn.close()
            raise
        return conn

    def _checkin(self, conn: sqlite3.Connection, broken: bool) -> None:
        try:
            conn.execute("COMMIT")  # a read transaction: nothing to write, the snapshot ends
        except sqlite3.Error:
            broken = True
        self._give_back(conn, broken)

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()


class _SqliteReads:
    """A read block on one sqlite3 connection: entered, its statements, left. (A class of its
    own, not a generator-based context manager: that cost more than the read it wraps.)"""

    __slots__ = ("_abandoned", "_conn", "_inline", "_path", "_plans")

    def __init__(self, path: SqliteReadPath, inline: bool) -> None:
        self._path = path
        self._plans = path._plans
        self._inline = inline
        self._conn: sqlite3.Connection | None = None
        self._abandoned = False

    async def __aenter__(self) -> _SqliteReads:
        try:
            self._conn = self._path._checkout()
        except sqlite3.OperationalError as error:
            raise DatabaseUnavailable(str(error)) from error
        return self

    async def __aexit__(self, _type: object, error: BaseException | None, _tb: object) -> None:
        assert self._conn is not None
        conn, self._conn = self._conn, None
        broken = self._abandoned or isinstance(error, sqlite3.Error)
        self._path._checkin(conn, broken=broken)
        if isinstance(error, sqlite3.OperationalError):
            raise DatabaseUnavailable(str(error)) from error

    def _run(self, statement: Any, parameters: Mapping[str, Any] | None) -> Rows:
        assert self._conn is not None, "a statement outside its read block"
        plan, sql, bound = self._plans.bound(statement, parameters)
        return plan.rows(self._conn.execute(sql, bound).fetchall())

    async def execute(self, statement: Any, parameters: Mapping[str, Any] | None = None) -> Rows:
        if self._inline:
            return self._run(statement, parameters)
        running = asyncio.ensure_future(
            asyncio.to_thread(self._run_abandonable, statement, parameters)
        )
        try:
            return await asyncio.shield(running)
        except asyncio.CancelledError:
            # Cancelling the await does not stop the thread: until it returns, the connection is
            # still in use there, and checked in (or closed) under it, it would be shared by two
            # threads. Have the statement stop, wait for the thread to let go, discard the
            # connection.
            self._abandoned = True
            await _finished(running)
            raise

    def _run_abandonable(self, statement: Any, parameters: Mapping[str, Any] | None) -> Rows:
        """`_run`, stopped within a few thousand virtual-machine steps once abandoned.
        (A progress handler, not `Connection.interrupt`: that is lost when it comes before the
        statement has started.)"""
        assert self._conn is not None, "a statement outside its read block"
        self._conn.set_progress_handler(lambda: self._abandoned, PROGRESS_STEPS)
        try:
            return self._run(statement, parameters)
        finally:
            self._conn.set_progress_handler(None, 0)

    async def scalar(self, statement: Any, parameters: Mapping[str, Any] | None = None) -> Any:
        first = (await self.execute(statement, parameters)).first()
        return None if first is None else first[0]


async def _finished(work: asyncio.Future[Any]) -> None:
    """Wait for a future's end, whatever it ends with, through further cancellations."""
    while not work.done():
        try:
            await asyncio.shield(work)
        except BaseException:  # its outcome is not ours to handle, only its end
            continue
    if not work.cancelled():
        work.exception()  # retrieved: not "never retrieved" at garbage collection


class PostgresReadPath:
    """PostgreSQL's reads on psycopg's own pool of autocommit connections.

    Autocommit: a read is its statements alone, no BEGIN and ROLLBACK round trips (under READ
    COMMITTED each statement took its own snapshot inside a transaction too). No ping before
    each checkout either: a connection the server dropped while idle fails its first statement,
    which then runs once more on a fresh connection; a connection that fails later in a block,
    or a database that cannot be reached within CHECKOUT_SECONDS, is DatabaseUnavailable.
    """

    def __init__(
        self,
        conninfo: str,
        dialect: Dialect,
        *,
        pool_size: int = POOL_SIZE,
        connect_args: Mapping[str, str] | None = None,
    ) -> None:
        self._conninfo = conninfo
        self._pool_size = pool_size
        self._connect_args = dict(connect_args or {})
        self._plans = Plans(dialect)
        self._pool: AsyncConnectionPool[PsycopgConnection[Any]] | None = None

    async def _opened(self) -> AsyncConnectionPool[PsycopgConnection[Any]]:
        if self._pool is None:
            pool: AsyncConnectionPool[PsycopgConnection[Any]] = AsyncConnectionPool(
                self._conninfo,
                kwargs={"autocommit": True, **self._connect_args},
                min_size=1,
                max_size=self._pool_size,
                timeout=CHECKOUT_SECONDS,
                name="timeline-reads",
                open=False,
            )
            self._pool = pool  # before the await: a read that starts meanwhile shares it
            await pool.open(wait=False)
        return self._pool

    @asynccontextmanager
    async def reading(self, *, inline: bool = True) -> AsyncIterator[ReadConnection]:
        try:
            pool = await self._opened()
            reads = _PostgresReads(pool, await pool.getconn(), self._plans)
        except (PoolTimeout, psycopg.OperationalError) as error:
            raise DatabaseUnavailable(str(error)) from error
        try:
            yield reads
        except psycopg.OperationalError as error:
            raise DatabaseUnavailable(str(error)) from error
        finally:
            await pool.putconn(reads.conn)  # a broken one is discarded by the pool

    async def scalar(self, statement: Any, parameters: Mapping[str, Any] | None = None) -> Any:
        async with self.reading() as reads:  # autocommit already: one statement is one read
            return await reads.scalar(statement, parameters)

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()


class _PostgresReads:
    """A read block's statements on one pooled psycopg connection."""

    def __init__(
        self,
        pool: AsyncConnectionPool[PsycopgConnection[Any]],
        conn: PsycopgConnection[Any],
        plans: Plans,
    ) -> None:
        self._pool = pool
        self.conn = conn
        self._plans = plans
        self._used = False

    async def execute(self, statement: Any, parameters: Mapping[str, Any] | None = None) -> Rows:
        plan, sql, bound = self._plans.bound(statement, parameters)
        try:
            cursor = await self.conn.execute(sql, bound)
        except psycopg.OperationalError:
            if self._used or not self.conn.broken:
                raise
            # Dropped while idle in the pool (a server restart, say): the others idle as long
            # are likely gone too. Only now are they checked (one ping each), then once more.
            await self._pool.putconn(self.conn)
            await self._pool.check()
            self.conn = await self._pool.getconn()
            cursor = await self.conn.execute(sql, bound)
        self._used = True
        return plan.rows(await cursor.fetchall())

    async def scalar(self, statement: Any, parameters: Mapping[str, Any] | None = None) -> Any:
        first = (await self.execute(statement, parameters)).first()
        return None if first is None else first[0]


class EngineReadPath:
    """Reads through an async engine's pooled connections (PostgreSQL)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    @asynccontextmanager
    async def reading(self, *, inline: bool = True) -> AsyncIterator[ReadConnection]:
        try:
            conn = await self._engine.connect()
        except (OperationalError, DBAPIError) as error:
            raise DatabaseUnavailable(str(error.orig)) from error
        try:
            yield _EngineReads(conn)
        except DBAPIError as error:
            if isinstance(error, OperationalError) or error.connection_invalidated:
                raise DatabaseUnavailable(str(error.orig)) from error
            raise
        finally:
            await conn.close()

    async def scalar(self, statement: Any, parameters: Mapping[str, Any] | None = None) -> Any:
        async with self.reading() as reads:
            return await reads.scalar(statement, parameters)

    async def close(self) -> None:
        """The engine is the store's to dispose of."""


class _EngineReads:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def execute(self, statement: Any, parameters: Mapping[str, Any] | None = None) -> Any:
        return await self._conn.execute(statement, parameters)

    async def scalar(self, statement: Any, parameters: Mapping[str, Any] | None = None) -> Any:
        return await self._conn.scalar(statement, parameters)


def read_path(engine: AsyncEngine, postgres: PostgresOptions | None = None) -> ReadPath:
    """The read path for an engine's database: its bare driver (the engine itself for an
    in-memory SQLite database, which each new connection would see empty); on PostgreSQL, its
    sessions and pool bounded as the engine's (pass the same `postgres`)."""
    url = engine.url
    if url.get_backend_name() == "postgresql":
        conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        postgres = postgres or PostgresOptions()
        return PostgresReadPath(
            conninfo,
            engine.dialect,
            pool_size=postgres.pool_size,
            connect_args=postgres.connect_args(url),
        )
    if url.database and url.database != ":memory:":
        return SqliteReadPath(url.database, engine.dialect)
    return EngineReadPath(engine)
