"""Wire shapes of webhook subscriptions and their delivery attempts."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import msgspec

from api.schemas import Instant, Stream, Strict
from domain.vocabulary import PRINTABLE_PATTERN, Slug

TypeName = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


class FilterIn(Strict):
    """Which events a subscription receives; every field narrows, none means all."""

    stream: Stream | None = None
    type: Annotated[list[TypeName], msgspec.Meta(max_length=50)] | None = None
    actor: Slug | None = None
    proposal: Slug | None = None


class SubscriptionIn(Strict):
    """A webhook receiver to add."""

    url: Annotated[
        str,
        msgspec.Meta(
            min_length=1,
            max_length=2048,
            description="An http(s) URL; private, loopback and link-local addresses are refused.",
            examples=["https://newsroom.example/hooks/timeline"],
        ),
    ]
    filter: FilterIn | None = None
    description: Annotated[str, msgspec.Meta(max_length=500, pattern=PRINTABLE_PATTERN)] | None = (
        None
    )
    after: (
        Annotated[
            int,
            msgspec.Meta(
                ge=0,
                le=2**53,
                description="Deliver events after this log position (default: the head now).",
            ),
        ]
        | None
    ) = None


class SubscriptionOut(msgspec.Struct, kw_only=True):
    """A subscription and where its deliveries stand; never its secret."""

    id: str
    url: str
    filter: dict[str, str | list[str]]
    description: str | None
    status: str
    disabled_reason: str | None
    created_at: Instant
    changed_at: Instant
    cursor: int
    failed_attempts: int
    next_attempt_at: Instant
    previous_secret_expires_at: Annotated[
        Instant | None,
        msgspec.Meta(
            description=(
                "Until when the secret replaced by the last rotation still signs deliveries "
                "beside the current one; null when only the current one signs."
            )
        ),
    ]


class SubscriptionCreatedOut(SubscriptionOut, kw_only=True):
    """A new subscription with its signing secret, which is shown only this once."""

    secret: str


class SubscriptionSecretOut(SubscriptionOut, kw_only=True):
    """A subscription with the new signing secret a rotation gave it, shown only this once."""

    secret: str


class SubscriptionPage(msgspec.Struct, kw_only=True):
    """Subscriptions, oldest first."""

    items: list[SubscriptionOut]


class DeliveryOut(msgspec.Struct, kw_only=True):
    """One attempt to deliver one event."""

    id: int
    event_id: UUID
    position: int
    attempt: int
    attempted_at: Instant
    outcome: str
    status_code: int | None
    latency_ms: float
    error: str | None
    next_attempt_at: Instant | None


class DeliveryPage(msgspec.Struct, kw_only=True):
    """Delivery attempts, newest first; `next` is the URL of older ones, or null."""

    items: list[DeliveryOut]
    next: str | None
