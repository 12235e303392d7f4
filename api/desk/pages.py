"""The desk's pages: rendering (never cached, never framed), refusals as pages, and sign-in,
sign-out and the desk's front page."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from litestar import Request, Response, get, post
from litestar.datastructures import Cookie, FormMultiDict
from litestar.response import Redirect, Template

from api.dependencies import AppServices
from api.desk import texts
from api.desk.forms import Field
from api.desk.problems import Shown
from api.desk.session import (
    SESSION_COOKIE,
    SIGN_IN_COOKIE,
    WRITE_SCOPE,
    Editor,
    editor_of,
    ended,
    same_token,
    session_cookie,
    sign_in_cookie,
)
from api.problems import handle_exception
from store.ports import EventQuery

NO_STORE = {"Cache-Control": "no-store", "Vary": "Cookie"}
RECENT = 25


class DeskRefusal(Exception):
    """A request the desk refuses with a page saying why (and writes nothing for)."""

    def __init__(self, status: int, heading: str, message: str) -> None:
        super().__init__(message)
        self.status, self.heading, self.message = status, heading, message


def page(
    name: str,
    context: Mapping[str, Any],
    *,
    status: int = 200,
    cookies: list[Cookie] | None = None,
) -> Template:
    """A desk page from templates/desk/`name`.html.j2."""
    return Template(
        template_name=f"desk/{name}.html.j2",
        context={"editor": None, "summary": None, **context},
        status_code=status,
        headers=NO_STORE,
        cookies=cookies or [],
    )


def refusal_page(request: Request[Any, Any, Any], error: Exception) -> Template:
    """Any error on a desk route as a page: the status and words of its problem document."""
    if isinstance(error, DeskRefusal):
        status, heading, message, slug = error.status, error.heading, error.message, None
    else:
        problem = handle_exception(request, error)
        content: Any = problem.content
        status = problem.status_code or 500
        heading, message, slug = content.title, content.detail, content.type
    context = {"status": status, "heading": heading, "message": message, "problem_type": slug}
    return page("refused", context, status=status)


async def posted(
    request: Request[Any, Any, Any], services: AppServices
) -> tuple[Editor, FormMultiDict]:
    """The editor and form of a post from a desk page, or a refusal: 403 for a form without the
    session's token (a forged post), 401 for one whose session has ended."""
    form = await request.form()
    editor = await editor_of(request, services)
    sent = form.get("csrf")
    if editor is None and isinstance(sent, str) and sent:
        raise DeskRefusal(
            401, "Signed out", "Your desk session has ended; sign in again. Nothing was recorded."
        )
    if editor is None or not same_token(editor.csrf, sent):
        raise DeskRefusal(
            403,
            "Refused",
            "This form did not come from a desk page of this session (its CSRF token is missing "
            "or wrong). Nothing was recorded.",
        )
    return editor, form


def sign_in_page(
    request: Request[Any, Any, Any], *, status: int = 200, error: str | None = None
) -> Template:
    """The sign-in form, with a fresh nonce in its own cookie and in the form."""
    cookie, nonce = sign_in_cookie(request)
    key_field = Field(name="key", label="API key", widget="text", required=True)
    summary = None
    if error:
        key_field.errors.append(error)
        summary = [Shown(f"API key: {error}", key_field)]
    context = {"csrf": nonce, "key_field": key_field, "summary": summary}
    return page("sign_in", context, status=status, cookies=[cookie])


@get("/", name="desk")
async def desk_home(request: Request[Any, Any, Any], services: AppServices) -> Template:
    """The desk: the sign-in form, or what a signed-in editor can do and the latest events."""
    editor = await editor_of(request, services)
    if editor is None:
        return sign_in_page(request)
    head = await services.store.head()
    latest = await services.store.read(EventQuery(before=head + 1, limit=RECENT))
    recent = [
        {"id": e.id, "type": e.type, "position": e.position, "summary": _summary(e.draft.payload)}
        for e in latest
    ]
    context = {"editor": editor, "recent": recent, "texts_refusal": texts.refusal(editor.key)}
    return page("home", context)


def _summary(payload: Mapping[str, Any]) -> str:
    for name in ("summary", "headline", "title", "reason"):
        if isinstance(payload.get(name), str):
            return str(payload[name])[:120]
    return " · ".join(str(v) for k, v in payload.items() if k in ("actor", "stance", "source"))


@post("/sign-in", name="desk-sign-in", status_code=303)
async def sign_in(request: Request[Any, Any, Any], services: AppServices) -> Response[Any]:
    """Exchange a key for a session: a cookie for the session's token, never the key."""
    form = await request.form()
    nonce = request.cookies.get(SIGN_IN_COOKIE)
    if not nonce or not same_token(nonce, form.get("csrf")):
        raise DeskRefusal(
            403,
            "Refused",
            "This sign-in did not come from the desk's sign-in page (its CSRF token is missing "
            "or wrong).",
        )
    token = form.get("key")
    token = token.strip() if isinstance(token, str) else ""
    if not token:
        return sign_in_page(request, status=422, error="enter your API key")
    key = await services.keys.authenticate(token)
    if key is None:
        return sign_in_page(request, status=401, error="this key is unknown or revoked")
    if not key.allows(WRITE_SCOPE):
        raise DeskRefusal(
            403,
            "This key cannot open the desk",
            f"The key “{key.name}” may not record events: the desk needs a key with the "
            f"{WRITE_SCOPE!r} scope. Ask for one, or make one with `timeline keys create "
            f"--scope {WRITE_SCOPE}`.",
        )
    _, session_token = await services.sessions.open(key.id, services.clock())
    return Redirect(
        "/desk",
        status_code=303,
        headers=NO_STORE,
        cookies=[session_cookie(request, session_token), ended(request, SIGN_IN_COOKIE)],
    )


@post("/sign-out", name="desk-sign-out", status_code=303)
async def sign_out(request: Request[Any, Any, Any], services: AppServices) -> Response[Any]:
    """Revoke the session on the server (its cookie is then worthless) and forget the cookie."""
    editor, _ = await posted(request, services)
    await services.sessions.revoke(editor.token, services.clock())
    return Redirect(
        "/desk", status_code=303, headers=NO_STORE, cookies=[ended(request, SESSION_COOKIE)]
    )


async def signed_in(request: Request[Any, Any, Any], services: AppServices) -> Editor:
    """The editor of a page that needs one, or a refusal that offers to sign in."""
    editor = await editor_of(request, services)
    if editor is None:
        raise DeskRefusal(401, "Sign in first", "This page is for signed-in editors.")
    return editor
