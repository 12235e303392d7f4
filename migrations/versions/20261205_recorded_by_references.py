"""Who recorded each event, indexed: a `recorded_by` row in event_refs per event whose metadata
names the key that appended it, so that editors' `GET /v1/events?recorded_by=` is a seek.

Existing events are backfilled here; new ones get theirs on append (store.rows.ref_rows).

Revision ID: 7c1e0d4a9b25
Revises: 5c1e0a7d9b42
Create Date: 2026-12-05 00:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7c1e0d4a9b25"
down_revision: str | None = "5c1e0a7d9b42"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As domain.references.recorder_references: a non-empty string of at most 200 characters (the
# width of event_refs.ref). Rows already there are left alone, so upgrading again after a
# downgrade (which leaves them: the index is append-only) adds nothing twice.
_POSTGRESQL = """
INSERT INTO event_refs (kind, ref, position)
SELECT 'recorded_by', e.metadata ->> 'recorded_by', e.position
FROM events e
WHERE jsonb_typeof(e.metadata -> 'recorded_by') = 'string'
  AND length(e.metadata ->> 'recorded_by') BETWEEN 1 AND 200
  AND NOT EXISTS (
    SELECT 1 FROM event_refs r
    WHERE r.kind = 'recorded_by' AND r.ref = e.metadata ->> 'recorded_by'
      AND r.position = e.position
  )
"""

_SQLITE = """
INSERT INTO event_refs (kind, ref, position)
SELECT 'recorded_by', json_extract(e.metadata, '$.recorded_by'), e.position
FROM events e
WHERE json_type(e.metadata, '$.recorded_by') = 'text'
  AND length(json_extract(e.metadata, '$.recorded_by')) BETWEEN 1 AND 200
  AND NOT EXISTS (
    SELECT 1 FROM event_refs r
    WHERE r.kind = 'recorded_by' AND r.ref = json_extract(e.metadata, '$.recorded_by')
      AND r.position = e.position
  )
"""


def upgrade() -> None:
    bind = op.get_bind()
    op.execute(sa.text(_POSTGRESQL if bind.dialect.name == "postgresql" else _SQLITE))


def downgrade() -> None:
    # event_refs is append-only (its triggers refuse DELETE): the `recorded_by` rows stay, and
    # the code before this revision never reads that kind.
    pass
