"""A webhook receiver for tests: a local HTTP server that records every request and answers
from a script (e.g. 503 for the first three, then 200)."""

from __future__ import annotations

import bisect
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Received:
    """One request as it arrived, and what we answered."""

    headers: dict[str, str]
    body: bytes
    answered: int
    at: float
    number: int = 0  # in arrival order, from 1


@dataclass(frozen=True)
class Reply:
    """What the receiver answers: a status, extra headers, and how long it takes."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


Script = Callable[[int], Reply]  # request number (1-based) -> reply


class Receiver:
    """Requests seen so far; tests wait on a condition instead of sleeping."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.requests: list[Received] = []
        self.arrived = 0
        self.in_flight = 0
        self.most_in_flight = 0
        self.changed = threading.Condition()
        self.url = ""

    def wait_for(self, predicate: Callable[[list[Received]], bool], timeout: float) -> bool:
        """Until `predicate(requests)` holds or the timeout passes."""
        with self.changed:
            return self.changed.wait_for(lambda: predicate(self.requests), timeout)

    def delivered_ids(self) -> list[str]:
        """Distinct webhook-ids of accepted requests, in first-acceptance order."""
        seen: dict[str, None] = {}
        with self.changed:
            for request in self.requests:
                if 200 <= request.answered < 300:
                    seen.setdefault(request.headers["webhook-id"], None)
        return list(seen)


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            with receiver.changed:
                receiver.arrived += 1
                number = receiver.arrived
                receiver.in_flight += 1
                receiver.most_in_flight = max(receiver.most_in_flight, receiver.in_flight)
                reply = receiver.script(receiver.arrived)
            time.sleep(reply.delay)
            # No longer in flight once it is answered: the sender may send the next delivery
            # the moment the answer reaches it, before this thread would get here again.
            with receiver.changed:
                receiver.in_flight -= 1
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("content-length", "0")
            self.end_headers()
            # Recorded once answered, but in arrival order: the sender may send its next delivery
            # the moment this answer reaches it, and that request's thread may record it before
            # this one gets here (under load, two deliveries in order were recorded swapped).
            received = Received(
                {k.lower(): v for k, v in self.headers.items()},
                body,
                reply.status,
                time.monotonic(),
                number,
            )
            with receiver.changed:
                bisect.insort(receiver.requests, received, key=lambda r: r.number)
                receiver.changed.notify_all()

        def log_message(self, format: str, *args: object) -> None:
            """Quiet."""

    return Handler


@contextmanager
def receiving(script: Script) -> Iterator[Receiver]:
    """A receiver on a free loopback port, stopped when the block ends."""
    receiver = Receiver(script)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
