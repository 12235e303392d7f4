"""Webhook secret rotation (the replaced secret and until when it still signs) and the index the
retention prune of delivery attempts walks.

Revision ID: adbdf6af238b
Revises: 2d837d898ea3
Create Date: 2026-12-04 22:54:27.881363
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "adbdf6af238b"
down_revision: str | None = "2d837d898ea3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.create_index("ix_deliveries_attempted_at", ["attempted_at"], unique=False)

    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("previous_secret", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("previous_secret_until", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    # ALTER TABLE … DROP COLUMN (SQLite 3.35+), not a batch copy of the table: dropping the old
    # `subscriptions` would break the foreign keys of its delivery attempts.
    op.drop_column("subscriptions", "previous_secret_until")
    op.drop_column("subscriptions", "previous_secret")

    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_deliveries_attempted_at")
