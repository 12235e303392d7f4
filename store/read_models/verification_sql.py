"""The quote-verification read model in SQL: rows buffered per appended batch and written
set-wise, the texts beside them, and the reads, each an indexed statement bounded by its page."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import replace
from typing import Any

from sqlalchemy import and_, bindparam, func, insert, select, true, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection

from store.projection import FOREVER
from store.read_models.verification import Attachment, Check
from store.read_path import ReadConnection, constant
from store.tables import CitationCheckRow, SourceTextRow, TextAttachmentRow

texts = SourceTextRow.__table__  # type: ignore[attr-defined]
attachments = TextAttachmentRow.__table__  # type: ignore[attr-defined]
checks = CitationCheckRow.__table__  # type: ignore[attr-defined]

Reading = Callable[..., AbstractAsyncContextManager[ReadConnection]]

_OPEN_ATTACHMENTS = constant(
    select(attachments).where(
        attachments.c.source.in_(bindparam("sources", expanding=True)),
        attachments.c.recorded_to == FOREVER,
    )
)
_CLOSE_ATTACHMENT = constant(
    update(attachments)
    .where(
        attachments.c.source == bindparam("b_source"),
        attachments.c.recorded_from == bindparam("b_recorded_from"),
    )
    .values(recorded_to=bindparam("b_recorded_to"))
)
_OPEN_CHECKS = constant(
    select(checks).where(checks.c.source == bindparam("source"), checks.c.recorded_to == FOREVER)
)
_OPEN_PAYLOAD_CHECKS = constant(
    select(checks).where(
        checks.c.position.in_(bindparam("positions", expanding=True)),
        checks.c.citation < 0,
        checks.c.recorded_to == FOREVER,
    )
)
_POSITIONS_PER_READ = 1000
_CLOSE_CHECK = constant(
    update(checks)
    .where(
        checks.c.position == bindparam("b_position"),
        checks.c.citation == bindparam("b_citation"),
        checks.c.recorded_from == bindparam("b_recorded_from"),
    )
    .values(recorded_to=bindparam("b_recorded_to"))
)
_TEXT = constant(select(texts.c.text).where(texts.c.sha256 == bindparam("sha256")))
_STORED = constant(
    select(texts.c.sha256).where(texts.c.sha256.in_(bindparam("shas", expanding=True)))
)
_INSERT_ATTACHMENTS = constant(insert(attachments))
_INSERT_CHECKS = constant(insert(checks))
_INSERT_TEXTS = constant(insert(texts))


def attachment_of_row(row: Any) -> Attachment:
    """A table row as an Attachment."""
    return Attachment(
        source=row.source,
        position=row.position,
        sha256=row.sha256,
        characters=row.characters,
        recorded_from=row.recorded_from,
        recorded_to=row.recorded_to,
    )


def attachment_values(a: Attachment) -> dict[str, Any]:
    """An Attachment as column values."""
    return {c.name: getattr(a, c.name) for c in attachments.columns}


def check_of_row(row: Any) -> Check:
    """A table row as a Check."""
    return Check(
        position=row.position,
        citation=row.citation,
        source=row.source,
        sha256=row.sha256,
        verified=bool(row.verified),
        span_start=row.span_start,
        span_end=row.span_end,
        fragments=[list(f) for f in row.fragments],
        recorded_from=row.recorded_from,
        recorded_to=row.recorded_to,
    )


def check_values(c: Check) -> dict[str, Any]:
    """A Check as column values."""
    return {column.name: getattr(c, column.name) for column in checks.columns}


async def store_texts(conn: AsyncConnection, fresh: Mapping[str, str]) -> None:
    """Keep texts not kept already (content-addressed: one with the same hash is the same)."""
    if not fresh:
        return
    stored = {r.sha256 for r in await conn.execute(_STORED, {"shas": sorted(fresh)})}
    rows = [
        {"sha256": sha, "characters": len(text), "text": text}
        for sha, text in sorted(fresh.items())
        if sha not in stored
    ]
    if rows:
        await conn.execute(_INSERT_TEXTS, rows)


class BufferedVerificationRows:
    """The model for one batch: open rows read when first needed, revisions written at the end;
    the batch's own texts are found before they are committed."""

    def __init__(self, conn: AsyncConnection, batch_texts: Mapping[str, str]) -> None:
        self._conn = conn
        self._texts = dict(batch_texts)
        self._attachments: dict[str, Attachment | None] = {}
        self._checks: dict[str, dict[tuple[int, int], Check]] = {}  # by source, when read
        self._payload: dict[int, dict[tuple[int, int], Check]] = {}  # by position, when read
        self._closed_attachments: dict[tuple[str, int], int] = {}
        self._new_attachments: dict[tuple[str, int], Attachment] = {}
        self._closed: dict[tuple[int, int, int], int] = {}
        self._new: dict[tuple[int, int, int], Check] = {}

    async def prefetch(self, sources: set[str]) -> None:
        """The open attachments of these sources, in one statement."""
        missing = sorted(s for s in sources if s not in self._attachments)
        if not missing:
            return
        for source in missing:
            self._attachments[source] = None
        for row in await self._conn.execute(_OPEN_ATTACHMENTS, {"sources": missing}):
            self._attachments[row.source] = attachment_of_row(row)

    async def open_attachment(self, source: str) -> Attachment | None:
        await self.prefetch({source})
        return self._attachments[source]

    async def attach(self, closing: Attachment | None, at: int, inserting: Attachment) -> None:
        if closing is not None:
            key = (closing.source, closing.recorded_from)
            if key in self._new_attachments:
                self._new_attachments[key] = replace(closing, recorded_to=at)
            else:
                self._closed_attachments[key] = at
        self._new_attachments[(inserting.source, inserting.recorded_from)] = inserting
        self._attachments[inserting.source] = inserting

    async def open_checks(self, source: str) -> list[Check]:
        if source not in self._checks:
            result = await self._conn.execute(_OPEN_CHECKS, {"source": source})
            self._checks[source] = self._overlaid(
                (check_of_row(r) for r in result), lambda c: c.source == source
            )
        return list(self._checks[source].values())

    async def open_payload_checks(self, positions: Sequence[int]) -> list[Check]:
        missing = sorted({p for p in positions if p not in self._payload})
        for start in range(0, len(missing), _POSITIONS_PER_READ):
            chunk = missing[start : start + _POSITIONS_PER_READ]
            result = await self._conn.execute(_OPEN_PAYLOAD_CHECKS, {"positions": chunk})
            wanted = frozenset(chunk)
            found = self._overlaid(
                (check_of_row(r) for r in result),
                lambda c, wanted=wanted: c.payload and c.position in wanted,  # type: ignore[misc]
            )
            for p in chunk:
                self._payload[p] = {}
            for key, c in found.items():
                self._payload[c.position][key] = c
        return [c for p in dict.fromkeys(positions) for c in self._payload[p].values()]

    def _overlaid(
        self, stored: Iterable[Check], wanted: Callable[[Check], bool]
    ) -> dict[tuple[int, int], Check]:
        """Open rows as read from the database, with the batch's revisions not yet written."""
        found = {c.key: c for c in stored if (*c.key, c.recorded_from) not in self._closed}
        for c in self._new.values():
            if c.recorded_to == FOREVER and wanted(c):
                found[c.key] = c
        return found

    async def revise(self, closing: Sequence[Check], at: int, inserting: Sequence[Check]) -> None:
        # Only the rows read already are kept up to date: one read later sees the revisions
        # through `_overlaid`.
        for old in closing:
            self._checks.get(old.source, {}).pop(old.key, None)
            self._payload.get(old.position, {}).pop(old.key, None)
            key = (*old.key, old.recorded_from)
            if key in self._new:
                self._new[key] = replace(old, recorded_to=at)
            else:
                self._closed[key] = at
        for new in inserting:
            if new.source in self._checks:
                self._checks[new.source][new.key] = new
            if new.payload and new.position in self._payload:
                self._payload[new.position][new.key] = new
            self._new[(*new.key, new.recorded_from)] = new

    async def text(self, sha256: str) -> str:
        found = self._texts.get(sha256)
        if found is None:
            found = await self._conn.scalar(_TEXT, {"sha256": sha256})
            if found is None:
                raise LookupError(f"no stored text {sha256}: it is attached but was never stored")
            self._texts[sha256] = found
        return found

    async def flush(self) -> None:
        """Write the batch's revisions: an UPDATE and an INSERT per table, each for many rows."""
        if self._closed_attachments:
            await self._conn.execute(
                _CLOSE_ATTACHMENT,
                [
                    {"b_source": s, "b_recorded_from": r, "b_recorded_to": at}
                    for (s, r), at in self._closed_attachments.items()
                ],
            )
        if self._new_attachments:
            await self._conn.execute(
                _INSERT_ATTACHMENTS,
                [attachment_values(a) for a in self._new_attachments.values()],
            )
        if self._closed:
            await self._conn.execute(
                _CLOSE_CHECK,
                [
                    {"b_position": p, "b_citation": c, "b_recorded_from": r, "b_recorded_to": at}
                    for (p, c, r), at in self._closed.items()
                ],
            )
        if self._new:
            await self._conn.execute(_INSERT_CHECKS, [check_values(c) for c in self._new.values()])
        self._closed_attachments, self._new_attachments = {}, {}
        self._closed, self._new = {}, {}


def _known(table: Any, known_at: Any) -> Any:
    return and_(table.c.recorded_from <= known_at, table.c.recorded_to > known_at)


# Built once (every append with a quote asks the first, every read of events the second): made
# per call, the statement's construction cost more than the read.
_ATTACHMENTS_AMONG = constant(
    select(attachments)
    .where(
        attachments.c.source.in_(bindparam("sources", expanding=True)),
        _known(attachments, bindparam("known_at")),
    )
    .order_by(attachments.c.source)
)
_CHECKS_AMONG = constant(
    select(checks)
    .where(
        checks.c.position.in_(bindparam("positions", expanding=True)),
        _known(checks, bindparam("known_at")),
    )
    .order_by(checks.c.position, checks.c.citation)
)


class SqlVerificationReads:
    """The model's reads over a SQL database."""

    _reading: Reading

    async def attachments_among(self, sources: Sequence[str], known_at: int) -> list[Attachment]:
        if not sources:
            return []
        wanted = {"sources": sorted(set(sources)), "known_at": known_at}
        async with self._reading() as conn:
            return [attachment_of_row(r) for r in await conn.execute(_ATTACHMENTS_AMONG, wanted)]

    async def checks(self, positions: Sequence[int], known_at: int) -> list[Check]:
        if not positions:
            return []
        wanted = {"positions": sorted(set(positions)), "known_at": known_at}
        async with self._reading() as conn:
            return [check_of_row(r) for r in await conn.execute(_CHECKS_AMONG, wanted)]

    async def failures(
        self, source: str, known_at: int, after: tuple[int, int] | None, limit: int
    ) -> list[Check]:
        stmt = select(checks).where(
            checks.c.source == source, checks.c.verified == ~true(), _known(checks, known_at)
        )
        if after is not None:
            stmt = stmt.where(tuple_(checks.c.position, checks.c.citation) > tuple_(*after))
        stmt = stmt.order_by(checks.c.position, checks.c.citation).limit(limit)
        async with self._reading() as conn:
            return [check_of_row(r) for r in await conn.execute(stmt)]

    async def check_counts(self, source: str, known_at: int) -> tuple[int, int]:
        stmt = (
            select(checks.c.verified, func.count())
            .where(checks.c.source == source, _known(checks, known_at))
            .group_by(checks.c.verified)
        )
        async with self._reading() as conn:
            counts = {bool(v): int(n) for v, n in await conn.execute(stmt)}
        return counts.get(True, 0), counts.get(False, 0)

    async def text(self, sha256: str) -> str | None:
        async with self._reading() as conn:
            found = await conn.scalar(_TEXT, {"sha256": sha256})
        return None if found is None else str(found)
