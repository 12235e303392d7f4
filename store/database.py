"""Database URLs and engines: SQLite (WAL, synchronous=FULL) by default, PostgreSQL at scale."""

from __future__ import annotations

import os
import select
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import Connection, Engine, event
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, InvalidatePoolError, StatementError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

DEFAULT_URL = "sqlite:///var/timeline.db"
URL_VARIABLE = "TIMELINE_DATABASE_URL"
SQLITE_BUSY_TIMEOUT_MS = 10_000
POOL_SIZE = 10
USAGE = "use sqlite:///PATH or postgresql://[USER[:PASSWORD]@]HOST[:PORT]/NAME"


@dataclass(frozen=True, slots=True)
class DatabaseUrl:
    """A database URL as configured, with the driver-specific forms each caller needs.

    Checked when made: a URL that does not parse, names another database, or gives a SQLite
    file a host is refused here, before any engine reads it its own way."""

    raw: str

    def __post_init__(self) -> None:
        try:
            url = make_url(self.raw)
        except (ArgumentError, ValueError):  # ValueError: a port that is not a number
            # The URL is not quoted back: one that does not parse may still hold a password.
            raise ValueError(f"not a database URL: {USAGE}") from None
        name = url.get_backend_name()
        if name not in ("sqlite", "postgresql"):
            raise ValueError(f"unsupported database {name!r}: {USAGE}")
        if name == "sqlite" and (url.host or url.username or url.port):
            # sqlite://var/timeline.db would be timeline.db in the working folder, silently.
            raise ValueError(
                "a SQLite URL has three slashes and no host: sqlite:///relative/path.db "
                "or sqlite:////absolute/path.db"
            )

    @property
    def backend(self) -> str:
        """`sqlite` or `postgresql`."""
        return make_url(self.raw).get_backend_name()

    @property
    def shown(self) -> str:
        """The URL as messages show it: the password masked."""
        return make_url(self.raw).render_as_string(hide_password=True)

    @property
    def sqlite_path(self) -> Path | None:
        """The file of a SQLite database; None for PostgreSQL or an in-memory database."""
        database = make_url(self.raw).database
        if self.backend != "sqlite" or not database or database == ":memory:":
            return None
        return Path(database)

    @property
    def async_url(self) -> str:
        """The URL for the async engine the API uses."""
        url = make_url(self.raw)
        driver = "aiosqlite" if self.backend == "sqlite" else "psycopg"
        return url.set(drivername=f"{self.backend}+{driver}").render_as_string(hide_password=False)

    @property
    def sync_url(self) -> str:
        """The URL for the synchronous engine Alembic uses."""
        url = make_url(self.raw)
        driver = "pysqlite" if self.backend == "sqlite" else "psycopg"
        return url.set(drivername=f"{self.backend}+{driver}").render_as_string(hide_password=False)

    def require_folder(self) -> None:
        """Refuse a SQLite file whose folder does not exist: SQLite would make the file, and a
        mistyped path would become a new, empty database instead of an error."""
        path = self.sqlite_path
        if path is not None and not path.absolute().parent.is_dir():
            raise ValueError(
                f"folder {path.absolute().parent} does not exist (for the SQLite database "
                f"{path.name}): create it, or point {URL_VARIABLE} at a file in a folder that does"
            )


def configured_url() -> DatabaseUrl:
    """The database URL from TIMELINE_DATABASE_URL, or the SQLite file under var/; a bad one is
    a ValueError naming the variable."""
    raw = os.environ.get(URL_VARIABLE) or DEFAULT_URL
    try:
        url = DatabaseUrl(raw)
    except ValueError as error:
        raise ValueError(f"{URL_VARIABLE}: {error}") from None
    if url.backend == "sqlite" and url.sqlite_path is None:
        raise ValueError(
            f"{URL_VARIABLE}: an in-memory SQLite database vanishes with the process that "
            f"opens it: name a file, as {DEFAULT_URL} does"
        )
    return url


@dataclass(frozen=True, slots=True, kw_only=True)
class PostgresOptions:
    """The bounds of one process's PostgreSQL sessions, for its engines and its read pool.

    A timeout of 0 sets nothing: the server's own setting (or the role's) applies. The API's
    values come from its settings (TIMELINE_PG_*); the CLI's long maintenance commands (a
    rebuild, an import) run with none."""

    statement_timeout: float = 0  # seconds a statement may run
    idle_in_transaction_timeout: float = 0  # seconds a session may sit idle inside a transaction
    pool_size: int = POOL_SIZE  # connections kept by the engine's pool, and by the read pool

    def connect_args(self, url: URL) -> dict[str, str]:
        """The libpq `options` that set the timeouts as the session starts (no round trip of
        their own); those the URL gives come after, so they win."""
        settings = [
            f"-c {name}={max(1, round(seconds * 1000))}"
            for name, seconds in (
                ("statement_timeout", self.statement_timeout),
                ("idle_in_transaction_session_timeout", self.idle_in_transaction_timeout),
            )
            if seconds > 0
        ]
        if not settings:
            return {}
        given = url.query.get("options")
        given = " ".join(given) if isinstance(given, tuple) else given
        return {"options": " ".join([*settings, given] if given else settings)}


def configure_sqlite_connection(dbapi_connection: Any) -> None:
    """WAL, full fsync on commit, a busy timeout; transactions begun by us, not the driver."""
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def create_engine(url: DatabaseUrl, postgres: PostgresOptions | None = None) -> AsyncEngine:
    """An async engine; on SQLite, writers that ask for it begin with BEGIN IMMEDIATE; on
    PostgreSQL, sessions bounded as `postgres` says."""
    url.require_folder()
    # hide_parameters: a failed statement's message (logged by the server, printed by the CLI)
    # must not carry its values: key hashes, webhook secrets.
    if url.backend == "postgresql":
        postgres = postgres or PostgresOptions()
        engine = create_async_engine(
            url.async_url,
            pool_size=postgres.pool_size,
            connect_args=postgres.connect_args(make_url(url.raw)),
            hide_parameters=True,
        )
        _configure_postgres(engine.sync_engine)
        return engine
    # Readers do not block each other in WAL mode: a pool as large as PostgreSQL's, so a burst
    # of concurrent reads reuses connections instead of opening (and closing) overflow ones.
    engine = create_async_engine(
        url.async_url, pool_size=POOL_SIZE, max_overflow=20, hide_parameters=True
    )
    _configure_sqlite(engine.sync_engine)
    return engine


def create_blocking_engine(engine: AsyncEngine, postgres: PostgresOptions | None = None) -> Engine:
    """A blocking engine on the same database as an async one, configured alike (pass the same
    `postgres`): the store's writer thread runs whole appends over it. It needs one connection."""
    url = engine.url
    if url.get_backend_name() == "postgresql":
        blocking = create_sync_engine(
            url.set(drivername="postgresql+psycopg"),
            pool_size=1,
            connect_args=(postgres or PostgresOptions()).connect_args(url),
            hide_parameters=True,
        )
        _configure_postgres(blocking)
        return blocking
    blocking = create_sync_engine(
        url.set(drivername="sqlite+pysqlite"), pool_size=1, hide_parameters=True
    )
    _configure_sqlite(blocking)
    return blocking


def _configure_postgres(engine: Engine) -> None:
    """No ping before each checkout (a round trip, ~150 µs, on every request): a connection the
    server dropped while it idled in the pool is found without one, and replaced before use."""

    @event.listens_for(engine, "checkout")
    def _on_checkout(_dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if _closed_by_server_socket(record.driver_connection):
            # A restart or a failover drops every idle connection at once: the pool replaces
            # all it holds that are older than this one, and this one now (SQLAlchemy retries
            # the checkout on a fresh connection). Anything else a server may send unasked (a
            # parameter's new value after a reload) costs a reconnect, never an error.
            raise InvalidatePoolError("the server closed this pooled connection")


def closed_by_server(conn: Connection) -> bool:
    """Whether a held connection's PostgreSQL server has closed it (as a checkout from the pool
    would find it); never for SQLite."""
    if conn.dialect.name != "postgresql":
        return False
    return _closed_by_server_socket(conn.connection.driver_connection)


def _closed_by_server_socket(connection: Any) -> bool:
    """Whether the server has sent anything on an idle psycopg connection: outside a query it
    says nothing but that it is going away (a FATAL error, then the end of the stream), as after
    pg_terminate_backend, a restart or an idle timeout. One poll(2) with no wait; no round trip.

    (A connection lost without a word, a cable pulled, is found on use instead: SQLAlchemy's
    is_disconnect invalidates it and the pool, and the request gets a 503.)"""
    try:
        fd = connection.pgconn.socket
    except psycopg.OperationalError:  # closed already
        return True
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(0))


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        configure_sqlite_connection(dbapi_connection)

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        # Straight on a cursor: through exec_driver_sql, SQLAlchemy's execution context cost
        # more than the statement, and every write transaction opens with it.
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        on_cursor(connection, cursor, f"BEGIN {mode}", ())


def driver_error(conn: Connection, error: Any, sql: str, cursor: Any = None) -> StatementError:
    """A driver's error as SQLAlchemy raises it, the connection invalidated when it is gone."""
    dialect = conn.dialect
    invalidated = dialect.is_disconnect(error, conn.connection.dbapi_connection, cursor)
    if invalidated:
        conn.invalidate(error)
    raised: StatementError = DBAPIError.instance(
        sql,
        None,
        error,
        dialect.loaded_dbapi.Error,
        connection_invalidated=invalidated,
        dialect=dialect,
    )
    return raised


def on_cursor(
    conn: Connection,
    cursor: Any,
    sql: str,
    arguments: Any,
    *,
    many: bool = False,
    fetch: bool = False,
) -> tuple[list[Any], int]:
    """Run SQL on a driver cursor (then closed) as SQLAlchemy would run it: its listeners see
    it, a driver error comes out as SQLAlchemy's (the connection invalidated when it is gone).
    The fetched rows (with `fetch`) and the row count."""
    dialect = conn.dialect
    if conn.dispatch.before_cursor_execute:  # listeners (tracing, tests) still see it
        conn.dispatch.before_cursor_execute(conn, cursor, sql, arguments, None, many)
    try:
        if many:
            cursor.executemany(sql, arguments)
        else:
            cursor.execute(sql, arguments)
        return (cursor.fetchall() if fetch else []), cursor.rowcount
    except dialect.loaded_dbapi.Error as error:
        raise driver_error(conn, error, sql, cursor) from error
    finally:
        cursor.close()
