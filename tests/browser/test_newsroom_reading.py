"""The newsroom page as a journalist reads it, on a desktop (1280 px) and a phone (390 px): hover
cards inside the screen, quotes printed once, axis labels apart, one convention for times, and
outlets rather than our own numbering of the articles."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from tests.support import local_http
from tests.support.browser import ARTIFACTS, PROPOSAL, Tab, open_newsroom, open_tab
from tests.support.live import LiveServer

SCREENS = {"desktop": (1280, 900), "phone": (390, 844)}
EN = "\u2013"  # the en dash set between the two ends of a range
STATED = ".segment[data-from]:not([data-from=''])"
# Two quotation marks in a row: a quote wrapped in marks it already had.
DOUBLED = re.compile(r"[“”]\s*[“”]|\"\s*\"")
# How the old page referred to the articles: "article 000", "001, 002 and 003", "001-004".
NUMBERED = re.compile(r"\barticles?\s+\d|\b00\d\b")
CLOCK = re.compile(r"\d\d:\d\d")
# Whether the axis labels stand apart, all of them inside the axis.
TICKS_APART = """() => {
  const axis = document.getElementById('axis').getBoundingClientRect();
  const boxes = [...document.querySelectorAll('#axis .tick')]
    .map((t) => t.getBoundingClientRect()).sort((a, b) => a.left - b.left);
  return boxes.length >= 2
    && boxes.every((b, i) => i === 0 || boxes[i - 1].right <= b.left)
    && boxes[0].left >= axis.left && boxes[boxes.length - 1].right <= axis.right;
}"""


@pytest.fixture(params=list(SCREENS))
def screen(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Tab]:
    """A page at desktop and at phone width."""
    width, height = SCREENS[request.param]
    yield from open_tab(browser, request.node.name, width=width, height=height)


def viewport(page: Page) -> tuple[int, int]:
    size = page.viewport_size
    assert size is not None
    return size["width"], size["height"]


def event_time(page: Page, headline: str) -> Locator:
    """The <time> of the event whose headline this is."""
    heading = page.locator(".event-headline", has_text=re.compile(f"^{re.escape(headline)}$"))
    return page.locator(".event", has=heading).locator(".event-meta time")


def open_every_card(page: Page) -> None:
    """Open each event's sources and hover each segment once, so every card has been drawn."""
    for summary in page.locator(".event details summary").all():
        summary.click()
    for segment in page.locator(STATED).all():
        page.mouse.move(0, 0)
        segment.hover()
        expect(segment.locator(".tip")).to_be_visible()
    page.mouse.move(0, 0)


def test_every_hover_card_stays_within_the_screen(screen: Tab, seeded: LiveServer) -> None:
    page = open_newsroom(screen, seeded)
    width, height = viewport(page)
    segments = page.locator(STATED)
    assert segments.count() >= 4

    for segment in segments.all():
        page.mouse.move(0, 0)
        segment.hover()
        card = segment.locator(".tip")
        expect(card).to_be_visible()
        box = card.bounding_box()
        assert box is not None
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, box
        assert box["y"] >= 0 and box["y"] + box["height"] <= height, box
        # Nothing inside is cut off at the card's right edge.
        assert card.evaluate("card => card.scrollWidth <= card.clientWidth")

    conditional = page.locator('.lane[data-actor="russia"] .segment[data-stance="conditional"]')
    conditional.hover()
    expect(conditional.locator(".tip")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / f"newsroom-card-{width}.png"))
    assert screen.problems == []


def test_escape_closes_a_hover_card(tab: Tab, seeded: LiveServer) -> None:
    page = open_newsroom(tab, seeded)
    conditional = page.locator('.lane[data-actor="russia"] .segment[data-stance="conditional"]')
    conditional.hover()
    expect(conditional.locator(".tip")).to_be_visible()

    page.keyboard.press("Escape")

    expect(conditional.locator(".tip")).to_be_hidden()


def test_quotes_are_printed_once_as_recorded(screen: Tab, seeded: LiveServer) -> None:
    recorded: set[str] = set()
    timeline = local_http.get(
        f"{seeded.base}/v1/timeline",
        params={"proposal": PROPOSAL, "retracted": "show", "limit": 200},
    ).json()
    for event in timeline["items"]:
        recorded.update(c["quote"] for c in event["sources"] if c.get("quote"))
        if event["payload"].get("quote"):
            recorded.add(event["payload"]["quote"])
    page = open_newsroom(screen, seeded)

    open_every_card(page)

    shown = page.locator("blockquote").all_text_contents()
    assert len(shown) > 10
    for quote in shown:
        assert DOUBLED.search(quote) is None, quote
        assert quote in recorded, quote


def test_the_axis_labels_stand_apart(screen: Tab, seeded: LiveServer) -> None:
    page = open_newsroom(screen, seeded)
    width, _ = viewport(page)

    boxes = [t.bounding_box() for t in page.locator("#axis .tick").all()]

    assert len(boxes) >= 3
    lefts = sorted((b["x"], b["x"] + b["width"]) for b in boxes if b is not None)
    for (_, right), (left, _) in itertools.pairwise(lefts):
        assert right <= left, lefts
    assert lefts[0][0] >= 0 and lefts[-1][1] <= width


def test_the_axis_labels_are_laid_out_again_when_the_screen_narrows(
    tab: Tab, seeded: LiveServer
) -> None:
    page = open_newsroom(tab, seeded)
    assert page.evaluate(TICKS_APART)

    page.set_viewport_size({"width": 390, "height": 844})

    page.wait_for_function(TICKS_APART)


def test_times_show_the_local_time_and_zone_with_utc_beside(
    screen: Tab, seeded: LiveServer
) -> None:
    page = open_newsroom(screen, seeded)

    expect(event_time(page, "Russia: conditional (Vladimir Putin)")).to_have_text(
        f"13 Mar 2025, 18:00{EN}23:59 Moscow (15:00{EN}20:59 UTC)"
    )
    expect(event_time(page, "Russia: rejected (Yuri Ushakov)")).to_have_text(
        "13 Mar 2025, Moscow time"
    )
    expect(
        event_time(
            page,
            "Trump calls Putin's statement promising but incomplete, and says he is willing"
            " to talk to Putin to secure a ceasefire.",
        )
    ).to_have_text(f"13 Mar 2025, 11:00{EN}23:59 New York (13 Mar 15:00 {EN} 14 Mar 03:59 UTC)")
    expect(
        event_time(page, "Ushakov sets out Russia's position on the temporary ceasefire to Waltz.")
    ).to_have_text(f"11{EN}13 Mar 2025, Moscow time")
    for shown in page.locator(".event-meta time").all_inner_texts():
        plain = shown.removesuffix(" (uncertain)")
        if CLOCK.search(plain):
            assert plain.endswith(" UTC)"), shown
        else:
            assert plain.endswith((" time", ", UTC")), shown

    conditional = page.locator('.lane[data-actor="russia"] .segment[data-stance="conditional"]')
    conditional.hover()
    expect(conditional.locator(".tip-head")).to_contain_text(
        "13 Mar 2025, 18:00 Moscow (15:00 UTC)"
    )
    open_every_card(page)
    text = str(page.locator("main").text_content())
    assert "GMT" not in text
    assert re.search(r"\b[AP]M\b", text) is None


def test_times_are_shown_in_utc_on_request(screen: Tab, seeded: LiveServer) -> None:
    page = open_newsroom(screen, seeded)
    putin = event_time(page, "Russia: conditional (Vladimir Putin)")

    page.get_by_label("Times in UTC").check()

    expect(putin).to_have_text(f"13 Mar 2025, 15:00{EN}20:59 UTC")
    expect(event_time(page, "Russia: rejected (Yuri Ushakov)")).to_have_text(
        f"12 Mar 2025, 21:00 {EN} 13 Mar 2025, 20:59 UTC"
    )
    for shown in page.locator(".event-meta time").all_inner_texts():
        assert shown.removesuffix(" (uncertain)").endswith(" UTC"), shown
    assert parse_qs(urlsplit(page.url).query)["times"] == ["utc"]

    page.reload()

    expect(page.get_by_label("Times in UTC")).to_be_checked()
    expect(putin).to_have_text(f"13 Mar 2025, 15:00{EN}20:59 UTC")
    conditional = page.locator('.lane[data-actor="russia"] .segment[data-stance="conditional"]')
    conditional.hover()
    expect(conditional.locator(".tip-head")).to_contain_text("13 Mar 2025, 15:00 UTC")


def test_the_known_at_picker_reads_and_writes_24_hour_utc(screen: Tab, seeded: LiveServer) -> None:
    page = open_newsroom(screen, seeded, "?known_at=2030-01-01T00:00:00Z")
    picker = page.get_by_label("Known at (UTC)")
    status = page.locator("#status")

    expect(picker).to_have_value("2030-01-01 00:00")
    expect(status).to_contain_text("as known at 1 Jan 2030, 00:00 UTC")

    picker.fill("2025-03-14 09:30")
    picker.press("Enter")

    expect(status).to_contain_text("as known at 14 Mar 2025, 09:30 UTC")
    assert parse_qs(urlsplit(page.url).query)["known_at"] == ["2025-03-14T09:30:00Z"]

    picker.fill("03/14/2025, 09:30 PM")
    picker.press("Enter")

    expect(picker).to_have_attribute("aria-invalid", "true")
    expect(status).to_contain_text("YYYY-MM-DD HH:MM")
    assert parse_qs(urlsplit(page.url).query)["known_at"] == ["2025-03-14T09:30:00Z"]


def test_no_article_is_referred_to_by_our_own_number(screen: Tab, seeded: LiveServer) -> None:
    page = open_newsroom(screen, seeded)
    width, _ = viewport(page)

    open_every_card(page)

    text = str(page.locator("main").text_content())
    assert "Disputed: " in text
    assert NUMBERED.findall(text) == []
    page.screenshot(path=str(ARTIFACTS / f"newsroom-{width}.png"), full_page=True)
    assert screen.problems == []
