"""Schema changes through Alembic only: upgrade, downgrade, drift check, and whether a database
is at the schema this code's migrations end at."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy.pool import NullPool

from store.database import DatabaseUrl
from store.errors import DatabaseUnavailable, SchemaNotCurrent, first_line

ALEMBIC_INI = Path(__file__).resolve().parents[1] / "alembic.ini"
UPGRADE = "run `timeline db upgrade`"


def alembic_config(url: DatabaseUrl) -> Config:
    """Alembic's configuration, pointed at this database."""
    config = Config(str(ALEMBIC_INI))
    config.attributes["database_url"] = url
    config.attributes["configure_logger"] = False
    return config


def upgrade(url: DatabaseUrl, revision: str = "head") -> None:
    """Migrate the database up to a revision (the newest by default)."""
    command.upgrade(alembic_config(url), revision)


def downgrade(url: DatabaseUrl, revision: str = "base") -> None:
    """Migrate the database down to a revision (empty by default)."""
    command.downgrade(alembic_config(url), revision)


def check(url: DatabaseUrl) -> None:
    """Raise when the table models and the migrations disagree."""
    command.check(alembic_config(url))


@dataclass(frozen=True, slots=True)
class SchemaState:
    """Where a database's schema stands against this code's migrations."""

    exists: bool  # False: a SQLite file not made yet
    current: tuple[str, ...]  # the database's revisions; none when never migrated
    heads: tuple[str, ...]  # the revisions this code's migrations end at
    known: bool  # every current revision is one of this code's migrations

    @property
    def at_head(self) -> bool:
        return self.exists and set(self.current) == set(self.heads)


def schema_state(url: DatabaseUrl) -> SchemaState:
    """Read the database's revision (Alembic's version table) and compare it with the heads of
    this code's migration scripts. Reads only: a missing SQLite file is not made."""
    scripts = ScriptDirectory.from_config(alembic_config(url))
    heads = tuple(scripts.get_heads())
    url.require_folder()
    path = url.sqlite_path
    if path is not None and not path.exists():
        return SchemaState(exists=False, current=(), heads=heads, known=True)
    engine = sa.create_engine(url.sync_url, poolclass=NullPool, hide_parameters=True)
    try:
        with engine.connect() as conn:
            current = tuple(MigrationContext.configure(conn).get_current_heads())
    except sa.exc.DBAPIError as error:
        raise DatabaseUnavailable(
            f"cannot reach the database {url.shown}: {first_line(error.orig or error)}"
        ) from None
    finally:
        engine.dispose()
    return SchemaState(exists=True, current=current, heads=heads, known=_known(scripts, current))


def _known(scripts: ScriptDirectory, revisions: tuple[str, ...]) -> bool:
    try:
        return all(scripts.get_revision(revision) is not None for revision in revisions)
    except CommandError:  # a revision none of our scripts defines
        return False


def require_current_schema(url: DatabaseUrl) -> None:
    """Raise SchemaNotCurrent, saying what to do, unless the database is at the newest schema;
    DatabaseUnavailable when it cannot be reached."""
    state = schema_state(url)
    if state.at_head:
        return
    if not state.exists:
        raise SchemaNotCurrent(f"the database {url.sqlite_path} does not exist yet: {UPGRADE}")
    if not state.current:
        raise SchemaNotCurrent(f"the database {url.shown} has no schema yet: {UPGRADE}")
    current, heads = ", ".join(state.current), ", ".join(state.heads)
    if not state.known:
        raise SchemaNotCurrent(
            f"the database {url.shown} is at schema revision {current}, which this version of "
            f"timeline does not know (a newer one migrated it): use that version"
        )
    raise SchemaNotCurrent(
        f"the database {url.shown} is at schema revision {current}, not the newest "
        f"({heads}): {UPGRADE}"
    )
