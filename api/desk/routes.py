"""The desk's router: every page under /desk, kept out of the public OpenAPI document, every
error answered as a page."""

from __future__ import annotations

from litestar import Router

from api.desk.editorial import desk_event, editorial
from api.desk.pages import desk_home, refusal_page, sign_in, sign_out
from api.desk.recording import append_event, edit_event, new_event, preview_event
from api.desk.sources import attach_text, desk_source, new_source, register_source, source_text


def desk_router() -> Router:
    """/desk and everything under it."""
    return Router(
        path="/desk",
        route_handlers=[
            desk_home,
            sign_in,
            sign_out,
            new_event,
            preview_event,
            edit_event,
            append_event,
            desk_event,
            editorial,
            new_source,
            register_source,
            desk_source,
            attach_text,
            source_text,
        ],
        include_in_schema=False,
        exception_handlers={Exception: refusal_page},
    )
