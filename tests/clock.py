"""A clock tests control: it moves only when told to."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class FrozenClock:
    """Returns the same instant until advanced or set."""

    def __init__(self, start: datetime = datetime(2026, 1, 1, 12, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        """Move forward by a timedelta's keywords."""
        self.now += timedelta(**delta)
