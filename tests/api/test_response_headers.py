"""Every response, whatever its status, names the API version and build and carries the
security headers; the docs page alone may load its scripts."""

from __future__ import annotations

import pytest

from api.response_headers import API_POLICY, API_VERSION, DOCS_POLICY, SECURITY_HEADERS
from tests.support.api import Api

REQUESTS = [
    ("GET", "/v1/health", 200),
    ("GET", "/v1/nowhere", 404),
    ("POST", "/v1/events", 401),
    ("DELETE", "/v1/health", 405),
    ("GET", "/v1/events?limit=0", 400),
]


@pytest.mark.parametrize(("method", "path", "status"), REQUESTS)
async def test_every_answer_carries_the_version_and_the_security_headers(
    api: Api, method: str, path: str, status: int
) -> None:
    response = await api.client.request(method, path)
    assert response.status_code == status
    assert response.headers["API-Version"] == API_VERSION
    assert response.headers["X-Timeline-Build"]
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value
    assert response.headers["Content-Security-Policy"] == API_POLICY


async def test_the_docs_page_may_load_its_scripts(api: Api) -> None:
    response = await api.client.get("/v1/docs")
    assert response.status_code == 200
    assert response.headers["Content-Security-Policy"] == DOCS_POLICY
    assert "script-src" in DOCS_POLICY and "script-src" not in API_POLICY


async def test_cross_origin_writes_are_not_allowed(api: Api) -> None:
    preflight = await api.client.options(
        "/v1/events",
        headers={"Origin": "https://elsewhere.example", "Access-Control-Request-Method": "POST"},
    )
    assert "POST" not in preflight.headers.get("access-control-allow-methods", "")
    read = await api.client.get("/v1/health", headers={"Origin": "https://elsewhere.example"})
    assert read.headers["access-control-allow-origin"] == "*"
