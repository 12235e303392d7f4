"""The quote-verification read model answers as the simple fold over the log does, on every
backend: at any transaction time, each source's text is the one its last SourceTextAttached
known then names, each quoted citation of a source with a text is checked against that text,
and each payload quote, as the event then stands (corrections and retractions of them known
then applied), against its cited sources' texts: whether the quote came before the text or
after it, and whether texts replace texts."""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any
from uuid import uuid4

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.drafts import EventDraft, draft_from_json
from domain.editorial import LoggedEvent, effective_events
from domain.quotes import find_quote, normalise
from domain.valid_time import to_micros
from store.factory import open_store
from store.memory import InMemoryEventStore
from store.ports import EventQuery, EventStore
from store.projection import logged
from store.read_models.verification import Attachment, Check
from tests.builders import NOW
from tests.clock import FrozenClock
from tests.support.backends import BACKENDS

TEXTS = (
    "Putin said the idea \u201cis correct\u201d \u2014 but questions remain about Kursk.",
    "Ushakov: it is nothing more than a temporary respite for Ukraine\u2019s army.",
    "The White House said talks went well; the ball is in Russia's court.",
)
QUOTES = (
    'the idea "is correct" - but',
    "questions remain ... Kursk",
    "nothing more than a temporary respite",
    "the ball is in [Moscow's] Russia's court",
    "a quote in none of the texts",
    "Putin said",
)


def sha(text: str) -> str:
    """A text's content address."""
    return hashlib.sha256(text.encode()).hexdigest()


def attachment(source: str, text: str) -> EventDraft:
    """A SourceTextAttached draft (append it with `texts={sha(text): text}`)."""
    payload = {"source": source, "sha256": sha(text), "characters": len(text)}
    raw = {"type": "SourceTextAttached", "occurred_at": "2026-01-01", "payload": payload}
    return draft_from_json(raw, now=NOW, default_id=uuid4())


def statement(quote: str | None) -> dict[str, Any]:
    """A StatementMade payload, quoting or not."""
    return {
        "speaker": "vladimir-putin",
        "summary": "A statement.",
        **({"quote": quote} if quote is not None else {}),
    }


def quoting(*citations: tuple[str, str | None], said: str | None = None) -> EventDraft:
    """A statement citing these (source, quote) pairs, its payload quoting `said`."""
    raw = {
        "type": "StatementMade",
        "occurred_at": "2025-03-13",
        "payload": statement(said),
        "sources": [{"source": s, **({"quote": q} if q is not None else {})} for s, q in citations],
    }
    return draft_from_json(raw, now=NOW, default_id=uuid4())


def editorial(kind: str, target: str, said: str | None = None) -> EventDraft:
    """An EventCorrected giving a statement the quote `said` (or none), or an EventRetracted."""
    payload: dict[str, Any] = {"target": target, "reason": "r"}
    if kind == "EventCorrected":
        payload["payload"] = statement(said)
    raw = {"type": kind, "occurred_at": "2025-03-14", "payload": payload}
    return draft_from_json(raw, now=NOW, default_id=uuid4())


def registration(source: str) -> EventDraft:
    """A SourceRegistered draft."""
    payload = {"source": source, "outlet": "Outlet", "headline": "H", "published_on": "2025-03-13"}
    raw = {"type": "SourceRegistered", "occurred_at": "2025-03-13", "payload": payload}
    return draft_from_json(raw, now=NOW, default_id=uuid4())


def fold(
    log: list[LoggedEvent], texts: dict[str, str], known_at: int
) -> tuple[dict[str, Attachment], list[Check]]:
    """What the model holds at a transaction time, from the log known then, from scratch."""
    known = [e for e in log if to_micros(e.recorded_at) <= known_at]
    attached: dict[str, Attachment] = {}
    for e in known:
        if e.type == "SourceTextAttached":
            attached[str(e.payload["source"])] = Attachment(
                source=str(e.payload["source"]),
                position=e.position,
                sha256=str(e.payload["sha256"]),
                characters=int(e.payload["characters"]),
                recorded_from=to_micros(e.recorded_at),
            )
    found = []
    for e in known:
        for j, c in enumerate(e.sources):
            if c.quote is None or c.source not in attached:
                continue
            digest = attached[c.source].sha256
            match = find_quote(c.quote, normalise(texts[digest]))
            found.append(
                Check(
                    position=e.position,
                    citation=j,
                    source=c.source,
                    sha256=digest,
                    verified=match is not None,
                    span_start=None if match is None else match.start,
                    span_end=None if match is None else match.end,
                    fragments=[] if match is None else [list(f) for f in match.fragments],
                )
            )
    standing = {e.position: e.payload for e in effective_events(known, keep_retracted=True)}
    for e in known:
        said = standing.get(e.position, {}).get("quote")
        if e.type != "StatementMade" or not isinstance(said, str):
            continue
        first: dict[str, int] = {}
        for j, c in enumerate(e.sources):
            first.setdefault(c.source, j)
        rows = []
        for source, j in first.items():
            if source not in attached:
                continue
            digest = attached[source].sha256
            match = find_quote(said, normalise(texts[digest]))
            rows.append(
                Check(
                    position=e.position,
                    citation=-1 - j,
                    source=source,
                    sha256=digest,
                    verified=match is not None,
                    span_start=None if match is None else match.start,
                    span_end=None if match is None else match.end,
                    fragments=[] if match is None else [list(f) for f in match.fragments],
                )
            )
        held = [c for c in rows if c.verified]
        if held:
            found.append(held[0])
        elif len(rows) == len(first):  # every cited source has a text, and none holds it
            found.extend(rows)
    return attached, sorted(found, key=lambda c: c.key)


def _said(c: Check) -> tuple[Any, ...]:
    """What a check says, without when it was learnt (the fold knows no transaction times)."""
    return (
        c.position,
        c.citation,
        c.source,
        c.sha256,
        c.verified,
        c.span_start,
        c.span_end,
        c.fragments,
    )


step = st.one_of(
    st.tuples(st.just("attach"), st.integers(0, 1), st.integers(0, len(TEXTS) - 1)),
    st.tuples(
        st.just("quote"),
        st.integers(0, 1),
        st.integers(-1, len(QUOTES) - 1),
        st.integers(-1, len(QUOTES) - 1),
        st.integers(-1, len(QUOTES) - 1),
    ),
    # Correct the k-th statement so far to quote q (-1: no quote); retract the k-th correction.
    st.tuples(st.just("correct"), st.integers(0, 9), st.integers(-1, len(QUOTES) - 1)),
    st.tuples(st.just("retract"), st.integers(0, 9)),
)
logs = st.lists(st.lists(step, min_size=1, max_size=3), min_size=1, max_size=7)


async def _check(store: EventStore, clock: FrozenClock, batches: list[list[Any]]) -> None:
    tag = uuid4().hex[:8]
    sources = [f"text-{tag}-0", f"text-{tag}-1"]
    before = await store.head()
    clock.advance(seconds=1)
    await store.append(f"v-{tag}", [registration(s) for s in sources])
    statements: list[str] = []
    corrections: list[str] = []
    for batch in batches:
        clock.advance(seconds=1)
        drafts, texts = [], {}
        for raw in batch:
            if raw[0] == "attach":
                text = TEXTS[raw[2]]
                drafts.append(attachment(sources[raw[1]], text))
                texts[sha(text)] = text
            elif raw[0] == "quote":
                _, s, q, r, p = raw
                first = (sources[s], QUOTES[q] if q >= 0 else None)
                said = QUOTES[p] if p >= 0 else None
                cited = (first, (sources[1 - s], QUOTES[r])) if r >= 0 else (first,)
                drafts.append(quoting(*cited, said=said))
                statements.append(str(drafts[-1].id))
            elif raw[0] == "correct" and statements:
                target = statements[raw[1] % len(statements)]
                said = QUOTES[raw[2]] if raw[2] >= 0 else None
                drafts.append(editorial("EventCorrected", target, said))
                corrections.append(str(drafts[-1].id))
            elif raw[0] == "retract" and corrections:
                drafts.append(editorial("EventRetracted", corrections[raw[1] % len(corrections)]))
        if drafts:
            await store.append(f"v-{tag}", drafts, texts=texts)
    log = [logged(e) for e in await store.read(EventQuery(after=before, limit=100_000))]
    positions = [e.position for e in log]
    by_sha = {sha(t): t for t in TEXTS}
    moments = sorted({to_micros(e.recorded_at) + d for e in log for d in (-1, 0)})
    for known_at in moments:
        attached, wanted = fold(log, by_sha, known_at)
        stored = await store.reads.attachments_among([*sources, "never"], known_at)
        assert [(a.source, a.position, a.sha256, a.characters) for a in stored] == [
            (a.source, a.position, a.sha256, a.characters)
            for a in sorted(attached.values(), key=lambda a: a.source)
        ], known_at
        assert [_said(c) for c in await store.reads.checks(positions, known_at)] == [
            _said(c) for c in wanted
        ], known_at
        for source in sources:
            mine = [c for c in wanted if c.source == source]
            verified = sum(1 for c in mine if c.verified)
            assert await store.reads.check_counts(source, known_at) == (
                verified,
                len(mine) - verified,
            )
            failed: list[Check] = []
            after = None
            while True:
                page = await store.reads.failures(source, known_at, after, 2)
                failed.extend(page)
                if len(page) < 2:
                    break
                after = page[-1].key
            assert [_said(c) for c in failed] == [_said(c) for c in mine if not c.verified]
    for digest, text in by_sha.items():
        if any(e.type == "SourceTextAttached" and e.payload["sha256"] == digest for e in log):
            assert await store.reads.text(digest) == text


@pytest.mark.parametrize("backend", BACKENDS)
def test_quote_checks_answer_as_the_fold_over_the_log(
    backend: str, request: pytest.FixtureRequest
) -> None:
    loop = asyncio.new_event_loop()
    clock = FrozenClock()
    if backend == "memory":
        store: Any = InMemoryEventStore(clock)
    else:
        databases = request.getfixturevalue(f"{backend}_databases")
        store = open_store(databases.fresh(), clock)

    @settings(deadline=None, max_examples=40, suppress_health_check=[HealthCheck.too_slow])
    @given(batches=logs)
    def check(batches: list[list[Any]]) -> None:
        loop.run_until_complete(_check(store, clock, batches))

    try:
        check()
    finally:
        if backend != "memory":
            loop.run_until_complete(store.close())
        loop.close()
