"""The API with two more routes: a one-line handler, the HTTP benchmark's ceiling, and the
position route with its answers known (`position_known`), the floor of what a miss can cost.

Served by the same uvicorn, in the same process, through the same middleware and hooks as the
API's own routes, so the difference between hello and a position read is the read's own work,
and the difference between the known answers and an uncached read is what the read, its times
and its encoding cost.

    python -m bench.app --fd N [--workers 1]

serves it on an inherited listening socket as `timeline serve --fd` serves the API: uvicorn's
own `--fd` takes every inherited socket for a Unix one and leaves Nagle's algorithm on for the
TCP connections, so each keep-alive response waited ~40 ms for the client's delayed ACK and
both endpoints measured ~360 req/s, whatever the handler did.
"""

from __future__ import annotations

import argparse
from typing import Any

from litestar import Litestar, Request, Response, get

from api.app import create_app
from api.conditional import conditional
from api.dependencies import AppServices
from api.encoded_response import EncodedJson
from api.parameters import AsOf, KnownAt, SlugPath, Tz
from api.routes.positions import get_position

HELLO = "/bench/hello"
# The position route again under this prefix, its answers' bytes known after the first.
KNOWN_ROOT = "/bench/known"
FACTORY = "bench.app:app_factory"


@get(HELLO, include_in_schema=False, sync_to_thread=False)
def hello() -> dict[str, str]:
    return {"hello": "world"}


# (proposal, actor, as_of): the position route's first answer to it, its body and headers.
_answers: dict[tuple[str, str, str | None], EncodedJson] = {}


@get(KNOWN_ROOT + "/proposals/{proposal:str}/positions/{actor:str}", include_in_schema=False)
async def position_known(
    request: Request[Any, Any, Any],
    services: AppServices,
    proposal: SlugPath,
    actor: SlugPath,
    as_of: AsOf = None,
    known_at: KnownAt = None,
    tz: Tz = "UTC",
) -> Response[Any]:
    """The position route's shape (its parameters, the app's hooks, the answer's size and
    headers) with the answer already known: what a miss would cost if the read, the times and
    the encoding were free. The first request for an (actor, as_of) is the route's own."""
    key = (proposal, actor, as_of)
    known = _answers.get(key)
    if known is None:
        answer: Response[Any] = await get_position.fn(
            request, services, proposal, actor, as_of, known_at, tz
        )
        if not isinstance(answer, EncodedJson):  # a 304: nothing to keep
            return answer
        known = _answers[key] = answer
    return conditional(request, known.headers["ETag"], known.body, known.headers["Cache-Control"])


def app_factory() -> Litestar:
    """What uvicorn serves (`bench.app:app_factory`, a factory)."""
    app = create_app()
    app.register(hello)
    app.register(position_known)
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
