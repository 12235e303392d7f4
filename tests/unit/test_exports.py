"""The export builders: dates as TimelineJS and people read them, HTML that stays inert, CSV
that survives spreadsheets, PLOVER records."""

from __future__ import annotations

import csv
import io
import math
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from domain.editorial import EffectiveEvent
from domain.errors import InvalidValidTime
from domain.event_types import EVENT_TYPES, Codes
from domain.exports.dates import display_date, span_of
from domain.exports.describe import group_of
from domain.exports.plover import plover_record
from domain.exports.registry import ActorInfo, ExportEvent, Registry, registry_of, select
from domain.exports.spreadsheet import (
    EVENT_COLUMNS,
    TEMPLATE_COLUMNS,
    event_row,
    spreadsheet_safe,
    template_rows,
    to_csv,
    unguarded,
)
from domain.exports.timelinejs import slide, timelinejs
from domain.valid_time import Precision, parse_valid_time
from tests.support.default_readers import pandas_default_column, spreadsheet_reads_as_number
from tests.unit.fold_builders import PROPOSAL, Log, cite

ZONES = ["UTC", "Europe/Moscow", "America/New_York", "Asia/Kathmandu", "Australia/Lord_Howe"]
ALLOWED_TAGS = {"p", "ul", "li", "blockquote", "cite", "a", "strong", "em"}
# Free text as payloads allow it: anything printable, markup included.
FREE_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff"),
    min_size=1,
    max_size=60,
)


def export(event: EffectiveEvent, codes: Codes | None = None) -> ExportEvent:
    """An event as the HTTP layer hands it over: its type's codes unless told otherwise."""
    found = codes or EVENT_TYPES[event.type].default_codes(event.payload)
    return ExportEvent(event=event, stream="test", codes=found)


def seeded_log() -> Log:
    """Parties, people, a source and the proposal, registered as the seed registers them."""
    log = Log()
    for slug, name, wikidata in (
        ("russia", "Russia", "Q159"),
        ("ukraine", "Ukraine", "Q212"),
        ("united-states", "United States", "Q30"),
    ):
        actor = {"actor": slug, "name": name, "kind": "state", "wikidata": wikidata}
        log.append("ActorRegistered", actor, at="1991-12-25")
    people = (
        ("vladimir-putin", "Vladimir Putin", "russia", "Q7747"),
        ("yuri-ushakov", "Yuri Ushakov", "russia", None),
    )
    for slug, name, party, wikidata in people:
        person = {"actor": slug, "name": name, "kind": "person", "affiliation": party}
        if wikidata:
            person["wikidata"] = wikidata
        log.append("ActorRegistered", person, at="2012-05-07")
    source = {
        "source": "notus-2025-03-13",
        "outlet": "NOTUS",
        "headline": "Russia Muddies Position",
        "published_on": "2025-03-13",
        "url": "https://www.notus.org/russia",
    }
    log.append("SourceRegistered", source, at="2025-03-13")
    tabled = {
        "proposal": PROPOSAL,
        "title": "U.S. proposal for a 30-day ceasefire",
        "proposer": "united-states",
        "terms": ["Combat halted for 30 days"],
    }
    log.append("ProposalTabled", tabled, at="2025-03-11T09+03:00/2025-03-11T23+03:00")
    return log


def effective_of(log: Log, position: int) -> EffectiveEvent:
    return next(e for e in log.effective() if e.position == position)


# Dates


@st.composite
def datetimes_as_written(draw: st.DrawFn) -> tuple[str, Precision, dict[str, int]]:
    """An RFC 3339 datetime at some precision and offset, and the fields it was written with."""
    moment = draw(st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(2100, 12, 30)))
    precision = draw(st.sampled_from([Precision.HOUR, Precision.MINUTE, Precision.SECOND]))
    minutes = draw(st.integers(min_value=-14 * 4, max_value=14 * 4)) * 15
    sign = "-" if minutes < 0 else "+"
    offset = f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    clock = {
        Precision.HOUR: f"{moment.hour:02d}",
        Precision.MINUTE: f"{moment.hour:02d}:{moment.minute:02d}",
        Precision.SECOND: f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}",
    }[precision]
    fields = ("year", "month", "day", "hour", "minute", "second")
    count = {Precision.HOUR: 4, Precision.MINUTE: 5, Precision.SECOND: 6}[precision]
    written = {f: getattr(moment, f) for f in fields[:count]}
    return f"{moment.date().isoformat()}T{clock}{offset}", precision, written


@given(datetimes_as_written())
def test_date_parts_of_a_datetime_are_the_fields_it_was_written_with(
    case: tuple[str, Precision, dict[str, int]],
) -> None:
    expression, precision, written = case
    span = span_of(parse_valid_time(expression))
    assert span.start_parts == written
    assert span.start_precision is precision
    assert not span.has_end


@given(
    st.dates(min_value=datetime(1900, 1, 1).date(), max_value=datetime(2100, 12, 31).date()),
    st.sampled_from([Precision.YEAR, Precision.MONTH, Precision.DAY]),
    st.sampled_from(ZONES),
)
def test_date_parts_of_a_date_are_the_fields_it_was_written_with(
    day: Any, precision: Precision, zone: str
) -> None:
    text = {
        Precision.YEAR: f"{day.year:04d}",
        Precision.MONTH: f"{day.year:04d}-{day.month:02d}",
        Precision.DAY: day.isoformat(),
    }[precision]
    try:
        valid_time = parse_valid_time(text, zone)
    except InvalidValidTime:
        assume(False)  # a day the zone skipped
        raise
    span = span_of(valid_time)
    written = {"year": day.year, "month": day.month, "day": day.day}
    count = {Precision.YEAR: 1, Precision.MONTH: 2, Precision.DAY: 3}[precision]
    assert span.start_parts == dict(list(written.items())[:count])
    assert not span.has_end
    # And back again: the parts, read in the event's zone, are where the valid time starts.
    parts = {"month": 1, "day": 1, **span.start_parts}
    first_day = datetime(parts["year"], parts["month"], parts["day"], tzinfo=ZoneInfo(zone))
    assert first_day.date() == valid_time.earliest.astimezone(ZoneInfo(zone)).date()


@given(
    st.dates(min_value=datetime(1900, 1, 1).date(), max_value=datetime(2100, 12, 1).date()),
    st.integers(min_value=1, max_value=400),
)
def test_a_day_range_ends_on_its_last_day(first: Any, length: int) -> None:
    last = first + timedelta(days=length)
    span = span_of(parse_valid_time(f"{first.isoformat()}/{last.isoformat()}", "Europe/Moscow"))
    assert span.has_end and span.uncertain
    assert span.end_parts == {"year": last.year, "month": last.month, "day": last.day}
    words = display_date(span)
    assert str(first.day) in words and str(last.day) in words and str(last.year) in words


@pytest.mark.parametrize(
    ("occurred_at", "zone", "words"),
    [
        ("2025-03-11/2025-03-13", "Europe/Moscow", "11\u201313 March 2025"),
        ("2025-02-28/2025-03-03", "UTC", "28 February \u2013 3 March 2025"),
        ("2024-12-30/2025-01-02", "UTC", "30 December 2024 \u2013 2 January 2025"),
        ("2025-03/2025-05", "UTC", "March\u2013May 2025"),
        ("2025-21", "UTC", "March\u2013May 2025"),
        ("202X", "UTC", "2020\u20132029"),
        ("2025-03~", "UTC", "March 2025 (approximate)"),
        ("2025-03-13?", "Europe/Kyiv", "13 March 2025 (uncertain)"),
        ("2025-03-13%", "UTC", "13 March 2025 (uncertain, approximate)"),
        ("2025-03/2025-03-15", "UTC", "March 2025 \u2013 15 March 2025"),
        ("2025-03-13T18+03:00", "UTC", "13 March 2025, 18:00\u201318:59 UTC+03:00"),
        ("2025-03-13T18:05+03:00", "UTC", "13 March 2025, 18:05 UTC+03:00"),
        (
            "2025-03-13T11-04:00/2025-03-13T23-04:00",
            "UTC",
            "13 March 2025, 11:00\u201323:59 UTC-04:00",
        ),
        ("2025-03-13T05:45+05:45", "UTC", "13 March 2025, 05:45 UTC+05:45"),
        (
            "2025-03-13T22:00Z/2025-03-14T02:00+03:00",
            "UTC",
            "13 March 2025, 22:00 UTC \u2013 14 March 2025, 02:00 UTC+03:00",
        ),
    ],
)
def test_display_dates_read_as_people_write_them(occurred_at: str, zone: str, words: str) -> None:
    span = span_of(parse_valid_time(occurred_at, zone))
    assert span.uncertain
    assert display_date(span) == words


def test_an_exact_instant_needs_no_display_date() -> None:
    moment = slide(
        export(_statement_at("2025-03-13T18:05:07Z")), Registry(actors={}, sources={}, proposals={})
    )
    assert moment["start_date"] == {
        "year": 2025,
        "month": 3,
        "day": 13,
        "hour": 18,
        "minute": 5,
        "second": 7,
    }
    assert "display_date" not in moment and "end_date" not in moment


def _statement_at(occurred_at: str, tz: str | None = None, **payload: Any) -> EffectiveEvent:
    log = Log()
    fields = {"speaker": "vladimir-putin", "summary": "Putin speaks.", **payload}
    log.append("StatementMade", fields, at=occurred_at, tz=tz)
    return log.effective()[0]


# Registries and selection


def test_a_party_is_a_state_or_organisation_or_where_affiliations_lead() -> None:
    actors = {
        a.id: a
        for a in (
            ActorInfo(id="russia", name="Russia", kind="state"),
            ActorInfo(id="nato", name="NATO", kind="organization"),
            ActorInfo(id="mod", name="Defence Ministry", kind="organization", affiliation="russia"),
            ActorInfo(id="putin", name="Putin", kind="person", affiliation="russia"),
            ActorInfo(id="loner", name="Loner", kind="person"),
            ActorInfo(id="a", name="A", kind="person", affiliation="b"),
            ActorInfo(id="b", name="B", kind="person", affiliation="a"),
        )
    }
    registry = Registry(actors=actors, sources={}, proposals={})
    parties = {slug: registry.party(slug) for slug in actors}
    assert {s: p.id if p else None for s, p in parties.items()} == {
        "russia": "russia",
        "nato": "nato",
        "mod": "russia",
        "putin": "russia",
        "loner": None,
        "a": None,
        "b": None,
    }
    assert registry.party("unregistered") is None
    assert registry.name("unregistered") == "unregistered"


def test_the_group_is_the_party_of_the_first_actor_that_has_one() -> None:
    log = seeded_log()
    meeting = {"participants": ["yuri-nobody", "vladimir-putin", "ukraine"], "format": "call"}
    log.append("MeetingHeld", meeting)
    registry = registry_of(log.effective(), None)
    assert group_of(log.effective()[-1], registry) == "Russia"


def test_registries_follow_as_of() -> None:
    log = seeded_log()
    registry = registry_of(log.effective(), datetime(2000, 1, 1, tzinfo=UTC))
    assert "russia" in registry.actors and "vladimir-putin" not in registry.actors
    assert registry.proposals == {}
    assert set(registry.sources) == {"notus-2025-03-13"}


def test_the_selection_is_the_timelines() -> None:
    log = seeded_log()
    on_topic = log.stated("russia", "rejected", speaker="yuri-ushakov", tz="Europe/Moscow")
    off_topic = log.stated("russia", "accepted", proposal="another-proposal", at="2025-03-12")
    later = log.stated("ukraine", "accepted", at="2025-03-20")
    log.retracted(later)
    everything = log.effective()
    chosen = select(everything, proposal=PROPOSAL, as_of=None)
    assert [e.type for e in chosen] == ["ProposalTabled", "PositionStated"]
    assert chosen[-1].id == on_topic.id
    by_then = select(everything, proposal=None, as_of=datetime(2025, 3, 12, 12, tzinfo=UTC))
    assert off_topic.id in [e.id for e in by_then]
    assert on_topic.id not in [e.id for e in by_then]


# TimelineJS


def test_a_slide_cites_its_sources_and_flags_doubt_and_corrections() -> None:
    log = seeded_log()
    quote = "The idea itself is correct"
    stated = log.stated(
        "russia",
        "conditional",
        speaker="vladimir-putin",
        quote=quote,
        conditions=[{"id": "no-arms", "text": "No arms deliveries."}],
        sources=(cite("notus-2025-03-13", "Putin said “we support it”"),),
        at="2025-03-13T18+03:00/2025-03-13T23+03:00",
    )
    log.disputed(stated, reason="Only one outlet says so.")
    log.corrected(stated, occurred_at="2025-03-13T19+03:00/2025-03-13T23+03:00")
    effective = log.effective()
    registry = registry_of(effective, None)
    out = slide(export(effective_of(log, stated.position)), registry)
    assert out["unique_id"] == str(stated.id)
    assert out["start_date"]["hour"] == 19
    assert out["group"] == "Russia"
    assert out["text"]["headline"].startswith("Disputed: Russia")
    text = out["text"]["text"]
    assert "Only one outlet says so." in text and "Corrected" in text
    assert "No arms deliveries." in text and f"“{quote}”" in text
    assert '<a href="https://www.notus.org/russia"' in text
    assert "Putin said “we support it”" in text


def test_the_document_has_the_proposal_as_its_title() -> None:
    log = seeded_log()
    effective = log.effective()
    registry = registry_of(effective, None)
    events = [export(e) for e in select(effective, proposal=PROPOSAL, as_of=None)]
    document = timelinejs(events, registry, PROPOSAL)
    assert document["title"]["text"]["headline"] == "U.S. proposal for a 30-day ceasefire"
    assert "<li>Combat halted for 30 days</li>" in document["title"]["text"]["text"]
    assert "United States" in document["title"]["text"]["text"]
    assert len(document["events"]) == 1


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.attributes: set[str] = set()
        self.data: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attributes.update(name for name, _ in attrs)

    def handle_data(self, data: str) -> None:
        self.data.append(data)


@given(FREE_TEXT, FREE_TEXT, FREE_TEXT, FREE_TEXT)
def test_html_text_is_inert_whatever_the_payload_says(
    summary: str, quote: str, cited: str, reason: str
) -> None:
    hostile = f"{summary}<script>alert(1)</script><img src=x onerror=alert(1)>"
    log = seeded_log()
    source = {
        "source": "evil",
        "outlet": f"<b>{cited}</b>",
        "headline": f'"><script>{cited}',
        "published_on": "2025-03-13",
        "url": 'https://example.org/"onmouseover="alert(1)',
    }
    log.append("SourceRegistered", source)
    statement = log.append(
        "StatementMade",
        {"speaker": "vladimir-putin", "summary": hostile, "quote": quote},
        sources=(cite("evil", f"</li><script>{quote}"),),
    )
    log.disputed(statement, reason=f"<script>{reason}")
    out = slide(export(effective_of(log, statement.position)), registry_of(log.effective(), None))
    for html in (out["text"]["text"], out["text"]["headline"]):
        assert "<script" not in html.lower()
        parsed = _Tags()
        parsed.feed(html)
        parsed.close()
        assert parsed.tags <= ALLOWED_TAGS
        assert parsed.attributes <= {"href", "rel"}
    parsed = _Tags()
    parsed.feed(out["text"]["text"])
    parsed.close()
    assert hostile in "".join(parsed.data)


# Spreadsheets


@given(st.lists(st.lists(st.text(max_size=30), min_size=3, max_size=3), max_size=5))
def test_csv_gives_back_every_cell_whatever_it_holds(cells: list[list[str]]) -> None:
    columns = ("a", "b", "c")
    rows = [dict(zip(columns, row, strict=True)) for row in cells]
    read = list(csv.reader(io.StringIO(to_csv(columns, rows), newline="")))
    assert read[0] == list(columns)
    assert [[unguarded(cell) for cell in row] for row in read[1:]] == cells
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in read[1:] for cell in row)


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1", "'+1"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("'quoted", "''quoted"),
        ("Russia", "Russia"),
        ("2025", "2025"),
        ("", ""),
    ],
)
def test_cells_a_spreadsheet_would_run_are_guarded(cell: str, written: str) -> None:
    assert spreadsheet_safe(cell) == written
    assert unguarded(written) == cell


def test_an_event_row_has_every_column() -> None:
    log = seeded_log()
    stated = log.stated(
        "russia",
        "rejected",
        speaker="yuri-ushakov",
        tz="Europe/Moscow",
        sources=(cite("notus-2025-03-13", "a temporary respite"), cite("unregistered")),
    )
    registry = registry_of(log.effective(), None)
    row = event_row(export(effective_of(log, stated.position)), registry)
    assert tuple(row) == EVENT_COLUMNS
    assert row["valid_from"] == "2025-03-12T21:00:00Z"
    assert row["actors"] == "russia; yuri-ushakov"
    assert row["group"] == "Russia"
    assert (row["cameo"], row["plover"], row["disputed"]) == ("CAMEO 127", "REJECT", "false")
    assert row["sources"] == (
        "NOTUS — Russia Muddies Position (2025-03-13): “a temporary respite” | unregistered"
    )
    assert row["source_ids"] == "notus-2025-03-13; unregistered"


def test_cameo_codes_survive_pandas_and_spreadsheets_at_their_defaults() -> None:
    log = seeded_log()
    coded = [
        log.append(
            "MeetingHeld",
            {"participants": ["united-states", "russia"], "format": "in_person"},
            at=f"2025-02-{day}",
        )
        for day in (18, 19, 20)
    ]
    registry = registry_of(log.effective(), None)
    codes = [Codes(cameo="044"), Codes(cameo="0211"), Codes(plover="CONSULT")]
    rows = [
        event_row(export(effective_of(log, event.position), code), registry)
        for event, code in zip(coded, codes, strict=True)
    ]
    written = to_csv(EVENT_COLUMNS, rows)
    cells = [row["cameo"] for row in csv.DictReader(io.StringIO(written))]
    assert cells == ["CAMEO 044", "CAMEO 0211", ""]
    read = pandas_default_column(cells)
    assert read[:2] == ["CAMEO 044", "CAMEO 0211"] and math.isnan(read[2])  # type: ignore[arg-type]
    assert not any(spreadsheet_reads_as_number(cell) for cell in cells)


def test_the_pandas_model_loses_the_zeros_of_bare_codes_as_pandas_does() -> None:
    # What the export wrote before: the model is not one that keeps everything as text.
    assert pandas_default_column(["044", "0211"]) == [44, 211]
    assert pandas_default_column(["044", ""])[0] == 44.0
    assert pandas_default_column(['"044"', "x"]) == ['"044"', "x"]
    assert spreadsheet_reads_as_number("044") and spreadsheet_reads_as_number("1,234.5%")


def test_template_rows_start_with_a_title_only_for_a_proposal() -> None:
    log = seeded_log()
    log.stated("russia", "rejected", at="2025-03-11/2025-03-13", tz="Europe/Moscow")
    effective = log.effective()
    registry = registry_of(effective, None)
    events = [export(e) for e in select(effective, proposal=PROPOSAL, as_of=None)]
    titled = template_rows(events, registry, PROPOSAL)
    assert all(tuple(r) == TEMPLATE_COLUMNS for r in titled)
    assert titled[0]["Type"] == "title" and titled[0]["Year"] == ""
    # The range starts at midnight in Moscow, before the proposal was tabled in Jeddah.
    ranged, timed = titled[1], titled[2]
    assert (timed["Year"], timed["Time"], timed["End Time"]) == (
        "2025",
        "09:00",
        "23:59",
    )
    assert (ranged["Day"], ranged["End Day"], ranged["Time"]) == ("11", "13", "")
    assert ranged["Display Date"] == "11\u201313 March 2025"
    assert len(template_rows(events, registry, None)) == len(events)


# PLOVER


def test_a_plover_record_names_actors_by_wikidata_id() -> None:
    log = seeded_log()
    stated = log.stated(
        "russia",
        "conditional",
        speaker="vladimir-putin",
        quote="we support it",
        at="2025-03-13T18+03:00/2025-03-13T23+03:00",
    )
    registry = registry_of(log.effective(), None)
    record = plover_record(export(effective_of(log, stated.position)), registry)
    assert record is not None
    assert record["id"] == str(stated.id)
    assert (record["date"], record["time"]) == ("2025-03-13", "18:00:00+03:00")
    assert (record["enddate"], record["endtime"]) == ("2025-03-13", "23:59:59+03:00")
    assert (record["event"], record["mode"], record["cameo"]) == (["AGREE"], "conditional", "030")
    assert record["source"] == [
        {"id": "russia", "actor_text": "Russia", "identifier_id": "Q159", "party": "russia"}
    ]
    assert record["recipient"][0]["identifier_id"] == "Q30"
    assert record["speaker"]["identifier_id"] == "Q7747"
    assert record["event_text"] == ["we support it"] and record["link"] == PROPOSAL
    assert record["cite_info"][0]["publication"] == "NOTUS"


def test_meetings_are_reciprocal_and_located() -> None:
    log = seeded_log()
    meeting = log.append(
        "MeetingHeld",
        {
            "participants": ["united-states", "yuri-ushakov"],
            "format": "in_person",
            "place": "Riyadh",
        },
        at="2025-02-18",
        tz="Asia/Riyadh",
    )
    record = plover_record(
        export(effective_of(log, meeting.position)), registry_of(log.effective(), None)
    )
    assert record is not None
    assert [a["id"] for a in record["source"]] == ["united-states", "yuri-ushakov"]
    assert record["source"][1]["identifier_id"] is None
    assert record["recipient"] == []
    assert record["event_loc"] == {"name": "Riyadh"}
    assert record["date"] == "2025-02-18" and "time" not in record


def test_events_without_a_plover_category_have_no_record() -> None:
    statement = _statement_at("2025-03-13")
    registry = Registry(actors={}, sources={}, proposals={})
    assert plover_record(export(statement), registry) is None
    coded = export(statement, Codes(cameo="010", plover="CONSULT"))
    assert plover_record(coded, registry) is not None


def test_a_zulu_datetime_is_read_in_utc_to_the_second() -> None:
    span = span_of(parse_valid_time("2025-03-13T18:05:07.5Z"))
    assert span.start.utcoffset() == timedelta(0)
    assert span.start_parts["second"] == 7
    assert display_date(span) == "13 March 2025, 18:05:07 UTC"
