"""Source texts over HTTP: attached and read only with the `sources:text` scope, never public;
quotes of a source with a text verified by the engine (refused when absent, with the closest
passage), and verified again when a text comes later."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from litestar.exceptions import PermissionDeniedException

from api.source_texts import attach_text, read_source_text
from tests.builders import raw_editorial, raw_position, raw_source
from tests.support.api import Api, bearer, problem

# Made up for the tests: the repository holds no article text.
ARTICLE = (
    "Moscow, Thursday. The President said the idea \u201cis correct, and we support it\u201d "
    "\u2014 but there are questions that need to be discussed.\n\n"
    "His aide called a truce \u2018nothing more than a temporary respite\u2019."
)
REVISED = ARTICLE.replace("Thursday", "Thursday evening")
PLAIN = {"Content-Type": "text/plain; charset=utf-8"}


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


async def key(api: Api, name: str, *scopes: str) -> dict[str, str]:
    _, token = await api.services.keys.create(name, frozenset(scopes), api.services.clock())
    return bearer(token)


async def append(api: Api, *events: dict[str, Any]) -> Any:
    return await api.client.post(
        "/v1/events", json={"stream": "s", "events": list(events)}, headers=api.writer
    )


async def put_text(
    api: Api, headers: dict[str, str], text: str | bytes, source: str = "notus"
) -> Any:
    body = text.encode() if isinstance(text, str) else text
    return await api.client.put(
        f"/v1/sources/{source}/text", content=body, headers={**PLAIN, **headers}
    )


@pytest.fixture
async def editor(api: Api) -> dict[str, str]:
    assert (await append(api, raw_source("notus"))).status_code == 201
    return await key(api, "desk", "sources:text", "events:write")


async def test_a_text_is_attached_once_and_the_same_text_again_changes_nothing(
    api: Api, editor: dict[str, str]
) -> None:
    first = await put_text(api, editor, ARTICLE)
    assert first.status_code == 201, first.text
    answer = first.json()
    assert answer["source"] == "notus" and answer["sha256"] == sha(ARTICLE)
    assert answer["characters"] == len(ARTICLE) and answer["attached_at"]
    assert answer["verification"] == {"verified": 0, "failed": [], "failed_total": 0, "next": None}
    head = await api.services.store.head()
    again = await put_text(api, editor, ARTICLE)
    assert again.status_code == 200 and again.json() == answer
    assert await api.services.store.head() == head
    replaced = await put_text(api, editor, REVISED)
    assert replaced.status_code == 201 and replaced.json()["sha256"] == sha(REVISED)
    assert await api.services.store.reads.text(sha(ARTICLE)) == ARTICLE  # kept for the record
    attachments = (await api.client.get("/v1/events?type=SourceTextAttached")).json()["items"]
    assert [e["payload"]["sha256"] for e in attachments] == [sha(ARTICLE), sha(REVISED)]
    assert attachments[0]["metadata"] == {}  # who attached it: for events:audit keys only


async def test_the_text_is_read_only_with_the_scope_and_never_public(
    api: Api, editor: dict[str, str]
) -> None:
    await put_text(api, editor, ARTICLE)
    url = "/v1/sources/notus/text"
    response = await api.client.get(url, headers=editor)
    assert response.status_code == 200 and response.text == ARTICLE
    assert response.headers["content-type"].startswith("text/plain")
    assert response.headers["etag"] == f'"{sha(ARTICLE)}"'
    assert response.headers["repr-digest"].startswith("sha-256=:")
    assert "no-cache" in response.headers["cache-control"]
    cached = await api.client.get(url, headers={**editor, "If-None-Match": f'"{sha(ARTICLE)}"'})
    assert cached.status_code == 304
    problem(await api.client.get(url), 401, "unauthorized")
    problem(await api.client.get(url, headers=api.writer), 403, "forbidden")
    admin = await key(api, "root", "admin")
    assert (await api.client.get(url, headers=admin)).text == ARTICLE
    public = (await api.client.get("/v1/sources/notus")).json()
    assert public["text"] == {
        "sha256": sha(ARTICLE),
        "characters": len(ARTICLE),
        "attached_at": public["text"]["attached_at"],
    }
    listed = (await api.client.get("/v1/sources")).json()["items"]
    assert listed[0]["text"]["sha256"] == sha(ARTICLE)
    for path in (
        "/v1/events",
        "/v1/sources",
        "/v1/sources/notus",
        "/v1/feed.atom",
        "/v1/openapi.json",
        "/v1/exports/events.csv",
    ):
        shown = (await api.client.get(path)).text
        assert "temporary respite" not in shown, path


async def test_refused_texts_are_problems_naming_the_body_and_write_nothing(
    api: Api, editor: dict[str, str]
) -> None:
    head = await api.services.store.head()
    problem(await put_text(api, {}, ARTICLE), 401, "unauthorized")
    problem(await put_text(api, api.writer, ARTICLE), 403, "forbidden")
    problem(await put_text(api, editor, ARTICLE, source="nobody"), 404, "not-found")
    problem(await put_text(api, editor, ARTICLE, source="Not_A_Slug"), 400, "invalid-parameter")
    for text, fragment in (("", "empty"), ("  \n ", "empty"), ("a\x00b", "U+0000")):
        body = problem(await put_text(api, editor, text), 422, "invalid-request")
        assert body["errors"][0]["field"] == "body" and fragment in body["errors"][0]["message"]
    body = problem(await put_text(api, editor, b"caf\xe9"), 422, "invalid-request")
    assert body["errors"][0]["field"] == "body"
    wrong = await api.client.put(
        "/v1/sources/notus/text",
        content=b"{}",
        headers={**editor, "Content-Type": "application/json"},
    )
    problem(wrong, 415, "unsupported-media-type")
    latin = await api.client.put(
        "/v1/sources/notus/text",
        content=b"text",
        headers={**editor, "Content-Type": "text/plain; charset=latin-1"},
    )
    problem(latin, 415, "unsupported-media-type")
    problem(await put_text(api, editor, "x" * (2 * 1024 * 1024)), 413, "body-too-large")
    assert await api.services.store.head() == head
    problem(await api.client.get("/v1/sources/notus/text", headers=editor), 404, "not-found")


async def test_a_quote_of_a_source_with_a_text_must_be_in_it(
    api: Api, editor: dict[str, str]
) -> None:
    await put_text(api, editor, ARTICLE)
    good = raw_position(quote='"Is correct, and we support it" - but ... questions')
    response = await append(api, good)
    assert response.status_code == 201, response.text
    shown = (await api.client.get(f"/v1/events/{good['id']}")).json()["sources"][0]
    assert shown["verified"] is True and shown["sha256"] == sha(ARTICLE)
    span = shown["span"]
    assert ARTICLE[span["start"] : span["end"]].startswith("is correct, and we support it")
    assert ARTICLE[span["start"] : span["end"]].endswith("questions")
    assert len(shown["fragments"]) == 2
    head = await api.services.store.head()
    bad = raw_position(quote="nothing more than a lasting respite")
    body = problem(await append(api, raw_source("other"), bad), 422, "invalid-request")
    [error] = body["errors"]
    assert error["field"] == "events[1].sources[0].quote"
    passage = error["passage"]
    assert "temporary respite" in passage["text"]
    assert ARTICLE[passage["start"] : passage["end"]] == passage["text"]
    assert await api.services.store.head() == head


async def test_a_text_attached_later_checks_the_quotes_already_recorded(
    api: Api, editor: dict[str, str]
) -> None:
    right = raw_position(quote="nothing more than a temporary respite")
    wrong = raw_position(quote="a lasting peace")
    plain = raw_position()
    assert (await append(api, right, wrong, plain)).status_code == 201
    before = (await api.client.get("/v1/events?type=PositionStated")).json()["items"]
    assert [e["sources"][0]["verified"] for e in before] == [False, False, False]
    assert "span" not in before[0]["sources"][0]
    answer = (await put_text(api, editor, ARTICLE)).json()["verification"]
    assert answer["verified"] == 1 and answer["failed_total"] == 1
    [failed] = answer["failed"]
    assert (failed["event"], failed["citation"], failed["quote"]) == (
        wrong["id"],
        0,
        "a lasting peace",
    )
    assert failed["closest"]["text"]
    after = (await api.client.get("/v1/events?type=PositionStated")).json()["items"]
    assert [e["sources"][0]["verified"] for e in after] == [True, False, False]
    assert after[1]["sources"][0]["sha256"] == sha(ARTICLE) and "span" not in after[1]["sources"][0]
    assert "sha256" not in after[2]["sources"][0]  # no quote: nothing to check
    page = await api.client.get("/v1/sources/notus/verification?limit=1", headers=editor)
    assert page.status_code == 200
    assert page.json()["items"][0]["event"] == wrong["id"] and page.json()["next"] is None
    problem(
        await api.client.get("/v1/sources/notus/verification", headers=api.writer), 403, "forbidden"
    )


async def test_the_desk_attaches_and_reads_in_process_with_the_scope_only(
    api: Api, editor: dict[str, str]
) -> None:
    keys = api.services.keys
    desk, _ = await keys.create("desk-session", frozenset({"sources:text"}), api.services.clock())
    reader, _ = await keys.create("reader", frozenset({"events:write"}), api.services.clock())
    created, answer = await attach_text(api.services, desk, "notus", ARTICLE)
    assert created and answer.sha256 == sha(ARTICLE)
    found = await read_source_text(api.services, desk, "notus")
    assert found is not None and found.text == ARTICLE
    with pytest.raises(PermissionDeniedException):
        await attach_text(api.services, reader, "notus", REVISED)
    with pytest.raises(PermissionDeniedException):
        await read_source_text(api.services, reader, "notus")


async def test_a_text_is_attached_through_its_route_only_and_never_edited(
    api: Api, editor: dict[str, str]
) -> None:
    raw = {
        "type": "SourceTextAttached",
        "occurred_at": "2025-03-13",
        "payload": {"source": "notus", "sha256": sha(ARTICLE), "characters": len(ARTICLE)},
    }
    body = problem(await append(api, raw), 422, "invalid-request")
    assert body["errors"][0]["field"] == "events[0].type"
    assert "PUT /v1/sources/{source}/text" in body["errors"][0]["message"]
    await put_text(api, editor, ARTICLE)
    [attached] = (await api.client.get("/v1/events?type=SourceTextAttached")).json()["items"]
    for kind in ("EventRetracted", "EventDisputed"):
        edit = raw_editorial(kind, attached["id"])
        body = problem(await append(api, edit), 422, "invalid-request")
        assert body["errors"][0]["field"] == "events[0].payload.target"
