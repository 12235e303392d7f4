"""Builders for events with sensible defaults: say only what a test is about."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from domain.drafts import EventDraft, draft_from_json

NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)


def raw_source(source: str = "notus", **payload: Any) -> dict[str, Any]:
    """A SourceRegistered draft as a client sends it."""
    return {
        "id": str(uuid4()),
        "type": "SourceRegistered",
        "occurred_at": "2025-03-13",
        "payload": {
            "source": source,
            "outlet": "NOTUS",
            "headline": "Russia Muddies Position",
            "published_on": "2025-03-13",
            **payload,
        },
        "sources": [],
    }


def raw_actor(actor: str = "russia", **payload: Any) -> dict[str, Any]:
    """An ActorRegistered draft as a client sends it."""
    return {
        "id": str(uuid4()),
        "type": "ActorRegistered",
        "occurred_at": "1991-12-25",
        "payload": {"actor": actor, "name": actor.title(), "kind": "state", **payload},
    }


def raw_position(
    actor: str = "russia",
    stance: str = "rejected",
    *,
    source: str = "notus",
    occurred_at: str = "2025-03-13",
    timezone: str | None = "Europe/Moscow",
    quote: str | None = None,
    **payload: Any,
) -> dict[str, Any]:
    """A PositionStated draft as a client sends it, citing one source."""
    raw: dict[str, Any] = {
        "id": str(uuid4()),
        "type": "PositionStated",
        "occurred_at": occurred_at,
        "payload": {
            "actor": actor,
            "proposal": "us-30-day-ceasefire-2025",
            "stance": stance,
            **payload,
        },
        "sources": [{"source": source, **({"quote": quote} if quote else {})}],
    }
    if timezone is not None:
        raw["timezone"] = timezone
    return raw


def raw_editorial(kind: str, target: str | UUID, **payload: Any) -> dict[str, Any]:
    """An EventCorrected / EventRetracted / EventDisputed draft aimed at a target."""
    return {
        "id": str(uuid4()),
        "type": kind,
        "occurred_at": "2025-03-14",
        "payload": {"target": str(target), "reason": "a test says so", **payload},
    }


def draft(raw: dict[str, Any] | None = None, *, now: datetime = NOW) -> EventDraft:
    """A checked draft from a raw one (a PositionStated by default)."""
    return draft_from_json(raw or raw_position(), now=now, default_id=uuid4())


def drafts(count: int, **position: Any) -> list[EventDraft]:
    """Several PositionStated drafts."""
    return [draft(raw_position(**position)) for _ in range(count)]
