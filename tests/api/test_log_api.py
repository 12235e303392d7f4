"""The log's hash chain over HTTP: GET /v1/log/verify and the head hash in /v1/health."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from store.sql import SqlEventStore
from tests.builders import raw_position, raw_source
from tests.support.api import Api


async def append(api: Api, stream: str, *events: dict[str, Any]) -> None:
    response = await api.client.post(
        "/v1/events", json={"stream": stream, "events": list(events)}, headers=api.writer
    )
    assert response.status_code == 201, response.text


async def verify(api: Api) -> dict[str, Any]:
    response = await api.client.get("/v1/log/verify")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    return body


async def test_an_empty_log_verifies_with_no_head_hash(api: Api) -> None:
    assert await verify(api) == {
        "ok": True,
        "since": 0,
        "checked": 0,
        "head": 0,
        "head_hash": None,
        "first_broken": None,
    }
    assert (await api.client.get("/v1/health")).json()["head_hash"] is None


async def test_an_intact_log_verifies_and_its_head_hash_is_the_healths(api: Api) -> None:
    await append(api, "sources", raw_source())
    await append(api, "s", raw_position(), raw_position())
    body = await verify(api)
    health = (await api.client.get("/v1/health")).json()
    assert body == {
        "ok": True,
        "since": 0,
        "checked": 3,
        "head": 3,
        "head_hash": health["head_hash"],
        "first_broken": None,
    }
    assert health["head"] == 3


async def test_the_head_hash_moves_with_each_append(api: Api) -> None:
    await append(api, "sources", raw_source())
    first = (await api.client.get("/v1/health")).json()["head_hash"]
    await append(api, "sources", raw_source("other"))
    assert (await api.client.get("/v1/health")).json()["head_hash"] != first


async def test_a_log_rewritten_behind_the_apps_back_is_a_finding_not_an_error(api: Api) -> None:
    await append(api, "sources", raw_source())
    await append(api, "s", raw_position(), raw_position())
    store = api.services.store
    assert isinstance(store, SqlEventStore)
    async with store.engine.begin() as conn:
        await conn.execute(text("DROP TRIGGER events_no_update"))
        await conn.execute(text("UPDATE events SET stream = 'forged' WHERE position = 2"))
    body = await verify(api)
    assert (body["ok"], body["first_broken"], body["checked"]) == (False, 2, 3)


async def test_each_verification_checks_only_what_was_appended_since_the_last(api: Api) -> None:
    await append(api, "sources", raw_source())
    await append(api, "s", raw_position(), raw_position())
    assert (await verify(api))["checked"] == 3
    again = await verify(api)
    assert (again["ok"], again["since"], again["checked"], again["head"]) == (True, 3, 0, 3)
    await append(api, "s", raw_position())
    body = await verify(api)
    assert (body["ok"], body["since"], body["checked"], body["head"]) == (True, 3, 1, 4)
    assert body["head_hash"] == (await api.client.get("/v1/health")).json()["head_hash"]


async def test_a_break_after_the_checkpoint_is_found_and_the_checkpoint_stays(api: Api) -> None:
    await append(api, "sources", raw_source())
    assert (await verify(api))["since"] == 0
    await append(api, "s", raw_position(), raw_position())
    store = api.services.store
    assert isinstance(store, SqlEventStore)
    async with store.engine.begin() as conn:
        await conn.execute(text("DROP TRIGGER events_no_update"))
        await conn.execute(text("UPDATE events SET stream = 'forged' WHERE position = 3"))
    for _ in range(2):  # a broken chain does not move the checkpoint past it
        body = await verify(api)
        assert (body["ok"], body["since"], body["first_broken"]) == (False, 1, 3)


async def test_the_contract_documents_the_verification(api: Api) -> None:
    document = (await api.client.get("/v1/openapi.json")).json()
    operation = document["paths"]["/v1/log/verify"]["get"]
    assert operation["operationId"] == "verifyLog"
    assert {"200", "503"} <= set(operation["responses"])
    health = document["components"]["schemas"]["HealthOut"]
    assert "head_hash" in health["properties"] and "head_hash" in health["required"]
