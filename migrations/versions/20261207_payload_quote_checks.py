"""Payload quotes in the quote-verification read model: their checks are rows of
citation_checks (`citation` = -1 - the index of the citation whose source's text was read), so
no table changes.

The model's code version moves to 2: on a database with events its checkpoint stays at 1, so
`timeline db upgrade` rebuilds it from the log (checking every payload quote against the texts
attached so far); an empty log is already projected.

Revision ID: 4b8e1f6c2a95
Revises: 9d3f2a61c8e4
Create Date: 2026-12-07 09:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "4b8e1f6c2a95"
down_revision: str | None = "9d3f2a61c8e4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    has_events = op.get_bind().execute(sa.text("SELECT 1 FROM events LIMIT 1")).first()
    if not has_events:
        op.execute(
            "UPDATE projection_checkpoints SET version = 2 WHERE name = 'quote_verification'"
        )


def downgrade() -> None:
    # Version 1's code reads payload rows as citations: drop them, and let it rebuild.
    op.execute("DELETE FROM citation_checks WHERE citation < 0")
    op.execute("UPDATE projection_checkpoints SET version = 0 WHERE name = 'quote_verification'")
