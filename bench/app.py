"""The API with one more route: a one-line handler, the HTTP benchmark's ceiling.

Served by the same uvicorn, in the same process, through the same middleware and hooks as the
API's own routes, so the difference between it and a position read is the read's own work.
"""

from __future__ import annotations

from litestar import Litestar, get

from api.app import create_app

HELLO = "/bench/hello"


@get(HELLO, include_in_schema=False, sync_to_thread=False)
def hello() -> dict[str, str]:
    return {"hello": "world"}


def app_factory() -> Litestar:
    """What `uvicorn bench.app:app_factory --factory` serves."""
    app = create_app()
    app.register(hello)
    return app
