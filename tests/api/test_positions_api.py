"""Positions as a journalist asks for them, on the seed data: as of one moment, known at another."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest

from tests.builders import raw_editorial
from tests.support.api import Api, log_moves_on

PROPOSAL = "us-30-day-ceasefire-2025"
BASE = f"/v1/proposals/{PROPOSAL}"


async def position(api: Api, actor: str, **query: str) -> dict[str, Any]:
    params = "&".join(f"{k}={quote(v)}" for k, v in query.items())
    response = await api.client.get(f"{BASE}/positions/{actor}?{params}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_ukraine_is_unstated_on_10_march_and_accepted_by_the_end_of_11_march(
    seeded: Api,
) -> None:
    before = await position(seeded, "ukraine", as_of="2025-03-10", tz="Europe/Kyiv")
    assert before["stance"] == "unstated"
    assert before["as_of"] == "2025-03-10T21:59:59.999999Z"
    after = await position(seeded, "ukraine", as_of="2025-03-11", tz="Europe/Kyiv")
    assert after["stance"] == "accepted"
    assert after["sources"]


async def test_russia_rejects_at_noon_moscow_time_on_13_march(seeded: Api) -> None:
    noon = await position(seeded, "russia", as_of="2025-03-13T12:00:00+03:00")
    assert noon["stance"] == "rejected"
    assert noon["speaker"] == "yuri-ushakov"
    assert noon["conditions"] == []
    assert noon["contested"] is False


async def test_russia_is_conditional_and_contested_that_night(seeded: Api) -> None:
    night = await position(seeded, "russia", as_of="2025-03-13T23:00:00+03:00")
    assert night["stance"] == "conditional"
    assert night["speaker"] == "vladimir-putin"
    assert night["contested"] is True
    assert {v["speaker"]: v["stance"] for v in night["voices"]} == {
        "yuri-ushakov": "rejected",
        "vladimir-putin": "conditional",
    }
    ids = {c["id"] for c in night["conditions"]}
    assert len(ids) >= 5
    assert all(c["raised_by"] == "vladimir-putin" for c in night["conditions"])
    assert night["since"] == "2025-03-13T15:00:00Z"
    assert night["based_on"] and night["sources"]


async def test_nothing_is_known_before_the_seed_was_recorded(seeded: Api) -> None:
    for actor in ("russia", "ukraine", "united-states"):
        body = await position(
            seeded, actor, as_of="2025-03-14T00:00:00Z", known_at="2025-12-31T00:00:00Z"
        )
        assert body["stance"] == "unstated"


async def test_the_proposal_lists_every_party_with_its_position(seeded: Api) -> None:
    body = (await seeded.client.get(f"{BASE}?as_of=2025-03-12T00:00:00Z")).json()
    stances = {p["actor"]: p["stance"] for p in body["positions"]}
    assert stances == {"russia": "unstated", "ukraine": "accepted", "united-states": "proposed"}
    assert body["proposer"] == "united-states" and len(body["terms"]) == 3


async def test_history_gives_the_stance_changes_with_their_valid_intervals(seeded: Api) -> None:
    body = (await seeded.client.get(f"{BASE}/positions/russia/history")).json()
    assert [(s["stance"], s["valid_from"], s["valid_to"]) for s in body["items"]] == [
        ("rejected", "2025-03-12T21:00:00Z", "2025-03-13T15:00:00Z"),
        ("conditional", "2025-03-13T15:00:00Z", None),
    ]


async def test_diff_names_what_changed_between_two_moments(seeded: Api) -> None:
    url = f"{BASE}/positions/russia/diff?from=2025-03-13T12:00%2B03:00&to=2025-03-13T23:00%2B03:00"
    body = (await seeded.client.get(url)).json()
    assert body["changed"] is True
    assert body["stance"] == {"before": "rejected", "after": "conditional"}
    assert body["speaker"] == {"before": "yuri-ushakov", "after": "vladimir-putin"}
    assert body["conditions_removed"] == []
    assert len(body["conditions_added"]) >= 5
    assert body["voices"] == [{"speaker": "vladimir-putin", "before": None, "after": "conditional"}]
    same = (
        await seeded.client.get(f"{BASE}/positions/russia/diff?from=2025-03-14&to=2025-03-15")
    ).json()
    assert same["changed"] is False


async def test_a_diff_back_in_time_is_the_forward_diff_reversed(seeded: Api) -> None:
    forward_url = f"{BASE}/positions/russia/diff?from=2025-03-12&to=2025-03-14"
    backward_url = f"{BASE}/positions/russia/diff?from=2025-03-14&to=2025-03-12"
    forward = (await seeded.client.get(forward_url)).json()
    backward = (await seeded.client.get(backward_url)).json()
    assert backward["changed"] is forward["changed"] is True
    assert backward["stance"] == {"before": "conditional", "after": "rejected"}
    assert backward["conditions_removed"] == forward["conditions_added"]
    assert backward["conditions_added"] == forward["conditions_removed"] == []


async def test_a_timeline_range_starts_at_the_start_of_its_first_day(seeded: Api) -> None:
    url = "/v1/timeline?from=2025-03-13&to=2025-03-13&tz=Europe/Moscow&limit=1000"
    items = (await seeded.client.get(url)).json()["items"]
    putin = [i for i in items if i["payload"].get("speaker") == "vladimir-putin"]
    assert putin, "Putin's remarks of 13 March (Moscow) fall inside 13 March"
    empty = (await seeded.client.get("/v1/timeline?from=2025-03-14&to=2025-03-13")).json()
    assert empty["items"] == []


async def test_a_settled_read_is_immutable_and_answers_304_to_its_etag(seeded: Api) -> None:
    url = f"{BASE}/positions/russia?as_of=2025-03-13T12:00%2B03:00&known_at=2026-01-01T12:30:00Z"
    await log_moves_on(seeded, hours=1)
    first = await seeded.client.get(url)
    assert first.headers["cache-control"] == "public, max-age=31536000, immutable"
    etag = first.headers["etag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    again = await seeded.client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""


async def test_a_read_about_now_must_be_revalidated(seeded: Api) -> None:
    response = await seeded.client.get(f"{BASE}/positions/russia")
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["etag"]


async def test_a_late_event_changes_what_we_know_but_not_what_we_knew(seeded: Api) -> None:
    clock = seeded.services.clock
    clock.advance(minutes=5)  # type: ignore[attr-defined]
    before_late = clock()
    clock.advance(minutes=5)  # type: ignore[attr-defined]
    late = {
        "type": "PositionStated",
        "occurred_at": "2025-03-12",
        "timezone": "Europe/Moscow",
        "payload": {"actor": "russia", "proposal": PROPOSAL, "stance": "noncommittal"},
        "sources": [{"source": "notus-2025-03-13"}],
    }
    response = await seeded.client.post(
        "/v1/events", json={"stream": "late", "events": [late]}, headers=seeded.writer
    )
    assert response.status_code == 201
    now = await position(seeded, "russia", as_of="2025-03-12T12:00:00Z")
    then = await position(
        seeded, "russia", as_of="2025-03-12T12:00:00Z", known_at=before_late.isoformat()
    )
    assert (now["stance"], then["stance"]) == ("noncommittal", "unstated")


async def test_a_retraction_hides_the_event_from_the_timeline_from_then_on(seeded: Api) -> None:
    items = (await seeded.client.get(f"/v1/timeline?proposal={PROPOSAL}")).json()["items"]
    ushakov = next(e for e in items if e["payload"].get("speaker") == "yuri-ushakov")
    seeded.services.clock.advance(minutes=1)  # type: ignore[attr-defined]
    before = seeded.services.clock()
    seeded.services.clock.advance(minutes=1)  # type: ignore[attr-defined]
    retraction = raw_editorial("EventRetracted", ushakov["id"])
    response = await seeded.client.post(
        "/v1/events", json={"stream": "editorial", "events": [retraction]}, headers=seeded.writer
    )
    assert response.status_code == 201
    after = (await seeded.client.get(f"/v1/timeline?proposal={PROPOSAL}")).json()["items"]
    assert ushakov["id"] not in [e["id"] for e in after]
    shown = (await seeded.client.get(f"/v1/timeline?proposal={PROPOSAL}&retracted=show")).json()
    marked = {e["id"]: e for e in shown["items"]}
    assert marked[ushakov["id"]]["retracted_by"] == [retraction["id"]]
    assert [e["id"] for e in shown["items"] if e["retracted"]] == [ushakov["id"]]
    old = f"/v1/timeline?proposal={PROPOSAL}&known_at={quote(before.isoformat())}"
    assert ushakov["id"] in [e["id"] for e in (await seeded.client.get(old)).json()["items"]]
    noon = await position(seeded, "russia", as_of="2025-03-13T12:00:00+03:00")
    assert noon["stance"] == "unstated"


async def test_the_timeline_is_in_valid_time_order_and_flags_disputed_claims(seeded: Api) -> None:
    items = (await seeded.client.get("/v1/timeline?limit=1000")).json()["items"]
    earliest = [e["valid_time"]["earliest"] for e in items]
    assert earliest == sorted(earliest)
    disputed = [e for e in items if e["disputed"]]
    assert len(disputed) == 5
    assert all(e["sources"][0]["source"].startswith("unidentified") for e in disputed)
    assert all(e["disputes"][0]["reason"] for e in disputed)
    assert all(e["type"] not in ("EventDisputed", "SourceRegistered") for e in items)


async def test_the_timeline_pages_and_filters_by_actor_and_window(seeded: Api) -> None:
    first = (await seeded.client.get("/v1/timeline?actor=russia&limit=2")).json()
    assert len(first["items"]) == 2 and first["next"]
    second = (await seeded.client.get(first["next"])).json()
    assert second["items"][0]["id"] not in [e["id"] for e in first["items"]]
    window = "/v1/timeline?from=2025-03-13T00:00:00%2B03:00&to=2025-03-13T23:59:59%2B03:00"
    for event in (await seeded.client.get(window)).json()["items"]:
        assert event["valid_time"]["latest"] >= "2025-03-12T21:00:00Z"
        assert event["valid_time"]["earliest"] <= "2025-03-13T20:59:59Z"


async def test_the_timeline_reads_latest_first_page_by_page(seeded: Api) -> None:
    everything = (await seeded.client.get("/v1/timeline?limit=1000")).json()["items"]
    newest: list[dict[str, Any]] = []
    url: str | None = "/v1/timeline?order=desc&limit=7"
    while url is not None:
        page = (await seeded.client.get(url)).json()
        newest.extend(page["items"])
        url = page["next"]
    assert [e["id"] for e in newest] == [e["id"] for e in reversed(everything)]
    latest = (await seeded.client.get("/v1/timeline?order=desc&limit=1&to=2025-03-12")).json()
    assert latest["items"][0]["valid_time"]["earliest"] < "2025-03-13"


async def test_every_partys_history_comes_in_one_read_as_each_would_alone(seeded: Api) -> None:
    url = f"{BASE}/histories"
    body = (await seeded.client.get(url)).json()
    actors = [h["actor"] for h in body["items"]]
    assert actors == sorted(actors) and {"russia", "ukraine"} <= set(actors)
    for history in body["items"]:
        alone = f"{BASE}/positions/{history['actor']}/history"
        assert history == (await seeded.client.get(alone)).json()
    missing = await seeded.client.get("/v1/proposals/no-such-proposal/histories")
    assert missing.status_code == 404
    paged: list[dict[str, Any]] = []
    next_url: str | None = f"{url}?limit=1"
    while next_url is not None:
        page = (await seeded.client.get(next_url)).json()
        assert len(page["items"]) <= 1
        paged.extend(page["items"])
        next_url = page["next"]
    assert paged == body["items"]


async def test_actors_have_affiliations_roles_and_authority(seeded: Api) -> None:
    ushakov = (await seeded.client.get("/v1/actors/yuri-ushakov?as_of=2025-03-13")).json()
    assert (ushakov["affiliation"], ushakov["authority"]) == ("russia", "official")
    everyone = (await seeded.client.get("/v1/actors?as_of=2025-03-13")).json()["items"]
    assert {"russia", "vladimir-putin", "mike-waltz"} <= {a["id"] for a in everyone}
    assert (await seeded.client.get("/v1/actors/mike-waltz?as_of=2020-01-01")).status_code == 404


async def test_sources_list_and_show_the_events_citing_them(seeded: Api) -> None:
    sources = (await seeded.client.get("/v1/sources")).json()["items"]
    assert len(sources) == 5
    rt = (await seeded.client.get("/v1/sources/rt-2025-03-13")).json()
    assert rt["outlet"] == "RT" and rt["cited_by"]
    assert all(any(c["source"] == "rt-2025-03-13" for c in e["sources"]) for e in rt["cited_by"])


@pytest.mark.parametrize(
    ("url", "status", "field"),
    [
        (f"{BASE}/positions/russia?as_of=yesterday", 400, "as_of"),
        (f"{BASE}/positions/russia?as_of=2025-03-13T12:00", 400, "as_of"),
        (f"{BASE}/positions/russia?known_at=2025-13-01", 400, "known_at"),
        (f"{BASE}/positions/russia?tz=Mars/Olympus", 400, "tz"),
        (f"{BASE}/positions/russia/diff?from=2025-03-14", 400, "to"),
        ("/v1/timeline?limit=0", 400, "limit"),
        ("/v1/timeline?limit=5000", 400, "limit"),
        ("/v1/timeline?after=garbage", 400, "after"),
        (f"{BASE}/positions/narnia", 404, None),
        ("/v1/proposals/no-such-proposal", 404, None),
        ("/v1/proposals/no-such-proposal/positions/russia/history", 404, None),
        ("/v1/sources/no-such-source", 404, None),
        ("/v1/actors/NOT_A_SLUG", 400, "actor"),
    ],
)
async def test_bad_read_parameters_are_4xx_problems(
    seeded: Api, url: str, status: int, field: str | None
) -> None:
    response = await seeded.client.get(url)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    if field is not None:
        assert field in [e["field"] for e in response.json()["errors"]]
