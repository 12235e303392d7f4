"""The log as an Atom feed: newest first, paged (RFC 5005), retractions as tombstones (RFC 6721)."""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import urlencode

from feedgen.feed import FeedGenerator
from litestar import Request, Response, get
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import QueryParameter
from lxml import etree

from api.dependencies import AppServices
from api.parameters import ActorFilter, ProposalFilter, StreamFilter, TypeFilter, event_types
from api.problems import problem_specs
from domain.valid_time import format_instant
from store.ports import EventQuery
from store.records import RecordedEvent

ATOM = "application/atom+xml"
TOMBSTONES = "http://purl.org/atompub/tombstones/1.0"
PAGE = 50


@get(
    "/feed.atom",
    operation_id="atomFeed",
    summary="Atom feed of the log, newest first, paged; retractions as tombstones",
    responses={
        200: ResponseSpec(data_container=None, media_type=ATOM, description="An Atom feed"),
        **problem_specs(400, 503),
    },
    tags=["feed"],
)
async def atom_feed(
    request: Request[Any, Any, Any],
    services: AppServices,
    before: Annotated[
        int | None, QueryParameter(ge=1, le=2**53, description="Entries older than this position.")
    ] = None,
    stream: StreamFilter = None,
    event_type: TypeFilter = None,
    actor: ActorFilter = None,
    proposal: ProposalFilter = None,
) -> Response[bytes]:
    """One page of entries, newest first, with links to the newer and older pages."""
    newest_first = await services.store.read(
        EventQuery(
            before=2**63 - 1 if before is None else before,
            limit=PAGE + 1,
            stream=stream,
            types=event_types(event_type),
            actor=actor,
            proposal=proposal,
        )
    )
    page = newest_first[:PAGE]
    filters = {"stream": stream, "actor": actor, "proposal": proposal}
    query = [(k, v) for k, v in filters.items() if v is not None]
    query += [("type", t) for t in event_type or ()]
    base = str(request.base_url).rstrip("/")
    feed = FeedGenerator()
    feed.id(f"{base}/v1/feed.atom?{urlencode(query)}")
    feed.title("Diplomatic Timeline: the log")
    feed.author({"name": "Diplomatic Timeline"})
    feed.updated(format_instant(page[0].recorded_at) if page else "1970-01-01T00:00:00Z")
    _link(feed, base, "first", query)
    if before is not None:
        _link(feed, base, "previous", query)
    if len(newest_first) > PAGE:
        _link(feed, base, "next", [*query, ("before", str(page[-1].position))])
    for event in reversed(page):  # feedgen writes entries newest first when added oldest first
        if event.type != "EventRetracted":
            _entry(feed, base, event)
    xml = etree.fromstring(feed.atom_str())
    for event in page:
        if event.type == "EventRetracted":
            xml.insert(_first_entry(xml), _tombstone(event))
    return Response(etree.tostring(xml, xml_declaration=True, encoding="UTF-8"), media_type=ATOM)


def _link(feed: FeedGenerator, base: str, rel: str, query: list[tuple[str, str]]) -> None:
    feed.link(href=f"{base}/v1/feed.atom?{urlencode(query)}", rel=rel)


def _entry(feed: FeedGenerator, base: str, event: RecordedEvent) -> None:
    payload = event.current_payload()
    entry = feed.add_entry()
    entry.id(f"urn:uuid:{event.id}")
    entry.title(_xml_safe(f"{event.type}: {_headline(payload)}"))
    entry.updated(format_instant(event.recorded_at))
    entry.published(format_instant(event.recorded_at))
    entry.link(href=f"{base}/v1/events/{event.id}", rel="alternate", type="application/json")
    lines = [f"Occurred: {event.draft.valid_time.expression}"]
    lines += [
        f"Source: {c.source}" + (f' "{c.quote}"' if c.quote else "") for c in event.draft.sources
    ]
    entry.content(_xml_safe("\n".join(lines)), type="text")
    for actor in event.draft.actors():
        entry.category(term=actor, label=actor)


def _headline(payload: dict[str, Any]) -> str:
    for field in ("summary", "title", "headline", "stance", "reason", "name", "quote"):
        if isinstance(payload.get(field), str):
            return str(payload[field])[:200]
    return ", ".join(f"{k}={v}" for k, v in list(payload.items())[:3])


def _tombstone(event: RecordedEvent) -> Any:
    payload = event.current_payload()
    deleted = etree.Element(
        f"{{{TOMBSTONES}}}deleted-entry",
        nsmap={"at": TOMBSTONES},
        ref=f"urn:uuid:{payload['target']}",
        when=format_instant(event.recorded_at),
    )
    comment = etree.SubElement(deleted, f"{{{TOMBSTONES}}}comment")
    comment.text = _xml_safe(str(payload["reason"]))
    return deleted


def _xml_safe(text: str) -> str:
    """Text with the characters XML 1.0 cannot carry replaced (input refuses them; old events
    written before that rule must not break the feed)."""
    return _NOT_XML.sub("\ufffd", text)


_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _first_entry(xml: Any) -> int:
    for index, child in enumerate(xml):
        if etree.QName(child).localname == "entry":
            return index
    return len(xml)
