"""What request handlers are given by Litestar's dependency injection: the app's services.

Apart from `api.services` so that the CLI, which builds services without serving, does not
import Litestar's DI."""

from __future__ import annotations

from litestar.datastructures import State
from litestar.di import NamedDependency, Provide

from api.services import Services

# What a request handler declares to be given the app's services.
AppServices = NamedDependency[Services]


def provide_services(state: State) -> Services:
    """What a handler asks for as `services`: the app's collaborators, made at startup."""
    services: Services = state.services
    return services


SERVICES = {"services": Provide(provide_services, sync_to_thread=False)}
