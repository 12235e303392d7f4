"""Recording at the desk, over HTTP: forms built from the types' schemas, problems placed beside
the fields they name, the preview's account of what an event changes, appends that happen once
per form however often it is sent, and corrections, retractions and disputes."""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID

from domain.vocabulary import Stance
from store.ports import EventQuery
from tests.support.api import Api
from tests.support.desk import error_of, hidden_fields, sign_in, token_of

PROPOSAL = "us-30-day-ceasefire-2025"
ACCEPTED: dict[str, str] = {
    "type": "PositionStated",
    "occurred_at": "2025-03-14",
    "timezone": "Europe/Moscow",
    "payload.actor": "russia",
    "payload.proposal": PROPOSAL,
    "payload.stance": "accepted",
    "payload.speaker": "vladimir-putin",
    "sources[0].source": "rt-2025-03-13",
    "sources[0].quote": "We absolutely support it",
}


async def _preview(api: Api, csrf: str, **changes: str) -> Any:
    form = {**ACCEPTED, **changes, "csrf": csrf}
    return await api.client.post("/desk/events/preview", data={k: v for k, v in form.items() if v})


async def test_the_form_is_built_from_the_types_schema_with_pickers(seeded: Api) -> None:
    await sign_in(seeded.client, token_of(seeded.writer))
    page = (await seeded.client.get("/desk/events/new?type=PositionStated")).text
    stance = re.search(r'<select id="f-payload-stance".*?</select>', page, re.S)
    assert stance is not None
    assert re.findall(r'<option value="([a-z]+)"', stance.group(0)) == sorted(s for s in Stance)
    assert 'aria-required="true"' in stance.group(0), "stance is required by the schema"
    actor = re.search(r'<select id="f-payload-actor".*?</select>', page, re.S)
    assert actor is not None and '<option value="vladimir-putin">Vladimir Putin' in actor.group(0)
    proposals = re.search(r'<select id="f-payload-proposal".*?</select>', page, re.S)
    assert proposals is not None and f'value="{PROPOSAL}"' in proposals.group(0)
    assert "What a party says it will do about a proposal." in page, "the enum's description"
    assert 'name="payload.conditions[0].id"' in page and 'name="payload.conditions[0].text"' in page
    assert 'name="sources[0].source"' in page and 'data-quote="true"' in page
    assert "<legend>Sources" in page and 'id="source-text"' in page


async def test_every_recordable_type_has_a_form(seeded: Api) -> None:
    await sign_in(seeded.client, token_of(seeded.writer))
    chooser = (await seeded.client.get("/desk/events/new")).text
    types = re.findall(r'<option value="([A-Za-z]+)"', chooser)
    assert "MeetingHeld" in types and "EventRetracted" not in types
    for name in types:
        response = await seeded.client.get(f"/desk/events/new?type={name}")
        assert response.status_code == 200, name
        assert 'name="occurred_at"' in response.text
    meeting = (await seeded.client.get("/desk/events/new?type=MeetingHeld")).text
    assert '<select id="f-payload-participants" name="payload.participants" multiple' in meeting
    assert (await seeded.client.get("/desk/events/new?type=Nope")).status_code == 404


async def test_the_preview_says_what_the_event_changes(seeded: Api) -> None:
    csrf = await sign_in(seeded.client, token_of(seeded.writer))
    head = await seeded.services.store.head()
    response = await _preview(seeded, csrf)
    assert response.status_code == 200, response.text
    changes = re.search(r'<ul class="changes">(.*?)</ul>', response.text, re.S)
    assert changes is not None
    assert (
        "Russia on U.S. proposal for a 30-day ceasefire between Russia and Ukraine: "
        "conditional → accepted from 14 March 2025 (Moscow time), said by Vladimir Putin."
    ) in changes.group(1)
    assert await seeded.services.store.head() == head, "a preview appends nothing"


async def test_a_time_of_day_is_told_where_it_happened(seeded: Api) -> None:
    csrf = await sign_in(seeded.client, token_of(seeded.writer))
    response = await _preview(seeded, csrf, occurred_at="2025-03-12T18:00+03:00")
    assert "unstated → accepted from 12 March 2025, 18:00 Moscow" in response.text
    assert "Until 12 March 2025, 21:00 UTC, when a later event on record takes over." in (
        response.text
    ), "Ushakov's rejection of the 13th, in Moscow"


async def test_appending_twice_from_one_preview_records_one_event(seeded: Api) -> None:
    csrf = await sign_in(seeded.client, token_of(seeded.writer))
    preview = (await _preview(seeded, csrf)).text
    form = hidden_fields(preview, "append-form")
    head = await seeded.services.store.head()
    first = await seeded.client.post("/desk/events", data=form, follow_redirects=False)
    second = await seeded.client.post("/desk/events", data=form, follow_redirects=False)
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    assert await seeded.services.store.head() == head + 1
    event_id = UUID(first.headers["location"].split("/")[3].split("?")[0])
    event = await seeded.services.store.get(event_id)
    assert event is not None and event.metadata["recorded_by"] == "writer"
    assert event.draft.payload["stance"] == "accepted"
    assert [c.quote for c in event.draft.sources] == ["We absolutely support it"]
    page = (await seeded.client.get(first.headers["location"])).text
    assert 'id="recorded"' in page and f'href="/events/{event_id}"' in page


async def test_a_missing_field_is_named_beside_its_input(seeded: Api) -> None:
    csrf = await sign_in(seeded.client, token_of(seeded.writer))
    response = await _preview(seeded, csrf, **{"payload.stance": ""})
    assert response.status_code == 422
    assert "stance" in error_of(response.text, "f-payload-stance")
    assert 'aria-describedby="f-payload-stance-hint f-payload-stance-error"' in response.text
    assert '<a href="#f-payload-stance">Stance:' in response.text, "linked from the summary"
    assert 'value="rt-2025-03-13" selected' in response.text, "what was typed is kept"


async def test_the_append_paths_problems_are_placed_on_the_form(seeded: Api) -> None:
    csrf = await sign_in(seeded.client, token_of(seeded.writer))
    preview = (await _preview(seeded, csrf, **{"sources[0].source": "no-such-outlet"})).text
    head = await seeded.services.store.head()
    response = await seeded.client.post("/desk/events", data=hidden_fields(preview, "append-form"))
    assert response.status_code == 422
    assert "not registered" in error_of(response.text, "f-sources-0-source")
    assert await seeded.services.store.head() == head


async def test_a_bad_time_is_named_before_the_preview(seeded: Api) -> None:
    csrf = await sign_in(seeded.client, token_of(seeded.writer))
    response = await _preview(seeded, csrf, occurred_at="2025-03-14T12:00")
    assert response.status_code == 422
    assert error_of(response.text, "f-occurred_at")


async def test_an_event_can_be_disputed_retracted_and_corrected_with_a_reason(seeded: Api) -> None:
    csrf = await sign_in(seeded.client, token_of(seeded.writer))
    [target] = await seeded.services.store.read(
        EventQuery(types=("PositionStated",), actor="russia", limit=1)
    )
    page = (await seeded.client.get(f"/desk/events/{target.id}")).text
    for action in ("dispute", "retract", "correct"):
        assert f'id="{action}-form"' in page
    key = hidden_fields(page, "dispute-form")["idempotency_key"]
    missing = await seeded.client.post(
        f"/desk/events/{target.id}/dispute", data={"csrf": csrf, "idempotency_key": key}
    )
    assert missing.status_code == 422 and error_of(missing.text, "f-payload-reason")
    disputed = await seeded.client.post(
        f"/desk/events/{target.id}/dispute",
        data={"csrf": csrf, "payload.reason": "No other outlet says so."},
        follow_redirects=False,
    )
    assert disputed.status_code == 303
    corrected = await seeded.client.post(
        f"/desk/events/{target.id}/correct",
        data={
            "csrf": csrf,
            "payload.occurred_at": "2025-03-12",
            "payload.timezone": target.draft.valid_time.timezone,
            "payload.reason": "It was the day before.",
            **{
                f"payload.payload.{k}": v
                for k, v in target.current_payload().items()
                if isinstance(v, str)
            },
        },
        follow_redirects=False,
    )
    assert corrected.status_code == 303, corrected.text
    correction = await seeded.services.store.get(
        UUID(corrected.headers["location"].split("/")[3].split("?")[0])
    )
    assert correction is not None and correction.type == "EventCorrected"
    assert correction.draft.payload == {
        "target": str(target.id),
        "reason": "It was the day before.",
        "occurred_at": "2025-03-12",
    }, "only what changes"
