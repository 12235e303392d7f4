"""Every bad input gets a precise 4xx problem document that names the field, and writes nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.builders import raw_editorial, raw_position, raw_source
from tests.clock import FrozenClock
from tests.support.api import Api, problem


async def head(api: Api) -> int:
    return int((await api.client.get("/v1/health")).json()["head"])


async def post(api: Api, body: Any, headers: dict[str, str] | None = None) -> Any:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return await api.client.post(
        "/v1/events",
        content=content,
        headers={
            "Content-Type": "application/json",
            **(api.writer if headers is None else headers),
        },
    )


def fields(body: dict[str, Any]) -> list[str]:
    return [e["field"] for e in body.get("errors") or []]


@pytest.fixture
async def registered(api: Api) -> Api:
    """An API whose log already registers the source `notus`."""
    response = await post(api, {"stream": "sources", "events": [raw_source()]})
    assert response.status_code == 201
    return api


def batch(*events: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"stream": "p", "events": list(events), **extra}


def with_payload(**changes: Any) -> dict[str, Any]:
    raw = raw_position()
    raw["payload"] = {**raw["payload"], **changes}
    return raw


async def test_malformed_json_is_a_400(registered: Api) -> None:
    problem(await post(registered, b'{"stream": "p", "events": ['), 400, "malformed-json")
    assert await head(registered) == 1


async def test_a_json_value_that_is_not_an_object_is_a_422(registered: Api) -> None:
    problem(await post(registered, [1, 2]), 422, "invalid-request")
    problem(await post(registered, "text"), 422, "invalid-request")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"stream": 5, "events": []}, "stream"),
        ({"stream": "p", "events": "none"}, "events"),
        ({"stream": "p", "events": [], "expected_version": "1"}, "expected_version"),
        ({"stream": "p", "events": [], "expected_version": -1}, "expected_version"),
        (
            {"stream": "p", "events": [{"type": 1, "occurred_at": "2025", "payload": {}}]},
            "events[0].type",
        ),
        (
            {"stream": "p", "events": [{"type": "X", "occurred_at": 20250313, "payload": {}}]},
            "events[0].occurred_at",
        ),
        (
            {"stream": "p", "events": [{"type": "X", "occurred_at": "2025", "payload": []}]},
            "events[0].payload",
        ),
        ({"stream": "p", "events": [], "surprise": True}, "surprise"),
        ({"events": []}, "stream"),
    ],
)
async def test_wrong_types_anywhere_name_the_field(registered: Api, body: Any, field: str) -> None:
    assert fields(problem(await post(registered, body), 422, "invalid-request")) == [field]
    assert await head(registered) == 1


@pytest.mark.parametrize(
    ("event", "field"),
    [
        ({**raw_position(), "type": "PositionGuessed"}, "events[0].type"),
        (with_payload(stance="maybe"), "events[0].payload.stance"),
        (with_payload(actor="Not A Slug"), "events[0].payload.actor"),
        (with_payload(mood="grim"), "events[0].payload.mood"),
        ({**raw_position(), "payload": {"actor": "russia"}}, "events[0].payload.proposal"),
        (raw_position(occurred_at="2025-03-13T10:00:00", timezone=None), "events[0].occurred_at"),
        (raw_position(occurred_at="2027-01-01", timezone=None), "events[0].occurred_at"),
        (raw_position(occurred_at="13 March 2025", timezone=None), "events[0].occurred_at"),
        (raw_position(timezone="Mars/Olympus"), "events[0].occurred_at"),
        ({**raw_position(), "id": "not-a-uuid"}, "events[0].id"),
        ({**raw_position(), "sources": []}, "events[0].sources"),
        (raw_position(source="unregistered"), "events[0].sources[0].source"),
        (
            raw_editorial("EventRetracted", "1b4e28ba-2fa1-41d2-883f-0016d3cca427"),
            "events[0].payload.target",
        ),
        ({**raw_position(), "schema_version": 7}, "events[0].schema_version"),
    ],
)
async def test_a_bad_event_names_its_field_and_writes_nothing(
    registered: Api, event: dict[str, Any], field: str
) -> None:
    body = problem(await post(registered, batch(raw_position(), event)), 422, "invalid-request")
    assert [f.replace("events[1]", "events[0]") for f in fields(body)] == [field]
    assert await head(registered) == 1


async def test_an_occurred_at_just_under_a_day_ahead_is_accepted(
    registered: Api, clock: FrozenClock
) -> None:
    ahead = clock.now.replace(hour=clock.now.hour + 11).isoformat()
    assert (
        await post(registered, batch(raw_position(occurred_at=ahead, timezone=None)))
    ).status_code == 201


async def test_an_empty_batch_and_an_oversized_batch_are_refused(registered: Api) -> None:
    assert fields(problem(await post(registered, batch()), 422, "invalid-request")) == ["events"]
    many = batch(*[raw_position() for _ in range(1001)])
    assert fields(problem(await post(registered, many), 422, "invalid-request")) == ["events"]
    assert await head(registered) == 1


async def test_a_body_over_one_mebibyte_is_a_413(registered: Api) -> None:
    huge = batch(with_payload(quote="x" * 900))
    huge["padding"] = "x" * (1024 * 1024)
    problem(await post(registered, huge), 413, "body-too-large")
    assert await head(registered) == 1


async def test_a_stale_expected_version_is_a_409_naming_the_current_version(
    registered: Api,
) -> None:
    assert (await post(registered, batch(raw_position(), expected_version=0))).status_code == 201
    body = problem(
        await post(registered, batch(raw_position(), expected_version=0)),
        409,
        "stale-expected-version",
    )
    assert body["current_version"] == 1
    assert await head(registered) == 2


async def test_an_id_reused_for_other_content_is_a_409(registered: Api) -> None:
    event = raw_position()
    assert (await post(registered, batch(event))).status_code == 201
    changed = {**event, "payload": {**event["payload"], "stance": "accepted"}}
    problem(await post(registered, batch(changed)), 409, "duplicate-event")


async def test_a_missing_bad_or_revoked_key_is_a_401(registered: Api) -> None:
    body = batch(raw_position())
    problem(await post(registered, body, headers={}), 401, "unauthorized")
    problem(
        await post(registered, body, headers={"Authorization": "Bearer tl_nope_nope"}),
        401,
        "unauthorized",
    )
    problem(
        await post(registered, body, headers={"Authorization": "Basic abc"}), 401, "unauthorized"
    )
    problem(await post(registered, body, headers=registered.revoked), 401, "unauthorized")
    assert await head(registered) == 1


async def test_a_key_without_the_scope_is_a_403(registered: Api) -> None:
    problem(
        await post(registered, batch(raw_position()), headers=registered.subscriber),
        403,
        "forbidden",
    )
    assert await head(registered) == 1


async def test_bad_query_parameters_are_400s(registered: Api) -> None:
    for query in ("limit=0", "limit=abc", "limit=100000", "after=-1", "after=1.5"):
        body = problem(await registered.client.get(f"/v1/events?{query}"), 400, "invalid-parameter")
        assert fields(body) == [query.split("=")[0]]
    problem(await registered.client.get("/v1/events/not-a-uuid"), 400, "invalid-parameter")


async def test_the_same_idempotency_key_and_body_replays_the_first_response(
    registered: Api,
) -> None:
    headers = {**registered.writer, "Idempotency-Key": "retry-1"}
    body = batch(with_payload(stance="accepted"))
    body["events"][0].pop("id")
    first = await post(registered, body, headers=headers)
    again = await post(registered, body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert await head(registered) == 2


async def test_the_same_idempotency_key_with_another_body_is_a_422(registered: Api) -> None:
    headers = {**registered.writer, "Idempotency-Key": "retry-2"}
    assert (await post(registered, batch(raw_position()), headers=headers)).status_code == 201
    problem(
        await post(registered, batch(raw_position()), headers=headers),
        422,
        "idempotency-key-reused",
    )
    assert await head(registered) == 2


async def test_an_idempotent_failure_is_replayed_too(registered: Api) -> None:
    headers = {**registered.writer, "Idempotency-Key": "retry-3"}
    body = batch(raw_position(source="unregistered"))
    first = await post(registered, body, headers=headers)
    again = await post(registered, body, headers=headers)
    assert first.status_code == again.status_code == 422
    assert again.json() == first.json()
    assert again.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    "number", ["2.0", "1E+0", "1e20", "-0.0", "2.0000000000000000001", "9007199254740993", "1e400"]
)
async def test_a_number_the_schema_does_not_take_as_written_is_a_422_naming_it(
    registered: Api, number: str
) -> None:
    """Every payload number has a type in its schema and is read strictly (ADR 0005): an integer
    field takes no float, however it is spelled, and nothing is rounded or rewritten to fit."""
    source = raw_source("graded", reliability={"source": "A", "information": 0})
    text = json.dumps(batch(source)).replace('"information": 0', f'"information": {number}')
    assert number in text
    response = await post(registered, text.encode())
    if number == "1e400":  # beyond a double: not a number any JSON reader here can hold
        problem(response, 400, "malformed-json")
    else:
        body = problem(response, 422, "invalid-request")
        assert fields(body) == ["events[0].payload.reliability.information"]
    assert await head(registered) == 1


async def test_a_correction_is_held_to_its_targets_number_types(registered: Api) -> None:
    target = raw_source("graded-later")
    assert (await post(registered, batch(target))).status_code == 201
    replacement = {**target["payload"], "reliability": {"source": "B", "information": 2.0}}
    correction = raw_editorial("EventCorrected", target["id"], payload=replacement)
    body = problem(await post(registered, batch(correction)), 422, "invalid-request")
    assert fields(body) == ["events[0].payload.payload.reliability.information"]
    assert await head(registered) == 2
