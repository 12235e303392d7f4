"""The live feed in-process, as a browser's EventSource reads it: when to reconnect, how events
are named, and errors that name what the client sent. (Streaming over real HTTP: tests/e2e.)"""

from __future__ import annotations

import json

import pytest

from tests.support.api import Api, problem

SEED_HEAD = 62


@pytest.fixture(autouse=True)
def short_streams(monkeypatch: pytest.MonkeyPatch) -> None:
    """A stream ends in a fraction of a second, so its whole body can be read and parsed."""
    monkeypatch.setenv("TIMELINE_SSE_MAX_LIFETIME", "0.3")
    monkeypatch.setenv("TIMELINE_SSE_HEARTBEAT", "10")


def messages(body: str) -> list[dict[str, str]]:
    """The stream's messages as the EventSource spec parses them: fields by name, comments
    under ':'."""
    parsed = []
    for block in body.replace("\r\n", "\n").split("\n\n"):
        fields: dict[str, str] = {}
        for line in block.split("\n"):
            if not line:
                continue
            name, _, value = line.partition(":")
            fields[name] = fields.get(name, "") + value.removeprefix(" ")
        if fields:
            parsed.append(fields)
    return parsed


async def test_a_stream_opens_by_telling_the_client_when_to_reconnect(seeded: Api) -> None:
    response = await seeded.client.get(f"/v1/feed?after={SEED_HEAD - 2}")
    assert response.status_code == 200
    first, *rest = messages(response.text)
    assert first == {"retry": "3000"}
    assert [m["id"] for m in rest if "id" in m] == [str(SEED_HEAD - 1), str(SEED_HEAD)]


async def test_the_reconnection_delay_is_configured(
    seeded: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TIMELINE_SSE_RETRY", "750")
    response = await seeded.client.get(f"/v1/feed?after={SEED_HEAD}")
    assert messages(response.text)[0] == {"retry": "750"}


async def test_events_are_named_by_type_and_carry_it_in_their_data(seeded: Api) -> None:
    # Named events are the v1 contract: EventSource.onmessage sees none (README, "The feeds").
    response = await seeded.client.get(f"/v1/feed?after={SEED_HEAD - 5}")
    events = [m for m in messages(response.text) if "id" in m]
    assert len(events) == 5
    for event in events:
        assert event["event"] == json.loads(event["data"])["type"]


@pytest.mark.parametrize("last_event_id", ["abc", "-1", "1.5", "9007199254740993"])
async def test_a_bad_last_event_id_is_a_400_naming_the_header(
    seeded: Api, last_event_id: str
) -> None:
    response = await seeded.client.get("/v1/feed", headers={"Last-Event-ID": last_event_id})
    body = problem(response, 400, "invalid-parameter")
    assert [e["field"] for e in body["errors"]] == ["Last-Event-ID"]
    assert body["detail"].startswith("Last-Event-ID: ")
    assert "last_event_id" not in response.text
    assert "regex" not in response.text and "[0-9]" not in response.text


async def test_the_document_still_states_the_header_s_pattern(seeded: Api) -> None:
    document = (await seeded.client.get("/v1/openapi.json")).json()
    [header] = [
        p
        for p in document["paths"]["/v1/feed"]["get"]["parameters"]
        if p["name"] == "Last-Event-ID"
    ]
    assert header["in"] == "header"
    assert header["schema"]["pattern"].startswith("^[0-9]{1,16}$")
