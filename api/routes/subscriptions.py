"""Webhook subscriptions: add one (its secret shown once), read, list, delete, reactivate, rotate
its secret (the new one shown once), and every delivery attempt made for it. A key sees its own
subscriptions; an admin key sees all."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from litestar import Request, Response, delete, get, post
from litestar.exceptions import NotFoundException
from litestar.params import QueryParameter

from api.auth import KEY_STATE, requires
from api.bodies import json_body, strict_body
from api.callbacks import CallbackRefused, check_callback
from api.dependencies import AppServices
from api.feed_filter import FeedFilter
from api.parameters import SubscriptionId
from api.problems import ApiProblem, problem_specs
from api.subscription_schemas import (
    DeliveryOut,
    DeliveryPage,
    FilterIn,
    SubscriptionCreatedOut,
    SubscriptionIn,
    SubscriptionOut,
    SubscriptionPage,
    SubscriptionSecretOut,
)
from domain.event_types import EVENT_TYPES
from domain.valid_time import format_instant
from domain.webhooks import overlap_end
from store.keys import ApiKey
from store.subscriptions import DeliveryAttempt, Subscription

MAX_PAGE = 500
GUARDED: dict[str, Any] = {
    "guards": [requires("subscriptions:write")],
    "security": [{"bearer": []}],
    "tags": ["webhooks"],
}


@post(
    "/subscriptions",
    operation_id="createSubscription",
    summary="Subscribe a URL to webhooks",
    description=(
        "Events matching the filter that are appended after the subscription (or after "
        "`after`) are POSTed to `url`, signed per Standard Webhooks (`webhook-id` is the event "
        "id). The signing secret is in this response only."
    ),
    status_code=201,
    responses=problem_specs(400, 401, 403, 413, 415, 422, 429, 503),
    **GUARDED,
)
async def create_subscription(
    request: Request[Any, Any, Any],
    services: AppServices,
) -> Response[SubscriptionCreatedOut]:
    """Check the callback URL, then store the subscription."""
    body = strict_body(await json_body(request), SubscriptionIn)
    wanted = _filter(body.filter)
    try:
        await check_callback(body.url, allow_private=request.app.state.webhooks.allow_private)
    except CallbackRefused as refused:
        raise ApiProblem.bad_body("url", str(refused)) from None
    head = await services.store.head()
    if body.after is not None and body.after > head:
        raise ApiProblem.bad_body("after", f"the log's head is {head}; `after` cannot be beyond it")
    key: ApiKey = request.state[KEY_STATE]
    made = await services.subscriptions.create(
        owner=key.id,
        url=body.url,
        filter=wanted.to_json(),
        description=body.description,
        cursor=head if body.after is None else body.after,
        now=services.clock(),
    )
    request.app.state.notifier.notify(head)
    return Response(
        SubscriptionCreatedOut(secret=made.secret, **_fields(made, services.clock())),
        status_code=201,
        headers={"Location": f"/v1/subscriptions/{made.id}"},
    )


@get(
    "/subscriptions",
    operation_id="listSubscriptions",
    summary="Your webhook subscriptions",
    responses=problem_specs(401, 403, 503),
    **GUARDED,
)
async def list_subscriptions(
    request: Request[Any, Any, Any], services: AppServices
) -> SubscriptionPage:
    """The key's own subscriptions (every one for an admin key), oldest first."""
    key: ApiKey = request.state[KEY_STATE]
    owner = None if "admin" in key.scopes else key.id
    found = await services.subscriptions.live(owner)
    now = services.clock()
    return SubscriptionPage(items=[subscription_out(s, now) for s in found])


@get(
    "/subscriptions/{subscription_id:str}",
    operation_id="getSubscription",
    summary="One webhook subscription and where its deliveries stand",
    responses=problem_specs(400, 401, 403, 404, 503),
    **GUARDED,
)
async def get_subscription(
    request: Request[Any, Any, Any], services: AppServices, subscription_id: SubscriptionId
) -> SubscriptionOut:
    """A subscription, without its secret."""
    return subscription_out(await _owned(request, services, subscription_id), services.clock())


@delete(
    "/subscriptions/{subscription_id:str}",
    operation_id="deleteSubscription",
    summary="Stop a webhook subscription for good",
    status_code=204,
    responses=problem_specs(400, 401, 403, 404, 429, 503),
    **GUARDED,
)
async def delete_subscription(
    request: Request[Any, Any, Any], services: AppServices, subscription_id: SubscriptionId
) -> None:
    """No more deliveries; the record of past attempts stays."""
    await _owned(request, services, subscription_id)
    if not await services.subscriptions.delete(subscription_id, services.clock()):
        raise NotFoundException(f"no subscription {subscription_id!r}")


@post(
    "/subscriptions/{subscription_id:str}/reactivate",
    operation_id="reactivateSubscription",
    summary="Resume a disabled subscription",
    description="Deliveries restart at the event it stopped on, with a fresh retry schedule.",
    status_code=200,
    responses=problem_specs(400, 401, 403, 404, 429, 503),
    **GUARDED,
)
async def reactivate_subscription(
    request: Request[Any, Any, Any], services: AppServices, subscription_id: SubscriptionId
) -> SubscriptionOut:
    """Set it active again and wake the delivery workers."""
    await _owned(request, services, subscription_id)
    await services.subscriptions.reactivate(subscription_id, services.clock())
    request.app.state.notifier.notify(await services.store.head())
    return subscription_out(await _owned(request, services, subscription_id), services.clock())


@post(
    "/subscriptions/{subscription_id:str}/rotate-secret",
    operation_id="rotateSubscriptionSecret",
    summary="Give a subscription a new signing secret",
    description=(
        "The new secret is in this response only. The secret it replaces goes on signing "
        "deliveries beside it — `webhook-signature` then carries both signatures, the new one "
        "first — until `previous_secret_expires_at` (TIMELINE_WEBHOOK_SECRET_OVERLAP seconds "
        "later, a day by default), so the receiver can switch to the new secret at any moment "
        "in between; after that only the new one signs. Rotating again within the overlap "
        "ends the older secret at once."
    ),
    status_code=200,
    responses=problem_specs(400, 401, 403, 404, 429, 503),
    **GUARDED,
)
async def rotate_subscription_secret(
    request: Request[Any, Any, Any], services: AppServices, subscription_id: SubscriptionId
) -> SubscriptionSecretOut:
    """Replace the signing secret; the old one overlaps for the configured time."""
    await _owned(request, services, subscription_id)
    now = services.clock()
    rotated = await services.subscriptions.rotate_secret(
        subscription_id,
        now=now,
        overlap=timedelta(seconds=request.app.state.webhooks.secret_overlap),
    )
    if rotated is None:  # deleted since it was looked up
        raise NotFoundException(f"no subscription {subscription_id!r}")
    return SubscriptionSecretOut(secret=rotated.secret, **_fields(rotated, now))


@get(
    "/subscriptions/{subscription_id:str}/deliveries",
    operation_id="listDeliveries",
    summary="Every delivery attempt for a subscription, newest first",
    description=(
        "Attempts are kept for TIMELINE_DELIVERY_RETENTION seconds (30 days by default); those "
        "at the event the subscription has still to get past are kept until it does."
    ),
    responses=problem_specs(400, 401, 403, 404, 503),
    **GUARDED,
)
async def list_deliveries(
    request: Request[Any, Any, Any],
    services: AppServices,
    subscription_id: SubscriptionId,
    limit: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE)] = 100,
    before: Annotated[
        int | None, QueryParameter(ge=1, le=2**53, description="Attempts older than this id.")
    ] = None,
) -> DeliveryPage:
    """A page of attempts with a link to older ones."""
    await _owned(request, services, subscription_id)
    found = await services.subscriptions.attempts(subscription_id, before=before, limit=limit)
    older = (
        f"/v1/subscriptions/{subscription_id}/deliveries?limit={limit}&before={found[-1].id}"
        if len(found) == limit
        else None
    )
    return DeliveryPage(items=[delivery_out(a) for a in found], next=older)


def subscription_out(subscription: Subscription, now: datetime) -> SubscriptionOut:
    """The wire form of a subscription as it stands at `now`, without its secret."""
    return SubscriptionOut(**_fields(subscription, now))


def delivery_out(attempt: DeliveryAttempt) -> DeliveryOut:
    """The wire form of one delivery attempt."""
    return DeliveryOut(
        id=attempt.id,
        event_id=attempt.event_id,
        position=attempt.position,
        attempt=attempt.attempt,
        attempted_at=format_instant(attempt.attempted_at),
        outcome=attempt.outcome,
        status_code=attempt.status_code,
        latency_ms=round(attempt.latency_ms, 3),
        error=attempt.error,
        next_attempt_at=None
        if attempt.next_attempt_at is None
        else format_instant(attempt.next_attempt_at),
    )


def _fields(subscription: Subscription, now: datetime) -> dict[str, Any]:
    ends = overlap_end(subscription.previous_secret, subscription.previous_secret_until, now)
    return {
        "id": subscription.id,
        "url": subscription.url,
        "filter": subscription.filter,
        "description": subscription.description,
        "status": subscription.status,
        "disabled_reason": subscription.disabled_reason,
        "created_at": format_instant(subscription.created_at),
        "changed_at": format_instant(subscription.changed_at),
        "cursor": subscription.cursor,
        "failed_attempts": subscription.attempts,
        "next_attempt_at": format_instant(subscription.next_attempt_at),
        "previous_secret_expires_at": None if ends is None else format_instant(ends),
    }


async def _owned(
    request: Request[Any, Any, Any], services: AppServices, subscription_id: str
) -> Subscription:
    key: ApiKey = request.state[KEY_STATE]
    found = await services.subscriptions.get(subscription_id)
    if found is None or (found.owner != key.id and "admin" not in key.scopes):
        raise NotFoundException(f"no subscription {subscription_id!r}")
    return found


def _filter(given: FilterIn | None) -> FeedFilter:
    if given is None:
        return FeedFilter()
    unknown = [name for name in given.type or () if name not in EVENT_TYPES]
    if unknown:
        raise ApiProblem.bad_body("filter.type", f"unknown event types: {', '.join(unknown)}")
    return FeedFilter(
        stream=given.stream,
        types=tuple(given.type or ()),
        actor=given.actor,
        proposal=given.proposal,
    )
