"""Loads the first data set through the same write path as the API, idempotently."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from seeds.dataset import SeedStream, load_dataset, load_text_manifest
from store.errors import DuplicateEventConflict
from store.ports import Clock, EventStore
from store.source_texts import attach_text
from store.submission import submit

SEED_METADATA = {"recorded_by": "seed", "correlation_id": "seed:ceasefire-2025"}


@dataclass(frozen=True, slots=True)
class SeedReport:
    """What a seed run appended, and what it found there already."""

    appended: int
    already_present: int
    streams: int


class SeedChanged(ValueError):
    """The log holds seed events that the data set has since rewritten (a log never changes)."""


async def seed(
    store: EventStore,
    clock: Clock,
    streams: tuple[SeedStream, ...] | None = None,
    progress: Callable[[SeedStream], None] = lambda _stream: None,
) -> SeedReport:
    """Append every seed stream; a stream appended before is recognised by its ids."""
    appended = present = 0
    loaded = streams if streams is not None else load_dataset()
    for stream in loaded:
        try:
            result = await submit(
                store, clock, stream=stream.stream, events=stream.events, metadata=SEED_METADATA
            )
        except DuplicateEventConflict as conflict:
            raise SeedChanged(
                f"this log was seeded with an earlier version of the data set (event "
                f"{conflict.event_id} of stream {stream.stream} differs now): seed a new "
                "database instead — for `make run`, delete var/timeline.db and run it again"
            ) from None
        if result.duplicate:
            present += len(result.events)
        else:
            appended += len(result.events)
        progress(stream)
    return SeedReport(appended=appended, already_present=present, streams=len(loaded))


@dataclass(frozen=True, slots=True)
class TextsReport:
    """What `seed_texts` found in a folder: the sources given a text now (source -> file), those
    that had it already, the files that are no listed text, and the sources left without one;
    `failed` quotes (of the log's citations) that the texts attached do not hold."""

    attached: dict[str, str] = field(default_factory=dict)
    already: dict[str, str] = field(default_factory=dict)
    unmatched: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    failed: int = 0


def text_files(directory: Path) -> dict[str, bytes]:
    """Every `*.txt` of a folder, by file name, as bytes."""
    return {path.name: path.read_bytes() for path in sorted(directory.glob("*.txt"))}


async def seed_texts(
    store: EventStore,
    clock: Clock,
    files: Mapping[str, bytes],
    manifest: Mapping[str, str] | None = None,
) -> TextsReport:
    """Attach each file (from `text_files`) whose SHA-256 the data set lists to its source
    (after `seed`: the sources must be registered); a text attached already stays as it is."""
    listed = dict(load_text_manifest() if manifest is None else manifest)
    attached: dict[str, str] = {}
    already: dict[str, str] = {}
    unmatched: list[str] = []
    failed = 0
    for name, raw in sorted(files.items()):
        source = listed.get(hashlib.sha256(raw).hexdigest())
        if source is None:
            unmatched.append(name)
            continue
        answer = await attach_text(
            store, clock, source=source, text=raw.decode("utf-8"), metadata=SEED_METADATA
        )
        (attached if answer.created else already)[source] = name
        failed += answer.failed
    found = {*attached, *already}
    missing = tuple(sorted(s for s in listed.values() if s not in found))
    return TextsReport(attached, already, tuple(unmatched), missing, failed)
