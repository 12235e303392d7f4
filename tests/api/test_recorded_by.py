"""Who recorded an event: shown, and filterable, only for a key with the events:audit scope."""

from __future__ import annotations

from typing import Any

from tests.builders import raw_source
from tests.support.api import Api, bearer, log_moves_on, problem

PRIVATE = {"recorded_by", "key_id"}


async def key(api: Api, name: str, *scopes: str) -> dict[str, str]:
    _, token = await api.services.keys.create(name, frozenset(scopes), api.services.clock())
    return bearer(token)


async def append(api: Api, headers: dict[str, str], *events: dict[str, Any]) -> None:
    sent = {**headers, "X-Correlation-Id": "desk-42"}
    response = await api.client.post(
        "/v1/events", json={"stream": "s", "events": list(events)}, headers=sent
    )
    assert response.status_code == 201, response.text


async def test_only_an_audit_key_sees_who_recorded_an_event(api: Api) -> None:
    source = raw_source()
    await append(api, api.writer, source)
    auditor = await key(api, "auditor", "events:audit")
    admin = await key(api, "root", "admin")
    url = f"/v1/events/{source['id']}"
    for headers in ({}, api.writer, api.subscriber):
        one = (await api.client.get(url, headers=headers)).json()
        listed = (await api.client.get("/v1/events", headers=headers)).json()["items"][0]
        for shown in (one, listed):
            assert shown["metadata"] == {"correlation_id": "desk-42"}  # the rest stays public
    for headers in (auditor, admin):
        response = await api.client.get(url, headers=headers)
        assert response.json()["metadata"]["recorded_by"] == "writer"
        assert response.json()["metadata"]["key_id"]
        assert response.json()["metadata"]["correlation_id"] == "desk-42"
        listed = (await api.client.get("/v1/events", headers=headers)).json()["items"][0]
        assert listed["metadata"] == response.json()["metadata"]


async def test_editors_filter_the_log_by_the_key_that_recorded_it(api: Api) -> None:
    desk = await key(api, "desk", "events:write")
    auditor = await key(api, "auditor", "events:audit")
    await append(api, api.writer, raw_source("a"))
    await append(api, desk, raw_source("b"), raw_source("c"))
    await append(api, api.writer, raw_source("d"))
    page = (await api.client.get("/v1/events?recorded_by=writer", headers=auditor)).json()
    assert [e["position"] for e in page["items"]] == [1, 4]
    first = await api.client.get("/v1/events?recorded_by=desk&limit=1", headers=auditor)
    assert [e["position"] for e in first.json()["items"]] == [2]
    assert first.json()["next"] == "/v1/events?after=2&limit=1&recorded_by=desk"
    rest = (await api.client.get(first.json()["next"], headers=auditor)).json()
    assert [e["position"] for e in rest["items"]] == [3] and rest["next"] is None
    nobody = await api.client.get("/v1/events?recorded_by=nobody", headers=auditor)
    assert nobody.json()["items"] == []


async def test_the_filter_needs_the_audit_scope(api: Api) -> None:
    await append(api, api.writer, raw_source())
    refused = await api.client.get("/v1/events?recorded_by=writer", headers=api.writer)
    assert "events:audit" in problem(refused, 403, "forbidden")["detail"]
    anonymous = await api.client.get("/v1/events?recorded_by=writer")
    problem(anonymous, 401, "unauthorized")


async def test_a_bad_key_on_a_read_is_refused(api: Api) -> None:
    source = raw_source()
    await append(api, api.writer, source)
    for headers in (api.revoked, {"Authorization": "Bearer tl_not-a-key"}):
        for url in ("/v1/events", f"/v1/events/{source['id']}"):
            problem(await api.client.get(url, headers=headers), 401, "unauthorized")


async def test_an_audited_answer_is_private_and_never_served_to_another_caller(
    api: Api,
) -> None:
    source = raw_source()
    await append(api, api.writer, source)
    auditor = await key(api, "auditor", "events:audit")
    for url in ("/v1/events", f"/v1/events/{source['id']}"):
        audited = await api.client.get(url, headers=auditor)
        assert "recorded_by" in audited.text
        assert "private" in audited.headers["cache-control"]
        assert "Authorization" in audited.headers["vary"]
        public = await api.client.get(url)
        assert "Authorization" in public.headers["vary"]
        assert "recorded_by" not in public.text and "key_id" not in public.text
        again = await api.client.get(
            url, headers={"If-None-Match": audited.headers.get("etag", "")}
        )
        assert again.status_code == 200 and "recorded_by" not in again.text


async def test_a_settled_timeline_kept_in_memory_holds_no_private_metadata(seeded: Api) -> None:
    """The settled-answers cache is keyed by URL: what an auditor reads first must be public."""
    await log_moves_on(seeded, hours=1)
    auditor = await key(seeded, "auditor", "events:audit")
    url = "/v1/timeline?known_at=2026-01-01T12:30:00Z"
    audited = await seeded.client.get(url, headers=auditor)
    assert audited.status_code == 200 and audited.json()["items"]
    assert audited.headers["cache-control"] == "public, max-age=31536000, immutable"
    public = await seeded.client.get(url)
    assert public.status_code == 200 and public.json()["items"]
    for body in (audited.text, public.text):
        assert "recorded_by" not in body and "key_id" not in body
