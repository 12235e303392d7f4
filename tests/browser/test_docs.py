"""The API reference in chromium with every request beyond the loopback refused: a newsroom
behind a strict proxy, or a laptop on a train, still gets the docs and can try the API."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from playwright.sync_api import Locator, Page, Route, expect

from tests.support.browser import ARTIFACTS, Tab
from tests.support.live import LiveServer


def operation(page: Page, operation_id: str) -> Locator:
    """The block Swagger UI draws for one operation."""
    name = page.locator(".opblock-summary-operation-id", has_text=re.compile(f"^{operation_id}$"))
    return page.locator(".opblock", has=name)


def test_the_docs_list_every_operation_without_the_internet(tab: Tab, seeded: LiveServer) -> None:
    page = tab.page
    refused: list[str] = []

    def loopback_only(route: Route) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    page.route("**/*", loopback_only)
    page.goto(f"{seeded.base}/v1/docs")

    append = operation(page, "appendEvents")
    expect(append).to_be_visible()
    expect(append.locator(".opblock-summary-method")).to_have_text("POST")
    expect(append.locator(".opblock-summary-path")).to_have_text("/v1/events")
    expect(operation(page, "getProposal")).to_be_visible()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "docs-offline.png"))

    health = operation(page, "getHealth")
    health.locator(".opblock-summary").click()
    health.get_by_role("button", name="Try it out").click()
    health.get_by_role("button", name="Execute").click()
    status = health.locator(".live-responses-table tr.response .response-col_status")
    expect(status).to_have_text("200")

    assert refused == []
    assert tab.problems == []
