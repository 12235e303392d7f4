"""A party's position on a proposal: the fold of its statements, and its history in valid time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.editorial import EffectiveEvent, LoggedEvent, effective_events
from domain.positions import Pair, Segment, fold, history, pair_of, segment_at, unstated
from domain.valid_time import format_instant, parse_instant, parse_valid_time, to_micros
from tests.unit.fold_builders import (
    PAIRS,
    PROPOSAL,
    VALID_TIMES,
    Log,
    cite,
    condition,
    position_stated,
    random_logs,
)

RUSSIA: Pair = ("russia", PROPOSAL)
UKRAINE: Pair = ("ukraine", PROPOSAL)
ONE_MICRO = timedelta(microseconds=1)

PUTIN_CONDITIONS = [
    condition("ukrainian-troops-in-kursk", "What happens to the Ukrainian troops in Kursk."),
    condition("no-mobilisation", "Ukraine carries out no mobilisation during the 30 days."),
    condition("no-troop-training", "Ukraine trains no troops during the 30 days."),
    condition("no-arms-deliveries", "Ukraine receives no arms deliveries during the 30 days."),
    condition("control-and-verification", "A system of control and verification."),
    condition("lasting-peace-root-causes", "A long-term peace addressing the root causes."),
]


def at(text: str) -> datetime:
    """An instant written with its offset."""
    return parse_instant(text)


def utc(text: str) -> str:
    """An instant as positions show it: RFC 3339 in UTC."""
    return format_instant(parse_instant(text))


class SeedStory:
    """A hand-made log mirroring the seed data: 11 and 13 March 2025."""

    def __init__(self) -> None:
        self.log = Log()
        self.ukraine = self.log.stated(
            "ukraine",
            "accepted",
            at="2025-03-11",
            tz="Asia/Riyadh",
            sources=(cite("euromaidan-press-2025-03-13", "accepted on 11 March"),),
        )
        self.ushakov = self.log.stated(
            "russia",
            "rejected",
            at="2025-03-13",
            tz="Europe/Moscow",
            speaker="yuri-ushakov",
            quote="nothing more than a temporary respite",
            sources=(cite("notus-2025-03-13"), cite("us-daily-2025-03-13", "temporary respite")),
        )
        self.putin = self.log.stated(
            "russia",
            "conditional",
            at="2025-03-13T18+03:00/2025-03-13T23+03:00",
            tz="Europe/Moscow",
            speaker="vladimir-putin",
            conditions=PUTIN_CONDITIONS,
            sources=(cite("notus-2025-03-13"), cite("rt-2025-03-13")),
        )

    def position(self, pair: Pair, as_of: str) -> dict[str, Any]:
        return fold(self.log.effective(), pair, at(as_of)).to_json()


@pytest.fixture
def story() -> SeedStory:
    return SeedStory()


# The seed story -------------------------------------------------------------------------------


def test_ukraine_is_unstated_before_11_march_and_accepted_from_then_on(story: SeedStory) -> None:
    before = story.position(UKRAINE, "2025-03-10T23:59:59.999999+03:00")
    on_the_day = story.position(UKRAINE, "2025-03-11T00:00:00+03:00")
    after = story.position(UKRAINE, "2025-03-20T12:00:00Z")

    assert before == unstated(UKRAINE)
    assert before["stance"] == "unstated"
    assert on_the_day["stance"] == after["stance"] == "accepted"
    assert on_the_day["since"] == after["since"] == "2025-03-10T21:00:00Z"
    assert on_the_day["speaker"] is None


def test_russia_rejects_at_noon_moscow_time_through_ushakov(story: SeedStory) -> None:
    noon = story.position(RUSSIA, "2025-03-13T12:00+03:00")

    assert noon["stance"] == "rejected"
    assert noon["speaker"] == "yuri-ushakov"
    # Ushakov's statement is dated the 13th in Moscow: it takes effect at local midnight.
    assert noon["since"] == utc("2025-03-13T00:00+03:00")
    assert noon["conditions"] == []
    assert noon["voices"] == [
        {
            "speaker": "yuri-ushakov",
            "stance": "rejected",
            "since": utc("2025-03-13T00:00+03:00"),
            "event": str(story.ushakov.id),
        }
    ]
    assert noon["contested"] is False
    assert story.position(RUSSIA, "2025-03-12T23:59:59.999999+03:00") == unstated(RUSSIA)


def test_russia_is_conditional_at_23_through_putin_with_his_full_condition_set(
    story: SeedStory,
) -> None:
    night = story.position(RUSSIA, "2025-03-13T23:00+03:00")

    assert night["stance"] == "conditional"
    assert night["speaker"] == "vladimir-putin"
    assert night["conditions"] == [
        {
            "id": c["id"],
            "text": c["text"],
            "raised_by": "vladimir-putin",
            "raised_at": utc("2025-03-13T18:00+03:00"),
            "event": str(story.putin.id),
        }
        for c in PUTIN_CONDITIONS
    ]


def test_russia_is_contested_once_putin_and_ushakov_disagree(story: SeedStory) -> None:
    night = story.position(RUSSIA, "2025-03-13T23:00+03:00")

    assert night["contested"] is True
    assert {(v["speaker"], v["stance"]) for v in night["voices"]} == {
        ("yuri-ushakov", "rejected"),
        ("vladimir-putin", "conditional"),
    }


def test_since_is_the_earliest_instant_of_the_statement_that_set_the_stance(
    story: SeedStory,
) -> None:
    # Putin spoke some time between 18:00 and 23:00 Moscow time: his stance holds from 18:00.
    assert story.position(RUSSIA, "2025-03-13T17:59:59.999999+03:00")["stance"] == "rejected"
    at_six = story.position(RUSSIA, "2025-03-13T18:00+03:00")
    assert at_six["stance"] == "conditional"
    assert at_six["since"] == utc("2025-03-13T18:00+03:00")
    assert story.position(RUSSIA, "2025-03-14T12:00Z")["since"] == at_six["since"]


def test_the_history_of_russias_position_has_ushakovs_morning_and_putins_evening(
    story: SeedStory,
) -> None:
    segments = history(story.log.effective(), RUSSIA)

    assert [(s.valid_from, s.valid_to, s.state["stance"]) for s in segments] == [
        (
            to_micros(at("2025-03-13T00:00+03:00")),
            to_micros(at("2025-03-13T18:00+03:00")),
            "rejected",
        ),
        (to_micros(at("2025-03-13T18:00+03:00")), None, "conditional"),
    ]
    assert segment_at(segments, at("2025-03-12T23:59:59.999999+03:00")) is None
    noon = segment_at(segments, at("2025-03-13T12:00+03:00"))
    assert noon is not None
    assert noon.state == story.position(RUSSIA, "2025-03-13T12:00+03:00")


# What a position rests on ---------------------------------------------------------------------


class Conditional:
    """Russia conditional, a condition raised and dropped, another raised and kept."""

    def __init__(self) -> None:
        self.log = Log()
        self.stated = self.log.stated(
            "russia",
            "conditional",
            at="2025-03-13T15:00Z",
            speaker="vladimir-putin",
            sources=(cite("notus-2025-03-13", "agree"), cite("rt-2025-03-13")),
        )
        self.dropped_raise = self.log.raised(
            "russia",
            "no-mobilisation",
            at="2025-03-13T15:00:00.000001Z",
            sources=(cite("us-daily-2025-03-13"),),
        )
        self.kept_raise = self.log.raised(
            "russia",
            "control-and-verification",
            at="2025-03-13T16:00Z",
            speaker="vladimir-putin",
            sources=(cite("notus-2025-03-13", "agree"), cite("tass-2025-03-13")),
        )
        self.drop = self.log.dropped(
            "russia",
            "no-mobilisation",
            at="2025-03-14T09:00Z",
            sources=(cite("kommersant-2025-03-14"),),
        )

    def position(self, as_of: str = "2025-03-15T00:00Z") -> dict[str, Any]:
        return fold(self.log.effective(), RUSSIA, at(as_of)).to_json()


def test_based_on_lists_the_stance_event_and_the_events_that_raised_open_conditions() -> None:
    case = Conditional()

    assert case.position("2025-03-14T08:00Z")["based_on"] == [
        str(case.stated.id),
        str(case.dropped_raise.id),
        str(case.kept_raise.id),
    ]
    assert case.position()["based_on"] == [str(case.stated.id), str(case.kept_raise.id)]


def test_sources_are_the_citations_of_the_based_on_events_without_repeats() -> None:
    case = Conditional()

    assert case.position()["sources"] == [
        {"source": "notus-2025-03-13", "quote": "agree"},
        {"source": "rt-2025-03-13"},
        {"source": "tass-2025-03-13"},
    ]


def test_disputed_lists_the_disputed_based_on_events_which_still_count() -> None:
    case = Conditional()
    case.log.disputed(case.kept_raise)
    case.log.disputed(case.dropped_raise)  # no longer part of the position
    case.log.disputed(case.drop)  # never part of it

    position = case.position()

    assert position["disputed"] == [str(case.kept_raise.id)]
    assert [c["id"] for c in position["conditions"]] == ["control-and-verification"]
    assert position["based_on"] == [str(case.stated.id), str(case.kept_raise.id)]


def test_a_disputed_statement_still_sets_the_stance() -> None:
    log = Log()
    stated = log.stated("russia", "rejected", speaker="yuri-ushakov")
    log.disputed(stated)

    position = fold(log.effective(), RUSSIA, at("2025-03-14T00:00Z")).to_json()

    assert position["stance"] == "rejected"
    assert position["disputed"] == [str(stated.id)]


# Conditions -----------------------------------------------------------------------------------


def test_condition_raised_adds_a_condition_and_condition_dropped_removes_it() -> None:
    case = Conditional()

    def open_conditions(as_of: str) -> list[tuple[str, str | None, str]]:
        return [
            (c["id"], c["raised_by"], c["raised_at"]) for c in case.position(as_of)["conditions"]
        ]

    assert open_conditions("2025-03-13T15:00Z") == []
    assert open_conditions("2025-03-13T15:30Z") == [
        ("no-mobilisation", None, "2025-03-13T15:00:00.000001Z")
    ]
    assert open_conditions("2025-03-13T16:00Z") == [
        ("no-mobilisation", None, "2025-03-13T15:00:00.000001Z"),
        ("control-and-verification", "vladimir-putin", "2025-03-13T16:00:00Z"),
    ]
    assert open_conditions("2025-03-14T09:00Z") == [
        ("control-and-verification", "vladimir-putin", "2025-03-13T16:00:00Z")
    ]


def test_a_statement_without_conditions_leaves_the_open_conditions_alone() -> None:
    case = Conditional()
    case.log.stated("russia", "conditional", at="2025-03-14T12:00Z", speaker="yuri-ushakov")

    conditions = case.position()["conditions"]

    assert [(c["id"], c["event"]) for c in conditions] == [
        ("control-and-verification", str(case.kept_raise.id))
    ]


def test_a_statement_with_conditions_replaces_the_set_keeping_the_origin_of_unchanged_ones() -> (
    None
):
    case = Conditional()
    kept_text = case.kept_raise.payload["condition"]["text"]
    restated = case.log.stated(
        "russia",
        "conditional",
        at="2025-03-14T12:00Z",
        speaker="yuri-ushakov",
        conditions=[
            condition("control-and-verification", kept_text),  # unchanged
            condition("no-arms-deliveries"),  # new
        ],
    )

    conditions = case.position()["conditions"]

    assert conditions == [
        {
            "id": "control-and-verification",
            "text": kept_text,
            "raised_by": "vladimir-putin",
            "raised_at": "2025-03-13T16:00:00Z",
            "event": str(case.kept_raise.id),
        },
        {
            "id": "no-arms-deliveries",
            "text": "Condition no-arms-deliveries.",
            "raised_by": "yuri-ushakov",
            "raised_at": "2025-03-14T12:00:00Z",
            "event": str(restated.id),
        },
    ]
    assert case.position()["based_on"] == [str(restated.id), str(case.kept_raise.id)]


def test_a_restated_condition_with_new_wording_is_raised_anew() -> None:
    case = Conditional()
    restated = case.log.stated(
        "russia",
        "conditional",
        at="2025-03-14T12:00Z",
        conditions=[condition("control-and-verification", "Verified by a third party.")],
    )

    [reworded] = case.position()["conditions"]

    assert reworded["text"] == "Verified by a third party."
    assert reworded["raised_at"] == "2025-03-14T12:00:00Z"
    assert reworded["event"] == str(restated.id)


def test_a_statement_with_an_empty_condition_set_clears_the_conditions() -> None:
    case = Conditional()
    case.log.stated("russia", "accepted", at="2025-03-14T12:00Z", conditions=[])

    assert case.position()["conditions"] == []


# Order in valid time --------------------------------------------------------------------------


@pytest.mark.parametrize("putin_first", [True, False])
def test_events_at_the_same_instant_apply_in_log_order(putin_first: bool) -> None:
    log = Log()
    # The same instant written in two ways: 15:00 UTC.
    statements = [
        ("vladimir-putin", "conditional", "2025-03-13T18:00+03:00"),
        ("yuri-ushakov", "rejected", "2025-03-13T15:00:00Z"),
    ]
    for speaker, stance, when in statements if putin_first else reversed(statements):
        log.stated("russia", stance, at=when, speaker=speaker)
    last = "yuri-ushakov" if putin_first else "vladimir-putin"

    position = fold(log.effective(), RUSSIA, at("2025-03-13T15:00Z")).to_json()
    segments = history(log.effective(), RUSSIA)

    assert position["speaker"] == last
    # One change at that instant, not one per event.
    assert len(segments) == 1
    assert segments[0].state == position


def test_an_event_corrected_to_a_later_valid_time_moves_in_history() -> None:
    log = Log()
    ushakov = log.stated(
        "russia", "rejected", at="2025-03-13", tz="Europe/Moscow", speaker="yuri-ushakov"
    )
    log.stated("russia", "conditional", at="2025-03-13T20:00+03:00", speaker="vladimir-putin")
    log.corrected(ushakov, occurred_at="2025-03-14T09:00+03:00")

    segments = history(log.effective(), RUSSIA)

    assert [(s.valid_from, s.state["speaker"]) for s in segments] == [
        (to_micros(at("2025-03-13T20:00+03:00")), "vladimir-putin"),
        (to_micros(at("2025-03-14T09:00+03:00")), "yuri-ushakov"),
    ]
    assert segments[1].state["since"] == "2025-03-14T06:00:00Z"
    assert fold(log.effective(), RUSSIA, at("2025-03-13T12:00+03:00")).to_json() == unstated(RUSSIA)


def test_a_correction_that_changes_the_actor_moves_the_statement_to_the_other_pair() -> None:
    log = Log()
    stated = log.stated("russia", "accepted", at="2025-03-11", tz="Asia/Riyadh")
    log.corrected(stated, payload=position_stated("ukraine", "accepted"))
    effective = log.effective()
    as_of = at("2025-03-12T00:00Z")

    assert pair_of(effective[0]) == UKRAINE
    assert fold(effective, RUSSIA, as_of).to_json() == unstated(RUSSIA)
    assert history(effective, RUSSIA) == []
    assert fold(effective, UKRAINE, as_of).to_json()["based_on"] == [str(stated.id)]
    assert [s.state["stance"] for s in history(effective, UKRAINE)] == ["accepted"]


def test_dropping_a_condition_that_was_never_raised_changes_nothing_in_the_history() -> None:
    log = Log()
    log.dropped("russia", "no-mobilisation", at="2025-03-12")
    log.stated("russia", "rejected", at="2025-03-13")

    segments = history(log.effective(), RUSSIA)

    assert [s.valid_from for s in segments] == [to_micros(at("2025-03-13T00:00Z"))]
    assert segment_at(segments, at("2025-03-12T12:00Z")) is None


def test_a_condition_raised_and_dropped_before_any_stance_leaves_the_unstated_state() -> None:
    # The history stays contiguous: after the drop, a segment in the unstated state.
    log = Log()
    log.raised("russia", "no-mobilisation", at="2025-03-12")
    log.dropped("russia", "no-mobilisation", at="2025-03-13")

    segments = history(log.effective(), RUSSIA)

    assert [s.state["conditions"] != [] for s in segments] == [True, False]
    assert segments[1].state == unstated(RUSSIA)
    assert segments[0].valid_to == segments[1].valid_from


# Properties -----------------------------------------------------------------------------------

INSTANTS = sorted({parse_valid_time(*valid_time).earliest for valid_time in VALID_TIMES})
AS_OF = st.one_of(
    st.sampled_from(INSTANTS).flatmap(lambda t: st.sampled_from([t - ONE_MICRO, t, t + ONE_MICRO])),
    st.datetimes(
        min_value=datetime(2025, 2, 25), max_value=datetime(2025, 3, 20), timezones=st.just(UTC)
    ),
)


def segment_index(segments: list[Segment], segment: Segment) -> int:
    return next(i for i, s in enumerate(segments) if s is segment)


@given(events=random_logs(), moments=st.lists(AS_OF, min_size=1, max_size=8))
def test_the_history_answers_every_as_of_as_the_fold_does(
    events: list[LoggedEvent], moments: list[datetime]
) -> None:
    effective = effective_events(events)
    for pair in PAIRS:
        segments = history(effective, pair)
        for as_of in moments:
            state = fold(effective, pair, as_of).to_json()
            segment = segment_at(segments, as_of)
            if segment is None:
                # Nothing known yet: before the first change, the position is unstated.
                assert state == unstated(pair)
                assert not segments or to_micros(as_of) < segments[0].valid_from
                continue
            assert segment.state == state
            if state == unstated(pair):
                # Back to nothing known, after conditions alone were raised, then dropped.
                index = segment_index(segments, segment)
                assert index > 0
                assert all(s.state["stance"] == "unstated" for s in segments[: index + 1])


@given(events=random_logs())
def test_history_segments_are_ordered_contiguous_and_each_a_change(
    events: list[LoggedEvent],
) -> None:
    effective: list[EffectiveEvent] = effective_events(events)
    for pair in PAIRS:
        segments = history(effective, pair)
        starts = {to_micros(e.valid_time.earliest) for e in effective if pair_of(e) == pair}
        assert all(s.valid_from in starts for s in segments)
        for before, after in pairwise(segments):
            assert before.valid_from < after.valid_from
            assert before.valid_to == after.valid_from
            assert before.state != after.state
        if segments:
            assert segments[-1].valid_to is None
            assert segments[0].state != unstated(pair)
