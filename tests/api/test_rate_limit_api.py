"""Writes over a key's rate get a 429 problem with Retry-After and write nothing; reads and
other keys are not limited."""

from __future__ import annotations

from dataclasses import replace

from litestar.testing import AsyncTestClient
from sqlalchemy import event

from api.app import create_app
from api.settings import Settings, WebhookSettings
from store.rate_limits import RateLimiter
from store.sql import SqlEventStore
from tests.builders import raw_source
from tests.support.api import Api, problem


async def test_the_write_over_the_limit_is_refused_and_writes_nothing(api: Api) -> None:
    store = api.services.store
    limiter = RateLimiter(store.engine, store.backend, limit=2, seconds=60)  # type: ignore[attr-defined]
    services = replace(api.services, rate_limiter=limiter)
    settings = Settings(webhooks=WebhookSettings(concurrency=0))
    async with AsyncTestClient(app=create_app(settings, services=services)) as client:
        for n in range(2):
            body = {"stream": f"s{n}", "events": [raw_source(f"src{n}")]}
            assert (
                await client.post("/v1/events", json=body, headers=api.writer)
            ).status_code == 201
        over = await client.post(
            "/v1/events", json={"stream": "s9", "events": [raw_source("x")]}, headers=api.writer
        )
        body = problem(over, 429, "rate-limited")
        assert "2 writes every 60 s" in body["detail"]
        assert 1 <= int(over.headers["Retry-After"]) <= 60
        assert (await client.get("/v1/health")).json()["head"] == 2
        assert (await client.get("/v1/events")).status_code == 200, "reads are not limited"
        other = await client.post(
            "/v1/subscriptions",
            json={"url": "https://93.184.216.34/hook"},
            headers=api.subscriber,
        )
        assert other.status_code == 201, "another key has its own allowance"


async def test_an_append_and_its_rate_window_commit_together(api: Api) -> None:
    """One transaction, one fsync: the write's count is not a commit of its own."""
    store = api.services.store
    assert isinstance(store, SqlEventStore)
    limiter = RateLimiter(store.engine, store.backend, limit=5, seconds=60)
    services = replace(api.services, rate_limiter=limiter)
    settings = Settings(webhooks=WebhookSettings(concurrency=0))
    commits: list[object] = []

    def committed(connection: object) -> None:
        commits.append(connection)

    engines = (store.engine.sync_engine, store.blocking_engine)
    for engine in engines:
        event.listen(engine, "commit", committed)
    try:
        async with AsyncTestClient(app=create_app(settings, services=services)) as client:
            body = {"stream": "s", "events": [raw_source("src")]}
            assert (
                await client.post("/v1/events", json=body, headers=api.writer)
            ).status_code == 201
    finally:
        for engine in engines:
            event.remove(engine, "commit", committed)
    assert len(commits) == 1
    key = await api.services.keys.authenticate(api.writer["Authorization"].split()[1])
    assert key is not None
    counted = await limiter.spend(key.id, api.services.clock())
    assert counted.remaining == 3, "the append counted one write, this spend the second"
