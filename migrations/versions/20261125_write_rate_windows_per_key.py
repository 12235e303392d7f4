"""Write counts per API key and fixed window, for a rate limit shared by every API process.

Revision ID: 55c82feb8c8f
Revises: 503420f770bd
Create Date: 2026-11-25 21:06:34.579718
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "55c82feb8c8f"
down_revision: str | None = "503420f770bd"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rate_windows",
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("window_start", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key_id", "window_start"),
    )


def downgrade() -> None:
    op.drop_table("rate_windows")
