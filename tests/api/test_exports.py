"""Exports of the seed data as newsroom and research tools read them: TimelineJS (JSON and its
spreadsheet template), CSV, PLOVER JSON Lines.

Read-only cases share one seeded app per backend; cases that write or move the clock get a
fresh one."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from html import escape
from typing import Any
from urllib.parse import quote

import pytest
import pytest_asyncio

from domain.exports.spreadsheet import EVENT_COLUMNS, TEMPLATE_COLUMNS
from tests.builders import raw_editorial
from tests.clock import FrozenClock
from tests.support.api import Api, log_moves_on, problem, serving
from tests.support.backends import SQL_BACKENDS
from tests.support.default_readers import pandas_default_column, spreadsheet_reads_as_number

PROPOSAL = "us-30-day-ceasefire-2025"
TIMELINEJS = f"/v1/exports/timelinejs?proposal={PROPOSAL}"
CSV_URL = f"/v1/exports/events.csv?proposal={PROPOSAL}"
PLOVER = f"/v1/exports/plover.jsonl?proposal={PROPOSAL}"
BEFORE_THE_SEED = "2025-12-31T00:00:00Z"
SHARED = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=SQL_BACKENDS)
async def shared(request: pytest.FixtureRequest) -> AsyncIterator[Api]:
    """One seeded app per backend for the read-only cases."""
    databases = request.getfixturevalue(f"{request.param}_databases")
    async with serving(databases.fresh(), FrozenClock(), seeded=True) as running:
        yield running


async def get_json(api: Api, url: str) -> Any:
    response = await api.client.get(url)
    assert response.status_code == 200, response.text
    return response.json()


async def timeline_items(api: Api, query: str = f"proposal={PROPOSAL}") -> list[dict[str, Any]]:
    """The timeline the exports must agree with."""
    items: list[dict[str, Any]] = (await get_json(api, f"/v1/timeline?{query}&limit=1000"))["items"]
    return items


def by_occurred_at(slides: list[dict[str, Any]], items: list[dict[str, Any]], at: str) -> Any:
    """The slide of the (first) timeline event written with this occurred_at."""
    wanted = next(i["id"] for i in items if i["occurred_at"] == at)
    return next(s for s in slides if s["unique_id"] == wanted)


def parse_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


# TimelineJS


@SHARED
async def test_timelinejs_has_a_slide_per_timeline_event_in_its_order(shared: Api) -> None:
    document = await get_json(shared, TIMELINEJS)
    items = await timeline_items(shared)
    assert items
    assert [s["unique_id"] for s in document["events"]] == [i["id"] for i in items]


@SHARED
async def test_the_title_slide_is_the_proposal_with_its_terms_and_proposer(shared: Api) -> None:
    title = (await get_json(shared, TIMELINEJS))["title"]["text"]
    proposal = await get_json(shared, f"/v1/proposals/{PROPOSAL}")
    assert title["headline"] == escape(proposal["title"])
    assert title["text"].count("<li>") == len(proposal["terms"]) == 3
    assert all(escape(term) in title["text"] for term in proposal["terms"])
    assert "United States" in title["text"]


@SHARED
async def test_slides_are_grouped_by_party(shared: Api) -> None:
    slides = (await get_json(shared, TIMELINEJS))["events"]
    items = await timeline_items(shared)
    assert {"Russia", "Ukraine", "United States"} <= {s.get("group") for s in slides}
    putin = next(i for i in items if i["payload"].get("speaker") == "vladimir-putin")
    rubio = next(i for i in items if i["payload"].get("speaker") == "marco-rubio")
    groups = {s["unique_id"]: s.get("group") for s in slides}
    assert groups[putin["id"]] == "Russia"
    assert groups[rubio["id"]] == "United States"


@SHARED
async def test_dates_go_down_to_the_events_precision_and_ranges_say_so(shared: Api) -> None:
    slides = (await get_json(shared, TIMELINEJS))["events"]
    items = await timeline_items(shared)
    call = by_occurred_at(slides, items, "2025-03-11/2025-03-13")
    assert call["start_date"] == {"year": 2025, "month": 3, "day": 11}
    assert call["end_date"] == {"year": 2025, "month": 3, "day": 13}
    assert call["display_date"] == "11\u201313 March 2025"
    putin = next(i for i in items if i["payload"].get("speaker") == "vladimir-putin")
    evening = next(s for s in slides if s["unique_id"] == putin["id"])
    assert evening["start_date"] == {"year": 2025, "month": 3, "day": 13, "hour": 18}
    assert evening["end_date"] == {"year": 2025, "month": 3, "day": 13, "hour": 23}
    assert evening["display_date"] == "13 March 2025, 18:00\u201323:59 UTC+03:00"
    uncertain = by_occurred_at(slides, items, "2025-03-13?")
    assert "end_date" not in uncertain
    assert uncertain["display_date"] == "13 March 2025 (uncertain)"


@SHARED
async def test_each_slide_cites_its_sources_with_their_quotes(shared: Api) -> None:
    slides = {s["unique_id"]: s for s in (await get_json(shared, TIMELINEJS))["events"]}
    for item in await timeline_items(shared):
        text = slides[item["id"]]["text"]["text"]
        assert "Sources:" in text
        for citation in item["sources"]:
            assert escape(citation["quote"]) in text
    notus = (await get_json(shared, "/v1/sources/notus-2025-03-13"))["outlet"]
    assert any(escape(notus) in s["text"]["text"] for s in slides.values())


@SHARED
async def test_disputed_claims_say_so(shared: Api) -> None:
    slides = {s["unique_id"]: s for s in (await get_json(shared, TIMELINEJS))["events"]}
    disputed = [i for i in await timeline_items(shared) if i["disputed"]]
    assert disputed
    for item in disputed:
        text = slides[item["id"]]["text"]
        assert text["headline"].startswith("Disputed: ")
        assert escape(item["disputes"][0]["reason"]) in text["text"]
    undisputed = [s for i, s in slides.items() if i not in {d["id"] for d in disputed}]
    assert not any("Disputed" in s["text"]["headline"] for s in undisputed)


@SHARED
async def test_as_of_keeps_only_events_begun_by_then(shared: Api) -> None:
    items = await timeline_items(shared)
    for as_of in ("2025-03-12T00:00:00Z", "2025-03-13T12:00:00%2B03:00"):
        cut = "2025-03-12T00:00:00Z" if as_of.startswith("2025-03-12") else "2025-03-13T09:00:00Z"
        kept = [i["id"] for i in items if i["valid_time"]["earliest"] <= cut]
        slides = (await get_json(shared, f"{TIMELINEJS}&as_of={as_of}"))["events"]
        assert [s["unique_id"] for s in slides] == kept
        assert 0 < len(kept) < len(items)
    before = await get_json(shared, f"{TIMELINEJS}&as_of=2025-03-10&tz=Asia/Riyadh")
    assert before["events"] == []


@SHARED
async def test_before_the_seed_was_recorded_the_export_is_empty(shared: Api) -> None:
    document = await get_json(shared, f"{TIMELINEJS}&known_at={BEFORE_THE_SEED}")
    assert document["events"] == []
    assert document["title"]["text"]["headline"] == PROPOSAL
    rows = parse_csv((await shared.client.get(f"{CSV_URL}&known_at={BEFORE_THE_SEED}")).text)
    assert rows == []
    plover = await shared.client.get(f"{PLOVER}&known_at={BEFORE_THE_SEED}")
    assert plover.status_code == 200 and plover.content == b""


# CSV


@SHARED
async def test_csv_has_the_header_and_a_row_per_event(shared: Api) -> None:
    response = await shared.client.get(CSV_URL)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == (
        f'attachment; filename="{PROPOSAL}-events.csv"'
    )
    assert response.text.splitlines()[0] == ",".join(EVENT_COLUMNS)
    rows = parse_csv(response.text)
    items = await timeline_items(shared)
    assert [r["id"] for r in rows] == [i["id"] for i in items]
    for row, item in zip(rows, items, strict=True):
        assert row["type"] == item["type"]
        assert row["occurred_at"] == item["occurred_at"]
        assert row["valid_from"] == item["valid_time"]["earliest"]
        code = item["codes"]["cameo"]
        assert row["cameo"] == (f"CAMEO {code}" if code else "")
        assert row["disputed"] == str(item["disputed"]).lower()
        assert row["source_ids"].split("; ") == [c["source"] for c in item["sources"]]
        assert all(f"\u201c{c['quote']}\u201d" in row["sources"] for c in item["sources"])


@SHARED
async def test_csv_without_a_proposal_is_the_whole_timeline(shared: Api) -> None:
    response = await shared.client.get("/v1/exports/events.csv")
    assert response.headers["content-disposition"] == 'attachment; filename="all-events.csv"'
    rows = parse_csv(response.text)
    assert [r["id"] for r in rows] == [i["id"] for i in await timeline_items(shared, "")]


@SHARED
async def test_csv_codes_keep_their_leading_zeros_in_pandas_and_spreadsheets(shared: Api) -> None:
    response = await shared.client.get("/v1/exports/events.csv")
    rows = parse_csv(response.text)
    cells = [row["cameo"] for row in rows]
    codes = [i["codes"]["cameo"] for i in await timeline_items(shared, "")]
    assert "044" in codes  # the Riyadh talks: a meeting in a third country
    read = pandas_default_column(cells)
    assert [c.removeprefix("CAMEO ") if isinstance(c, str) else None for c in read] == codes
    assert not any(spreadsheet_reads_as_number(cell) for cell in cells)


@SHARED
async def test_the_timelinejs_layout_has_exactly_the_template_columns(shared: Api) -> None:
    response = await shared.client.get(f"{CSV_URL}&layout=timelinejs")
    assert response.status_code == 200, response.text
    reader = csv.reader(io.StringIO(response.text))
    header = next(reader)
    assert tuple(header) == TEMPLATE_COLUMNS
    assert header[:4] == ["Year", "Month", "Day", "Time"] and header[-1] == "Background"
    rows = [dict(zip(header, r, strict=True)) for r in reader]
    document = await get_json(shared, TIMELINEJS)
    assert rows[0]["Type"] == "title"
    assert rows[0]["Headline"] == document["title"]["text"]["headline"]
    assert len(rows) == 1 + len(document["events"])
    for row, slide in zip(rows[1:], document["events"], strict=True):
        assert row["Year"] == str(slide["start_date"]["year"])
        assert row["Headline"] == slide["text"]["headline"]
        assert row["Group"] == slide.get("group", "")
        assert row["Display Date"] == slide.get("display_date", "")


# PLOVER


@SHARED
async def test_plover_lines_are_records_of_the_coded_events(shared: Api) -> None:
    response = await shared.client.get(PLOVER)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/x-ndjson"
    records = [json.loads(line) for line in response.text.splitlines()]
    items = await timeline_items(shared)
    coded = [i for i in items if i["codes"]["plover"]]
    assert 0 < len(coded) < len(items)
    assert [r["id"] for r in records] == [i["id"] for i in coded]
    for record, item in zip(records, coded, strict=True):
        assert record["event"] == [item["codes"]["plover"]]
        assert record["cameo"] == item["codes"]["cameo"]
        assert record["date"].startswith("2025-")
        assert [c["citation"] for c in record["cite_info"]] == [
            c["source"] for c in item["sources"]
        ]


@SHARED
async def test_plover_actors_carry_wikidata_ids_where_the_registry_has_them(shared: Api) -> None:
    records = [json.loads(line) for line in (await shared.client.get(PLOVER)).text.splitlines()]
    putin = next(r for r in records if r.get("speaker", {}).get("id") == "vladimir-putin")
    assert (putin["event"], putin["mode"], putin["cameo"]) == (["AGREE"], "conditional", "030")
    assert putin["source"] == [
        {"id": "russia", "actor_text": "Russia", "identifier_id": "Q159", "party": "russia"}
    ]
    assert putin["speaker"]["identifier_id"] == "Q7747"
    assert [r["identifier_id"] for r in putin["recipient"]] == ["Q30"]
    assert (putin["date"], putin["time"]) == ("2025-03-13", "18:00:00+03:00")
    ushakov = next(r for r in records if r.get("speaker", {}).get("id") == "yuri-ushakov")
    assert ushakov["speaker"]["identifier_id"] is None
    assert ushakov["speaker"]["party"] == "russia"


# Every export


@SHARED
@pytest.mark.parametrize("url", [TIMELINEJS, CSV_URL, f"{CSV_URL}&layout=timelinejs", PLOVER])
async def test_every_export_is_open_to_other_origins(shared: Api, url: str) -> None:
    response = await shared.client.get(url, headers={"Origin": "https://newsroom.example"})
    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-origin"] == "*"


@SHARED
@pytest.mark.parametrize(
    ("url", "status", "slug"),
    [
        ("/v1/exports/timelinejs", 400, "invalid-parameter"),
        ("/v1/exports/timelinejs?proposal=no-such-proposal", 404, "not-found"),
        ("/v1/exports/timelinejs?proposal=Not%20A%20Slug", 400, "invalid-parameter"),
        ("/v1/exports/events.csv?proposal=no-such-proposal", 404, "not-found"),
        ("/v1/exports/plover.jsonl?proposal=no-such-proposal", 404, "not-found"),
        ("/v1/exports/events.csv?layout=xlsx", 400, "invalid-parameter"),
        ("/v1/exports/events.csv?layout=events&layout=timelinejs", 400, "invalid-parameter"),
        (f"{TIMELINEJS}&as_of=yesterday", 400, "invalid-parameter"),
        (f"{TIMELINEJS}&as_of=2025-03-13T12:00", 400, "invalid-parameter"),
        ("/v1/exports/events.csv?as_of=2025-02-30", 400, "invalid-parameter"),
        ("/v1/exports/plover.jsonl?known_at=soon", 400, "invalid-parameter"),
        ("/v1/exports/plover.jsonl?tz=Mars/Olympus_Mons", 400, "invalid-parameter"),
    ],
)
async def test_bad_inputs_are_problem_documents(
    shared: Api, url: str, status: int, slug: str
) -> None:
    body = problem(await shared.client.get(url), status, slug)
    assert body["instance"] == url.split("?")[0]


# Writes and the clock: a fresh app each


async def test_a_corrected_event_is_exported_as_corrected(seeded: Api) -> None:
    items = await timeline_items(seeded)
    target = next(i for i in items if i["type"] == "StatementMade")
    payload = {**target["payload"], "summary": "A corrected summary <script>alert(1)</script>."}
    correction = raw_editorial("EventCorrected", target["id"], payload=payload)
    response = await seeded.client.post(
        "/v1/events", json={"stream": "editorial", "events": [correction]}, headers=seeded.writer
    )
    assert response.status_code == 201, response.text
    slides = {s["unique_id"]: s for s in (await get_json(seeded, TIMELINEJS))["events"]}
    text = slides[target["id"]]["text"]["text"]
    assert "Corrected" in text
    assert "A corrected summary &lt;script&gt;alert(1)&lt;/script&gt;." in text
    assert "<script" not in text
    row = next(
        r for r in parse_csv((await seeded.client.get(CSV_URL)).text) if r["id"] == target["id"]
    )
    assert row["summary"] == payload["summary"]
    assert row["corrected_by"] == correction["id"]


async def test_a_retracted_event_leaves_every_export(seeded: Api) -> None:
    items = await timeline_items(seeded)
    target = next(i for i in items if i["codes"]["plover"])
    retraction = raw_editorial("EventRetracted", target["id"])
    response = await seeded.client.post(
        "/v1/events", json={"stream": "editorial", "events": [retraction]}, headers=seeded.writer
    )
    assert response.status_code == 201, response.text
    slides = (await get_json(seeded, TIMELINEJS))["events"]
    assert target["id"] not in [s["unique_id"] for s in slides]
    assert target["id"] not in (await seeded.client.get(CSV_URL)).text
    assert target["id"] not in (await seeded.client.get(PLOVER)).text


@pytest.mark.parametrize("url", [TIMELINEJS, CSV_URL, f"{CSV_URL}&layout=timelinejs", PLOVER])
async def test_a_settled_export_is_immutable_and_answers_304(seeded: Api, url: str) -> None:
    await log_moves_on(seeded, hours=1)
    settled = f"{url}&as_of=2025-03-14T00:00:00Z&known_at={quote('2026-01-01T12:30:00Z')}"
    first = await seeded.client.get(settled)
    assert first.status_code == 200, first.text
    assert first.headers["cache-control"] == "public, max-age=31536000, immutable"
    again = await seeded.client.get(settled, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""
    live = await seeded.client.get(url)
    assert live.headers["cache-control"] == "no-cache"
    # A streamed export's ETag names its query and the log's head, not a hash of its bytes.
    again = await seeded.client.get(url, headers={"If-None-Match": live.headers["etag"]})
    assert again.status_code == 304


async def test_an_export_streamed_in_small_pages_has_every_event_once_in_order(
    seeded: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    import api.routes.exports as exports

    timeline = (await seeded.client.get("/v1/timeline?limit=1000")).json()["items"]
    whole = (await seeded.client.get("/v1/exports/events.csv")).text
    monkeypatch.setattr(exports, "FIRST_EXPORT_PAGE", 2)
    monkeypatch.setattr(exports, "EXPORT_PAGE", 5)
    paged = (await seeded.client.get("/v1/exports/events.csv")).text
    assert paged == whole
    rows = list(csv.DictReader(io.StringIO(paged)))
    assert [r["id"] for r in rows] == [e["id"] for e in timeline]
    slides = (await get_json(seeded, TIMELINEJS))["events"]
    assert len({s["unique_id"] for s in slides}) == len(slides) > 5
