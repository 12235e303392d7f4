"""The effective-events and registry read models answer every read exactly as the naive fold over
the log does: the timeline (by proposal, by actor, in a valid-time window, retracted shown or
hidden, page by page through its cursors), actors and proposals as of any valid time, sources and
the events citing them, each world event's corroboration (its sources and their distinct outlets)
and the timeline of events at least so many outlets support, at transaction times between and on
every append."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.actors import actors_as_of, proposals_as_of
from domain.drafts import EventDraft, draft_from_json
from domain.editorial import EffectiveEvent, LoggedEvent, effective_events
from domain.event_types import EVENT_TYPES, Kind
from domain.valid_time import from_micros, to_micros
from store.factory import open_store
from store.memory import InMemoryEventStore
from store.ports import EventQuery, EventStore
from store.projection import logged
from store.read_models.effective import version_of
from store.read_models.queries import CitingQuery, TimelineQuery
from tests.builders import NOW
from tests.clock import FrozenClock
from tests.support.backends import BACKENDS

# Each example's valid times fall in a year of its own (YYYY stands for it), so reads in that
# year's window see only its events, though the store is shared by every example.
WHEN = [
    ("YYYY-03-10", None),
    ("YYYY-03-11", "Europe/Moscow"),
    ("YYYY-03-11T10:00:00+03:00", None),
    ("YYYY-03-11T07:00:00Z", None),  # the same instant as the one above
    ("YYYY-03-12?", None),
    ("YYYY-03-12/YYYY-03-13", "Asia/Riyadh"),
    ("YYYY-03", None),
    ("YYYY-03-13T18+03:00/YYYY-03-13T23+03:00", None),
]
STANCES = ["proposed", "accepted", "conditional", "rejected"]
# Each example's sources by index: the first and the last come from the same outlet.
OUTLETS = ["Outlet A", "Outlet B", "Outlet A"]
KINDS = ["state", "organization", "person"]

when = st.integers(0, len(WHEN) - 1)
step = st.one_of(
    st.tuples(st.just("actor"), st.integers(0, 2), st.integers(0, 2), st.integers(-1, 1), when),
    st.tuples(st.just("affiliation"), st.integers(0, 2), st.integers(-1, 1), st.booleans(), when),
    st.tuples(st.just("table"), st.integers(0, 1), st.integers(0, 2), when),
    st.tuples(st.just("amend"), st.integers(0, 1), st.integers(0, 2), when),
    st.tuples(st.just("source"), st.integers(0, 2), when),
    st.tuples(
        st.just("state"), st.integers(0, 2), st.integers(0, 1), st.sampled_from(STANCES), when
    ),
    st.tuples(st.just("meeting"), st.integers(0, 2), st.integers(0, 2), st.integers(-1, 1), when),
    st.tuples(
        st.sampled_from(["move", "rewrite", "retract", "dispute"]),
        st.integers(0, 10_000),  # which earlier event
        when,
        st.integers(0, 2),
    ),
)
logs = st.lists(st.lists(step, min_size=1, max_size=3), min_size=1, max_size=8)


class Scenario:
    """Turns generated steps into drafts about actors, proposals and sources of this example."""

    years = itertools.count()

    def __init__(self) -> None:
        tag = uuid4().hex[:8]
        self.year = 2020 - next(self.years)
        self.actors = [f"actor-{tag}-{i}" for i in range(3)]
        self.proposals = [f"prop-{tag}-{i}" for i in range(2)]
        self.sources = [f"src-{tag}-{i}" for i in range(len(OUTLETS))]
        self.drafts: list[EventDraft] = []

    @property
    def window(self) -> tuple[int, int]:
        """This example's year, in UTC microseconds (wide enough for every zone's dates)."""
        start = datetime(self.year - 1, 12, 30, tzinfo=UTC)
        return to_micros(start), to_micros(datetime(self.year + 1, 1, 2, tzinfo=UTC))

    def draft(self, raw: tuple[Any, ...]) -> EventDraft:
        kind, rest = raw[0], raw[1:]
        if kind == "actor":
            a, k, affiliation, at = rest
            payload: dict[str, Any] = {
                "actor": self.actors[a],
                "name": f"Actor {a}",
                "kind": KINDS[k],
            }
            if affiliation >= 0 and affiliation != a:
                payload["affiliation"] = self.actors[affiliation]
            return self._add("ActorRegistered", payload, at)
        if kind == "affiliation":
            a, affiliation, role, at = rest
            payload = {"actor": self.actors[a]}
            if affiliation >= 0:
                payload["affiliation"] = self.actors[affiliation]
            if role:
                payload["role"] = "envoy"
            return self._add("AffiliationChanged", payload, at)
        if kind in ("table", "amend"):
            p, terms, at = rest
            payload = {"proposal": self.proposals[p], "terms": [f"term {terms}"]}
            if kind == "table":
                payload.update(title=f"Proposal {p}", proposer=self.actors[0])
                return self._add("ProposalTabled", payload, at)
            return self._add("ProposalAmended", payload, at)
        if kind == "source":
            s, at = rest
            payload = {
                "source": self.sources[s],
                "outlet": OUTLETS[s],
                "headline": f"Headline {s}",
                "published_on": f"{self.year}-03-1{s}",
            }
            return self._add("SourceRegistered", payload, at)
        if kind == "state":
            a, p, stance, at = rest
            payload = {"actor": self.actors[a], "proposal": self.proposals[p], "stance": stance}
            return self._add("PositionStated", payload, at, cites=(p,))
        if kind == "meeting":
            a, b, p, at = rest
            payload = {
                "participants": [self.actors[a], self.actors[(a + b + 1) % 3]],
                "format": "call",
            }
            if p >= 0:
                payload["proposal"] = self.proposals[p]
            # One outlet through two sources, two outlets, or two outlets through three sources.
            cites = [(0, 2), (1, 2), (0, 1, 2)][b]
            return self._add("MeetingHeld", payload, at, cites=cites)
        return self._editorial(raw)

    def _editorial(self, raw: tuple[Any, ...]) -> EventDraft:
        kind, which, at, variant = raw
        if not self.drafts:
            return self.draft(("state", 0, 0, STANCES[variant], at))
        target = self.drafts[which % len(self.drafts)]
        payload: dict[str, Any] = {"target": str(target.id), "reason": "oracle"}
        editorial = target.event_type.kind is Kind.EDITORIAL
        if kind == "retract" or editorial:
            return self._add("EventRetracted", payload, None)
        if kind == "dispute":
            return self._add("EventDisputed", payload, None)
        if kind == "rewrite" and target.type in REWRITES:
            payload["payload"] = REWRITES[target.type](self, dict(target.payload), variant)
        else:
            payload["occurred_at"], timezone = self._when(at)
            if timezone:
                payload["timezone"] = timezone
        return self._add("EventCorrected", payload, None)

    def _when(self, at: int) -> tuple[str, str | None]:
        occurred_at, timezone = WHEN[at]
        return occurred_at.replace("YYYY", str(self.year)), timezone

    def _add(
        self,
        type_name: str,
        payload: dict[str, Any],
        at: int | None,
        cites: tuple[int, ...] | None = None,
    ) -> EventDraft:
        if at is None:  # editorial events happen in the newsroom
            raw: dict[str, Any] = {"occurred_at": "2026-01-01"}
        else:
            occurred_at, timezone = self._when(at)
            raw = {"occurred_at": occurred_at}
            if timezone:
                raw["timezone"] = timezone
        raw.update(type=type_name, payload=payload)
        if cites is None and EVENT_TYPES[type_name].kind is Kind.WORLD:
            cites = (0,)  # world events must cite a source
        if cites is not None:
            raw["sources"] = [{"source": self.sources[c]} for c in cites]
        draft = draft_from_json(raw, now=NOW, default_id=uuid4())
        self.drafts.append(draft)
        return draft


def _restate(scenario: Scenario, payload: dict[str, Any], variant: int) -> dict[str, Any]:
    # A correction may move a statement to another actor or proposal, or change its stance.
    if variant == 0:
        payload["actor"] = scenario.actors[(scenario.actors.index(payload["actor"]) + 1) % 3]
    elif variant == 1:
        payload["proposal"] = scenario.proposals[1 - scenario.proposals.index(payload["proposal"])]
    else:
        payload["stance"] = "countered"
    return payload


def _rename(field: str) -> Any:
    def rewrite(_: Scenario, payload: dict[str, Any], variant: int) -> dict[str, Any]:
        payload[field] = f"{payload[field]} (corrected {variant})"
        return payload

    return rewrite


def _reaffiliate(scenario: Scenario, payload: dict[str, Any], variant: int) -> dict[str, Any]:
    payload["affiliation"] = scenario.actors[variant]
    return payload


def _reterm(_: Scenario, payload: dict[str, Any], variant: int) -> dict[str, Any]:
    payload["terms"] = [f"corrected term {variant}"]
    return payload


REWRITES = {
    "PositionStated": _restate,
    "ActorRegistered": _rename("name"),
    "AffiliationChanged": _reaffiliate,
    "ProposalTabled": _rename("title"),
    "ProposalAmended": _reterm,
    "SourceRegistered": _rename("headline"),
}


def _probes(moments: list[int]) -> list[int]:
    return sorted({m + d for m in moments for d in (-1, 0)})


def _state(event: EffectiveEvent, outlets: dict[str, str]) -> tuple[int, dict[str, Any]]:
    return (event.position, version_of(event, 0, outlets).state)


def _outlets(known: list[LoggedEvent]) -> dict[str, str]:
    """Each source's outlet, as its first registration (as corrected) names it."""
    found: dict[str, str] = {}
    for e in effective_events(known, keep_retracted=True):
        if e.type == "SourceRegistered":
            found.setdefault(str(e.payload["source"]), str(e.payload["outlet"]))
    return found


def _corroborated(event: EffectiveEvent, outlets: dict[str, str], least: int) -> bool:
    """Whether at least `least` distinct outlets support an event, by the fold."""
    return len({outlets[c.source] for c in event.event.sources if c.source in outlets}) >= least


def _timeline(
    effective: list[EffectiveEvent], *, proposal: str | None = None, actor: str | None = None
) -> list[EffectiveEvent]:
    chosen = [
        e
        for e in effective
        if EVENT_TYPES[e.type].kind is Kind.WORLD
        and (proposal is None or e.payload.get("proposal") == proposal)
        and (actor is None or actor in EVENT_TYPES[e.type].actors(e.payload))
    ]
    return sorted(chosen, key=EffectiveEvent.sort_key)


async def _pages(store: EventStore, query: TimelineQuery, stop: int | None = None) -> list[Any]:
    """Every page of a timeline read, cursor after cursor; with `stop`, until a valid time."""
    found: list[Any] = []
    while True:
        page = await store.reads.timeline(query)
        found.extend((v.position, v.state) for _, v in page)
        if len(page) < query.limit or (stop is not None and page[-1][1].valid_earliest > stop):
            return found
        last = page[-1][1]
        query = TimelineQuery(**{**_fields(query), "after": (last.valid_earliest, last.position)})


def _fields(query: TimelineQuery) -> dict[str, Any]:
    return {f: getattr(query, f) for f in query.__dataclass_fields__}


async def _check(store: EventStore, clock: FrozenClock, batches: list[list[Any]]) -> None:
    scenario = Scenario()
    before = await store.head()
    ids: set[UUID] = set()
    # Citing an unregistered source is refused: every source is registered first.
    for batch in [[("source", s, 0) for s in range(len(OUTLETS))], *batches]:
        clock.advance(seconds=1)
        drafts = [scenario.draft(s) for s in batch]
        await store.append(f"oracle-{uuid4().hex[:6]}", drafts)
        ids.update(d.id for d in drafts)
    appended = await store.read(EventQuery(after=before, limit=100_000))
    log: list[LoggedEvent] = [logged(e) for e in appended if e.id in ids]
    known_ats = _probes([to_micros(e.recorded_at) for e in log])
    start, end = scenario.window
    as_ofs = [*_probes([to_micros(d.valid_time.earliest) for d in scenario.drafts]), end]
    for known_at in [*known_ats[:: max(1, len(known_ats) // 5)], known_ats[-1]]:
        known = [e for e in log if to_micros(e.recorded_at) <= known_at]
        outlets = _outlets(known)
        for keep in (False, True):
            effective = effective_events(known, keep_retracted=keep)
            for proposal in scenario.proposals:
                query = TimelineQuery(known_at=known_at, limit=2, proposal=proposal, retracted=keep)
                wanted = [_state(e, outlets) for e in _timeline(effective, proposal=proposal)]
                assert await _pages(store, query) == wanted, (proposal, known_at, keep)
            for actor in scenario.actors:
                query = TimelineQuery(known_at=known_at, limit=3, actor=actor, retracted=keep)
                wanted = [_state(e, outlets) for e in _timeline(effective, actor=actor)]
                assert await _pages(store, query) == wanted, (actor, known_at, keep)
            window = TimelineQuery(
                known_at=known_at, limit=4, after=(start, 0), end=end, retracted=keep
            )
            wanted = [_state(e, outlets) for e in _timeline(effective)]
            assert await _pages(store, window, stop=end) == wanted, (known_at, keep)
            # Earlier examples' years are later than this one's: `end` leaves them out.
            year = TimelineQuery(known_at=known_at, limit=4, start=start, end=end, retracted=keep)
            assert await _pages(store, year) == wanted, (known_at, keep)
            for least in (1, 2, 3):
                chosen = [
                    _state(e, outlets)
                    for e in _timeline(effective)
                    if _corroborated(e, outlets, least)
                ]
                corroborated = TimelineQuery(
                    known_at=known_at,
                    limit=2,
                    start=start,
                    end=end,
                    retracted=keep,
                    min_outlets=least,
                )
                assert await _pages(store, corroborated) == chosen, (least, known_at, keep)
            newest_first = TimelineQuery(
                known_at=known_at, limit=3, proposal=scenario.proposals[0], descending=True
            )
            wanted = [
                _state(e, outlets) for e in _timeline(effective, proposal=scenario.proposals[0])
            ]
            if not keep:
                assert await _pages(store, newest_first) == wanted[::-1], known_at
        effective = effective_events(known)
        await _check_registry(store, scenario, effective, known_at, as_ofs)
        await _check_sources(store, scenario, known, effective, known_at)


async def _check_registry(
    store: EventStore,
    scenario: Scenario,
    effective: list[EffectiveEvent],
    known_at: int,
    as_ofs: list[int],
) -> None:
    # Every third probe (each probe a valid time where some event begins, or just before it).
    for as_of in as_ofs[::3] + as_ofs[-1:]:
        moment = from_micros(as_of)
        actors = actors_as_of(effective, moment)
        for actor in scenario.actors:
            stored = await store.reads.registry("actor", as_of, known_at, actor)
            assert stored == ([actors[actor]] if actor in actors else []), (actor, as_of)
        asked = [*scenario.actors[::2], "never-registered"]
        among = await store.reads.registry_among("actor", as_of, known_at, asked)
        assert among == [actors[a] for a in sorted(asked) if a in actors], (as_of, known_at)
        proposals = proposals_as_of(effective, moment)
        listed = await store.reads.registry("proposal", as_of, known_at)
        mine = [p for p in listed if p["id"] in scenario.proposals]
        assert mine == [proposals[p] for p in sorted(proposals)], (as_of, known_at)


async def _check_sources(
    store: EventStore,
    scenario: Scenario,
    known: list[LoggedEvent],
    effective: list[EffectiveEvent],
    known_at: int,
) -> None:
    registered = [e for e in effective if e.type == "SourceRegistered"]
    wanted = sorted(
        (str(e.payload["source"]), e.position, version_of(e, 0).state) for e in registered
    )
    stored = await store.reads.sources(known_at)
    mine = [
        (str(v.state["payload"]["source"]), v.position, v.state)
        for v in stored
        if v.state["payload"]["source"] in scenario.sources
    ]
    assert mine == wanted, known_at
    asked = {*scenario.sources[::2], "never-registered"}
    among = await store.reads.sources_among(known_at, sorted(asked))
    assert [(str(v.state["payload"]["source"]), v.position, v.state) for v in among] == [
        w for w in wanted if w[0] in asked
    ], known_at
    for source in scenario.sources:
        citing = [e.position for e in known if any(c.source == source for c in e.sources)]
        found: list[int] = []
        after = 0
        while True:
            page = await store.reads.citing(
                CitingQuery(source=source, known_at=known_at, after=after, limit=2)
            )
            found.extend(e.position for e in page)
            if len(page) < 2:
                break
            after = page[-1].position
        assert found == citing, (source, known_at)


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_read_models_answer_as_the_fold_over_the_log(
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
    def check(batches: list[list[Any]]) -> None:
        loop.run_until_complete(_check(store, clock, batches))

    try:
        check()
    finally:
        if backend != "memory":
            loop.run_until_complete(store.close())
        loop.close()
