"""Schema changes through Alembic only: upgrade, downgrade and drift check for a database URL."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from store.database import DatabaseUrl

ALEMBIC_INI = Path(__file__).resolve().parents[1] / "alembic.ini"


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
