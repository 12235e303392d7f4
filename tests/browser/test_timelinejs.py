"""TimelineJS itself, from the npm registry, renders the TimelineJS export of the seed data:
one slide per event, one group per party."""

from __future__ import annotations

import json
from pathlib import Path

from playwright.sync_api import expect

from tests.browser.sites import static_site
from tests.support import local_http
from tests.support.browser import PROPOSAL, Tab
from tests.support.live import LiveServer

HARNESS = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>TimelineJS</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="timelinejs/css/timeline.css">
<script src="timelinejs/js/timeline.js"></script>
</head><body>
<div id="timeline" style="width: 1200px; height: 700px"></div>
<script>
  fetch(EXPORT)
    .then((response) => response.json())
    .then((data) => {
      const scripts = new URL("timelinejs/js/", location.href).href;
      new TL.Timeline("timeline", data, { script_path: scripts });
    });
</script>
</body></html>
"""


def test_timelinejs_renders_the_export_with_a_slide_per_event_and_a_group_per_party(
    tab: Tab, seeded: LiveServer, timelinejs: Path, tmp_path: Path
) -> None:
    url = f"{seeded.base}/v1/exports/timelinejs?proposal={PROPOSAL}"
    exported = local_http.get(url).json()
    events = exported["events"]
    groups = sorted({event["group"] for event in events})
    (tmp_path / "timelinejs").symlink_to(timelinejs)
    (tmp_path / "index.html").write_text(HARNESS.replace("EXPORT", json.dumps(url)))

    with static_site(tmp_path) as site:
        page = tab.page
        page.goto(f"{site}/index.html")

        slides = page.locator(".tl-slide:not(.tl-slide-titleslide)")
        expect(slides).to_have_count(len(events))
        expect(page.locator(".tl-slide-titleslide")).to_have_count(1)
        rendered = sorted(page.locator(".tl-timegroup-message").all_text_contents())
        for event in events:
            expect(page.locator(f'[id="{event["unique_id"]}"]')).to_have_count(1)

    assert len(events) == 16
    assert rendered == groups
    assert {"Russia", "Ukraine", "United States"} <= set(groups)
