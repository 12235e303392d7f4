"""The log's backup format (JSON Lines), and its checks: pure, given the text of each line.

    line 1      {"format": "diplomatic-timeline-log", "version": 2, "backend", "exported_at"}
    then        the event at position p: every column the log stores, `hash` last; before the
                first event attaching a text, that text: {"text", "sha256", "characters"}
    last line   {"end": true, "events": N, "head": N, "head_hash": "…"}

Version 1 (still read) held no texts. A text line is checked against its hash and length, and
each SourceTextAttached event against the text lines before it: a text dropped, changed or
added without an event attaching it is refused.

An event line holds exactly what the hash chain covers (`domain.chain.content_of`) plus the hash,
so each line's hash can be recomputed from the line and the line before it: an edited, dropped or
reordered line breaks the chain there, and a file cut at a line boundary lacks its trailer.
Numbers are read as json.loads reads them, the hash covers them as read, and one that is no
finite number (`1e400`) is refused.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from domain.chain import GENESIS, content_of, link
from domain.json_numbers import floats_in
from domain.valid_time import Precision

FORMAT = "diplomatic-timeline-log"
VERSION = 2
READABLE = (1, 2)
TEXT_FIELDS = ("text", "sha256", "characters")
ATTACHED = "SourceTextAttached"

_HEX64 = re.compile(r"[0-9a-f]{64}")
_UNPRINTABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")
_PRECISIONS = frozenset(str(p) for p in Precision)
_CODES = frozenset({"cameo", "plover", "plover_mode"})


class BackupError(ValueError):
    """A backup file that cannot be imported, and the line where that shows."""

    def __init__(self, line: int, problem: str) -> None:
        super().__init__(f"line {line}: {problem}")
        self.line = line
        self.problem = problem


def _int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _positive(v: Any) -> bool:
    return _int(v) and v >= 1


def _text(v: Any) -> bool:
    return isinstance(v, str) and v != ""


def _strings(v: Any) -> bool:
    return isinstance(v, list) and all(isinstance(s, str) for s in v)


def _uuid(v: Any) -> bool:
    if not isinstance(v, str):
        return False
    try:
        return str(UUID(v)) == v
    except ValueError:
        return False


def _precision(v: Any) -> bool:
    # A string first: a list or an object in its place cannot even be looked up in a set.
    return isinstance(v, str) and v in _PRECISIONS


def _codes(v: Any) -> bool:
    return v is None or (
        isinstance(v, dict)
        and set(v) <= _CODES
        and all(c is None or isinstance(c, str) for c in v.values())
    )


def _sources(v: Any) -> bool:
    return isinstance(v, list) and all(
        isinstance(s, dict) and isinstance(s.get("source"), str) for s in v
    )


# Every field of an event line, in the order lines are written, with what its value must be.
EVENT_FIELDS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "position": (_positive, "a positive integer"),
    "id": (_uuid, "a UUID in its canonical lower-case form"),
    "stream": (_text, "a non-empty string"),
    "stream_version": (_positive, "a positive integer"),
    "type": (_text, "a non-empty string"),
    "schema_version": (_positive, "a positive integer"),
    "occurred_at": (_text, "a non-empty string"),
    "timezone": (_text, "a non-empty string"),
    "occurred_earliest": (_int, "an integer (UTC microseconds)"),
    "occurred_latest": (_int, "an integer (UTC microseconds)"),
    "occurred_precision": (_precision, f"one of {sorted(_PRECISIONS)}"),
    "occurred_qualifiers": (_strings, "a list of strings"),
    "recorded_at": (_int, "an integer (UTC microseconds)"),
    "actors": (_strings, "a list of strings"),
    "payload": (lambda v: isinstance(v, dict), "an object"),
    "sources": (_sources, "a list of citations ({source, quote?})"),
    "codes": (_codes, "null or an object of cameo, plover, plover_mode"),
    "metadata": (lambda v: isinstance(v, dict), "an object"),
    "hash": (lambda v: isinstance(v, str) and _HEX64.fullmatch(v) is not None, "64 hex digits"),
}
_HEADER_FIELDS = ("format", "version", "backend", "exported_at")
# The event fields that hold free JSON, where numbers may be.
JSON_COLUMNS = ("payload", "sources", "codes", "metadata")
_TRAILER_FIELDS = ("end", "events", "head", "head_hash")


def header(backend: str, exported_at: str) -> dict[str, Any]:
    """The first line of a backup."""
    return {"format": FORMAT, "version": VERSION, "backend": backend, "exported_at": exported_at}


def trailer(events: int, head: int, head_hash: str | None) -> dict[str, Any]:
    """The last line of a backup: its absence means the file was cut short."""
    return {"end": True, "events": events, "head": head, "head_hash": head_hash}


def encode(value: dict[str, Any]) -> bytes:
    """One line of the file, newline included: compact JSON, keys in the order given."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise ValueError(f"the key {key!r} appears twice")
        seen[key] = value
    return seen


def parse(line: int, raw: bytes) -> dict[str, Any]:
    """One line as a JSON object (strict: UTF-8, no repeated keys, no NaN)."""
    cut = "" if raw.endswith(b"\n") else " (the file ends in the middle of a line: truncated?)"
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BackupError(line, "not UTF-8 text" + cut) from None
    if not text.strip():
        raise BackupError(line, "an empty line")
    try:
        value = json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_refuse_constant)
    except ValueError as error:
        raise BackupError(line, f"not valid JSON ({error}){cut}") from None
    if not isinstance(value, dict):
        raise BackupError(line, f"not a JSON object{cut}")
    return value


def _exact_fields(line: int, value: dict[str, Any], fields: tuple[str, ...], what: str) -> None:
    missing = [f for f in fields if f not in value]
    unknown = sorted(set(value) - set(fields))
    if missing:
        raise BackupError(line, f"the {what} lacks {', '.join(missing)}")
    if unknown:
        raise BackupError(line, f"the {what} has unknown fields: {', '.join(unknown)}")


def check_header(line: int, value: dict[str, Any]) -> None:
    """The header names this format and a version this code reads."""
    if value.get("format") != FORMAT:
        raise BackupError(line, f"not a timeline backup: the header's format is not {FORMAT!r}")
    _exact_fields(line, value, _HEADER_FIELDS, "header")
    if not _int(value["version"]) or value["version"] not in READABLE:
        raise BackupError(
            line,
            f"unsupported version {value['version']!r}: this timeline reads "
            f"{', '.join(str(v) for v in READABLE)}",
        )
    for name in ("backend", "exported_at"):
        if not isinstance(value[name], str):
            raise BackupError(line, f"the header's {name} is not a string")


def check_event_fields(line: int, value: dict[str, Any]) -> None:
    """Every field of an event line present, none unknown, each of its type."""
    _exact_fields(line, value, tuple(EVENT_FIELDS), "event")
    for name, (valid, expected) in EVENT_FIELDS.items():
        if not valid(value[name]):
            raise BackupError(line, f"{name} must be {expected}, not {value[name]!r}")
    for name in JSON_COLUMNS:
        for path, number in floats_in(value[name], name):
            # json.loads reads 1e400 as infinity, which no database keeps as JSON.
            if not math.isfinite(number):
                raise BackupError(line, f"{path} is not a finite number")


def is_text_line(value: dict[str, Any]) -> bool:
    """Whether a checked line holds a source text (not an event)."""
    return "text" in value and "position" not in value


def text_line(text: str) -> dict[str, Any]:
    """The line that carries a source text."""
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return {"text": text, "sha256": digest, "characters": len(text)}


def check_text_line(line: int, value: dict[str, Any]) -> None:
    """A text line's fields, and its hash and length those of its text."""
    _exact_fields(line, value, TEXT_FIELDS, "text line")
    text = value["text"]
    if not _text(text):
        raise BackupError(line, "the text line's text is not a non-empty string")
    try:
        encoded = text.encode("utf-8")
    except UnicodeEncodeError:
        raise BackupError(line, "the text holds a lone surrogate: it is no Unicode text") from None
    if value["sha256"] != hashlib.sha256(encoded).hexdigest():
        raise BackupError(line, "the text does not have the SHA-256 its line gives (edited?)")
    if value["characters"] != len(text):
        raise BackupError(line, f"the text has {len(text)} characters, not {value['characters']}")
    if _UNPRINTABLE.search(text):
        raise BackupError(line, "the text holds a control character no database keeps")


def event_hash(value: dict[str, Any], prev_hash: str) -> str:
    """The hash an event line must carry, from its content and its predecessor's hash."""
    return link(prev_hash, content_of(**{k: v for k, v in value.items() if k != "hash"}))


@dataclass(frozen=True, slots=True)
class Summary:
    """What a fully checked backup holds."""

    events: int
    head: int
    head_hash: str | None
    lines: int


class LogChecker:
    """Checks a backup line by line, holding only the running state (the chain's last hash, the
    last position and recorded_at, each stream's version): a file of any length streams past."""

    def __init__(self) -> None:
        self.line = 0
        self.events = 0
        self.head = 0
        self.prev_hash = GENESIS
        self.last_recorded = -1
        self.versions: dict[str, int] = {}
        self.version = VERSION
        self.texts: dict[str, int] = {}  # sha256 -> characters, of the texts read so far
        self._unattached: set[str] = set()
        self._header = False
        self._ended = False

    def feed(self, raw: bytes) -> dict[str, Any] | None:
        """Take the next line; the event it holds (checked), or None for the header or trailer."""
        self.line += 1
        line = self.line
        if self._ended:
            raise BackupError(line, "more lines after the trailer")
        value = parse(line, raw)
        if not self._header:
            check_header(line, value)
            self._header = True
            self.version = value["version"]
            return None
        if "text" in value and "position" not in value:
            self._check_text(line, value)
            return value
        if "end" in value:
            self._check_trailer(line, value)
            self._ended = True
            return None
        self._check_event(line, value)
        return value

    def _check_text(self, line: int, value: dict[str, Any]) -> None:
        if self.version < 2:
            raise BackupError(line, f"a version {self.version} backup holds no texts")
        check_text_line(line, value)
        if value["sha256"] in self.texts:
            raise BackupError(line, "this text is in the backup already")
        self.texts[value["sha256"]] = value["characters"]
        self._unattached.add(value["sha256"])

    def _check_attachment(self, line: int, value: dict[str, Any]) -> None:
        payload = value["payload"]
        digest = payload.get("sha256")
        if digest not in self.texts:
            raise BackupError(line, f"the text {digest!r} this event attaches is not before it")
        if payload.get("characters") != self.texts[digest]:
            raise BackupError(
                line,
                f"the event says its text has {payload.get('characters')!r} characters, "
                f"the text line {self.texts[digest]}",
            )
        self._unattached.discard(digest)

    def finish(self) -> Summary:
        """The file has ended: it must have ended with its trailer."""
        if not self._header:
            raise BackupError(1, "the file is empty: no header")
        if not self._ended:
            raise BackupError(
                self.line + 1, "the file ends without its trailer (truncated after an event?)"
            )
        if self._unattached:
            raise BackupError(self.line, "a text no event of the backup attaches")
        return Summary(
            events=self.events,
            head=self.head,
            head_hash=None if self.events == 0 else self.prev_hash,
            lines=self.line,
        )

    def _check_event(self, line: int, value: dict[str, Any]) -> None:
        check_event_fields(line, value)
        position, stream = value["position"], value["stream"]
        if position != self.head + 1:
            raise BackupError(
                line, f"position {position} where {self.head + 1} was due (positions skip)"
            )
        expected_version = self.versions.get(stream, 0) + 1
        if value["stream_version"] != expected_version:
            raise BackupError(
                line,
                f"stream {stream!r} at version {value['stream_version']} "
                f"where {expected_version} was due",
            )
        if value["recorded_at"] <= self.last_recorded:
            raise BackupError(line, "recorded_at does not increase with position")
        if value["hash"] != event_hash(value, self.prev_hash):
            raise BackupError(
                line,
                f"the hash chain breaks at position {position}: its hash does not follow from "
                "the line's content and the previous hash (edited, dropped or reordered?)",
            )
        if value["type"] == ATTACHED:
            self._check_attachment(line, value)
        self.head = position
        self.events += 1
        self.prev_hash = value["hash"]
        self.last_recorded = value["recorded_at"]
        self.versions[stream] = expected_version

    def _check_trailer(self, line: int, value: dict[str, Any]) -> None:
        _exact_fields(line, value, _TRAILER_FIELDS, "trailer")
        if value["end"] is not True:
            raise BackupError(line, "the trailer's end is not true")
        head_hash = None if self.events == 0 else self.prev_hash
        found = (value["events"], value["head"], value["head_hash"])
        if found != (self.events, self.head, head_hash) or not (
            _int(value["events"]) and _int(value["head"])
        ):
            raise BackupError(
                line,
                f"the trailer says {value['events']!r} events up to head {value['head']!r} "
                f"with hash {value['head_hash']!r}, but the file holds {self.events} up to "
                f"{self.head} with hash {head_hash!r}",
            )
