"""From any event: correct it (its time or its payload, the form of its type filled with what
it says now), retract it or dispute it, each with a reason; appended as EventCorrected,
EventRetracted or EventDisputed through the API's append path."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any
from uuid import UUID, uuid4

from litestar import Request, Response, get, post
from litestar.datastructures import FormMultiDict
from litestar.params import PathParameter, QueryParameter
from litestar.response import Redirect, Template

from api.dependencies import AppServices
from api.desk.drafts import Answer, append_draft
from api.desk.forms import Field, FormMistake, Pickers, payload_fields, read_fields
from api.desk.pages import NO_STORE, DeskRefusal, page, posted, signed_in
from api.desk.problems import Shown, place, problem_messages
from api.desk.reads import registry
from api.desk.recording import facts, idempotency_key
from api.desk.session import Editor
from domain.drafts import validate_payload
from domain.errors import DomainError
from domain.event_types import Kind
from domain.exports.dates import display_date, span_of
from store.records import RecordedEvent

REASON_HINT = "Why, in a sentence or two: it is shown beside the event."
ACTIONS = {
    "dispute": ("EventDisputed", "Dispute it", "The event stays on record, flagged as doubtful."),
    "retract": ("EventRetracted", "Retract it", "The event is withdrawn from the record."),
    "correct": (
        "EventCorrected",
        "Correct it",
        "Change its time or what it says; the original stays in the log.",
    ),
}


@dataclass(slots=True, kw_only=True)
class EditorialForm:
    """One of the three forms on an event's desk page."""

    action: str
    title: str
    help: str
    button: str
    fields: list[Field]
    idempotency_key: str = field(default_factory=lambda: str(uuid4()))


def _reason(value: str | None = None) -> Field:
    return Field(
        name="payload.reason",
        label="Reason",
        widget="textarea",
        required=True,
        hint=REASON_HINT,
        value=value,
    )


def editorial_forms(
    event: RecordedEvent, pickers: Pickers, posted_values: dict[str, Any] | None = None
) -> list[EditorialForm]:
    """The forms an event offers: all three for a world or registration event, retraction
    alone for an editorial one."""
    kind = event.draft.event_type
    actions = ["retract"] if kind.kind is Kind.EDITORIAL else ["dispute", "retract", "correct"]
    made = []
    for action in actions:
        _, title, help_text = ACTIONS[action]
        fields = [_reason()]
        if action == "correct":
            values = posted_values or {}
            fields = [
                Field(
                    name="payload.occurred_at",
                    label="Occurred at",
                    widget="text",
                    value=values.get("occurred_at", event.draft.valid_time.expression),
                ),
                Field(
                    name="payload.timezone",
                    label="Time zone",
                    widget="text",
                    value=values.get("timezone", event.draft.valid_time.timezone),
                ),
                Field(
                    name="payload.payload",
                    label="What it says",
                    widget="group",
                    hint="As it stands now; change what is wrong.",
                    children=payload_fields(
                        kind,
                        values.get("payload", event.current_payload()),
                        pickers,
                        prefix="payload.payload",
                    ),
                ),
                _reason(values.get("reason")),
            ]
        made.append(
            EditorialForm(action=action, title=title, help=help_text, button=title, fields=fields)
        )
    return made


async def _event(services: AppServices, event_id: str) -> RecordedEvent:
    try:
        wanted = UUID(event_id) if len(event_id) <= 36 else None
    except ValueError:
        wanted = None
    event = None if wanted is None else await services.store.get(wanted)
    if event is None:
        raise DeskRefusal(404, "No such event", f"There is no event {event_id!r} in the log.")
    return event


async def event_page(
    services: AppServices,
    editor: Editor,
    event: RecordedEvent,
    *,
    recorded: bool = False,
    forms: list[EditorialForm] | None = None,
    summary: list[Shown] | None = None,
    status: int = 200,
) -> Template:
    """An event as the desk shows it, with its editorial forms."""
    names = await registry(services)
    payload = event.current_payload()
    context = {
        "editor": editor,
        "event": event,
        "recorded": recorded,
        "proposal": payload.get("proposal"),
        "when": display_date(span_of(event.draft.valid_time)),
        "facts": facts(payload, names),
        "editorial_forms": forms if forms is not None else editorial_forms(event, names.pickers()),
        "summary": summary,
    }
    return page("event", context, status=status)


@get("/events/{event_id:str}", name="desk-event")
async def desk_event(
    request: Request[Any, Any, Any],
    services: AppServices,
    event_id: Annotated[str, PathParameter()],
    recorded: Annotated[str, QueryParameter(max_length=1)] = "",
) -> Template:
    """One event, and how to correct, retract or dispute it."""
    editor = await signed_in(request, services)
    event = await _event(services, event_id)
    return await event_page(services, editor, event, recorded=recorded == "1")


@post("/events/{event_id:str}/{action:str}", name="desk-editorial", status_code=303)
async def editorial(
    request: Request[Any, Any, Any],
    services: AppServices,
    event_id: Annotated[str, PathParameter()],
    action: Annotated[str, PathParameter()],
) -> Response[Any]:
    """Append the correction, retraction or dispute; then its own desk page."""
    editor, form = await posted(request, services)
    event = await _event(services, event_id)
    names = await registry(services)
    forms = editorial_forms(event, names.pickers())
    chosen = next((f for f in forms if f.action == action), None)
    if chosen is None:
        raise DeskRefusal(404, "No such action", f"An event of this kind cannot be {action!r}ed.")
    try:
        payload = read_fields(chosen.fields, form, form.getall)
    except FormMistake as mistake:
        return await _refused(services, editor, event, chosen, form, [(mistake.name, str(mistake))])
    payload["target"] = str(event.id)
    if action == "correct":
        payload = _only_changes(event, payload)
    draft = {
        "id": str(uuid4()),
        "type": ACTIONS[action][0],
        "occurred_at": _today(services),
        "payload": payload,
    }
    answer: Answer = await append_draft(
        request, services, editor, "editorial", draft, idempotency_key(form)
    )
    if answer.ok:
        new_id = answer.body["events"][0]["id"]
        return Redirect(f"/desk/events/{new_id}?recorded=1", status_code=303, headers=NO_STORE)
    return await _refused(
        services, editor, event, chosen, form, problem_messages(answer.body), answer.status
    )


def _only_changes(event: RecordedEvent, payload: dict[str, Any]) -> dict[str, Any]:
    """A correction names only what it changes: the time, the zone, the payload."""
    if payload.get("occurred_at") == event.draft.valid_time.expression:
        payload.pop("occurred_at")
    if payload.get("timezone") == event.draft.valid_time.timezone:
        payload.pop("timezone")
    kind = event.draft.event_type
    try:
        same = validate_payload(kind, kind.current_version, payload.get("payload")) == (
            event.current_payload()
        )
    except DomainError:
        same = False
    if same:
        payload.pop("payload")
    return payload


def _today(services: AppServices) -> str:
    return services.clock().date().isoformat()


async def _refused(
    services: AppServices,
    editor: Editor,
    event: RecordedEvent,
    chosen: EditorialForm,
    form: FormMultiDict,
    messages: list[tuple[str, str]],
    status: int = 422,
) -> Template:
    names = await registry(services)
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    forms = editorial_forms(event, names.pickers())
    for made in forms:
        for f in made.fields:
            if made.action == chosen.action and f.name in values and f.widget != "group":
                f.value = values[f.name]
    again = next(f for f in forms if f.action == chosen.action)
    summary = place(again.fields, messages)
    return await event_page(services, editor, event, forms=forms, summary=summary, status=status)
