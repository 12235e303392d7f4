"""Alembic environment: migrates the configured database with a synchronous engine."""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection

from store.database import DatabaseUrl, configure_sqlite_connection, configured_url
from store.tables import metadata

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Migrate through a connection handed in by the caller, or one opened from the URL."""
    given = config.attributes.get("connection")
    if given is not None:
        _run(given)
        return
    url: DatabaseUrl = config.attributes.get("database_url") or configured_url()
    url.require_folder()  # the file is made when missing, its folder never
    engine = create_engine(url.sync_url, hide_parameters=True)
    if url.backend == "sqlite":
        from sqlalchemy import event

        event.listen(engine, "connect", lambda conn, _rec: configure_sqlite_connection(conn))
        event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported: run `timeline db upgrade`")
run_migrations_online()
