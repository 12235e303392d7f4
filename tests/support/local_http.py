"""Plain-HTTP calls to the tests' own servers on 127.0.0.1, made as httpx's functions make them.

`httpx.get`, `post` and `stream` build a client per call, and every client loads the CA bundle
into a new SSL context: about 35 ms of CPU here, though no test speaks TLS. The PostgreSQL feed
test posts 2,000 appends and spent most of its 72 s there, on a core the servers under test
needed. These are the same functions and client, given one SSL context made once a process.
"""

from __future__ import annotations

import ssl
from functools import partial
from typing import Any

import httpx

# Never used for a handshake (every URL is http://), but httpx makes one for each client.
UNUSED_TLS_CONTEXT = ssl.create_default_context()

get = partial(httpx.get, verify=UNUSED_TLS_CONTEXT)
post = partial(httpx.post, verify=UNUSED_TLS_CONTEXT)
stream = partial(httpx.stream, verify=UNUSED_TLS_CONTEXT)


def client(**options: Any) -> httpx.Client:
    """An `httpx.Client` with these options and the shared SSL context."""
    return httpx.Client(verify=UNUSED_TLS_CONTEXT, **options)
