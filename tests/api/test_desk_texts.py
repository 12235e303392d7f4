"""Source texts at the desk, over HTTP: a text pasted with a source's registration is attached
through the texts service, its refusals named on the text field; a quote its source's text does
not hold is named at the preview with the closest passage (and still refused by the append); a
key without `sources:text` records events but is told texts need that scope."""

from __future__ import annotations

import hashlib
import html
import re

import pytest

from api.desk.sources import FORM_BYTES
from tests.support.api import Api
from tests.support.desk import error_of, hidden_fields, sign_in, token_of

RT = "rt-2025-03-13"
# Made up for the tests: the repository holds no article text.
ARTICLE = (
    "Moscow, Thursday evening. Asked about the ceasefire, the President said: \u201cWe "
    "absolutely support it, but there are nuances.\u201d\n\nHe added that questions remain."
)
REGISTRATION = {
    "payload.source": "made-up-2025-03-13",
    "payload.outlet": "Made Up",
    "payload.headline": "A made-up article",
    "payload.published_on": "2025-03-13",
}
PUTIN = {
    "type": "PositionStated",
    "occurred_at": "2025-03-13T18+03:00/2025-03-13T23+03:00",
    "timezone": "Europe/Moscow",
    "payload.actor": "russia",
    "payload.proposal": "us-30-day-ceasefire-2025",
    "payload.stance": "conditional",
    "payload.speaker": "vladimir-putin",
    "sources[0].source": RT,
}


async def editor_token(api: Api, *scopes: str) -> str:
    _, token = await api.services.keys.create(
        "editor", frozenset({"events:write", *scopes}), api.services.clock()
    )
    return token


@pytest.fixture
async def editor(seeded: Api) -> str:
    """A signed-in editor whose key may attach and read texts; the CSRF token."""
    return await sign_in(seeded.client, await editor_token(seeded, "sources:text"))


async def test_a_text_pasted_with_a_registration_is_attached(seeded: Api, editor: str) -> None:
    as_sent = ARTICLE.replace("\n", "\r\n")  # a browser sends a textarea's lines so
    response = await seeded.client.post(
        "/desk/sources", data={**REGISTRATION, "text": as_sent, "csrf": editor}
    )
    assert response.status_code == 200, response.text
    assert f"Text attached: {len(ARTICLE)} characters" in response.text
    sha256 = hashlib.sha256(ARTICLE.encode()).hexdigest()
    assert await seeded.services.store.reads.text(sha256) == ARTICLE
    shown = await seeded.client.get("/desk/sources/made-up-2025-03-13/text")
    assert shown.status_code == 200 and shown.json()["text"] == ARTICLE
    assert shown.headers["cache-control"] == "no-store"


async def test_a_text_the_service_refuses_is_named_on_the_text_field(
    seeded: Api, editor: str
) -> None:
    head = await seeded.services.store.head()
    response = await seeded.client.post(
        f"/desk/sources/{RT}/text", data={"text": "a bell\x07 rings", "csrf": editor}
    )
    assert response.status_code == 422
    assert "control character U+0007" in error_of(response.text, "f-text")
    unknown = await seeded.client.post(
        "/desk/sources/no-such-outlet/text", data={"text": ARTICLE, "csrf": editor}
    )
    assert unknown.status_code == 404 and error_of(unknown.text, "f-text")
    assert await seeded.services.store.head() == head


async def test_a_form_too_large_to_read_is_named_on_the_text_field(
    seeded: Api, editor: str
) -> None:
    head = await seeded.services.store.head()
    huge = "x" * (FORM_BYTES + 1)
    response = await seeded.client.post(
        "/desk/sources", data={**REGISTRATION, "text": huge, "csrf": editor}
    )
    assert response.status_code == 413
    assert "larger than" in error_of(response.text, "f-text")
    assert 'id="f-payload-outlet"' in response.text, "the registration form, to fill anew"
    assert await seeded.services.store.head() == head


async def test_a_misquote_is_named_at_the_preview_with_the_closest_passage(
    seeded: Api, editor: str
) -> None:
    attached = await seeded.client.post(
        f"/desk/sources/{RT}/text", data={"text": ARTICLE, "csrf": editor}
    )
    assert attached.status_code == 200, attached.text
    wrong = {**PUTIN, "sources[0].quote": "We absolutely reject it", "csrf": editor}
    response = await seeded.client.post("/desk/events/preview", data=wrong)
    assert response.status_code == 422
    error = html.unescape(error_of(response.text, "f-sources-0-quote"))
    assert f"not in the text of source {RT!r}" in error
    assert "closest passage" in error and "We absolutely support it" in error
    assert 'id="append-form"' not in response.text, "no appending a misquote"
    assert 'aria-invalid="true"' in re.search(
        r'<textarea id="f-sources-0-quote"[^>]*>', response.text
    ).group(0)  # type: ignore[union-attr]

    right = {**PUTIN, "sources[0].quote": "we absolutely support it", "csrf": editor}
    preview = await seeded.client.post("/desk/events/preview", data=right)
    assert preview.status_code == 200, preview.text
    # The text changes between the preview and the append: the append path still refuses.
    await seeded.client.post(
        f"/desk/sources/{RT}/text", data={"text": "Another text.", "csrf": editor}
    )
    head = await seeded.services.store.head()
    refused = await seeded.client.post(
        "/desk/events", data=hidden_fields(preview.text, "append-form")
    )
    assert refused.status_code == 422
    assert "not in the text" in error_of(refused.text, "f-sources-0-quote")
    assert await seeded.services.store.head() == head


async def test_a_key_without_the_text_scope_records_but_is_told_texts_need_it(
    seeded: Api,
) -> None:
    csrf = await sign_in(seeded.client, token_of(seeded.writer))
    home = (await seeded.client.get("/desk")).text
    assert "lacks the &#39;sources:text&#39; scope" in home
    form = (await seeded.client.get("/desk/events/new?type=PositionStated")).text
    assert "lacks the &#39;sources:text&#39; scope" in form and 'data-texts="off"' in form
    shown = await seeded.client.get(f"/desk/sources/{RT}/text")
    assert shown.status_code == 403 and "sources:text" in shown.json()["note"]
    registered = await seeded.client.post(
        "/desk/sources", data={**REGISTRATION, "text": ARTICLE, "csrf": csrf}
    )
    assert registered.status_code == 403
    assert "Source made-up-2025-03-13 registered" not in registered.text
    assert "sources:text" in error_of(registered.text, "f-text")
    typed = {**PUTIN, "sources[0].quote": "We absolutely support it", "csrf": csrf}
    preview = await seeded.client.post("/desk/events/preview", data=typed)
    assert preview.status_code == 200, "a typed quote needs no text scope"


async def test_hints_show_code_and_pickers_say_what_to_choose(seeded: Api, editor: str) -> None:
    page = (await seeded.client.get("/desk/events/new?type=PositionStated")).text
    assert "`" not in page
    assert "<code>conditions</code>" in page, "the type's description, its Markdown as code"
    hints = dict(re.findall(r'<span class="hint" id="f-payload-(\w+)-hint">(.*?)</span>', page))
    assert "from the proposals on record" in hints["proposal"]
    assert "Who said it" in hints["speaker"]
    assert "slug" not in hints["actor"] + hints["proposal"] + hints["speaker"]
    tabling = (await seeded.client.get("/desk/events/new?type=ProposalTabled")).text
    assert '<input id="f-payload-proposal"' in tabling, "a new proposal's id is typed"
