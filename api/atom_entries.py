"""Atom entries written for people: the event's headline as the title; its summary, quote, time
and sources as HTML content; links to its page and its JSON; retractions as tombstones
(RFC 6721)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from feedgen.feed import FeedGenerator
from lxml import etree
from markupsafe import Markup

from domain.exports.story import CitedSource, Story
from domain.valid_time import format_instant

ATOM = "http://www.w3.org/2005/Atom"
TOMBSTONES = "http://purl.org/atompub/tombstones/1.0"
JSON = "application/json"
HTML = "text/html"


def add_entry(feed: FeedGenerator, base: str, story: Story, recorded_at: datetime) -> None:
    """One entry: the story's headline, summary and HTML content, its type and actors as
    categories. Its links are added by `link_entries`."""
    description = story.description
    entry = feed.add_entry()
    entry.id(f"urn:uuid:{story.id}")
    entry.title(xml_safe(description.headline))
    entry.updated(format_instant(recorded_at))
    entry.published(format_instant(recorded_at))
    if description.summary:
        entry.summary(xml_safe(description.summary))
    entry.content(xml_safe(entry_html(story, base)), type="html")
    entry.category(term=story.type, label=story.kind, scheme=f"{base}/v1/event-types")
    for actor, name in story.actors:
        entry.category(term=actor, label=xml_safe(name), scheme=f"{base}/v1/actors")


def entry_html(story: Story, base: str) -> str:
    """What the event says, when it happened and what it rests on, as escaped HTML."""
    said = story.description
    parts: list[Markup] = []
    if said.summary:
        parts.append(Markup("<p>{}</p>").format(said.summary))
    if said.details:
        parts.append(Markup("<ul>{}</ul>").format(_items(said.details)))
    if said.quote:
        by = Markup("<p>— {}</p>").format(said.speaker) if said.speaker else ""
        parts.append(Markup("<blockquote><p>“{}”</p>{}</blockquote>").format(said.quote, by))
    parts.append(Markup("<p>When: {}</p>").format(story.occurred))
    if story.target is not None:
        target = f"{base}/events/{story.target}"
        parts.append(Markup('<p>About <a href="{}">this event</a>.</p>').format(target))
    if story.sources:
        cited = Markup("").join(source_html(s) for s in story.sources)
        parts.append(Markup("<p>Sources:</p><ul>{}</ul>").format(cited))
    return str(Markup("\n").join(parts))


def source_html(source: CitedSource) -> Markup:
    """One citation as a list item: outlet, headline (linked when its URL is known), date,
    quote."""
    if source.outlet is None:
        named = Markup("{}").format(source.source)
    else:
        headline: Markup | str = source.headline or ""
        if source.url and source.url.startswith(("https://", "http://")):
            headline = Markup('<a href="{}">{}</a>').format(source.url, source.headline)
        named = Markup("{} — {} ({})").format(source.outlet, headline, source.published_on)
    quoted = Markup(": “{}”").format(source.quote) if source.quote else ""
    return Markup("<li>{}{}</li>").format(named, quoted)


def link_entries(xml: Any, base: str) -> None:
    """Each entry's links: its page (the reader's link) and its JSON. Added to the written XML
    because feedgen 1.0 drops the rel and type of entry links (its writer reads them from the
    element it just made)."""
    for entry in xml.iterfind(f"{{{ATOM}}}entry"):
        event_id = str(entry.findtext(f"{{{ATOM}}}id")).removeprefix("urn:uuid:")
        after = entry.find(f"{{{ATOM}}}id")
        for media_type, href in (
            (HTML, f"{base}/events/{event_id}"),
            (JSON, f"{base}/v1/events/{event_id}"),
        ):
            link = etree.Element(f"{{{ATOM}}}link", rel="alternate", type=media_type, href=href)
            after.addnext(link)
            after = link


def tombstone(target: str, when: datetime, reason: str, base: str) -> Any:
    """An RFC 6721 deleted-entry for a retracted event, the reason as its comment and its page
    (which shows the retraction) as its link."""
    deleted = etree.Element(
        f"{{{TOMBSTONES}}}deleted-entry",
        nsmap={"at": TOMBSTONES},
        ref=f"urn:uuid:{target}",
        when=format_instant(when),
    )
    etree.SubElement(
        deleted, f"{{{ATOM}}}link", rel="alternate", type=HTML, href=f"{base}/events/{target}"
    )
    comment = etree.SubElement(deleted, f"{{{TOMBSTONES}}}comment")
    comment.text = xml_safe(reason)
    return deleted


def _items(lines: Iterable[str]) -> Markup:
    return Markup("").join(Markup("<li>{}</li>").format(line) for line in lines)


def xml_safe(text: str) -> str:
    """Text with the characters XML 1.0 cannot carry replaced (input refuses them; old events
    written before that rule must not break the feed)."""
    return _NOT_XML.sub("\ufffd", text)


_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
