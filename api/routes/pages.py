"""The newsroom page and its embeddable variant: server-rendered shells that the static
script fills from the public API, so the page shows nothing the API would not."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import get
from litestar.datastructures import CacheControlHeader
from litestar.exceptions import NotFoundException
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Template
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from api.dependencies import AppServices
from api.parameters import SlugPath
from api.reading import read_time

WEB = Path(__file__).resolve().parent.parent / "web"
TEMPLATES = TemplateConfig(directory=WEB / "templates", engine=JinjaTemplateEngine)
PAGE = "newsroom.html.j2"

# The script and styles change with the build, and the page is re-fetched on each visit;
# a short lifetime keeps a deployment's new script from waiting long behind old copies.
static_files = create_static_files_router(
    path="/static",
    directories=[WEB / "static"],
    include_in_schema=False,
    cache_control=CacheControlHeader(max_age=300, public=True),
)


async def _proposals(services: AppServices) -> list[dict[str, Any]]:
    now = await read_time(services, None, None, "UTC")
    found = await services.store.reads.registry("proposal", now.as_of_micros, now.known_at_micros)
    return sorted(found, key=lambda p: (str(p.get("tabled_at") or ""), p["id"]))


@get("/", include_in_schema=False, name="newsroom")
async def newsroom(services: AppServices) -> Template:
    """The page journalists open: a proposal picker, the parties' lanes and the events."""
    proposals = await _proposals(services)
    return Template(template_name=PAGE, context={"proposals": proposals, "embed": False})


@get("/embed/{proposal:str}", include_in_schema=False, name="embed")
async def embed(services: AppServices, proposal: SlugPath) -> Template:
    """One proposal's lanes and events, compact, for an iframe on another site."""
    proposals = await _proposals(services)
    if not any(p["id"] == proposal for p in proposals):
        raise NotFoundException(f"no proposal {proposal!r}")
    return Template(
        template_name=PAGE, context={"proposals": proposals, "embed": True, "proposal": proposal}
    )
