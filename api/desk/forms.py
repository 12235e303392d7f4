"""Forms built from an event type's JSON Schema (the one `/v1/event-types` publishes): a field
per property, enums as selects, actors and proposals picked from the registry, objects as
fieldsets, lists of objects as rows; and the posted form read back into a payload.

Every input is named by its path in the event (`payload.stance`, `payload.conditions[0].id`,
`sources[1].quote`), so that a problem document's field pointer names its input directly."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec

from domain.event_types import EventType, JsonObject, payload_schema

Options = tuple[tuple[str, str], ...]
LONG_TEXT = 1000
_ROW = re.compile(r"^(?P<name>.+)\[(?P<index>[0-9]{1,3})\]\.")
# A picker says what to choose (the schema's description of an id says how to spell one).
PICKER_HINTS = {
    "actor": "The actor it is about (a state, bloc, body or person), from the register.",
    "speaker": "Who said it, when not the party as a whole: a person or body on the register.",
    "proposal": "The proposal the event concerns, from the proposals on record.",
    "affiliation": "The party the actor belongs to or speaks for, from the registered actors.",
}
# The id a registration makes is typed, not picked from those that exist already.
MADE_HERE = {"ActorRegistered": "actor", "ProposalTabled": "proposal"}


@dataclass(frozen=True, slots=True)
class Pickers:
    """What may be picked where the schema asks for an id: registered actors, proposals, sources."""

    actors: Options = ()
    proposals: Options = ()
    sources: Options = ()


@dataclass(slots=True, kw_only=True)
class Field:
    """One input of a form (or a fieldset of them), named by its path in the event."""

    name: str
    label: str
    widget: str  # text, textarea, date, select, multiselect, lines, json, group, rows
    required: bool = False
    hint: str | None = None
    options: Options = ()
    value: Any = None
    children: list[Field] = field(default_factory=list)  # a group's inputs; a row's template
    rows: list[list[Field]] = field(default_factory=list)
    integer: bool = False
    quote: bool = False
    errors: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        """The element id: the name with only characters an id selector takes plainly."""
        return "f-" + re.sub(r"[^A-Za-z0-9_-]+", "-", self.name).strip("-")


def humane(name: str) -> str:
    """A property name as a label: `published_on` is "Published on"."""
    return name.replace("_", " ").capitalize()


def _resolve(node: JsonObject, defs: Mapping[str, JsonObject]) -> JsonObject:
    ref = node.get("$ref")
    if isinstance(ref, str):
        return {**defs[ref.rsplit("/", 1)[1]], **{k: v for k, v in node.items() if k != "$ref"}}
    return node


def _unwrap(node: JsonObject, defs: Mapping[str, JsonObject]) -> JsonObject:
    """A property's own schema, without the `null` an optional one may also be."""
    options = node.get("anyOf")
    if isinstance(options, list):
        real = [o for o in options if o.get("type") != "null"]
        if len(real) == 1:
            return _resolve(real[0], defs)
    return _resolve(node, defs)


def payload_fields(
    kind: EventType, values: Mapping[str, Any], pickers: Pickers, prefix: str = "payload"
) -> list[Field]:
    """The inputs of a type's current payload, filled with `values`."""
    schema = payload_schema(kind.versions[kind.current_version])
    defs: Mapping[str, JsonObject] = schema.get("$defs", {})
    root = _resolve(schema, defs)
    actors = frozenset(kind.actor_fields)
    return _object_fields(root, defs, values, pickers, prefix, actors, MADE_HERE.get(kind.name))


def _object_fields(
    node: JsonObject,
    defs: Mapping[str, JsonObject],
    values: Mapping[str, Any],
    pickers: Pickers,
    prefix: str,
    actor_fields: frozenset[str],
    typed: str | None = None,
) -> list[Field]:
    required = set(node.get("required", ()))
    fields = []
    for name, prop in node.get("properties", {}).items():
        value, path = values.get(name), f"{prefix}.{name}"
        if name == typed:
            made = _field(name, prop, defs, value, Pickers(), path, frozenset(), picks=False)
        else:
            made = _field(name, prop, defs, value, pickers, path, actor_fields)
        made.required = name in required
        fields.append(made)
    return fields


def _field(
    name: str,
    prop: JsonObject,
    defs: Mapping[str, JsonObject],
    value: Any,
    pickers: Pickers,
    path: str,
    actor_fields: frozenset[str],
    *,
    picks: bool = True,
) -> Field:
    node = _unwrap(prop, defs)
    hint = node.get("description") or prop.get("description")
    made = Field(name=path, label=humane(name), widget="text", hint=hint, value=value)
    if "enum" in node:
        made.widget = "select"
        made.integer = all(isinstance(v, int) for v in node["enum"])
        made.options = tuple((str(v), str(v)) for v in node["enum"])
        made.value = None if value is None else str(value)
    elif node.get("type") == "object" and "properties" in node:
        made.widget = "group"
        made.children = _object_fields(
            node, defs, value if isinstance(value, Mapping) else {}, pickers, path, frozenset()
        )
    elif node.get("type") == "object":
        made.widget = "json"
        made.value = None if value is None else msgspec.json.encode(value).decode()
    elif node.get("type") == "array":
        items = _resolve(node.get("items", {}), defs)
        listed = list(value) if isinstance(value, list | tuple) else []
        if items.get("type") == "object":
            made.widget = "rows"
            made.children = _object_fields(items, defs, {}, pickers, f"{path}[#]", frozenset())
            made.rows = [
                _object_fields(items, defs, row, pickers, f"{path}[{i}]", frozenset())
                for i, row in enumerate([*listed, {}])
            ]
        elif name in actor_fields:
            made.widget, made.options, made.value = "multiselect", pickers.actors, listed
            made.hint = "Choose every one that applies from the registered actors."
        else:
            made.widget, made.value = "lines", "\n".join(str(v) for v in listed)
    elif name in actor_fields:
        made.widget, made.options = "select", pickers.actors
        made.hint = PICKER_HINTS.get(name, "Choose from the registered actors.")
    elif name == "proposal" and picks:
        made.widget, made.options = "select", pickers.proposals
        made.hint = PICKER_HINTS["proposal"]
    elif name == "quote":
        made.widget, made.quote = "textarea", True
    elif node.get("format") == "date":
        made.widget = "date"
    elif int(node.get("maxLength", 0)) >= LONG_TEXT:
        made.widget = "textarea"
    return made


def citation_rows(values: Sequence[Mapping[str, Any]], pickers: Pickers) -> list[list[Field]]:
    """The sources an event cites, a row each, and one empty row to add another."""
    return [
        [
            Field(
                name=f"sources[{i}].source",
                label="Source",
                widget="select",
                options=pickers.sources,
                value=row.get("source"),
                required=i == 0,
            ),
            Field(
                name=f"sources[{i}].quote",
                label="Quote",
                widget="textarea",
                quote=True,
                value=row.get("quote"),
                hint="Verbatim from the source: highlight it in the text beside the form, "
                "or type it.",
            ),
        ]
        for i, row in enumerate([*values, {}])
    ]


class FormMistake(ValueError):
    """An input that cannot even be read (a JSON field that is not JSON): named by its input."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name


def read_fields(fields: Sequence[Field], form: Mapping[str, Any], getall: Any) -> JsonObject:
    """The values a posted form gives these fields; empty inputs are left out (optional fields
    then take their defaults, required ones are named missing by the append path)."""
    found: JsonObject = {}
    for made in fields:
        key = made.name.rsplit(".", 1)[-1]
        value = _read(made, form, getall)
        if value is not None:
            found[key] = value
    return found


def _read(made: Field, form: Mapping[str, Any], getall: Any) -> Any:
    if made.widget == "group":
        inner = read_fields(made.children, form, getall)
        return inner or None
    if made.widget == "rows":
        indices = sorted(
            {
                int(m.group("index"))
                for name in form
                if (m := _ROW.match(name)) and m.group("name") == made.name
            }
        )
        rows = []
        for i in indices:
            template = [_renamed(child, made.name, i) for child in made.children]
            row = read_fields(template, form, getall)
            if row:
                rows.append(row)
        return rows or None
    if made.widget == "multiselect":
        chosen = [v.strip() for v in getall(made.name) if isinstance(v, str) and v.strip()]
        return chosen or None
    text = form.get(made.name)
    text = text.strip() if isinstance(text, str) else ""
    if not text:
        return None
    if made.widget == "lines":
        return [line.strip() for line in text.splitlines() if line.strip()]
    if made.widget == "json":
        try:
            return msgspec.json.decode(text)
        except msgspec.DecodeError as error:
            raise FormMistake(made.name, f"not JSON: {error}") from None
    if made.integer and text.isdigit():
        return int(text)
    return text


def _renamed(child: Field, rows: str, index: int) -> Field:
    name = child.name.replace(f"{rows}[#]", f"{rows}[{index}]", 1)
    return Field(
        name=name,
        label=child.label,
        widget=child.widget,
        children=[_renamed(c, rows, index) for c in child.children],
        integer=child.integer,
    )


def read_citations(form: Mapping[str, Any]) -> list[dict[str, str]]:
    """The sources a posted form cites, in row order; a row without a source is left out."""
    template = Field(
        name="sources",
        label="Sources",
        widget="rows",
        children=[
            Field(name="sources[#].source", label="Source", widget="select"),
            Field(name="sources[#].quote", label="Quote", widget="textarea"),
        ],
    )
    rows = _read(template, form, lambda _name: []) or []
    return [row for row in rows if "source" in row]


def all_fields(fields: Sequence[Field]) -> list[Field]:
    """Every input, fieldsets opened and rows included, in form order."""
    found: list[Field] = []
    for made in fields:
        found.append(made)
        found.extend(all_fields(made.children if made.widget == "group" else []))
        for row in made.rows:
            found.extend(all_fields(row))
    return found
