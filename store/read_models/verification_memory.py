"""The quote-verification read model in memory (the in-memory store, the rebuild): rows in
lists, the open ones found by source, and the reads by filtering them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace

from store.read_models.verification import Attachment, Check

# Where a replay finds a text it has not seen yet (a rebuild reads them from the database).
TextLoader = Callable[[str], Awaitable[str | None]]


class MemoryVerificationRows:
    """Every attachment and check, as the tables would hold them; `texts` by SHA-256."""

    def __init__(self, texts: dict[str, str] | None = None, load: TextLoader | None = None) -> None:
        self.attachments: list[Attachment] = []
        self.checks: list[Check] = []
        self.texts: dict[str, str] = {} if texts is None else texts
        self._load = load
        self._open_attachment: dict[str, int] = {}  # source -> slot in `attachments`
        self._open_checks: dict[str, dict[tuple[int, int], int]] = {}  # source -> key -> slot
        self._open_payload: dict[int, dict[tuple[int, int], int]] = {}  # position -> key -> slot

    async def open_attachment(self, source: str) -> Attachment | None:
        slot = self._open_attachment.get(source)
        return None if slot is None else self.attachments[slot]

    async def attach(self, closing: Attachment | None, at: int, inserting: Attachment) -> None:
        if closing is not None:
            slot = self._open_attachment[closing.source]
            self.attachments[slot] = replace(closing, recorded_to=at)
        self._open_attachment[inserting.source] = len(self.attachments)
        self.attachments.append(inserting)

    async def open_checks(self, source: str) -> list[Check]:
        return [self.checks[slot] for slot in self._open_checks.get(source, {}).values()]

    async def open_payload_checks(self, positions: Sequence[int]) -> list[Check]:
        return [
            self.checks[slot]
            for position in dict.fromkeys(positions)
            for slot in self._open_payload.get(position, {}).values()
        ]

    async def revise(self, closing: Sequence[Check], at: int, inserting: Sequence[Check]) -> None:
        for old in closing:
            slot = self._open_checks[old.source].pop(old.key)
            if old.payload:
                self._open_payload[old.position].pop(old.key)
            self.checks[slot] = replace(old, recorded_to=at)
        for new in inserting:
            self._open_checks.setdefault(new.source, {})[new.key] = len(self.checks)
            if new.payload:
                self._open_payload.setdefault(new.position, {})[new.key] = len(self.checks)
            self.checks.append(new)

    async def text(self, sha256: str) -> str:
        found = self.texts.get(sha256)
        if found is None and self._load is not None:
            found = await self._load(sha256)
            if found is not None:
                self.texts[sha256] = found
        if found is None:
            raise LookupError(f"no stored text {sha256}: it is attached but was never stored")
        return found


def _known(recorded_from: int, recorded_to: int, known_at: int) -> bool:
    return recorded_from <= known_at < recorded_to


class MemoryVerificationReads:
    """The model's reads over rows in memory."""

    def __init__(self, rows: MemoryVerificationRows) -> None:
        self._rows = rows

    async def attachments_among(self, sources: Sequence[str], known_at: int) -> list[Attachment]:
        wanted = set(sources)
        found = [
            a
            for a in self._rows.attachments
            if a.source in wanted and _known(a.recorded_from, a.recorded_to, known_at)
        ]
        return sorted(found, key=lambda a: a.source)

    async def checks(self, positions: Sequence[int], known_at: int) -> list[Check]:
        wanted = set(positions)
        found = [
            c
            for c in self._rows.checks
            if c.position in wanted and _known(c.recorded_from, c.recorded_to, known_at)
        ]
        return sorted(found, key=lambda c: c.key)

    async def failures(
        self, source: str, known_at: int, after: tuple[int, int] | None, limit: int
    ) -> list[Check]:
        found = sorted(
            (
                c
                for c in self._rows.checks
                if c.source == source
                and not c.verified
                and _known(c.recorded_from, c.recorded_to, known_at)
                and (after is None or c.key > after)
            ),
            key=lambda c: c.key,
        )
        return found[:limit]

    async def check_counts(self, source: str, known_at: int) -> tuple[int, int]:
        known = [
            c
            for c in self._rows.checks
            if c.source == source and _known(c.recorded_from, c.recorded_to, known_at)
        ]
        verified = sum(1 for c in known if c.verified)
        return verified, len(known) - verified

    async def text(self, sha256: str) -> str | None:
        return self._rows.texts.get(sha256)
