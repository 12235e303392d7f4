"""A deterministic synthetic log for the positions benchmark, and a fast way to load it.

200 actors and 50 proposals (10,000 pairs); mostly PositionStated, some ConditionRaised and
ConditionDropped; about 5% late events (valid time weeks before the transaction time), about 1%
corrections (moving an event in valid time, restating its stance, or reassigning it to another
actor), a few retractions and disputes. Valid times spread over one year, written as RFC 3339
datetimes (UTC or +03:00) or as dates in a named zone (day precision, so same-instant ties occur).
Everything follows from the seed: the same (size, seed) gives the same log, ids included.

The log is written straight into `events` and `event_refs` with the store's own row mapping
(`store.rows.event_row` / `ref_rows`) in large batches: the append path would take hours for a
million events, and the read model is then built by `store.rebuild.rebuild_positions`.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache
from typing import Any
from uuid import UUID

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.chain import GENESIS
from domain.drafts import Citation, EventDraft
from domain.valid_time import Precision, ValidTime, parse_valid_time, to_micros
from store.rows import chain, event_row, ref_rows
from store.tables import EventRefRow, EventRow

ACTORS = 200
PROPOSALS = 50
SOURCES = 30
LATE = 0.05
CORRECTIONS = 0.01
RETRACTIONS = 0.003
DISPUTES = 0.003
STANCES = ("proposed", "accepted", "conditional", "noncommittal", "rejected", "countered")
CONDITIONS = tuple(f"c-{i}" for i in range(8))
START = datetime(2024, 3, 1, tzinfo=UTC)
YEAR = timedelta(days=365)
MOSCOW = timezone(timedelta(hours=3))
METADATA = {"recorded_by": "bench"}

events_table = EventRow.__table__  # type: ignore[attr-defined]
refs_table = EventRefRow.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class Synthetic:
    """One event of the synthetic log, ready for `event_row`."""

    position: int
    stream: str
    stream_version: int
    recorded_at: int
    draft: EventDraft


def actor(i: int) -> str:
    """The slug of actor i."""
    return f"actor-{i:03d}"


def proposal(i: int) -> str:
    """The slug of proposal i."""
    return f"proposal-{i:02d}"


@lru_cache(maxsize=4096)
def _day(expression: str, zone: str) -> ValidTime:
    return parse_valid_time(expression, zone)


def _instant(moment: datetime, offset: bool) -> ValidTime:
    """A second-precision RFC 3339 valid time, as `parse_valid_time` would read it."""
    moment = moment.replace(microsecond=0)
    local = moment.astimezone(MOSCOW) if offset else moment
    text = local.strftime("%Y-%m-%dT%H:%M:%S") + ("+03:00" if offset else "Z")
    return ValidTime(
        expression=text,
        timezone="UTC",
        earliest=moment,
        latest=moment + timedelta(seconds=1) - timedelta(microseconds=1),
        precision=Precision.SECOND,
    )


class _Log:
    """The generator's state: counters, the position events so far, a seeded random source."""

    def __init__(self, size: int, seed: int) -> None:
        self.rng = random.Random(seed)
        self.size = size
        self.position = 0
        self.versions: dict[str, int] = {}
        self.step = max(1, to_micros(START + YEAR) - to_micros(START)) // max(size, 1)
        self.clock = to_micros(START)
        self.world: list[EventDraft] = []

    def uuid(self) -> UUID:
        return UUID(int=self.rng.getrandbits(128), version=4)

    def emit(self, stream: str, draft: EventDraft) -> Synthetic:
        self.position += 1
        self.clock += self.step
        version = self.versions[stream] = self.versions.get(stream, 0) + 1
        return Synthetic(
            position=self.position,
            stream=stream,
            stream_version=version,
            recorded_at=self.clock,
            draft=draft,
        )

    def now(self) -> datetime:
        return START + timedelta(microseconds=self.clock - to_micros(START) + self.step)

    def valid_time(self, late: bool) -> ValidTime:
        rng = self.rng
        back = timedelta(days=rng.uniform(10, 120)) if late else timedelta(hours=rng.uniform(0, 6))
        moment = max(START, self.now() - back)
        form = rng.random()
        if form < 0.75:
            return _instant(moment, offset=False)
        if form < 0.9:
            return _instant(moment, offset=True)
        zone = "Europe/Moscow" if rng.random() < 0.5 else "UTC"
        local = moment.astimezone(MOSCOW) if zone == "Europe/Moscow" else moment
        # A day-precision date takes effect at the day's start: never after the moment.
        return _day(local.strftime("%Y-%m-%d"), zone)

    def draft(
        self,
        type_name: str,
        payload: dict[str, Any],
        valid_time: ValidTime,
        sources: tuple[Citation, ...] = (),
    ) -> EventDraft:
        return EventDraft(
            id=self.uuid(),
            type=type_name,
            schema_version=1,
            valid_time=valid_time,
            payload=payload,
            sources=sources,
        )

    def citation(self) -> tuple[Citation, ...]:
        source = f"source-{self.rng.randrange(SOURCES):02d}"
        quote = "as reported" if self.rng.random() < 0.3 else None
        return (Citation(source=source, quote=quote),)

    def speaker(self, who: str) -> str | None:
        pick = self.rng.random()
        return None if pick < 0.4 else f"{who}-envoy" if pick < 0.7 else f"{who}-head"

    def position_event(self) -> EventDraft:
        rng = self.rng
        who, what = actor(rng.randrange(ACTORS)), proposal(rng.randrange(PROPOSALS))
        payload: dict[str, Any] = {"actor": who, "proposal": what}
        speaker = self.speaker(who)
        if speaker is not None:
            payload["speaker"] = speaker
        kind = rng.random()
        if kind < 0.85:
            type_name = "PositionStated"
            payload["stance"] = rng.choice(STANCES)
            if rng.random() < 0.2:
                chosen = rng.sample(CONDITIONS, rng.randrange(3))
                payload["conditions"] = [{"id": c, "text": f"condition {c}"} for c in chosen]
            if rng.random() < 0.3:
                payload["quote"] = "we will see"
        elif kind < 0.94:
            type_name = "ConditionRaised"
            condition = rng.choice(CONDITIONS)
            payload["condition"] = {"id": condition, "text": f"condition {condition}"}
        else:
            type_name = "ConditionDropped"
            payload["condition_id"] = rng.choice(CONDITIONS)
        late = rng.random() < LATE
        draft = self.draft(type_name, payload, self.valid_time(late), self.citation())
        self.world.append(draft)
        return draft

    def editorial(self, kind: str) -> EventDraft:
        rng = self.rng
        target = self.world[rng.randrange(len(self.world))]
        payload: dict[str, Any] = {"target": str(target.id), "reason": "bench"}
        if kind == "EventCorrected":
            change = rng.random()
            if change < 0.4 or target.type != "PositionStated":
                moved = self.valid_time(late=rng.random() < 0.5)
                payload["occurred_at"] = moved.expression
                if moved.precision is Precision.DAY:
                    payload["timezone"] = moved.timezone
            elif change < 0.8:
                payload["payload"] = {**target.payload, "stance": rng.choice(STANCES)}
            else:
                other = actor(rng.randrange(ACTORS))
                restated = {**target.payload, "actor": other}
                restated.pop("speaker", None)
                payload["payload"] = restated
        day = self.now().strftime("%Y-%m-%d")
        return self.draft(kind, payload, _day(day, "UTC"))


def registrations(log: _Log) -> Iterator[Synthetic]:
    """The actors, sources and proposals the log speaks of."""
    day = _day("2024-01-01", "UTC")
    payload: dict[str, Any]
    for i in range(SOURCES):
        payload = {
            "source": f"source-{i:02d}",
            "outlet": f"Outlet {i}",
            "headline": f"Headline {i}",
            "published_on": "2024-01-01",
        }
        yield log.emit("registry", log.draft("SourceRegistered", payload, day))
    for i in range(ACTORS):
        payload = {"actor": actor(i), "name": f"Actor {i}", "kind": "state"}
        yield log.emit("registry", log.draft("ActorRegistered", payload, day))
    for i in range(PROPOSALS):
        payload = {
            "proposal": proposal(i),
            "title": f"Proposal {i}",
            "proposer": actor(i),
            "terms": [f"term {i}"],
        }
        yield log.emit(
            "registry", log.draft("ProposalTabled", payload, day, (Citation(source="source-00"),))
        )


def synthetic_log(size: int, seed: int = 20250311) -> Iterator[Synthetic]:
    """`size` events (registrations included), in position order."""
    log = _Log(size, seed)
    for event in registrations(log):
        if log.position > size:
            return
        yield event
    editorial = CORRECTIONS + RETRACTIONS + DISPUTES
    while log.position < size:
        pick = log.rng.random()
        if log.world and pick < editorial:
            kind = (
                "EventCorrected"
                if pick < CORRECTIONS
                else "EventRetracted"
                if pick < CORRECTIONS + RETRACTIONS
                else "EventDisputed"
            )
            yield log.emit("editorial", log.editorial(kind))
        else:
            draft = log.position_event()
            yield log.emit(f"positions-{draft.payload['proposal']}", draft)


def rows_of(event: Synthetic) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The events row and the event_refs rows of one synthetic event."""
    row = event_row(
        position=event.position,
        stream=event.stream,
        stream_version=event.stream_version,
        recorded_at=event.recorded_at,
        draft=event.draft,
        metadata=METADATA,
    )
    return row, ref_rows(event.position, event.draft, METADATA)


async def load(
    engine: AsyncEngine,
    events: Iterator[Synthetic],
    *,
    batch: int = 20_000,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Insert the events and their references into an empty log, in large batches, hashed as
    the store hashes them; return how many."""
    count = 0
    prev_hash = GENESIS
    done = False
    while not done:
        rows: list[dict[str, Any]] = []
        refs: list[dict[str, Any]] = []
        for event in events:
            row, event_refs = rows_of(event)
            rows.append(row)
            refs.extend(event_refs)
            if len(rows) == batch:
                break
        else:
            done = True
        if not rows:
            break
        prev_hash = chain(rows, prev_hash)
        async with engine.begin() as conn:
            await conn.execute(insert(events_table), rows)
            if refs:
                await conn.execute(insert(refs_table), refs)
        count += len(rows)
        if progress is not None:
            progress(len(rows))
    return count
