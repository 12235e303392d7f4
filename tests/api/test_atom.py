"""The Atom feed as a feed reader sees it: valid, newest first, paged, retractions as tombstones,
entries written for people and linked to the event's page, and conditional GETs answered 304."""

from __future__ import annotations

import html
from typing import Any

import feedparser
from lxml import etree

from tests.builders import raw_editorial, raw_source
from tests.clock import FrozenClock
from tests.support.api import Api, log_moves_on
from tests.support.feed_reader import poll

ATOM = "{http://www.w3.org/2005/Atom}"
TOMBSTONE = "{http://purl.org/atompub/tombstones/1.0}deleted-entry"


async def fetch(api: Api, url: str) -> tuple[Any, Any]:
    response = await api.client.get(url)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/atom+xml")
    return feedparser.parse(response.content), etree.fromstring(response.content)


def links(xml: Any) -> dict[str, str]:
    return {link.get("rel"): link.get("href") for link in xml.findall(f"{ATOM}link")}


async def test_a_feed_reader_parses_the_feed_newest_first(seeded: Api) -> None:
    parsed, xml = await fetch(seeded, "/v1/feed.atom")
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert len(parsed.entries) == 50
    updated = [e.updated for e in parsed.entries]
    assert updated == sorted(updated, reverse=True)
    assert parsed.entries[0].id.startswith("urn:uuid:")
    assert "first" in links(xml) and "next" in links(xml)


async def test_the_next_page_holds_the_older_entries(seeded: Api) -> None:
    first, xml = await fetch(seeded, "/v1/feed.atom")
    next_url = links(xml)["next"].split("testserver.local", 1)[-1]
    second, second_xml = await fetch(seeded, next_url)
    assert len(second.entries) == 12
    assert not {e.id for e in first.entries} & {e.id for e in second.entries}
    assert "next" not in links(second_xml) and "previous" in links(second_xml)


async def test_filters_narrow_the_feed(seeded: Api) -> None:
    parsed, _ = await fetch(seeded, "/v1/feed.atom?type=PositionStated")
    assert len(parsed.entries) == 4
    assert all(
        ("PositionStated", "Position stated") in [(t.term, t.label) for t in e.tags]
        for e in parsed.entries
    )


async def test_a_retraction_appears_as_a_tombstone_for_its_target(seeded: Api) -> None:
    target = (await seeded.client.get("/v1/events?type=PositionStated&limit=1")).json()["items"][0]
    retraction = raw_editorial("EventRetracted", target["id"], reason="misattributed")
    response = await seeded.client.post(
        "/v1/events", json={"stream": "editorial", "events": [retraction]}, headers=seeded.writer
    )
    assert response.status_code == 201
    parsed, xml = await fetch(seeded, "/v1/feed.atom")
    assert not parsed.bozo
    [tombstone] = xml.findall(TOMBSTONE)
    assert tombstone.get("ref") == f"urn:uuid:{target['id']}"
    assert tombstone.get("when")
    assert "misattributed" in etree.tostring(tombstone).decode()


async def test_a_bad_page_cursor_is_a_400_problem(seeded: Api) -> None:
    response = await seeded.client.get("/v1/feed.atom?before=0")
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"


async def test_the_feed_links_to_itself_and_its_ids_have_no_bare_question_mark(
    seeded: Api,
) -> None:
    parsed, xml = await fetch(seeded, "/v1/feed.atom")
    base = "http://testserver.local/v1/feed.atom"
    assert parsed.feed.id == base
    assert links(xml)["self"] == base and links(xml)["first"] == base
    assert all(not href.endswith("?") for href in links(xml).values())
    filtered, filtered_xml = await fetch(seeded, "/v1/feed.atom?type=PositionStated&before=60")
    assert filtered.feed.id == f"{base}?type=PositionStated"
    assert links(filtered_xml)["self"] == f"{base}?type=PositionStated&before=60"
    assert links(filtered_xml)["first"] == f"{base}?type=PositionStated"


async def test_an_entry_reads_as_the_statement_with_its_quote_and_sources(seeded: Api) -> None:
    found = await seeded.client.get("/v1/events?type=PositionStated&actor=yuri-ushakov")
    [ushakov] = found.json()["items"]
    parsed, _ = await fetch(seeded, "/v1/feed.atom?type=PositionStated")
    [entry] = [e for e in parsed.entries if e.id == f"urn:uuid:{ushakov['id']}"]
    assert entry.title == "Russia rejects the proposal (Yuri Ushakov)"
    assert entry.summary.startswith("Stance of Russia on ")
    content = entry.content[0]
    assert content.type == "text/html"
    text = html.unescape(content.value)
    assert "“nothing more than a temporary respite”" in text
    assert "13 March 2025, Europe/Moscow time" in text
    assert "NOTUS — Russia Muddies Position on the U.S.'s Proposal" in text
    assert "PositionStated" not in entry.title and "Occurred:" not in text
    assert ("russia", "Russia") in [(t.term, t.label) for t in entry.tags]


async def test_an_entry_links_to_the_event_s_page_and_its_json(seeded: Api) -> None:
    parsed, _ = await fetch(seeded, "/v1/feed.atom")
    entry = parsed.entries[0]
    event_id = entry.id.removeprefix("urn:uuid:")
    assert entry.link == f"http://testserver.local/events/{event_id}"
    alternates = {(link.type, link.href) for link in entry.links if link.rel == "alternate"}
    assert alternates == {
        ("text/html", f"http://testserver.local/events/{event_id}"),
        ("application/json", f"http://testserver.local/v1/events/{event_id}"),
    }
    page = await seeded.client.get(entry.link.removeprefix("http://testserver.local"))
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")


async def test_a_reader_holding_the_etag_gets_304_until_an_entry_arrives(seeded: Api) -> None:
    first = await poll(seeded.client, "/v1/feed.atom")
    assert first.status == 200 and len(first.entries) == 50
    assert first.etag
    again = await poll(seeded.client, "/v1/feed.atom", etag=first.etag)
    assert again.status == 304 and again.entries == []
    await seeded.client.post(
        "/v1/events",
        json={"stream": "sources", "events": [raw_source("new-outlet", outlet="New Outlet")]},
        headers=seeded.writer,
    )
    moved = await poll(seeded.client, "/v1/feed.atom", etag=first.etag)
    assert moved.status == 200 and moved.etag != first.etag
    assert moved.entries[0].title == "Source: New Outlet — Russia Muddies Position"


async def test_a_filtered_feed_stays_304_while_only_other_events_arrive(seeded: Api) -> None:
    url = "/v1/feed.atom?type=PositionStated"
    etag = (await seeded.client.get(url)).headers["etag"]
    await log_moves_on(seeded, seconds=1)  # appends a SourceRegistered
    assert (await seeded.client.get(url, headers={"If-None-Match": etag})).status_code == 304


async def test_a_reader_holding_last_modified_gets_304_once_the_second_is_over(
    seeded: Api,
) -> None:
    clock: FrozenClock = seeded.services.clock  # type: ignore[assignment]
    # The newest entry was stamped this very second: another append may still land in it, and
    # a reader comparing whole seconds would miss it. No Last-Modified yet, only the ETag.
    assert "modified" not in await poll(seeded.client, "/v1/feed.atom")
    clock.advance(seconds=10)
    first = await poll(seeded.client, "/v1/feed.atom")
    assert first.modified == "Thu, 01 Jan 2026 12:00:00 GMT"
    polled = await poll(seeded.client, "/v1/feed.atom", modified=first.modified)
    assert polled.status == 304 and polled.modified == first.modified
    await seeded.client.post(
        "/v1/events",
        json={"stream": "sources", "events": [raw_source("later-outlet", outlet="Later")]},
        headers=seeded.writer,
    )
    after = await poll(seeded.client, "/v1/feed.atom", modified=first.modified)
    assert after.status == 200 and after.entries[0].title.startswith("Source: Later")


async def test_last_modified_comes_at_once_when_the_log_has_moved_past_the_second(
    seeded: Api,
) -> None:
    url = "/v1/feed.atom?type=PositionStated"
    await log_moves_on(seeded, seconds=2)
    response = await seeded.client.get(url)
    modified = response.headers["last-modified"]
    assert modified == "Thu, 01 Jan 2026 12:00:00 GMT"
    assert (
        await seeded.client.get(url, headers={"If-Modified-Since": modified})
    ).status_code == 304


async def test_if_none_match_decides_alone_when_both_are_sent(seeded: Api) -> None:
    clock: FrozenClock = seeded.services.clock  # type: ignore[assignment]
    clock.advance(seconds=10)
    response = await seeded.client.get("/v1/feed.atom")
    stale = {
        "If-None-Match": '"not-this-one"',
        "If-Modified-Since": response.headers["last-modified"],
    }
    assert (await seeded.client.get("/v1/feed.atom", headers=stale)).status_code == 200
    garbled = {"If-Modified-Since": "yesterday"}
    assert (await seeded.client.get("/v1/feed.atom", headers=garbled)).status_code == 200
