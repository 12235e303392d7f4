"""Webhook subscriptions over HTTP: create, read, list, delete, reactivate, delivery history,
and every refusal: missing scope, callback URLs into our own network, malformed bodies."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx
import pytest

from api.notifier import Notifier
from api.settings import WebhookSettings
from api.webhook_delivery import DeliveryWorker
from domain.valid_time import format_instant
from domain.webhooks import RetrySchedule
from store.ports import EventQuery
from store.subscriptions import DeliveryAttempt, Settlement
from tests.clock import FrozenClock
from tests.databases import SqliteDatabases
from tests.support.api import Api, bearer, problem, serving

URL = "https://93.184.216.34/hook"
LEASE = timedelta(seconds=30)


async def head(api: Api) -> int:
    return int((await api.client.get("/v1/health")).json()["head"])


async def subscribe(
    api: Api, body: Any = None, headers: dict[str, str] | None = None
) -> httpx.Response:
    """POST /v1/subscriptions; `body` defaults to the public URL alone, bytes are sent as is."""
    if body is None:
        body = {"url": URL}
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return await api.client.post(
        "/v1/subscriptions",
        content=content,
        headers={
            "Content-Type": "application/json",
            **(api.subscriber if headers is None else headers),
        },
    )


async def subscribed(api: Api, **body: Any) -> dict[str, Any]:
    """A new subscription (to URL unless `url` is given) as the create response shows it."""
    response = await subscribe(api, {"url": URL, **body})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def listed(api: Api, headers: dict[str, str] | None = None) -> list[str]:
    """The ids GET /v1/subscriptions shows to a key."""
    response = await api.client.get(
        "/v1/subscriptions", headers=api.subscriber if headers is None else headers
    )
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


async def other_key(api: Api, *scopes: str) -> dict[str, str]:
    """Bearer headers of a new key with these scopes."""
    _, token = await api.services.keys.create(
        "other", frozenset(scopes or {"subscriptions:write"}), api.services.clock()
    )
    return bearer(token)


def fields(body: dict[str, Any]) -> list[str]:
    return [e["field"] for e in body.get("errors") or []]


# Creating, reading, listing, deleting


async def test_subscribing_answers_201_with_the_secret_and_where_deliveries_start(
    api: Api,
) -> None:
    wanted = {"stream": "s", "type": ["PositionStated"]}
    response = await subscribe(api, {"url": URL, "filter": wanted})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["id"].startswith("sub_")
    assert response.headers["location"] == f"/v1/subscriptions/{body['id']}"
    assert body["secret"].startswith("whsec_")
    assert body["url"] == URL
    assert body["status"] == "active"
    assert body["disabled_reason"] is None
    assert body["filter"] == wanted
    assert body["cursor"] == await head(api) == 0
    assert body["failed_attempts"] == 0


async def test_the_cursor_starts_at_the_head_of_a_non_empty_log(seeded: Api) -> None:
    now = await head(seeded)
    assert now > 0
    assert (await subscribed(seeded))["cursor"] == now


async def test_after_zero_asks_for_the_whole_log(seeded: Api) -> None:
    assert (await subscribed(seeded, after=0))["cursor"] == 0


async def test_the_secret_is_shown_only_at_creation(api: Api) -> None:
    created = await subscribed(api, description="newsroom")
    response = await api.client.get(f"/v1/subscriptions/{created['id']}", headers=api.subscriber)
    assert response.status_code == 200, response.text
    shown = response.json()
    assert "secret" not in shown
    assert shown == {k: v for k, v in created.items() if k != "secret"}
    assert await listed(api) == [created["id"]]
    listing = (await api.client.get("/v1/subscriptions", headers=api.subscriber)).json()
    assert "secret" not in listing["items"][0]


async def test_another_key_cannot_see_or_touch_a_subscription(api: Api) -> None:
    sid = (await subscribed(api))["id"]
    stranger = await other_key(api)
    path = f"/v1/subscriptions/{sid}"
    problem(await api.client.get(path, headers=stranger), 404, "not-found")
    problem(await api.client.get(f"{path}/deliveries", headers=stranger), 404, "not-found")
    problem(await api.client.post(f"{path}/reactivate", headers=stranger), 404, "not-found")
    problem(await api.client.delete(path, headers=stranger), 404, "not-found")
    assert await listed(api, stranger) == []
    assert (await api.client.get(path, headers=api.subscriber)).status_code == 200


async def test_an_admin_key_sees_every_subscription(api: Api) -> None:
    sid = (await subscribed(api))["id"]
    admin = await other_key(api, "admin")
    assert (await api.client.get(f"/v1/subscriptions/{sid}", headers=admin)).status_code == 200
    assert await listed(api, admin) == [sid]


async def test_a_deleted_subscription_is_gone(api: Api) -> None:
    sid = (await subscribed(api))["id"]
    path = f"/v1/subscriptions/{sid}"
    deleted = await api.client.delete(path, headers=api.subscriber)
    assert deleted.status_code == 204, deleted.text
    problem(await api.client.get(path, headers=api.subscriber), 404, "not-found")
    problem(await api.client.delete(path, headers=api.subscriber), 404, "not-found")
    problem(await api.client.post(f"{path}/reactivate", headers=api.subscriber), 404, "not-found")
    assert await listed(api) == []


async def test_reactivating_leaves_an_active_subscription_active(api: Api) -> None:
    sid = (await subscribed(api))["id"]
    response = await api.client.post(f"/v1/subscriptions/{sid}/reactivate", headers=api.subscriber)
    assert response.status_code == 200, response.text
    assert response.json()["id"] == sid
    assert response.json()["status"] == "active"
    assert "secret" not in response.json()


async def test_reactivating_an_unknown_subscription_is_a_404(api: Api) -> None:
    response = await api.client.post(
        "/v1/subscriptions/sub_" + "0" * 24 + "/reactivate", headers=api.subscriber
    )
    problem(response, 404, "not-found")


# Rotating the signing secret


async def rotate(api: Api, sid: str, headers: dict[str, str] | None = None) -> httpx.Response:
    return await api.client.post(
        f"/v1/subscriptions/{sid}/rotate-secret",
        headers=api.subscriber if headers is None else headers,
    )


async def test_rotating_shows_the_new_secret_once_and_the_old_one_signs_a_day_more(
    api: Api, clock: FrozenClock
) -> None:
    created = await subscribed(api)
    assert created["previous_secret_expires_at"] is None
    clock.advance(hours=1)
    response = await rotate(api, created["id"])
    assert response.status_code == 200, response.text
    rotated = response.json()
    assert rotated["secret"].startswith("whsec_")
    assert rotated["secret"] != created["secret"]
    assert rotated["previous_secret_expires_at"] == format_instant(clock() + timedelta(days=1))
    assert rotated["changed_at"] == format_instant(clock())
    unchanged = ("id", "url", "filter", "status", "cursor", "failed_attempts", "created_at")
    assert {k: rotated[k] for k in unchanged} == {k: created[k] for k in unchanged}
    shown = await subscribed_state(api, created["id"])
    assert shown == {k: v for k, v in rotated.items() if k != "secret"}, "shown only once"
    stored = await api.services.subscriptions.get(created["id"])
    assert stored is not None
    assert (stored.secret, stored.previous_secret) == (rotated["secret"], created["secret"])

    clock.advance(days=1)
    assert (await subscribed_state(api, created["id"]))["previous_secret_expires_at"] is None


async def test_with_no_overlap_configured_the_old_secret_stops_at_once(
    sqlite_databases: SqliteDatabases, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TIMELINE_WEBHOOK_SECRET_OVERLAP", "0")
    async with serving(sqlite_databases.fresh(), clock) as api:
        created = await subscribed(api)
        response = await rotate(api, created["id"])
        assert response.status_code == 200, response.text
        assert response.json()["previous_secret_expires_at"] is None
        stored = await api.services.subscriptions.get(created["id"])
        assert stored is not None and stored.previous_secret is None


async def test_a_disabled_subscription_can_rotate_its_secret(api: Api) -> None:
    sid = (await subscribed(api))["id"]
    outbox, now = api.services.subscriptions, api.services.clock()
    held = await outbox.claim(head=1, now=now, lease=LEASE)
    assert held is not None
    stop = Settlement(cursor=0, attempts=1, next_attempt_at=now, status="disabled")
    assert await outbox.settle(held, stop, now=now, lease=None)
    response = await rotate(api, sid)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "disabled"


async def test_rotating_someone_elses_a_deleted_or_an_unknown_subscription_is_a_404(
    api: Api,
) -> None:
    created = await subscribed(api)
    sid = created["id"]
    problem(await rotate(api, sid, await other_key(api)), 404, "not-found")
    problem(await rotate(api, "sub_" + "0" * 24), 404, "not-found")
    stored = await api.services.subscriptions.get(sid)
    assert stored is not None
    assert (stored.secret, stored.previous_secret) == (created["secret"], None), "untouched"
    assert (await api.client.delete(f"/v1/subscriptions/{sid}", headers=api.subscriber)).is_success
    problem(await rotate(api, sid), 404, "not-found")


async def test_an_admin_key_may_rotate_any_subscription(api: Api) -> None:
    sid = (await subscribed(api))["id"]
    response = await rotate(api, sid, await other_key(api, "admin"))
    assert response.status_code == 200, response.text


async def test_a_malformed_subscription_id_is_a_400(api: Api) -> None:
    body = problem(await rotate(api, "sub_NOT-AN-ID"), 400, "invalid-parameter")
    assert fields(body) == ["subscription_id"]


async def test_the_contract_documents_the_rotation(api: Api) -> None:
    document = (await api.client.get("/v1/openapi.json")).json()
    operation = document["paths"]["/v1/subscriptions/{subscription_id}/rotate-secret"]["post"]
    assert operation["operationId"] == "rotateSubscriptionSecret"
    assert operation["security"] == [{"bearer": []}]
    assert {"200", "400", "401", "403", "404", "429", "503"} <= set(operation["responses"])
    for status in ("400", "401", "403", "404"):
        assert set(operation["responses"][status]["content"]) == {"application/problem+json"}
    answer = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    schema = document["components"]["schemas"][answer.rsplit("/", 1)[1]]
    assert {"secret", "previous_secret_expires_at"} <= set(schema["required"])
    shown = document["components"]["schemas"]["SubscriptionOut"]
    assert "secret" not in shown["properties"]
    assert "previous_secret_expires_at" in shown["required"]


# Authentication


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v1/subscriptions"),
        ("GET", "/v1/subscriptions"),
        ("GET", "/v1/subscriptions/sub_x"),
        ("DELETE", "/v1/subscriptions/sub_x"),
        ("POST", "/v1/subscriptions/sub_x/reactivate"),
        ("POST", "/v1/subscriptions/sub_x/rotate-secret"),
        ("GET", "/v1/subscriptions/sub_x/deliveries"),
    ],
)
async def test_every_route_needs_a_live_key_with_the_scope(
    api: Api, method: str, path: str
) -> None:
    async def call(headers: dict[str, str]) -> httpx.Response:
        content = json.dumps({"url": URL}).encode() if method == "POST" else None
        return await api.client.request(
            method,
            path,
            content=content,
            headers={"Content-Type": "application/json", **headers},
        )

    missing = problem(await call({}), 401, "unauthorized")
    assert missing["detail"]
    assert (await call({})).headers["www-authenticate"].startswith("Bearer")
    problem(await call({"Authorization": "Bearer tl_nope_nope"}), 401, "unauthorized")
    problem(await call(api.revoked), 401, "unauthorized")
    problem(await call(api.writer), 403, "forbidden")
    assert await listed(api) == []


# Callback URLs


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/x",
        "http://localhost:9/x",
        "http://[::1]/x",
        "http://[::ffff:127.0.0.1]/x",
        "http://2130706433/x",
        "http://10.0.0.1/x",
        "http://192.168.1.1/x",
        "http://169.254.169.254/latest",
        "http://0.0.0.0/",
        "http://100.64.0.1/x",
    ],
)
async def test_a_callback_into_our_own_network_is_refused(api: Api, url: str) -> None:
    body = problem(await subscribe(api, {"url": url}), 422, "invalid-request")
    assert fields(body) == ["url"]
    assert "resolves to" in body["errors"][0]["message"]
    assert "TIMELINE_WEBHOOK_ALLOW_PRIVATE" in body["detail"]
    assert await listed(api) == []


@pytest.mark.parametrize(
    "url",
    [
        "ftp://93.184.216.34/x",
        "file:///etc/passwd",
        "not a url",
        "https:///nohost",
        "https://93.184.216.34/hook#fragment",
        "https://93.184.216.34:99999/x",
        "",
        "https://" + "a" * 2050 + ".example/",
    ],
)
async def test_a_malformed_callback_url_is_refused(api: Api, url: str) -> None:
    body = problem(await subscribe(api, {"url": url}), 422, "invalid-request")
    assert fields(body) == ["url"]
    assert await listed(api) == []


async def test_a_url_of_2048_characters_is_the_longest_accepted(api: Api) -> None:
    exact = URL + "/" + "a" * (2048 - len(URL) - 1)
    assert len(exact) == 2048
    assert (await subscribe(api, {"url": exact})).status_code == 201
    problem(await subscribe(api, {"url": exact + "a"}), 422, "invalid-request")
    assert len(await listed(api)) == 1


# Bodies


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": URL, "surprise": True}, "surprise"),
        ({"filter": {}}, "url"),
        ({"url": 5}, "url"),
        ({"url": URL, "after": -1}, "after"),
        ({"url": URL, "after": "0"}, "after"),
        ({"url": URL, "filter": {"type": ["NoSuchType"]}}, "filter.type"),
        ({"url": URL, "filter": {"type": ["PositionStated", "NoSuchType"]}}, "filter.type"),
        ({"url": URL, "filter": {"type": "PositionStated"}}, "filter.type"),
        ({"url": URL, "filter": {"stream": "not a stream!"}}, "filter.stream"),
        ({"url": URL, "filter": {"colour": "red"}}, "filter.colour"),
        ({"url": URL, "filter": []}, "filter"),
        ({"url": URL, "description": "x" * 501}, "description"),
    ],
)
async def test_a_bad_body_names_its_field_and_writes_nothing(
    api: Api, body: dict[str, Any], field: str
) -> None:
    assert fields(problem(await subscribe(api, body), 422, "invalid-request")) == [field]
    assert await listed(api) == []


async def test_after_beyond_the_head_is_refused(seeded: Api) -> None:
    beyond = await head(seeded) + 1
    body = problem(await subscribe(seeded, {"url": URL, "after": beyond}), 422, "invalid-request")
    assert fields(body) == ["after"]
    assert await listed(seeded) == []


async def test_after_beyond_an_empty_log_is_refused(api: Api) -> None:
    body = problem(await subscribe(api, {"url": URL, "after": 1}), 422, "invalid-request")
    assert fields(body) == ["after"]
    assert await listed(api) == []


async def test_malformed_json_is_a_400(api: Api) -> None:
    problem(await subscribe(api, b"{"), 400, "malformed-json")
    assert await listed(api) == []


# Delivery history


async def test_a_new_subscription_has_no_deliveries(api: Api) -> None:
    sid = (await subscribed(api))["id"]
    response = await api.client.get(f"/v1/subscriptions/{sid}/deliveries", headers=api.subscriber)
    assert response.status_code == 200, response.text
    assert response.json() == {"items": [], "next": None}


@pytest.mark.parametrize(
    ("query", "field"),
    [("limit=0", "limit"), ("limit=501", "limit"), ("limit=abc", "limit"), ("before=0", "before")],
)
async def test_bad_delivery_paging_parameters_are_400s(api: Api, query: str, field: str) -> None:
    sid = (await subscribed(api))["id"]
    response = await api.client.get(
        f"/v1/subscriptions/{sid}/deliveries?{query}", headers=api.subscriber
    )
    assert fields(problem(response, 400, "invalid-parameter")) == [field]


async def record_attempts(api: Api, sid: str, count: int) -> None:
    """Record `count` failed attempts at the log's first event, as a delivery worker would."""
    services = api.services
    event = (await services.store.read(EventQuery(after=0, limit=1)))[0]
    log_head = await services.store.head()
    for number in range(1, count + 1):
        now = services.clock()
        held = await services.subscriptions.claim(head=log_head, now=now, lease=LEASE)
        assert held is not None and held.id == sid
        attempt = DeliveryAttempt(
            id=0,
            subscription_id=sid,
            position=event.position,
            event_id=event.id,
            attempt=number,
            attempted_at=now,
            outcome="retry",
            status_code=500,
            latency_ms=12.5,
            error=None,
            next_attempt_at=now,
        )
        settled = Settlement(cursor=held.cursor, attempts=number, next_attempt_at=now)
        assert await services.subscriptions.settle(
            held, settled, now=now, lease=None, attempt=attempt
        )


async def test_deliveries_page_newest_first_with_a_link_to_older_ones(seeded: Api) -> None:
    sid = (await subscribed(seeded, after=0))["id"]
    await record_attempts(seeded, sid, 5)
    response = await seeded.client.get(
        f"/v1/subscriptions/{sid}/deliveries?limit=2", headers=seeded.subscriber
    )
    assert response.status_code == 200, response.text
    page = response.json()
    assert [item["attempt"] for item in page["items"]] == [5, 4]
    assert page["next"] is not None
    seen = list(page["items"])
    pages = 1
    while page["next"] is not None:
        response = await seeded.client.get(page["next"], headers=seeded.subscriber)
        assert response.status_code == 200, response.text
        page = response.json()
        seen.extend(page["items"])
        pages += 1
    assert pages == 3
    assert [item["attempt"] for item in seen] == [5, 4, 3, 2, 1]
    assert [item["id"] for item in seen] == sorted({item["id"] for item in seen}, reverse=True)
    first = seen[-1]
    assert first["status_code"] == 500
    assert first["outcome"] == "retry"
    assert first["latency_ms"] == 12.5
    assert (await subscribed_state(seeded, sid))["failed_attempts"] == 5


async def subscribed_state(api: Api, sid: str) -> dict[str, Any]:
    response = await api.client.get(f"/v1/subscriptions/{sid}", headers=api.subscriber)
    assert response.status_code == 200, response.text
    state: dict[str, Any] = response.json()
    return state


# One worker step against a receiver that asks to be left alone (no network: a mock transport)


async def deliver_once(api: Api, retry_after: bytes) -> None:
    """Let a delivery worker serve the due subscription once; the receiver answers 503."""

    def receiver(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, headers=[(b"retry-after", retry_after)])

    worker = DeliveryWorker(
        store=api.services.store,
        subscriptions=api.services.subscriptions,
        notifier=Notifier(),
        settings=WebhookSettings(
            retry_schedule=RetrySchedule.parse("0,5,5"),
            allow_private=False,
            timeout=1,
            concurrency=1,
        ),
        clock=api.services.clock,
        draw=lambda: 0.5,
    )
    async with httpx.AsyncClient(transport=httpx.MockTransport(receiver)) as client:
        assert await worker.step(client)


async def test_a_receivers_retry_after_postpones_the_next_attempt(seeded: Api) -> None:
    sid = (await subscribed(seeded, after=0))["id"]
    await deliver_once(seeded, b"120")
    response = await seeded.client.get(
        f"/v1/subscriptions/{sid}/deliveries", headers=seeded.subscriber
    )
    [attempt] = response.json()["items"]
    assert attempt["outcome"] == "retry"
    assert attempt["status_code"] == 503
    later = format_instant(seeded.services.clock() + timedelta(seconds=120))
    assert attempt["next_attempt_at"] == later
    state = await subscribed_state(seeded, sid)
    assert state["failed_attempts"] == 1
    assert state["next_attempt_at"] == later


async def test_a_nonsense_retry_after_is_ignored_not_a_crash(seeded: Api) -> None:
    sid = (await subscribed(seeded, after=0))["id"]
    await deliver_once(seeded, "²".encode())
    response = await seeded.client.get(
        f"/v1/subscriptions/{sid}/deliveries", headers=seeded.subscriber
    )
    [attempt] = response.json()["items"]
    assert attempt["outcome"] == "retry"
