"""What the browser tests share: where chromium and the artifacts are, the flags it runs with,
and a page in its own context whose last view is kept as a screenshot."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from tests.support.live import LiveServer

CHROMIUM = os.environ.get("TIMELINE_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("TIMELINE_TEST_ARTIFACTS", "test-artifacts")) / "browser"
PROPOSAL = "us-30-day-ceasefire-2025"
# Root in a container needs --no-sandbox; the rest keep chromium off a network it cannot reach.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMELINEJS = "@knight-lab/timelinejs@3"
NPM_FOLDER = Path("var/npm")
NPM_INSTALL = ("install", "--no-save", "--no-audit", "--no-fund")


def unavailable(what: str) -> NoReturn:
    """Fail in CI, where .ci/run installs everything; skip on a machine without it."""
    if os.environ.get("CI"):
        pytest.fail(f"{what}: CI must have it (.ci/run installs it)")
    pytest.skip(f"{what}; the browser tests need it")


@dataclass
class Tab:
    """A page in its own browser context, and what it reported to its console."""

    page: Page
    problems: list[str] = field(default_factory=list)

    def watch(self, message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            self.problems.append(f"console.{message.type}: {message.text}")


def open_tab(browser: Browser, name: str, width: int = 1280, height: int = 900) -> Iterator[Tab]:
    """A fresh context and page; its last view is saved as `name`.png when the test ends."""
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(15_000)
    tab = Tab(page)
    page.on("console", tab.watch)
    page.on("pageerror", lambda error: tab.problems.append(f"uncaught: {error}"))
    try:
        yield tab
    finally:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        context.close()


def open_newsroom(tab: Tab, server: LiveServer, query: str = "") -> Page:
    """The newsroom page, once its lanes and events are drawn."""
    page = tab.page
    page.goto(f"{server.base}/{query}")
    expect(page.locator(".lane")).to_have_count(3)
    expect(page.locator(".event").first).to_be_visible()
    return page
