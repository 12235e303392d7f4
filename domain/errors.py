"""Errors of the domain: every rule a fact can break.

DomainError
 ├── InvalidValidTime        an occurred_at / as_of expression that cannot be read
 ├── InvalidEvent            an event draft that breaks its type's schema (names the field)
 │    ├── UnknownEventType
 │    └── UnsupportedSchemaVersion
 └── ...
"""

from __future__ import annotations


class DomainError(Exception):
    """Root of every error raised by the domain."""


class InvalidValidTime(DomainError, ValueError):
    """A valid-time expression that cannot be read; the message says what is wrong."""


class InvalidEvent(DomainError):
    """An event draft that breaks its schema; `field` is the JSON path of the offending value."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class UnknownEventType(InvalidEvent):
    """An event type the domain does not define."""


class UnsupportedSchemaVersion(InvalidEvent):
    """A payload schema version the event type does not define."""
