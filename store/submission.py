"""The one write path: raw drafts checked against their schemas and the log, then appended.

The API and the seed loader both come through here, so a seed is held to the same rules.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from domain.drafts import EventDraft, draft_from_json, validate_payload
from domain.errors import DomainError, InvalidEvent, InvalidValidTime
from domain.event_types import Kind, event_type
from domain.references import registration_of
from domain.valid_time import parse_valid_time
from store.errors import AlreadyRegistered, FieldError, InvalidSubmission
from store.ports import AppendResult, Clock, EventStore, IdempotentAnswer
from store.quote_rules import misquotes, text_errors
from store.rate_limits import WriteCharge

MAX_BATCH = 1000


async def submit(
    store: EventStore,
    clock: Clock,
    *,
    stream: str,
    events: Sequence[Mapping[str, Any]],
    expected_version: int | None = None,
    metadata: Mapping[str, Any] | None = None,
    charge: WriteCharge | None = None,
    answer: IdempotentAnswer | None = None,
    texts: Mapping[str, str] | None = None,
) -> AppendResult:
    """Check a batch of raw drafts and append it atomically, or raise and write nothing.

    `charge` is counted only when the batch reaches the store (see `EventStore.append`).
    `texts` (by SHA-256) are those the batch's SourceTextAttached events attach: only with its
    text is one appended. A quoted citation of a source with a text must quote it."""
    if not events:
        raise InvalidSubmission([FieldError("events", "a batch needs at least one event")])
    if len(events) > MAX_BATCH:
        raise InvalidSubmission(
            [FieldError("events", f"a batch holds at most {MAX_BATCH} events, not {len(events)}")]
        )
    now = clock()
    drafts: list[EventDraft] = []
    errors: list[FieldError] = []
    for i, raw in enumerate(events):
        try:
            drafts.append(_draft(raw, now))
        except InvalidEvent as error:
            errors.append(FieldError(f"events[{i}].{error.field}", error.message))
    errors.extend(_repeated_ids(drafts))
    errors.extend(text_errors(drafts, texts or {}))
    if not errors:
        errors.extend(await _dangling_references(store, drafts))
    if not errors:
        errors.extend(await misquotes(store, drafts, texts or {}))
    if errors:
        raise InvalidSubmission(errors)
    conflicts = await _registered_before(store, drafts)
    if conflicts:
        raise AlreadyRegistered(conflicts)
    return await store.append(
        stream,
        drafts,
        expected_version=expected_version,
        metadata=dict(metadata or {}),
        charge=charge,
        answer=answer,
        texts=texts,
    )


def _draft(raw: Mapping[str, Any], now: datetime) -> EventDraft:
    return draft_from_json(raw, now=now, default_id=uuid4())


def _repeated_ids(drafts: Sequence[EventDraft]) -> list[FieldError]:
    seen: set[UUID] = set()
    errors = []
    for i, draft in enumerate(drafts):
        if draft.id in seen:
            errors.append(
                FieldError(f"events[{i}].id", f"id {draft.id} appears twice in the batch")
            )
        seen.add(draft.id)
    return errors


async def _registered_before(store: EventStore, drafts: Sequence[EventDraft]) -> list[FieldError]:
    """Registrations of a source, actor or proposal that the log or the batch registered already.
    A draft whose id the log holds is a replay of its append (answered as before), not another
    registration."""
    registering = [(i, d, ref) for i, d in enumerate(drafts) if (ref := registration_of(d))]
    if not registering:
        return []
    known = await store.registered(sorted({ref for _, _, ref in registering}))
    ids = [d.id for _, d, ref in registering if ref in known]
    replayed = set(await store.get_many(ids)) if ids else set()
    errors: list[FieldError] = []
    for i, draft, ref in registering:
        kind, name = ref.split(":", 1)
        if ref in known and draft.id not in replayed:
            errors.append(
                FieldError(
                    f"events[{i}].payload.{kind}",
                    f"{kind} {name!r} is registered already; correct its registration "
                    "(EventCorrected) instead of registering it again",
                )
            )
        known.add(ref)
    return errors


async def _dangling_references(store: EventStore, drafts: Sequence[EventDraft]) -> list[FieldError]:
    """Citations of unregistered sources, and editorial events whose target does not exist."""
    errors: list[FieldError] = []
    cited = sorted(
        {f"source:{c.source}" for d in drafts for c in d.sources}
        | {f"source:{d.payload['source']}" for d in drafts if d.type == "SourceTextAttached"}
    )
    known = await store.registered(cited)
    in_batch: dict[UUID, EventDraft] = {}
    for i, draft in enumerate(drafts):
        for j, citation in enumerate(draft.sources):
            if f"source:{citation.source}" not in known:
                errors.append(
                    FieldError(
                        f"events[{i}].sources[{j}].source",
                        f"source {citation.source!r} is not registered; register it first",
                    )
                )
        if draft.type == "SourceTextAttached" and f"source:{draft.payload['source']}" not in known:
            errors.append(
                FieldError(
                    f"events[{i}].payload.source",
                    f"source {draft.payload['source']!r} is not registered; register it first",
                )
            )
        if draft.type == "SourceRegistered":
            known.add(f"source:{draft.payload['source']}")
        if draft.event_type.kind is Kind.EDITORIAL:
            errors.extend(await _target_errors(store, draft, in_batch, f"events[{i}].payload"))
        in_batch[draft.id] = draft
    return errors


async def _target_errors(
    store: EventStore, draft: EventDraft, in_batch: Mapping[UUID, EventDraft], at: str
) -> list[FieldError]:
    target_id = UUID(str(draft.payload["target"]))
    target = in_batch.get(target_id)
    if target is None:
        recorded = await store.get(target_id)
        target = recorded.draft if recorded is not None else None
    if target is None:
        return [
            FieldError(f"{at}.target", f"no event {target_id} in the log or earlier in this batch")
        ]
    if target.type == "SourceTextAttached":
        return [
            FieldError(
                f"{at}.target",
                "a text attachment is not edited: attach another text to replace it",
            )
        ]
    if target.event_type.kind is Kind.EDITORIAL and draft.type == "EventCorrected":
        return [FieldError(f"{at}.target", "an editorial event cannot be corrected; retract it")]
    if draft.type != "EventCorrected":
        return []
    return _correction_errors(draft, target, at)


def _correction_errors(draft: EventDraft, target: EventDraft, at: str) -> list[FieldError]:
    payload = draft.payload
    if all(payload.get(k) is None for k in ("occurred_at", "timezone", "payload")):
        return [FieldError(at, "a correction replaces occurred_at, timezone or payload: give one")]
    try:
        if payload.get("occurred_at") is not None or payload.get("timezone") is not None:
            parse_valid_time(
                payload.get("occurred_at") or target.valid_time.expression,
                payload.get("timezone") or target.valid_time.timezone,
            )
    except InvalidValidTime as error:
        return [FieldError(f"{at}.occurred_at", str(error))]
    if payload.get("payload") is not None:
        kind = event_type(target.type)
        try:
            validate_payload(kind, kind.current_version, payload["payload"], at="payload")
        except DomainError as error:
            field = error.field if isinstance(error, InvalidEvent) else "payload"
            return [FieldError(f"{at}.{field}", str(error))]
    return []
