"""The newsroom page marks single-source events, in words a screen reader reads too: exactly the
events /v1/timeline calls `single_source`, and none of the others."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.support import local_http
from tests.support.browser import PROPOSAL, Tab, open_newsroom
from tests.support.live import LiveServer


def test_single_source_events_are_marked_and_no_others(tab: Tab, seeded: LiveServer) -> None:
    page = open_newsroom(tab, seeded)
    timeline = local_http.get(
        f"{seeded.base}/v1/timeline", params={"proposal": PROPOSAL, "limit": 1000}
    ).json()["items"]
    single = {item["id"] for item in timeline if item["single_source"]}
    assert single, "the seed data's article-000-only claims are single-source"
    shown = set(page.locator(".event").evaluate_all("items => items.map(i => i.dataset.id)"))
    marked = page.locator('.event[data-single-source="true"]')
    expect(marked).to_have_count(len(single & shown))
    assert set(marked.evaluate_all("items => items.map(i => i.dataset.id)")) == single & shown
    first = marked.first
    expect(first.locator(".mark-single-source")).to_have_text("Single source")
    expect(first.locator(".single-source-note")).to_contain_text("only")
    assert first.locator(".mark-single-source").is_visible()
    unmarked = page.locator('.event:not([data-single-source="true"])').first
    expect(unmarked.locator(".mark-single-source")).to_have_count(0)
    assert tab.problems == []
