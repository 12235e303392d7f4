"""What Litestar cannot say in the OpenAPI document by itself: the exact schemas of the write
bodies (handlers take raw JSON and convert it strictly, so Litestar sees only an object), each
served event's payload typed by its event type, the closed lists (zones, event types) as shared
components, examples from the seed data, the webhook payload under `webhooks`, and `links` from
an append to what it appended and from an event to its position.

Client generators read it too (tests/e2e/test_generated_client.py): every schema that becomes a
class has a name of its own, and every value that becomes an identifier a distinct one.

The document is built once per process, when first asked for (a request for
/v1/openapi.json or /v1/docs, or `app.openapi_schema`), and shared by every app of the process:
they all have the same routes and OpenAPI config, and nothing in it depends on `Settings`. A
served process that nobody asks for it never builds it; tests that make hundreds of apps build
it once."""

from __future__ import annotations

import dataclasses
import threading
from typing import Any

import msgspec
from litestar import Litestar
from litestar._openapi.plugin import OpenAPIPlugin
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import (
    Link,
    OpenAPI,
    OpenAPIMediaType,
    OpenAPIResponse,
    Operation,
    PathItem,
    Reference,
    RequestBody,
    Schema,
)
from litestar.openapi.spec.enums import OpenAPIType

from api.append_schema import append_components
from api.parameters import exact_schemas, vocabulary_components
from api.problems import PROBLEM_JSON, problem_specs
from api.routes.exports import PLAIN
from api.routes.texts import TEXT_PATTERN
from api.subscription_schemas import SubscriptionIn
from api.typed_events import EVENT_SHAPES, typed_event_components

REF = "#/components/schemas/{name}"

# The finished document and its dict form, shared by every app of the process (see above).
_shared_lock = threading.RLock()
_shared_document: OpenAPI | None = None
_shared_schema: dict[str, Any] | None = None


class CompletedOpenAPIPlugin(OpenAPIPlugin):
    """Litestar's OpenAPI plugin, providing the completed document built once per process.

    Litestar makes its own `OpenAPIPlugin` in `Litestar.__init__` and finds it again by its exact
    type, so it cannot be swapped for another instance: `use_completed_openapi` changes the class
    of the app's instance instead (same slots, so the same layout)."""

    __slots__ = ()

    def provide_openapi(self) -> OpenAPI:
        global _shared_document
        if self._openapi is None:
            with _shared_lock:
                if _shared_document is None:
                    document = self._build_openapi()
                    complete_openapi(document)
                    _shared_document = document
            self._openapi = _shared_document
        return self._openapi

    def provide_openapi_schema(self) -> dict[str, Any]:
        global _shared_schema
        if self._openapi_schema is None:
            with _shared_lock:
                if _shared_schema is None:
                    _shared_schema = self.provide_openapi().to_schema()
            self._openapi_schema = _shared_schema
        return self._openapi_schema


def use_completed_openapi(app: Litestar) -> None:
    """Have the app serve the completed, shared document; nothing is built until it is asked for."""
    plugin = app.plugins.get(OpenAPIPlugin)
    if type(plugin) is not OpenAPIPlugin:
        raise TypeError(f"expected Litestar's own OpenAPIPlugin, not {type(plugin).__name__}")
    plugin.__class__ = CompletedOpenAPIPlugin


def complete_openapi(document: OpenAPI) -> None:
    """Add to Litestar's document, in place, what it cannot say by itself."""
    _, components = msgspec.json.schema_components((SubscriptionIn,), ref_template=REF)
    components.update(append_components(REF))
    components.update(vocabulary_components())
    assert document.components is not None and document.components.schemas is not None
    schemas = document.components.schemas
    for name, schema in components.items():
        if name in schemas:
            raise ValueError(f"two OpenAPI components are named {name}")
        schemas[name] = schema
    written = {shape: _as_dict(schemas[shape]) for shape in EVENT_SHAPES}
    for name, schema in typed_event_components(written, REF).items():
        if name in schemas and name not in EVENT_SHAPES:
            raise ValueError(f"two OpenAPI components are named {name}")
        schemas[name] = schema
    operations = _operations(document)
    bounded = problem_specs(414, 431)
    appended = _append_example()
    examples = _parameter_examples(appended)
    exact = exact_schemas(REF)
    for operation in operations.values():
        _exact_parameters(operation, exact, examples)
        _document_limits(operation, bounded)
    _also_as_text(operations["exportPloverJsonl"])
    operations["appendEvents"].request_body = _body("AppendIn", appended)
    operations["attachSourceText"].request_body = RequestBody(
        required=True,
        description="The article's text, UTF-8 (never public: only `sources:text` reads it).",
        content={
            "text/plain": OpenAPIMediaType(
                schema=Schema(type=OpenAPIType.STRING, min_length=1, pattern=TEXT_PATTERN),
                example="The full text of the article, as published.",
            )
        },
    )
    operations["createSubscription"].request_body = _body(
        "SubscriptionIn",
        {
            "url": "https://newsroom.example/hooks/timeline",
            "filter": {"proposal": "us-30-day-ceasefire-2025", "type": ["PositionStated"]},
            "description": "Desk alert: any party's stance on the 30-day ceasefire",
        },
    )
    _link(
        operations["appendEvents"],
        "201",
        "GetAppendedEvent",
        "getEvent",
        {"event_id": "$response.body#/events/0/id"},
        "The first event of the batch",
    )
    _link(
        operations["getEvent"],
        "200",
        "GetAffectedPosition",
        "getPosition",
        {"proposal": "$response.body#/payload/proposal", "actor": "$response.body#/payload/actor"},
        "The position a PositionStated (or a condition event) sets",
    )
    _link(
        operations["createSubscription"],
        "201",
        "GetSubscription",
        "getSubscription",
        {"subscription_id": "$response.body#/id"},
        "The new subscription",
    )
    _link(
        operations["createSubscription"],
        "201",
        "ListDeliveries",
        "listDeliveries",
        {"subscription_id": "$response.body#/id"},
        "Its delivery attempts",
    )
    for source, target, parameters, description in _BROWSING_LINKS:
        _link(
            operations[source],
            "200",
            target[0].upper() + target[1:],
            target,
            parameters,
            description,
        )
    document.webhooks = {"event": _webhook()}


def _exact_parameters(
    operation: Operation, exact: dict[str, dict[str, Any]], examples: dict[str, Any]
) -> None:
    """Parameters as the server reads them: a query string cannot carry null, so an optional
    parameter is its value's schema; the schemas annotations cannot state; and an example from
    the seed data where one fits."""
    for parameter in operation.parameters or ():
        if isinstance(parameter, Reference):
            continue
        if parameter.param_in == "query" and parameter.name in exact:
            said = getattr(parameter.schema, "description", None)
            described = {"description": said} if said else {}
            parameter.schema = {**exact[parameter.name], **described}  # type: ignore[assignment]
        elif isinstance(parameter.schema, Schema):
            parameter.schema = _without_null(parameter.schema)
        if parameter.name in examples and parameter.param_in in ("query", "path"):
            parameter.example = examples[parameter.name]


def _parameter_examples(appended: dict[str, Any]) -> dict[str, Any]:
    """Values from the seed data: Putin's statement of 13 March and what it names."""
    event = appended["events"][0]
    return {
        "event_id": event["id"],
        "stream": appended["stream"],
        "proposal": event["payload"]["proposal"],
        "actor": event["payload"]["actor"],
        "source": event["sources"][0]["source"],
        "as_of": "2025-03-13T23:00:00+03:00",
        "from": "2025-03-12",
        "to": "2025-03-14",
        "tz": event["timezone"],
        "type": [event["type"]],
    }


def _document_limits(operation: Operation, bounded: dict[int, ResponseSpec]) -> None:
    """Every operation can meet the query-string and header limits (api/strict_query.py)."""
    responses = operation.responses if operation.responses is not None else {}
    for status, spec in bounded.items():
        responses.setdefault(
            str(status),
            OpenAPIResponse(
                description=spec.description or "",
                content={
                    PROBLEM_JSON: OpenAPIMediaType(schema=Reference(ref=REF.format(name="Problem")))
                },
            ),
        )
    operation.responses = responses


def _also_as_text(operation: Operation) -> None:
    """The 200 also as text/plain, which the handler serves when asked (api.routes.exports)."""
    response = (operation.responses or {}).get("200")
    assert isinstance(response, OpenAPIResponse) and response.content is not None
    [served] = response.content.values()
    response.content = {**response.content, PLAIN: served}


def _as_dict(schema: Schema | Reference | dict[str, Any]) -> dict[str, Any]:
    return schema if isinstance(schema, dict) else schema.to_schema()


def _without_null(schema: Schema) -> Schema:
    """`oneOf: [X, null]` as X, keeping the constraints Litestar put beside the oneOf."""
    kept = [
        choice
        for choice in schema.one_of or ()
        if not (isinstance(choice, Schema) and choice.type == OpenAPIType.NULL)
    ]
    if len(kept) != 1 or not isinstance(kept[0], Schema) or len(kept) == len(schema.one_of or ()):
        return schema
    beside = {
        field.name: getattr(schema, field.name)
        for field in dataclasses.fields(schema)
        if field.name != "one_of" and getattr(schema, field.name) is not None
    }
    return dataclasses.replace(kept[0], **beside)


# From a list to its first item, and from a proposal to a party's position on it: how a client
# (and schemathesis' stateful runs) browse from what the API lists to what it describes.
_BROWSING_LINKS: list[tuple[str, str, dict[str, Any], str]] = [
    ("listEvents", "getEvent", {"event_id": "$response.body#/items/0/id"}, "The first event"),
    ("listProposals", "getProposal", {"proposal": "$response.body#/items/0/id"}, "The first one"),
    *(
        (
            "getProposal",
            target,
            {"proposal": "$response.body#/id", "actor": "$response.body#/positions/0/actor"},
            "The first party's position",
        )
        for target in ("getPosition", "getPositionHistory", "getPositionDiff")
    ),
    ("listActors", "getActor", {"actor": "$response.body#/items/0/id"}, "The first actor"),
    ("listSources", "getSource", {"source": "$response.body#/items/0/id"}, "The first source"),
    *(
        (
            "listSubscriptions",
            target,
            {"subscription_id": "$response.body#/items/0/id"},
            "The first subscription",
        )
        for target in (
            "getSubscription",
            "listDeliveries",
            "reactivateSubscription",
            "rotateSubscriptionSecret",
            "deleteSubscription",
        )
    ),
]


def _operations(document: OpenAPI) -> dict[str, Operation]:
    found: dict[str, Operation] = {}
    for item in (document.paths or {}).values():
        for method in ("get", "post", "put", "patch", "delete"):
            operation = getattr(item, method)
            if operation is not None and operation.operation_id:
                found[operation.operation_id] = operation
    return found


def _body(name: str, example: dict[str, Any]) -> RequestBody:
    return RequestBody(
        required=True,
        content={
            "application/json": OpenAPIMediaType(
                schema=Reference(ref=REF.format(name=name)), example=example
            )
        },
    )


def _link(
    operation: Operation,
    status: str,
    name: str,
    target: str,
    parameters: dict[str, Any],
    description: str,
) -> None:
    response = (operation.responses or {}).get(status)
    assert isinstance(response, OpenAPIResponse), f"{operation.operation_id} has no {status}"
    response.links = {
        **(response.links or {}),
        name: Link(operation_id=target, parameters=parameters, description=description),
    }


# The seed file that holds the example: read alone, not the whole data set.
_EXAMPLE_FILE = "30-proposal.yaml"


def _append_example() -> dict[str, Any]:
    """Putin's conditional support of 13 March, as the seed data records it."""
    from seeds.dataset import load_stream  # yaml and the seed files only when the doc is built

    stream = load_stream(_EXAMPLE_FILE)
    for event in stream.events:
        payload = event["payload"]
        if event["type"] == "PositionStated" and payload.get("speaker") == "vladimir-putin":
            trimmed = {**event, "sources": event["sources"][:1]}
            trimmed["payload"] = {**payload, "conditions": payload["conditions"][:2]}
            return {"stream": stream.stream, "events": [trimmed]}
    raise LookupError(f"the seed file {_EXAMPLE_FILE} has no PositionStated by vladimir-putin")


def _webhook() -> PathItem:
    payload = {
        "type": "object",
        "required": ["type", "timestamp", "data"],
        "properties": {
            "type": {
                "type": "string",
                "description": "The event type",
                "example": "PositionStated",
            },
            "timestamp": {"type": "string", "format": "date-time", "description": "recorded_at"},
            "data": {"$ref": REF.format(name="EventOut")},
        },
    }
    return PathItem(
        post=Operation(
            operation_id="receiveEvent",
            summary="An event appended to the log, POSTed to each matching subscription",
            description=(
                "Signed per Standard Webhooks: `webhook-id` is the event id (deduplicate on it: "
                "delivery is at least once), `webhook-timestamp`, and `webhook-signature` "
                "(`v1,` + base64 HMAC-SHA256 of `id.timestamp.body` with the subscription "
                "secret). Events reach a subscription in log order. Answer 2xx to accept; "
                "410 disables the subscription; other answers are retried on the schedule, "
                "honouring `Retry-After`."
            ),
            request_body=RequestBody(
                required=True,
                content={"application/json": OpenAPIMediaType(schema=payload)},  # type: ignore[arg-type]
            ),
            responses={
                "2XX": OpenAPIResponse(description="Accepted"),
                "410": OpenAPIResponse(description="Gone: disable this subscription"),
            },
        )
    )
