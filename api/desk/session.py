"""Who is at the desk. A sign-in exchanges an API key for a server-side session whose token
travels only in an HttpOnly, SameSite=Strict cookie scoped to /desk; the key itself is never
sent back to the browser. Every form carries a synchronizer token derived from the session
(an HMAC of its token), checked on every post: a page of another site can neither read it nor
make the browser send the cookie, so a forged post is refused twice over. The sign-in form,
made before any session exists, is held to the same rule by a nonce in a cookie of its own."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from litestar import Request
from litestar.datastructures import Cookie

from api.services import Services
from api.settings import DeskSettings
from store.keys import ApiKey
from store.sessions import DeskSession

PATH = "/desk"
SESSION_COOKIE = "desk_session"
SIGN_IN_COOKIE = "desk_sign_in"
WRITE_SCOPE = "events:write"
SIGN_IN_SECONDS = 3600


@dataclass(frozen=True, slots=True)
class Editor:
    """A signed-in editor: the live session and the live key it was opened with."""

    session: DeskSession
    key: ApiKey
    token: str

    @property
    def csrf(self) -> str:
        """The token every form of this session carries."""
        return csrf_token(self.token)


def csrf_token(session_token: str) -> str:
    """The synchronizer token of a session: bound to it, useless without it."""
    return hmac.new(session_token.encode(), b"desk-csrf", hashlib.sha256).hexdigest()


def same_token(expected: str, sent: object) -> bool:
    """Whether a form sent the expected token (compared in constant time)."""
    return isinstance(sent, str) and bool(sent) and hmac.compare_digest(expected, sent)


def desk_settings(request: Request[Any, Any, Any]) -> DeskSettings:
    """The desk's settings, as the app was made with."""
    settings: DeskSettings = request.app.state.desk
    return settings


def _cookie(request: Request[Any, Any, Any], name: str, value: str, max_age: int) -> Cookie:
    # Secure over https (uvicorn reads a trusted proxy's X-Forwarded-Proto into the scheme), or
    # always when configured so; a plain-http cookie marked Secure would never come back.
    secure = desk_settings(request).secure_cookie or request.url.scheme == "https"
    return Cookie(
        key=name,
        value=value,
        path=PATH,
        httponly=True,
        samesite="strict",
        secure=secure,
        max_age=max_age,
    )


def session_cookie(request: Request[Any, Any, Any], token: str) -> Cookie:
    """The cookie that carries a new session's token, for as long as the session can live."""
    lifetime = desk_settings(request).lifetime.absolute
    return _cookie(request, SESSION_COOKIE, token, int(lifetime.total_seconds()))


def sign_in_cookie(request: Request[Any, Any, Any]) -> tuple[Cookie, str]:
    """A fresh sign-in nonce and the cookie that carries it."""
    nonce = secrets.token_urlsafe(24)
    return _cookie(request, SIGN_IN_COOKIE, nonce, SIGN_IN_SECONDS), nonce


def ended(request: Request[Any, Any, Any], name: str) -> Cookie:
    """A cookie that tells the browser to forget `name`."""
    return _cookie(request, name, "", 0)


async def editor_of(request: Request[Any, Any, Any], services: Services) -> Editor | None:
    """The editor whose live session this request's cookie carries, or None. A key revoked,
    or without `events:write` any more, ends its sessions' use at once."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    session = await services.sessions.find(token, services.clock())
    if session is None:
        return None
    key = await services.keys.find(session.key_id)
    if key is None or not key.allows(WRITE_SCOPE):
        return None
    return Editor(session, key, token)
