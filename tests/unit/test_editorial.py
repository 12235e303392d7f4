"""The log as readers see it: corrections applied, retractions removed, disputes attached."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.editorial import Dispute, EffectiveEvent, LoggedEvent, effective_events
from domain.event_types import EVENT_TYPES, Kind
from domain.valid_time import parse_valid_time
from tests.unit.fold_builders import Log, position_stated, random_logs


def only(effective: list[EffectiveEvent]) -> EffectiveEvent:
    """The one effective event there must be."""
    assert len(effective) == 1, effective
    return effective[0]


@pytest.mark.parametrize(
    ("fields", "valid_time", "stance"),
    [
        pytest.param(
            {"occurred_at": "2025-03-12T10:00Z"},
            ("2025-03-12T10:00Z", None),
            "rejected",
            id="valid time",
        ),
        pytest.param(
            {"payload": position_stated("russia", "conditional", speaker="vladimir-putin")},
            ("2025-03-13", "Europe/Moscow"),
            "conditional",
            id="payload",
        ),
        pytest.param(
            {
                "occurred_at": "2025-03-13T18+03:00/2025-03-13T23+03:00",
                "payload": position_stated("russia", "conditional", speaker="vladimir-putin"),
            },
            ("2025-03-13T18+03:00/2025-03-13T23+03:00", "Europe/Moscow"),
            "conditional",
            id="both",
        ),
    ],
)
def test_a_correction_replaces_the_valid_time_and_or_the_payload(
    fields: dict[str, object], valid_time: tuple[str, str | None], stance: str
) -> None:
    log = Log()
    stated = log.stated("russia", "rejected", at="2025-03-13", tz="Europe/Moscow")
    correction = log.corrected(stated, **fields)

    effective = only(log.effective())

    assert effective.event == stated
    assert effective.valid_time.earliest == parse_valid_time(*valid_time).earliest
    assert effective.valid_time.expression == valid_time[0]
    assert effective.payload["stance"] == stance
    assert effective.corrected_by == (correction.id,)


def test_a_correction_that_names_only_a_timezone_reads_the_same_date_in_that_zone() -> None:
    log = Log()
    stated = log.stated("russia", "rejected", at="2025-03-13")
    log.corrected(stated, timezone="Europe/Moscow")

    assert only(log.effective()).valid_time == parse_valid_time("2025-03-13", "Europe/Moscow")


def test_two_corrections_apply_in_log_order() -> None:
    log = Log()
    stated = log.stated("russia", "rejected", at="2025-03-13", tz="Europe/Moscow")
    first = log.corrected(
        stated,
        occurred_at="2025-03-12",
        payload=position_stated("russia", "noncommittal", speaker="yuri-ushakov"),
    )
    second = log.corrected(
        stated, payload=position_stated("russia", "conditional", speaker="vladimir-putin")
    )

    effective = only(log.effective())

    # The second correction's payload wins; the first one's valid time, untouched since, stays.
    assert effective.payload["stance"] == "conditional"
    assert effective.valid_time == parse_valid_time("2025-03-12", "Europe/Moscow")
    assert effective.corrected_by == (first.id, second.id)


def test_a_later_correction_of_the_valid_time_wins_over_an_earlier_one() -> None:
    log = Log()
    stated = log.stated("russia", "rejected", at="2025-03-13", tz="Europe/Moscow")
    log.corrected(stated, occurred_at="2025-03-12T09:00Z")
    log.corrected(stated, occurred_at="2025-03-11T09:00Z")

    valid_time = only(log.effective()).valid_time
    assert valid_time.expression == "2025-03-11T09:00Z"
    assert valid_time.earliest == parse_valid_time("2025-03-11T09:00Z").earliest


def test_a_retraction_hides_the_event() -> None:
    log = Log()
    kept = log.stated("ukraine", "accepted", at="2025-03-11", tz="Asia/Riyadh")
    retracted = log.stated("russia", "rejected")
    log.retracted(retracted)

    assert [e.event for e in log.effective()] == [kept]


def test_a_retracted_event_is_kept_and_marked_when_asked_for() -> None:
    log = Log()
    kept = log.stated("ukraine", "accepted", at="2025-03-11", tz="Asia/Riyadh")
    retracted = log.stated("russia", "rejected")
    retraction = log.retracted(retracted)

    effective = effective_events(log.events, keep_retracted=True)

    assert [(e.event, e.retracted_by) for e in effective] == [
        (kept, ()),
        (retracted, (retraction.id,)),
    ]
    assert [e.retracted for e in effective] == [False, True]


def test_a_retracted_retraction_does_not_mark_its_target() -> None:
    log = Log()
    stated = log.stated("russia", "rejected")
    retraction = log.retracted(stated)
    log.retracted(retraction)

    assert only(effective_events(log.events, keep_retracted=True)).retracted_by == ()


def test_a_retracted_retraction_restores_the_event() -> None:
    log = Log()
    stated = log.stated("russia", "rejected")
    retraction = log.retracted(stated)
    log.retracted(retraction)

    assert only(log.effective()).event == stated


def test_a_retraction_of_a_retracted_retraction_hides_the_event_again() -> None:
    log = Log()
    stated = log.stated("russia", "rejected")
    retraction = log.retracted(stated)
    undo = log.retracted(retraction)
    log.retracted(undo)

    assert log.effective() == []


def test_a_retracted_correction_is_undone() -> None:
    log = Log()
    stated = log.stated("russia", "rejected", at="2025-03-13", tz="Europe/Moscow")
    kept = log.corrected(stated, payload=position_stated("russia", "rejected", quote="respite"))
    undone = log.corrected(
        stated,
        occurred_at="2025-03-14",
        payload=position_stated("russia", "conditional", speaker="vladimir-putin"),
    )
    log.retracted(undone)

    effective = only(log.effective())

    assert effective.valid_time == stated.valid_time
    assert effective.payload == position_stated("russia", "rejected", quote="respite")
    assert effective.corrected_by == (kept.id,)


def test_a_correction_does_not_bring_back_a_retracted_event() -> None:
    log = Log()
    stated = log.stated("russia", "rejected")
    log.retracted(stated)
    log.corrected(stated, occurred_at="2025-03-12")

    assert log.effective() == []


def test_a_dispute_flags_the_event_but_keeps_it() -> None:
    log = Log()
    stated = log.stated("russia", "rejected", speaker="yuri-ushakov")
    dispute = log.disputed(stated, reason="only article 000 says so")

    effective = only(log.effective())

    assert effective.event == stated
    assert effective.payload == stated.payload
    assert effective.disputed
    assert effective.disputes == (Dispute(event=dispute.id, reason="only article 000 says so"),)


def test_a_retracted_dispute_no_longer_flags_the_event() -> None:
    log = Log()
    stated = log.stated("russia", "rejected")
    standing = log.disputed(stated, reason="one doubt")
    withdrawn = log.disputed(stated, reason="another doubt")
    log.retracted(withdrawn)

    effective = only(log.effective())
    assert effective.disputes == (Dispute(event=standing.id, reason="one doubt"),)

    log.retracted(standing)
    assert not only(log.effective()).disputed


def test_editorial_events_themselves_are_not_in_the_output() -> None:
    log = Log()
    stated = log.stated("russia", "rejected")
    log.corrected(stated, occurred_at="2025-03-12")
    log.disputed(stated)
    retracted = log.stated("ukraine", "accepted")
    log.retracted(retracted)

    assert [e.id for e in log.effective()] == [stated.id]


def test_the_output_stays_in_log_order_whatever_the_valid_times() -> None:
    log = Log()
    late = log.stated("russia", "conditional", at="2025-03-14")
    early = log.stated("ukraine", "accepted", at="2025-03-11")
    moved = log.stated("russia", "rejected", at="2025-03-13")
    log.corrected(moved, occurred_at="2025-02-01")

    effective = effective_events(reversed(log.events))

    assert [e.id for e in effective] == [late.id, early.id, moved.id]


# Properties -----------------------------------------------------------------------------------


def expected_effective(events: list[LoggedEvent]) -> list[tuple[Any, ...]]:
    """An independent reading of the log: id, valid time, payload, corrections and disputes.

    Walks the log backwards: every retraction aimed at an event comes after it, so whether
    those retractions stand is known by the time the walk reaches the event.
    """
    standing: dict[UUID, bool] = {}
    for event in reversed(events):
        standing[event.id] = not any(
            standing[e.id]
            for e in events
            if e.type == "EventRetracted" and e.payload["target"] == str(event.id)
        )
    expected = []
    for event in events:
        if EVENT_TYPES[event.type].kind is Kind.EDITORIAL or not standing[event.id]:
            continue
        aimed = [e for e in events if e.payload.get("target") == str(event.id) and standing[e.id]]
        corrections = [e for e in aimed if e.type == "EventCorrected"]
        # Each field is the one the last standing correction that names it gives, or the original.
        payload = event.payload
        expression, timezone = event.valid_time.expression, event.valid_time.timezone
        for correction in corrections:
            payload = correction.payload.get("payload", payload)
            expression = correction.payload.get("occurred_at", expression)
            timezone = correction.payload.get("timezone", timezone)
        valid_time = parse_valid_time(expression, timezone)
        disputes = tuple(
            Dispute(event=e.id, reason=e.payload["reason"])
            for e in aimed
            if e.type == "EventDisputed"
        )
        corrected_by = tuple(e.id for e in corrections)
        expected.append((event.id, valid_time, payload, corrected_by, disputes))
    return expected


@given(events=random_logs())
def test_effective_events_leave_out_editorial_and_retracted_events_and_apply_the_rest(
    events: list[LoggedEvent],
) -> None:
    effective = effective_events(events)

    assert all(EVENT_TYPES[e.type].kind is not Kind.EDITORIAL for e in effective)
    assert [(e.id, e.valid_time, e.payload, e.corrected_by, e.disputes) for e in effective] == (
        expected_effective(events)
    )
    assert [e.position for e in effective] == sorted(e.position for e in effective)


@given(data=st.data(), events=random_logs())
def test_effective_events_do_not_depend_on_the_order_the_log_is_given_in(
    data: st.DataObject, events: list[LoggedEvent]
) -> None:
    shuffled = data.draw(st.permutations(events))

    assert effective_events(shuffled) == effective_events(events)


@given(events=random_logs())
def test_keeping_retracted_events_adds_exactly_the_retracted_ones(
    events: list[LoggedEvent],
) -> None:
    kept = effective_events(events, keep_retracted=True)

    assert [e for e in kept if not e.retracted] == effective_events(events)
    assert [e.position for e in kept] == sorted(e.position for e in kept)
