"""Debian's chromium, driven by Playwright's Python package (no browser download), against a
live seeded server. Every test's last view is kept as a screenshot in test-artifacts/browser/."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.databases import SqliteDatabases
from tests.support.browser import (
    CHROMIUM,
    FLAGS,
    NPM_FOLDER,
    NPM_INSTALL,
    TIMELINEJS,
    Tab,
    open_tab,
    unavailable,
)
from tests.support.live import LiveServer, live_server


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
    with live_server(sqlite_databases.seeded().raw, tmp_path_factory.mktemp("browser")) as server:
        yield server


@pytest.fixture
def fresh(sqlite_databases: SqliteDatabases, tmp_path: Path) -> Iterator[LiveServer]:
    """A seeded server of the test's own, for a test that appends."""
    settings = {"TIMELINE_SSE_HEARTBEAT": "0.5"}
    with live_server(sqlite_databases.seeded().raw, tmp_path, settings=settings) as server:
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
