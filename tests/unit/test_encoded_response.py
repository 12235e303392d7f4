"""The fast paths of the response: each sends exactly what Litestar's own path sends."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from litestar import Litestar, Request, Response, get
from litestar.datastructures import MutableScopeHeaders
from litestar.testing import create_test_client

from api.encoded_response import EncodedJson
from api.response_headers import (
    API_POLICY,
    EMBED_POLICY,
    SECURITY_HEADERS,
    content_policy,
    response_headers,
)

# Header names and values as a handler might set them: any case, latin-1 text.
names = st.sampled_from(
    ["ETag", "Cache-Control", "Vary", "Last-Modified", "Content-Type", "content-length", "Link"]
)
values = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=20)


async def sent(response: Any, scope: dict[str, Any]) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []

    async def send(message: Any) -> None:
        messages.append(message)

    async def receive() -> Any:
        return {"type": "http.request", "body": b"", "more_body": False}

    await response(scope, receive, send)
    return messages


def request(method: str = "GET") -> Request[Any, Any, Any]:
    app = Litestar()
    scope = {
        "type": "http",
        "method": method,
        "path": "/",
        "headers": [],
        "query_string": b"",
        "app": app,
        "litestar_app": app,
    }
    return Request(scope)  # type: ignore[arg-type]


@given(
    body=st.binary(max_size=64),
    headers=st.dictionaries(names, values, max_size=4),
    route_headers=st.dictionaries(names, values, max_size=2),
)
async def test_an_encoded_answer_sends_what_litestar_sends(
    body: bytes, headers: dict[str, str], route_headers: dict[str, str]
) -> None:
    # Litestar's Response keeps the last of two names differing in case only as two entries:
    # so does the fast path (both keep the dict as given).
    fast = EncodedJson(body, dict(headers)).to_asgi_response(
        None, request(), headers=dict(route_headers)
    )
    usual = Response(content=body, media_type="application/json", headers=dict(headers))
    oracle = usual.to_asgi_response(None, request(), headers=dict(route_headers))

    assert await sent(fast, {}) == await sent(oracle, {})


@given(body=st.binary(max_size=64), headers=st.dictionaries(names, values, max_size=4))
def test_an_encoded_answer_is_made_as_litestars_response_is_made(
    body: bytes, headers: dict[str, str]
) -> None:
    # Its own __init__ sets what Response's sets: every slot, to the same values.
    fast = EncodedJson(body, headers)
    usual = Response(content=body, media_type="application/json", headers=headers)
    for name in Response.__slots__:
        assert getattr(fast, name) == getattr(usual, name), name


@pytest.mark.parametrize("method", ["HEAD", "POST"])
async def test_anything_but_a_get_takes_litestars_own_path(method: str) -> None:
    answer = EncodedJson(b"{}", {"ETag": '"x"'}).to_asgi_response(None, request(method))

    assert type(answer).__name__ == "ASGIResponse"


async def apply_hook(headers: list[tuple[bytes, bytes]], path: str, method: str = "GET") -> Any:
    hook = response_headers("1.0.0", "test")
    message: dict[str, Any] = {"type": "http.response.start", "status": 200, "headers": headers}
    await hook(message, {"path": path, "method": method})  # type: ignore[arg-type]
    return message["headers"]


async def hook_by_hand(headers: list[tuple[bytes, bytes]], path: str) -> Any:
    """The hook as it was: each header set through Litestar's case-insensitive multidict."""
    message = {"type": "http.response.start", "headers": headers}
    mutable = MutableScopeHeaders.from_message(message)  # type: ignore[arg-type]
    for name, value in {
        **SECURITY_HEADERS,
        "API-Version": "1.0.0",
        "X-Timeline-Build": "test",
    }.items():
        mutable[name] = value
    mutable["Content-Security-Policy"] = content_policy(path)
    if path.startswith("/embed/"):
        del mutable["X-Frame-Options"]
    return message["headers"]


@given(
    handler_set=st.dictionaries(
        st.sampled_from(["ETag", "X-Frame-Options", "content-security-policy", "Vary"]),
        values,
        max_size=3,
    ),
    path=st.sampled_from(["/v1/timeline", "/", "/embed/p", "/v1/docs", "/static/x.js"]),
)
async def test_the_headers_hook_sets_what_setting_each_header_would(
    handler_set: dict[str, str], path: str
) -> None:
    given_headers = [(k.lower().encode(), v.encode()) for k, v in handler_set.items()]

    assert await apply_hook(list(given_headers), path) == await hook_by_hand(
        list(given_headers), path
    )


async def test_every_response_of_the_app_carries_the_security_headers() -> None:
    @get("/x", sync_to_thread=False)
    def handler() -> Response[bytes]:
        return EncodedJson(b"{}", {"ETag": '"e"'})

    with create_test_client([handler], before_send=[response_headers("1.0.0", "test")]) as client:
        response = client.get("/x")

    assert response.headers["content-security-policy"] == API_POLICY
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["etag"] == '"e"'
    assert response.headers["content-type"] == "application/json"
    assert EMBED_POLICY != API_POLICY
