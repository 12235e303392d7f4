"""Problem documents shown on the form that caused them: each `errors[]` pointer (for example
`events[0].payload.stance`) placed beside the input of that name, or, when the form has no such
input, beside the nearest one it contains (`payload.participants[1]` on the participants
select); whatever names nothing on the form goes to the error summary alone."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from api.desk.forms import Field, all_fields

_LAST_STEP = re.compile(r"(?:\.[^.\[\]]+|\[[0-9]+\])$")


@dataclass(frozen=True, slots=True)
class Shown:
    """One message of the error summary, and the input it belongs to (None: the whole form)."""

    message: str
    field: Field | None = None


def problem_messages(
    problem: Mapping[str, Any], prefix: str = "events[0]."
) -> list[tuple[str, str]]:
    """The (pointer, message) pairs of a problem document, pointers made relative to the event
    (`events[0].` dropped); a problem without `errors` gives its detail for the whole form."""
    errors = problem.get("errors")
    if isinstance(errors, list) and errors:
        found = []
        for error in errors:
            if isinstance(error, Mapping):
                pointer = str(error.get("field") or "")
                found.append((pointer.removeprefix(prefix), str(error.get("message") or "")))
        return found
    return [("", str(problem.get("detail") or problem.get("title") or "the request failed"))]


def place(
    fields: Sequence[Field], messages: Iterable[tuple[str, str]], *, aliases: Mapping[str, str] = {}
) -> list[Shown]:
    """Attach each message to the input it names (or the nearest one that holds it); the error
    summary, in order, each linked to its input where it has one."""
    inputs = {f.name: f for f in all_fields(fields)}
    shown = []
    for pointer, message in messages:
        target = _nearest(aliases.get(pointer, pointer), inputs)
        if target is not None:
            target.errors.append(message)
        shown.append(
            Shown(f"{target.label}: {message}" if target else _whole(pointer, message), target)
        )
    return shown


def _nearest(pointer: str, inputs: Mapping[str, Field]) -> Field | None:
    while pointer:
        if pointer in inputs:
            return inputs[pointer]
        shorter = _LAST_STEP.sub("", pointer)
        if shorter == pointer:
            return None
        pointer = shorter
    return None


def _whole(pointer: str, message: str) -> str:
    return f"{pointer}: {message}" if pointer and pointer not in ("body", "events") else message
