"""The seed data set: YAML files of events, one stream per file, read in file-name order."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "DATASET_DIR",
    "SEED_NAMESPACE",
    "SeedError",
    "SeedStream",
    "load_dataset",
    "load_stream",
    "load_text_manifest",
    "seed_id",
]

SEED_NAMESPACE = uuid.UUID("3b0c54a2-8f4e-4c7e-9a51-6d2f0e1a7c39")
DATASET_DIR = Path(__file__).parent / "ceasefire-2025"

_REQUIRED = ("key", "type", "occurred_at", "payload")
_OPTIONAL = ("sources", "timezone", "codes", "schema_version")


class SeedError(ValueError):
    """A seed file that cannot be read as a stream of events; the message names file and key."""


@dataclass(frozen=True, slots=True)
class SeedStream:
    """One stream of the data set, its events in append order."""

    stream: str
    events: tuple[dict[str, Any], ...]


def seed_id(stream: str, key: str) -> str:
    """The stable id of a seed event: uuid5 of `<stream>/<key>` in the seed namespace."""
    return str(uuid.uuid5(SEED_NAMESPACE, f"{stream}/{key}"))


def load_dataset(directory: Path = DATASET_DIR) -> tuple[SeedStream, ...]:
    """Every stream of the data set, in file-name order, with `@stream/key` targets resolved."""
    streams: list[SeedStream] = []
    known: set[str] = set()
    for path in sorted(directory.glob("*.yaml")):
        stream = _load_stream(path, known)
        if any(s.stream == stream.stream for s in streams):
            raise SeedError(f"{path.name}: stream {stream.stream!r} is already defined")
        streams.append(stream)
    return tuple(streams)


def load_text_manifest(directory: Path = DATASET_DIR) -> dict[str, str]:
    """The source each article text is, by its SHA-256 (`texts.sha256`: `<hash>  <source>` a
    line, `#` comments); empty when the data set lists none."""
    path = directory / "texts.sha256"
    if not path.exists():
        return {}
    manifest: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        digest, _, source = line.partition("  ")
        if len(digest) != 64 or not source.strip():
            raise SeedError(f"{path.name}: line {number} is not `<sha256>  <source>`")
        manifest[digest.lower()] = source.strip()
    return manifest


def load_stream(file_name: str, directory: Path = DATASET_DIR) -> SeedStream:
    """One stream of the data set, read from its file alone (a fraction of the whole set's
    parsing); its `@stream/key` targets may name only its own earlier events."""
    return _load_stream(directory / file_name, set())


def _load_stream(path: Path, known: set[str]) -> SeedStream:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(document, Mapping) or set(document) != {"stream", "events"}:
        raise SeedError(f"{path.name}: expected exactly the keys 'stream' and 'events'")
    stream, raw_events = document["stream"], document["events"]
    if not isinstance(stream, str) or not isinstance(raw_events, list):
        raise SeedError(f"{path.name}: 'stream' must be text and 'events' a list")
    keys: set[str] = set()
    events: list[dict[str, Any]] = []
    for index, raw in enumerate(raw_events):
        where = f"{path.name}: event {index}"
        if not isinstance(raw, Mapping):
            raise SeedError(f"{where} is not a mapping")
        key = raw.get("key")
        if not isinstance(key, str) or not key:
            raise SeedError(f"{where} has no key")
        where = f"{path.name}: {key}"
        if key in keys:
            raise SeedError(f"{where}: duplicate key in stream {stream!r}")
        keys.add(key)
        event = _event(raw, where, stream, known)
        # Registered only after its own payload is resolved: an event cannot target itself.
        known.add(event["id"])
        events.append(event)
    return SeedStream(stream=stream, events=tuple(events))


def _event(raw: Mapping[str, Any], where: str, stream: str, known: set[str]) -> dict[str, Any]:
    unknown = set(raw) - {*_REQUIRED, *_OPTIONAL}
    if unknown:
        raise SeedError(f"{where}: unknown fields {sorted(unknown)}")
    missing = [name for name in _REQUIRED if name not in raw]
    if missing:
        raise SeedError(f"{where}: missing fields {missing}")
    if not isinstance(raw["occurred_at"], str):
        raise SeedError(f"{where}: occurred_at must be a quoted string")
    payload, sources = raw["payload"], raw.get("sources", [])
    if not isinstance(payload, Mapping) or not isinstance(sources, list):
        raise SeedError(f"{where}: payload must be a mapping and sources a list")
    if not all(isinstance(source, Mapping) for source in sources):
        raise SeedError(f"{where}: every source must be a mapping {{source, quote?}}")
    event: dict[str, Any] = {
        "id": seed_id(stream, raw["key"]),
        "type": raw["type"],
        "occurred_at": raw["occurred_at"],
        "payload": _resolve(dict(payload), where, known),
        "sources": [dict(source) for source in sources],
    }
    for name in ("timezone", "codes", "schema_version"):
        if name in raw:
            event[name] = raw[name]
    return event


def _resolve(payload: dict[str, Any], where: str, known: set[str]) -> dict[str, Any]:
    target = payload.get("target")
    if isinstance(target, str) and target.startswith("@"):
        stream, _, key = target[1:].partition("/")
        resolved = seed_id(stream, key) if stream and key else ""
        if resolved not in known:
            raise SeedError(f"{where}: target {target!r} is no earlier event of the data set")
        payload["target"] = resolved
    return payload
