"""Other sites on the loopback, for pages that embed or read the API from another origin."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class QuietHandler(SimpleHTTPRequestHandler):
    """A static file handler that keeps its request log out of the test output."""

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def static_site(folder: Path) -> Iterator[str]:
    """Another site, on another loopback port, serving `folder`; its base URL."""
    handler = functools.partial(QuietHandler, directory=str(folder))
    with ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}"
        finally:
            server.shutdown()
            thread.join()
