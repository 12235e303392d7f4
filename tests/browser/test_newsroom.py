"""The newsroom page in a real browser: lanes, the as-of slider, shared links, live updates,
the embed, a phone-sized screen, keyboard use, and a clean console."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import Page, expect

from tests.browser.sites import static_site
from tests.support import local_http
from tests.support.browser import ARTIFACTS, PROPOSAL, Tab, open_newsroom
from tests.support.live import LiveServer


def lane_segments(page: Page, actor: str) -> list[tuple[str, str]]:
    """The (stance, local date) of each stated segment of a party's lane, left to right."""
    segments = page.locator(f'.lane[data-actor="{actor}"] .segment[data-from]:not([data-from=""])')
    return [
        (str(s.get_attribute("data-stance")), str(s.get_attribute("data-from")))
        for s in segments.all()
    ]


def test_the_russia_lane_shows_rejected_then_conditional_on_13_march_2025(
    tab: Tab, seeded: LiveServer
) -> None:
    page = open_newsroom(tab, seeded)

    assert lane_segments(page, "russia") == [
        ("rejected", "2025-03-13"),
        ("conditional", "2025-03-13"),
    ]
    expect(page.locator('.lane[data-actor="russia"] .stance-chip')).to_have_text("conditional")
    lefts = page.locator('.lane[data-actor="russia"] .segment').evaluate_all(
        "segments => segments.map(s => s.getBoundingClientRect().left)"
    )
    assert lefts == sorted(lefts)
    assert tab.problems == []


def test_hovering_a_segment_shows_its_speaker_quote_and_sources(
    tab: Tab, seeded: LiveServer
) -> None:
    page = open_newsroom(tab, seeded)
    segment = page.locator('.lane[data-actor="russia"] .segment[data-stance="conditional"]')

    segment.hover()

    tip = segment.locator(".tip")
    expect(tip).to_be_visible()
    expect(tip).to_contain_text("Speaker: Vladimir Putin")
    expect(tip.locator("blockquote").first).to_contain_text("“")
    expect(tip.locator("cite").first).to_contain_text(re.compile(r"NOTUS|RT|Daily"))


def test_moving_the_slider_to_10_march_shows_ukraine_unstated(tab: Tab, seeded: LiveServer) -> None:
    page = open_newsroom(tab, seeded)
    expect(page.locator('.lane[data-actor="ukraine"] .stance-chip')).to_have_text("accepted")
    slider = page.locator("#as-of")

    slider.focus()
    page.keyboard.press("Home")
    while page.locator("#as-of-label").inner_text() != "10 Mar 2025":
        before = slider.input_value()
        page.keyboard.press("ArrowRight")
        assert slider.input_value() != before, "the slider never reached 10 Mar 2025"

    expect(page.locator('.lane[data-actor="ukraine"] .stance-chip')).to_have_text("unstated")
    expect(page.locator('.lane[data-actor="russia"] .stance-chip')).to_have_text("unstated")
    assert lane_segments(page, "ukraine") == []
    assert parse_qs(urlsplit(page.url).query)["as_of"] == ["2025-03-10"]
    assert tab.problems == []


def test_a_shared_link_opens_the_same_view(tab: Tab, seeded: LiveServer) -> None:
    page = open_newsroom(tab, seeded, f"?proposal={PROPOSAL}&as_of=2025-03-11")

    expect(page.locator("#as-of-label")).to_have_text("11 Mar 2025")
    expect(page.locator('.lane[data-actor="ukraine"] .stance-chip')).to_have_text("accepted")
    expect(page.locator('.lane[data-actor="russia"] .stance-chip')).to_have_text("unstated")
    times = page.locator(".event time").evaluate_all("ts => ts.map(t => t.dateTime)")
    assert times and all(t < "2025-03-12" for t in times)
    assert times == sorted(times)


def test_a_known_at_in_the_link_fills_the_picker_and_pins_the_view(
    tab: Tab, seeded: LiveServer
) -> None:
    pinned = "2030-01-01T00:00:00Z"

    page = open_newsroom(tab, seeded, f"?known_at={pinned}")

    expect(page.locator("#known-at")).to_have_value("2030-01-01 00:00")
    expect(page.locator("#status")).to_contain_text("as known at 1 Jan 2030, 00:00 UTC")


def test_disputed_events_are_marked_with_the_reason(tab: Tab, seeded: LiveServer) -> None:
    page = open_newsroom(tab, seeded)

    disputed = page.locator('.event[data-disputed="true"]')
    expect(disputed).to_have_count(2)
    expect(disputed.first.locator(".mark-disputed")).to_have_text("Disputed")
    expect(disputed.first.locator(".mark-note")).to_contain_text("Disputed: ")


def test_an_event_appended_through_the_api_appears_without_a_reload(
    tab: Tab, fresh: LiveServer
) -> None:
    page = open_newsroom(tab, fresh)
    page.evaluate("window.sameDocument = true")
    summary = "Lavrov says Moscow will answer the proposal through diplomatic channels."
    statement = {
        "type": "StatementMade",
        "occurred_at": "2025-03-14",
        "timezone": "Europe/Moscow",
        "payload": {"speaker": "vladimir-putin", "proposal": PROPOSAL, "summary": summary},
        "sources": [{"source": "notus-2025-03-13"}],
    }

    response = local_http.post(
        f"{fresh.base}/v1/events",
        json={"stream": "ceasefire-2025-browser-test", "events": [statement]},
        headers=fresh.writer,
    )
    assert response.status_code == 201, response.text

    expect(page.locator(".event-headline", has_text=summary)).to_be_visible()
    expect(page.locator("#status")).to_contain_text("17 events")
    assert page.evaluate("window.sameDocument") is True
    assert tab.problems == []


def test_a_retracted_event_stays_on_the_page_struck_through(tab: Tab, fresh: LiveServer) -> None:
    page = open_newsroom(tab, fresh)
    ushakov = page.locator(".event", has_text="Russia: rejected (Yuri Ushakov)")
    target = ushakov.get_attribute("data-id")
    retraction = {
        "type": "EventRetracted",
        "occurred_at": "2025-03-14",
        "payload": {"target": target, "reason": "the browser test withdraws it"},
    }

    response = local_http.post(
        f"{fresh.base}/v1/events",
        json={"stream": "editorial", "events": [retraction]},
        headers=fresh.writer,
    )
    assert response.status_code == 201, response.text

    expect(ushakov.locator(".mark-retracted")).to_have_text("Retracted")
    expect(ushakov.locator(".event-headline")).to_have_css("text-decoration-line", "line-through")
    assert lane_segments(page, "russia") == [("conditional", "2025-03-13")]


def test_a_corrected_event_shows_its_correction_and_mark(tab: Tab, fresh: LiveServer) -> None:
    page = open_newsroom(tab, fresh)
    court = page.locator(".event", has_text="Trump says the ball is in Russia's court.")
    target = str(court.get_attribute("data-id"))
    before = local_http.get(f"{fresh.base}/v1/events/{target}").json()["payload"]
    summary = "Trump says the ball is now in Russia's court (corrected wording)."
    correction = {
        "type": "EventCorrected",
        "occurred_at": "2025-03-14",
        "payload": {
            "target": target,
            "reason": "the browser test rewords it",
            "payload": {**before, "summary": summary},
        },
    }

    response = local_http.post(
        f"{fresh.base}/v1/events",
        json={"stream": "editorial", "events": [correction]},
        headers=fresh.writer,
    )
    assert response.status_code == 201, response.text

    corrected = page.locator(f'.event[data-id="{target}"]')
    expect(corrected.locator(".event-headline")).to_have_text(summary)
    expect(corrected.locator(".mark-corrected")).to_have_text("Corrected")
    assert tab.problems == []


def test_the_embed_shows_one_proposal_without_the_picker(tab: Tab, seeded: LiveServer) -> None:
    page = tab.page
    page.goto(f"{seeded.base}/embed/{PROPOSAL}?as_of=2025-03-13")

    expect(page.locator(".lane")).to_have_count(3)
    expect(page.locator("#proposal")).to_have_count(0)
    expect(page.locator(".masthead")).to_have_count(0)
    expect(page.locator('.lane[data-actor="russia"] .stance-chip')).to_have_text("conditional")
    expect(page.locator(".credit a")).to_have_attribute("target", "_blank")
    assert tab.problems == []


def test_the_embed_works_inside_an_iframe_on_another_site(
    tab: Tab, seeded: LiveServer, tmp_path: Path
) -> None:
    story = tmp_path / "story.html"
    story.write_text(
        '<!doctype html><title>A story</title><link rel="icon" href="data:,">'
        f'<iframe title="Positions" src="{seeded.base}/embed/{PROPOSAL}" width="800" height="600">'
        "</iframe>"
    )

    with static_site(tmp_path) as site:
        tab.page.goto(f"{site}/story.html")

        frame = tab.page.frame_locator("iframe")
        expect(frame.locator(".lane")).to_have_count(3)
        assert tab.problems == []


def test_on_a_phone_the_page_fits_the_screen(phone: Tab, seeded: LiveServer) -> None:
    page = open_newsroom(phone, seeded)

    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    lane = page.locator('.lane[data-actor="russia"]').bounding_box()
    assert lane is not None and lane["width"] <= 390


def test_the_keyboard_reaches_every_segment_and_focus_shows_its_details(
    tab: Tab, seeded: LiveServer
) -> None:
    page = open_newsroom(tab, seeded)
    page.locator("#reset").focus()

    labels = []
    for _ in range(8):
        page.keyboard.press("Tab")
        focused = page.locator(":focus")
        if focused.get_attribute("class") == "segment-button":
            labels.append(focused.get_attribute("aria-label"))
            tip = page.locator(".segment:focus-within .tip")
            expect(tip).to_be_visible()

    assert any(
        label and label.startswith("Russia: rejected from 13 Mar 2025, Moscow time")
        for label in labels
    )
    assert all(label for label in labels)


def test_the_page_has_no_console_errors_while_a_journalist_uses_it(
    tab: Tab, seeded: LiveServer
) -> None:
    page = open_newsroom(tab, seeded)
    page.screenshot(path=str(ARTIFACTS / "newsroom-first-view.png"))

    page.locator('.lane[data-actor="ukraine"] .segment[data-stance="accepted"]').hover()
    page.locator(".event details summary").first.click()
    page.locator("#as-of").fill("3")
    page.locator("#as-of").dispatch_event("change")
    expect(page.locator("#status")).to_contain_text("as of")
    page.locator("#known-at").fill("2030-01-01T00:00:00")
    page.locator("#known-at").dispatch_event("change")
    expect(page.locator("#status")).to_contain_text("as known at")
    page.locator("#reset").click()
    expect(page.locator("#status")).to_contain_text("as of now, as known now")

    assert tab.problems == []


def test_a_long_proposal_shows_its_latest_events_and_earlier_ones_on_demand(
    tab: Tab, fresh: LiveServer
) -> None:
    statements = [
        {
            "type": "StatementMade",
            "occurred_at": f"2025-03-20T{n // 60:02d}:{n % 60:02d}:00Z",
            "payload": {"speaker": "vladimir-putin", "proposal": PROPOSAL, "summary": f"No. {n}"},
            "sources": [{"source": "notus-2025-03-13"}],
        }
        for n in range(230)
    ]
    for start in range(0, len(statements), 50):
        response = local_http.post(
            f"{fresh.base}/v1/events",
            json={"stream": "long-proposal", "events": statements[start : start + 50]},
            headers=fresh.writer,
        )
        assert response.status_code == 201, response.text
    page = open_newsroom(tab, fresh)
    expect(page.locator("#status")).to_contain_text("The latest 200 events")
    expect(page.locator(".event")).to_have_count(200)
    expect(page.locator(".event-headline").last).to_have_text("No. 229")

    page.get_by_role("button", name="Show earlier events").click()

    expect(page.locator(".event")).to_have_count(16 + 230)
    expect(page.get_by_role("button", name="Show earlier events")).to_have_count(0)
    times = page.locator(".event time").evaluate_all("ts => ts.map(t => t.dateTime)")
    assert times == sorted(times)
    assert tab.problems == []


def test_a_proposal_with_many_parties_draws_the_first_lanes_then_every_other(
    tab: Tab, fresh: LiveServer
) -> None:
    parties = [f"party-{n:02d}" for n in range(25)]
    registered = [
        {
            "type": "ActorRegistered",
            "occurred_at": "2025-03-01",
            "payload": {"actor": party, "name": f"Party {party[-2:]}", "kind": "state"},
        }
        for party in parties
    ]
    stated = [
        {
            "type": "PositionStated",
            "occurred_at": "2025-03-12",
            "payload": {"actor": party, "proposal": PROPOSAL, "stance": "accepted"},
            "sources": [{"source": "notus-2025-03-13"}],
        }
        for party in parties
    ]
    for stream, events in (("parties", registered), ("party-positions", stated)):
        response = local_http.post(
            f"{fresh.base}/v1/events",
            json={"stream": stream, "events": events},
            headers=fresh.writer,
        )
        assert response.status_code == 201, response.text
    page = tab.page
    page.goto(f"{fresh.base}/")

    expect(page.locator(".lane")).to_have_count(3 + 25)
    expect(page.locator('.lane[aria-busy="true"]')).to_have_count(0)
    for party in (parties[0], parties[-1]):
        segment = page.locator(f'.lane[data-actor="{party}"] .segment[data-stance="accepted"]')
        expect(segment).to_have_count(1)
    assert tab.problems == []
