"""The positions read model stores each state as text in the API's own compact JSON (msgspec's
encoding), on PostgreSQL too, where it was JSONB: a position read then sends the state on as it
is stored, without decoding it and encoding it again.

The model's code version moves to 2: on a database with events its checkpoint stays at 1, so
`timeline db upgrade` rebuilds it from the log (every state written again in that encoding; the
text the column held until then is JSON all the same, only spaced and ordered otherwise); an
empty log is already projected.

Revision ID: 5c2d7e9a3b16
Revises: 4b8e1f6c2a95
Create Date: 2026-12-08 09:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "5c2d7e9a3b16"
down_revision: str | None = "4b8e1f6c2a95"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("positions", schema=None) as batch_op:
        batch_op.alter_column(
            "state",
            existing_type=JSON,
            type_=sa.Text(),
            existing_nullable=False,
            postgresql_using="state::text",
        )
    has_events = op.get_bind().execute(sa.text("SELECT 1 FROM events LIMIT 1")).first()
    if not has_events:
        op.execute("UPDATE projection_checkpoints SET version = 2 WHERE name = 'positions'")


def downgrade() -> None:
    # Version 1's code reads the compact text as it reads any JSON: the rows stay valid for it.
    with op.batch_alter_table("positions", schema=None) as batch_op:
        batch_op.alter_column(
            "state",
            existing_type=sa.Text(),
            type_=JSON,
            existing_nullable=False,
            postgresql_using="state::jsonb",
        )
    op.execute("UPDATE projection_checkpoints SET version = 1 WHERE name = 'positions'")
