"""A payload's quote over HTTP: it rests on the texts of the sources its event cites; verified
when one holds it, refused (naming `events[i].payload.quote`, with the closest passage across
them) only when every cited source has a text and none holds it, and checked again as texts
come and corrections replace it."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.test_source_texts import ARTICLE, append, key, put_text, sha
from tests.builders import raw_editorial, raw_position, raw_source
from tests.support.api import Api, problem

OTHER = "Kyiv, Thursday. The minister said the ball was \u201cnow in Russia\u2019s court\u201d."


def stated(quote: str, *sources: str) -> dict[str, Any]:
    """A PositionStated whose payload quotes, citing these sources without quotes."""
    raw = raw_position()
    raw["payload"]["quote"] = quote
    raw["sources"] = [{"source": s} for s in sources]
    return raw


@pytest.fixture
async def editor(api: Api) -> dict[str, str]:
    assert (await append(api, raw_source("notus"), raw_source("kyiv"))).status_code == 201
    return await key(api, "desk", "sources:text", "events:write")


async def _check(api: Api, event: dict[str, Any]) -> Any:
    return (await api.client.get(f"/v1/events/{event['id']}")).json()["quote_check"]


async def test_a_payload_quote_in_any_cited_text_is_verified_with_its_span(
    api: Api, editor: dict[str, str]
) -> None:
    await put_text(api, editor, ARTICLE, "notus")
    await put_text(api, editor, OTHER, "kyiv")
    event = stated('the ball was "now in Russia\u2019s court"', "notus", "kyiv")
    assert (await append(api, event)).status_code == 201
    check = await _check(api, event)
    assert check["verified"] is True and check["source"] == "kyiv"
    assert check["sha256"] == sha(OTHER)
    assert OTHER[check["span"]["start"] : check["span"]["end"]].startswith("the ball was")
    split = stated("the idea ... we support it", "notus")
    assert (await append(api, split)).status_code == 201
    assert len((await _check(api, split))["fragments"]) == 2
    plain = raw_position()
    assert (await append(api, plain)).status_code == 201
    assert await _check(api, plain) is None  # no quote, nothing to check


async def test_a_payload_quote_no_cited_text_holds_is_refused_naming_it(
    api: Api, editor: dict[str, str]
) -> None:
    await put_text(api, editor, ARTICLE, "notus")
    await put_text(api, editor, OTHER, "kyiv")
    head = await api.services.store.head()
    bad = stated("the ball is in Moscow's court", "notus", "kyiv")
    body = problem(await append(api, raw_position(), bad), 422, "invalid-request")
    [error] = body["errors"]
    assert error["field"] == "events[1].payload.quote"
    assert "'notus', 'kyiv'" in error["message"]
    passage = error["passage"]
    assert passage["source"] == "kyiv" and "court" in passage["text"]
    assert OTHER[passage["start"] : passage["end"]] == passage["text"]
    assert await api.services.store.head() == head


async def test_a_payload_quote_is_unverified_not_refused_while_a_cited_source_has_no_text(
    api: Api, editor: dict[str, str]
) -> None:
    await put_text(api, editor, ARTICLE, "notus")
    event = stated("the ball is in Moscow's court", "notus", "kyiv")
    assert (await append(api, event)).status_code == 201
    assert await _check(api, event) == {"verified": False}
    # kyiv's text comes, and holds it not either: now it fails, listed under both sources.
    answer = (await put_text(api, editor, OTHER, "kyiv")).json()["verification"]
    assert answer["failed_total"] == 1
    [failed] = answer["failed"]
    assert (failed["event"], failed["field"], failed["citation"]) == (
        event["id"],
        "payload.quote",
        1,
    )
    assert failed["quote"] == "the ball is in Moscow's court"
    assert await _check(api, event) == {"verified": False, "failed": True}
    page = (await api.client.get("/v1/sources/notus/verification", headers=editor)).json()
    assert [(i["event"], i["field"], i["citation"]) for i in page["items"]] == [
        (event["id"], "payload.quote", 0)
    ]


async def test_a_text_attached_later_verifies_a_payload_quote(
    api: Api, editor: dict[str, str]
) -> None:
    event = stated("nothing more than a temporary respite", "kyiv", "notus")
    assert (await append(api, event)).status_code == 201
    assert await _check(api, event) == {"verified": False}
    answer = (await put_text(api, editor, ARTICLE, "notus")).json()["verification"]
    assert answer == {"verified": 1, "failed": [], "failed_total": 0, "next": None}
    check = await _check(api, event)
    assert check["verified"] is True and check["source"] == "notus"
    listed = (await api.client.get("/v1/events?type=PositionStated")).json()["items"]
    assert listed[0]["quote_check"] == check


async def test_a_correction_replacing_the_quote_meets_the_same_rule_and_the_check_follows(
    api: Api, editor: dict[str, str]
) -> None:
    await put_text(api, editor, ARTICLE, "notus")
    event = stated("nothing more than a temporary respite", "notus")
    assert (await append(api, event)).status_code == 201
    payload = {"actor": "russia", "proposal": "us-30-day-ceasefire-2025", "stance": "rejected"}
    head = await api.services.store.head()
    wrong = raw_editorial("EventCorrected", event["id"], payload={**payload, "quote": "no truce"})
    body = problem(await append(api, wrong), 422, "invalid-request")
    assert [e["field"] for e in body["errors"]] == ["events[0].payload.payload.quote"]
    assert await api.services.store.head() == head
    right = raw_editorial(
        "EventCorrected", event["id"], payload={**payload, "quote": "we support it"}
    )
    assert (await append(api, right)).status_code == 201
    check = await _check(api, event)
    start, end = check["span"]["start"], check["span"]["end"]
    assert ARTICLE[start:end].lower() == "we support it"
    timeline = (await api.client.get("/v1/timeline")).json()["items"]
    [shown] = [e for e in timeline if e["id"] == event["id"]]
    assert shown["payload"]["quote"] == "we support it" and shown["quote_check"] == check
    # Retracting the correction restores the first quote, and its check.
    assert (await append(api, raw_editorial("EventRetracted", right["id"]))).status_code == 201
    restored = await _check(api, event)
    span = restored["span"]
    assert ARTICLE[span["start"] : span["end"]] == "nothing more than a temporary respite"
