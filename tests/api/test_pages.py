"""The newsroom page and its embed, as served: the picker rendered on the server, escaping,
framing rules, and the policies that keep the page to its own script."""

from __future__ import annotations

from uuid import uuid4

from tests.support.api import Api, problem

PROPOSAL = "us-30-day-ceasefire-2025"


async def test_the_page_lists_the_proposals_in_its_picker(seeded: Api) -> None:
    response = await seeded.client.get("/")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert f'<option value="{PROPOSAL}">U.S. proposal for a 30-day ceasefire' in response.text
    assert '<script type="module" src="/static/newsroom.js">' in response.text


async def test_an_empty_log_says_so_in_the_picker(api: Api) -> None:
    response = await api.client.get("/")

    assert response.status_code == 200
    assert "No proposals on record yet" in response.text


async def test_the_page_keeps_to_its_own_script_and_may_not_be_framed(seeded: Api) -> None:
    response = await seeded.client.get("/")

    policy = response.headers["content-security-policy"]
    assert "script-src 'self';" in policy
    assert "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert response.headers["x-frame-options"] == "DENY"


async def test_the_embed_may_be_framed_by_any_site(seeded: Api) -> None:
    response = await seeded.client.get(f"/embed/{PROPOSAL}")

    assert response.status_code == 200
    assert "frame-ancestors *" in response.headers["content-security-policy"]
    assert "x-frame-options" not in response.headers
    assert 'data-embed="true"' in response.text
    assert 'id="proposal"' not in response.text


async def test_an_embed_of_an_unknown_proposal_is_a_404_problem(seeded: Api) -> None:
    problem(await seeded.client.get("/embed/no-such-proposal"), 404, "not-found")


async def test_an_embed_path_that_is_not_a_slug_is_refused(seeded: Api) -> None:
    response = await seeded.client.get("/embed/Not%20A%20Slug")

    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"


async def test_titles_are_escaped_in_the_picker(seeded: Api) -> None:
    title = '<script>alert("x")</script> & more'
    tabled = {
        "id": str(uuid4()),
        "type": "ProposalTabled",
        "occurred_at": "2025-03-11",
        "payload": {"proposal": "p", "proposer": "ukraine", "title": title, "terms": ["t"]},
        "sources": [{"source": "notus-2025-03-13"}],
    }
    made = await seeded.client.post(
        "/v1/events", json={"stream": "p", "events": [tabled]}, headers=seeded.writer
    )
    assert made.status_code == 201, made.text

    response = await seeded.client.get("/")

    assert "<script>alert" not in response.text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; more" in response.text


async def test_the_script_and_styles_are_served_with_a_lifetime(api: Api) -> None:
    for path, kind in (("/static/newsroom.js", "javascript"), ("/static/newsroom.css", "css")):
        response = await api.client.get(path)

        assert response.status_code == 200
        assert kind in response.headers["content-type"]
        assert "max-age=300" in response.headers["cache-control"]


async def test_a_missing_static_file_is_a_404_problem(api: Api) -> None:
    problem(await api.client.get("/static/nothing.js"), 404, "not-found")
