"""What a draft would change in a position, folded in the pure domain: the desk's preview."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from domain.changes import change_of
from domain.editorial import LoggedEvent, effective_events
from domain.positions import Pair, evolve, fold, pair_of, restore
from tests.unit.fold_builders import PAIRS, PROPOSAL, Log, cite, condition, random_logs

RUSSIA: Pair = ("russia", PROPOSAL)
PUTIN_AT = "2025-03-13T18+03:00/2025-03-13T23+03:00"


def _without_sources(state: dict[str, object]) -> dict[str, object]:
    return {k: v for k, v in state.items() if k != "sources"}


@given(random_logs(), st.sampled_from(PAIRS))
def test_a_stored_state_restores_to_the_position_it_describes(
    log: list[LoggedEvent], pair: Pair
) -> None:
    events = effective_events(log)
    for event in events:
        state = fold(events, pair, event.valid_time.earliest).to_json()
        assert _without_sources(restore(state).to_json()) == _without_sources(state)


@given(random_logs(), st.sampled_from(PAIRS))
def test_folding_into_a_restored_state_is_folding_into_the_position(
    log: list[LoggedEvent], pair: Pair
) -> None:
    events = effective_events(log)
    for event in events:
        if pair_of(event) != pair:
            continue
        position = fold([e for e in events if e.id != event.id], pair, event.valid_time.earliest)
        direct = evolve(position, event).to_json()
        restored = evolve(restore(position.to_json()), event).to_json()
        assert _without_sources(restored) == _without_sources(direct)


def _story() -> tuple[Log, LoggedEvent]:
    log = Log()
    log.stated(
        "russia",
        "rejected",
        at="2025-03-13",
        tz="Europe/Moscow",
        speaker="yuri-ushakov",
        sources=(cite(),),
    )
    putin = log.stated(
        "russia",
        "conditional",
        at=PUTIN_AT,
        tz="Europe/Moscow",
        speaker="vladimir-putin",
        conditions=[condition("no-mobilisation"), condition("control-and-verification")],
        sources=(cite("rt-2025-03-13"),),
    )
    return log, putin


def test_putins_support_moves_russia_from_rejected_to_conditional_with_his_conditions() -> None:
    log, putin = _story()
    earlier = [e for e in log.effective() if e.id != putin.id]
    before = restore(fold(earlier, RUSSIA, putin.valid_time.earliest).to_json())
    draft = next(e for e in log.effective() if e.id == putin.id)
    change = change_of(before, draft)
    assert (change.stance_before, change.stance_after) == ("rejected", "conditional")
    assert change.stance_changed and change.changes_anything
    assert change.speaker == "vladimir-putin"
    assert change.effective_from == putin.valid_time.earliest
    assert [i for i, _ in change.conditions_added] == [
        "no-mobilisation",
        "control-and-verification",
    ]
    assert change.conditions_dropped == ()
    assert (change.contested_before, change.contested_after) == (False, True)


def test_a_statement_that_repeats_the_stance_changes_nothing() -> None:
    log, _ = _story()
    again = log.stated(
        "russia",
        "conditional",
        at="2025-03-14",
        tz="Europe/Moscow",
        speaker="vladimir-putin",
        conditions=[condition("no-mobilisation"), condition("control-and-verification")],
        sources=(cite(),),
    )
    earlier = [e for e in log.effective() if e.id != again.id]
    before = restore(fold(earlier, RUSSIA, again.valid_time.earliest).to_json())
    change = change_of(before, next(e for e in log.effective() if e.id == again.id))
    assert not change.changes_anything
    assert change.stance_before == change.stance_after == "conditional"
