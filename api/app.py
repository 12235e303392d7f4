"""The Litestar application: v1 routes, OpenAPI, problem documents, and the store's lifetime."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar, Request, Response, Router
from litestar.config.cors import CORSConfig
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme

from api.dependencies import services_provider
from api.desk.routes import desk_router
from api.docs_ui import ServedSwaggerUI
from api.drill_faults import CrashAfterCommit
from api.feed_tail import FeedTail
from api.listener import listen, poll
from api.notifier import Notifier
from api.openapi_document import use_completed_openapi
from api.problem_rewrites import problem_bodies
from api.problems import handle_exception
from api.response_headers import API_VERSION, build, response_headers
from api.routes.atom import atom_feed
from api.routes.event_page import event_page
from api.routes.events import append_events, get_event, list_events
from api.routes.exports import export_events_csv, export_plover_jsonl, export_timelinejs
from api.routes.feed import feed
from api.routes.log import verify_log
from api.routes.meta import event_types, health
from api.routes.pages import TEMPLATES, embed, newsroom, static_files
from api.routes.positions import (
    get_position,
    get_position_diff,
    get_position_history,
    get_proposal,
    get_proposal_histories,
    list_proposals,
)
from api.routes.registry import get_actor, get_source, list_actors, list_sources
from api.routes.subscriptions import (
    create_subscription,
    delete_subscription,
    get_subscription,
    list_deliveries,
    list_subscriptions,
    reactivate_subscription,
    rotate_subscription_secret,
)
from api.routes.texts import get_source_text, get_source_verification, put_source_text
from api.routes.timeline import timeline
from api.services import Services, system_clock
from api.settings import Settings
from api.settled_answers import SettledAnswers, answer_from_memory
from api.strict_query import read_query_strictly
from api.webhook_delivery import DeliveryWorker
from store.factory import open_store
from store.idempotency import IdempotencyStore
from store.keys import KeyStore
from store.rate_limits import RateLimiter
from store.sessions import SqlSessionStore
from store.sql import SqlEventStore
from store.subscriptions import SubscriptionStore


def services_for(settings: Settings) -> Services:
    """Open the store, keys, idempotency records and desk sessions on the configured database."""
    store: SqlEventStore = open_store(settings.database_url, postgres=settings.postgres)
    limit = settings.write_rate_limit
    return Services(
        rate_limiter=None
        if limit is None
        else RateLimiter(store.engine, store.backend, limit=limit[0], seconds=limit[1]),
        store=store,
        keys=KeyStore(store.engine, store.read_path),
        idempotency=IdempotencyStore(store.engine),
        subscriptions=SubscriptionStore(store.engine, store.backend, store.read_path),
        sessions=SqlSessionStore(store.engine, settings.desk.lifetime),
        clock=system_clock,
    )


async def before_request(request: Request[Any, Any, Any]) -> Response[Any] | None:
    """Refuse a malformed query at once; answer a settled read again from memory."""
    await read_query_strictly(request)
    return answer_from_memory(request)


def create_app(settings: Settings | None = None, services: Services | None = None) -> Litestar:
    """The API; made with its own services unless a test hands some in."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        owned = services is None
        app.state.services = services or services_for(settings)
        app.state.notifier = notifier = Notifier()
        app.state.webhooks = settings.webhooks
        app.state.desk = settings.desk
        app.state.crash_after_commit = CrashAfterCommit(
            settings.crash_after_commit, settings.drill_seed
        )
        running: Services = app.state.services
        app.state.feed_tail = FeedTail(running.store)
        app.state.settled_answers = SettledAnswers()
        watchers = [asyncio.create_task(poll(running.store, notifier))]
        if running.store.backend == "postgresql":
            watchers.append(asyncio.create_task(listen(settings.database_url, notifier)))
        if settings.webhooks.concurrency:
            worker = DeliveryWorker(
                store=running.store,
                subscriptions=running.subscriptions,
                notifier=notifier,
                settings=settings.webhooks,
                clock=running.clock,
            )
            watchers.append(asyncio.create_task(worker.run()))
        try:
            yield
        finally:
            notifier.close()
            for watcher in watchers:
                watcher.cancel()
            await asyncio.gather(*watchers, return_exceptions=True)
            if owned:
                await app.state.services.store.close()

    v1 = Router(
        path="/v1",
        route_handlers=[
            health,
            verify_log,
            append_events,
            list_events,
            get_event,
            event_types,
            list_proposals,
            get_proposal,
            get_position,
            get_position_history,
            get_proposal_histories,
            get_position_diff,
            timeline,
            export_timelinejs,
            export_events_csv,
            export_plover_jsonl,
            list_actors,
            get_actor,
            list_sources,
            get_source,
            put_source_text,
            get_source_text,
            get_source_verification,
            feed,
            atom_feed,
            create_subscription,
            list_subscriptions,
            get_subscription,
            delete_subscription,
            reactivate_subscription,
            rotate_subscription_secret,
            list_deliveries,
        ],
    )
    app = Litestar(
        route_handlers=[v1, newsroom, embed, event_page, desk_router(), static_files],
        dependencies=services_provider(lambda: app.state),
        template_config=TEMPLATES,
        lifespan=[lifespan],
        before_send=[response_headers(API_VERSION, build()), problem_bodies()],
        before_request=before_request,
        exception_handlers={Exception: handle_exception},
        request_max_body_size=settings.max_body_bytes,
        cors_config=CORSConfig(
            allow_origins=["*"],
            allow_methods=["GET", "HEAD", "OPTIONS"],
            expose_headers=["ETag", "Location", "Link", "API-Version", "X-Timeline-Build"],
        ),
        openapi_config=OpenAPIConfig(
            title="Diplomatic Timeline",
            version=API_VERSION,
            description=(
                "What the parties to a negotiation said and did, every claim tied to its "
                "sources; positions as of any valid time, as known at any transaction time."
            ),
            path="/v1",
            render_plugins=[ServedSwaggerUI(path="/docs")],
            components=Components(
                security_schemes={
                    "bearer": SecurityScheme(
                        type="http",
                        scheme="bearer",
                        description="A key from `timeline keys create`.",
                    )
                }
            ),
        ),
        debug=False,
    )
    use_completed_openapi(app)
    return app


def app_factory() -> Any:
    """Entry point for uvicorn --factory."""
    return create_app()
