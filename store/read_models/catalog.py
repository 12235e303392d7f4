"""The read models by name: each one's version (raise it when the rows its code writes change,
and the model is rebuilt) and the tables it owns."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadModel:
    """A named, versioned read model and its tables."""

    name: str
    version: int
    tables: tuple[str, ...]
    about: str


MODELS = (
    ReadModel(
        name="positions",
        version=2,  # 2: states stored as the API's compact JSON text
        tables=("positions",),
        about="each party's position on each proposal over valid time",
    ),
    ReadModel(
        name="effective_events",
        version=2,  # 2: corroboration (outlets and sources) and the outlet count
        tables=("effective_events", "effective_event_actors"),
        about="events as corrected, disputed and retracted: the timeline, sources, exports",
    ),
    ReadModel(
        name="registry",
        version=1,
        tables=("registry",),
        about="actors and proposals over valid time",
    ),
    ReadModel(
        name="quote_verification",
        version=2,  # 2: payload quotes, checked against their events' cited sources' texts
        tables=("source_text_attachments", "citation_checks"),
        about="the text each source has, and whether each quote (a citation's, a payload's) "
        "is a span of a text it rests on",
    ),
)
BY_NAME = {model.name: model for model in MODELS}
NAMES = tuple(BY_NAME)
