"""Events told to readers of the feeds and pages: types and times in words, in the event's own
zone, and what editors said of an event."""

from __future__ import annotations

import pytest

from domain.exports.registry import registry_of
from domain.exports.story import event_record, occurred_words, story_of, type_words
from domain.valid_time import parse_valid_time
from tests.unit.fold_builders import Log, cite


@pytest.mark.parametrize(
    ("type_name", "words"),
    [
        ("PositionStated", "Position stated"),
        ("EventCorrected", "Event corrected"),
        ("MilitaryDevelopment", "Military development"),
        ("SourceRegistered", "Source registered"),
    ],
)
def test_a_type_reads_as_words(type_name: str, words: str) -> None:
    assert type_words(type_name) == words


@pytest.mark.parametrize(
    ("expression", "zone", "words"),
    [
        ("2025-03-13", "Europe/Moscow", "13 March 2025, Europe/Moscow time"),
        ("2025-03-13?", "UTC", "13 March 2025 (uncertain), UTC time"),
        ("2025-03-11/2025-03-13", "Asia/Riyadh", "11\u201313 March 2025, Asia/Riyadh time"),
        # A time written in UTC, told in the zone the event happened in.
        (
            "2025-03-13T18:00Z",
            "Europe/Moscow",
            "13 March 2025, 21:00 UTC+03:00, Europe/Moscow time",
        ),
        # Written with an offset and no zone of its own: at that offset, which names itself.
        ("2025-03-13T21:00+03:00", "UTC", "13 March 2025, 21:00 UTC+03:00"),
        (
            "2025-03-13T18+03:00/2025-03-13T23+03:00",
            "Europe/Moscow",
            "13 March 2025, 18:00\u201323:59 UTC+03:00, Europe/Moscow time",
        ),
    ],
)
def test_a_time_reads_in_the_event_s_own_zone_and_names_it(
    expression: str, zone: str, words: str
) -> None:
    assert occurred_words(parse_valid_time(expression, zone)) == words


def test_a_story_cites_registered_sources_with_their_publication() -> None:
    log = Log()
    log.append(
        "SourceRegistered",
        {
            "source": "notus",
            "outlet": "NOTUS",
            "headline": "Russia Muddies Position",
            "published_on": "2025-03-13",
            "url": "https://example.org/notus",
        },
    )
    stated = log.stated(
        "russia", "rejected", sources=(cite("notus", "a respite"), cite("elsewhere"))
    )
    story = story_of(stated, registry_of(log.effective(), None), {})
    known, unknown = story.sources
    assert (known.outlet, known.url, known.quote) == (
        "NOTUS",
        "https://example.org/notus",
        "a respite",
    )
    assert (unknown.source, unknown.outlet) == ("elsewhere", None)


def test_a_retracted_dispute_is_withdrawn_and_no_longer_disputes() -> None:
    log = Log()
    stated = log.stated("russia", "rejected")
    dispute = log.append("EventDisputed", {"target": str(stated.id), "reason": "one source"})
    undo = log.append("EventRetracted", {"target": str(dispute.id), "reason": "two sources"})
    record = event_record(stated, [dispute, undo], registry_of(log.effective(), None), {})
    assert not record.disputed and not record.retracted
    assert [(n.kind, n.withdrawn) for n in record.notes] == [
        ("Dispute", True),
        ("Retraction", False),
    ]
