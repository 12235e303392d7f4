"""An event's own page, as a reader following a feed's link sees it: what kind of event, when in
its own zone, what it says, its sources, what editors said of it; the JSON as its alternate; the
newsroom's policy; a page, not a JSON problem, for an id the log does not hold."""

from __future__ import annotations

from typing import Any

import lxml.html
import pytest

from api.response_headers import PAGE_POLICY
from tests.builders import raw_editorial, raw_source
from tests.support.api import Api


async def page(api: Api, event_id: str, status: int = 200) -> Any:
    response = await api.client.get(f"/events/{event_id}")
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["content-security-policy"] == PAGE_POLICY
    return lxml.html.fromstring(response.text)


def text(tree: Any, xpath: str) -> str:
    return " ".join(" ".join(node.text_content().split()) for node in tree.xpath(xpath))


async def one(api: Api, query: str) -> dict[str, Any]:
    found: dict[str, Any] = (await api.client.get(f"/v1/events?{query}")).json()["items"][0]
    return found


async def append(api: Api, stream: str, *events: dict[str, Any]) -> None:
    body = {"stream": stream, "events": list(events)}
    response = await api.client.post("/v1/events", json=body, headers=api.writer)
    assert response.status_code == 201, response.text


async def test_a_position_s_page_says_what_when_and_on_what_sources(seeded: Api) -> None:
    ushakov = await one(seeded, "type=PositionStated&actor=yuri-ushakov")
    tree = await page(seeded, ushakov["id"])
    assert text(tree, "//p[@class='kind']") == "Position stated"
    assert text(tree, "//h1") == "Russia rejects the proposal (Yuri Ushakov)"
    [when] = tree.xpath("//section[h2[@id='when']]//time")
    assert when.text_content() == "13 March 2025, Europe/Moscow time"
    assert when.get("datetime") == "2025-03-12T21:00:00+00:00"
    says = text(tree, "//section[h2[@id='says']]")
    assert "Stance of Russia on U.S. proposal for a 30-day ceasefire" in says
    assert "nothing more than a temporary respite — Yuri Ushakov" in says
    sources = [
        " ".join(li.text_content().split()) for li in tree.xpath("//ol[@class='sources']/li")
    ]
    assert len(sources) == 3
    assert sources[0].startswith(
        "NOTUS — Russia Muddies Position on the U.S.'s Proposal for Temporary Ceasefire with "
        "Ukraine (2025-03-13) “Our goal is a long-term peaceful resolution,”"
    )
    assert text(tree, "//section[h2[@id='editorial']]").endswith("None.")


async def test_the_page_names_its_json_as_the_alternate(seeded: Api) -> None:
    event = await one(seeded, "type=MeetingHeld")
    tree = await page(seeded, event["id"])
    [alternate] = tree.xpath("//head/link[@rel='alternate' and @type='application/json']")
    assert alternate.get("href") == f"/v1/events/{event['id']}"
    json = await seeded.client.get(alternate.get("href"))
    assert json.status_code == 200 and json.json()["id"] == event["id"]
    assert not tree.xpath("//script")


async def test_a_disputed_claim_is_flagged_with_the_dispute_listed(seeded: Api) -> None:
    dispute = await one(seeded, "type=EventDisputed&limit=1")
    tree = await page(seeded, dispute["payload"]["target"])
    assert text(tree, "//p[contains(@class, 'disputed')]").startswith("Disputed.")
    [note] = tree.xpath("//ol[@class='notes']/li")
    assert " ".join(note.text_content().split()).startswith(
        "Dispute, recorded 1 January 2026, 12:00 UTC: Reported only by an unidentified outlet"
    )
    assert note.xpath(".//a/@href") == [f"/events/{dispute['id']}"]
    # And the dispute's own page tells what it is aimed at.
    own = await page(seeded, dispute["id"])
    assert text(own, "//p[@class='kind']") == "Event disputed"
    assert text(own, "//h1").startswith("Dispute: ")
    assert f"/events/{dispute['payload']['target']}" in own.xpath("//main//a/@href")


async def test_a_correction_shows_the_event_as_it_now_stands_and_how_it_was_logged(
    seeded: Api,
) -> None:
    meeting = await one(seeded, "type=MeetingHeld")
    moved = raw_editorial(
        "EventCorrected", meeting["id"], occurred_at="2025-02-19", reason="the talks ran late"
    )
    await append(seeded, "editorial", moved)
    tree = await page(seeded, meeting["id"])
    assert text(tree, "//section[h2[@id='when']]//time") == "19 February 2025, Asia/Riyadh time"
    assert "First recorded as 18 February 2025, Asia/Riyadh time." in text(tree, "//main")
    [note] = tree.xpath("//ol[@class='notes']/li")
    assert "Correction, recorded" in note.text_content()
    assert "the talks ran late" in note.text_content()
    assert "Now dated 2025-02-19" in note.text_content()


async def test_a_retracted_event_keeps_its_page_and_a_retracted_dispute_is_struck(
    seeded: Api,
) -> None:
    dispute = await one(seeded, "type=EventDisputed&limit=1")
    target = dispute["payload"]["target"]
    withdrawn = raw_editorial("EventRetracted", dispute["id"], reason="the doubt was unfounded")
    retracted = raw_editorial("EventRetracted", target, reason="misattributed")
    await append(seeded, "editorial", withdrawn, retracted)
    tree = await page(seeded, target)
    assert text(tree, "//p[contains(@class, 'retracted')]").startswith("Retracted.")
    assert not tree.xpath("//p[contains(@class, 'disputed')]")  # its dispute was withdrawn
    notes = {li.get("class"): " ".join(li.text_content().split()) for li in tree.xpath("//li")}
    assert "(since retracted)" in notes["note-EventDisputed withdrawn"]
    assert [c for c in notes if c and c.startswith("note-EventRetracted")] == [
        "note-EventRetracted"
    ]


async def test_text_from_the_log_is_escaped_and_source_links_are_kept(api: Api) -> None:
    source = raw_source(
        "linked",
        outlet="<b>Outlet</b>",
        headline='Say "<script>alert(1)</script>"',
        url="https://example.org/story?a=1&b=2",
    )
    statement = {
        "type": "StatementMade",
        "occurred_at": "2025-03-14T09:30:00+02:00",
        "timezone": "Europe/Kyiv",
        "payload": {"speaker": "someone", "summary": "<img src=x onerror=alert(1)>"},
        "sources": [{"source": "linked", "quote": "<i>quoted</i>"}],
    }
    await append(api, "sources", source)
    await append(api, "notes", statement)
    event = await one(api, "type=StatementMade")
    response = await api.client.get(f"/events/{event['id']}")
    assert "<script>alert" not in response.text and "<img src=x" not in response.text
    tree = lxml.html.fromstring(response.text)
    assert not tree.xpath("//script | //img | //b | //i")
    [link] = tree.xpath("//ol[@class='sources']//a")
    assert link.get("href") == "https://example.org/story?a=1&b=2"
    assert link.text_content() == 'Say "<script>alert(1)</script>"'
    when = text(tree, "//section[h2[@id='when']]//time")
    assert when == "14 March 2025, 09:30:00 UTC+02:00, Europe/Kyiv time"


@pytest.mark.parametrize(
    "event_id",
    [
        pytest.param("6f1c1f0e-52b4-4c5e-9a53-1f1d2b0c7a11", id="unknown"),
        pytest.param("not-an-id", id="malformed"),
        pytest.param("0" * 100, id="too-long"),
        pytest.param("%00", id="nul"),
    ],
)
async def test_an_id_the_log_does_not_hold_is_a_404_page(seeded: Api, event_id: str) -> None:
    tree = await page(seeded, event_id, status=404)
    assert text(tree, "//h1") == "No such event"
    assert tree.xpath("//a/@href")[:1] == ["/"]
