"""Numbers in an event's JSON on every SQL backend: whatever number a payload or the metadata
carries, the database gives back the number it was hashed as, so the chain verifies and the hash
is the one an in-memory log (no JSON text in between) gives the same events.

PostgreSQL's JSONB keeps a number as a decimal, not as the text it was sent: `1e20` comes back as
`100000000000000000000` (an int to Python), `-0.0` as `0.0`. The log's canonical numbers (ADR 0005)
are the ones that come back as they went in: an integer-valued number is an int, anything else a
double in its shortest form."""

from __future__ import annotations

import asyncio
import dataclasses
import math
from decimal import Decimal
from typing import Any

import msgspec
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from api.seeding import seed
from domain.chain import GENESIS
from domain.drafts import EventDraft
from store.database import DatabaseUrl
from store.factory import open_store
from store.memory import InMemoryEventStore
from store.ports import EventStore
from store.verification import verify_log
from tests.builders import draft
from tests.clock import FrozenClock
from tests.support.backends import SQL_BACKENDS

# The seed data's head hash as the code before ADR 0005 computed it (FrozenClock's start, no
# advance): a log without non-canonical numbers hashes exactly as it always did. (Recomputed
# with that code, fe9ad68^, when the data set's dispute reasons were rewritten.)
SEED_HEAD = (62, "0d3b77acf8d9635df0756d0eb92fdd540bdcf3d0ff22d57f668144a5c7681bf6")

# JSON number texts as a client may write them (`1E+2`, `1.0`, `-0.0`, 40 decimals, exponents),
# read as the API reads a body: as msgspec decodes it.
_TEXTS = st.from_regex(
    r"\A-?(0|[1-9][0-9]{0,25})(\.[0-9]{1,40})?([eE][+-]?[0-9]{1,3})?\Z", fullmatch=True
)


def _decoded(text: str) -> Any:
    try:
        return msgspec.json.decode(text)
    except msgspec.ValidationError:  # beyond a double's range: the API refuses the body
        return None


numbers = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False, allow_infinity=False),
    _TEXTS.map(_decoded).filter(lambda v: v is not None),
)


def value_of(number: int | float) -> Decimal:
    """The decimal a JSON number stands for: an int's, or the shortest text of a double."""
    return Decimal(number) if isinstance(number, int) else Decimal(repr(number))


def assert_same_number(found: Any, sent: int | float) -> None:
    """Come back with the value sent; an integer value as an int, any other as a double."""
    assert not isinstance(found, bool)
    assert isinstance(found, int | float), found
    assert value_of(found) == value_of(sent), (found, sent)
    integral = value_of(sent) == value_of(sent).to_integral_value()
    assert isinstance(found, int) == integral, (found, sent)
    if isinstance(found, float):
        assert math.isfinite(found)


def with_number(number: int | float) -> EventDraft:
    """A position statement carrying the number in its payload, nested and in a list."""
    base = draft()
    payload = {**base.payload, "figures": {"value": number, "several": [number, 1, number]}}
    return dataclasses.replace(base, payload=payload)


@pytest.mark.parametrize("backend", SQL_BACKENDS)
def test_any_payload_number_comes_back_with_the_hash_it_was_appended_with(
    backend: str, request: pytest.FixtureRequest
) -> None:
    databases = request.getfixturevalue(f"{backend}_databases")
    url: DatabaseUrl = databases.fresh()
    clock = FrozenClock()
    mirror = InMemoryEventStore(clock)
    runner = asyncio.Runner()
    store = runner.run(_open(url, clock))

    @settings(max_examples=30 if backend == "postgresql" else 60, deadline=None)
    @given(number=numbers)
    @example(number=1e20)
    @example(number=-0.0)
    @example(number=1.0)
    @example(number=1e16)
    @example(number=1e23)
    @example(number=2**53 + 1)
    @example(number=-(2**64) - 1)
    @example(number=1.7976931348623157e308)
    @example(number=5e-324)
    @example(number=msgspec.json.decode("1E+2"))
    @example(number=msgspec.json.decode("0.1000000000000000055511151231257827"))
    def check(number: int | float) -> None:
        event = with_number(number)
        clock.advance(microseconds=7)
        metadata = {"recorded_by": "test", "figure": number}

        async def scenario() -> None:
            before, before_hash = await store.chain_head()
            await store.append("figures", [event], metadata=metadata)
            await mirror.append("figures", [event], metadata=metadata)
            assert await store.chain_head() == await mirror.chain_head()
            # This event's link alone, from what the database gives back: each example stands
            # on its own, whatever an earlier one left in the log.
            report = await verify_log(store.engine, after=before, prev_hash=before_hash or GENESIS)
            assert (report.checked, report.ok) == (1, True)
            for kept in (await store.get(event.id), await mirror.get(event.id)):
                assert kept is not None
                figures = kept.draft.payload["figures"]
                for value in (figures["value"], *figures["several"][::2], kept.metadata["figure"]):
                    assert_same_number(value, number)

        runner.run(scenario())

    try:
        check()
    finally:
        runner.run(store.close())
        runner.close()
        databases.release(url)


async def _open(url: DatabaseUrl, clock: FrozenClock) -> Any:
    return open_store(url, clock)


async def test_a_log_without_such_numbers_hashes_as_it_always_did(
    store: EventStore, clock: FrozenClock
) -> None:
    await seed(store, clock)
    assert await store.chain_head() == SEED_HEAD


async def test_a_retried_event_with_such_numbers_is_the_same_event(store: EventStore) -> None:
    """An append is idempotent by id and content: the content read back from the database (with
    its numbers as JSONB gives them) is the content the retry brings."""
    event = with_number(1e20)
    first = await store.append("figures", [event])
    again = await store.append("figures", [event])
    assert again.duplicate and again.events == first.events
