"""Sources at the desk: register one (outlet, headline, author, date, URL, reliability) and
paste its text, which the engine then checks every quote of it against; read a text back to
highlight quotes in."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from litestar import Request, Response, get, post
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
from domain.event_types import EVENT_TYPES

SOURCE = EVENT_TYPES["SourceRegistered"]
TEXT_HINT = (
    "The article's text, pasted whole. It is kept beside the log and never made public; every "
    "quote of this source must then be found in it."
)


def _text_field(value: str | None = None) -> Field:
    hint = TEXT_HINT
    if not texts.available():
        hint = "Source texts are not available in this build yet (TEXTS-PENDING)."
    return Field(name="text", label="Text", widget="textarea", hint=hint, value=value)


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


@post("/sources", name="desk-register-source", status_code=200)
async def register_source(request: Request[Any, Any, Any], services: AppServices) -> Template:
    """Register the source through the append path, then attach its text if one was pasted."""
    editor, form = await posted(request, services)
    names = await registry(services)
    blank = payload_fields(SOURCE, {}, names.pickers())
    sent = form.get("text")
    text = sent if isinstance(sent, str) else ""
    try:
        payload = read_fields(blank, form, form.getall)
    except FormMistake as mistake:
        return _again(editor, blank, text, [(mistake.name, str(mistake))], 422)
    filled = payload_fields(SOURCE, payload, names.pickers())
    occurred = payload.get("published_on") or services.clock().date().isoformat()
    draft = {"type": "SourceRegistered", "occurred_at": occurred, "payload": payload}
    answer = await append_draft(request, services, editor, "sources", draft, idempotency_key(form))
    if not answer.ok:
        return _again(editor, filled, text, problem_messages(answer.body), answer.status)
    source = str(payload["source"])
    outcome, summary, status = await _attach(services, editor, source, text)
    return source_page(
        editor,
        payload=None,
        text=summary[0].field if summary and summary[0].field else _text_field(),
        action=f"/desk/sources/{source}/text",
        heading=f"Source {source}",
        registered=f"Source {source} registered",
        outcome=outcome,
        summary=summary,
        status=status,
    )


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
    services: AppServices, editor: Editor, source: str, text: str
) -> tuple[list[str], list[Shown] | None, int]:
    """Attach a pasted text: what it found, or the problem beside the text field."""
    if not text.strip():
        return ["No text was pasted; paste it below when you have it."], None, 200
    field = _text_field(text)
    if not editor.key.allows(texts.TEXT_SCOPE):
        message = f"your key lacks the {texts.TEXT_SCOPE!r} scope, so it cannot attach texts"
        return [], place([field], [("text", message)]), 403
    try:
        attached = await texts.attach(services, editor.key, source, text)
    except texts.TextsUnavailable as error:
        return [], place([field], [("text", str(error))]), 501
    return (
        [
            f"Text attached: {attached.characters} characters, SHA-256 {attached.sha256[:16]}….",
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


@post("/sources/{source:str}/text", name="desk-attach-text", status_code=200)
async def attach_text(
    request: Request[Any, Any, Any], services: AppServices, source: SlugPath
) -> Template:
    """Attach (or replace) a registered source's text."""
    editor, form = await posted(request, services)
    sent = form.get("text")
    outcome, summary, status = await _attach(
        services, editor, source, sent if isinstance(sent, str) else ""
    )
    return source_page(
        editor,
        payload=None,
        text=summary[0].field if summary and summary[0].field else _text_field(),
        action=f"/desk/sources/{source}/text",
        heading=f"Source {source}",
        registered="Text attached" if summary is None else None,
        outcome=outcome,
        summary=summary,
        status=status,
    )


@get("/sources/{source:str}/text", name="desk-source-text")
async def source_text(
    request: Request[Any, Any, Any], services: AppServices, source: SlugPath
) -> Response[dict[str, str | None]]:
    """The text of a source for the page to show beside the form, or why there is none (the
    editor's key must hold `sources:text`)."""
    editor = await signed_in(request, services)
    refusal = texts.refusal(editor.key)
    if refusal:
        return Response({"source": source, "text": None, "note": refusal}, status_code=403)
    found = await texts.read(services, editor.key, source)
    note = None if found else f"No text is attached to {source}; paste it on the source's page."
    return Response({"source": source, "text": found, "note": note}, headers=NO_STORE)
