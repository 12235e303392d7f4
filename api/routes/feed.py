"""The live change feed as Server-Sent Events: resumable by position, filtered, with heartbeats."""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

from litestar import Request, get
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import HeaderParameter, QueryParameter
from litestar.response import ServerSentEvent, ServerSentEventMessage

from api.feed_filter import FeedFilter, read_after
from api.feed_tail import FeedTail, sse_message
from api.notifier import Notifier
from api.parameters import ActorFilter, ProposalFilter, StreamFilter, TypeFilter, event_types
from api.problems import problem_specs
from api.reading import invalid
from api.services import Services
from domain.vocabulary import END

PAGE = 500
MAX_ID = 2**53


def heartbeat_seconds() -> float:
    """Seconds between heartbeat comments (TIMELINE_SSE_HEARTBEAT, default 15)."""
    return float(os.environ.get("TIMELINE_SSE_HEARTBEAT", "15"))


def lifetime_seconds() -> float:
    """Seconds a stream lives before the client is asked to reconnect (default 300)."""
    return float(os.environ.get("TIMELINE_SSE_MAX_LIFETIME", "300"))


@get(
    "/feed",
    operation_id="streamFeed",
    summary="Server-Sent Events: every event after a position, live",
    description=(
        "`id:` is the log position, `event:` the type, `data:` the event as `/v1/events` shows it. "
        "Resume with `Last-Event-ID` or `?after=`. Comments `: head N` are heartbeats. A stream "
        "ends after TIMELINE_SSE_MAX_LIFETIME seconds; reconnect with the last id."
    ),
    responses={
        200: ResponseSpec(data_container=None, media_type="text/event-stream", description="SSE"),
        **problem_specs(400, 503),
    },
    tags=["feed"],
)
async def feed(
    request: Request[Any, Any, Any],
    after: Annotated[int, QueryParameter(ge=0, le=2**53)] = 0,
    last_event_id: Annotated[
        str | None,
        HeaderParameter(
            name="Last-Event-ID",
            pattern=r"^[0-9]{1,16}" + END,
            description="The last id received: resume after it.",
        ),
    ] = None,
    stream: StreamFilter = None,
    event_type: TypeFilter = None,
    actor: ActorFilter = None,
    proposal: ProposalFilter = None,
) -> ServerSentEvent:
    """Stream the log from a cursor, then live."""
    services: Services = request.app.state.services
    cursor = after or 0
    if last_event_id is not None:
        if not (last_event_id.isascii() and last_event_id.isdigit()) or int(last_event_id) > MAX_ID:
            raise invalid("Last-Event-ID", f"must be a log position (an integer 0..{MAX_ID})")
        cursor = max(cursor, int(last_event_id))
    wanted = FeedFilter(
        stream=stream, types=event_types(event_type), actor=actor, proposal=proposal
    )
    notifier: Notifier = request.app.state.notifier
    tail: FeedTail = request.app.state.feed_tail
    return ServerSentEvent(_events(services, notifier, tail, wanted, cursor))


async def _events(
    services: Services, notifier: Notifier, tail: FeedTail, wanted: FeedFilter, cursor: int
) -> AsyncIterator[ServerSentEventMessage]:
    deadline = time.monotonic() + lifetime_seconds()
    while time.monotonic() < deadline and not notifier.closing:
        seen = notifier.head
        recent = await tail.after(cursor, seen)
        if recent is not None:
            for entry in recent:
                cursor = entry.event.position
                if wanted.matches(entry.event):
                    yield entry.message
        else:  # behind the tail: catch up from the log
            page = await read_after(services.store, wanted, cursor, PAGE)
            for event in page.events:
                yield sse_message(event)
            cursor = page.resume
            if page.full:
                continue
        wait = min(heartbeat_seconds(), max(0.0, deadline - time.monotonic()))
        if not await notifier.wait(wait, seen):
            yield ServerSentEventMessage(comment=f"head {max(cursor, notifier.head)}", data=None)
