"""Fuzzed requests against every documented operation never get a server error."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import given, settings
from schemathesis.checks import not_a_server_error

from api.app import create_app
from api.seeding import seed
from api.settings import Settings, WebhookSettings
from store.database import DatabaseUrl, create_engine
from store.factory import open_store
from store.keys import KeyStore
from store.schema import upgrade


async def _prepare(url: DatabaseUrl) -> str:
    store = open_store(url)
    await seed(store, lambda: datetime.now(UTC))
    await store.close()
    engine = create_engine(url)
    _, token = await KeyStore(engine).create("fuzzer", frozenset({"admin"}), datetime.now(UTC))
    await engine.dispose()
    return token


@pytest.fixture(scope="module")
def fuzzed_api(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, str]:
    """The app on a seeded SQLite file, and an admin key."""
    url = DatabaseUrl(f"sqlite:///{Path(tmp_path_factory.mktemp('fuzz')) / 'fuzz.db'}")
    upgrade(url)
    token = asyncio.run(_prepare(url))
    # No delivery worker: fuzzed subscriptions must not send requests to the internet.
    settings = Settings(database_url=url, webhooks=WebhookSettings(concurrency=0))
    return create_app(settings), token


def test_no_fuzzed_request_gets_a_server_error(fuzzed_api: tuple[Any, str]) -> None:
    app, token = fuzzed_api
    loaded = schemathesis.openapi.from_asgi("/v1/openapi.json", app)
    auth = {"Authorization": f"Bearer {token}"}
    # The live stream is tested with a streaming client instead: an open stream would be read
    # until its lifetime ends.
    operations = [
        op
        for op in (result.ok() for result in loaded.get_all_operations())
        if op.definition.raw.get("operationId") != "streamFeed"
    ]
    assert len(operations) >= 15
    for operation in operations:

        @settings(max_examples=60, deadline=None, derandomize=True)
        @given(case=operation.as_strategy())
        def check(case: Any) -> None:
            case.call_and_validate(headers=auth, checks=[not_a_server_error])

        check()
