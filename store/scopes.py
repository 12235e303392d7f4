"""The scopes an API key can hold: in a module of their own so that the CLI can offer them as
choices without importing the database layer (sqlalchemy is slow to import)."""

from __future__ import annotations

SCOPES = ("events:write", "events:audit", "subscriptions:write", "admin")
# events:audit: reads show who recorded each event (metadata's key name and id) and the log can
# be filtered by it; `admin` holds every scope.
AUDIT = "events:audit"
