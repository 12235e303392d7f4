"""Driving the desk over HTTP without a browser: sign in, read a page's CSRF token, post forms."""

from __future__ import annotations

import html
import re
from typing import Any

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
_HIDDEN = re.compile(r'<input type="hidden" name="(?P<name>[^"]+)" value="(?P<value>[^"]*)"')


def csrf_of(page: str) -> str:
    """The CSRF token a desk page's forms carry."""
    found = _CSRF.search(page)
    assert found, "the page has no form with a CSRF token"
    return html.unescape(found.group(1))


def hidden_fields(page: str, form_id: str) -> dict[str, str]:
    """The hidden inputs of one form of a page, by name."""
    start = page.index(f'id="{form_id}"')
    end = page.index("</form>", start)
    return {
        m.group("name"): html.unescape(m.group("value")) for m in _HIDDEN.finditer(page[start:end])
    }


def token_of(headers: dict[str, str]) -> str:
    """The key in a bearer header."""
    return headers["Authorization"].split(" ", 1)[1]


async def sign_in(client: Any, token: str) -> str:
    """Sign in at the desk with a key; the CSRF token of the session's pages."""
    form = await client.get("/desk")
    response = await client.post(
        "/desk/sign-in", data={"csrf": csrf_of(form.text), "key": token}, follow_redirects=False
    )
    assert response.status_code == 303, response.text
    home = await client.get("/desk")
    assert "Sign out" in home.text
    return csrf_of(home.text)


def error_of(page: str, field_id: str) -> str:
    """The error text shown beside one input (by its element id), or ''."""
    found = re.search(
        rf'<span class="error" id="{re.escape(field_id)}-error">(.*?)</span>\s*</', page, re.S
    )
    return re.sub(r"<[^>]+>", " ", found.group(1)).strip() if found else ""
