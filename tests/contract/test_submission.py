"""The write path: raw drafts checked against their schemas and the log, on every backend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain.valid_time import format_instant
from store.errors import InvalidSubmission
from store.ports import AppendResult, EventQuery, EventStore
from store.submission import MAX_BATCH, submit
from tests.builders import raw_actor, raw_editorial, raw_position, raw_source
from tests.clock import FrozenClock

Raw = dict[str, Any]


async def accepted(store: EventStore, clock: FrozenClock, *events: Raw) -> AppendResult:
    """Submit a batch that must go through."""
    return await submit(store, clock, stream="s", events=list(events))


async def refused(store: EventStore, clock: FrozenClock, events: list[Raw]) -> list[str]:
    """Submit a batch that must be refused whole; the fields its errors name."""
    before = await store.read(EventQuery(limit=10_000))
    with pytest.raises(InvalidSubmission) as raised:
        await submit(store, clock, stream="s", events=events)
    assert await store.read(EventQuery(limit=10_000)) == before, "a refused batch wrote something"
    assert str(raised.value), "the error says nothing"
    return [error.field for error in raised.value.errors]


async def registered_source(store: EventStore, clock: FrozenClock, source: str = "notus") -> None:
    await submit(store, clock, stream="sources", events=[raw_source(source)])


def replacement(**payload: Any) -> dict[str, Any]:
    """A full PositionStated payload, as a correction's replacement."""
    return {
        "actor": "russia",
        "proposal": "us-30-day-ceasefire-2025",
        "stance": "conditional",
        **payload,
    }


async def test_a_valid_batch_is_appended_in_order(store: EventStore, clock: FrozenClock) -> None:
    await registered_source(store, clock)
    batch = [raw_actor("russia"), raw_position("russia"), raw_position("ukraine", "accepted")]
    result = await accepted(store, clock, *batch)
    assert [str(e.id) for e in result.events] == [raw["id"] for raw in batch]
    assert [e.position for e in result.events] == [2, 3, 4]


async def test_a_batch_with_one_bad_event_writes_nothing_and_names_the_field(
    store: EventStore, clock: FrozenClock
) -> None:
    await registered_source(store, clock)
    batch = [raw_source("rt"), raw_position(stance="maybe"), raw_actor("russia")]
    assert await refused(store, clock, batch) == ["events[1].payload.stance"]
    assert await store.registered(["source:rt", "actor:russia"]) == set()


async def test_every_bad_event_of_a_batch_is_named(store: EventStore, clock: FrozenClock) -> None:
    await registered_source(store, clock)
    batch = [raw_position(stance="maybe"), raw_position(), {**raw_position(), "type": "Nope"}]
    assert await refused(store, clock, batch) == ["events[0].payload.stance", "events[2].type"]


async def test_citing_an_unregistered_source_is_refused(
    store: EventStore, clock: FrozenClock
) -> None:
    await registered_source(store, clock, "notus")
    assert await refused(store, clock, [raw_position(source="rt")]) == [
        "events[0].sources[0].source"
    ]


async def test_a_source_registered_earlier_in_the_same_batch_may_be_cited(
    store: EventStore, clock: FrozenClock
) -> None:
    result = await accepted(store, clock, raw_source("rt"), raw_position(source="rt"))
    assert [e.type for e in result.events] == ["SourceRegistered", "PositionStated"]
    assert await store.registered(["source:rt"]) == {"source:rt"}


async def test_a_source_registered_later_in_the_same_batch_may_not_be_cited(
    store: EventStore, clock: FrozenClock
) -> None:
    batch = [raw_position(source="rt"), raw_source("rt")]
    assert await refused(store, clock, batch) == ["events[0].sources[0].source"]


async def test_an_editorial_event_whose_target_does_not_exist_is_refused(
    store: EventStore, clock: FrozenClock
) -> None:
    await registered_source(store, clock)
    await accepted(store, clock, raw_position())
    missing = "0b8e3c02-3e63-4a57-9d4b-3f7c8d1a2b60"
    for kind in ("EventDisputed", "EventRetracted", "EventCorrected"):
        editorial = raw_editorial(kind, missing)
        assert await refused(store, clock, [editorial]) == ["events[0].payload.target"], kind


async def test_an_editorial_event_may_target_an_event_earlier_in_the_same_batch(
    store: EventStore, clock: FrozenClock
) -> None:
    await registered_source(store, clock)
    target = raw_position()
    result = await accepted(store, clock, target, raw_editorial("EventDisputed", target["id"]))
    assert [e.id for e in await store.targeting(result.events[0].id)] == [result.events[1].id]


async def test_an_editorial_event_may_not_target_an_event_later_in_the_same_batch(
    store: EventStore, clock: FrozenClock
) -> None:
    await registered_source(store, clock)
    target = raw_position()
    batch = [raw_editorial("EventDisputed", target["id"]), target]
    assert await refused(store, clock, batch) == ["events[0].payload.target"]


async def test_a_correction_within_the_target_types_schema_is_accepted(
    store: EventStore, clock: FrozenClock
) -> None:
    await registered_source(store, clock)
    target = raw_position()
    await accepted(store, clock, target)
    correction = raw_editorial("EventCorrected", target["id"], payload=replacement())
    [event] = (await accepted(store, clock, correction)).events
    assert event.draft.payload["payload"]["stance"] == "conditional"


async def test_a_correction_whose_payload_breaks_the_target_types_schema_is_refused(
    store: EventStore, clock: FrozenClock
) -> None:
    await registered_source(store, clock)
    target = raw_position()
    await accepted(store, clock, target)
    correction = raw_editorial("EventCorrected", target["id"], payload=replacement(stance="nope"))
    assert await refused(store, clock, [correction]) == ["events[0].payload.payload.stance"]


async def test_a_correction_checked_against_a_target_earlier_in_the_same_batch(
    store: EventStore, clock: FrozenClock
) -> None:
    await registered_source(store, clock)
    target = raw_position()
    correction = raw_editorial("EventCorrected", target["id"], payload={"stance": "accepted"})
    fields = await refused(store, clock, [target, correction])
    assert fields == ["events[1].payload.payload.actor"]


async def test_a_correction_whose_occurred_at_cannot_be_read_is_refused(
    store: EventStore, clock: FrozenClock
) -> None:
    await registered_source(store, clock)
    target = raw_position()
    await accepted(store, clock, target)
    correction = raw_editorial("EventCorrected", target["id"], occurred_at="13 March 2025")
    assert await refused(store, clock, [correction]) == ["events[0].payload.occurred_at"]


async def test_a_correction_that_gives_nothing_to_replace_is_refused(
    store: EventStore, clock: FrozenClock
) -> None:
    await registered_source(store, clock)
    target = raw_position()
    await accepted(store, clock, target)
    assert await refused(store, clock, [raw_editorial("EventCorrected", target["id"])]) == [
        "events[0].payload"
    ]


async def test_an_editorial_event_cannot_be_corrected(
    store: EventStore, clock: FrozenClock
) -> None:
    await registered_source(store, clock)
    target = raw_position()
    dispute = raw_editorial("EventDisputed", target["id"])
    await accepted(store, clock, target, dispute)
    correction = raw_editorial("EventCorrected", dispute["id"], timezone="UTC")
    assert await refused(store, clock, [correction]) == ["events[0].payload.target"]


async def test_an_empty_batch_is_refused(store: EventStore, clock: FrozenClock) -> None:
    assert await refused(store, clock, []) == ["events"]


async def test_a_batch_of_the_maximum_size_is_accepted(
    store: EventStore, clock: FrozenClock
) -> None:
    batch = [raw_actor(f"actor-{i}") for i in range(MAX_BATCH)]
    assert MAX_BATCH == 1000
    result = await accepted(store, clock, *batch)
    assert result.events[-1].position == 1000


async def test_a_batch_of_1001_events_is_refused(store: EventStore, clock: FrozenClock) -> None:
    batch = [raw_actor(f"actor-{i}") for i in range(1001)]
    assert await refused(store, clock, batch) == ["events"]


async def test_a_repeated_id_within_a_batch_is_refused(
    store: EventStore, clock: FrozenClock
) -> None:
    await registered_source(store, clock)
    event = raw_position()
    other = {**raw_position("ukraine"), "id": event["id"]}
    assert await refused(store, clock, [event, raw_position(), other]) == ["events[2].id"]


async def test_a_world_event_with_no_sources_is_refused(
    store: EventStore, clock: FrozenClock
) -> None:
    await registered_source(store, clock)
    for sources in ([], None):
        event = {**raw_position(), "sources": sources}
        assert await refused(store, clock, [event]) == ["events[0].sources"]


async def test_a_registration_needs_no_sources(store: EventStore, clock: FrozenClock) -> None:
    result = await accepted(store, clock, {**raw_actor("russia"), "sources": []})
    assert result.events[0].draft.sources == ()


def ahead(clock: FrozenClock, delta: timedelta) -> Raw:
    """A PositionStated said to occur `delta` after the clock, to the second."""
    return raw_position(occurred_at=format_instant(clock.now + delta), timezone=None)


async def test_an_event_more_than_a_day_after_the_clock_is_refused(
    store: EventStore, clock: FrozenClock
) -> None:
    # Far from the real date, so only the injected clock can explain the outcome.
    clock.now = datetime(2031, 6, 1, 12, tzinfo=UTC)
    await registered_source(store, clock)
    fields = await refused(store, clock, [ahead(clock, timedelta(days=1, seconds=1))])
    assert fields == ["events[0].occurred_at"]


async def test_an_event_just_under_a_day_after_the_clock_is_accepted(
    store: EventStore, clock: FrozenClock
) -> None:
    clock.now = datetime(2031, 6, 1, 12, tzinfo=UTC)
    await registered_source(store, clock)
    raw = ahead(clock, timedelta(days=1, seconds=-1))
    [event] = (await accepted(store, clock, raw)).events
    assert event.draft.valid_time.earliest == datetime(2031, 6, 2, 11, 59, 59, tzinfo=UTC)


async def test_a_date_that_starts_more_than_a_day_ahead_is_refused(
    store: EventStore, clock: FrozenClock
) -> None:
    clock.now = datetime(2031, 6, 1, 12, tzinfo=UTC)
    await registered_source(store, clock)
    fields = await refused(store, clock, [raw_position(occurred_at="2031-06-03", timezone="UTC")])
    assert fields == ["events[0].occurred_at"]


@pytest.mark.parametrize(
    "occurred_at",
    [
        pytest.param("2025-03-13T12:00:00", id="datetime-without-offset"),
        pytest.param("2025-03-13T12", id="hour-without-offset"),
        pytest.param("13 March 2025", id="prose"),
        pytest.param("2025-13-01", id="month-13"),
        pytest.param("2025-02-30", id="february-30"),
        pytest.param("2025-03-13/2025-03-01", id="interval-ending-before-it-starts"),
        pytest.param("2025-03-13/..", id="open-interval"),
        pytest.param("", id="empty"),
    ],
)
async def test_an_occurred_at_that_cannot_be_read_is_refused(
    store: EventStore, clock: FrozenClock, occurred_at: str
) -> None:
    await registered_source(store, clock)
    event = raw_position(occurred_at=occurred_at, timezone=None)
    assert await refused(store, clock, [event]) == ["events[0].occurred_at"]


async def test_an_unknown_event_type_is_named(store: EventStore, clock: FrozenClock) -> None:
    await registered_source(store, clock)
    assert await refused(store, clock, [{**raw_position(), "type": "PositionGuessed"}]) == [
        "events[0].type"
    ]


async def test_an_unknown_stance_names_the_stance_field(
    store: EventStore, clock: FrozenClock
) -> None:
    await registered_source(store, clock)
    assert await refused(store, clock, [raw_position(stance="ambivalent")]) == [
        "events[0].payload.stance"
    ]


async def test_an_id_that_is_not_a_uuid_is_named(store: EventStore, clock: FrozenClock) -> None:
    await registered_source(store, clock)
    assert await refused(store, clock, [{**raw_position(), "id": "not-a-uuid"}]) == ["events[0].id"]


async def test_expected_version_and_metadata_reach_the_store(
    store: EventStore, clock: FrozenClock
) -> None:
    await registered_source(store, clock)
    result = await submit(
        store,
        clock,
        stream="p",
        events=[raw_position()],
        expected_version=0,
        metadata={"recorded_by": "editor"},
    )
    assert result.stream_version == 1
    assert result.events[0].metadata == {"recorded_by": "editor"}
