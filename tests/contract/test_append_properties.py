"""Random append sequences on every backend, checked against a few lines of plain bookkeeping."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.drafts import EventDraft
from store.errors import StaleExpectedVersion
from store.factory import open_store
from store.memory import InMemoryEventStore
from store.ports import EventQuery, EventStore
from tests.builders import drafts
from tests.clock import FrozenClock
from tests.support.backends import BACKENDS

Operation = tuple[str, int, str]
operations = st.lists(
    st.tuples(
        st.sampled_from(["a", "b", "c"]),
        st.integers(min_value=1, max_value=3),
        st.sampled_from(["unconditional", "expected", "stale", "new-stream", "retry"]),
    ),
    min_size=1,
    max_size=12,
)


@dataclass
class Oracle:
    """What the log must hold: stream versions and the order of appends."""

    versions: dict[str, int] = field(default_factory=dict)
    log: list[tuple[str, int]] = field(default_factory=list)
    last_batch: tuple[str, list[EventDraft]] | None = None


async def _run(store: EventStore, clock: FrozenClock, ops: list[Operation]) -> None:
    oracle = Oracle()
    for stream, size, mode in ops:
        clock.advance(microseconds=-3 if mode == "stale" else 7)
        current = oracle.versions.get(stream, 0)
        if mode == "retry" and oracle.last_batch is not None:
            retried_stream, batch = oracle.last_batch
            result = await store.append(retried_stream, batch)
            assert result.duplicate
            continue
        batch = drafts(size)
        expected: Any = {
            "unconditional": None,
            "retry": None,
            "expected": current,
            "stale": current + 1,
            "new-stream": 0,
        }[mode]
        if expected is not None and expected != current:
            with pytest.raises(StaleExpectedVersion):
                await store.append(stream, batch, expected_version=expected)
            continue
        result = await store.append(stream, batch, expected_version=expected)
        assert [e.position for e in result.events] == list(
            range(len(oracle.log) + 1, len(oracle.log) + size + 1)
        )
        for _ in batch:
            current += 1
            oracle.log.append((stream, current))
        oracle.versions[stream] = current
        oracle.last_batch = (stream, batch)
    everything = await store.read(EventQuery(limit=1000))
    assert [(e.stream, e.stream_version) for e in everything] == oracle.log
    assert [e.position for e in everything] == list(range(1, len(oracle.log) + 1))
    stamps = [e.recorded_at for e in everything]
    assert stamps == sorted(set(stamps))
    assert await store.head() == len(oracle.log)


@pytest.mark.parametrize("backend", BACKENDS)
def test_random_appends_keep_positions_versions_and_stamps_as_bookkeeping_says(
    backend: str, request: pytest.FixtureRequest
) -> None:
    databases = None if backend == "memory" else request.getfixturevalue(f"{backend}_databases")
    examples = 25 if backend == "postgresql" else 60

    @settings(max_examples=examples, deadline=None)
    @given(ops=operations)
    def check(ops: list[Operation]) -> None:
        clock = FrozenClock()

        async def scenario() -> None:
            if databases is None:
                await _run(InMemoryEventStore(clock), clock, ops)
                return
            url = databases.fresh()
            store = open_store(url, clock)
            try:
                await _run(store, clock, ops)
            finally:
                await store.close()
                databases.release(url)

        asyncio.run(scenario())

    check()
