"""Settled reads are answered again from memory: same body, same ETag, no database."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from api.settled_answers import Answer, SettledAnswers
from tests.builders import draft, raw_position, raw_source
from tests.clock import FrozenClock
from tests.support.api import Api, log_moves_on

URL = (
    "/v1/proposals/us-30-day-ceasefire-2025/positions/russia"
    "?as_of=2025-03-13T12:00%2B03:00&known_at=2026-01-01T12:30:00Z"
)


def _no_database(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    async def refuse(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("the store was read")

    for name in ("position", "registered", "get", "read", "position_history"):
        monkeypatch.setattr(api.services.store, name, refuse)


async def test_a_settled_read_is_answered_again_without_the_store(
    seeded: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    await log_moves_on(seeded, hours=1)
    first = await seeded.client.get(URL)
    assert first.status_code == 200
    _no_database(seeded, monkeypatch)
    again = await seeded.client.get(URL)
    assert again.status_code == 200
    assert again.content == first.content
    assert again.headers["etag"] == first.headers["etag"]
    assert again.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert again.headers["content-type"] == "application/json"
    assert again.headers["api-version"]  # the app's own headers still go on
    conditional = await seeded.client.get(URL, headers={"If-None-Match": first.headers["etag"]})
    assert conditional.status_code == 304 and conditional.content == b""


async def test_a_read_about_now_is_never_kept(seeded: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    url = "/v1/proposals/us-30-day-ceasefire-2025/positions/russia?as_of=2025-03-13"
    store = seeded.services.store
    reads = 0
    real = store.position_json

    async def counted(*args: Any) -> Any:
        nonlocal reads
        reads += 1
        return await real(*args)

    monkeypatch.setattr(store, "position_json", counted)
    for _ in range(2):
        assert (await seeded.client.get(url)).status_code == 200
    assert reads == 2


async def test_a_kept_answer_is_still_checked_for_a_malformed_query(seeded: Api) -> None:
    seeded.services.clock.advance(hours=1)  # type: ignore[attr-defined]
    assert (await seeded.client.get(URL)).status_code == 200
    repeated = await seeded.client.get(URL + "&tz=UTC&tz=UTC")
    assert repeated.status_code == 400


async def test_an_other_query_string_is_another_answer(seeded: Api) -> None:
    seeded.services.clock.advance(hours=1)  # type: ignore[attr-defined]
    noon = (await seeded.client.get(URL)).json()
    earlier = (await seeded.client.get(URL.replace("2025-03-13T12", "2025-03-10T12"))).json()
    assert noon["stance"] == "rejected"
    assert earlier["stance"] != noon["stance"]


class _Request:
    """Just what the cache reads of a request."""

    def __init__(self, path: str, query: bytes = b"", host: bytes = b"api") -> None:
        self.scope = {"path": path, "query_string": query, "headers": [(b"host", host)]}


def test_the_cache_is_bounded_in_bytes_and_evicts_the_least_recently_used() -> None:
    answers = SettledAnswers(max_bytes=100)
    a, b, c = _Request("/a"), _Request("/b"), _Request("/c")
    answers.put(a, Answer(etag='"a"', body=b"x" * 40))  # type: ignore[arg-type]
    answers.put(b, Answer(etag='"b"', body=b"x" * 40))  # type: ignore[arg-type]
    assert answers.get(a) is not None  # now b is the least recently used  # type: ignore[arg-type]
    answers.put(c, Answer(etag='"c"', body=b"x" * 40))  # type: ignore[arg-type]
    assert answers.get(b) is None  # type: ignore[arg-type]
    assert answers.get(a) is not None and answers.get(c) is not None  # type: ignore[arg-type]
    assert answers.size == 80 and len(answers) == 2
    answers.put(a, Answer(etag='"a"', body=b"x" * 500))  # type: ignore[arg-type]
    assert answers.size == 80  # too big to keep at all


def test_the_host_is_part_of_the_key() -> None:
    answers = SettledAnswers()
    answers.put(_Request("/a", host=b"one"), Answer(etag='"1"', body=b"1"))  # type: ignore[arg-type]
    assert answers.get(_Request("/a", host=b"two")) is None  # type: ignore[arg-type]


async def test_a_moment_past_for_this_process_but_not_for_the_log_is_never_settled(
    seeded: Api,
) -> None:
    """This process's clock has passed 12:30, the log's last stamp has not: another writer (a
    process whose clock lags, or an append in flight) may still stamp an event before 12:30, so
    the answer must not be promised for a year. (Before, this process's clock decided, and the
    first answer below was served immutable, then contradicted.)"""
    store = seeded.services.store
    seeded.services.clock.advance(hours=1)  # type: ignore[attr-defined]
    first = await seeded.client.get(URL)
    assert first.status_code == 200
    assert first.headers["cache-control"] == "no-cache"

    lagging = type(store)(store.engine, FrozenClock(datetime(2026, 1, 1, 12, 20, tzinfo=UTC)))  # type: ignore[call-arg, attr-defined]
    try:
        late = raw_position(stance="accepted", occurred_at="2025-03-13T08:00:00Z", timezone=None)
        await lagging.append("lagging", [draft(raw_source()), draft(late)])
    finally:
        await lagging.close()
    later = await seeded.client.get(URL)
    assert later.json()["stance"] == "accepted" != first.json()["stance"]
    assert later.headers["cache-control"] == "no-cache"

    await log_moves_on(seeded, minutes=1)  # now the log has passed 12:30: settled from here on
    settled = await seeded.client.get(URL)
    assert settled.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert settled.content == later.content
