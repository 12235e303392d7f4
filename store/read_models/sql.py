"""The effective-events and registry read models in SQL: rows buffered per appended batch and
written set-wise, and the reads, each one indexed statement bounded by its page."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import replace
from typing import Any

from sqlalchemy import and_, bindparam, func, insert, select, true, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.references import CITES
from store.projection import FOREVER
from store.read_models.effective import Version
from store.read_models.queries import CitingQuery, TimelineEntry, TimelineQuery
from store.read_models.registry import Entry
from store.read_models.verification_sql import SqlVerificationReads
from store.read_path import ReadConnection, constant
from store.records import RecordedEvent
from store.rows import recorded_event
from store.tables import EffectiveActorRow, EffectiveEventRow, EventRefRow, EventRow, RegistryRow

events = EventRow.__table__  # type: ignore[attr-defined]
refs = EventRefRow.__table__  # type: ignore[attr-defined]
effective = EffectiveEventRow.__table__  # type: ignore[attr-defined]
lanes = EffectiveActorRow.__table__  # type: ignore[attr-defined]
registry = RegistryRow.__table__  # type: ignore[attr-defined]

# A read block: `inline=False` for one that may return many rows (see store.read_path).
Reading = Callable[..., AbstractAsyncContextManager[ReadConnection]]
# Pages of more rows than this are read in a worker thread (SQLite), not on the event loop.
INLINE_ROWS = 500

_VERSION_COLUMNS = [c.label(f"v_{c.name}") for c in effective.columns]
_LONGEST = select(func.max(effective.c.valid_latest - effective.c.valid_earliest)).where(
    effective.c.kind == "world"
)
_OPEN_VERSION = constant(
    select(effective).where(
        effective.c.position == bindparam("position"), effective.c.recorded_to == FOREVER
    )
)
_OPEN_OF_SUBJECT = constant(
    select(effective).where(
        effective.c.subject == bindparam("subject"), effective.c.recorded_to == FOREVER
    )
)
_CLOSE_VERSION = constant(
    update(effective)
    .where(
        effective.c.position == bindparam("b_position"),
        effective.c.recorded_from == bindparam("b_recorded_from"),
    )
    .values(recorded_to=bindparam("b_recorded_to"))
)
_CLOSE_LANES = constant(
    update(lanes)
    .where(
        lanes.c.position == bindparam("b_position"),
        lanes.c.recorded_from == bindparam("b_recorded_from"),
    )
    .values(recorded_to=bindparam("b_recorded_to"))
)
_OPEN_ENTRIES = constant(
    select(registry).where(
        registry.c.kind == bindparam("kind"),
        registry.c.subject == bindparam("subject"),
        registry.c.recorded_to == FOREVER,
    )
)
_CLOSE_ENTRY = constant(
    update(registry)
    .where(
        registry.c.kind == bindparam("b_kind"),
        registry.c.subject == bindparam("b_subject"),
        registry.c.valid_from == bindparam("b_valid_from"),
        registry.c.recorded_from == bindparam("b_recorded_from"),
    )
    .values(recorded_to=bindparam("b_recorded_to"))
)
_INSERT_VERSIONS = constant(insert(effective))
_INSERT_LANES = constant(insert(lanes))
_INSERT_ENTRIES = constant(insert(registry))


def version_of_row(row: Any, prefix: str = "") -> Version:
    """A table row (or the `v_` columns of a joined one) as a Version."""
    m = row._mapping
    return Version(
        position=m[f"{prefix}position"],
        type=m[f"{prefix}type"],
        kind=m[f"{prefix}kind"],
        subject=m[f"{prefix}subject"],
        proposal=m[f"{prefix}proposal"],
        valid_earliest=m[f"{prefix}valid_earliest"],
        valid_latest=m[f"{prefix}valid_latest"],
        retracted=bool(m[f"{prefix}retracted"]),
        state=m[f"{prefix}state"],
        recorded_from=m[f"{prefix}recorded_from"],
        recorded_to=m[f"{prefix}recorded_to"],
        outlets=m[f"{prefix}outlets"],
    )


def version_values(version: Version) -> dict[str, Any]:
    """A Version as column values."""
    return {
        "position": version.position,
        "recorded_from": version.recorded_from,
        "recorded_to": version.recorded_to,
        "kind": version.kind,
        "type": version.type,
        "subject": version.subject,
        "proposal": version.proposal,
        "valid_earliest": version.valid_earliest,
        "valid_latest": version.valid_latest,
        "retracted": version.retracted,
        "state": version.state,
        "outlets": version.outlets,
    }


def lane_values(version: Version) -> list[dict[str, Any]]:
    """The timeline's by-actor index rows of a version."""
    return [
        {
            "actor": actor,
            "valid_earliest": version.valid_earliest,
            "position": version.position,
            "recorded_from": version.recorded_from,
            "recorded_to": version.recorded_to,
            "retracted": version.retracted,
        }
        for actor in version.actors
    ]


def entry_of_row(row: Any) -> Entry:
    """A registry table row as an Entry."""
    return Entry(
        kind=row.kind,
        subject=row.subject,
        valid_from=row.valid_from,
        valid_to=row.valid_to,
        recorded_from=row.recorded_from,
        recorded_to=row.recorded_to,
        state=row.state,
    )


def entry_values(entry: Entry) -> dict[str, Any]:
    """An Entry as column values."""
    return {
        "kind": entry.kind,
        "subject": entry.subject,
        "valid_from": entry.valid_from,
        "valid_to": entry.valid_to,
        "recorded_from": entry.recorded_from,
        "recorded_to": entry.recorded_to,
        "state": entry.state,
    }


class BufferedEffectiveRows:
    """The effective events for one batch: open versions read when first needed, revisions
    written at the end (a version both inserted and closed within the batch, once, closed)."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn
        self._open: dict[int, Version | None] = {}
        self._subjects: set[str] = set()
        self._closed: dict[tuple[int, int], int] = {}
        self._inserted: dict[tuple[int, int], Version] = {}

    async def open_version(self, position: int) -> Version | None:
        if position not in self._open:
            row = (await self._conn.execute(_OPEN_VERSION, {"position": position})).first()
            self._open[position] = None if row is None else version_of_row(row)
        return self._open[position]

    async def revise(self, closing: Version | None, at: int, inserting: Version) -> None:
        if closing is not None:
            key = (closing.position, closing.recorded_from)
            if key in self._inserted:
                self._inserted[key] = replace(self._inserted[key], recorded_to=at)
            else:
                self._closed[key] = at
        self._inserted[(inserting.position, inserting.recorded_from)] = inserting
        self._open[inserting.position] = inserting

    async def open_versions_of(self, subject: str) -> list[Version]:
        if subject not in self._subjects:
            self._subjects.add(subject)
            for row in await self._conn.execute(_OPEN_OF_SUBJECT, {"subject": subject}):
                self._open.setdefault(row.position, version_of_row(row))
        found = [v for v in self._open.values() if v is not None and v.subject == subject]
        return sorted(found, key=lambda v: v.position)

    async def flush(self) -> None:
        """Write the batch's revisions: an UPDATE and an INSERT per table, each for many rows."""
        if self._closed:
            closing = [
                {"b_position": p, "b_recorded_from": r, "b_recorded_to": at}
                for (p, r), at in self._closed.items()
            ]
            await self._conn.execute(_CLOSE_VERSION, closing)
            await self._conn.execute(_CLOSE_LANES, closing)
        if self._inserted:
            fresh = list(self._inserted.values())
            await self._conn.execute(_INSERT_VERSIONS, [version_values(v) for v in fresh])
            lane_rows = [row for v in fresh for row in lane_values(v)]
            if lane_rows:
                await self._conn.execute(_INSERT_LANES, lane_rows)
        self._closed, self._inserted = {}, {}


class BufferedRegistryRows:
    """The registry for one batch, as BufferedEffectiveRows."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn
        self._open: dict[tuple[str, str], list[Entry]] = {}
        self._closed: dict[tuple[str, str, int, int], int] = {}
        self._inserted: dict[tuple[str, str, int, int], Entry] = {}

    async def open_entries(self, kind: str, subject: str) -> list[Entry]:
        if (kind, subject) not in self._open:
            result = await self._conn.execute(_OPEN_ENTRIES, {"kind": kind, "subject": subject})
            self._open[(kind, subject)] = [entry_of_row(r) for r in result]
        return list(self._open[(kind, subject)])

    async def revise(self, closing: Sequence[Entry], at: int, inserting: Sequence[Entry]) -> None:
        for entry in closing:
            key = _identity(entry)
            self._open[(entry.kind, entry.subject)].remove(entry)
            if key in self._inserted:
                self._inserted[key] = replace(self._inserted[key], recorded_to=at)
            else:
                self._closed[key] = at
        for entry in inserting:
            self._inserted[_identity(entry)] = entry
            self._open.setdefault((entry.kind, entry.subject), []).append(entry)

    async def flush(self) -> None:
        """Write the batch's revisions."""
        if self._closed:
            await self._conn.execute(
                _CLOSE_ENTRY,
                [
                    {
                        "b_kind": k,
                        "b_subject": s,
                        "b_valid_from": v,
                        "b_recorded_from": r,
                        "b_recorded_to": at,
                    }
                    for (k, s, v, r), at in self._closed.items()
                ],
            )
        if self._inserted:
            await self._conn.execute(
                _INSERT_ENTRIES, [entry_values(e) for e in self._inserted.values()]
            )
        self._closed, self._inserted = {}, {}


def _identity(entry: Entry) -> tuple[str, str, int, int]:
    return (entry.kind, entry.subject, entry.valid_from, entry.recorded_from)


def _known(table: Any, known_at: Any) -> Any:
    """Rows known at a transaction time (a number, or a bound parameter)."""
    return and_(table.c.recorded_from <= known_at, table.c.recorded_to > known_at)


def timeline_statement(query: TimelineQuery, longest: int | None = None) -> Any:
    """One page of the timeline: a range scan of the valid-time index (of the actor's lane when
    one is asked for), the version and its event joined by key. `longest`, the longest valid
    time of any event, bounds where a window's scan starts."""
    if query.actor is not None:
        order = lanes
        source = lanes.join(
            effective,
            and_(
                effective.c.position == lanes.c.position,
                effective.c.recorded_from == lanes.c.recorded_from,
            ),
        )
        where = [lanes.c.actor == query.actor, _known(lanes, query.known_at)]
    else:
        order = effective
        source = effective
        where = [effective.c.kind == "world", _known(effective, query.known_at)]
        if query.proposal is not None:
            where.append(effective.c.proposal == query.proposal)
    if query.actor is not None:
        where.append(effective.c.kind == "world")
        if query.proposal is not None:
            where.append(effective.c.proposal == query.proposal)
    if not query.retracted:
        where.append(order.c.retracted == false_())
    if query.min_outlets is not None:
        where.append(effective.c.outlets >= query.min_outlets)
    key = tuple_(order.c.valid_earliest, order.c.position)
    if query.after is not None:
        where.append(key < tuple_(*query.after) if query.descending else key > tuple_(*query.after))
    if query.start is not None:
        where.append(effective.c.valid_latest >= query.start)
        if longest is not None:  # nothing that begins earlier can reach the window
            where.append(order.c.valid_earliest >= query.start - longest)
    if query.end is not None:
        where.append(order.c.valid_earliest <= query.end)
    return (
        select(*events.columns, *_VERSION_COLUMNS)
        .select_from(source.join(events, events.c.position == effective.c.position))
        .where(*where)
        .order_by(
            *(
                (order.c.valid_earliest.desc(), order.c.position.desc())
                if query.descending
                else (order.c.valid_earliest, order.c.position)
            )
        )
        .limit(query.limit)
    )


def false_() -> Any:
    """SQL false, comparable with a boolean column on every backend."""
    return ~true()


# Built once: a read's plan is found by the cache key SQLAlchemy memoizes on its statement.
_REGISTRY = (
    select(registry.c.state)
    .where(
        registry.c.kind == bindparam("kind"),
        _known(registry, bindparam("known_at")),
        registry.c.valid_from <= bindparam("as_of"),
        registry.c.valid_to > bindparam("as_of"),
    )
    .order_by(registry.c.subject)
)
_REGISTRY_ENTRY = constant(_REGISTRY.where(registry.c.subject == bindparam("subject")))
constant(_REGISTRY)
constant(_LONGEST)
# An event's version known at a transaction time: a step of the primary key (position first).
_VERSION_KNOWN = constant(
    select(effective).where(
        effective.c.position == bindparam("position"), _known(effective, bindparam("known_at"))
    )
)


class SqlReadModels(SqlVerificationReads):
    """The read-model queries over a SQL database."""

    def __init__(self, reading: Reading) -> None:
        self._reading = reading

    async def timeline(self, query: TimelineQuery) -> list[TimelineEntry]:
        async with self._reading(inline=query.limit <= INLINE_ROWS) as conn:
            longest = None if query.start is None else await conn.scalar(_LONGEST)
            result = await conn.execute(timeline_statement(query, longest))
            return [(recorded_event(row), version_of_row(row, "v_")) for row in result]

    async def registry(
        self, kind: str, as_of: int, known_at: int, subject: str | None = None
    ) -> list[dict[str, Any]]:
        params = {"kind": kind, "as_of": as_of, "known_at": known_at, "subject": subject}
        stmt = _REGISTRY if subject is None else _REGISTRY_ENTRY
        async with self._reading() as conn:
            return [dict(r.state) for r in await conn.execute(stmt, params)]

    async def registry_among(
        self, kind: str, as_of: int, known_at: int, subjects: Sequence[str]
    ) -> list[dict[str, Any]]:
        if not subjects:
            return []
        stmt = _REGISTRY.where(registry.c.subject.in_(sorted(set(subjects))))
        async with self._reading() as conn:
            params = {"kind": kind, "as_of": as_of, "known_at": known_at}
            return [dict(r.state) for r in await conn.execute(stmt, params)]

    async def sources(self, known_at: int, source: str | None = None) -> list[Version]:
        # Subjects are `kind:id`: the sources' are the range from "source:" up to "source;".
        subjects = (
            [effective.c.subject == f"source:{source}"]
            if source is not None
            else [effective.c.subject >= "source:", effective.c.subject < "source;"]
        )
        return await self._sources(known_at, subjects)

    async def sources_among(self, known_at: int, sources: Sequence[str]) -> list[Version]:
        if not sources:
            return []
        wanted = sorted({f"source:{source}" for source in sources})
        return await self._sources(known_at, [effective.c.subject.in_(wanted)])

    async def _sources(self, known_at: int, subjects: list[Any]) -> list[Version]:
        stmt = (
            select(effective)
            .where(
                *subjects,
                effective.c.recorded_to > known_at,
                effective.c.recorded_from <= known_at,
                effective.c.type == "SourceRegistered",
                effective.c.retracted == false_(),
            )
            .order_by(effective.c.subject, effective.c.position)
        )
        async with self._reading() as conn:
            return [version_of_row(r) for r in await conn.execute(stmt)]

    async def version(self, position: int, known_at: int) -> Version | None:
        params = {"position": position, "known_at": known_at}
        async with self._reading() as conn:
            row = (await conn.execute(_VERSION_KNOWN, params)).first()
            return None if row is None else version_of_row(row)

    async def events_at(self, positions: Sequence[int]) -> list[RecordedEvent]:
        if not positions:
            return []
        stmt = (
            select(events)
            .where(events.c.position.in_(sorted(set(positions))))
            .order_by(events.c.position)
        )
        async with self._reading() as conn:
            return [recorded_event(row) for row in await conn.execute(stmt)]

    async def citing(self, query: CitingQuery) -> list[RecordedEvent]:
        stmt = (
            select(events)
            .join(refs, refs.c.position == events.c.position)
            .where(
                refs.c.kind == CITES,
                refs.c.ref == query.source,
                refs.c.position > query.after,
                events.c.recorded_at <= query.known_at,
            )
            .order_by(refs.c.position)
            .limit(query.limit)
        )
        async with self._reading(inline=query.limit <= INLINE_ROWS) as conn:
            return [recorded_event(row) for row in await conn.execute(stmt)]
