"""A Server-Sent Events response whose body is written straight to the ASGI `send`.

Litestar's `ServerSentEvent` passes every message through three layers of async iterators
(`Stream._stream`, `AsyncIteratorWrapper`, `ServerSentEvent._async_generator`) before it reaches
`send`; with hundreds of clients of one feed that was the largest per-client cost of an append.
Here the handler hands over a writer, a coroutine that sends pre-framed bytes itself. Everything
else is Litestar's: the headers `ServerSentEvent` sets, the app's `before_send` hooks, the
disconnect watch that cancels the writer when the client goes away, and the handler's OpenAPI
operation (the response is a `Stream`, documented by the handler's `responses=`).
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from litestar import MediaType, Request
from litestar.background_tasks import BackgroundTask, BackgroundTasks
from litestar.datastructures.cookie import Cookie
from litestar.response import Stream
from litestar.response.base import ASGIResponse
from litestar.response.streaming import ASGIStreamingResponse
from litestar.types import HTTPResponseBodyEvent, Send, TypeEncodersMap
from litestar.utils.helpers import get_enum_string_value

# Sends the stream's body as `http.response.body` messages with more_body; returns at its end.
Writer = Callable[[Send], Awaitable[None]]

# What Litestar's ServerSentEvent adds besides the media type; kept identical.
SSE_HEADERS = {"Cache-Control": "no-cache", "Connection": "keep-alive", "X-Accel-Buffering": "no"}


class EventStream(Stream):
    """`text/event-stream`, its body written by `writer`."""

    def __init__(self, writer: Writer) -> None:
        super().__init__(content=(), media_type="text/event-stream", headers=dict(SSE_HEADERS))
        self.writer = writer

    def to_asgi_response(
        self,
        app: Any,
        request: Request[Any, Any, Any],
        *,
        background: BackgroundTask | BackgroundTasks | None = None,
        cookies: Iterable[Cookie] | None = None,
        encoded_headers: Iterable[tuple[bytes, bytes]] | None = None,
        headers: dict[str, str] | None = None,
        is_head_response: bool = False,
        media_type: Any = None,
        status_code: int | None = None,
        type_encoders: TypeEncodersMap | None = None,
    ) -> ASGIResponse:
        """As `Stream.to_asgi_response`, with the writer in place of the iterator."""
        return _WrittenStream(
            writer=self.writer,
            background=self.background or background,
            content_length=0,
            cookies=self.cookies if cookies is None else itertools.chain(self.cookies, cookies),
            encoded_headers=encoded_headers,
            encoding=self.encoding,
            headers={**headers, **self.headers} if headers is not None else self.headers,
            is_head_response=is_head_response,
            media_type=get_enum_string_value(media_type or self.media_type or MediaType.JSON),
            status_code=self.status_code or status_code,
        )


class _WrittenStream(ASGIStreamingResponse):
    """Litestar's streaming response (start, disconnect watch, end) around a writer."""

    __slots__ = ("writer",)

    def __init__(self, *, writer: Writer, **kwargs: Any) -> None:
        super().__init__(iterator=(), **kwargs)
        self.writer = writer

    async def _stream(self, send: Send) -> None:
        await self.writer(send)
        end: HTTPResponseBodyEvent = {"type": "http.response.body", "body": b"", "more_body": False}
        await send(end)
