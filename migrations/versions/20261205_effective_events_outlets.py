"""Corroboration: the number of distinct outlets a world event's citations come from, per
version of the effective events, indexed for the timeline's `min_outlets`.

Revision ID: 5c1e0a7d9b42
Revises: adbdf6af238b
Create Date: 2026-12-05 00:40:00.000000

The effective-events model's code version moves to 2: on a database with events its checkpoint
stays at 1, so `timeline db upgrade` rebuilds it from the log (filling `outlets` and each
version's corroboration); an empty log is already projected.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5c1e0a7d9b42"
down_revision: str | None = "adbdf6af238b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ALTERs, not a batch: SQLite's batch copy would lose the expression index
    # ix_effective_span, which reflection does not see.
    op.add_column(
        "effective_events",
        sa.Column("outlets", sa.Integer(), server_default="0", nullable=False),
    )
    op.create_index(
        "ix_effective_outlets",
        "effective_events",
        ["kind", "outlets", "valid_earliest", "position"],
        unique=False,
    )
    has_events = op.get_bind().execute(sa.text("SELECT 1 FROM events LIMIT 1")).first()
    if not has_events:
        op.execute("UPDATE projection_checkpoints SET version = 2 WHERE name = 'effective_events'")


def downgrade() -> None:
    op.drop_index("ix_effective_outlets", table_name="effective_events")
    op.drop_column("effective_events", "outlets")
    # The rows left were written by version 2's code: the older code rebuilds them.
    op.execute("UPDATE projection_checkpoints SET version = 0 WHERE name = 'effective_events'")
