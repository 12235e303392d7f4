"""The OpenAPI document reads well to client generators: every closed list a type with distinct
identifiers, every schema that becomes a class named once, instants typed, stances listed,
payloads typed by their event type, and every response in a media type a generator reads.

tests/e2e/test_generated_client.py generates a client with openapi-python-client and uses it
against a live server; these check the document itself, one rule at a time."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from typing import Any

import msgspec
import pytest
from jsonschema_rs import Draft202012Validator
from litestar.serialization import encode_json

from api.app import create_app
from domain.event_types import EVENT_TYPES
from domain.positions import UNSTATED
from domain.valid_time import zone_names
from domain.vocabulary import Stance
from tests.support.api import Api

REF = "#/components/schemas/"
POSITION = "/v1/proposals/us-30-day-ceasefire-2025/positions/russia"
PLOVER = "/v1/exports/plover.jsonl?proposal=us-30-day-ceasefire-2025"


@functools.cache
def document() -> dict[str, Any]:
    """The document as /v1/openapi.json serves it (built once per process)."""
    decoded: dict[str, Any] = msgspec.json.decode(
        encode_json(create_app().openapi_schema.to_schema())
    )
    return decoded


def components() -> dict[str, Any]:
    schemas: dict[str, Any] = document()["components"]["schemas"]
    return schemas


def parameters(name: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every parameter of that name, with the operation that takes it."""
    for item in document()["paths"].values():
        for operation in item.values():
            for parameter in operation.get("parameters", ()):
                if parameter["name"] == name:
                    yield operation["operationId"], parameter


def inline_schemas(node: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema written out in place (not a $ref), with where it is."""
    if isinstance(node, dict):
        if "properties" in node or "enum" in node:
            yield path, node
        for key, value in node.items():
            yield from inline_schemas(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from inline_schemas(value, f"{path}/{index}")


def class_name(title: str) -> str:
    """The class a generator names after a title: `MeetingHeld v1` is MeetingHeldV1."""
    return "".join(word[:1].upper() + word[1:] for word in re.findall(r"[A-Za-z0-9]+", title))


@pytest.mark.parametrize(
    ("component", "values"),
    [("ZoneName", list(zone_names())), ("EventTypeName", sorted(EVENT_TYPES))],
)
def test_closed_lists_give_each_value_its_own_identifier(component: str, values: list[str]) -> None:
    # A generator upper-cases values into identifiers: GMT+0, GMT-0 and GMT0 were all GMT0.
    schema = components()[component]
    assert schema["enum"] == values
    names = schema["x-enum-varnames"]
    assert len(names) == len(values) == len(set(names))
    assert all(re.fullmatch(r"[A-Z][A-Z0-9]*(_[A-Z0-9]+)*", name) for name in names)
    gmt = dict(zip(values, names, strict=True))
    if component == "ZoneName":
        assert (gmt["Etc/GMT+5"], gmt["Etc/GMT-5"], gmt["GMT0"]) == (
            "ETC_GMT_PLUS_5",
            "ETC_GMT_MINUS_5",
            "GMT0",
        )


@pytest.mark.parametrize(
    ("parameter", "schema"),
    [
        ("tz", {"$ref": REF + "ZoneName", "default": "UTC"}),
        ("type", {"type": "array", "items": {"$ref": REF + "EventTypeName"}}),
    ],
)
def test_parameters_name_the_shared_closed_lists(parameter: str, schema: dict[str, Any]) -> None:
    # Written out in each operation, each list became a class per operation.
    found = list(parameters(parameter))
    assert found
    for _, documented in found:
        assert {k: v for k, v in documented["schema"].items() if k != "description"} == schema
    for variant in components()["EventIn"]["oneOf"]:
        if "$ref" in variant:
            variant = components()[variant["$ref"].removeprefix(REF)]
        assert variant["properties"]["timezone"]["anyOf"][0] == {"$ref": REF + "ZoneName"}


def test_every_schema_that_becomes_a_class_has_a_name_of_its_own() -> None:
    # The append variant titled "MeetingHeld v1" and the payload component MeetingHeldV1 made
    # one class name twice: the generator dropped POST /v1/events.
    schemas = components()
    clashes = [
        (where, schema["title"])
        for where, schema in inline_schemas(document())
        if "title" in schema
        and class_name(schema["title"]) in schemas
        and schemas[class_name(schema["title"])] is not schema
        and not where.startswith(f"/components/schemas/{class_name(schema['title'])}")
    ]
    assert clashes == []
    for ref in schemas["EventIn"]["oneOf"]:
        assert set(ref) == {"$ref"}, "each append variant is a component"
    assert REF + "MeetingHeldV1EventIn" in [ref["$ref"] for ref in schemas["EventIn"]["oneOf"]]


@pytest.mark.parametrize("name", ["as_of", "known_at", "from", "to"])
def test_instants_are_typed_strings_in_each_form(name: str) -> None:
    # With the formats beside one shared `type`, a generator typed these Any.
    found = list(parameters(name))
    assert found
    for _, parameter in found:
        forms = parameter["schema"]["anyOf"]
        assert [(f["type"], f["format"]) for f in forms] == [
            ("string", "date-time"),
            ("string", "date"),
        ]


@pytest.mark.parametrize(
    ("component", "fields"),
    [
        ("AppendedOut", ["recorded_at"]),
        ("PositionStatedEventOut", ["recorded_at"]),
        ("ValidTimeOut", ["earliest", "latest"]),
        ("PositionOut", ["since", "as_of", "known_at"]),
        ("ConditionOut", ["raised_at"]),
        ("VoiceOut", ["since"]),
        ("SegmentOut", ["valid_from", "valid_to"]),
        ("DiffOut", ["from", "to", "known_at"]),
        ("TimelinePage", ["known_at"]),
        ("ActorDetailOut", ["since", "as_of", "known_at"]),
        ("ProposalOut", ["amended_at", "as_of", "known_at"]),
        ("SubscriptionOut", ["created_at", "changed_at", "previous_secret_expires_at"]),
        ("DeliveryOut", ["attempted_at", "next_attempt_at"]),
    ],
)
def test_response_instants_are_date_times(component: str, fields: list[str]) -> None:
    properties = components()[component]["properties"]
    for field in fields:
        forms = properties[field].get("oneOf", [properties[field]])
        assert {"type": "string", "format": "date-time"} in forms, field


def test_a_sources_publication_day_is_a_date() -> None:
    assert components()["SourceOut"]["properties"]["published_on"]["format"] == "date"


def test_stances_in_reads_are_a_closed_list_with_unstated() -> None:
    stance = components()["PositionStance"]
    assert set(stance["enum"]) == {str(s) for s in Stance} | {UNSTATED}
    for component in ("PositionOut", "PositionState", "SegmentOut", "VoiceOut"):
        assert components()[component]["properties"]["stance"] == {"$ref": REF + "PositionStance"}


@pytest.mark.parametrize("shape", ["EventOut", "TimelineItem", "EventDetailOut"])
def test_an_events_payload_is_typed_by_its_event_type(shape: str) -> None:
    variants = [ref["$ref"].removeprefix(REF) for ref in components()[shape]["oneOf"]]
    assert len(variants) == len(EVENT_TYPES)
    for name, kind in EVENT_TYPES.items():
        properties = components()[f"{name}{shape}"]["properties"]
        assert properties["type"] == {"const": name}
        assert properties["schema_version"] == {"const": kind.current_version}
        payload = kind.versions[kind.current_version].__name__
        assert properties["payload"] == {"$ref": REF + payload}


async def test_every_served_event_is_exactly_one_typed_variant(seeded: Api) -> None:
    # A payload the server writes but its type's schema refuses would fail every client; the
    # instants' formats are checked too.
    reads = {
        "EventPage": "/v1/events?limit=1000",
        "TimelinePage": "/v1/timeline?limit=500&retracted=show",
        "PositionOut": f"{POSITION}?as_of=2025-03-14",
        "HistoryOut": f"{POSITION}/history",
    }
    for component, url in reads.items():
        response = await seeded.client.get(url)
        assert response.status_code == 200, response.text
        assert errors(component, response.json()) == []
    page = (await seeded.client.get(reads["EventPage"])).json()["items"]
    assert len(page) > 50 and {event["type"] for event in page} >= {"PositionStated", "MeetingHeld"}
    for event in page[-20:]:
        detail = (await seeded.client.get(f"/v1/events/{event['id']}")).json()
        assert errors("EventDetailOut", detail) == []


def errors(component: str, instance: Any) -> list[str]:
    """What makes the instance invalid against the component, formats included."""
    schema = {"$ref": REF + component, "components": document()["components"]}
    validator = Draft202012Validator(schema, validate_formats=True)
    return [str(error) for error in validator.iter_errors(instance)]


def test_every_response_is_in_a_media_type_a_generator_reads() -> None:
    # application/x-ndjson alone: openapi-python-client left the PLOVER export without a body.
    readable = re.compile(r"application/json|application/[\w.+-]*\+json|text/[\w.+-]+")
    for path, item in document()["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                types = list(response.get("content", {}))
                assert not types or any(readable.fullmatch(t) for t in types), (
                    method,
                    path,
                    status,
                    types,
                )


async def test_the_plover_export_is_served_as_text_to_a_client_that_asks(seeded: Api) -> None:
    lines = await seeded.client.get(PLOVER)
    text = await seeded.client.get(PLOVER, headers={"Accept": "text/plain"})
    assert lines.headers["content-type"] == "application/x-ndjson"
    assert text.status_code == 200
    assert text.headers["content-type"] == "text/plain; charset=utf-8"
    assert text.content == lines.content and lines.content.count(b"\n") > 5
    assert lines.headers["vary"] == text.headers["vary"] == "Accept"
    # Two representations, two strong ETags; each revalidates itself only.
    assert lines.headers["etag"] != text.headers["etag"]
    again = await seeded.client.get(
        PLOVER, headers={"Accept": "text/plain", "If-None-Match": text.headers["etag"]}
    )
    assert again.status_code == 304
    other = await seeded.client.get(PLOVER, headers={"If-None-Match": text.headers["etag"]})
    assert other.status_code == 200
    preferred = await seeded.client.get(
        PLOVER, headers={"Accept": "application/x-ndjson, text/plain;q=0.5"}
    )
    assert preferred.headers["content-type"] == "application/x-ndjson"


@pytest.mark.parametrize("accept", ["", "*/*", "application/json", ";;", ";q=abc", "\x7f", "a/b/c"])
async def test_any_accept_header_gets_the_plover_lines(seeded: Api, accept: str) -> None:
    response = await seeded.client.get(PLOVER, headers={"Accept": accept})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/x-ndjson"


async def test_a_position_is_read_as_of_an_instant_with_a_numeric_utc_offset(seeded: Api) -> None:
    # What a generated client sends for an aware datetime: isoformat(), "+00:00" and not "Z".
    response = await seeded.client.get(POSITION, params={"as_of": "2025-03-13T09:00:00+00:00"})
    assert response.status_code == 200, response.text
    assert (response.json()["stance"], response.json()["as_of"]) == (
        "rejected",
        "2025-03-13T09:00:00Z",
    )
