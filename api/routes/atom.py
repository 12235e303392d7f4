"""The log as an Atom feed: newest first, paged (RFC 5005), retractions as tombstones (RFC 6721),
entries written for people, and validators so that polling readers get 304s."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode
from uuid import UUID

from feedgen.feed import FeedGenerator
from litestar import Request, Response, get
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import QueryParameter
from lxml import etree

from api.atom_entries import add_entry, link_entries, tombstone
from api.conditional import REVALIDATE, client_has, http_date, unmodified_since
from api.dependencies import AppServices
from api.parameters import ActorFilter, ProposalFilter, StreamFilter, TypeFilter, event_types
from api.problems import problem_specs
from api.response_headers import API_VERSION, build
from domain.exports.story import story_of
from domain.valid_time import format_instant
from store.families import targets_of
from store.ports import EventQuery
from store.projection import FOREVER, logged
from store.read_models.names import registry_naming
from store.records import RecordedEvent

ATOM_XML = "application/atom+xml"
PAGE = 50
# How long after its second ends the newest entry's stamp is taken for final, when no later
# event in the log shows it: an append stamped within that second may still be committing, and
# If-Modified-Since compares whole seconds (readers that send the ETag are never affected).
SETTLING = timedelta(seconds=5)


@get(
    "/feed.atom",
    operation_id="atomFeed",
    summary="Atom feed of the log, newest first, paged; retractions as tombstones",
    description=(
        "Each entry links to the event's page (`/events/{id}`, HTML) and its JSON. Answers "
        "`If-None-Match` (ETag) and `If-Modified-Since` (Last-Modified, sent once the newest "
        "entry's second is over) with 304 while the page's entries stay the same."
    ),
    responses={
        200: ResponseSpec(data_container=None, media_type=ATOM_XML, description="An Atom feed"),
        304: ResponseSpec(data_container=None, description="Not modified"),
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
    """One page of entries, newest first, with links to itself and the newer and older pages."""
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
    here = [*query, *([("before", str(before))] if before is not None else [])]
    base = str(request.base_url).rstrip("/")
    # Positions at or below the page's newest never change, so it and the query name the
    # page; the build too, since the code writes the entries.
    newest = page[0].position if page else 0
    fingerprint = f"{build()}|{API_VERSION}|{_url(base, here)}|{newest}".encode()
    headers = {
        "ETag": '"' + hashlib.sha256(fingerprint).hexdigest()[:32] + '"',
        "Cache-Control": REVALIDATE,
    }
    modified = await _last_modified(services, page[0].recorded_at) if page else None
    if modified is not None:
        headers["Last-Modified"] = http_date(modified)
    if client_has(request, headers["ETag"]) or (
        modified is not None and unmodified_since(request, modified)
    ):
        return Response(b"", status_code=304, headers=headers)
    xml = await _feed(services, base, page, query, here, more=len(newest_first) > PAGE)
    return Response(xml, media_type=ATOM_XML, headers=headers)


async def _last_modified(services: AppServices, newest: datetime) -> datetime | None:
    """The newest entry's stamp, once no later append can be stamped within its second."""
    second_over = newest.replace(microsecond=0) + timedelta(seconds=1)
    if await services.horizon.passed(second_over - timedelta(microseconds=1)):
        return newest
    return newest if services.clock() >= second_over + SETTLING else None


async def _feed(
    services: AppServices,
    base: str,
    page: list[RecordedEvent],
    query: list[tuple[str, str]],
    here: list[tuple[str, str]],
    *,
    more: bool,
) -> bytes:
    feed = FeedGenerator()
    feed.id(_url(base, query))
    feed.title("Diplomatic Timeline: the log")
    feed.subtitle("What the parties to a negotiation said and did, every claim tied to its sources")
    feed.author({"name": "Diplomatic Timeline"})
    feed.updated(format_instant(page[0].recorded_at) if page else "1970-01-01T00:00:00Z")
    feed.link(href=_url(base, here), rel="self", type=ATOM_XML)
    feed.link(href=f"{base}/", rel="alternate", type="text/html")
    feed.link(href=_url(base, query), rel="first")
    if here != query:
        feed.link(href=_url(base, query), rel="previous")
    if more:
        feed.link(href=_url(base, [*query, ("before", str(page[-1].position))]), rel="next")
    targets = {k: logged(v) for k, v in (await targets_of(services.store, page)).items()}
    events = [logged(event) for event in page]
    registry = await registry_naming(
        services.store.reads, [*events, *targets.values()], FOREVER - 1
    )
    for event in reversed(events):  # feedgen writes entries newest first when added oldest first
        if event.type != "EventRetracted":
            add_entry(feed, base, story_of(event, registry, targets), event.recorded_at)
    xml = etree.fromstring(feed.atom_str())
    link_entries(xml, base)
    first_entry = next(
        (i for i, child in enumerate(xml) if etree.QName(child).localname == "entry"), len(xml)
    )
    for event in events:
        if event.type == "EventRetracted":
            target, reason = str(UUID(str(event.payload["target"]))), str(event.payload["reason"])
            xml.insert(first_entry, tombstone(target, event.recorded_at, reason, base))
    return bytes(etree.tostring(xml, xml_declaration=True, encoding="UTF-8"))


def _url(base: str, query: list[tuple[str, str]]) -> str:
    """The feed's URL with this query; no bare '?' when there is none."""
    return f"{base}/v1/feed.atom" + (f"?{urlencode(query)}" if query else "")
