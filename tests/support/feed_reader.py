"""feedparser as a feed reader polls, over the in-process app: its own HTTP code builds the
conditional requests (If-None-Match from `etag`, If-Modified-Since from `modified`) and reads
the validators and status of each answer; only the socket is replaced."""

from __future__ import annotations

import asyncio
import io
import urllib.request
from http.client import HTTPMessage
from typing import Any

import feedparser
from litestar.testing import AsyncTestClient

BASE = "http://testserver.local"


class _Answer(io.BytesIO):
    """What urllib's processors and feedparser read of an HTTP response (feedparser sets
    `status` on it, which urllib's own addinfourl does not allow)."""

    def __init__(self, body: bytes, headers: HTTPMessage, url: str, code: int, msg: str) -> None:
        super().__init__(body)
        self.headers, self.url, self.code, self.status, self.msg = headers, url, code, code, msg

    def info(self) -> HTTPMessage:
        return self.headers

    def geturl(self) -> str:
        return self.url

    def getcode(self) -> int:
        return self.code


class _InProcess(urllib.request.HTTPHandler):
    """Answers urllib's HTTP requests from the app, on the event loop that serves it."""

    def __init__(self, client: AsyncTestClient, loop: asyncio.AbstractEventLoop) -> None:  # type: ignore[type-arg]
        super().__init__()
        self._client = client
        self._loop = loop

    def http_open(self, req: urllib.request.Request) -> Any:
        path = req.full_url.removeprefix(BASE)
        asked = self._client.get(path, headers=dict(req.header_items()))
        response = asyncio.run_coroutine_threadsafe(asked, self._loop).result(timeout=60)
        headers = HTTPMessage()
        for name, value in response.headers.multi_items():
            headers[name] = value
        return _Answer(
            response.content, headers, req.full_url, response.status_code, response.reason_phrase
        )


async def poll(
    client: AsyncTestClient,  # type: ignore[type-arg]
    path: str,
    *,
    etag: str | None = None,
    modified: str | None = None,
) -> Any:
    """feedparser's result for one poll of `path`, sending the validators a reader kept."""
    handler = _InProcess(client, asyncio.get_running_loop())
    return await asyncio.to_thread(
        feedparser.parse, BASE + path, etag=etag, modified=modified, handlers=[handler]
    )
