"""Every world event shows the distinct outlets supporting it (`corroboration`, `single_source`)
on the timeline and its detail, and the timeline keeps only the events at least `min_outlets`
outlets support, page by page."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.builders import raw_editorial, raw_position, raw_source
from tests.support.api import Api, problem

# Two sources from NOTUS, one from Reuters.
SOURCES = [("notus", "NOTUS"), ("notus-2", "NOTUS"), ("reuters", "Reuters")]


async def post(api: Api, stream: str, *events: dict[str, Any]) -> None:
    response = await api.client.post(
        "/v1/events",
        content=json.dumps({"stream": stream, "events": list(events)}).encode(),
        headers={"Content-Type": "application/json", **api.writer},
    )
    assert response.status_code == 201, response.text


def citing(*sources: str, day: int) -> dict[str, Any]:
    raw = raw_position(occurred_at=f"2025-03-{day:02d}", timezone=None)
    raw["sources"] = [{"source": s} for s in sources]
    return raw


@pytest.fixture
async def cited(api: Api) -> tuple[Api, list[dict[str, Any]]]:
    """Events cited by one source, by two sources of one outlet, and by two outlets."""
    await post(api, "sources", *(raw_source(s, outlet=o) for s, o in SOURCES))
    events = [
        citing("notus", day=10),
        citing("notus", "notus-2", day=11),
        citing("reuters", "notus", "notus-2", day=12),
        citing("notus-2", "reuters", day=13),
    ]
    await post(api, "p", *events)
    return api, events


async def timeline(api: Api, query: str) -> list[dict[str, Any]]:
    """Every item of a timeline read, following `next`."""
    found: list[dict[str, Any]] = []
    url: str | None = f"/v1/timeline?{query}"
    while url is not None:
        body = (await api.client.get(url)).json()
        found.extend(body["items"])
        url = body["next"]
    return found


async def test_timeline_items_name_the_distinct_outlets_and_sources(
    cited: tuple[Api, list[dict[str, Any]]],
) -> None:
    api, events = cited
    items = await timeline(api, "limit=10")
    assert [i["id"] for i in items] == [e["id"] for e in events]
    assert [(i["corroboration"], i["single_source"]) for i in items] == [
        ({"outlets": ["NOTUS"], "sources": ["notus"]}, True),
        ({"outlets": ["NOTUS"], "sources": ["notus", "notus-2"]}, True),
        ({"outlets": ["NOTUS", "Reuters"], "sources": ["reuters", "notus", "notus-2"]}, False),
        ({"outlets": ["NOTUS", "Reuters"], "sources": ["notus-2", "reuters"]}, False),
    ]


async def test_min_outlets_keeps_the_corroborated_events_across_pages(
    cited: tuple[Api, list[dict[str, Any]]],
) -> None:
    api, events = cited
    # Interleave single-outlet events between them, so a page boundary falls among them.
    more = [citing("notus", day=14), citing("reuters", "notus", day=15)]
    await post(api, "p", *more)
    wanted = [events[2]["id"], events[3]["id"], more[1]["id"]]
    for order in ("asc", "desc"):
        found = await timeline(api, f"min_outlets=2&limit=1&order={order}")
        assert [i["id"] for i in found] == (wanted if order == "asc" else wanted[::-1])
    assert len(await timeline(api, "min_outlets=1&limit=2")) == 6
    assert await timeline(api, "min_outlets=3") == []
    by_actor = await timeline(api, "min_outlets=2&actor=russia&limit=2")
    assert [i["id"] for i in by_actor] == wanted


async def test_a_correction_keeps_the_corroboration_of_its_event(
    cited: tuple[Api, list[dict[str, Any]]],
) -> None:
    api, events = cited
    await post(api, "p", raw_editorial("EventCorrected", events[2]["id"], occurred_at="2025-03-20"))
    found = await timeline(api, "min_outlets=2")
    assert [i["id"] for i in found] == [events[3]["id"], events[2]["id"]]
    assert found[1]["corroboration"]["outlets"] == ["NOTUS", "Reuters"]


async def test_the_event_detail_shows_corroboration_of_world_events_only(
    cited: tuple[Api, list[dict[str, Any]]],
) -> None:
    api, events = cited
    single = (await api.client.get(f"/v1/events/{events[0]['id']}")).json()
    assert single["corroboration"] == {"outlets": ["NOTUS"], "sources": ["notus"]}
    assert single["single_source"] is True
    many = (await api.client.get(f"/v1/events/{events[3]['id']}")).json()
    assert many["corroboration"] == {
        "outlets": ["NOTUS", "Reuters"],
        "sources": ["notus-2", "reuters"],
    }
    assert many["single_source"] is False
    registration = (await api.client.get("/v1/events?type=SourceRegistered")).json()["items"][0]
    detail = (await api.client.get(f"/v1/events/{registration['id']}")).json()
    assert detail["corroboration"] is None
    assert detail["single_source"] is None


@pytest.mark.parametrize("value", ["0", "-1", "abc", "1.5", "100000000000000000000"])
async def test_a_bad_min_outlets_is_a_400_naming_it(api: Api, value: str) -> None:
    body = problem(
        await api.client.get(f"/v1/timeline?min_outlets={value}"), 400, "invalid-parameter"
    )
    assert [e["field"] for e in body["errors"]] == ["min_outlets"]
