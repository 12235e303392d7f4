"""The log's hash chain, checked against the simplest oracle: recompute it from genesis."""

from __future__ import annotations

import hashlib
from uuid import UUID

from hypothesis import given
from hypothesis import strategies as st

from domain.chain import GENESIS, ChainLink, ChainVerifier, content_of, link, verify

contents = st.lists(st.binary(max_size=40), max_size=30)


def chained(items: list[bytes]) -> list[ChainLink]:
    """An intact chain over these contents, at positions 1, 2, …"""
    links, prev = [], GENESIS
    for position, content in enumerate(items, start=1):
        prev = link(prev, content)
        links.append(ChainLink(position, content, prev))
    return links


def oracle(links: list[ChainLink]) -> int | None:
    """The first position whose stored hash differs from the chain recomputed from genesis."""
    prev = GENESIS
    for item in links:
        prev = hashlib.sha256(prev.encode() + item.content).hexdigest()
        if item.hash != prev:
            return item.position
    return None


def replaced(links: list[ChainLink], index: int, new: ChainLink) -> list[ChainLink]:
    return [*links[:index], new, *links[index + 1 :]]


def test_a_hash_is_sha256_of_the_previous_hex_hash_then_the_content() -> None:
    expected = hashlib.sha256(GENESIS.encode("ascii") + b'{"a":1}').hexdigest()
    assert link(GENESIS, b'{"a":1}') == expected
    assert len(expected) == 64 and GENESIS == "0" * 64


@given(contents)
def test_an_intact_chain_verifies(items: list[bytes]) -> None:
    assert verify(chained(items)) is None


@given(contents.filter(bool), st.data())
def test_changing_one_events_content_breaks_the_chain_exactly_there(
    items: list[bytes], data: st.DataObject
) -> None:
    links = chained(items)
    i = data.draw(st.integers(0, len(links) - 1))
    forged = data.draw(st.binary(max_size=40).filter(lambda b: b != links[i].content))
    tampered = replaced(links, i, ChainLink(links[i].position, forged, links[i].hash))
    assert verify(tampered) == links[i].position == oracle(tampered)


@given(contents.filter(bool), st.data())
def test_changing_one_stored_hash_breaks_the_chain_exactly_there(
    items: list[bytes], data: st.DataObject
) -> None:
    links = chained(items)
    i = data.draw(st.integers(0, len(links) - 1))
    forged = data.draw(st.text("0123456789abcdef", min_size=64, max_size=64))
    if forged == links[i].hash:
        return
    tampered = replaced(links, i, ChainLink(links[i].position, links[i].content, forged))
    assert verify(tampered) == links[i].position == oracle(tampered)


@given(contents.filter(lambda items: len(items) >= 2), st.data())
def test_a_forger_who_rehashes_the_changed_event_is_caught_at_its_successor(
    items: list[bytes], data: st.DataObject
) -> None:
    links = chained(items)
    i = data.draw(st.integers(0, len(links) - 2))
    forged = data.draw(st.binary(max_size=40).filter(lambda b: b != links[i].content))
    prev = links[i - 1].hash if i else GENESIS
    tampered = replaced(links, i, ChainLink(links[i].position, forged, link(prev, forged)))
    assert verify(tampered) == links[i + 1].position == oracle(tampered)


@given(contents.filter(lambda items: len(items) >= 2), st.data())
def test_a_removed_event_breaks_the_chain_at_its_successor(
    items: list[bytes], data: st.DataObject
) -> None:
    links = chained(items)
    i = data.draw(st.integers(0, len(links) - 2))
    assert verify([*links[:i], *links[i + 1 :]]) == links[i + 1].position


@given(contents, st.lists(st.tuples(st.integers(0, 29), st.binary(max_size=8)), max_size=4))
def test_verify_agrees_with_the_oracle_on_any_tampering(
    items: list[bytes], edits: list[tuple[int, bytes]]
) -> None:
    links = chained(items)
    for index, junk in edits:
        if index < len(links):
            old = links[index]
            links = replaced(links, index, ChainLink(old.position, old.content + junk, old.hash))
    assert verify(links) == oracle(links)


@given(contents, st.integers(1, 7))
def test_verifying_in_pages_is_verifying_at_once(items: list[bytes], page: int) -> None:
    links = chained(items)
    verifier = ChainVerifier()
    for start in range(0, len(links), page):
        for item in links[start : start + page]:
            verifier.check(item.position, item.content, item.hash)
    assert (verifier.checked, verifier.first_broken) == (len(links), None)
    assert verifier.prev_hash == (links[-1].hash if links else GENESIS)


def fields(**changes: object) -> dict[str, object]:
    base: dict[str, object] = {
        "position": 1,
        "id": UUID(int=1),
        "stream": "s",
        "stream_version": 1,
        "type": "PositionStated",
        "schema_version": 1,
        "occurred_at": "2025-03-13",
        "timezone": "Europe/Moscow",
        "occurred_earliest": 1,
        "occurred_latest": 2,
        "occurred_precision": "day",
        "occurred_qualifiers": [],
        "recorded_at": 3,
        "payload": {"b": 1, "a": [1, 2]},
        "sources": [{"source": "x"}],
        "codes": None,
        "metadata": {"recorded_by": "desk"},
        "actors": ["russia"],
    }
    return {**base, **changes}


def test_the_content_does_not_depend_on_key_order_or_the_ids_type() -> None:
    shuffled = fields(payload={"a": [1, 2], "b": 1}, id=str(UUID(int=1)))
    assert content_of(**fields()) == content_of(**shuffled)  # type: ignore[arg-type]


@given(
    st.sampled_from(
        [
            ("position", 2),
            ("id", UUID(int=2)),
            ("stream", "t"),
            ("stream_version", 2),
            ("type", "StatementMade"),
            ("schema_version", 2),
            ("occurred_at", "2025-03-14"),
            ("timezone", "UTC"),
            ("occurred_earliest", 0),
            ("occurred_latest", 9),
            ("occurred_precision", "month"),
            ("occurred_qualifiers", ["uncertain"]),
            ("recorded_at", 4),
            ("payload", {"b": 2, "a": [1, 2]}),
            ("sources", [{"source": "y"}]),
            ("codes", {"cameo": "041", "plover": None, "plover_mode": None}),
            ("metadata", {"recorded_by": "forger"}),
            ("actors", ["ukraine"]),
        ]
    )
)
def test_every_recorded_field_is_part_of_the_content(change: tuple[str, object]) -> None:
    name, value = change
    assert content_of(**fields(**{name: value})) != content_of(**fields())  # type: ignore[arg-type]
