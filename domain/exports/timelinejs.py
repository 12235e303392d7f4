"""TimelineJS JSON: the proposal as the title slide, one slide per event, HTML text in which
every value is escaped."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

from domain.editorial import EffectiveEvent
from domain.exports.dates import display_date, span_of
from domain.exports.describe import Description, describe, group_of, headline_of
from domain.exports.registry import ExportEvent, Registry


def timelinejs(events: Sequence[ExportEvent], registry: Registry, proposal: str) -> dict[str, Any]:
    """A TimelineJS document: the proposal as its title slide, one slide per event."""
    return {
        "title": {"text": title_text(proposal, registry)},
        "events": [slide(e, registry) for e in events],
    }


def title_text(proposal: str, registry: Registry) -> dict[str, str]:
    """The title slide's headline and HTML text: the terms and who proposed them."""
    found = registry.proposals.get(proposal)
    if found is None:
        return {
            "headline": escape(proposal),
            "text": "<p>Not tabled as of this export's valid and transaction times.</p>",
        }
    terms = "".join(f"<li>{escape(t)}</li>" for t in found.terms)
    return {
        "headline": escape(found.title),
        "text": f"<ul>{terms}</ul><p>Proposed by {escape(registry.name(found.proposer))}.</p>",
    }


def slide(event: ExportEvent, registry: Registry) -> dict[str, Any]:
    """One TimelineJS slide: dates to the event's precision, HTML text citing its sources."""
    effective = event.event
    span = span_of(effective.valid_time)
    description = describe(effective, registry)
    out: dict[str, Any] = {"unique_id": str(effective.id), "start_date": span.start_parts}
    if span.has_end:
        out["end_date"] = span.end_parts
    if span.uncertain:
        out["display_date"] = display_date(span)
    out["text"] = {
        "headline": escape(headline_of(effective, description)),
        "text": html_text(effective, description, registry),
    }
    group = group_of(effective, registry)
    if group is not None:
        out["group"] = escape(group)
    return out


def html_text(event: EffectiveEvent, description: Description, registry: Registry) -> str:
    """The slide's text as HTML, every value escaped: doubts first, then what happened, the
    quote, and the sources with their quotes."""
    parts = [f"<p><strong>Disputed:</strong> {escape(d.reason)}</p>" for d in event.disputes]
    if event.corrected_by:
        parts.append("<p><em>Corrected since first recorded; shown as corrected.</em></p>")
    if description.summary:
        parts.append(f"<p>{escape(description.summary)}</p>")
    if description.details:
        items = "".join(f"<li>{escape(d)}</li>" for d in description.details)
        parts.append(f"<ul>{items}</ul>")
    if description.quote:
        by = f" — {escape(description.speaker)}" if description.speaker else ""
        parts.append(f"<blockquote>“{escape(description.quote)}”{by}</blockquote>")
    cited = "".join(
        f"<li>{_source_html(c.source, c.quote, registry)}</li>" for c in event.event.sources
    )
    if cited:
        parts.append(f"<p>Sources:</p><ul>{cited}</ul>")
    return "".join(parts)


def _source_html(source: str, quote: str | None, registry: Registry) -> str:
    found = registry.sources.get(source)
    said = f": “{escape(quote)}”" if quote else ""
    if found is None:
        return f"{escape(source)}{said}"
    outlet = escape(found.outlet)
    if found.url and found.url.startswith(("https://", "http://")):
        outlet = f'<a href="{escape(found.url)}" rel="noopener noreferrer">{outlet}</a>'
    return f"{outlet}, <cite>{escape(found.headline)}</cite> ({escape(found.published_on)}){said}"
