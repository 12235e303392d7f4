"""The exact JSON Schema of an append's body: each event's payload is the schema of its type
(and schema version), not just an object, and its timezone one of the zone database's names.

msgspec writes the components; the event is then one variant per type and version, told apart
by `type` and `schema_version` (omitted or null meaning the current version), which is what the
server's conversion enforces. Each variant is a component of its own, named for its payload
(`MeetingHeldV1EventIn` carries a `MeetingHeldV1`): generators name a class after each variant,
and an inline variant titled "MeetingHeld v1" became a second class `MeetingHeldV1`.
"""

from __future__ import annotations

from typing import Any

import msgspec

from api.parameters import ZONE_NAME
from api.schemas import AppendIn
from domain.event_types import EVENT_TYPES


def append_components(ref: str) -> dict[str, Any]:
    """Components for AppendIn, its EventIn a choice of the variants, each variant and every
    payload; the zone names are a shared component (api.parameters)."""
    payloads = [struct for kind in EVENT_TYPES.values() for struct in kind.versions.values()]
    _, components = msgspec.json.schema_components([AppendIn, *payloads], ref_template=ref)
    generic = components["EventIn"]
    variants = {
        variant_name(struct.__name__): _variant(
            generic, ref, name, version, struct.__name__, version == kind.current_version
        )
        for name, kind in EVENT_TYPES.items()
        for version, struct in sorted(kind.versions.items())
    }
    components.update(variants)
    components["EventIn"] = {
        "title": "EventIn",
        "description": generic.get("description", ""),
        "oneOf": [{"$ref": ref.format(name=name)} for name in variants],
    }
    return components


def variant_name(payload: str) -> str:
    """The component of the event whose payload is the component `payload`."""
    return f"{payload}EventIn"


def _variant(
    generic: dict[str, Any], ref: str, name: str, version: int, payload: str, current: bool
) -> dict[str, Any]:
    properties = dict(generic["properties"])
    properties["type"] = {"const": name}
    properties["payload"] = {"$ref": ref.format(name=payload)}
    properties["timezone"] = {"anyOf": [{"$ref": ref.format(name=ZONE_NAME)}, {"type": "null"}]}
    required = list(generic["required"])
    if current:
        properties["schema_version"] = {"anyOf": [{"const": version}, {"type": "null"}]}
    else:
        properties["schema_version"] = {"const": version}
        required.append("schema_version")
    return {
        "title": variant_name(payload),
        "description": f"A {name} event, its payload at schema version {version}.",
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }
