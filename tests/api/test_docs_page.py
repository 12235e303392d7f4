"""The API reference at /v1/docs works without the internet: its scripts and styles are served
by this service (Swagger UI, from a Python package), and its policy lets in nothing else."""

from __future__ import annotations

import re

from tests.support.api import Api

ASSET = re.compile(r"""(?:src|href)=["']([^"']+)["']""")
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)


async def test_the_docs_page_loads_its_scripts_and_styles_from_this_service(api: Api) -> None:
    response = await api.client.get("/v1/docs")

    assert response.status_code == 200
    assets = [url for url in ASSET.findall(response.text) if not url.startswith("data:")]
    assert any(url.endswith(".js") for url in assets)
    assert any(url.endswith(".css") for url in assets)
    assert all(url.startswith("/v1/") for url in assets), assets
    assert INLINE_SCRIPT.search(response.text) is None
    assert "<style" not in response.text
    kinds = {".js": "text/javascript", ".css": "text/css", ".json": "application/"}
    for url in assets:
        asset = await api.client.get(url)
        assert asset.status_code == 200, url
        assert asset.content, url
        kind = next(kind for suffix, kind in kinds.items() if url.endswith(suffix))
        assert asset.headers["content-type"].startswith(kind), (url, asset.headers)


async def test_the_docs_policy_admits_this_origin_alone(api: Api) -> None:
    response = await api.client.get("/v1/docs")

    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy
    assert "style-src 'self';" in policy
    assert "connect-src 'self';" in policy
    for outside in ("http:", "https:", "unsafe-inline", "unsafe-eval", "*"):
        assert outside not in policy, outside
