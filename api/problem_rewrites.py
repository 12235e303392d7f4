"""Error responses Litestar writes itself, outside the exception handler, rewritten as problem
documents so that every error the API sends has one shape: the OpenAPI router's HTML 404 for an
unknown path under /v1 (it owns /v1/{path}), and the CORS middleware's text/plain refusal of a
preflight for a method other origins may not use. Pages for people outside /v1 keep their own
HTML error pages."""

from __future__ import annotations

import msgspec
from litestar.datastructures import MutableScopeHeaders
from litestar.types import BeforeMessageSendHookHandler, Message, Scope

from api.problems import PROBLEM_JSON, TYPE_BASE, Problem

_PENDING = "timeline.problem_body"
_KNOWN = {
    404: ("not-found", "Not found", "no such resource"),
    400: (
        "cors-refused",
        "Not allowed from another origin",
        "other origins may only use GET, HEAD and OPTIONS",
    ),
}


def _page_of_its_own(scope: Scope, content_type: str) -> bool:
    """An HTML error page answered outside /v1 (an event page's 404) is meant for a person;
    under /v1 HTML can only be the OpenAPI router's, which is rewritten."""
    path = str(scope.get("path", ""))
    if path == "/desk" or path.startswith("/desk/"):  # the desk's pages and plain texts
        return True
    return content_type.startswith("text/html") and not path.startswith("/v1/")


def problem_bodies() -> BeforeMessageSendHookHandler:
    """A before-send hook replacing a non-problem error body with a problem document."""

    async def rewrite(message: Message, scope: Scope) -> None:
        if message["type"] == "http.response.start":
            status = message["status"]
            headers = MutableScopeHeaders.from_message(message)
            if status < 400 or headers.get("content-type", "").startswith(PROBLEM_JSON):
                return
            if _page_of_its_own(scope, headers.get("content-type", "")):
                return
            slug, title, detail = _KNOWN.get(status, ("error", "Error", "the request failed"))
            body = msgspec.json.encode(
                Problem(
                    type=TYPE_BASE + slug,
                    title=title,
                    status=status,
                    detail=detail,
                    instance=str(scope.get("path", "")) or None,
                )
            )
            headers["Content-Type"] = PROBLEM_JSON
            headers["Content-Length"] = str(len(body))
            scope[_PENDING] = body  # type: ignore[literal-required]
        elif message["type"] == "http.response.body" and _PENDING in scope:
            message["body"] = scope.pop(_PENDING, b"")  # type: ignore[misc]
            message["more_body"] = False

    return rewrite
