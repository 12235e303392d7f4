"""The delivery worker looks for due subscriptions when appends wake it, but under a stream of
appends at most once every COALESCE_SECONDS: each look is two reads the appends would pay for."""

from __future__ import annotations

import asyncio

import pytest

import api.webhook_delivery as delivery
from api.notifier import Notifier
from api.settings import RetrySchedule, WebhookSettings
from tests.clock import FrozenClock


class Looks:
    """A log and a subscription store that count the worker's looks; nothing is ever due."""

    def __init__(self) -> None:
        self.count = 0
        self.looked = asyncio.Event()

    async def head(self) -> int:
        self.count += 1
        self.looked.set()
        return self.count

    async def next_due(self, head: int) -> None:
        return None

    async def prune_attempts(self, *, before: object, limit: int) -> int:
        return 0


async def test_a_burst_of_appends_wakes_one_look_not_one_each(
    monkeypatch: pytest.MonkeyPatch, clock: FrozenClock
) -> None:
    monkeypatch.setattr(delivery, "COALESCE_SECONDS", 0.5, raising=False)
    looks, notifier = Looks(), Notifier()
    worker = delivery.DeliveryWorker(
        store=looks,  # type: ignore[arg-type]
        subscriptions=looks,  # type: ignore[arg-type]
        notifier=notifier,
        settings=WebhookSettings(
            retry_schedule=RetrySchedule.parse("0,5"), allow_private=False, timeout=1
        ),
        clock=clock,
    )
    running = asyncio.create_task(worker.run())
    await looks.looked.wait()  # the first look, at start
    for head in range(1, 51):
        notifier.notify(head)
        for _ in range(5):  # time enough for a look, were one due
            await asyncio.sleep(0)
    notifier.close()
    await running
    assert looks.count <= 3, f"{looks.count} looks for 50 appends"
