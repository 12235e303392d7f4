"""The live change feed as Server-Sent Events: resumable by position, filtered, with heartbeats."""

from __future__ import annotations

import os
import time
from functools import partial
from typing import Annotated, Any

from litestar import Request, get
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import HeaderParameter, QueryParameter
from litestar.response import ServerSentEventMessage
from litestar.types import HTTPResponseBodyEvent, Send

from api.dependencies import AppServices
from api.event_stream import EventStream
from api.feed_filter import FeedFilter, read_after
from api.feed_tail import FeedTail, sse_message
from api.notifier import Notifier
from api.parameters import ActorFilter, ProposalFilter, StreamFilter, TypeFilter, event_types
from api.presenters import checks_of
from api.problems import problem_specs
from api.reading import invalid
from domain.vocabulary import END

PAGE = 500
MAX_ID = 2**53


def heartbeat_seconds() -> float:
    """Seconds between heartbeat comments (TIMELINE_SSE_HEARTBEAT, default 15)."""
    return float(os.environ.get("TIMELINE_SSE_HEARTBEAT", "15"))


def lifetime_seconds() -> float:
    """Seconds a stream lives before the client is asked to reconnect (default 300)."""
    return float(os.environ.get("TIMELINE_SSE_MAX_LIFETIME", "300"))


def retry_milliseconds() -> int:
    """The reconnection delay a stream tells its client (TIMELINE_SSE_RETRY, default 3000)."""
    return int(os.environ.get("TIMELINE_SSE_RETRY", "3000"))


@get(
    "/feed",
    operation_id="streamFeed",
    summary="Server-Sent Events: every event after a position, live",
    description=(
        "`id:` is the log position, `event:` the type, `data:` the event as `/v1/events` shows it "
        "(its `type` too). Events are named by type, so a browser's `EventSource.onmessage` sees "
        "none of them: listen with `addEventListener(type, ...)` for each type wanted (the "
        "types are listed at `/v1/event-types`). Resume with `Last-Event-ID` or `?after=`. Each "
        "stream opens with `retry:` (milliseconds before a reconnect); comments `: head N` are "
        "heartbeats. A stream ends after TIMELINE_SSE_MAX_LIFETIME seconds; reconnect with the "
        "last id."
    ),
    responses={
        200: ResponseSpec(data_container=None, media_type="text/event-stream", description="SSE"),
        **problem_specs(400, 503),
    },
    tags=["feed"],
)
async def feed(
    request: Request[Any, Any, Any],
    services: AppServices,
    after: Annotated[int, QueryParameter(ge=0, le=2**53)] = 0,
    last_event_id: Annotated[
        str | None,
        HeaderParameter(
            name="Last-Event-ID",
            # Documented, not enforced by Litestar: its refusal names the Python parameter and
            # quotes the regex; the handler's own check names the header.
            schema_extra={"pattern": r"^[0-9]{1,16}" + END},
            description="The last id received: resume after it.",
        ),
    ] = None,
    stream: StreamFilter = None,
    event_type: TypeFilter = None,
    actor: ActorFilter = None,
    proposal: ProposalFilter = None,
) -> EventStream:
    """Stream the log from a cursor, then live."""
    cursor = after or 0
    if last_event_id is not None:
        if not (last_event_id.isascii() and last_event_id.isdigit()) or int(last_event_id) > MAX_ID:
            raise invalid(
                "Last-Event-ID", f"must be the id of an event received: a log position 0..{MAX_ID}"
            )
        cursor = max(cursor, int(last_event_id))
    wanted = FeedFilter(
        stream=stream, types=event_types(event_type), actor=actor, proposal=proposal
    )
    notifier: Notifier = request.app.state.notifier
    tail: FeedTail = request.app.state.feed_tail
    return EventStream(partial(_write, services, notifier, tail, wanted, cursor))


async def _write(
    services: AppServices,
    notifier: Notifier,
    tail: FeedTail,
    wanted: FeedFilter,
    cursor: int,
    send: Send,
) -> None:
    """Send the log after `cursor`, then each append as it lands, until the stream's lifetime
    ends or the process shuts down. Several events due at once go out as one chunk: the same
    bytes as one message per chunk, for one `send` (the costly part of fanning out)."""
    deadline = time.monotonic() + lifetime_seconds()
    heartbeat = heartbeat_seconds()
    # First, so that a client whose stream breaks at once already knows when to come back.
    await send(_chunk(ServerSentEventMessage(retry=retry_milliseconds(), data=None).encode()))
    while time.monotonic() < deadline and not notifier.closing:
        seen = notifier.head
        recent = await tail.after(cursor, seen)
        if recent is not None:
            if recent:
                cursor = recent[-1].event.position
                framed = [entry.message.framed for entry in recent if wanted.matches(entry.event)]
                if framed:
                    await send(_chunk(b"".join(framed)))
        else:  # behind the tail: catch up from the log
            page = await read_after(services.store, wanted, cursor, PAGE)
            if page.events:
                checks = await checks_of(services.store.reads, page.events)
                framed = [sse_message(event, checks).framed for event in page.events]
                await send(_chunk(b"".join(framed)))
            cursor = page.resume
            if page.full:
                continue
        wait = min(heartbeat, max(0.0, deadline - time.monotonic()))
        if not await notifier.wait(wait, seen):
            head = max(cursor, notifier.head)
            await send(_chunk(ServerSentEventMessage(comment=f"head {head}", data=None).encode()))


def _chunk(body: bytes) -> HTTPResponseBodyEvent:
    return {"type": "http.response.body", "body": body, "more_body": True}
