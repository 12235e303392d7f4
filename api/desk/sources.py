"""Sources at the desk: register one (outlet, headline, author, date, URL, reliability) and
paste its text, which the engine then checks every quote of it against; read a text back to
highlight quotes in."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import msgspec
from litestar import Request, Response, get, post
from litestar.datastructures import FormMultiDict
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.response import Template

from api.dependencies import AppServices
from api.desk import texts
from api.desk.drafts import append_draft
from api.desk.forms import Field, FormMistake, payload_fields, read_fields
from api.desk.pages import NO_STORE, DeskRefusal, page, posted, signed_in
from api.desk.problems import Shown, place, problem_messages
from api.desk.reads import registry
from api.desk.recording import idempotency_key
from api.desk.session import Editor
from api.parameters import SlugPath
from api.problems import handle_exception
from api.settings import MAX_BODY_BYTES
from domain.event_types import EVENT_TYPES
from store.errors import InvalidSubmission, UnknownSource
from store.source_texts import check_text

SOURCE = EVENT_TYPES["SourceRegistered"]
TEXT_HINT = (
    "The article's text, pasted whole. It is kept beside the log and never made public; every "
    "quote of this source must then be found in it."
)
# A source's form carries its text (sent as multipart, so UTF-8 as it is): room for a text as
# large as the API's own limit on a body, and for the registration's other fields beside it.
FORM_BYTES = MAX_BODY_BYTES + 64 * 1024


def pasted(form: FormMultiDict) -> str:
    """The text pasted in a form, its line breaks as typed: a browser sends a textarea's as
    CR LF whatever they were, and the text attached is the article's, with LF as any file."""
    sent = form.get("text")
    return sent.replace("\r\n", "\n") if isinstance(sent, str) else ""


def _text_field(value: str | None = None) -> Field:
    return Field(name="text", label="Text", widget="textarea", hint=TEXT_HINT, value=value)


async def _posted(
    request: Request[Any, Any, Any], services: AppServices
) -> tuple[Editor, FormMultiDict] | Template:
    """The editor and form of a source's post; a form too large to read is the form again (as
    the editor must fill it anew), the problem named on its text field."""
    try:
        return await posted(request, services)
    except RequestEntityTooLarge:
        editor = await signed_in(request, services)
        message = (
            f"the form is larger than the {FORM_BYTES // 1024} KiB the desk takes; "
            "paste a shorter text (the article alone, without the page around it)"
        )
        text = _text_field()
        names = await registry(services)
        register = request.url.path.rstrip("/").endswith("/desk/sources")
        payload = payload_fields(SOURCE, {}, names.pickers()) if register else None
        return source_page(
            editor,
            payload=payload,
            text=text,
            action=request.url.path,
            heading="Register a source" if register else "Attach a text",
            summary=place([text], [("text", message)]),
            status=413,
        )


def source_page(
    editor: Editor,
    *,
    payload: list[Field] | None,
    text: Field,
    action: str,
    heading: str,
    registered: str | None = None,
    outcome: list[str] | None = None,
    summary: list[Shown] | None = None,
    status: int = 200,
) -> Template:
    """A source's form: registration and text, or the text alone for a registered source."""
    context = {
        "editor": editor,
        "payload": payload,
        "text": text,
        "action": action,
        "heading": heading,
        "button": "Register the source" if payload else "Attach the text",
        "registered": registered,
        "outcome": outcome or [],
        "summary": summary,
        "idempotency_key": str(uuid4()),
    }
    return page("source", context, status=status)


@get("/sources/new", name="desk-new-source")
async def new_source(request: Request[Any, Any, Any], services: AppServices) -> Template:
    """An empty registration form, with room for the text."""
    editor = await signed_in(request, services)
    names = await registry(services)
    fields = payload_fields(SOURCE, {}, names.pickers())
    return source_page(
        editor,
        payload=fields,
        text=_text_field(),
        action="/desk/sources",
        heading="Register a source",
    )


@post(
    "/sources",
    name="desk-register-source",
    status_code=200,
    request_max_body_size=FORM_BYTES,
)
async def register_source(request: Request[Any, Any, Any], services: AppServices) -> Template:
    """Register the source through the append path, then attach its text if one was pasted."""
    read = await _posted(request, services)
    if isinstance(read, Template):
        return read
    editor, form = read
    names = await registry(services)
    blank = payload_fields(SOURCE, {}, names.pickers())
    text = pasted(form)
    try:
        payload = read_fields(blank, form, form.getall)
    except FormMistake as mistake:
        return _again(editor, blank, text, [(mistake.name, str(mistake))], 422)
    filled = payload_fields(SOURCE, payload, names.pickers())
    refused = _text_refused(editor, text)
    if refused is not None:
        return _again(editor, filled, text, [("text", refused[0])], refused[1])
    occurred = payload.get("published_on") or services.clock().date().isoformat()
    draft = {"type": "SourceRegistered", "occurred_at": occurred, "payload": payload}
    answer = await append_draft(request, services, editor, "sources", draft, idempotency_key(form))
    if not answer.ok:
        return _again(editor, filled, text, problem_messages(answer.body), answer.status)
    source = str(payload["source"])
    outcome, summary, status = await _attach(request, services, editor, source, text)
    return _text_page(editor, source, f"Source {source} registered", outcome, summary, status)


def _text_page(
    editor: Editor,
    source: str,
    registered: str | None,
    outcome: list[str],
    summary: list[Shown] | None,
    status: int,
) -> Template:
    """A registered source's text form after an attempt to attach one: its problems on the
    text field when there are any."""
    return source_page(
        editor,
        payload=None,
        text=summary[0].field if summary and summary[0].field else _text_field(),
        action=f"/desk/sources/{source}/text",
        heading=f"Source {source}",
        registered=registered,
        outcome=outcome,
        summary=summary,
        status=status,
    )


def _text_refused(editor: Editor, text: str) -> tuple[str, int] | None:
    """Why a pasted text could not be attached, known before the source is registered (so that
    a refusal writes nothing): the key's scope, or the text itself."""
    if not text.strip():
        return None
    if not editor.key.allows(texts.TEXT_SCOPE):
        return (
            f"your key lacks the {texts.TEXT_SCOPE!r} scope, so it cannot attach texts; "
            "register the source without its text (and ask for the scope to attach it)",
            403,
        )
    try:
        check_text(text, "text")
    except InvalidSubmission as error:
        return "; ".join(e.message for e in error.errors), 422
    return None


def _again(
    editor: Editor, fields: list[Field], text: str, messages: list[tuple[str, str]], status: int
) -> Template:
    text_field = _text_field(text)
    summary = place([*fields, text_field], messages)
    return source_page(
        editor,
        payload=fields,
        text=text_field,
        action="/desk/sources",
        heading="Register a source",
        summary=summary,
        status=status,
    )


async def _attach(
    request: Request[Any, Any, Any], services: AppServices, editor: Editor, source: str, text: str
) -> tuple[list[str], list[Shown] | None, int]:
    """Attach a pasted text: what it found, or the service's refusal beside the text field
    (every refusal of an attachment is about the text: its size, its characters, the scope)."""
    if not text.strip():
        return ["No text was pasted; paste it below when you have it."], None, 200
    field = _text_field(text)
    if not editor.key.allows(texts.TEXT_SCOPE):
        message = (
            f"your key lacks the {texts.TEXT_SCOPE!r} scope, so it cannot attach texts; the "
            "source is registered without one"
        )
        return [], place([field], [("text", message)]), 403
    try:
        attached = await texts.attach(services, editor.key, source, text)
    except Exception as error:  # the problem document the API would send, on the text field
        problem = handle_exception(request, error)
        body = msgspec.to_builtins(problem.content)
        messages = [("text", message) for _, message in problem_messages(body, prefix="")]
        return [], place([field], messages), problem.status_code or 500
    state = "attached" if attached.created else "already attached (nothing changed)"
    return (
        [
            f"Text {state}: {attached.characters} characters, SHA-256 {attached.sha256[:16]}….",
            f"Its existing citations: {attached.verified} verified, {attached.failed} not found.",
        ],
        None,
        200,
    )


@get("/sources/{source:str}", name="desk-source")
async def desk_source(
    request: Request[Any, Any, Any], services: AppServices, source: SlugPath
) -> Template:
    """A registered source's text form (to attach or replace it)."""
    editor = await signed_in(request, services)
    names = await registry(services)
    if source not in names.sources:
        raise DeskRefusal(404, "No such source", f"No source {source!r} is registered.")
    return source_page(
        editor,
        payload=None,
        text=_text_field(),
        action=f"/desk/sources/{source}/text",
        heading=names.sources[source],
    )


@post(
    "/sources/{source:str}/text",
    name="desk-attach-text",
    status_code=200,
    request_max_body_size=FORM_BYTES,
)
async def attach_text(
    request: Request[Any, Any, Any], services: AppServices, source: SlugPath
) -> Template:
    """Attach (or replace) a registered source's text."""
    read = await _posted(request, services)
    if isinstance(read, Template):
        return read
    editor, form = read
    text = pasted(form)
    outcome: list[str] = []
    summary: list[Shown] | None = place([_text_field()], [("text", "paste the text")])
    status = 422
    if text.strip():
        outcome, summary, status = await _attach(request, services, editor, source, text)
    registered = "Text attached" if summary is None else None
    return _text_page(editor, source, registered, outcome, summary, status)


@get("/sources/{source:str}/text", name="desk-source-text")
async def source_text(
    request: Request[Any, Any, Any], services: AppServices, source: SlugPath
) -> Response[dict[str, str | None]]:
    """The text of a source for the page to show beside the form, or why there is none (the
    editor's key must hold `sources:text`)."""
    editor = await signed_in(request, services)
    refusal = texts.refusal(editor.key)
    if refusal:
        return Response(
            {"source": source, "text": None, "note": refusal}, status_code=403, headers=NO_STORE
        )
    try:
        found = await texts.read(services, editor.key, source)
    except UnknownSource:
        note = f"No source {source!r} is registered."
        return Response(
            {"source": source, "text": None, "note": note}, status_code=404, headers=NO_STORE
        )
    missing = f"No text is attached to {source}; paste it on the source's page."
    return Response(
        {"source": source, "text": found, "note": None if found else missing}, headers=NO_STORE
    )
