"""The event store port: append to streams, read the log. Adapters sit beside it by technology."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol
from uuid import UUID

from domain.drafts import EventDraft
from domain.event_types import JsonObject
from domain.positions import Pair, Segment
from store.records import RecordedEvent

if TYPE_CHECKING:
    from store.projection import Row
    from store.rate_limits import WriteCharge
    from store.read_models.queries import ReadModels

Clock = Callable[[], datetime]


@dataclass(frozen=True, slots=True, kw_only=True)
class AppendResult:
    """Where a batch landed; `duplicate` when it was appended before and nothing was written."""

    stream: str
    stream_version: int
    events: tuple[RecordedEvent, ...]
    duplicate: bool = False


@dataclass(frozen=True, slots=True)
class IdempotentAnswer:
    """The answer an append under an Idempotency-Key gives, recorded by the append's own
    transaction: a committed append and its recorded answer are one fact, so a retry after a
    crash between the commit and the response replays the answer instead of appending again.

    `reserved_at` names the reservation (its `created_at`): only the request holding it may
    record the answer; one whose reservation was taken over meanwhile appends nothing."""

    api_key_id: str
    key: str
    reserved_at: int
    respond: Callable[[AppendResult], tuple[int, dict[str, Any]]]  # status and body


@dataclass(frozen=True, slots=True, kw_only=True)
class ChainReport:
    """What verifying the log's hash chain found: `first_broken` is None when it is intact."""

    checked: int
    head: int
    head_hash: str | None
    first_broken: int | None
    since: int = 0  # the check began after this position, verified before

    @property
    def ok(self) -> bool:
        """Whether every checked event follows from its predecessor."""
        return self.first_broken is None


# Called with (events checked so far, events expected in all) while a verification runs.
Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True, kw_only=True)
class EventQuery:
    """A read of the log in position order, after a position, with optional filters; newest
    first, before a position, when `before` is given."""

    after: int = 0
    limit: int = 100
    stream: str | None = None
    types: tuple[str, ...] = ()
    actor: str | None = None
    proposal: str | None = None
    before: int | None = None
    recorded_by: str | None = None  # the name of the key that appended it (metadata)


class EventStore(Protocol):
    """Appends events to streams atomically and reads the log back in position order."""

    backend: str

    @property
    def reads(self) -> ReadModels:
        """The read models' queries."""
        ...

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
        """Append a batch atomically; idempotent by event id.

        With `charge`, the write is counted against its key's allowance in the append's own
        transaction, first: over the allowance the append raises RateLimited and writes
        nothing else (the count stays, as every attempt counts). With `answer`, its response
        is recorded under its Idempotency-Key in the same transaction (SQL stores; the API runs
        on no other), or ReservationLost raised and nothing written. `texts` (by SHA-256) are
        the texts the batch's SourceTextAttached events attach, kept in the same transaction."""
        ...

    async def read(self, query: EventQuery) -> list[RecordedEvent]:
        """Events after `query.after`, in position order, filtered."""
        ...

    async def get(self, event_id: UUID) -> RecordedEvent | None:
        """One event by id."""
        ...

    async def get_many(self, event_ids: Sequence[UUID]) -> dict[UUID, RecordedEvent]:
        """Events by id; unknown ids are left out."""
        ...

    async def targeting(self, event_id: UUID) -> list[RecordedEvent]:
        """The editorial events that target an event, in position order."""
        ...

    async def registered(self, refs: Sequence[str]) -> set[str]:
        """Which of these registrations (`source:x`, `actor:x`, `proposal:x`) exist."""
        ...

    async def head(self) -> int:
        """The last position in the log (0 when empty)."""
        ...

    async def stream_version(self, stream: str) -> int:
        """The stream's current version (0 when it does not exist)."""
        ...

    async def chain_head(self) -> tuple[int, str | None]:
        """The last position and its hash, read together ((0, None) when the log is empty)."""
        ...

    async def last_recorded_at(self) -> int:
        """The last event's recorded_at in UTC microseconds (0 when the log is empty). Every
        later append is stamped after it, by any process: what was known at an earlier moment
        is settled."""
        ...

    async def verify_chain(
        self, progress: Progress | None = None, batch: int = 5000
    ) -> ChainReport:
        """Recompute the hash chain over the whole log, in position order, `batch` at a time."""
        ...

    async def verify_chain_since_checkpoint(self) -> ChainReport:
        """Recompute the chain after the last position an earlier call found intact (each
        event is then checked once, whatever the log's length), and move that checkpoint on
        to the head when the new part is intact."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...

    async def position(self, pair: Pair, as_of: int, known_at: int) -> dict[str, Any] | None:
        """A pair's state at a valid time as known at a transaction time (UTC microseconds)."""
        ...

    async def position_json(self, pair: Pair, as_of: int, known_at: int) -> bytes | None:
        """`position` as the API's compact JSON (`msgspec.json.encode` of it), for a read that
        sends it on: the SQL stores hold it so and return it without decoding it."""
        ...

    async def position_history(self, pair: Pair, known_at: int) -> list[Segment]:
        """A pair's history in valid time as known at a transaction time."""
        ...

    async def proposal_positions(
        self, proposal: str, as_of: int, known_at: int
    ) -> dict[str, dict[str, Any]]:
        """Every party's state on a proposal, by actor."""
        ...

    async def parties(self, proposal: str, known_at: int) -> set[str]:
        """Every actor with a position on the proposal at any valid time, as known at known_at."""
        ...

    async def position_rows(self) -> list[Row]:
        """Every row of the positions read model, in a stable order."""
        ...

    async def checkpoint(self) -> int:
        """The last position the read model has projected."""
        ...
