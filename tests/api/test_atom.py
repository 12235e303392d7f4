"""The Atom feed as a feed reader sees it: valid, newest first, paged, retractions as tombstones."""

from __future__ import annotations

from typing import Any

import feedparser
from lxml import etree

from tests.builders import raw_editorial
from tests.support.api import Api

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
    assert all(e.title.startswith("PositionStated") for e in parsed.entries)


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
