"""Recording an event at the desk: choose a type, fill the form built from its schema (quotes
highlighted in the source's text beside it), preview it with what it changes, append it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any
from uuid import uuid4

import msgspec
from litestar import Request, Response, get, post
from litestar.params import QueryParameter
from litestar.response import Redirect, Template

from api.dependencies import AppServices
from api.desk import texts
from api.desk.drafts import EventForm, append_draft, event_form, read_event
from api.desk.forms import FormMistake, humane
from api.desk.pages import NO_STORE, DeskRefusal, page, posted, signed_in
from api.desk.preview import what_changes
from api.desk.problems import place, problem_messages
from api.desk.reads import Registry, registry
from api.desk.session import Editor
from domain.drafts import draft_from_json
from domain.errors import DomainError, InvalidEvent
from domain.event_types import EVENT_TYPES, EventType, Kind
from domain.exports.dates import display_date, span_of

IDEMPOTENCY_KEY = re.compile(r"^[\x20-\x7e]{1,255}$")
# Sources are registered on their own page (with their text); editorial events start from the
# event they concern.
RECORDABLE = tuple(
    t for t in EVENT_TYPES.values() if t.kind is not Kind.EDITORIAL and t.name != "SourceRegistered"
)


def _kind(name: object) -> EventType:
    found = EVENT_TYPES.get(name) if isinstance(name, str) else None
    if found is None or found not in RECORDABLE:
        raise DeskRefusal(404, "No such form", f"The desk has no form for events of type {name!r}.")
    return found


def idempotency_key(form: Mapping[str, Any]) -> str | None:
    """The form's Idempotency-Key, when it is one the API would take."""
    sent = form.get("idempotency_key")
    return sent if isinstance(sent, str) and IDEMPOTENCY_KEY.match(sent) else None


def record_page(
    editor: Editor,
    form: EventForm,
    *,
    status: int = 200,
    problem: Mapping[str, Any] | None = None,
    mistakes: list[tuple[str, str]] | None = None,
) -> Template:
    """The form of one event, with a problem's messages beside the inputs they name."""
    messages = list(mistakes or []) + (problem_messages(problem) if problem else [])
    summary = place(form.fields, messages) if messages else None
    description = (form.kind.versions[form.kind.current_version].__doc__ or "").strip()
    context = {
        "editor": editor,
        "kind": form.kind,
        "description": description,
        "when": form.when,
        "payload": form.payload,
        "sources": form.sources,
        "stream": form.stream,
        "summary": summary,
        "texts_refusal": texts.refusal(editor.key),
    }
    return page("record", context, status=status)


@get("/events/new", name="desk-new-event")
async def new_event(
    request: Request[Any, Any, Any],
    services: AppServices,
    type: Annotated[str | None, QueryParameter(max_length=100)] = None,
) -> Template:
    """The type chooser, or the chosen type's empty form."""
    editor = await signed_in(request, services)
    if type is None:
        types = [{"name": t.name, "description": _doc(t)} for t in RECORDABLE]
        return page("choose", {"editor": editor, "types": types})
    kind = _kind(type)
    names = await registry(services)
    return record_page(editor, event_form(kind, {}, "", names.pickers()))


def _doc(kind: EventType) -> str:
    return (kind.versions[kind.current_version].__doc__ or "").strip()


@post("/events/preview", name="desk-preview-event", status_code=200)
async def preview_event(request: Request[Any, Any, Any], services: AppServices) -> Template:
    """The event as it will be appended and what it changes; or the form again, with what is
    wrong beside the inputs it concerns."""
    editor, form = await posted(request, services)
    kind = _kind(form.get("type"))
    names = await registry(services)
    blank = event_form(kind, {}, "", names.pickers())
    try:
        draft, stream = read_event(blank, form, form.getall)
    except FormMistake as mistake:
        return record_page(editor, blank, status=422, mistakes=[(mistake.name, str(mistake))])
    filled = event_form(kind, draft, stream, names.pickers())
    draft["id"] = str(uuid4())
    try:
        checked = draft_from_json(draft, now=services.clock(), default_id=uuid4())
    except InvalidEvent as error:
        return record_page(editor, filled, status=422, mistakes=[(error.field, error.message)])
    except DomainError as error:
        return record_page(editor, filled, status=422, mistakes=[("", str(error))])
    misquotes = await texts.misquoted(services, checked)
    if misquotes:
        return record_page(editor, filled, status=422, mistakes=misquotes)
    context = {
        "editor": editor,
        "draft": draft,
        "draft_json": msgspec.json.encode(draft).decode(),
        "stream": stream,
        "idempotency_key": str(uuid4()),
        "when": display_date(span_of(checked.valid_time)),
        "facts": facts(checked.payload, names),
        "source_names": names.sources,
        "changes": await what_changes(services, checked, names),
    }
    return page("preview", context)


def facts(payload: Mapping[str, Any], names: Registry) -> list[tuple[str, str]]:
    """A payload as label and words, actors and proposals by name."""

    def words(value: Any) -> str:
        if isinstance(value, list):
            return "; ".join(words(v) for v in value)
        if isinstance(value, Mapping):
            if "id" in value and "text" in value:
                return f"{value['text']} ({value['id']})"
            return ", ".join(f"{humane(str(k))}: {words(v)}" for k, v in value.items())
        text = str(value)
        return names.actors.get(text) or names.proposals.get(text) or text

    return [(humane(k), words(v)) for k, v in payload.items()]


def _posted_draft(form: Mapping[str, Any]) -> tuple[dict[str, Any], str]:
    try:
        draft = msgspec.json.decode(str(form.get("draft") or ""))
    except msgspec.DecodeError:
        draft = None
    if not isinstance(draft, dict):
        raise DeskRefusal(400, "Not a draft", "The form carried no draft to append; start again.")
    stream = form.get("stream")
    return draft, stream if isinstance(stream, str) else ""


@post("/events/edit", name="desk-edit-event", status_code=200)
async def edit_event(request: Request[Any, Any, Any], services: AppServices) -> Template:
    """Back from the preview to the form, filled as it was."""
    editor, form = await posted(request, services)
    draft, stream = _posted_draft(form)
    kind = _kind(draft.get("type"))
    names = await registry(services)
    return record_page(editor, event_form(kind, draft, stream, names.pickers()))


@post("/events", name="desk-append-event", status_code=303)
async def append_event(request: Request[Any, Any, Any], services: AppServices) -> Response[Any]:
    """Append the previewed draft through the API's append path, once per form however often
    it is sent; then the event's desk page, or the form with the API's problem placed."""
    editor, form = await posted(request, services)
    draft, stream = _posted_draft(form)
    kind = _kind(draft.get("type"))
    answer = await append_draft(request, services, editor, stream, draft, idempotency_key(form))
    if answer.ok:
        event_id = answer.body["events"][0]["id"]
        return Redirect(f"/desk/events/{event_id}?recorded=1", status_code=303, headers=NO_STORE)
    names = await registry(services)
    filled = event_form(kind, draft, stream, names.pickers())
    return record_page(editor, filled, status=answer.status, problem=answer.body)
