"""The log's hash chain (tamper evidence): each event's hash covers its content and its
predecessor's hash, so changing, removing or reordering any logged event shows.

    hash(n) = sha256( hash(n - 1) as 64 ASCII hex digits || canonical content of event n )

with hash(0) = GENESIS. The content is the compact, key-sorted JSON of every column the log
stores for the event (`domain.canonical.canonical_bytes`), so the hash can be recomputed from a
database dump with any SHA-256 and JSON tool.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from domain.canonical import canonical_bytes

GENESIS = "0" * 64


def content_of(
    *,
    position: int,
    id: UUID | str,
    stream: str,
    stream_version: int,
    type: str,
    schema_version: int,
    occurred_at: str,
    timezone: str,
    occurred_earliest: int,
    occurred_latest: int,
    occurred_precision: str,
    occurred_qualifiers: Iterable[str],
    recorded_at: int,
    payload: Any,
    sources: Any,
    codes: Any,
    metadata: Any,
    actors: Iterable[str],
) -> bytes:
    """The canonical bytes of one logged event: everything its row records but the hash."""
    return canonical_bytes(
        {
            "position": position,
            "id": str(id),
            "stream": stream,
            "stream_version": stream_version,
            "type": type,
            "schema_version": schema_version,
            "occurred_at": occurred_at,
            "timezone": timezone,
            "occurred_earliest": occurred_earliest,
            "occurred_latest": occurred_latest,
            "occurred_precision": occurred_precision,
            "occurred_qualifiers": list(occurred_qualifiers),
            "recorded_at": recorded_at,
            "payload": payload,
            "sources": sources,
            "codes": codes,
            "metadata": metadata,
            "actors": list(actors),
        }
    )


def link(prev_hash: str, content: bytes) -> str:
    """The hash of an event whose predecessor's hash is `prev_hash` (hex)."""
    digest = hashlib.sha256(prev_hash.encode("ascii"))
    digest.update(content)
    return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class ChainLink:
    """One logged event as verification sees it: where it is, what it says, its stored hash."""

    position: int
    content: bytes
    hash: str


class ChainVerifier:
    """Checks links in position order, one at a time, so a log of any length can stream past."""

    def __init__(self, prev_hash: str = GENESIS) -> None:
        self.prev_hash = prev_hash
        self.checked = 0
        self.head = 0
        self.first_broken: int | None = None

    def check(self, position: int, content: bytes, stored_hash: str) -> bool:
        """Take the next link; False when it does not follow from the one before it.

        Each link is checked against its predecessor's *stored* hash: an altered event breaks
        at itself, an altered hash at itself, and an event re-hashed by a forger at its successor.
        """
        intact = stored_hash == link(self.prev_hash, content)
        if not intact and self.first_broken is None:
            self.first_broken = position
        self.prev_hash = stored_hash
        self.checked += 1
        self.head = position
        return intact


def verify(links: Iterable[ChainLink], prev_hash: str = GENESIS) -> int | None:
    """The position of the first link that does not follow from its predecessor, or None."""
    verifier = ChainVerifier(prev_hash)
    for item in links:
        if not verifier.check(item.position, item.content, item.hash):
            return item.position
    return None
