"""A hash per event chaining it to its predecessor (tamper evidence), backfilled in log order.

Revision ID: 9e3b5c7a1f24
Revises: 55c82feb8c8f
Create Date: 2026-11-26 09:00:00

The backfill rewrites every logged row once, which the append-only triggers exist to refuse: for
that one statement they are lifted and then put back exactly as they were (PostgreSQL: disabled
and re-enabled in their original mode; SQLite: dropped and re-created from their own SQL, which
the table rebuild that makes the column NOT NULL would drop anyway). All of it is one
transaction, so no other writer ever sees the log unguarded.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection

from domain.chain import GENESIS, link
from store.rows import chain_content

revision: str = "9e3b5c7a1f24"
down_revision: str | None = "55c82feb8c8f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 5000
_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
# The events table as this revision knows it, typed so values read back as the store reads them.
EVENTS = sa.table(
    "events",
    sa.column("position", sa.BigInteger()),
    sa.column("id", sa.Uuid()),
    sa.column("stream", sa.String()),
    sa.column("stream_version", sa.Integer()),
    sa.column("type", sa.String()),
    sa.column("schema_version", sa.Integer()),
    sa.column("occurred_at", sa.String()),
    sa.column("occurred_timezone", sa.String()),
    sa.column("occurred_earliest", sa.BigInteger()),
    sa.column("occurred_latest", sa.BigInteger()),
    sa.column("occurred_precision", sa.String()),
    sa.column("occurred_qualifiers", _JSON),
    sa.column("recorded_at", sa.BigInteger()),
    sa.column("actors", _JSON),
    sa.column("payload", _JSON),
    sa.column("sources", _JSON),
    sa.column("codes", _JSON),
    sa.column("metadata", _JSON),
    sa.column("hash", sa.String()),
)
# PostgreSQL's pg_trigger.tgenabled codes, and how to put each back.
_ENABLE = {"O": "ENABLE TRIGGER", "A": "ENABLE ALWAYS TRIGGER", "R": "ENABLE REPLICA TRIGGER"}


def upgrade() -> None:
    bind = op.get_bind()
    with _log_guards_lifted(bind):
        op.add_column("events", sa.Column("hash", sa.String(length=64), nullable=True))
        _backfill(bind)
        with op.batch_alter_table("events", schema=None) as batch_op:
            batch_op.alter_column(
                "hash", existing_type=sa.String(length=64), existing_nullable=True, nullable=False
            )


def downgrade() -> None:
    with _log_guards_lifted(op.get_bind()), op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_column("hash")


def _backfill(bind: Connection) -> None:
    """Hash every event in position order, a page at a time (the log may be long)."""
    prev_hash, after = GENESIS, 0
    while page := _page(bind, after):
        hashes = []
        for row in page:
            prev_hash = link(prev_hash, chain_content(row._mapping))
            hashes.append({"at": row.position, "value": prev_hash})
        bind.execute(
            EVENTS.update()
            .where(EVENTS.c.position == sa.bindparam("at"))
            .values(hash=sa.bindparam("value")),
            hashes,
        )
        after = page[-1].position


def _page(bind: Connection, after: int) -> list[Any]:
    columns = [c for c in EVENTS.c if c.name != "hash"]
    query = (
        sa.select(*columns)
        .where(EVENTS.c.position > after)
        .order_by(EVENTS.c.position)
        .limit(BATCH)
    )
    return list(bind.execute(query))


@contextmanager
def _log_guards_lifted(bind: Connection) -> Iterator[None]:
    """The events table's triggers off for the block, then back exactly as they were."""
    if bind.dialect.name == "postgresql":
        with _postgres_triggers_disabled(bind):
            yield
        return
    with _sqlite_triggers_dropped(bind):
        yield


@contextmanager
def _postgres_triggers_disabled(bind: Connection) -> Iterator[None]:
    states = bind.execute(
        sa.text(
            "SELECT tgname, tgenabled FROM pg_trigger "
            "WHERE tgrelid = 'events'::regclass AND NOT tgisinternal ORDER BY tgname"
        )
    ).all()
    enabled = [(name, str(state)) for name, state in states if str(state) in _ENABLE]
    for name, _state in enabled:
        op.execute(f'ALTER TABLE events DISABLE TRIGGER "{name}"')
    yield
    for name, state in enabled:
        op.execute(f'ALTER TABLE events {_ENABLE[state]} "{name}"')


@contextmanager
def _sqlite_triggers_dropped(bind: Connection) -> Iterator[None]:
    triggers = bind.execute(
        sa.text(
            "SELECT name, sql FROM sqlite_master "
            "WHERE type = 'trigger' AND tbl_name = 'events' ORDER BY name"
        )
    ).all()
    for name, _sql in triggers:
        op.execute(f'DROP TRIGGER "{name}"')
    yield
    for _name, sql in triggers:
        op.execute(sql)
