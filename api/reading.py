"""The read time every read shares (as_of, known_at, tz) and the caching of past answers."""

from __future__ import annotations

import contextlib
import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.openapi.datastructures import ResponseSpec

from api.conditional import IMMUTABLE, REVALIDATE, conditional
from api.problems import ApiProblem, problem_specs
from api.services import Services
from api.settled_answers import Answer, kept_answers
from domain.errors import InvalidValidTime
from domain.valid_time import format_instant, parse_instant, to_micros, validate_timezone
from store.projection import FOREVER


@dataclass(frozen=True, slots=True)
class ReadTime:
    """The valid and transaction times of one read, and whether its answer can never change.

    Without a known_at the read sees the whole log: stamps may run a little ahead of the
    clock (they strictly increase), and a writer must see its own appends at once.
    """

    as_of: datetime
    known_at: datetime
    settled: bool
    everything: bool = False
    # known_at was given and the log has moved past it (see api.log_horizon): what was known
    # then can never change. `settled` adds an as_of in the past.
    known_settled: bool = False

    @property
    def as_of_micros(self) -> int:
        """as_of in UTC microseconds."""
        return to_micros(self.as_of)

    @property
    def known_at_micros(self) -> int:
        """known_at in UTC microseconds (the end of time when the whole log is wanted)."""
        return FOREVER - 1 if self.everything else to_micros(self.known_at)

    @property
    def log_horizon(self) -> datetime:
        """The last recorded_at the read may see."""
        return datetime.max.replace(tzinfo=UTC) if self.everything else self.known_at

    def echo(self) -> dict[str, str]:
        """The times as the response states them."""
        return {"as_of": format_instant(self.as_of), "known_at": format_instant(self.known_at)}

    def echoed_after(self, state: bytes) -> bytes:
        """A JSON object (a stored state, as `msgspec.json.encode` wrote it) with the times
        after its own fields: the bytes `msgspec.json.encode({**decoded, **self.echo()})` gives
        for an object that has neither field, made without decoding it."""
        # msgspec writes an aware UTC datetime as format_instant does, in a fraction of its time.
        times = msgspec.json.encode(
            {"as_of": _echoed(self.as_of), "known_at": _echoed(self.known_at)}
        )
        if state == b"{}":
            return times
        return state[:-1] + b"," + times[1:]


def _echoed(moment: datetime) -> datetime | str:
    """A time as msgspec may encode it for the echo: a plain UTC datetime as it is (written as
    format_instant writes it), anything else (another zone, pendulum's) formatted."""
    return moment if type(moment) is datetime and moment.tzinfo is UTC else format_instant(moment)


# The form clients send most, and the one the API echoes: UTC with "Z", whole seconds or six
# digits of them. datetime.fromisoformat reads that in C, in a quarter of parse_instant's time
# even with pendulum reading the datetime there (bench/valid_time.py: 1.2 against 4.4 µs; a
# position read parses two instants per request).
_PLAIN_UTC = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{6})?Z")


def moment(value: str, tz: str, field: str, *, day_start: bool = False) -> datetime:
    """A query moment, or a 400 that names the parameter."""
    if isinstance(value, str) and _PLAIN_UTC.fullmatch(value):
        with contextlib.suppress(ValueError):  # refused (a 30 February): the parser says why
            return datetime.fromisoformat(value)
    try:
        return parse_instant(value, tz, day_start=day_start)
    except InvalidValidTime as error:
        raise invalid(field, str(error)) from None


async def read_time(
    services: Services, as_of: str | None, known_at: str | None, tz: str
) -> ReadTime:
    """as_of and known_at from the query, defaulting to now; settled when both are in the past,
    known_at by the log's clock (which may run ahead of this process's: then its "now")."""
    try:
        if tz != "UTC":  # the default needs no look-up
            validate_timezone(tz)
    except InvalidValidTime as error:
        raise invalid("tz", str(error)) from None
    now = services.clock()
    valid = moment(as_of, tz, "as_of") if as_of is not None else now
    known = moment(known_at, tz, "known_at") if known_at is not None else now
    # Asked before the handler reads: a log that moves on meanwhile only adds to what is later.
    known_settled = known_at is not None and await services.horizon.passed(known)
    last = services.horizon.seen
    if last is not None and last > now:
        now = last
    return ReadTime(
        as_of=valid,
        known_at=min(known, now),
        settled=known_settled and as_of is not None and valid < now,
        everything=known_at is None,
        known_settled=known_settled,
    )


def cached_read_responses(*statuses: int) -> dict[int, ResponseSpec]:
    """The responses of a read answered through `cached`: its problems, and 304."""
    not_modified = ResponseSpec(
        data_container=None, description="Not modified: the If-None-Match ETag is current"
    )
    return {304: not_modified, **problem_specs(*statuses)}


def invalid(field: str, message: str) -> ApiProblem:
    """A 400 naming one query or path parameter."""
    return ApiProblem.bad_parameter(field, message)


def cached(request: Request[Any, Any, Any], body: Any, settled: bool) -> Response[Any]:
    """The body with a strong ETag; 304 when the client has it; immutable (and kept in memory,
    see `api.settled_answers`) once settled."""
    return cached_json(request, msgspec.json.encode(body), settled)


def cached_json(request: Request[Any, Any, Any], encoded: bytes, settled: bool) -> Response[Any]:
    """`cached` for a body already encoded."""
    etag = '"' + hashlib.sha256(encoded).hexdigest()[:32] + '"'
    if settled:
        answers = kept_answers(request)
        if answers is not None:
            answers.put(request, Answer(etag=etag, body=encoded))
    return conditional(request, etag, encoded, IMMUTABLE if settled else REVALIDATE)
