"""The log over HTTP: appends, pages, one event with its edits, the type catalogue."""

from __future__ import annotations

from typing import Any

from tests.builders import raw_editorial, raw_position, raw_source
from tests.support.api import Api, problem


async def append(api: Api, stream: str, *events: dict[str, Any], **extra: Any) -> Any:
    return await api.client.post(
        "/v1/events", json={"stream": stream, "events": list(events), **extra}, headers=api.writer
    )


async def test_health_reports_backend_and_head(api: Api) -> None:
    await append(api, "sources", raw_source())
    body = (await api.client.get("/v1/health")).json()
    assert body == {"status": "ok", "backend": "sqlite", "head": 1, "head_hash": body["head_hash"]}
    assert len(body["head_hash"]) == 64


async def test_append_answers_201_with_positions_and_a_location(api: Api) -> None:
    source = raw_source()
    response = await append(api, "s", source, raw_position())
    assert response.status_code == 201
    body = response.json()
    assert body["stream"] == "s" and body["stream_version"] == 2
    assert [e["position"] for e in body["events"]] == [1, 2]
    assert body["events"][0]["id"] == source["id"]
    assert body["events"][0]["recorded_at"].endswith("Z")
    assert response.headers["location"] == f"/v1/events/{source['id']}"


async def test_appending_the_same_events_again_answers_200_with_the_original_positions(
    api: Api,
) -> None:
    events = [raw_source(), raw_position()]
    first = await append(api, "s", *events)
    again = await append(api, "s", *events)
    assert again.status_code == 200
    assert again.json() == first.json()
    assert (await api.client.get("/v1/health")).json()["head"] == 2


async def test_events_page_by_position_with_a_next_link(api: Api) -> None:
    await append(api, "s", raw_source(), *[raw_position() for _ in range(4)])
    first = (await api.client.get("/v1/events?limit=2")).json()
    assert [e["position"] for e in first["items"]] == [1, 2]
    assert first["next"] == "/v1/events?after=2&limit=2"
    second = (await api.client.get(first["next"])).json()
    third = (await api.client.get(second["next"])).json()
    assert [e["position"] for e in third["items"]] == [5]
    assert third["next"] is None


async def test_events_filter_by_stream_type_and_actor(api: Api) -> None:
    await append(api, "sources", raw_source())
    await append(api, "p", raw_position("ukraine", "accepted"), raw_position("russia"))
    by_actor = (await api.client.get("/v1/events?actor=russia")).json()["items"]
    assert [e["position"] for e in by_actor] == [3]
    by_type = (await api.client.get("/v1/events?type=SourceRegistered")).json()["items"]
    assert [e["position"] for e in by_type] == [1]
    by_stream = (await api.client.get("/v1/events?stream=p&limit=1")).json()
    assert [e["position"] for e in by_stream["items"]] == [2]
    assert by_stream["next"] == "/v1/events?after=2&limit=1&stream=p"


async def test_an_event_reads_back_with_valid_time_codes_and_sources(api: Api) -> None:
    position = raw_position(quote="nothing more than a temporary respite", speaker="yuri-ushakov")
    await append(api, "s", raw_source(), position)
    event = (await api.client.get(f"/v1/events/{position['id']}")).json()
    assert event["occurred_at"] == "2025-03-13"
    assert event["timezone"] == "Europe/Moscow"
    assert event["valid_time"]["earliest"] == "2025-03-12T21:00:00Z"
    assert event["valid_time"]["precision"] == "day"
    assert event["codes"] == {"cameo": "127", "plover": "REJECT", "plover_mode": None}
    assert event["actors"] == ["russia", "yuri-ushakov"]
    assert event["sources"] == [
        # The source has no text: nothing to verify the quote against.
        {"source": "notus", "quote": "nothing more than a temporary respite", "verified": False}
    ]
    assert "recorded_by" not in event["metadata"]  # only for an events:audit key
    assert event["editorial"] == []


async def test_an_event_lists_the_disputes_aimed_at_it(api: Api) -> None:
    claim = raw_position()
    dispute = raw_editorial("EventDisputed", claim["id"], reason="only one outlet reports it")
    await append(api, "s", raw_source(), claim)
    await append(api, "editorial", dispute)
    event = (await api.client.get(f"/v1/events/{claim['id']}")).json()
    assert [e["id"] for e in event["editorial"]] == [dispute["id"]]
    assert event["editorial"][0]["payload"]["reason"] == "only one outlet reports it"


async def test_an_unknown_event_is_a_404_problem(api: Api) -> None:
    response = await api.client.get("/v1/events/8d4f3b6e-0c1a-4e57-9f7e-2a9b1c3d4e5f")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"].endswith("/not-found")


async def test_event_types_list_every_type_with_a_schema_per_version(api: Api) -> None:
    items = (await api.client.get("/v1/event-types")).json()["items"]
    by_name = {t["name"]: t for t in items}
    assert {"PositionStated", "MeetingHeld", "EventCorrected", "SourceRegistered"} <= set(by_name)
    meeting = by_name["MeetingHeld"]
    assert meeting["current_version"] == 2
    assert [v["version"] for v in meeting["versions"]] == [1, 2]
    stance = meeting["versions"][1]["schema"]
    assert "format" in stance["$defs"]["MeetingHeld"]["properties"]


async def test_a_version_one_payload_is_served_as_version_two(api: Api) -> None:
    meeting = {
        "type": "MeetingHeld",
        "schema_version": 1,
        "occurred_at": "2025-03-11/2025-03-13",
        "timezone": "Europe/Moscow",
        "payload": {"participants": ["yuri-ushakov", "mike-waltz"], "medium": "call"},
        "sources": [{"source": "notus"}],
    }
    await append(api, "s", raw_source(), meeting)
    [event] = (await api.client.get("/v1/events?type=MeetingHeld")).json()["items"]
    assert event["schema_version"] == 2
    assert event["payload"] == {"participants": ["yuri-ushakov", "mike-waltz"], "format": "call"}


async def test_openapi_document_is_served_with_every_operation_named(api: Api) -> None:
    document = (await api.client.get("/v1/openapi.json")).json()
    assert document["openapi"].startswith("3.1")
    operations = [op for path in document["paths"].values() for op in path.values()]
    assert all(op.get("operationId") for op in operations)
    append_op = document["paths"]["/v1/events"]["post"]
    assert append_op["security"] == [{"bearer": []}]
    assert "application/problem+json" in append_op["responses"]["422"]["content"]


async def test_a_second_registration_of_a_source_is_a_conflict_that_writes_nothing(
    api: Api,
) -> None:
    assert (await append(api, "s", raw_source("my-source"))).status_code == 201
    head = (await api.client.get("/v1/health")).json()["head"]

    again = await append(api, "s", raw_source("other"), raw_source("my-source"))

    body = problem(again, 409, "already-registered")
    assert [e["field"] for e in body["errors"]] == ["events[1].payload.source"]
    assert "'my-source' is registered already" in body["errors"][0]["message"]
    assert (await api.client.get("/v1/health")).json()["head"] == head


async def test_two_registrations_of_one_id_in_a_batch_conflict_at_the_second(api: Api) -> None:
    response = await append(api, "s", raw_source("twice"), raw_source("twice"))
    body = problem(response, 409, "already-registered")
    assert [e["field"] for e in body["errors"]] == ["events[1].payload.source"]


async def test_a_registration_sent_again_with_its_id_is_a_replay_not_a_conflict(api: Api) -> None:
    """What makes the README's example safe to repeat: the event carries its own id."""
    registration = raw_source("my-source")
    first = await append(api, "s", registration)
    again = await append(api, "s", registration)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["events"] == first.json()["events"]


async def test_a_bad_idempotency_key_is_named_as_the_header_it_came_in(api: Api) -> None:
    for bad in ("bad\x01key", "k" * 256):
        response = await api.client.post(
            "/v1/events",
            json={"stream": "s", "events": [raw_source()]},
            headers={**api.writer, "Idempotency-Key": bad},
        )
        body = problem(response, 400, "invalid-parameter")
        assert [e["field"] for e in body["errors"]] == ["Idempotency-Key"]
        assert "regex" not in body["detail"] and "idempotency_key" not in body["detail"]
