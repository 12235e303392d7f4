"""An event's form at the desk, both ways: the inputs for a type (when, what, sources, stream),
filled from a draft; and the draft a posted form makes. Appending goes through the API's own
append path (api.appending), in-process, and its answer comes back as status and JSON."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import msgspec
from litestar import Request

from api.appending import append
from api.desk.forms import (
    Field,
    Pickers,
    citation_rows,
    payload_fields,
    read_citations,
    read_fields,
)
from api.desk.session import Editor
from api.problems import handle_exception
from api.services import Services
from domain.event_types import EventType, JsonObject, Kind

OCCURRED_HINT = (
    "When it happened: an RFC 3339 time with its offset (2025-03-13T18:00+03:00), a date "
    "(2025-03-13), an uncertain one (2025-03-13?) or an interval "
    "(2025-03-13T18+03:00/2025-03-13T23+03:00)."
)
TIMEZONE_HINT = "Where a date alone is read, as an IANA zone (Europe/Moscow); UTC if left empty."
STREAM_HINT = (
    "The stream the event is appended to. Left empty: the proposal's stream for an event about "
    "a proposal (proposal-<id>), `actors` for actors, else `desk`."
)


@dataclass(slots=True, kw_only=True)
class EventForm:
    """The inputs of one event's form, grouped as the page shows them."""

    kind: EventType
    when: list[Field]
    payload: list[Field]
    sources: Field | None
    stream: Field

    @property
    def fields(self) -> list[Field]:
        """Every top-level input, in form order."""
        return [*self.when, *self.payload, *([self.sources] if self.sources else []), self.stream]


def default_stream(kind: EventType, payload: Mapping[str, Any]) -> str:
    """Where an event goes unless the editor says otherwise: a proposal's stream for events
    about one, the registries' streams for registrations, else the desk's."""
    if kind.name == "SourceRegistered":
        return "sources"
    if kind.name in ("ActorRegistered", "AffiliationChanged"):
        return "actors"
    if kind.kind is Kind.EDITORIAL:
        return "editorial"
    proposal = payload.get("proposal")
    if isinstance(proposal, str) and proposal:
        return f"proposal-{proposal}"
    return "desk"


def event_form(
    kind: EventType, draft: Mapping[str, Any], stream: str, pickers: Pickers
) -> EventForm:
    """The form for an event of `kind`, filled from a draft (its JSON form)."""
    payload = draft.get("payload") if isinstance(draft.get("payload"), Mapping) else {}
    when = [
        Field(
            name="occurred_at",
            label="Occurred at",
            widget="text",
            required=True,
            hint=OCCURRED_HINT,
            value=draft.get("occurred_at"),
        ),
        Field(
            name="timezone",
            label="Time zone",
            widget="text",
            hint=TIMEZONE_HINT,
            value=draft.get("timezone"),
        ),
    ]
    sources = None
    if kind.kind is Kind.WORLD:
        given = draft.get("sources")
        listed = [s for s in given if isinstance(s, Mapping)] if isinstance(given, list) else []
        sources = Field(
            name="sources",
            label="Sources",
            widget="rows",
            required=True,
            hint="Every event about the world cites at least one registered source.",
            rows=citation_rows(listed, pickers),
        )
    return EventForm(
        kind=kind,
        when=when,
        payload=payload_fields(kind, payload or {}, pickers),
        sources=sources,
        stream=Field(
            name="stream",
            label="Stream",
            widget="text",
            hint=STREAM_HINT,
            value=stream or None,
        ),
    )


def read_event(form: EventForm, posted: Mapping[str, Any], getall: Any) -> tuple[JsonObject, str]:
    """The draft (JSON form) and stream a posted event form gives. Raises FormMistake."""
    draft: JsonObject = {"type": form.kind.name}
    envelope = read_fields(form.when, posted, getall)
    draft.update(envelope)
    draft["payload"] = read_fields(form.payload, posted, getall)
    if form.sources is not None:
        draft["sources"] = read_citations(posted)
    if "occurred_at" not in draft:
        draft["occurred_at"] = ""
    stream = posted.get("stream")
    stream = stream.strip() if isinstance(stream, str) else ""
    return draft, stream or default_stream(form.kind, draft["payload"])


@dataclass(frozen=True, slots=True)
class Answer:
    """What the append path answered: its status and JSON body."""

    status: int
    body: Any

    @property
    def ok(self) -> bool:
        """Whether the events are in the log (appended now, or by the same request before)."""
        return self.status < 300


async def append_draft(
    request: Request[Any, Any, Any],
    services: Services,
    editor: Editor,
    stream: str,
    draft: JsonObject,
    idempotency_key: str | None,
) -> Answer:
    """Append one drafted event as `POST /v1/events` would, recorded by the editor's key."""
    data = {"stream": stream, "events": [draft]}
    try:
        response = await append(request, services, editor.key, data, idempotency_key or None)
    except Exception as error:  # every refusal becomes the problem document the API would send
        response = handle_exception(request, error)
    return Answer(response.status_code or 500, msgspec.to_builtins(response.content))
