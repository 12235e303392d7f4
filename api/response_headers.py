"""Headers on every response: the API version and build, and the security headers a public JSON
API should send (the pages and the docs may run their own scripts and styles)."""

from __future__ import annotations

import os
from importlib.metadata import PackageNotFoundError, version

from litestar import Litestar
from litestar.datastructures import MutableScopeHeaders
from litestar.routes import HTTPRoute
from litestar.types import BeforeMessageSendHookHandler, Message, Scope

API_VERSION = "1.0.0"

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
    "Cross-Origin-Resource-Policy": "cross-origin",
    "Permissions-Policy": "interest-cohort=()",
}
API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"
# The docs page (Swagger UI, served from this service: api/docs_ui.py) runs only this origin's
# scripts and styles and talks only to this API; its styles include data: images.
DOCS_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)

# The newsroom page runs only its own script and styles and talks only to this API; an
# event's page (/events/{id}) is held to the same policy, though it runs no script.
PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
# The embeddable page is the same, except that any site may frame it.
EMBED_POLICY = PAGE_POLICY.replace("frame-ancestors 'none'", "frame-ancestors *")


def content_policy(path: str) -> str:
    """The Content-Security-Policy for a path: the API's, the docs', or the pages'."""
    if path.startswith("/v1/docs"):
        return DOCS_POLICY
    if path.startswith("/embed/"):
        return EMBED_POLICY
    if path in ("/", "/desk") or path.startswith(("/static/", "/events/", "/desk/")):
        return PAGE_POLICY
    return API_POLICY


def build() -> str:
    """This build: TIMELINE_BUILD when the deployment sets it, else the package version."""
    configured = os.environ.get("TIMELINE_BUILD")
    if configured:
        return configured
    try:
        return version("diplomatic-timeline")
    except PackageNotFoundError:
        return "unknown"


def response_headers(api_version: str, build_id: str) -> BeforeMessageSendHookHandler:
    """A before-send hook adding the version, build and security headers to every response."""
    fixed = {**SECURITY_HEADERS, "API-Version": api_version, "X-Timeline-Build": build_id}
    encoded = [
        (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in fixed.items()
    ]
    ours = {name for name, _ in encoded} | {b"content-security-policy"}
    policies = {
        policy: (b"content-security-policy", policy.encode("latin-1"))
        for policy in (API_POLICY, DOCS_POLICY, PAGE_POLICY, EMBED_POLICY)
    }

    async def add(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        path = str(scope.get("path", ""))
        headers = MutableScopeHeaders.from_message(message)  # the message's own list
        sent = headers.headers
        present = {name.lower() for name, _ in sent}
        if present.isdisjoint(ours):
            # The usual case, none of ours set by the handler: appended as they are, instead of
            # a case-insensitive scan of the whole list for each of ten headers.
            sent.extend(encoded)
            sent.append(policies[content_policy(path)])
        else:
            for name, value in fixed.items():
                headers[name] = value
            headers["Content-Security-Policy"] = content_policy(path)
        if path.startswith("/embed/"):
            del headers["X-Frame-Options"]
        if scope.get("method") == "OPTIONS" and b"allow" in present:
            headers["Allow"] = allowed_methods(scope["litestar_app"], scope.get("path_template"))

    return add


def allowed_methods(app: Litestar, path_template: object) -> str:
    """Every method of the route at this path. Litestar 2's own OPTIONS answer names only one
    of the handlers that share a path (litestar#4169, fixed in v3)."""
    for route in app.routes:
        if isinstance(route, HTTPRoute) and route.path_format == path_template:
            return ", ".join(sorted(route.methods))
    return "OPTIONS"
