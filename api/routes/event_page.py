"""An event's own page, for people and for the links of the Atom feed: rendered on the server,
no script, the JSON (`/v1/events/{id}`) as its alternate."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import get
from litestar.params import PathParameter
from litestar.response import Template

from api.dependencies import AppServices
from domain.exports.story import event_record
from store.families import editorial_family, targets_of
from store.projection import FOREVER, logged
from store.read_models.names import registry_naming

PAGE = "event.html.j2"
MISSING = "event_missing.html.j2"


@get("/events/{event_id:str}", include_in_schema=False, name="event-page")
async def event_page(services: AppServices, event_id: Annotated[str, PathParameter()]) -> Template:
    """What the event says, when it happened in its own zone, the sources it rests on and the
    corrections, retractions and disputes aimed at it; a 404 page for an id not in the log."""
    wanted = _uuid(event_id)
    event = None if wanted is None else await services.store.get(wanted)
    if event is None:
        return Template(template_name=MISSING, context={"event_id": event_id}, status_code=404)
    store = services.store
    family = await editorial_family(store, event.id)
    targets = {k: logged(v) for k, v in (await targets_of(store, [event])).items()}
    told = [logged(e) for e in (event, *family)]
    registry = await registry_naming(store.reads, [*told, *targets.values()], FOREVER - 1)
    record = event_record(told[0], told[1:], registry, targets)
    return Template(template_name=PAGE, context={"record": record, "event": event})


def _uuid(text: str) -> UUID | None:
    # A malformed id names no event: the same 404 page as an unknown one, not a JSON problem.
    try:
        return UUID(text) if len(text) <= 36 else None
    except ValueError:
        return None
