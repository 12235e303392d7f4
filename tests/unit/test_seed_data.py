"""The seed data set: it loads, every event builds, and every claim rests on its articles."""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from functools import cache
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from domain.drafts import EventDraft, draft_from_json
from domain.event_types import Kind, event_type
from seeds.dataset import SeedError, SeedStream, load_dataset

ARTICLES = Path(__file__).resolve().parents[3] / "shared" / "seeds"
ARTICLE_OF_SOURCE = {
    "unidentified-2025-03-13": "000_ee4eee0980490a12.txt",
    "notus-2025-03-13": "001_b1ce338e24cbc02e.txt",
    "us-daily-2025-03-13": "002_02a9c9788fb81cf1.txt",
    "euromaidan-press-2025-03-13": "003_01fd6b1c506668d3.txt",
    "rt-2025-03-13": "004_ce0fcfcbd8416ad1.txt",
}
UNRELIABLE_SOURCE = "unidentified-2025-03-13"
ACTOR_FIELDS = (
    "actor", "speaker", "participants", "envoy", "host", "proposer",
    "by", "against", "target", "about", "actors", "affiliation",
)  # fmt: skip
NOW = datetime(2026, 1, 1, tzinfo=UTC)
MOSCOW = timezone(timedelta(hours=3))
# Curly quotes and dashes read as their plain forms, as in check-quotes.
PLAIN = str.maketrans(
    {"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2014": "-", "\u2013": "-"}
)


@cache
def dataset() -> tuple[SeedStream, ...]:
    return load_dataset()


def events() -> Iterator[dict[str, Any]]:
    """Every event of the data set, in load order."""
    for stream in dataset():
        yield from stream.events


def build(event: dict[str, Any]) -> EventDraft:
    assert "id" in event
    return draft_from_json(event, now=NOW, default_id=uuid4())


def norm(text: str) -> str:
    """Text as ../shared/tools/check-quotes compares it: quotes, dashes, space and case folded."""
    text = unicodedata.normalize("NFKC", text)
    text = text.translate(PLAIN)
    return re.sub(r"\s+", " ", text).strip().lower()


@cache
def article(source: str) -> str:
    if not ARTICLES.is_dir():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"the source articles are missing: expected them at {ARTICLES}")
        pytest.skip(f"the source articles are not beside this checkout ({ARTICLES})")
    return norm((ARTICLES / ARTICLE_OF_SOURCE[source]).read_text(encoding="utf-8"))


def verbatim(quote: str, text: str) -> bool:
    """Whether every part of a quote (split at '...' and [clarifications]) is in the text."""
    parts = (p.strip(" .,\"'") for p in re.split(r"\.\.\.|\u2026|\[[^\]]*\]", norm(quote)))
    return all(part in text for part in parts if len(part) > 3)


def test_the_dataset_loads_its_streams_in_file_order() -> None:
    assert [s.stream for s in dataset()] == [
        "sources",
        "actors",
        "proposal-us-30-day-ceasefire-2025",
        "ceasefire-2025",
        "editorial",
    ]


def test_event_ids_are_unique() -> None:
    ids = [e["id"] for e in events()]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("event", list(events()), ids=lambda e: f"{e['type']}:{e['id'][:8]}")
def test_every_event_builds_as_a_valid_draft(event: dict[str, Any]) -> None:
    assert build(event).type == event["type"]


def test_every_cited_source_is_registered_earlier() -> None:
    registered: set[str] = set()
    for event in events():
        for citation in event["sources"]:
            assert citation["source"] in registered, (event["id"], citation["source"])
        if event["type"] == "SourceRegistered":
            registered.add(event["payload"]["source"])


def test_every_registered_source_is_one_of_the_articles() -> None:
    sources = [e["payload"]["source"] for e in events() if e["type"] == "SourceRegistered"]
    assert sorted(sources) == sorted(ARTICLE_OF_SOURCE)


def test_every_actor_named_in_a_payload_is_registered_earlier() -> None:
    registered: set[str] = set()
    for event in events():
        if event_type(event["type"]).kind is Kind.EDITORIAL:
            continue  # their `target` is an event id
        payload = event["payload"]
        if event["type"] == "ActorRegistered":
            registered.add(payload["actor"])
        for field in ACTOR_FIELDS:
            value = payload.get(field)
            for actor in value if isinstance(value, list) else [value]:
                assert actor is None or actor in registered, (event["id"], field, actor)


def test_every_editorial_target_is_an_earlier_event() -> None:
    seen: set[str] = set()
    for event in events():
        if event_type(event["type"]).kind is Kind.EDITORIAL:
            assert event["payload"]["target"] in seen, event["id"]
        seen.add(event["id"])


def test_every_source_quote_is_verbatim_in_its_article() -> None:
    for event in events():
        for citation in event["sources"]:
            quote = citation.get("quote")
            assert quote is None or verbatim(quote, article(citation["source"])), quote


def test_every_payload_quote_is_verbatim_in_an_article_it_cites() -> None:
    for event in events():
        quote = event["payload"].get("quote")
        if quote is not None:
            cited = [article(c["source"]) for c in event["sources"]]
            assert any(verbatim(quote, text) for text in cited), quote


def test_every_claim_resting_only_on_article_000_is_disputed() -> None:
    disputed = {e["payload"]["target"] for e in events() if e["type"] == "EventDisputed"}
    only_000 = [
        e["id"]
        for e in events()
        if e["sources"] and {c["source"] for c in e["sources"]} == {UNRELIABLE_SOURCE}
    ]
    assert only_000
    assert set(only_000) <= disputed


def test_dispute_reasons_name_outlets_never_our_numbering_of_the_articles() -> None:
    reasons = [e["payload"]["reason"] for e in events() if e["type"] == "EventDisputed"]
    assert reasons
    for reason in reasons:
        assert re.search(r"\barticles?\s+\d|\b00\d\b", reason) is None, reason


def test_every_phrase_quoted_in_a_dispute_reason_is_verbatim_in_an_article() -> None:
    texts = [article(source) for source in ARTICLE_OF_SOURCE]
    phrases = [
        phrase
        for e in events()
        if e["type"] == "EventDisputed"
        for phrase in re.findall(r'"([^"]+)"', e["payload"]["reason"])
    ]
    assert phrases
    for phrase in phrases:
        assert any(verbatim(phrase, text) for text in texts), phrase


def test_russia_rejects_before_noon_in_moscow_and_supports_with_conditions_after() -> None:
    noon = datetime(2025, 3, 13, 12, tzinfo=MOSCOW)
    russia = {
        e["payload"]["speaker"]: build(e).valid_time.earliest
        for e in events()
        if e["type"] == "PositionStated" and e["payload"]["actor"] == "russia"
    }
    assert russia["yuri-ushakov"] < noon <= russia["vladimir-putin"]


def test_an_unknown_target_is_refused_naming_file_and_key(tmp_path: Path) -> None:
    (tmp_path / "10-editorial.yaml").write_text(
        "stream: editorial\nevents:\n"
        "  - {key: doubt, type: EventDisputed, occurred_at: '2025-03-13',"
        " payload: {target: '@nowhere/nothing', reason: r}}\n"
    )
    with pytest.raises(SeedError, match=r"10-editorial\.yaml: doubt"):
        load_dataset(tmp_path)


def test_a_duplicate_key_is_refused(tmp_path: Path) -> None:
    event = "  - {key: same, type: T, occurred_at: '2025-03-13', payload: {}}\n"
    (tmp_path / "10-s.yaml").write_text("stream: s\nevents:\n" + event * 2)
    with pytest.raises(SeedError, match="duplicate key"):
        load_dataset(tmp_path)
