"""Debian's chromium, driven by Playwright's Python package (no browser download), against a
live seeded server. Every test's last view is kept as a screenshot in test-artifacts/browser/."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright

from tests.databases import SqliteDatabases
from tests.support.live import LiveServer, serving

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


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless chromium per module. Not per session: Playwright's sync API runs an event
    loop while it is open, and the async tests of other modules need the thread's loop free."""
    if not Path(CHROMIUM).exists():
        unavailable(f"no chromium at {CHROMIUM}")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield launched
        launched.close()


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


@pytest.fixture
def tab(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Tab]:
    """A desktop-sized page."""
    yield from open_tab(browser, request.node.name)


@pytest.fixture
def phone(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Tab]:
    """A phone-sized page (390 by 844 CSS pixels)."""
    yield from open_tab(browser, request.node.name, width=390, height=844)


@pytest.fixture(scope="module")
def seeded(
    sqlite_databases: SqliteDatabases, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """A seeded server the module's read-only tests share."""
    with serving(sqlite_databases.seeded().raw, tmp_path_factory.mktemp("browser")) as server:
        yield server


@pytest.fixture
def fresh(sqlite_databases: SqliteDatabases, tmp_path: Path) -> Iterator[LiveServer]:
    """A seeded server of the test's own, for a test that appends."""
    settings = {"TIMELINE_SSE_HEARTBEAT": "0.5"}
    with serving(sqlite_databases.seeded().raw, tmp_path, settings=settings) as server:
        yield server


@pytest.fixture(scope="session")
def timelinejs() -> Path:
    """TimelineJS's built files, installed from the npm registry into var/npm (not committed)."""
    dist = NPM_FOLDER / "node_modules" / "@knight-lab" / "timelinejs" / "dist"
    if not (dist / "js" / "timeline.js").exists():
        npm = shutil.which("npm")
        if npm is None:
            unavailable("no npm to install TimelineJS with")
        NPM_FOLDER.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [npm, *NPM_INSTALL, "--prefix", str(NPM_FOLDER), TIMELINEJS],
            check=True,
            capture_output=True,
            timeout=600,
        )
    return dist.resolve()
