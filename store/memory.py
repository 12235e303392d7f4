"""The in-memory event store: the same contract as the databases, for fast tests."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import msgspec

from domain.chain import GENESIS, ChainVerifier
from domain.drafts import EventDraft
from domain.event_types import JsonObject
from domain.json_numbers import canonical_json
from domain.positions import Pair, Segment
from domain.references import (
    ACTOR,
    PROPOSAL,
    RECORDED_BY,
    REGISTERS,
    TARGET,
    event_references,
)
from domain.valid_time import from_micros, to_micros
from store.append_rules import check_expected_version, recorded_stamps, replay_of_earlier_append
from store.errors import RateLimited
from store.memory_positions import MemoryLogIndex, MemoryPositionRows
from store.ports import AppendResult, ChainReport, Clock, EventQuery, IdempotentAnswer, Progress
from store.projection import Row, project, segments_of
from store.rate_limits import WriteCharge
from store.read_models.effective import project_effective
from store.read_models.memory import MemoryEffectiveRows, MemoryReadModels, MemoryRegistryRows
from store.read_models.registry import project_registry
from store.read_models.verification import project_verification
from store.read_models.verification_memory import MemoryVerificationRows
from store.records import RecordedEvent
from store.rows import canonical_draft, chain, chain_content, logged_row


def _system_clock() -> datetime:
    return datetime.now(UTC)


class InMemoryEventStore:
    """Holds the log in a list; one lock serialises appends."""

    backend = "memory"

    def __init__(self, clock: Clock = _system_clock) -> None:
        self._clock = clock
        self._log: list[RecordedEvent] = []
        self._hashes: list[str] = []
        self._by_id: dict[UUID, RecordedEvent] = {}
        self._versions: dict[str, int] = {}
        self._refs: dict[tuple[str, str], list[int]] = {}
        self._lock = asyncio.Lock()
        self._index = MemoryLogIndex()
        self._positions = MemoryPositionRows()
        self._effective = MemoryEffectiveRows()
        self._registry = MemoryRegistryRows()
        self._verification = MemoryVerificationRows()
        self.reads = MemoryReadModels(
            self._effective, self._registry, self._log, self._refs, self._verification
        )
        self._checkpoint = 0
        self._chain_checkpoint = 0
        self._windows: dict[tuple[str, int], int] = {}

    async def append(
        self,
        stream: str,
        drafts: Sequence[EventDraft],
        *,
        expected_version: int | None = None,
        metadata: JsonObject | None = None,
        charge: WriteCharge | None = None,
        answer: IdempotentAnswer | None = None,
        texts: Mapping[str, str] | None = None,
    ) -> AppendResult:
        """Append a batch atomically; idempotent by event id. (No Idempotency-Key records in
        memory: the API runs on SQL stores, so `answer` is refused.)"""
        if answer is not None:
            raise NotImplementedError("the in-memory store keeps no Idempotency-Key records")
        async with self._lock:
            if charge is not None:
                self._count_write(charge)
            existing = {d.id: self._by_id[d.id] for d in drafts if d.id in self._by_id}
            replay = replay_of_earlier_append(stream, drafts, existing)
            if replay is not None:
                return replay
            current = self._versions.get(stream, 0)
            check_expected_version(stream, expected_version, current)
            last = to_micros(self._log[-1].recorded_at) if self._log else 0
            stamps = recorded_stamps(to_micros(self._clock()), last, len(drafts))
            appended = tuple(
                RecordedEvent(
                    position=len(self._log) + i + 1,
                    stream=stream,
                    stream_version=current + i + 1,
                    recorded_at=from_micros(stamp),
                    draft=canonical_draft(draft),
                    metadata=canonical_json(dict(metadata or {})),
                )
                for i, (draft, stamp) in enumerate(zip(drafts, stamps, strict=True))
            )
            rows = [logged_row(event) for event in appended]
            chain(rows, self._hashes[-1] if self._hashes else GENESIS)
            self._hashes.extend(row["hash"] for row in rows)
            for event in appended:
                self._log.append(event)
                self._by_id[event.id] = event
                for ref in event_references(event.draft, event.metadata):
                    self._refs.setdefault(ref, []).append(event.position)
            self._versions[stream] = current + len(drafts)
            for sha256, text in (texts or {}).items():
                self._verification.texts.setdefault(sha256, text)
            for event in appended:
                entry = self._index.add(event)
                await project(entry, self._index, self._positions)
                change = await project_effective(entry, self._index, self._effective)
                if change is not None:
                    await project_registry(change, self._effective, self._registry)
                await project_verification(entry, self._index, self._verification)
            self._checkpoint = appended[-1].position
            return AppendResult(
                stream=stream, stream_version=current + len(drafts), events=appended
            )

    def _count_write(self, charge: WriteCharge) -> None:
        """Count the write in its key's window; over the allowance, refuse the append."""
        window = (charge.key_id, charge.window_start)
        self._windows[window] = count = self._windows.get(window, 0) + 1
        allowance = charge.allowance(count)
        if not allowance.allowed:
            raise RateLimited(charge.limit, charge.seconds, allowance.retry_after)

    async def read(self, query: EventQuery) -> list[RecordedEvent]:
        """Events after `query.after`, in position order, filtered."""
        candidates: Iterable[RecordedEvent] = (
            (self._log[p - 1] for p in self._refs.get((ACTOR, query.actor), []))
            if query.actor is not None
            else self._log[query.after :]
        )
        if query.before is not None:
            candidates = reversed(list(candidates))
        proposal = set(self._refs.get((PROPOSAL, query.proposal or ""), []))
        recorder = set(self._refs.get((RECORDED_BY, query.recorded_by or ""), []))
        found: list[RecordedEvent] = []
        for event in candidates:
            if event.position <= query.after:
                continue
            if query.before is not None and event.position >= query.before:
                continue
            if query.proposal is not None and event.position not in proposal:
                continue
            if query.recorded_by is not None and event.position not in recorder:
                continue
            if query.stream is not None and event.stream != query.stream:
                continue
            if query.types and event.type not in query.types:
                continue
            found.append(event)
            if len(found) == query.limit:
                break
        return found

    async def get(self, event_id: UUID) -> RecordedEvent | None:
        """One event by id."""
        return self._by_id.get(event_id)

    async def get_many(self, event_ids: Sequence[UUID]) -> dict[UUID, RecordedEvent]:
        """Events by id; unknown ids are left out."""
        return {i: self._by_id[i] for i in event_ids if i in self._by_id}

    async def targeting(self, event_id: UUID) -> list[RecordedEvent]:
        """The editorial events that target an event, in position order."""
        return [self._log[p - 1] for p in self._refs.get((TARGET, str(event_id)), [])]

    async def registered(self, refs: Sequence[str]) -> set[str]:
        """Which of these registrations exist."""
        return {r for r in refs if (REGISTERS, r) in self._refs}

    async def head(self) -> int:
        """The last position in the log."""
        return len(self._log)

    async def stream_version(self, stream: str) -> int:
        """The stream's current version."""
        return self._versions.get(stream, 0)

    async def last_recorded_at(self) -> int:
        """The last event's recorded_at in UTC microseconds (0 when the log is empty)."""
        return to_micros(self._log[-1].recorded_at) if self._log else 0

    async def chain_head(self) -> tuple[int, str | None]:
        """The last position and its hash ((0, None) when the log is empty)."""
        return len(self._log), (self._hashes[-1] if self._hashes else None)

    async def verify_chain_since_checkpoint(self) -> ChainReport:
        """Recompute the chain after the last position found intact; move that on."""
        report = await self.verify_chain(after=self._chain_checkpoint)
        if report.ok:
            self._chain_checkpoint = max(self._chain_checkpoint, report.head)
        return report

    async def verify_chain(
        self, progress: Progress | None = None, batch: int = 5000, *, after: int = 0
    ) -> ChainReport:
        """Recompute the hash chain over the log (after a position), in position order."""
        verifier = ChainVerifier(self._hashes[after - 1] if after else GENESIS)
        verifier.head = after
        total = len(self._log) - after
        for event, stored in zip(self._log[after:], self._hashes[after:], strict=True):
            verifier.check(event.position, chain_content(logged_row(event)), stored)
            if progress is not None and verifier.checked % batch == 0:
                progress(verifier.checked, total)
        if progress is not None:
            progress(verifier.checked, total)
        return ChainReport(
            checked=verifier.checked,
            head=verifier.head,
            head_hash=self._hashes[-1] if self._hashes else None,
            first_broken=verifier.first_broken,
            since=after,
        )

    async def close(self) -> None:
        """Nothing to release."""

    async def position(self, pair: Pair, as_of: int, known_at: int) -> dict[str, Any] | None:
        """The state of a pair at a valid time as known at a transaction time."""
        for row in self._positions.rows.get(pair, []):
            if _known(row, known_at) and row.valid_from <= as_of < row.valid_to:
                return row.state
        return None

    async def position_json(self, pair: Pair, as_of: int, known_at: int) -> bytes | None:
        """The state of a pair as the API's JSON."""
        state = await self.position(pair, as_of, known_at)
        return None if state is None else msgspec.json.encode(state)

    async def position_history(self, pair: Pair, known_at: int) -> list[Segment]:
        """The pair's history in valid time as known at a transaction time."""
        return segments_of(r for r in self._positions.rows.get(pair, []) if _known(r, known_at))

    async def proposal_positions(
        self, proposal: str, as_of: int, known_at: int
    ) -> dict[str, dict[str, Any]]:
        """Every party's state on a proposal, by actor."""
        found = {}
        for (actor, wanted), _rows in sorted(self._positions.rows.items()):
            if wanted == proposal:
                state = await self.position((actor, proposal), as_of, known_at)
                if state is not None:
                    found[actor] = state
        return found

    async def parties(self, proposal: str, known_at: int) -> set[str]:
        """Every actor with a position on the proposal at any valid time, as known at known_at."""
        return {
            actor
            for (actor, wanted), rows in self._positions.rows.items()
            if wanted == proposal and any(_known(r, known_at) for r in rows)
        }

    async def position_rows(self) -> list[Row]:
        """Every row of the read model, in a stable order."""
        return self._positions.all_rows()

    async def checkpoint(self) -> int:
        """The last position the read model has projected."""
        return self._checkpoint


def _known(row: Row, known_at: int) -> bool:
    return row.recorded_from <= known_at < row.recorded_to
