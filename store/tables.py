"""The database schema, as SQLModel tables; Alembic migrations are generated from these."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from uuid import UUID

import msgspec
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

# 64-bit on PostgreSQL; plain INTEGER on SQLite so the key stays a rowid alias.
BigInt = BigInteger().with_variant(Integer(), "sqlite")
Json = JSON().with_variant(JSONB(), "postgresql")


_decode_json = msgspec.json.Decoder().decode


def json_value(value: Any) -> Any:
    """JSON text decoded as json.loads decodes it (SQLAlchemy's JSON type on SQLite), in a
    third of its time: msgspec reads what is valid JSON alike, and refuses the rest (NaN, a
    number out of range, a lone surrogate), which json.loads then reads as it always did."""
    if not isinstance(value, str | bytes):
        return value  # None, or a number from a JSON function
    try:
        return _decode_json(value)
    except msgspec.DecodeError:
        return json.loads(value)


class CompactJson(TypeDecorator[Any]):
    """A JSON value stored as text in the API's own compact encoding (msgspec's), on every
    backend: a read that sends the value on as it is needs no decoding and re-encoding (JSONB
    would give it back re-spaced and with its keys reordered)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else compact_json(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        return json_value(value)  # text written before this type was json.dumps's: read alike


def compact_json(value: Any) -> str:
    """A value as CompactJson stores it: the bytes `msgspec.json.encode` gives, as text."""
    return msgspec.json.encode(value).decode()


def json_text(column_type: Any) -> Callable[[Any], str] | None:
    """How a column's values are written as text by a bulk insert on the bare driver, so the
    stored text is what SQLAlchemy's own type would have stored; None for a column that is not
    JSON."""
    if isinstance(column_type, CompactJson):
        return compact_json
    if isinstance(column_type, JSON):
        return json.dumps  # as SQLAlchemy's JSON type serialises
    return None


class EventRow(SQLModel, table=True):
    """One event of the log. Never updated, never deleted: triggers refuse both."""

    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("stream", "stream_version", name="uq_events_stream_version"),
        UniqueConstraint("id", name="uq_events_id"),
        Index("ix_events_type_position", "type", "position"),
    )

    position: int = Field(sa_column=Column(BigInt, primary_key=True, autoincrement=False))
    id: UUID = Field(sa_column=Column(Uuid(), nullable=False))
    stream: str = Field(sa_column=Column(String(200), nullable=False))
    stream_version: int = Field(sa_column=Column(Integer(), nullable=False))
    type: str = Field(sa_column=Column(String(100), nullable=False))
    schema_version: int = Field(sa_column=Column(Integer(), nullable=False))
    occurred_at: str = Field(sa_column=Column(String(100), nullable=False))
    occurred_timezone: str = Field(sa_column=Column(String(64), nullable=False))
    occurred_earliest: int = Field(sa_column=Column(BigInteger(), nullable=False))
    occurred_latest: int = Field(sa_column=Column(BigInteger(), nullable=False))
    occurred_precision: str = Field(sa_column=Column(String(10), nullable=False))
    occurred_qualifiers: list[str] = Field(sa_column=Column(Json, nullable=False))
    recorded_at: int = Field(sa_column=Column(BigInteger(), nullable=False))
    actors: list[str] = Field(sa_column=Column(Json, nullable=False))
    payload: dict[str, Any] = Field(sa_column=Column(Json, nullable=False))
    sources: list[dict[str, Any]] = Field(sa_column=Column(Json, nullable=False))
    codes: dict[str, Any] | None = Field(default=None, sa_column=Column(Json, nullable=True))
    meta: dict[str, Any] = Field(sa_column=Column("metadata", Json, nullable=False))
    # sha256 of the predecessor's hash and this row's content (domain.chain): tamper evidence.
    hash: str = Field(sa_column=Column(String(64), nullable=False))


class EventRefRow(SQLModel, table=True):
    """What an event points at (actor, proposal, cited source, editorial target, registration)."""

    __tablename__ = "event_refs"

    kind: str = Field(sa_column=Column(String(20), primary_key=True))
    ref: str = Field(sa_column=Column(String(200), primary_key=True))
    position: int = Field(sa_column=Column(BigInt, primary_key=True, autoincrement=False))


class ApiKeyRow(SQLModel, table=True):
    """An API key: only the SHA-256 of the secret is kept."""

    __tablename__ = "api_keys"

    id: str = Field(sa_column=Column(String(32), primary_key=True))
    name: str = Field(sa_column=Column(String(200), nullable=False))
    secret_hash: str = Field(sa_column=Column(String(64), nullable=False))
    scopes: list[str] = Field(sa_column=Column(Json, nullable=False))
    created_at: int = Field(sa_column=Column(BigInteger(), nullable=False))
    revoked_at: int | None = Field(default=None, sa_column=Column(BigInteger(), nullable=True))


class IdempotencyRow(SQLModel, table=True):
    """The first response to a POST made with an Idempotency-Key, replayed for retries."""

    __tablename__ = "idempotency_records"

    api_key_id: str = Field(sa_column=Column(String(32), primary_key=True))
    key: str = Field(sa_column=Column(String(255), primary_key=True))
    request_hash: str = Field(sa_column=Column(String(64), nullable=False))
    status_code: int = Field(sa_column=Column(Integer(), nullable=False))
    response: dict[str, Any] = Field(sa_column=Column(Json, nullable=False))
    created_at: int = Field(sa_column=Column(BigInteger(), nullable=False))


class PositionRow(SQLModel, table=True):
    """One bitemporal row of a party's position: valid over [valid_from, valid_to) as known
    over [recorded_from, recorded_to), in UTC microseconds; open ends hold the largest bigint."""

    __tablename__ = "positions"
    __table_args__ = (
        Index("ix_positions_proposal", "proposal", "actor", "valid_from"),
        Index("ix_positions_open", "actor", "proposal", "recorded_to"),
    )

    actor: str = Field(sa_column=Column(String(100), primary_key=True))
    proposal: str = Field(sa_column=Column(String(100), primary_key=True))
    valid_from: int = Field(sa_column=Column(BigInteger(), primary_key=True, autoincrement=False))
    recorded_from: int = Field(
        sa_column=Column(BigInteger(), primary_key=True, autoincrement=False)
    )
    valid_to: int = Field(sa_column=Column(BigInteger(), nullable=False))
    recorded_to: int = Field(sa_column=Column(BigInteger(), nullable=False))
    # As the API shows it: a position read sends it on without decoding it.
    state: dict[str, Any] = Field(sa_column=Column(CompactJson, nullable=False))


class CheckpointRow(SQLModel, table=True):
    """How far in the log a projection has read, written in the same transaction as its rows,
    and the version of the code that wrote them (a model whose code is newer is rebuilt)."""

    __tablename__ = "projection_checkpoints"

    name: str = Field(sa_column=Column(String(50), primary_key=True))
    position: int = Field(sa_column=Column(BigInteger(), nullable=False))
    version: int = Field(sa_column=Column(Integer(), nullable=False, server_default="1"))


class EffectiveEventRow(SQLModel, table=True):
    """One version of a world or registration event as the editorial events leave it: its
    corrected valid time and payload, its disputes and retractions. Known over
    [recorded_from, recorded_to) in UTC microseconds; the open version has the largest bigint.
    The timeline, the sources and the registries read it; the event itself stays in `events`."""

    __tablename__ = "effective_events"
    __table_args__ = (
        Index("ix_effective_valid", "kind", "valid_earliest", "position"),
        Index("ix_effective_proposal", "kind", "proposal", "valid_earliest", "position"),
        Index("ix_effective_subject", "subject", "recorded_to"),
        Index("ix_effective_outlets", "kind", "outlets", "valid_earliest", "position"),
    )

    position: int = Field(sa_column=Column(BigInteger(), primary_key=True, autoincrement=False))
    recorded_from: int = Field(
        sa_column=Column(BigInteger(), primary_key=True, autoincrement=False)
    )
    recorded_to: int = Field(sa_column=Column(BigInteger(), nullable=False))
    kind: str = Field(sa_column=Column(String(20), nullable=False))
    type: str = Field(sa_column=Column(String(100), nullable=False))
    # What a registration registers or changes (`actor:x`, `proposal:x`, `source:x`).
    subject: str | None = Field(default=None, sa_column=Column(String(200), nullable=True))
    proposal: str | None = Field(default=None, sa_column=Column(String(100), nullable=True))
    valid_earliest: int = Field(sa_column=Column(BigInteger(), nullable=False))
    valid_latest: int = Field(sa_column=Column(BigInteger(), nullable=False))
    retracted: bool = Field(sa_column=Column(Boolean(), nullable=False))
    state: dict[str, Any] = Field(sa_column=Column(Json, nullable=False))
    # How many distinct outlets a world event's citations come from (0 for other events).
    outlets: int = Field(default=0, sa_column=Column(Integer(), nullable=False, server_default="0"))


_effective = EffectiveEventRow.__table__  # type: ignore[attr-defined]
# The longest valid time of any version, found in one index step: a window's read starts that
# far before the window, not at the start of time.
Index(
    "ix_effective_span", _effective.c.kind, _effective.c.valid_latest - _effective.c.valid_earliest
)


class EffectiveActorRow(SQLModel, table=True):
    """Which actors a version of a world event is about: the timeline's index by actor."""

    __tablename__ = "effective_event_actors"
    __table_args__ = (Index("ix_effective_actors_version", "position", "recorded_from"),)

    actor: str = Field(sa_column=Column(String(100), primary_key=True))
    valid_earliest: int = Field(
        sa_column=Column(BigInteger(), primary_key=True, autoincrement=False)
    )
    position: int = Field(sa_column=Column(BigInteger(), primary_key=True, autoincrement=False))
    recorded_from: int = Field(
        sa_column=Column(BigInteger(), primary_key=True, autoincrement=False)
    )
    recorded_to: int = Field(sa_column=Column(BigInteger(), nullable=False))
    retracted: bool = Field(sa_column=Column(Boolean(), nullable=False))


class RegistryRow(SQLModel, table=True):
    """An actor or a proposal as it stands over [valid_from, valid_to) of valid time, as known
    over [recorded_from, recorded_to): the fold of its registration and its changes."""

    __tablename__ = "registry"
    __table_args__ = (Index("ix_registry_open", "kind", "subject", "recorded_to"),)

    kind: str = Field(sa_column=Column(String(20), primary_key=True))
    subject: str = Field(sa_column=Column(String(100), primary_key=True))
    valid_from: int = Field(sa_column=Column(BigInteger(), primary_key=True, autoincrement=False))
    recorded_from: int = Field(
        sa_column=Column(BigInteger(), primary_key=True, autoincrement=False)
    )
    valid_to: int = Field(sa_column=Column(BigInteger(), nullable=False))
    recorded_to: int = Field(sa_column=Column(BigInteger(), nullable=False))
    state: dict[str, Any] = Field(sa_column=Column(Json, nullable=False))


class SourceTextRow(SQLModel, table=True):
    """An article's text, content-addressed: kept beside the log (part of the record, exported
    with it), never served publicly. A SourceTextAttached event names it by its SHA-256."""

    __tablename__ = "source_texts"

    sha256: str = Field(sa_column=Column(String(64), primary_key=True))
    characters: int = Field(sa_column=Column(Integer(), nullable=False))
    text: str = Field(sa_column=Column(Text(), nullable=False))


class TextAttachmentRow(SQLModel, table=True):
    """Which text a source has, known over [recorded_from, recorded_to): the quote-verification
    read model's record of each SourceTextAttached (a later one closes the one before)."""

    __tablename__ = "source_text_attachments"
    __table_args__ = (Index("ix_text_attachments_open", "source", "recorded_to"),)

    source: str = Field(sa_column=Column(String(100), primary_key=True))
    recorded_from: int = Field(
        sa_column=Column(BigInteger(), primary_key=True, autoincrement=False)
    )
    recorded_to: int = Field(sa_column=Column(BigInteger(), nullable=False))
    position: int = Field(sa_column=Column(BigInteger(), nullable=False))
    sha256: str = Field(sa_column=Column(String(64), nullable=False))
    characters: int = Field(sa_column=Column(Integer(), nullable=False))


class CitationCheckRow(SQLModel, table=True):
    """Whether one citation's quote (the `citation`-th source of the event at `position`) occurs
    in its source's text, and where (character offsets into that text, half-open; `fragments`
    when an ellipsis split it), known over [recorded_from, recorded_to). Only quoted citations
    of sources with a text have rows. A payload's quote has rows with `citation` = -1 - j (j
    the index of the first citation of `source`): one verified row for the text holding it, or
    a failed row per cited source when each has a text and none holds it
    (`store.read_models.verification`)."""

    __tablename__ = "citation_checks"
    __table_args__ = (
        Index("ix_citation_checks_source", "source", "recorded_to", "verified", "position"),
    )

    position: int = Field(sa_column=Column(BigInteger(), primary_key=True, autoincrement=False))
    citation: int = Field(sa_column=Column(Integer(), primary_key=True, autoincrement=False))
    recorded_from: int = Field(
        sa_column=Column(BigInteger(), primary_key=True, autoincrement=False)
    )
    recorded_to: int = Field(sa_column=Column(BigInteger(), nullable=False))
    source: str = Field(sa_column=Column(String(100), nullable=False))
    sha256: str = Field(sa_column=Column(String(64), nullable=False))
    verified: bool = Field(sa_column=Column(Boolean(), nullable=False))
    span_start: int | None = Field(default=None, sa_column=Column(Integer(), nullable=True))
    span_end: int | None = Field(default=None, sa_column=Column(Integer(), nullable=True))
    fragments: list[list[int]] = Field(sa_column=Column(Json, nullable=False))


class SubscriptionRow(SQLModel, table=True):
    """A webhook subscription, with its delivery cursor and retry state (an outbox per receiver).

    `cursor` is the last log position handled (delivered or filtered out); `attempts` counts the
    failed attempts at the event after it; a worker holds `lease_token` until `leased_until`.
    After a rotation, `previous_secret` signs beside `secret` until `previous_secret_until`."""

    __tablename__ = "subscriptions"
    __table_args__ = (Index("ix_subscriptions_due", "status", "next_attempt_at"),)

    id: str = Field(sa_column=Column(String(40), primary_key=True))
    owner: str = Field(sa_column=Column(String(32), nullable=False, index=True))
    url: str = Field(sa_column=Column(String(2048), nullable=False))
    filter: dict[str, Any] = Field(sa_column=Column(Json, nullable=False))
    description: str | None = Field(default=None, sa_column=Column(String(500), nullable=True))
    secret: str = Field(sa_column=Column(String(100), nullable=False))
    status: str = Field(sa_column=Column(String(20), nullable=False))
    disabled_reason: str | None = Field(default=None, sa_column=Column(String(1000)))
    created_at: int = Field(sa_column=Column(BigInteger(), nullable=False))
    changed_at: int = Field(sa_column=Column(BigInteger(), nullable=False))
    cursor: int = Field(sa_column=Column(BigInteger(), nullable=False))
    attempts: int = Field(sa_column=Column(Integer(), nullable=False))
    next_attempt_at: int = Field(sa_column=Column(BigInteger(), nullable=False))
    leased_until: int = Field(sa_column=Column(BigInteger(), nullable=False))
    lease_token: str | None = Field(default=None, sa_column=Column(String(32), nullable=True))
    previous_secret: str | None = Field(default=None, sa_column=Column(String(100), nullable=True))
    previous_secret_until: int | None = Field(default=None, sa_column=Column(BigInteger()))


class DeliveryRow(SQLModel, table=True):
    """One attempt to deliver one event to one subscription."""

    __tablename__ = "deliveries"
    __table_args__ = (
        Index("ix_deliveries_subscription", "subscription_id", "id"),
        # The retention prune walks attempts oldest first.
        Index("ix_deliveries_attempted_at", "attempted_at"),
    )

    id: int = Field(sa_column=Column(BigInt, primary_key=True, autoincrement=True))
    subscription_id: str = Field(
        sa_column=Column(String(40), ForeignKey("subscriptions.id"), nullable=False)
    )
    position: int = Field(sa_column=Column(BigInteger(), nullable=False))
    event_id: UUID = Field(sa_column=Column(Uuid(), nullable=False))
    attempt: int = Field(sa_column=Column(Integer(), nullable=False))
    attempted_at: int = Field(sa_column=Column(BigInteger(), nullable=False))
    outcome: str = Field(sa_column=Column(String(20), nullable=False))
    status_code: int | None = Field(default=None, sa_column=Column(Integer(), nullable=True))
    latency_ms: float = Field(sa_column=Column(Float(), nullable=False))
    error: str | None = Field(default=None, sa_column=Column(String(1000), nullable=True))
    next_attempt_at: int | None = Field(default=None, sa_column=Column(BigInteger()))


class RateWindowRow(SQLModel, table=True):
    """How many writes one API key made in one fixed window, shared by every API process."""

    __tablename__ = "rate_windows"

    key_id: str = Field(sa_column=Column(String(32), primary_key=True))
    window_start: int = Field(sa_column=Column(BigInteger(), primary_key=True, autoincrement=False))
    count: int = Field(sa_column=Column(Integer(), nullable=False))


class DeskSessionRow(SQLModel, table=True):
    """An editor's desk session: only the SHA-256 of its secret is kept, as for API keys."""

    __tablename__ = "desk_sessions"

    id: str = Field(sa_column=Column(String(32), primary_key=True))
    secret_hash: str = Field(sa_column=Column(String(64), nullable=False))
    key_id: str = Field(
        sa_column=Column(String(32), ForeignKey("api_keys.id"), nullable=False, index=True)
    )
    created_at: int = Field(sa_column=Column(BigInteger(), nullable=False))
    last_seen_at: int = Field(sa_column=Column(BigInteger(), nullable=False))
    revoked_at: int | None = Field(default=None, sa_column=Column(BigInteger(), nullable=True))


metadata = SQLModel.metadata
