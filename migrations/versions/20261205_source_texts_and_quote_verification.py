"""Source texts beside the log (content-addressed, append-only by trigger) and the
quote-verification read model: which text each source has, and each quoted citation's check.

On a database with events the model's checkpoint starts at version 0, which no code has:
`timeline db upgrade` then rebuilds it from the log (no text was attached before this revision,
so it comes out empty).

Revision ID: 3f6a2c9e8d17
Revises: 7c1e0d4a9b25
Create Date: 2026-12-05 12:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

revision: str = "3f6a2c9e8d17"
down_revision: str | None = "7c1e0d4a9b25"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MODEL = "quote_verification"


def upgrade() -> None:
    op.create_table(
        "source_texts",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("characters", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("sha256"),
    )
    op.create_table(
        "source_text_attachments",
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("recorded_from", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("recorded_to", sa.BigInteger(), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("characters", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("source", "recorded_from"),
    )
    with op.batch_alter_table("source_text_attachments", schema=None) as batch_op:
        batch_op.create_index("ix_text_attachments_open", ["source", "recorded_to"], unique=False)
    op.create_table(
        "citation_checks",
        sa.Column("position", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("citation", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("recorded_from", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("recorded_to", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("span_start", sa.Integer(), nullable=True),
        sa.Column("span_end", sa.Integer(), nullable=True),
        sa.Column(
            "fragments",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("position", "citation", "recorded_from"),
    )
    with op.batch_alter_table("citation_checks", schema=None) as batch_op:
        batch_op.create_index(
            "ix_citation_checks_source",
            ["source", "recorded_to", "verified", "position"],
            unique=False,
        )
    _guard_texts()
    has_events = op.get_bind().execute(sa.text("SELECT 1 FROM events LIMIT 1")).first()
    op.bulk_insert(
        sa.table(
            "projection_checkpoints",
            sa.column("name"),
            sa.column("position"),
            sa.column("version"),
        ),
        [{"name": MODEL, "position": 0, "version": 0 if has_events else 1}],
    )


def _guard_texts() -> None:
    """Texts are part of the record: as the log, never updated or deleted."""
    if op.get_bind().dialect.name == "postgresql":
        # refuse_log_change() is the log's own guard (revision b359ec595a05).
        op.execute(
            "CREATE TRIGGER source_texts_append_only BEFORE UPDATE OR DELETE ON source_texts "
            "FOR EACH ROW EXECUTE FUNCTION refuse_log_change()"
        )
        op.execute(
            "CREATE TRIGGER source_texts_no_truncate BEFORE TRUNCATE ON source_texts "
            "FOR EACH STATEMENT EXECUTE FUNCTION refuse_log_change()"
        )
        return
    for operation in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER source_texts_no_{operation.lower()} BEFORE {operation} "
            f"ON source_texts BEGIN SELECT RAISE(ABORT, 'source_texts is append-only: "
            f"{operation} refused'); END"
        )


def downgrade() -> None:
    op.execute(f"DELETE FROM projection_checkpoints WHERE name = '{MODEL}'")
    with op.batch_alter_table("citation_checks", schema=None) as batch_op:
        batch_op.drop_index("ix_citation_checks_source")
    op.drop_table("citation_checks")
    with op.batch_alter_table("source_text_attachments", schema=None) as batch_op:
        batch_op.drop_index("ix_text_attachments_open")
    op.drop_table("source_text_attachments")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS source_texts_append_only ON source_texts")
        op.execute("DROP TRIGGER IF EXISTS source_texts_no_truncate ON source_texts")
    else:
        for operation in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS source_texts_no_{operation}")
    op.drop_table("source_texts")
