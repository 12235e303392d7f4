"""The rules every store applies to an append, whatever holds the data."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from uuid import UUID

from domain.canonical import canonical_bytes, draft_content
from domain.drafts import EventDraft
from store.errors import DuplicateEventConflict, StaleExpectedVersion
from store.ports import AppendResult
from store.records import RecordedEvent


def replay_of_earlier_append(
    stream: str, drafts: Sequence[EventDraft], existing: Mapping[UUID, RecordedEvent]
) -> AppendResult | None:
    """The original result when the whole batch was appended before; None when none of it was."""
    if not existing:
        return None
    originals: list[RecordedEvent] = []
    for draft in drafts:
        original = existing.get(draft.id)
        if original is None:
            raise DuplicateEventConflict(
                next(iter(existing)),
                "while other events of this batch do not: retry the whole batch or none of it",
            )
        if canonical_bytes(draft_content(stream, draft)) != canonical_bytes(
            draft_content(original.stream, original.draft)
        ):
            raise DuplicateEventConflict(draft.id, "with different content")
        originals.append(original)
    positions = [e.position for e in originals]
    if positions != list(range(positions[0], positions[0] + len(positions))):
        raise DuplicateEventConflict(originals[0].id, "but not as this batch")
    return AppendResult(
        stream=stream,
        stream_version=max(e.stream_version for e in originals),
        events=tuple(originals),
        duplicate=True,
    )


def check_expected_version(stream: str, expected: int | None, current: int) -> None:
    """Refuse the append when the stream is not where the writer expected it."""
    if expected is not None and expected != current:
        raise StaleExpectedVersion(stream, expected, current)


def recorded_stamps(now: int, last: int, count: int) -> list[int]:
    """Transaction times in microseconds, strictly increasing from the log's last one."""
    first = max(now, last + 1)
    return [first + i for i in range(count)]
