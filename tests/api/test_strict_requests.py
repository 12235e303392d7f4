"""Requests are read strictly and bounded: what Litestar would coerce or silently pick is
refused with a problem document, and OPTIONS tells the truth about a path's methods."""

from __future__ import annotations

import pytest

from api.strict_query import MAX_HEADER_BYTES, MAX_QUERY_BYTES
from tests.support.api import Api, problem


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/v1/events?limit=5&limit=6", "limit"),
        ("/v1/events?stream=a&stream=b", "stream"),
        ("/v1/timeline?known_at=2025-03-13&known_at=2025-03-14", "known_at"),
        ("/v1/feed.atom?before=null&before=null", "before"),
        ("/v1/events?limit=1e2", "limit"),
        ("/v1/events?after=%2B5", "after"),
        ("/v1/events?after=1_000", "after"),
    ],
)
async def test_a_repeated_or_loosely_written_parameter_is_a_400(
    api: Api, url: str, field: str
) -> None:
    body = problem(await api.client.get(url), 400, "invalid-parameter")
    assert body["errors"][0]["field"] == field


async def test_a_parameter_that_takes_a_list_may_repeat(api: Api) -> None:
    response = await api.client.get("/v1/events?type=PositionStated&type=MeetingHeld")
    assert response.status_code == 200


async def test_an_unknown_event_type_filter_is_a_400_not_an_empty_page(api: Api) -> None:
    body = problem(await api.client.get("/v1/events?type=PositionStatd"), 400, "invalid-parameter")
    assert "PositionStatd" in body["detail"]


async def test_an_oversized_query_string_is_a_414(api: Api) -> None:
    url = "/v1/events?stream=" + "a" * MAX_QUERY_BYTES
    problem(await api.client.get(url), 414, "uri-too-long")


async def test_oversized_headers_are_a_431(api: Api) -> None:
    headers = {f"X-Pad-{i}": "x" * 1000 for i in range(MAX_HEADER_BYTES // 1000 + 1)}
    problem(await api.client.get("/v1/events", headers=headers), 431, "headers-too-large")


async def test_a_body_not_labelled_json_is_a_415_and_writes_nothing(api: Api) -> None:
    before = await api.services.store.head()
    response = await api.client.post(
        "/v1/events",
        content=b'{"stream": "s", "events": []}',
        headers={**api.writer, "Content-Type": "text/plain"},
    )
    problem(response, 415, "unsupported-media-type")
    assert await api.services.store.head() == before


async def test_a_repeated_json_key_is_a_400(api: Api) -> None:
    response = await api.client.post(
        "/v1/subscriptions",
        content=b'{"url": "http://127.0.0.1/", "url": "https://example.org/"}',
        headers={**api.subscriber, "Content-Type": "application/json"},
    )
    body = problem(response, 400, "malformed-json")
    assert "'url'" in body["detail"]


@pytest.mark.parametrize(
    ("path", "methods"),
    [
        ("/v1/events", "GET, OPTIONS, POST"),
        ("/v1/subscriptions", "GET, OPTIONS, POST"),
        ("/v1/subscriptions/sub_" + "0" * 24, "DELETE, GET, OPTIONS"),
        ("/v1/health", "GET, OPTIONS"),
    ],
)
async def test_options_names_every_method_of_the_path(api: Api, path: str, methods: str) -> None:
    response = await api.client.options(path)
    assert response.status_code == 204
    assert response.headers["allow"] == methods


async def test_litestars_own_error_pages_are_problem_documents(api: Api) -> None:
    problem(await api.client.get("/v1/no-such-thing"), 404, "not-found")
    preflight = await api.client.options(
        "/v1/events",
        headers={"Origin": "https://elsewhere.example", "Access-Control-Request-Method": "POST"},
    )
    problem(preflight, 400, "cors-refused")
