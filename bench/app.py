"""The API with one more route: a one-line handler, the HTTP benchmark's ceiling.

Served by the same uvicorn, in the same process, through the same middleware and hooks as the
API's own routes, so the difference between it and a position read is the read's own work.

    python -m bench.app --fd N [--workers 1]

serves it on an inherited listening socket as `timeline serve --fd` serves the API: uvicorn's
own `--fd` takes every inherited socket for a Unix one and leaves Nagle's algorithm on for the
TCP connections, so each keep-alive response waited ~40 ms for the client's delayed ACK and
both endpoints measured ~360 req/s, whatever the handler did.
"""

from __future__ import annotations

import argparse
from typing import Any

from litestar import Litestar, get

from api.app import create_app

HELLO = "/bench/hello"
FACTORY = "bench.app:app_factory"


@get(HELLO, include_in_schema=False, sync_to_thread=False)
def hello() -> dict[str, str]:
    return {"hello": "world"}


def app_factory() -> Litestar:
    """What uvicorn serves (`bench.app:app_factory`, a factory)."""
    app = create_app()
    app.register(hello)
    return app


def main(argv: list[str] | None = None) -> None:
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    from api.cli import inherited_socket

    parser = argparse.ArgumentParser(prog="python -m bench.app")
    parser.add_argument("--fd", type=int, required=True, help="an inherited listening socket")
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    options: dict[str, Any] = {
        "factory": True,
        "log_level": "warning",
        "timeout_graceful_shutdown": 5,
    }
    # As `timeline serve --fd`: the socket as it is (TCP_NODELAY), in one process or several.
    config = uvicorn.Config(FACTORY, workers=args.workers, **options)
    if args.workers == 1:
        uvicorn.Server(config).run(sockets=[inherited_socket(args.fd)])
    else:
        Multiprocess(config, sockets=[inherited_socket(args.fd)]).run()


if __name__ == "__main__":
    main()
