"""The API reference at /v1/docs: Swagger UI, served by this service from a maintained package
(`swagger-ui-bundle-v2`) rather than from a CDN, so the docs work on a machine without the
internet or behind a newsroom proxy, under a policy that admits this origin alone."""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from litestar import Request, Router
from litestar.datastructures import CacheControlHeader
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.static_files import create_static_files_router
from swagger_ui_bundle import swagger_ui_path

# Our starter script comes first, then the package's files (Swagger UI's bundle and styles).
STARTER = Path(__file__).resolve().parent / "web" / "docs"
SWAGGER_UI = Path(str(swagger_ui_path))
ASSETS = "/docs/assets"


class ServedSwaggerUI(SwaggerRenderPlugin):
    """Swagger UI whose scripts and styles are files of this service. The page has no inline
    script or style (Litestar's own Swagger page inlines the document and a start-up script),
    so its Content-Security-Policy needs neither a CDN nor 'unsafe-inline'."""

    def __init__(self, path: str = "/docs") -> None:
        super().__init__(path=path, favicon='<link rel="icon" href="data:,">', style="")
        self.assets = ASSETS

    def receive_router(self, router: Router) -> None:
        # Not Swagger's OAuth2 redirect page: the API takes bearer keys, and that page is an
        # inline script the policy would refuse.
        self.assets = f"{router.path.rstrip('/')}{ASSETS}"
        self.js_url = f"{self.assets}/swagger-ui-bundle.js"
        self.css_url = f"{self.assets}/swagger-ui.css"
        router.register(
            create_static_files_router(
                path=ASSETS,
                directories=[STARTER, SWAGGER_UI],
                name="docs-assets",
                include_in_schema=False,
                cache_control=CacheControlHeader(max_age=300, public=True),
            )
        )

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        title = escape(str(openapi_schema["info"]["title"]))
        document = escape(self.get_openapi_json_route(request))
        return f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{title} · API reference</title>
  {self.favicon}
  <link rel="stylesheet" href="{self.css_url}">
  <link rel="stylesheet" href="{self.assets}/index.css">
  <script src="{self.js_url}" defer></script>
  <script src="{self.assets}/swagger-start.js" defer></script>
</head>
<body>
  <div id="swagger-ui" data-openapi-url="{document}"></div>
  <noscript><p>The reference needs JavaScript; the contract itself is
    <a href="{document}">{document}</a>.</p></noscript>
</body>
</html>
""".encode()
