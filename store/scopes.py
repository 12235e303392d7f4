"""The scopes an API key can hold: in a module of their own so that the CLI can offer them as
choices without importing the database layer (sqlalchemy is slow to import)."""

from __future__ import annotations

SCOPES = ("events:write", "subscriptions:write", "admin")
