"""A corpus of hostile inputs against the in-process app.

Every refusal is a 4xx problem document (application/problem+json with type, title, status and
detail, the status in the body equal to the HTTP status) that leaks no stack trace, SQL or file
path, and a refused write writes nothing: the log's head and the key's subscriptions stay as they
were. Where a hostile value is legitimate data (emoji or a right-to-left mark in free text, a
filter that simply matches nothing, an injection string inside a quote) a 2xx is allowed, but
the value must come back verbatim and must not break a read.

Known product bugs are marked `xfail(strict=True)` with what happens and where: the suite stays
green while they last, and a fix turns the case into an XPASS failure that asks for the mark to go.

Most cases share one seeded app per module (loop_scope="module"): the checks are deltas, so
cases do not disturb each other. Cases whose write the API accepts and that could poison later
reads (control characters in text) run on the fresh per-test `api` fixture instead.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import quote, unquote
from uuid import uuid4

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import text

from api.strict_query import MAX_QUERY_BYTES
from store.sql import SqlEventStore
from tests.builders import raw_source
from tests.clock import FrozenClock
from tests.support.api import Api, serving
from tests.support.backends import SQL_BACKENDS

PROBLEM_JSON = "application/problem+json"
JSON = {"Content-Type": "application/json"}
LEAKS = ("Traceback", "SELECT ", "INSERT ", "sqlalchemy", "/work/", '.py"')
SHARED = pytest.mark.asyncio(loop_scope="module")

SOURCE = "notus-2025-03-13"  # a source the seed registers
SEEDED_EVENT = "23d1636a-92a5-579f-9ae3-d7f335ce73df"  # position 1 of the seed
PUBLIC_HOOK = "https://93.184.216.34/hooks/timeline"  # an IP literal: no DNS lookup
NO_SUBSCRIPTION = "sub_0123456789abcdef01234567"

SQL_INJECTIONS = {
    "sql-or": "' OR 1=1 --",
    "sql-drop": '"; DROP TABLE events; --',
    "sql-union": "%' UNION SELECT * FROM api_keys --",
}


# The app, shared by most cases, and helpers


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=SQL_BACKENDS)
async def shared(request: pytest.FixtureRequest) -> AsyncIterator[Api]:
    """One seeded app for every case that only needs deltas, on each SQL backend: hostile
    text must reach PostgreSQL as a bound parameter as surely as it reaches SQLite."""
    databases = request.getfixturevalue(f"{request.param}_databases")
    async with serving(databases.fresh(), FrozenClock(), seeded=True) as running:
        yield running


@pytest.fixture
def long_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let httpx build URLs over its 64 KiB limit: the app must judge them, not the client."""
    monkeypatch.setattr("httpx._urlparse.MAX_URL_LENGTH", 10**8)


@pytest.fixture
def short_streams(monkeypatch: pytest.MonkeyPatch) -> None:
    """An SSE stream the app wrongly opens ends in half a second instead of five minutes."""
    monkeypatch.setenv("TIMELINE_SSE_MAX_LIFETIME", "0.5")
    monkeypatch.setenv("TIMELINE_SSE_HEARTBEAT", "0.2")


@pytest.fixture
async def fresh(api: Api) -> Api:
    """A fresh app whose log registers SOURCE, for writes that may poison later reads."""
    body = {"stream": "sources", "events": [raw_source(SOURCE)]}
    response = await api.client.post(
        "/v1/events", content=json.dumps(body).encode(), headers={**api.writer, **JSON}
    )
    assert response.status_code == 201, response.text
    return api


def no_leak(body: str, *echoed: str) -> None:
    """No stack trace, SQL or file path in an answer, once the client's own input is removed."""
    for echo in echoed:
        if echo:
            body = body.replace(echo, "")
    leaked = [marker for marker in LEAKS if marker in body]
    assert not leaked, f"the answer leaks {leaked}: {body[:300]}"


def is_problem(response: httpx.Response, *echoed: str) -> dict[str, Any]:
    """Assert a 4xx problem document that leaks nothing; its body."""
    kind = response.headers.get("content-type")
    assert 400 <= response.status_code <= 499, (
        f"{response.status_code} {kind}: {response.text:.300}"
    )
    assert kind == PROBLEM_JSON, f"{response.status_code} {kind}: {response.text:.300}"
    body = response.json()
    assert isinstance(body, dict), body
    for key in ("type", "title", "detail"):
        assert isinstance(body.get(key), str) and body[key], body
    assert body.get("status") == response.status_code, body
    no_leak(response.text, *echoed)
    return body


def matches_nothing(response: httpx.Response, *echoed: str) -> None:
    """A filter value that names nothing: a 4xx problem, or a 200 with no items."""
    if response.status_code >= 400:
        is_problem(response, *echoed)
        return
    assert response.status_code == 200, f"{response.status_code}: {response.text:.300}"
    if response.headers["content-type"].startswith("application/atom+xml"):
        assert "<entry" not in response.text
    else:
        assert response.json()["items"] == [], response.text[:300]


async def state(api: Api) -> tuple[int, list[Any]]:
    """What a write could change: the log's head and the subscriber's subscriptions."""
    health = await api.client.get("/v1/health")
    assert health.status_code == 200, health.text
    listed = await api.client.get("/v1/subscriptions", headers=api.subscriber)
    assert listed.status_code == 200, listed.text
    items: list[Any] = listed.json()["items"]
    return int(health.json()["head"]), items


async def rows(api: Api, table: str) -> int:
    """How many rows a table holds, counted in SQL behind the API's back."""
    store = api.services.store
    assert isinstance(store, SqlEventStore)
    async with store.engine.connect() as conn:
        found = await conn.execute(text(f"SELECT count(*) FROM {table}"))
        return int(found.scalar_one())


# Bodies: a valid batch and a valid subscription, and hostile values put into one field

SURROGATE = "\ue000lone-surrogate\ue000"  # replaced by the JSON escape \ud800 on the wire
Path = tuple[str | int, ...]


def a_batch() -> dict[str, Any]:
    """A valid batch against the seed: one StatementMade citing SOURCE."""
    return {
        "stream": "hostile-inputs",
        "events": [
            {
                "id": str(uuid4()),
                "type": "StatementMade",
                "occurred_at": "2025-03-14",
                "timezone": "Europe/Kyiv",
                "payload": {
                    "speaker": "donald-trump",
                    "summary": "A statement on the ceasefire.",
                    "quote": "We will see.",
                },
                "sources": [{"source": SOURCE, "quote": "We will see."}],
            }
        ],
    }


def a_subscription() -> dict[str, Any]:
    """A valid subscription to a public IP literal."""
    return {
        "url": PUBLIC_HOOK,
        "description": "Newsroom hook",
        "filter": {
            "stream": "ceasefire-2025",
            "actor": "russia",
            "proposal": "us-30-day-ceasefire-2025",
            "type": ["PositionStated"],
        },
    }


def at(body: Any, path: Path) -> Any:
    """The value at a path of a JSON document."""
    for step in path:
        body = body[step]
    return body


def put(body: dict[str, Any], path: Path, value: Any) -> dict[str, Any]:
    """A copy of the body with the value at the path replaced."""
    changed: dict[str, Any] = json.loads(json.dumps(body))
    at(changed, path[:-1])[path[-1]] = value
    return changed


def encode(body: Any) -> bytes:
    """UTF-8 JSON, with every SURROGATE marker sent as a lone surrogate escape."""
    return json.dumps(body, ensure_ascii=False).encode().replace(SURROGATE.encode(), b"\\ud800")


# Each hostile value is made from the field's valid value, so that it is nearly valid.
Make = Callable[[str], str]
TEXT_VALUES: dict[str, Make] = {
    "lone-surrogate": lambda v: v + SURROGATE,
    "nul": lambda v: v + "\x00",
    "rtl-override": lambda v: "\u202e" + v,
    "zero-width-joiner": lambda v: v[:1] + "\u200d" + v[1:],
    "combining-x10000": lambda v: v + "\u0301" * 10_000,
    "emoji": lambda v: v + "\U0001f469\u200d\U0001f4bb",
    "one-megabyte": lambda v: "x" * 1_000_000,
    "trailing-newline": lambda v: v + "\n",
}

EVENT_IDS: dict[str, Path] = {
    "stream": ("stream",),
    "type": ("events", 0, "type"),
    "occurred_at": ("events", 0, "occurred_at"),
    "timezone": ("events", 0, "timezone"),
    "id": ("events", 0, "id"),
    "payload.speaker": ("events", 0, "payload", "speaker"),
    "sources[0].source": ("events", 0, "sources", 0, "source"),
}
EVENT_TEXTS: dict[str, Path] = {
    "payload.summary": ("events", 0, "payload", "summary"),
    "payload.quote": ("events", 0, "payload", "quote"),
    "sources[0].quote": ("events", 0, "sources", 0, "quote"),
}
EVENT_FIELDS: dict[str, Path] = {**EVENT_IDS, **EVENT_TEXTS}
SUBSCRIPTION_FIELDS: dict[str, Path] = {
    "url": ("url",),
    "description": ("description",),
    "filter.stream": ("filter", "stream"),
    "filter.actor": ("filter", "actor"),
    "filter.proposal": ("filter", "proposal"),
    "filter.type": ("filter", "type", 0),
}


def cases(
    fields: dict[str, Path], values: dict[str, Make], bugs: dict[tuple[str, str], str]
) -> list[Any]:
    """(field, path, value name, maker) for every field and value; a known bug marks its case
    xfail(strict=True)."""
    made = []
    for field, path in fields.items():
        for name, make in values.items():
            reason = bugs.get((field, name))
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            made.append(pytest.param(field, path, name, make, id=f"{field}-{name}", marks=marks))
    return made


async def post(api: Api, url: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
    """POST raw bytes as JSON."""
    return await api.client.post(url, content=body, headers={**JSON, **headers})


# Unicode edge cases in every text field of POST /v1/events and POST /v1/subscriptions


@SHARED
@pytest.mark.parametrize(
    ("field", "path", "name", "make"),
    cases(
        EVENT_IDS,
        TEXT_VALUES,
        {},
    ),
)
async def test_a_hostile_identifier_in_an_event_is_refused_and_writes_nothing(
    shared: Api, field: str, path: Path, name: str, make: Make
) -> None:
    before = await state(shared)
    body = a_batch()
    value = make(at(body, path))
    response = await post(shared, "/v1/events", encode(put(body, path, value)), shared.writer)
    is_problem(response, value)
    assert await state(shared) == before


@SHARED
@pytest.mark.parametrize(
    ("field", "path", "name", "make"),
    cases(
        EVENT_TEXTS,
        {k: TEXT_VALUES[k] for k in ("lone-surrogate", "combining-x10000", "one-megabyte")},
        {},
    ),
)
async def test_malformed_or_overlong_free_text_in_an_event_is_refused(
    shared: Api, field: str, path: Path, name: str, make: Make
) -> None:
    before = await state(shared)
    body = a_batch()
    response = await post(
        shared, "/v1/events", encode(put(body, path, make(at(body, path)))), shared.writer
    )
    is_problem(response)
    assert await state(shared) == before


CONTROLS: dict[str, Make] = {
    "nul": lambda v: v + "\x00",
    "escape": lambda v: "\x1b[31m" + v,
    "noncharacter-fffe": lambda v: v + "\ufffe",
}


@pytest.mark.parametrize(
    ("field", "path", "name", "make"),
    cases(EVENT_TEXTS, CONTROLS, {}),
)
async def test_control_characters_in_free_text_are_refused(
    fresh: Api, field: str, path: Path, name: str, make: Make
) -> None:
    before = await state(fresh)
    body = a_batch()
    response = await post(
        fresh, "/v1/events", encode(put(body, path, make(at(body, path)))), fresh.writer
    )
    is_problem(response)
    assert await state(fresh) == before


async def stored_verbatim_and_readable(api: Api, path: Path, value: str) -> None:
    """Append a batch with `value` at `path`: refused with a problem, or shown verbatim by the
    event and answered 200 by every read that renders the log."""
    response = await post(api, "/v1/events", encode(put(a_batch(), path, value)), api.writer)
    if response.status_code >= 400:
        is_problem(response)
        return
    assert response.status_code == 201, response.text
    appended = response.json()["events"][0]
    shown = await api.client.get(f"/v1/events/{appended['id']}")
    assert shown.status_code == 200, shown.text
    assert at({"events": [shown.json()]}, path) == value
    reads = (
        f"/v1/events?after={appended['position'] - 1}&limit=1",
        "/v1/timeline?from=2025-03-14&to=2025-03-14&limit=1000",
        "/v1/feed.atom",  # newest first: the new event is on the first page
        f"/v1/sources/{SOURCE}",  # every event citing the source
    )
    for read in reads:
        answer = await api.client.get(read)
        assert answer.status_code == 200, f"{read}: {answer.status_code} {answer.text:.300}"


LEGIT_TEXT: dict[str, Make] = {
    "rtl-override": TEXT_VALUES["rtl-override"],
    "zero-width-joiner": TEXT_VALUES["zero-width-joiner"],
    "emoji": TEXT_VALUES["emoji"],
    "combining-x50": lambda v: v + "\u0301" * 50,
}


@SHARED
@pytest.mark.parametrize(("field", "path", "name", "make"), cases(EVENT_TEXTS, LEGIT_TEXT, {}))
async def test_unusual_but_legitimate_text_comes_back_verbatim_and_breaks_no_read(
    shared: Api, field: str, path: Path, name: str, make: Make
) -> None:
    await stored_verbatim_and_readable(shared, path, make(at(a_batch(), path)))


ACCEPTABLE_IN_SUBSCRIPTIONS = {
    ("url", "emoji"),  # an IRI: httpx percent-encodes it when delivering
    ("description", "rtl-override"),
    ("description", "zero-width-joiner"),
    ("description", "emoji"),
    ("description", "trailing-newline"),
}


@SHARED
@pytest.mark.parametrize(
    ("field", "path", "name", "make"),
    cases(
        SUBSCRIPTION_FIELDS,
        TEXT_VALUES,
        {},
    ),
)
async def test_a_hostile_value_in_a_subscription_is_refused_unless_it_is_plain_text(
    shared: Api, field: str, path: Path, name: str, make: Make
) -> None:
    before = await state(shared)
    body = a_subscription()
    value = make(at(body, path))
    response = await post(
        shared, "/v1/subscriptions", encode(put(body, path, value)), shared.subscriber
    )
    if (field, name) in ACCEPTABLE_IN_SUBSCRIPTIONS and response.status_code == 201:
        shown = await shared.client.get(response.headers["location"], headers=shared.subscriber)
        assert at(shown.json(), path) == value
        return
    is_problem(response, value)
    assert await state(shared) == before


# Unicode edge cases, injections and oversize values in query and path parameters


def constant(value: str) -> Make:
    """A maker that ignores the valid value."""
    return lambda _valid: value


URL_VALUES: dict[str, Make] = {
    "lone-surrogate": lambda v: v + "%ED%A0%80",
    "invalid-utf8": lambda v: v + "%FF%FE",
    "nul": lambda v: v + "%00",
    "rtl-override": lambda v: "%E2%80%AE" + v,
    "zero-width-joiner": lambda v: v[:1] + "%E2%80%8D" + v[1:],
    "combining-x10000": lambda v: v + "%CC%81" * 10_000,
    "emoji": lambda v: v + "%F0%9F%91%A9%E2%80%8D%F0%9F%92%BB",
    "one-megabyte": lambda v: "x" * 1_000_000,
    "trailing-newline": lambda v: v + "%0A",
    **{name: constant(quote(sql, safe="")) for name, sql in SQL_INJECTIONS.items()},
}
FILTER, STRICT = "filter", "strict"
QUERY_TARGETS = [
    ("/v1/events", "stream", FILTER, "ceasefire-2025"),
    ("/v1/events", "actor", FILTER, "russia"),
    ("/v1/events", "type", FILTER, "PositionStated"),
    ("/v1/events", "after", STRICT, "1"),
    ("/v1/events", "limit", STRICT, "10"),
    ("/v1/timeline", "actor", FILTER, "russia"),
    ("/v1/timeline", "proposal", FILTER, "us-30-day-ceasefire-2025"),
    ("/v1/timeline", "known_at", STRICT, "2025-03-13"),
    ("/v1/timeline", "tz", STRICT, "Europe/Kyiv"),
    ("/v1/timeline", "after", STRICT, "1741824000000000.40"),
    ("/v1/timeline", "limit", STRICT, "10"),
    ("/v1/proposals", "as_of", STRICT, "2025-03-13"),
    ("/v1/actors", "as_of", STRICT, "2025-03-13"),
    ("/v1/feed.atom", "proposal", FILTER, "us-30-day-ceasefire-2025"),
    ("/v1/feed", "after", STRICT, "1"),
]
QUERY_BUGS: dict[tuple[str, str, str], str] = {}


def query_cases() -> list[Any]:
    """(url, kind) for every query target with every hostile value."""
    made = []
    for endpoint, param, kind, valid in QUERY_TARGETS:
        for name, make in URL_VALUES.items():
            reason = QUERY_BUGS.get((endpoint, param, name))
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            made.append(
                pytest.param(
                    f"{endpoint}?{param}={make(valid)}",
                    kind,
                    id=f"{endpoint}?{param}-{name}",
                    marks=marks,
                )
            )
    return made


@SHARED
@pytest.mark.usefixtures("long_urls", "short_streams")
@pytest.mark.parametrize(("url", "kind"), query_cases())
async def test_a_hostile_query_parameter_is_a_400_or_matches_nothing(
    shared: Api, url: str, kind: str
) -> None:
    response = await shared.client.get(url)
    sent = unquote(url.partition("=")[2], errors="replace")
    if kind == STRICT:
        body = is_problem(response, sent)
        too_long = len(url.partition("?")[2].encode()) > MAX_QUERY_BYTES
        assert response.status_code == (414 if too_long else 400), body
    else:
        matches_nothing(response, sent)


PATH_TARGETS = [
    ("GET", "/v1/events/{}", SEEDED_EVENT),
    ("GET", "/v1/actors/{}", "russia"),
    ("GET", "/v1/proposals/{}", "us-30-day-ceasefire-2025"),
    ("GET", "/v1/proposals/us-30-day-ceasefire-2025/positions/{}", "russia"),
    ("GET", "/v1/subscriptions/{}", NO_SUBSCRIPTION),
    ("DELETE", "/v1/subscriptions/{}", NO_SUBSCRIPTION),
]
PATH_VALUES: dict[str, Make] = {
    **URL_VALUES,
    "path-traversal": constant("..%2F..%2F..%2Fetc%2Fpasswd"),
}


@SHARED
@pytest.mark.usefixtures("long_urls")
@pytest.mark.parametrize(
    ("method", "template", "value"),
    [
        pytest.param(method, template, make(valid), id=f"{method} {template}-{name}")
        for method, template, valid in PATH_TARGETS
        for name, make in PATH_VALUES.items()
    ],
)
async def test_a_hostile_path_parameter_is_a_4xx_and_writes_nothing(
    shared: Api, method: str, template: str, value: str
) -> None:
    before = await state(shared) if method != "GET" else None
    url = template.format(value)
    response = await shared.client.request(method, url, headers=shared.subscriber)
    is_problem(response, unquote(url, errors="replace"), unquote(value, errors="replace"))
    if before is not None:
        assert await state(shared) == before


# Bodies: too big, too deep, not JSON, not an object, duplicated keys, wrong content type


def nested(depth: int, kind: str) -> bytes:
    """A JSON value nested `depth` levels deep: arrays or objects."""
    if kind == "array":
        return b"[" * depth + b"]" * depth
    return b'{"a":' * depth + b"1" + b"}" * depth


def in_payload(value: bytes) -> bytes:
    """A valid batch whose payload carries `value` (raw JSON) in an extra field."""
    marker = '"\ue000value\ue000"'
    batch = a_batch()
    batch["events"][0]["payload"]["extra"] = "\ue000value\ue000"
    return encode(batch).replace(marker.encode(), value)


def batch() -> bytes:
    """A valid batch, encoded, with an event id of its own."""
    return encode(a_batch())


SUBSCRIPTION = encode(a_subscription())
EVENTS, SUBSCRIPTIONS = "/v1/events", "/v1/subscriptions"


BODIES = [
    pytest.param(EVENTS, b'{"x":"' + b"x" * 10 * 1024 * 1024 + b'"}', JSON, id="10MB-events"),
    pytest.param(SUBSCRIPTIONS, b'"' + b"x" * 10 * 1024 * 1024 + b'"', JSON, id="10MB-subscr"),
    pytest.param(EVENTS, nested(10_000, "array"), JSON, id="deep-array"),
    pytest.param(EVENTS, nested(10_000, "object"), JSON, id="deep-object"),
    pytest.param(
        EVENTS,
        in_payload(nested(10_000, "array")),
        JSON,
        id="deep-array-in-payload",
    ),
    pytest.param(
        EVENTS,
        in_payload(nested(10_000, "object")),
        JSON,
        id="deep-object-in-payload",
    ),
    pytest.param(
        SUBSCRIPTIONS,
        b'{"url":"' + PUBLIC_HOOK.encode() + b'","filter":' + nested(10_000, "object") + b"}",
        JSON,
        id="deep-object-in-subscription",
    ),
    pytest.param(EVENTS, in_payload(nested(100, "object")), JSON, id="depth-100-in-payload"),
    pytest.param(EVENTS, batch()[:-3], JSON, id="truncated"),
    pytest.param(EVENTS, batch()[:-1] + b",}", JSON, id="trailing-comma"),
    pytest.param(EVENTS, b"{'stream': 'p', 'events': []}", JSON, id="single-quotes"),
    pytest.param(EVENTS, b'{stream: "p", events: []}', JSON, id="unquoted-keys"),
    pytest.param(EVENTS, b'{"stream": "p", /* hi */ "events": []}', JSON, id="comment"),
    pytest.param(EVENTS, batch() + b" trailing garbage", JSON, id="trailing-garbage"),
    pytest.param(EVENTS, batch() + batch(), JSON, id="two-documents"),
    pytest.param(EVENTS, b"\xef\xbb\xbf" + batch(), JSON, id="byte-order-mark"),
    pytest.param(EVENTS, b" \n\t ", JSON, id="whitespace-only"),
    pytest.param(
        EVENTS, batch().replace(b'"hostile-inputs"', b'"\\ud800"'), JSON, id="escape-ud800"
    ),
    pytest.param(
        EVENTS, batch().replace(b'"hostile-inputs"', b'"\\udc00\\ud800"'), JSON, id="swapped-pair"
    ),
    pytest.param(
        EVENTS,
        batch().replace(b'"hostile-inputs"', b'"\xff\xfe"'),
        JSON,
        id="invalid-utf8",
    ),
    pytest.param(
        EVENTS,
        batch().replace(b'"hostile-inputs"', b'"\xed\xa0\x80"'),
        JSON,
        id="utf8-encoded-surrogate",
    ),
    pytest.param(
        EVENTS,
        batch().replace(b'"hostile-inputs"', b'"\xc0\xaf"'),
        JSON,
        id="overlong-utf8",
    ),
    pytest.param(
        SUBSCRIPTIONS,
        SUBSCRIPTION.replace(b"Newsroom hook", b"\xff"),
        JSON,
        id="invalid-utf8-subscription",
    ),
    pytest.param(EVENTS, b'"a batch"', JSON, id="top-level-string"),
    pytest.param(EVENTS, b"42", JSON, id="top-level-number"),
    pytest.param(EVENTS, b"null", JSON, id="top-level-null"),
    pytest.param(EVENTS, b"[" + batch() + b"]", JSON, id="top-level-array"),
    pytest.param(EVENTS, b"true", JSON, id="top-level-true"),
    pytest.param(SUBSCRIPTIONS, b"null", JSON, id="subscription-null"),
    pytest.param(SUBSCRIPTIONS, b"[]", JSON, id="subscription-array"),
    pytest.param(
        EVENTS,
        batch()[:-1] + b', "stream": "other-stream"}',
        JSON,
        id="duplicate-keys",
    ),
    pytest.param(
        SUBSCRIPTIONS,
        b'{"url": "http://127.0.0.1/admin", "url": "' + PUBLIC_HOOK.encode() + b'"}',
        JSON,
        id="duplicate-keys-subscription",
    ),
    pytest.param(EVENTS, batch(), {"Content-Type": "text/plain"}, id="text-plain"),
    pytest.param(
        SUBSCRIPTIONS,
        SUBSCRIPTION,
        {"Content-Type": "text/plain"},
        id="text-plain-subscription",
    ),
    pytest.param(EVENTS, b"", JSON, id="empty"),
    pytest.param(SUBSCRIPTIONS, b"", JSON, id="empty-subscription"),
    pytest.param(EVENTS, b"", {}, id="empty-no-content-type"),
]


@SHARED
@pytest.mark.parametrize(("url", "body", "content_type"), BODIES)
async def test_a_hostile_body_is_a_4xx_and_writes_nothing(
    shared: Api, url: str, body: bytes, content_type: dict[str, str]
) -> None:
    before = await state(shared)
    key = shared.writer if url == EVENTS else shared.subscriber
    response = await shared.client.post(url, content=body, headers={**content_type, **key})
    is_problem(response)
    if len(body) > 1024 * 1024:
        assert response.status_code == 413
    assert await state(shared) == before


# Floods: 10,000 query parameters, a 100 KB query string, a 10 KB path


def many(template: str) -> str:
    """10,000 query parameters made from a template ({} is the index)."""
    return "&".join(template.format(i) for i in range(10_000))


FLOODS = [
    ("/v1/events", many("junk{}=1")),
    ("/v1/events", many("type=Type{}")),
    ("/v1/events", many("limit=1")),
    ("/v1/events", many("actor=russia")),
    ("/v1/events", many("stream=s{}")),
    ("/v1/timeline", many("junk{}=1")),
    ("/v1/timeline", many("actor=russia")),
    ("/v1/timeline", many("limit=1")),
    ("/v1/timeline", many("tz=UTC")),
    ("/v1/timeline", many("known_at=2025-03-13")),
    ("/v1/events", "stream=" + "a" * 100_000),
    ("/v1/events", "type=" + "a" * 100_000),
    ("/v1/timeline", "junk=" + "a" * 100_000),
    ("/v1/timeline", "actor=" + "%FF" * 33_000),
]


@SHARED
@pytest.mark.usefixtures("long_urls")
@pytest.mark.parametrize(
    ("endpoint", "query"),
    [
        pytest.param(endpoint, query, id=f"{endpoint}?{query[:20]}...{len(query)}")
        for endpoint, query in FLOODS
    ],
)
async def test_a_flood_of_query_parameters_is_answered_quickly_and_never_a_5xx(
    shared: Api, endpoint: str, query: str
) -> None:
    started = time.monotonic()
    response = await shared.client.get(f"{endpoint}?{query}")
    assert time.monotonic() - started < 15
    if response.status_code >= 400:
        is_problem(response)
    else:
        assert response.status_code == 200, response.text[:300]
        assert isinstance(response.json()["items"], list)


@SHARED
@pytest.mark.parametrize(
    "url",
    [
        pytest.param("/v1/events/" + "a" * 10_240, id="10KB-event-id"),
        pytest.param("/v1/actors/" + "a" * 10_240, id="10KB-actor"),
        pytest.param("/v1/subscriptions/" + "a" * 10_240, id="10KB-subscription"),
        pytest.param("/v1/" + "a/" * 5_120, id="10KB-of-segments"),
        pytest.param("/" + "a" * 10_240, id="10KB-outside-v1"),
        pytest.param("/v1/" + "a" * 10_240, id="10KB-under-v1"),
        pytest.param("/v1/no-such-route", id="unknown-under-v1"),
    ],
)
async def test_a_very_long_or_unknown_path_is_a_4xx_problem(shared: Api, url: str) -> None:
    response = await shared.client.get(url, headers=shared.subscriber)
    is_problem(response)


# Numbers: huge, negative, zero, fractional, not numbers at all

QUERY_NUMBERS = {
    "2**64": str(2**64),
    "10**100": str(10**100),
    "-2**63-1": str(-(2**63) - 1),
    "-1": "-1",
    "0": "0",
    "1.5": "1.5",
    "1e3": "1e3",
    "NaN": "NaN",
    "Infinity": "Infinity",
    "true": "true",
    "empty": "",
    "hex": "0x10",
    "fullwidth-digit": quote("\uff11"),
    "superscript-two": quote("\u00b2"),
}
INT_PARAMS = [
    ("/v1/events", "after"),
    ("/v1/events", "limit"),
    ("/v1/timeline", "limit"),
    ("/v1/feed.atom", "before"),
    ("/v1/feed", "after"),
    (f"/v1/subscriptions/{NO_SUBSCRIPTION}/deliveries", "limit"),
    ("/v1/timeline", "after"),  # a cursor "<micros>.<position>": no plain number fits
]
VALID_ZERO = {("/v1/events", "after"), ("/v1/feed", "after")}


@SHARED
@pytest.mark.usefixtures("short_streams")
@pytest.mark.parametrize(
    "url",
    [
        pytest.param(
            f"{endpoint}?{param}={value}",
            id=f"{endpoint}?{param}={name}",
        )
        for endpoint, param in INT_PARAMS
        for name, value in QUERY_NUMBERS.items()
        if not (name == "0" and (endpoint, param) in VALID_ZERO)
        and not (name == "1.5" and param == "after" and endpoint == "/v1/timeline")
    ],
)
async def test_a_bad_number_in_the_query_is_a_400(shared: Api, url: str) -> None:
    response = await shared.client.get(url, headers=shared.subscriber)
    body = is_problem(response)
    assert response.status_code == 400, body


JSON_NUMBERS = {
    "2**64": b"18446744073709551616",
    "10**100": str(10**100).encode(),
    "-2**63-1": str(-(2**63) - 1).encode(),
    "-1": b"-1",
    "1.5": b"1.5",
    "1e3": b"1e3",
    "1e400": b"1e400",
    "NaN": b"NaN",
    "Infinity": b"Infinity",
    "true": b"true",
    "string": b'"1"',
    "array": b"[1]",
}
NUMBER_FIELDS: dict[str, tuple[str, Path]] = {
    "expected_version": (EVENTS, ("expected_version",)),
    "schema_version": (EVENTS, ("events", 0, "schema_version")),
    "subscription.after": (SUBSCRIPTIONS, ("after",)),
}


@SHARED
@pytest.mark.parametrize(
    ("url", "path", "raw"),
    [
        pytest.param(url, path, raw, id=f"{field}={name}")
        for field, (url, path) in NUMBER_FIELDS.items()
        for name, raw in JSON_NUMBERS.items()
    ],
)
async def test_a_bad_number_in_a_body_is_a_4xx_and_writes_nothing(
    shared: Api, url: str, path: Path, raw: bytes
) -> None:
    before = await state(shared)
    template = a_batch() if url == EVENTS else a_subscription()
    body = encode(put(template, path, "\ue000number\ue000"))
    body = body.replace('"\ue000number\ue000"'.encode(), raw)
    key = shared.writer if url == EVENTS else shared.subscriber
    is_problem(await post(shared, url, body, key))
    assert await state(shared) == before


# Header abuse

AUTHORIZATIONS = {
    "10KB-token": b"Bearer " + b"a" * 10_240,
    "bearer-nul": b"Bearer \x00",
    "nul-in-token": b"Bearer tl_\x00abc",
    "non-ascii-token": "Bearer ключ".encode(),
    "latin1-bytes": b"Bearer \xff\xfe",
    "bearer-only": b"Bearer",
    "bearer-spaces": b"Bearer      ",
    "10KB-basic": b"Basic " + b"a" * 10_240,
    **{name: b"Bearer " + sql.encode() for name, sql in SQL_INJECTIONS.items()},
}


@SHARED
@pytest.mark.parametrize(("method", "url"), [("POST", "/v1/events"), ("GET", "/v1/subscriptions")])
@pytest.mark.parametrize("authorization", list(AUTHORIZATIONS.values()), ids=list(AUTHORIZATIONS))
async def test_an_abusive_authorization_header_is_a_401_and_writes_nothing(
    shared: Api, method: str, url: str, authorization: bytes
) -> None:
    before = await state(shared)
    body = batch() if url == EVENTS else SUBSCRIPTION
    headers = [(b"content-type", b"application/json"), (b"authorization", authorization)]
    response = await shared.client.request(
        method, url, content=body if method == "POST" else None, headers=headers
    )
    assert response.status_code == 401, response.text
    is_problem(response)
    assert await state(shared) == before


@SHARED
@pytest.mark.parametrize(
    "key",
    [
        pytest.param("ключ".encode(), id="non-ascii-utf8"),
        pytest.param(b"\xff\xfe", id="latin1-bytes"),
        pytest.param(b"retry\x00", id="nul"),
        pytest.param(b"", id="empty"),
        pytest.param(b"k" * 256, id="256-characters"),
        pytest.param(b"k" * 10_240, id="10KB"),
    ],
)
async def test_an_abusive_idempotency_key_is_a_400_and_writes_nothing(
    shared: Api, key: bytes
) -> None:
    before = await state(shared)
    headers = [
        (b"content-type", b"application/json"),
        (b"authorization", shared.writer["Authorization"].encode()),
        (b"idempotency-key", key),
    ]
    response = await shared.client.post("/v1/events", content=encode(a_batch()), headers=headers)
    is_problem(response)
    assert await state(shared) == before


@SHARED
@pytest.mark.usefixtures("short_streams")
@pytest.mark.parametrize(
    "last_event_id",
    [
        pytest.param("\u00b2".encode(), id="superscript-two"),
        pytest.param("\u0661".encode(), id="arabic-indic-one"),
        pytest.param(b"-1", id="minus-one"),
        pytest.param(str(10**30).encode(), id="10**30"),
        pytest.param(b"1.5", id="fraction"),
        pytest.param(b"1e3", id="exponent"),
        pytest.param(b"0x10", id="hex"),
        pytest.param(b"+1", id="plus-one"),
        pytest.param(b"", id="empty"),
        pytest.param(b"   ", id="spaces"),
        pytest.param(b"1\x00", id="nul"),
        pytest.param(b"' OR 1=1 --", id="sql"),
        pytest.param(b"9007199254740993", id="2**53+1"),
    ],
)
async def test_a_bad_last_event_id_is_a_400_before_any_stream(
    shared: Api, last_event_id: bytes
) -> None:
    response = await shared.client.get("/v1/feed", headers=[(b"last-event-id", last_event_id)])
    assert response.status_code == 400, response.text[:300]
    is_problem(response)


@pytest.mark.usefixtures("short_streams")
@pytest.mark.parametrize(
    "last_event_id",
    [
        pytest.param(b"9223372036854775808", id="2**63"),
        pytest.param(b"99999999999999999999", id="20-nines"),
    ],
)
async def test_a_last_event_id_beyond_any_position_is_a_400(api: Api, last_event_id: bytes) -> None:
    response = await api.client.get("/v1/feed", headers=[(b"last-event-id", last_event_id)])
    assert response.status_code == 400, response.text[:300]
    is_problem(response)


@SHARED
async def test_a_preflight_for_a_method_cors_does_not_allow_is_a_problem(shared: Api) -> None:
    response = await shared.client.options(
        "/v1/events",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    is_problem(response)


# SQL injection in every filter and text field


@SHARED
@pytest.mark.parametrize("injection", list(SQL_INJECTIONS.values()), ids=list(SQL_INJECTIONS))
@pytest.mark.parametrize(
    ("endpoint", "param"),
    [
        ("/v1/events", "stream"),
        ("/v1/events", "actor"),
        ("/v1/events", "type"),
        ("/v1/timeline", "actor"),
        ("/v1/timeline", "proposal"),
        ("/v1/feed.atom", "actor"),
        ("/v1/feed.atom", "proposal"),
    ],
)
async def test_an_injection_in_a_read_filter_matches_nothing_and_changes_nothing(
    shared: Api, endpoint: str, param: str, injection: str
) -> None:
    counts = [await rows(shared, t) for t in ("events", "api_keys", "subscriptions")]
    response = await shared.client.get(endpoint, params={param: injection})
    matches_nothing(response, injection)
    assert [await rows(shared, t) for t in ("events", "api_keys", "subscriptions")] == counts
    head, _ = await state(shared)
    assert await rows(shared, "events") == head


@SHARED
@pytest.mark.parametrize("injection", list(SQL_INJECTIONS.values()), ids=list(SQL_INJECTIONS))
@pytest.mark.parametrize("path", list(EVENT_FIELDS.values()), ids=list(EVENT_FIELDS))
async def test_an_injection_in_an_event_is_refused_or_stored_verbatim(
    shared: Api, path: Path, injection: str
) -> None:
    events = await rows(shared, "events")
    body = put(a_batch(), path, injection)
    response = await post(shared, "/v1/events", encode(body), shared.writer)
    if response.status_code >= 400:
        is_problem(response, injection)
        assert await rows(shared, "events") == events
        return
    assert response.status_code == 201, response.text
    assert await rows(shared, "events") == events + 1
    shown = await shared.client.get(f"/v1/events/{response.json()['events'][0]['id']}")
    assert at({"stream": shown.json()["stream"], "events": [shown.json()]}, path) == injection


@SHARED
@pytest.mark.parametrize("injection", list(SQL_INJECTIONS.values()), ids=list(SQL_INJECTIONS))
@pytest.mark.parametrize("path", list(SUBSCRIPTION_FIELDS.values()), ids=list(SUBSCRIPTION_FIELDS))
async def test_an_injection_in_a_subscription_is_refused_or_stored_verbatim(
    shared: Api, path: Path, injection: str
) -> None:
    before = await rows(shared, "subscriptions")
    value = PUBLIC_HOOK + "/" + injection if path == ("url",) else injection
    body = put(a_subscription(), path, value)
    response = await post(shared, "/v1/subscriptions", encode(body), shared.subscriber)
    if response.status_code >= 400:
        is_problem(response, injection)
        assert await rows(shared, "subscriptions") == before
        return
    assert response.status_code == 201, response.text
    assert await rows(shared, "subscriptions") == before + 1
    shown = await shared.client.get(response.headers["location"], headers=shared.subscriber)
    assert at(shown.json(), path) == value


@SHARED
@pytest.mark.parametrize("injection", list(SQL_INJECTIONS.values()), ids=list(SQL_INJECTIONS))
async def test_an_injection_in_an_idempotency_key_is_only_a_key(
    shared: Api, injection: str
) -> None:
    headers = {**shared.writer, "Idempotency-Key": injection}
    body = encode(a_batch())
    first = await post(shared, "/v1/events", body, headers)
    again = await post(shared, "/v1/events", body, headers)
    assert first.status_code == again.status_code == 201, first.text
    assert again.json() == first.json()
    head, _ = await state(shared)
    assert await rows(shared, "events") == head
