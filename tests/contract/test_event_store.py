"""The event store contract, written once and run against every backend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest

from domain.valid_time import to_micros
from store.errors import DuplicateEventConflict, StaleExpectedVersion
from store.ports import EventQuery, EventStore
from tests.builders import draft, drafts, raw_actor, raw_editorial, raw_position, raw_source
from tests.clock import FrozenClock


async def test_first_append_takes_positions_and_versions_from_one(store: EventStore) -> None:
    result = await store.append("s", drafts(3))
    assert [e.position for e in result.events] == [1, 2, 3]
    assert [e.stream_version for e in result.events] == [1, 2, 3]
    assert result.stream_version == 3
    assert await store.head() == 3


async def test_positions_stay_gap_free_across_streams(store: EventStore) -> None:
    await store.append("a", drafts(2))
    await store.append("b", drafts(1))
    result = await store.append("a", drafts(2))
    assert [e.position for e in result.events] == [4, 5]
    assert [e.stream_version for e in result.events] == [3, 4]
    everything = await store.read(EventQuery(limit=100))
    assert [e.position for e in everything] == [1, 2, 3, 4, 5]


async def test_expected_version_zero_means_the_stream_must_not_exist(store: EventStore) -> None:
    await store.append("s", drafts(1), expected_version=0)
    with pytest.raises(StaleExpectedVersion) as raised:
        await store.append("s", drafts(1), expected_version=0)
    assert raised.value.current == 1
    assert raised.value.expected == 0


async def test_stale_expected_version_writes_nothing_and_names_the_current_one(
    store: EventStore,
) -> None:
    await store.append("s", drafts(2))
    with pytest.raises(StaleExpectedVersion) as raised:
        await store.append("s", drafts(3), expected_version=1)
    assert raised.value.current == 2
    assert "version 2" in str(raised.value)
    assert await store.head() == 2
    assert await store.stream_version("s") == 2


async def test_matching_expected_version_appends(store: EventStore) -> None:
    await store.append("s", drafts(2))
    result = await store.append("s", drafts(1), expected_version=2)
    assert result.stream_version == 3


async def test_appending_the_same_batch_again_returns_the_original_positions(
    store: EventStore, clock: FrozenClock
) -> None:
    await store.append("other", drafts(1))
    batch = drafts(2)
    first = await store.append("s", batch, expected_version=0)
    clock.advance(seconds=5)
    again = await store.append("s", batch, expected_version=0)
    assert again.duplicate and not first.duplicate
    assert [e.position for e in again.events] == [2, 3]
    assert [e.recorded_at for e in again.events] == [e.recorded_at for e in first.events]
    assert await store.head() == 3


async def test_same_id_with_other_content_is_a_conflict(store: EventStore) -> None:
    original = raw_position(stance="rejected")
    await store.append("s", [draft(original)])
    changed = {**original, "payload": {**original["payload"], "stance": "accepted"}}
    with pytest.raises(DuplicateEventConflict):
        await store.append("s", [draft(changed)])
    assert await store.head() == 1


async def test_same_id_in_another_stream_is_a_conflict(store: EventStore) -> None:
    event = draft()
    await store.append("s", [event])
    with pytest.raises(DuplicateEventConflict):
        await store.append("t", [event])


async def test_a_batch_mixing_old_and_new_ids_is_refused_whole(store: EventStore) -> None:
    old = draft()
    await store.append("s", [old])
    with pytest.raises(DuplicateEventConflict):
        await store.append("s", [old, draft()])
    assert await store.head() == 1


async def test_recorded_at_comes_from_the_injected_clock(
    store: EventStore, clock: FrozenClock
) -> None:
    clock.now = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    result = await store.append("s", drafts(1))
    assert result.events[0].recorded_at == clock.now


async def test_recorded_at_strictly_increases_even_when_the_clock_stands_still_or_goes_back(
    store: EventStore, clock: FrozenClock
) -> None:
    await store.append("s", drafts(3))
    clock.advance(hours=-1)
    await store.append("s", drafts(2))
    stamps = [to_micros(e.recorded_at) for e in await store.read(EventQuery())]
    assert all(b > a for a, b in pairwise(stamps))


async def test_an_event_reads_back_as_it_was_appended(store: EventStore) -> None:
    raw = raw_position(
        occurred_at="2025-03-13T18+03:00/2025-03-13T23+03:00",
        timezone=None,
        quote="The idea itself is correct",
        speaker="vladimir-putin",
        conditions=[{"id": "kursk", "text": "Ukrainian troops in Kursk"}],
    )
    appended = draft(raw)
    await store.append("s", [appended], metadata={"recorded_by": "tester"})
    [event] = await store.read(EventQuery())
    assert event.draft == appended
    assert event.metadata == {"recorded_by": "tester"}
    assert event.draft.valid_time.expression == "2025-03-13T18+03:00/2025-03-13T23+03:00"
    assert await store.get(appended.id) == event


async def test_a_version_one_payload_reads_as_version_two(store: EventStore) -> None:
    raw = {
        "id": "0b8e3c02-3e63-4a57-9d4b-3f7c8d1a2b60",
        "type": "MeetingHeld",
        "schema_version": 1,
        "occurred_at": "2025-03-12",
        "payload": {"participants": ["yuri-ushakov", "mike-waltz"], "medium": "call"},
        "sources": [{"source": "notus"}],
    }
    await store.append("s", [draft(raw)])
    [event] = await store.read(EventQuery())
    assert event.draft.schema_version == 1
    assert event.current_payload() == {
        "participants": ["yuri-ushakov", "mike-waltz"],
        "format": "call",
    }
    assert event.codes().cameo == "041"


async def test_reads_page_by_position(store: EventStore) -> None:
    await store.append("s", drafts(5))
    page = await store.read(EventQuery(after=1, limit=2))
    assert [e.position for e in page] == [2, 3]


async def test_reads_filter_by_stream_type_and_actor(store: EventStore) -> None:
    await store.append("sources", [draft(raw_source())])
    await store.append("actors", [draft(raw_actor("russia")), draft(raw_actor("ukraine"))])
    await store.append("p", [draft(raw_position("ukraine", "accepted"))])
    await store.append("p", [draft(raw_position("russia", speaker="yuri-ushakov"))])
    assert [e.position for e in await store.read(EventQuery(stream="actors"))] == [2, 3]
    by_type = await store.read(EventQuery(types=("PositionStated", "SourceRegistered")))
    assert [e.position for e in by_type] == [1, 4, 5]
    assert [e.position for e in await store.read(EventQuery(actor="russia"))] == [2, 5]
    assert [e.position for e in await store.read(EventQuery(actor="yuri-ushakov"))] == [5]
    assert [e.position for e in await store.read(EventQuery(actor="russia", after=2))] == [5]
    assert await store.read(EventQuery(actor="nobody")) == []


async def test_reads_filter_by_the_key_that_recorded_them(store: EventStore) -> None:
    await store.append("a", drafts(2), metadata={"recorded_by": "desk", "key_id": "k1"})
    await store.append("b", drafts(1), metadata={"recorded_by": "wire"})
    await store.append("c", drafts(1))  # no metadata: recorded by nobody named
    await store.append("a", drafts(1), metadata={"recorded_by": "desk", "correlation_id": "x"})
    assert [e.position for e in await store.read(EventQuery(recorded_by="desk"))] == [1, 2, 5]
    assert [e.position for e in await store.read(EventQuery(recorded_by="wire"))] == [3]
    assert [e.position for e in await store.read(EventQuery(recorded_by="desk", after=1))] == [
        2,
        5,
    ]
    newest = await store.read(EventQuery(recorded_by="desk", before=5, limit=1))
    assert [e.position for e in newest] == [2]
    both = await store.read(EventQuery(recorded_by="desk", stream="b"))
    assert both == []
    assert await store.read(EventQuery(recorded_by="nobody")) == []


async def test_reads_newest_first_before_a_position_and_by_proposal(store: EventStore) -> None:
    await store.append("sources", [draft(raw_source())])
    await store.append("actors", [draft(raw_actor("russia")), draft(raw_actor("ukraine"))])
    await store.append("p", [draft(raw_position("ukraine", "accepted"))])
    other = raw_position("russia", proposal="another-proposal")
    await store.append("p", [draft(other), draft(raw_position("russia"))])
    newest = await store.read(EventQuery(before=2**63 - 1, limit=3))
    assert [e.position for e in newest] == [6, 5, 4]
    assert [e.position for e in await store.read(EventQuery(before=5, limit=9))] == [4, 3, 2, 1]
    by_proposal = await store.read(EventQuery(proposal="another-proposal"))
    assert [e.position for e in by_proposal] == [5]
    both = EventQuery(before=6, actor="russia", proposal="us-30-day-ceasefire-2025", limit=9)
    assert [e.position for e in await store.read(both)] == []
    assert [e.position for e in await store.read(EventQuery(before=7, actor="russia"))] == [
        6,
        5,
        2,
    ]


async def test_editorial_events_are_found_by_their_target(store: EventStore) -> None:
    target = draft()
    await store.append("s", [target, draft()])
    dispute = draft(raw_editorial("EventDisputed", target.id))
    await store.append("editorial", [dispute])
    assert [e.id for e in await store.targeting(target.id)] == [dispute.id]


async def test_registrations_are_known_by_kind_and_id(store: EventStore) -> None:
    await store.append("sources", [draft(raw_source("notus")), draft(raw_actor("russia"))])
    known = await store.registered(["source:notus", "source:rt", "actor:russia", "actor:notus"])
    assert known == {"source:notus", "actor:russia"}


async def test_unknown_ids_and_streams_read_as_absent(store: EventStore) -> None:
    missing = draft()
    assert await store.get(missing.id) is None
    assert await store.get_many([missing.id]) == {}
    assert await store.stream_version("nowhere") == 0
    assert await store.head() == 0


async def test_clock_far_ahead_of_earlier_stamps_is_used_as_is(
    store: EventStore, clock: FrozenClock
) -> None:
    await store.append("s", drafts(1))
    clock.advance(days=30)
    result = await store.append("s", drafts(1))
    assert result.events[0].recorded_at == clock.now
    assert result.events[0].recorded_at - timedelta(days=30) <= clock.now


async def test_a_registration_made_after_a_miss_is_found(store: EventStore) -> None:
    await store.append("registry", [draft(raw_source("a"))])
    assert await store.registered(["source:a", "source:b"]) == {"source:a"}
    await store.append("registry", [draft(raw_source("b"))])
    assert await store.registered(["source:a", "source:b"]) == {"source:a", "source:b"}
    assert await store.registered(["source:c"]) == set()
