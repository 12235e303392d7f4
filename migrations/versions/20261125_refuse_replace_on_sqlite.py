"""Refuse SQLite's REPLACE on the log: it deletes the old row without firing DELETE triggers.

Revision ID: 5c1e7a9d2b40
Revises: b359ec595a05
Create Date: 2026-11-25 18:05:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "5c1e7a9d2b40"
down_revision: str | None = "b359ec595a05"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# On PostgreSQL an upsert fires the UPDATE trigger already; only SQLite needs these.
GUARDS = {
    "events": "position = NEW.position OR id = NEW.id "
    "OR (stream = NEW.stream AND stream_version = NEW.stream_version)",
    "event_refs": "kind = NEW.kind AND ref = NEW.ref AND position = NEW.position",
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table, clash in GUARDS.items():
        op.execute(
            f"CREATE TRIGGER {table}_no_replace BEFORE INSERT ON {table} "
            f"WHEN EXISTS (SELECT 1 FROM {table} WHERE {clash}) "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: REPLACE refused'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in GUARDS:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_replace")
