"""The backup format's line checks, pure: a well-formed file passes; any single change to an
event line, a cut, a reorder or a wrong trailer is refused at the line where it shows."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from domain.backup_format import (
    EVENT_FIELDS,
    GENESIS,
    BackupError,
    LogChecker,
    encode,
    event_hash,
    header,
    text_line,
    trailer,
)


def events(count: int) -> list[dict[str, Any]]:
    """A small valid log, hashed in order."""
    made, prev = [], GENESIS
    for n in range(1, count + 1):
        event: dict[str, Any] = {
            "position": n,
            "id": f"00000000-0000-4000-8000-{n:012d}",
            "stream": "s" if n % 2 else "t",
            "stream_version": (n + 1) // 2,
            "type": "PositionStated",
            "schema_version": 1,
            "occurred_at": "2025-03-13",
            "timezone": "Europe/Moscow",
            "occurred_earliest": 1741813200000000,
            "occurred_latest": 1741899599999999,
            "occurred_precision": "day",
            "occurred_qualifiers": [],
            "recorded_at": 1_800_000_000_000_000 + n,
            "actors": ["russia"],
            "payload": {"actor": "russia", "stance": "rejected", "n": n},
            "sources": [{"source": "tass", "quote": "no"}],
            "codes": None,
            "metadata": {"recorded_by": "seed"},
        }
        event["hash"] = prev = event_hash({**event, "hash": ""}, prev)
        made.append(event)
    return made


def file_of(body: list[dict[str, Any]], end: dict[str, Any] | None = None) -> list[bytes]:
    last = body[-1] if body else None
    end = end or trailer(len(body), last["position"] if last else 0, last and last["hash"])
    return [encode(header("sqlite", "2026-01-01T00:00:00Z")), *map(encode, body), encode(end)]


def check(lines: list[bytes]) -> int:
    checker = LogChecker()
    for line in lines:
        checker.feed(line)
    return checker.finish().events


def refused_at(lines: list[bytes]) -> tuple[int, str]:
    with pytest.raises(BackupError) as refused:
        check(lines)
    return refused.value.line, refused.value.problem


def test_a_well_formed_file_passes_and_so_does_an_empty_log() -> None:
    assert check(file_of(events(5))) == 5
    assert check(file_of([])) == 0


def test_a_cut_file_is_refused_where_it_ends() -> None:
    lines = file_of(events(5))
    assert refused_at(lines[:-1]) == (
        7,
        "the file ends without its trailer (truncated after an event?)",
    )
    line, problem = refused_at([*lines[:3], lines[3][:40]])
    assert line == 4 and "truncated" in problem
    assert refused_at([]) == (1, "the file is empty: no header")


def test_reordered_or_dropped_lines_and_a_lying_trailer_are_refused() -> None:
    body = events(4)
    assert refused_at(file_of([body[0], body[2], body[1], body[3]]))[0] == 3
    line, problem = refused_at(file_of(body, trailer(4, 4, "f" * 64)))
    assert line == 6 and "trailer says" in problem
    lines = file_of(body)
    assert refused_at([*lines, lines[-1]]) == (7, "more lines after the trailer")


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        (b"not json\n", "not valid JSON"),
        (b'{"format": "other"}\n', "not a timeline backup"),
        (b'{"format": "diplomatic-timeline-log", "format": "x"}\n', "appears twice"),
        (
            json.dumps({**header("sqlite", "x"), "version": 3}).encode() + b"\n",
            "unsupported version 3",
        ),
    ],
)
def test_a_bad_header_is_refused_on_line_1(line: bytes, problem: str) -> None:
    found_line, found = refused_at([line])
    assert found_line == 1 and problem in found


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=6,
)


@example(field="occurred_precision", value=[], drop=False)
@example(field="occurred_precision", value={}, drop=False)
@given(field=st.sampled_from(sorted(EVENT_FIELDS)), value=json_values, drop=st.booleans())
def test_any_change_to_one_field_of_an_event_line_is_refused_at_that_line(
    field: str, value: Any, drop: bool
) -> None:
    body = events(3)
    changed = dict(body[1])  # line 3
    if drop:
        del changed[field]
    else:
        if value == changed[field] and type(value) is type(changed[field]):
            value = [value]
        changed[field] = value
    body[1] = changed
    assert refused_at(file_of(body))[0] == 3


def rehashed(body: list[dict[str, Any]]) -> list[dict[str, Any]]:
    prev = GENESIS
    for event in body:
        event["hash"] = prev = event_hash(event, prev)
    return body


@pytest.mark.parametrize(("text", "infinity"), [("1e400", math.inf), ("-1e999", -math.inf)])
def test_a_number_that_is_not_finite_is_refused_naming_its_field(
    text: str, infinity: float
) -> None:
    """json.loads reads these as infinities, which no database keeps as JSON, and which the hash
    takes for null: a forger can make the chain hold, and the file is refused all the same."""
    body = events(3)
    body[1]["metadata"]["figures"] = [1, infinity]
    lines = file_of(rehashed(body))
    lines[2] = lines[2].replace(b"Infinity", text.encode()).replace(b"--", b"-")
    assert text.encode() in lines[2]
    assert refused_at(lines) == (3, "metadata.figures[1] is not a finite number")


def test_numbers_are_hashed_as_read() -> None:
    """`1E+2`, `1.0` and `-0.0` read as the doubles they spell; a line's hash covers those."""
    body = events(2)
    body[1]["payload"]["figures"] = {"a": 100.0, "b": 1.0, "c": -0.0, "d": 2**70}
    lines = file_of(rehashed(body))
    lines[2] = lines[2].replace(b'"a":100.0', b'"a":1E+2')
    assert b'"a":1E+2' in lines[2] and b'"c":-0.0' in lines[2]
    assert check(lines) == 2


def with_text(text: str = "An article\u2019s text.") -> list[bytes]:
    """A file whose third event attaches a text, the text's line just before it."""
    body = events(2)
    digest = text_line(text)["sha256"]
    attach: dict[str, Any] = {
        **events(3)[2],
        "type": "SourceTextAttached",
        "payload": {"source": "tass", "sha256": digest, "characters": len(text)},
        "sources": [],
    }
    attach["hash"] = event_hash({**attach, "hash": ""}, body[-1]["hash"])
    lines = file_of([*body, attach])
    return [*lines[:3], encode(text_line(text)), *lines[3:]]


def test_a_text_line_comes_before_the_event_attaching_it_and_matches_it() -> None:
    lines = with_text()
    assert check(lines) == 3
    assert refused_at([*lines[:3], *lines[4:]])[1].endswith("is not before it")
    edited = lines[3].replace(b"article", b"articles")
    assert "SHA-256" in refused_at([*lines[:3], edited, *lines[4:]])[1]
    stray = encode(text_line("a text no event attaches"))
    assert (
        refused_at([*lines[:-1], stray, lines[-1]])[1] == "a text no event of the backup attaches"
    )
    twice = refused_at([*lines[:4], lines[3], *lines[4:]])
    assert twice == (5, "this text is in the backup already")
    version_1 = encode({**header("sqlite", "x"), "version": 1})
    assert refused_at([version_1, *lines[1:]]) == (4, "a version 1 backup holds no texts")
    control = text_line("a\x00b")
    assert "control character" in refused_at([*lines[:3], encode(control), *lines[4:]])[1]
