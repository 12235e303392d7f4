"""The desk's sign-in, sessions and CSRF tokens, over HTTP: the key is exchanged for a session
whose cookie is HttpOnly, SameSite=Strict and scoped to /desk; sign-out revokes it on the
server; a read-only key is refused; a post without the session's token writes nothing."""

from __future__ import annotations

from http.cookies import SimpleCookie

from litestar.testing import AsyncTestClient

from api.app import create_app
from api.settings import DeskSettings, Settings, WebhookSettings
from tests.support.api import Api
from tests.support.desk import csrf_of, error_of, sign_in, token_of


def _cookie(response: object, name: str) -> SimpleCookie:
    for header in response.headers.get_list("set-cookie"):  # type: ignore[attr-defined]
        jar: SimpleCookie = SimpleCookie()
        jar.load(header)
        if name in jar:
            return jar
    raise AssertionError(f"no {name} cookie was set")


async def test_signing_in_sets_a_session_cookie_the_page_cannot_read(api: Api) -> None:
    token = token_of(api.writer)
    page = await api.client.get("/desk")
    response = await api.client.post(
        "/desk/sign-in", data={"csrf": csrf_of(page.text), "key": token}, follow_redirects=False
    )
    assert response.status_code == 303 and response.headers["location"] == "/desk"
    morsel = _cookie(response, "desk_session")["desk_session"]
    assert morsel["httponly"] and morsel["samesite"].lower() == "strict"
    assert morsel["path"] == "/desk" and not morsel["secure"], "plain http: not Secure"
    assert morsel.value.startswith("ds_") and token not in morsel.value
    assert token not in response.text and "no-store" in response.headers["cache-control"]


async def test_the_session_cookie_is_secure_over_https(api: Api) -> None:
    app = create_app(Settings(webhooks=WebhookSettings(concurrency=0)), services=api.services)
    async with AsyncTestClient(app=app, base_url="https://desk.example") as client:
        page = await client.get("/desk")
        assert _cookie(page, "desk_sign_in")["desk_sign_in"]["secure"]
        response = await client.post(
            "/desk/sign-in",
            data={"csrf": csrf_of(page.text), "key": token_of(api.writer)},
            follow_redirects=False,
        )
        assert _cookie(response, "desk_session")["desk_session"]["secure"]


async def test_secure_cookies_can_be_required_behind_an_untrusted_proxy(api: Api) -> None:
    settings = Settings(
        webhooks=WebhookSettings(concurrency=0), desk=DeskSettings(secure_cookie=True)
    )
    async with AsyncTestClient(app=create_app(settings, services=api.services)) as client:
        page = await client.get("/desk")
        assert _cookie(page, "desk_sign_in")["desk_sign_in"]["secure"]


async def test_a_read_only_key_cannot_open_the_desk(api: Api) -> None:
    page = await api.client.get("/desk")
    response = await api.client.post(
        "/desk/sign-in",
        data={"csrf": csrf_of(page.text), "key": token_of(api.subscriber)},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")
    assert "This key cannot open the desk" in response.text and "events:write" in response.text
    assert "desk_session=" not in " ".join(response.headers.get_list("set-cookie"))
    assert "Sign out" not in (await api.client.get("/desk")).text


async def test_an_unknown_or_revoked_key_is_named_on_the_form(api: Api) -> None:
    for token in ("tl_nothing_here", token_of(api.revoked)):
        page = await api.client.get("/desk")
        response = await api.client.post(
            "/desk/sign-in", data={"csrf": csrf_of(page.text), "key": token}
        )
        assert response.status_code == 401
        assert "unknown or revoked" in error_of(response.text, "f-key")
        assert 'id="error-summary"' in response.text


async def test_a_sign_in_without_the_forms_token_is_refused(api: Api) -> None:
    await api.client.get("/desk")
    response = await api.client.post("/desk/sign-in", data={"key": token_of(api.writer)})
    assert response.status_code == 403
    assert "desk_session=" not in " ".join(response.headers.get_list("set-cookie"))


async def test_after_sign_out_the_session_cookie_no_longer_works(api: Api) -> None:
    csrf = await sign_in(api.client, token_of(api.writer))
    old = api.client.cookies.get("desk_session", path="/desk")
    response = await api.client.post("/desk/sign-out", data={"csrf": csrf}, follow_redirects=False)
    assert response.status_code == 303
    api.client.cookies.set("desk_session", old, path="/desk")  # a copy kept by an attacker
    assert "API key" in (await api.client.get("/desk")).text, "back to the sign-in form"
    head = await api.services.store.head()
    refused = await api.client.post("/desk/sources", data={"csrf": csrf, "payload.source": "x"})
    assert refused.status_code == 401 and "sign in again" in refused.text
    assert await api.services.store.head() == head


async def test_a_post_without_the_sessions_token_is_refused_and_writes_nothing(api: Api) -> None:
    csrf = await sign_in(api.client, token_of(api.writer))
    head = await api.services.store.head()
    form = {
        "payload.source": "forged",
        "payload.outlet": "Forged",
        "payload.headline": "Forged",
        "payload.published_on": "2025-03-13",
    }
    for sent in ({}, {"csrf": "0" * 64}, {"csrf": csrf[:-1]}):
        refused = await api.client.post("/desk/sources", data={**form, **sent})
        assert refused.status_code == 403 and "CSRF" in refused.text
    assert await api.services.store.head() == head
    accepted = await api.client.post("/desk/sources", data={**form, "csrf": csrf})
    assert accepted.status_code == 200, accepted.text
    assert await api.services.store.head() == head + 1


async def test_the_token_of_one_session_is_no_good_in_another(api: Api) -> None:
    first = await sign_in(api.client, token_of(api.writer))
    api.client.cookies.clear()  # another browser
    second = await sign_in(api.client, token_of(api.writer))
    assert first != second
    refused = await api.client.post("/desk/sign-out", data={"csrf": first})
    assert refused.status_code == 403


async def test_desk_pages_need_a_session(api: Api) -> None:
    for path in ("/desk/events/new", "/desk/sources/new", "/desk/sources/x/text"):
        response = await api.client.get(path)
        assert response.status_code == 401, path


async def test_the_desk_stays_out_of_the_public_api_document(api: Api) -> None:
    document = (await api.client.get("/v1/openapi.json")).json()
    assert not [path for path in document["paths"] if "desk" in path]
