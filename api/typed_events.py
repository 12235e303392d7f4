"""Events in responses, typed by their type: each shape that shows an event (`EventOut`, and
those that add to it) is a choice of one variant per event type, whose `type` is a constant and
whose payload is the schema of the type's current version (every event is served upcast to it).

Litestar sees `payload` as any object; a client generated from that leaves every payload an
untyped dict. Told apart by the constant `type`, a generated client parses each payload into its
type's model, and a validator checks each against its schema.
"""

from __future__ import annotations

import copy
from typing import Any

from domain.event_types import EVENT_TYPES

# The shapes of api.schemas and api.read_schemas that carry one event each.
EVENT_SHAPES = ("EventOut", "TimelineItem", "EventDetailOut")


def typed_event_components(generic: dict[str, dict[str, Any]], ref: str) -> dict[str, Any]:
    """For each shape (its schema as Litestar wrote it, by name), the shape as a choice of the
    variants and each variant, by component name."""
    components: dict[str, Any] = {}
    for shape, schema in generic.items():
        names = []
        for name, kind in EVENT_TYPES.items():
            variant = copy.deepcopy(schema)
            variant["title"] = f"{name}{shape}"
            variant["description"] = f"A {name} event, as {shape} shows one."
            variant["properties"]["type"] = {"const": name}
            variant["properties"]["schema_version"] = {"const": kind.current_version}
            payload = kind.versions[kind.current_version].__name__
            variant["properties"]["payload"] = {"$ref": ref.format(name=payload)}
            components[variant["title"]] = variant
            names.append(variant["title"])
        components[shape] = {
            "title": shape,
            "description": schema.get("description", ""),
            "oneOf": [{"$ref": ref.format(name=name)} for name in names],
        }
    return components
