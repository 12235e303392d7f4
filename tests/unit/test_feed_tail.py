"""The shared feed tail against a plain oracle: whatever it answers is exactly the log after the
cursor; and a reader never sleeps through an append that landed while it was reading."""

from __future__ import annotations

import asyncio

from hypothesis import given
from hypothesis import strategies as st

from api.feed_filter import FeedFilter
from api.feed_tail import FeedTail
from api.notifier import Notifier
from store.memory import InMemoryEventStore
from store.ports import EventQuery
from store.records import RecordedEvent
from tests.builders import draft, raw_actor, raw_source

# Each step: append a batch of n events, then ask for the events after a cursor.
steps = st.lists(st.tuples(st.integers(0, 7), st.integers(0, 40)), min_size=1, max_size=12)


@given(steps=steps, capacity=st.integers(1, 16))
def test_the_tail_answers_exactly_the_log_after_the_cursor_or_nothing(
    steps: list[tuple[int, int]], capacity: int
) -> None:
    async def run() -> None:
        store = InMemoryEventStore()
        tail = FeedTail(store, capacity=capacity)
        for batch, cursor in steps:
            if batch:
                await store.append("s", [draft(raw_source(f"s{n}")) for n in range(batch)])
            head = await store.head()
            answer = await tail.after(cursor, head)
            if answer is None:
                continue
            assert [e.event.position for e in answer] == list(range(cursor + 1, head + 1))
            for entry in answer:
                assert entry.message.encode().startswith(f"id: {entry.event.position}".encode())

    asyncio.run(run())


def test_a_reader_whose_cursor_is_inside_the_tail_is_answered_from_it() -> None:
    async def run() -> None:
        store = InMemoryEventStore()
        tail = FeedTail(store, capacity=10)
        assert await tail.after(0, 0) == []
        await store.append("s", [draft(raw_source(f"s{n}")) for n in range(3)])
        answer = await tail.after(0, 3)
        assert answer is not None and [e.event.position for e in answer] == [1, 2, 3]

    asyncio.run(run())


def test_the_in_memory_filter_agrees_with_its_fields() -> None:
    async def run() -> None:
        store = InMemoryEventStore()
        await store.append("a", [draft(raw_actor("russia")), draft(raw_source("x"))])
        tail = FeedTail(store)
        await tail.after(0, 0)
        await store.append("b", [draft(raw_actor("ukraine"))])
        found = await tail.after(2, 3)
        assert found is not None
        (entry,) = found
        assert FeedFilter(actor="ukraine").matches(entry.event)
        assert not FeedFilter(actor="russia").matches(entry.event)
        assert FeedFilter(stream="b", types=("ActorRegistered",)).matches(entry.event)
        assert not FeedFilter(stream="a").matches(entry.event)
        assert not FeedFilter(types=("SourceRegistered",)).matches(entry.event)

    asyncio.run(run())


def test_a_notification_during_a_read_is_not_slept_through() -> None:
    async def run() -> None:
        notifier = Notifier()
        seen = notifier.head
        notifier.notify(1)  # lands while the reader is reading the log
        assert await asyncio.wait_for(notifier.wait(60, seen), 1)
        assert not await notifier.wait(0.01, notifier.head)

    asyncio.run(run())


def test_one_notification_wakes_every_waiter_and_a_timeout_wakes_none() -> None:
    async def run() -> None:
        notifier = Notifier()
        waiters = [asyncio.ensure_future(notifier.wait(60)) for _ in range(50)]
        lonely = asyncio.ensure_future(notifier.wait(0.01))
        assert await lonely is False  # its timeout did not disturb the others
        await asyncio.sleep(0)
        notifier.notify(7)
        assert await asyncio.wait_for(asyncio.gather(*waiters), 1) == [True] * 50
        closing = asyncio.ensure_future(notifier.wait(60))
        await asyncio.sleep(0)
        notifier.close()
        assert await asyncio.wait_for(closing, 1) is False

    asyncio.run(run())


def test_readers_woken_together_share_one_read_of_the_log() -> None:
    async def run() -> None:
        store = InMemoryEventStore()
        tail = FeedTail(store)
        await tail.after(0, 0)
        reads = 0
        read = store.read

        async def counted(query: EventQuery) -> list[RecordedEvent]:
            nonlocal reads
            reads += 1
            await asyncio.sleep(0.01)  # a read takes a while; the others arrive meanwhile
            return await read(query)

        store.read = counted  # type: ignore[method-assign]
        await store.append("s", [draft(raw_source(f"s{n}")) for n in range(2)])
        answers = await asyncio.gather(*(tail.after(0, 2) for _ in range(100)))
        assert reads == 1
        assert all(a is not None and [e.event.position for e in a] == [1, 2] for a in answers)

    asyncio.run(run())


def test_a_waiter_that_goes_away_does_not_disturb_the_others() -> None:
    async def run() -> None:
        notifier = Notifier()
        waiters = [asyncio.ensure_future(notifier.wait(60)) for _ in range(10)]
        await asyncio.sleep(0)
        waiters[0].cancel()  # a client disconnected while waiting
        await asyncio.sleep(0)
        notifier.notify(1)
        assert await asyncio.wait_for(asyncio.gather(*waiters[1:]), 1) == [True] * 9
        assert waiters[0].cancelled()

    asyncio.run(run())
