"""What the backup tests share: events carrying numbers PostgreSQL's JSONB would rewrite if they
reached it as written (ADR 0005), and the tables a restored log must give back row for row."""

from __future__ import annotations

import dataclasses
from typing import Any

import msgspec
from sqlalchemy import select

from domain.drafts import EventDraft
from store.read_models.catalog import MODELS
from store.sql import SqlEventStore
from store.tables import metadata
from tests.builders import draft, raw_actor, raw_editorial, raw_position, raw_source
from tests.contract.test_quote_verification import attachment, sha

DESK_TEXT = "A made-up article: the figures desk\u2019s own text, with \u201cquotes\u201d."
DESK_TEXTS = {sha(DESK_TEXT): DESK_TEXT}

# Every table the log and its read models keep.
TABLES = (
    "events",
    "event_refs",
    "projection_checkpoints",
    "source_texts",
    *(table for model in MODELS for table in model.tables),
)

# Numbers as a client or an older store might hand them over: JSONB keeps `1e20` and `1e23` as
# integers, `-0.0` as `0.0`; `1E+2` is a double to the JSON parser, `2**60 + 1` no double at all.
FIGURES: dict[str, Any] = {
    "huge": 1e20,
    "beyond_a_double": 1e23,
    "negative_zero": -0.0,
    "one": 1.0,
    "written_with_exponent": msgspec.json.decode("1E+2"),
    "long_decimal": msgspec.json.decode("0.1000000000000000055511151231257827"),
    "tiny": 5e-324,
    "big_integer": 2**60 + 1,
    "beyond_int64": -(2**70),
    "plain": [0.5, 3, -1.25e-7],
}


def with_figures(raw: dict[str, Any]) -> EventDraft:
    """A draft carrying FIGURES in its payload (appended as a store's caller may, unchecked)."""
    base = draft(raw)
    return dataclasses.replace(base, payload={**base.payload, "figures": FIGURES})


async def append_figures(store: SqlEventStore) -> int:
    """Events with FIGURES after the seed data: a registration, two statements, a correction of
    one and a retraction of the other, a text attached and a quote of it, so every read model
    holds some. The count appended."""
    await store.append(
        "figures", [with_figures(raw_source("figures-desk")), with_figures(raw_actor("figures"))]
    )
    first = with_figures(raw_position(source="figures-desk"))
    second = with_figures(raw_position("ukraine", "accepted", source="figures-desk"))
    await store.append("figures", [first, second], metadata={"weight": 1e20, "share": 0.25})
    corrected = {**first.payload, "stance": "conditional", "figures": {"revised": 2.5e20}}
    correction = draft(raw_editorial("EventCorrected", first.id, payload=corrected))
    retraction = draft(raw_editorial("EventRetracted", second.id))
    await store.append("figures", [correction, retraction])
    # A text for the source (beside the log: it travels in the backup) and a quote it verifies.
    await store.append("figures", [attachment("figures-desk", DESK_TEXT)], texts=DESK_TEXTS)
    quoted = draft(raw_position("belarus", source="figures-desk", quote="A made-up ... text"))
    await store.append("figures", [quoted])
    return 8


async def table_rows(store: SqlEventStore, name: str) -> list[bytes]:
    """A table's rows in primary-key order, each as key-sorted JSON: an int and a float of the
    same value, or a number JSONB rewrote, differ here as they would under the hash."""
    which = metadata.tables[name]
    encode = msgspec.json.Encoder(order="sorted").encode
    async with store.engine.connect() as conn:
        rows = await conn.execute(select(which).order_by(*which.primary_key.columns))
        return [encode(dict(row._mapping)) for row in rows]
