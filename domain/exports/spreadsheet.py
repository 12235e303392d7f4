"""CSV that survives spreadsheets: the events as data (EVENT_COLUMNS) or as rows of
TimelineJS's spreadsheet template (TEMPLATE_COLUMNS), cells that would run as formulas
guarded, codes written so that no reader turns them into numbers."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from enum import StrEnum
from typing import Any

from domain.event_types import EVENT_TYPES
from domain.exports.dates import Span, clock, display_date, span_of
from domain.exports.describe import describe, group_of, headline_of, payload_text, source_words
from domain.exports.registry import ExportEvent, Registry
from domain.exports.timelinejs import slide, title_text
from domain.valid_time import format_instant


class CsvLayout(StrEnum):
    """The columns of a CSV export: the events as data, or TimelineJS's spreadsheet template."""

    EVENTS = "events"
    TIMELINEJS = "timelinejs"


EVENT_COLUMNS = (
    "id",
    "position",
    "stream",
    "type",
    "occurred_at",
    "timezone",
    "valid_from",
    "valid_to",
    "precision",
    "qualifiers",
    "display_date",
    "actors",
    "group",
    "proposal",
    "headline",
    "summary",
    "details",
    "quote",
    "cameo",
    "plover",
    "plover_mode",
    "disputed",
    "disputes",
    "corrected_by",
    "sources",
    "source_ids",
    "recorded_at",
)
# Exactly the columns of TimelineJS's Google Sheets template, in its order.
TEMPLATE_COLUMNS = (
    "Year",
    "Month",
    "Day",
    "Time",
    "End Year",
    "End Month",
    "End Day",
    "End Time",
    "Display Date",
    "Headline",
    "Text",
    "Media",
    "Media Credit",
    "Media Caption",
    "Media Thumbnail",
    "Type",
    "Group",
    "Background",
)
LIST_SEPARATOR = "; "
# Quotes may hold semicolons; a source entry is ended by a pipe, which they rarely do.
SOURCE_SEPARATOR = " | "
# A bare CAMEO code such as 044 is read as the number 44 by spreadsheets and by
# pandas.read_csv left at its defaults (44.0 in a column with blanks), and its leading zero is
# part of the code. Quoting the cell changes neither; a word before the digits does.
CAMEO_CELL_PREFIX = "CAMEO "
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_GUARD = "'"


def event_row(event: ExportEvent, registry: Registry) -> dict[str, str]:
    """One event as a row of EVENT_COLUMNS, lists joined into one cell each."""
    effective = event.event
    valid_time = effective.valid_time
    span = span_of(valid_time)
    description = describe(effective, registry)
    citations = effective.event.sources
    return {
        "id": str(effective.id),
        "position": str(effective.position),
        "stream": event.stream,
        "type": effective.type,
        "occurred_at": valid_time.expression,
        "timezone": valid_time.timezone,
        "valid_from": format_instant(valid_time.earliest),
        "valid_to": format_instant(valid_time.latest),
        "precision": str(valid_time.precision),
        "qualifiers": LIST_SEPARATOR.join(valid_time.qualifiers()),
        "display_date": display_date(span),
        "actors": LIST_SEPARATOR.join(EVENT_TYPES[effective.type].actors(effective.payload)),
        "group": group_of(effective, registry) or "",
        "proposal": payload_text(effective.payload, "proposal"),
        "headline": headline_of(effective, description),
        "summary": description.summary,
        "details": SOURCE_SEPARATOR.join(description.details),
        "quote": description.quote or "",
        "cameo": cameo_cell(event.codes.cameo),
        "plover": event.codes.plover or "",
        "plover_mode": event.codes.plover_mode or "",
        "disputed": "true" if effective.disputed else "false",
        "disputes": SOURCE_SEPARATOR.join(d.reason for d in effective.disputes),
        "corrected_by": LIST_SEPARATOR.join(str(c) for c in effective.corrected_by),
        "sources": SOURCE_SEPARATOR.join(
            source_words(c.source, c.quote, registry) for c in citations
        ),
        "source_ids": LIST_SEPARATOR.join(c.source for c in citations),
        "recorded_at": format_instant(effective.event.recorded_at),
    }


def cameo_cell(code: str | None) -> str:
    """A CAMEO code as text that no spreadsheet or CSV reader takes for a number: `CAMEO 044`."""
    return f"{CAMEO_CELL_PREFIX}{code}" if code else ""


def template_rows(
    events: Sequence[ExportEvent], registry: Registry, proposal: str | None
) -> list[dict[str, str]]:
    """Rows of TimelineJS's spreadsheet template: a title row when exporting one proposal."""
    rows = [_title_row(proposal, registry)] if proposal is not None else []
    return rows + [_template_row(slide(e, registry), span_of(e.event.valid_time)) for e in events]


def _title_row(proposal: str, registry: Registry) -> dict[str, str]:
    text = title_text(proposal, registry)
    return {**_blank_row(), "Headline": text["headline"], "Text": text["text"], "Type": "title"}


def _template_row(slide_: Mapping[str, Any], span: Span) -> dict[str, str]:
    start, end = slide_["start_date"], slide_.get("end_date", {})
    return {
        **_blank_row(),
        "Year": _part(start, "year"),
        "Month": _part(start, "month"),
        "Day": _part(start, "day"),
        "Time": clock(span.start, span.start_precision) if "hour" in start else "",
        "End Year": _part(end, "year"),
        "End Month": _part(end, "month"),
        "End Day": _part(end, "day"),
        "End Time": clock(span.end, span.end_precision) if "hour" in end else "",
        "Display Date": slide_.get("display_date", ""),
        "Headline": slide_["text"]["headline"],
        "Text": slide_["text"]["text"],
        "Group": slide_.get("group", ""),
    }


def _blank_row() -> dict[str, str]:
    return dict.fromkeys(TEMPLATE_COLUMNS, "")


def _part(parts: Mapping[str, int], field: str) -> str:
    return str(parts[field]) if field in parts else ""


def to_csv(columns: Sequence[str], rows: Iterable[Mapping[str, str]]) -> str:
    """RFC 4180 CSV with a header; cells a spreadsheet would run as formulas are guarded."""
    return csv_header(columns) + csv_rows(columns, rows)


def csv_header(columns: Sequence[str]) -> str:
    """The header line of RFC 4180 CSV."""
    out = io.StringIO()
    csv.writer(out).writerow(columns)
    return out.getvalue()


def csv_rows(columns: Sequence[str], rows: Iterable[Mapping[str, str]]) -> str:
    """Rows of RFC 4180 CSV without the header (a long export is written a page at a time)."""
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow(spreadsheet_safe(row.get(c, "")) for c in columns)
    return out.getvalue()


def spreadsheet_safe(cell: str) -> str:
    """The cell with a leading apostrophe when it would start a formula (OWASP's advice), or
    already starts with one (so that `unguarded` gives back exactly the original)."""
    if cell.startswith((*_FORMULA_START, _FORMULA_GUARD)):
        return _FORMULA_GUARD + cell
    return cell


def unguarded(cell: str) -> str:
    """The original value of a guarded cell."""
    return cell[1:] if cell.startswith(_FORMULA_GUARD) else cell
