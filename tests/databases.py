"""Fresh, migrated databases for tests: copied from a template migrated once per session."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from store.database import DatabaseUrl
from store.schema import upgrade
from tests.support.live import seed

POSTGRES_ENV = "TIMELINE_TEST_POSTGRES_URL"
IN_CI = os.environ.get("CI", "").lower() == "true"


def postgres_admin_url() -> str:
    """The PostgreSQL server tests use, or a skip (a failure under CI=true)."""
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        if IN_CI:
            pytest.fail(f"{POSTGRES_ENV} is not set: CI must test PostgreSQL")
        pytest.skip(f"{POSTGRES_ENV} is not set")
    try:
        psycopg.connect(_libpq(url), connect_timeout=5).close()
    except psycopg.OperationalError as error:
        if IN_CI:
            pytest.fail(f"PostgreSQL at {POSTGRES_ENV} cannot be reached: {error}")
        pytest.skip(f"PostgreSQL cannot be reached: {error}")
    return url


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _with_database(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)


# A CREATE or DROP DATABASE that waits this long has hung (a drop forces a checkpoint and waits
# for it, and for the server's other sessions): it fails instead of holding a test, or the
# session's end, until CI's limit.
ADMIN_STATEMENT_SECONDS = 120


def _admin(url: str, *statements: str) -> None:
    timeout = f"-c statement_timeout={ADMIN_STATEMENT_SECONDS * 1000}"
    with psycopg.connect(_libpq(url), autocommit=True, connect_timeout=10, options=timeout) as conn:
        for statement in statements:
            conn.execute(statement)  # type: ignore[arg-type]


class PostgresDatabases:
    """Creates databases from one migrated template; drops each one a test releases on a thread
    of its own while the next tests run, and the rest at the end."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.template = f"timeline_tpl_{uuid.uuid4().hex[:10]}"
        self.seeded_template: str | None = None
        self.created: set[str] = set()
        # Dropping a database waits for PostgreSQL to remove its files: tens to hundreds of
        # milliseconds that no test needs to wait for.
        self.dropper = ThreadPoolExecutor(1, thread_name_prefix="drop-database")
        _admin(admin_url, f'CREATE DATABASE "{self.template}"')
        upgrade(DatabaseUrl(_with_database(admin_url, self.template)))

    def empty(self) -> DatabaseUrl:
        """A new database with no tables."""
        return self._create("")

    def fresh(self) -> DatabaseUrl:
        """A new migrated database with an empty log."""
        return self._create(f' TEMPLATE "{self.template}"')

    def seeded(self) -> DatabaseUrl:
        """A new migrated database holding the first data set (seeded once per session)."""
        if self.seeded_template is None:
            name = f"timeline_seeded_{uuid.uuid4().hex[:10]}"
            _admin(self.admin_url, f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
            seed(_with_database(self.admin_url, name))
            self.seeded_template = name
        return self._create(f' TEMPLATE "{self.seeded_template}"')

    def _create(self, template: str) -> DatabaseUrl:
        name = f"timeline_t_{uuid.uuid4().hex[:12]}"
        _admin(self.admin_url, f'CREATE DATABASE "{name}"{template}')
        self.created.add(name)
        return DatabaseUrl(_with_database(self.admin_url, name))

    def release(self, url: DatabaseUrl) -> None:
        """The test is done with this database: drop it in the background (no test waits for a
        drop, which forces a checkpoint); one that fails is tried again at the session's end."""
        name = str(make_url(url.raw).database)
        self.created.discard(name)
        self.dropper.submit(self._drop_or_keep, name)

    def _drop_or_keep(self, name: str) -> None:
        try:
            self._drop(name)
        except psycopg.Error:
            self.created.add(name)

    def _drop(self, name: str) -> None:
        _admin(self.admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def drop_all(self) -> None:
        """Drop the template and every database made from it."""
        self.dropper.shutdown(wait=True)
        for name in [*self.created, self.seeded_template, self.template]:
            if name is not None:
                self._drop(name)


class SqliteDatabases:
    """Copies one migrated SQLite file per test."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.template = directory / "template.db"
        self.seeded_template: Path | None = None
        upgrade(DatabaseUrl(f"sqlite:///{self.template}"))

    def empty(self) -> DatabaseUrl:
        """A path for a new database with no tables."""
        return DatabaseUrl(f"sqlite:///{self.directory / f'{uuid.uuid4().hex}.db'}")

    def fresh(self) -> DatabaseUrl:
        """A new migrated database with an empty log."""
        return self._copy(self.template)

    def seeded(self) -> DatabaseUrl:
        """A new migrated database holding the first data set (seeded once per session)."""
        if self.seeded_template is None:
            template = self.directory / "seeded.db"
            shutil.copyfile(self.template, template)
            seed(f"sqlite:///{template}")
            self.seeded_template = template
        return self._copy(self.seeded_template)

    def release(self, url: DatabaseUrl) -> None:
        """The test is done with this database: remove its file (and WAL files, if any)."""
        path = Path(str(make_url(url.raw).database))
        for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            leftover.unlink(missing_ok=True)

    def _copy(self, template: Path) -> DatabaseUrl:
        path = self.directory / f"{uuid.uuid4().hex}.db"
        shutil.copyfile(template, path)
        return DatabaseUrl(f"sqlite:///{path}")


@contextmanager
def session_postgres() -> Iterator[PostgresDatabases]:
    """Template databases for one test session."""
    databases = PostgresDatabases(postgres_admin_url())
    try:
        yield databases
    finally:
        databases.drop_all()
