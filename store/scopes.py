"""The scopes an API key can hold: in a module of their own so that the CLI can offer them as
choices without importing the database layer (sqlalchemy is slow to import)."""

from __future__ import annotations

SCOPES = ("events:write", "events:audit", "sources:text", "subscriptions:write", "admin")
# events:audit: reads show who recorded each event (metadata's key name and id) and the log can
# be filtered by it; `admin` holds every scope.
AUDIT = "events:audit"
# sources:text: attach an article's text to a source and read texts back (they are copyrighted:
# never served without it).
TEXTS = "sources:text"
