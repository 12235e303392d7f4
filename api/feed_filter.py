"""What a change-feed reader (an SSE client, a webhook subscription) wants from the log."""

from __future__ import annotations

from dataclasses import dataclass

from domain.event_types import JsonObject
from store.ports import EventQuery, EventStore
from store.records import RecordedEvent


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedFilter:
    """Events of one stream, of some types, about an actor, about a proposal: all optional."""

    stream: str | None = None
    types: tuple[str, ...] = ()
    actor: str | None = None
    proposal: str | None = None

    @classmethod
    def from_json(cls, value: JsonObject) -> FeedFilter:
        """The filter as stored with a subscription."""
        return cls(
            stream=value.get("stream"),
            types=tuple(value.get("type") or ()),
            actor=value.get("actor"),
            proposal=value.get("proposal"),
        )

    def to_json(self) -> JsonObject:
        """The filter's set fields, `type` as a list."""
        found: JsonObject = {"stream": self.stream, "actor": self.actor, "proposal": self.proposal}
        if self.types:
            found["type"] = list(self.types)
        return {name: value for name, value in found.items() if value is not None}

    def matches(self, event: RecordedEvent) -> bool:
        """Whether every filter admits this event (read from memory, not the log index)."""
        return (
            (self.stream is None or event.stream == self.stream)
            and (not self.types or event.type in self.types)
            and (self.actor is None or self.actor in event.draft.actors())
            and self.admits(event)
        )

    def admits(self, event: RecordedEvent) -> bool:
        """Whether the filters the log index cannot apply (the proposal) admit this event."""
        return self.proposal is None or event.current_payload().get("proposal") == self.proposal


@dataclass(frozen=True, slots=True)
class FeedPage:
    """The wanted events of one page of the log, and the cursor to read on from."""

    events: list[RecordedEvent]
    resume: int
    full: bool


async def read_after(store: EventStore, wanted: FeedFilter, after: int, limit: int) -> FeedPage:
    """The wanted events among the next `limit` candidates after position `after`.

    A short page saw every wanted event up to the head read before it, so the cursor moves past
    the unwanted ones there too; a full page resumes after its last candidate.
    """
    head = await store.head()
    page = await store.read(
        EventQuery(
            after=after, limit=limit, stream=wanted.stream, types=wanted.types, actor=wanted.actor
        )
    )
    reached = page[-1].position if page else after
    full = len(page) == limit
    return FeedPage(
        events=[event for event in page if wanted.admits(event)],
        resume=reached if full else max(reached, head),
        full=full,
    )
