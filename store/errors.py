"""Errors of the store: each names the rule an append broke.

StoreError
 ├── StaleExpectedVersion    the stream is not at the version the writer expected
 ├── DuplicateEventConflict  an event id exists already with other content
 ├── InvalidSubmission       drafts that fail their schema or point at nothing (field errors)
 ├── UnknownSource           a text for a source no event registered
 ├── RateLimited             the key has made its allowance of writes in this window
 ├── DatabaseUnavailable     the database cannot be reached
 └── SchemaNotCurrent        the database's schema is not the one this code's migrations end at
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID


class StoreError(Exception):
    """Root of every error raised by the store."""


class StaleExpectedVersion(StoreError):
    """The stream's current version is not the expected one; nothing was written."""

    def __init__(self, stream: str, expected: int, current: int) -> None:
        super().__init__(f"stream {stream!r} is at version {current}, not the expected {expected}")
        self.stream = stream
        self.expected = expected
        self.current = current


class DuplicateEventConflict(StoreError):
    """An event id exists already with different content (or in another batch shape)."""

    def __init__(self, event_id: UUID, reason: str) -> None:
        super().__init__(f"event {event_id} already exists {reason}")
        self.event_id = event_id


@dataclass(frozen=True, slots=True)
class Passage:
    """A short excerpt of a source's text, and where it is (character offsets, half-open);
    `source` names the source when a quote rests on several."""

    start: int
    end: int
    text: str
    source: str | None = None


@dataclass(frozen=True, slots=True)
class FieldError:
    """One offending field of a submission, by JSON path; a misquote carries the passage of
    the source's text closest to it."""

    field: str
    message: str
    passage: Passage | None = None


class InvalidSubmission(StoreError):
    """Drafts that break their schema or cite what does not exist; nothing was written."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))
        self.errors = errors


class AlreadyRegistered(InvalidSubmission):
    """Registrations of ids the log (or the batch) has registered already: a second one would
    say two things of one source, actor or proposal; its registration is corrected instead."""


class UnknownSource(StoreError):
    """A text attached to (or asked of) a source that is not registered; nothing was written."""

    def __init__(self, source: str) -> None:
        super().__init__(f"no source {source!r} is registered")
        self.source = source


class RateLimited(StoreError):
    """The key has used its writes for this window; nothing was written."""

    def __init__(self, limit: int, seconds: int, retry_after: int) -> None:
        super().__init__(
            f"this key may make {limit} writes every {seconds} s; retry after {retry_after} s"
        )
        self.limit = limit
        self.seconds = seconds
        self.retry_after = retry_after


class DatabaseUnavailable(StoreError):
    """The database could not be reached or answered with an operational error."""


class ReservationLost(StoreError):
    """Another request took over this Idempotency-Key's reservation: it, not this one, runs."""


class SchemaNotCurrent(StoreError):
    """The database is not at the schema this code's migrations end at (or does not exist)."""


def first_line(error: BaseException) -> str:
    """A driver error's first line, for messages: the lines after it (PostgreSQL's DETAIL) may
    quote the values of the row at fault, a key's hash say."""
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__
