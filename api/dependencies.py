"""What request handlers are given by Litestar's dependency injection: the app's services.

Apart from `api.services` so that the CLI, which builds services without serving, does not
import Litestar's DI."""

from __future__ import annotations

from collections.abc import Callable

from litestar.datastructures import State
from litestar.di import NamedDependency, Provide

from api.services import Services

# What a request handler declares to be given the app's services.
AppServices = NamedDependency[Services]


def services_provider(state: Callable[[], State]) -> dict[str, Provide]:
    """What a handler asks for as `services`: the app's collaborators, made at startup.

    The provider takes no parameters, so Litestar calls it as it is; one that asked for the
    app's `state` had that argument validated first, on every request (~10 µs, measured)."""

    def provide_services() -> Services:
        services: Services = state().services
        return services

    return {"services": Provide(provide_services, sync_to_thread=False)}
