"""What a draft would change, in words: the pair's position is read from the store as of the
draft's valid time, the draft folded into it in the pure domain (domain.changes), and nothing
appended. "Russia on the 30-day ceasefire: rejected → conditional from 13 March 2025, 18:00
Moscow"."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from api.desk.reads import EVERYTHING, Registry
from api.services import Services
from domain.changes import PositionChange, change_of
from domain.drafts import EventDraft
from domain.editorial import POSITION_TYPES, EffectiveEvent, LoggedEvent
from domain.exports.dates import CLOCK_PRECISIONS, MONTHS, clock, span_of, zone_label
from domain.positions import restore, unstated
from domain.valid_time import Precision, ValidTime, from_micros, to_micros

ARROW = "\u2192"


async def what_changes(services: Services, draft: EventDraft, names: Registry) -> list[str]:
    """Sentences saying what the draft changes in a party's position; empty for an event that
    states no position."""
    if draft.type not in POSITION_TYPES:
        return []
    payload = draft.current_payload()
    pair = (str(payload["actor"]), str(payload["proposal"]))
    at = to_micros(draft.valid_time.earliest)
    state = await services.store.position(pair, at, EVERYTHING) or unstated(pair)
    logged = LoggedEvent(
        id=draft.id,
        position=0,
        recorded_at=services.clock(),
        type=draft.type,
        valid_time=draft.valid_time,
        payload=payload,
        sources=draft.sources,
    )
    change = change_of(
        restore(state), EffectiveEvent(event=logged, valid_time=draft.valid_time, payload=payload)
    )
    history = await services.store.position_history(pair, EVERYTHING)
    later = next((s.valid_from for s in history if s.valid_from > at), None)
    return _sentences(change, draft.valid_time, names, later)


def _sentences(
    change: PositionChange, valid_time: ValidTime, names: Registry, later: int | None
) -> list[str]:
    actor = names.actors.get(change.actor, change.actor)
    proposal = names.proposals.get(change.proposal, change.proposal)
    since = moment_words(valid_time)
    if change.stance_changed:
        head = f"{actor} on {proposal}: {change.stance_before} {ARROW} {change.stance_after}"
    else:
        head = f"{actor} on {proposal}: stays {change.stance_after}"
    said = f", said by {names.actors.get(change.speaker, change.speaker)}" if change.speaker else ""
    lines = [f"{head} from {since}{said}."]
    if change.conditions_added:
        added = "; ".join(text for _, text in change.conditions_added)
        lines.append(f"Conditions added ({len(change.conditions_added)}): {added}")
    if change.conditions_dropped:
        dropped = "; ".join(text for _, text in change.conditions_dropped)
        lines.append(f"Conditions dropped ({len(change.conditions_dropped)}): {dropped}")
    if change.contested_after and not change.contested_before:
        lines.append(f"{actor}'s voices would then disagree: the position is contested.")
    elif change.contested_before and not change.contested_after:
        lines.append(f"{actor}'s voices would then agree again.")
    if later is not None:
        until = from_micros(later)
        lines.append(
            f"Until {_day(until)}, {clock(until, Precision.MINUTE)} UTC, when a later "
            "event on record takes over."
        )
    if not change.changes_anything:
        lines.append("Nothing else changes: the event adds a voice to what is on record.")
    return lines


def _day(moment: datetime) -> str:
    return f"{moment.day} {MONTHS[moment.month - 1]} {moment.year}"


def moment_words(valid_time: ValidTime) -> str:
    """When a valid time takes effect, where it happened: "13 March 2025, 18:00 Moscow" for a
    time of day, "13 March 2025 (Moscow time)" for a date."""
    span = span_of(valid_time)
    zone = valid_time.timezone
    named = zone not in ("UTC", "Etc/UTC") and "/" in zone
    start = valid_time.earliest.astimezone(ZoneInfo(zone)) if named else span.start
    place = zone.rsplit("/", 1)[1].replace("_", " ") if named else zone_label(start)
    if span.start_precision in CLOCK_PRECISIONS:
        return f"{_day(start)}, {clock(start, span.start_precision)} {place}"
    return f"{_day(start)} ({place} time)"
