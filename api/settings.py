"""Configuration from the environment, read once when the app is made."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from store.database import DatabaseUrl, configured_url

MAX_BODY_BYTES = 1024 * 1024


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    """What a running API needs to know."""

    database_url: DatabaseUrl = field(default_factory=configured_url)
    host: str = field(default_factory=lambda: os.environ.get("TIMELINE_HOST", "127.0.0.1"))
    port: int = field(default_factory=lambda: int(os.environ.get("TIMELINE_PORT", "8000")))
    max_body_bytes: int = MAX_BODY_BYTES
