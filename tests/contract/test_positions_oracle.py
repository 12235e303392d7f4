"""The read model answers every (as_of, known_at) exactly as the naive fold over the log does."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any, TypeVar
from uuid import UUID, uuid4

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.drafts import EventDraft, draft_from_json
from domain.editorial import effective_events
from domain.positions import fold, history, unstated
from domain.valid_time import to_micros
from store.factory import open_store
from store.memory import InMemoryEventStore
from store.ports import EventQuery
from store.projection import logged
from tests.builders import NOW
from tests.clock import FrozenClock
from tests.support.backends import BACKENDS

T = TypeVar("T")
WHEN = [
    ("2025-03-10", None),
    ("2025-03-11", "Europe/Moscow"),
    ("2025-03-11T10:00:00+03:00", None),
    ("2025-03-11T07:00:00Z", None),  # the same instant as the one above
    ("2025-03-11T02:00:00-05:00", None),  # and again
    ("2025-03-12?", None),
    ("2025-03-12/2025-03-13", "Asia/Riyadh"),
    ("2025-03", None),
    ("2025-03-13", "Europe/Moscow"),
    ("2025-03-13T18+03:00/2025-03-13T23+03:00", None),
    ("2025-03-13T12:00:00+03:00", None),
]
STANCES = ["proposed", "accepted", "conditional", "noncommittal", "rejected", "countered"]
CONDITIONS = ["kursk", "no-arms", "verification"]

step = st.one_of(
    st.tuples(
        st.just("state"),
        st.integers(0, 1),  # actor
        st.integers(0, 1),  # proposal
        st.sampled_from(STANCES),
        st.sampled_from([None, "speaker-a", "speaker-b"]),
        st.one_of(st.none(), st.lists(st.sampled_from(CONDITIONS), unique=True, max_size=3)),
        st.integers(0, len(WHEN) - 1),
    ),
    st.tuples(
        st.sampled_from(["raise", "drop"]),
        st.integers(0, 1),
        st.integers(0, 1),
        st.sampled_from(CONDITIONS),
        st.sampled_from([None, "speaker-a"]),
        st.integers(0, len(WHEN) - 1),
    ),
    st.tuples(
        st.sampled_from(["move", "restate", "reassign", "retract", "dispute"]),
        st.integers(0, 10_000),  # which earlier event
        st.integers(0, len(WHEN) - 1),
        st.sampled_from(STANCES),
    ),
)
logs = st.lists(st.lists(step, min_size=1, max_size=3), min_size=1, max_size=8)


class Scenario:
    """Turns generated steps into drafts for pairs named uniquely for this example."""

    def __init__(self) -> None:
        tag = uuid4().hex[:8]
        self.actors = [f"actor-{tag}-0", f"actor-{tag}-1"]
        self.proposals = [f"prop-{tag}-0", f"prop-{tag}-1"]
        self.drafts: list[EventDraft] = []

    def draft(self, raw_step: tuple[Any, ...]) -> EventDraft:
        kind = raw_step[0]
        if kind == "state":
            _, a, p, stance, speaker, conditions, when = raw_step
            payload: dict[str, Any] = {"actor": self.actors[a], "proposal": self.proposals[p]}
            payload["stance"] = stance
            if speaker:
                payload["speaker"] = speaker
            if conditions is not None:
                payload["conditions"] = [{"id": c, "text": f"text of {c}"} for c in conditions]
            return self._world("PositionStated", payload, when)
        if kind in ("raise", "drop"):
            _, a, p, condition, speaker, when = raw_step
            payload = {"actor": self.actors[a], "proposal": self.proposals[p]}
            if speaker:
                payload["speaker"] = speaker
            if kind == "raise":
                payload["condition"] = {"id": condition, "text": f"text of {condition}"}
                return self._world("ConditionRaised", payload, when)
            payload["condition_id"] = condition
            return self._world("ConditionDropped", payload, when)
        return self._editorial(raw_step)

    def _world(self, type_name: str, payload: dict[str, Any], when: int) -> EventDraft:
        occurred_at, timezone = WHEN[when]
        raw = {"type": type_name, "occurred_at": occurred_at, "payload": payload}
        raw["sources"] = [{"source": "oracle"}]
        if timezone:
            raw["timezone"] = timezone
        return self._add(raw)

    def _editorial(self, raw_step: tuple[Any, ...]) -> EventDraft:
        kind, which, when, stance = raw_step
        if not self.drafts:
            return self._world("PositionStated", self._stated(0, 0, stance), when)
        target = self.drafts[which % len(self.drafts)]
        world = target.type in ("PositionStated", "ConditionRaised", "ConditionDropped")
        payload: dict[str, Any] = {"target": str(target.id), "reason": "oracle"}
        if kind == "retract" or not world:
            return self._add(
                {"type": "EventRetracted", "occurred_at": "2025-03-14", "payload": payload}
            )
        if kind == "dispute":
            return self._add(
                {"type": "EventDisputed", "occurred_at": "2025-03-14", "payload": payload}
            )
        if kind == "move":
            payload["occurred_at"], tz = WHEN[when]
            if tz:
                payload["timezone"] = tz
        elif target.type == "PositionStated":
            changed = dict(target.payload, stance=stance)
            if kind == "reassign":
                changed["actor"] = self.actors[1 - self.actors.index(target.payload["actor"])]
            payload["payload"] = changed
        else:
            payload["occurred_at"], _ = WHEN[when]
        return self._add(
            {"type": "EventCorrected", "occurred_at": "2025-03-14", "payload": payload}
        )

    def _stated(self, a: int, p: int, stance: str) -> dict[str, Any]:
        return {"actor": self.actors[a], "proposal": self.proposals[p], "stance": stance}

    def _add(self, raw: dict[str, Any]) -> EventDraft:
        draft = draft_from_json(raw, now=NOW, default_id=uuid4())
        self.drafts.append(draft)
        return draft

    def pairs(self) -> Iterator[tuple[str, str]]:
        return itertools.product(self.actors, self.proposals)


def _probes(moments: list[datetime]) -> list[int]:
    micros = {to_micros(m) + d for m in moments for d in (-1, 0, 1)}
    return sorted(micros)


async def _check(store: Any, clock: FrozenClock, batches: list[list[tuple[Any, ...]]]) -> None:
    scenario = Scenario()
    ids: set[UUID] = set()
    # The store is shared by every example: read back only what this one appended.
    before = await store.head()
    for batch in batches:
        clock.advance(seconds=1)
        drafts = [scenario.draft(s) for s in batch]
        await store.append(f"oracle-{uuid4().hex[:6]}", drafts)
        ids.update(d.id for d in drafts)
    appended = await store.read(EventQuery(after=before, limit=100_000))
    log = [logged(e) for e in appended if e.id in ids]
    known_ats = _probes([e.recorded_at for e in log])
    valid_moments = [d.valid_time.earliest for d in scenario.drafts] + [
        datetime(2025, 3, 13, 9, tzinfo=NOW.tzinfo)
    ]
    as_ofs = _probes(valid_moments)
    for known_at in [*known_ats[:: max(1, len(known_ats) // 6)], known_ats[-1]]:
        effective = effective_events(e for e in log if to_micros(e.recorded_at) <= known_at)
        for pair in scenario.pairs():
            stored_history = await store.position_history(pair, known_at)
            assert stored_history == history(effective, pair)
            answers = await _concurrently(store.position(pair, a, known_at) for a in as_ofs)
            for as_of, stored in zip(as_ofs, answers, strict=True):
                expected = fold(effective, pair, _at(as_of))
                if expected.to_json() == unstated(pair):
                    # No row before anything is known; after, history() keeps an explicit
                    # segment when everything known is undone (a condition raised, then dropped).
                    assert stored in (None, unstated(pair)), (pair, as_of, known_at)
                else:
                    assert stored == expected.to_json(), (pair, as_of, known_at)
            # The same states as the API's JSON, as a position GET sends them on.
            texts = await _concurrently(store.position_json(pair, a, known_at) for a in as_ofs)
            assert texts == [None if s is None else msgspec.json.encode(s) for s in answers]
        # A proposal's parties and their states, each found by its own seek, agree with the
        # pairs read one at a time (which the fold has just vouched for).
        for proposal in scenario.proposals:
            pairs = [(actor, proposal) for actor in scenario.actors]
            histories = [await store.position_history(pair, known_at) for pair in pairs]
            parties = {pair[0] for pair, h in zip(pairs, histories, strict=True) if h}
            assert await store.parties(proposal, known_at) == parties, (proposal, known_at)
            for as_of in as_ofs[:: max(1, len(as_ofs) // 4)]:
                states = {a: await store.position((a, proposal), as_of, known_at) for a in parties}
                wanted = {a: state for a, state in states.items() if state is not None}
                found = await store.proposal_positions(proposal, as_of, known_at)
                assert found == wanted, (proposal, as_of, known_at)


async def _concurrently(reads: Iterable[Awaitable[T]], at_once: int = 8) -> list[T]:
    """The answers of independent reads, several in flight at a time: a read is mostly waiting
    for a connection's thread or a round trip, and thousands of them make up each example."""
    gate = asyncio.Semaphore(at_once)

    async def one(read: Awaitable[T]) -> T:
        async with gate:
            return await read

    return list(await asyncio.gather(*(one(r) for r in reads)))


def _at(micros: int) -> datetime:
    return NOW.replace(year=1970, month=1, day=1, hour=0) + timedelta(microseconds=micros)


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_read_model_answers_as_the_fold_over_the_log(
    backend: str, request: pytest.FixtureRequest
) -> None:
    loop = asyncio.new_event_loop()
    clock = FrozenClock()
    if backend == "memory":
        store: Any = InMemoryEventStore(clock)
    else:
        databases = request.getfixturevalue(f"{backend}_databases")
        store = open_store(databases.fresh(), clock)

    @settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(batches=logs)
    def check(batches: list[list[tuple[Any, ...]]]) -> None:
        loop.run_until_complete(_check(store, clock, batches))

    try:
        check()
    finally:
        if backend != "memory":
            loop.run_until_complete(store.close())
        loop.close()
