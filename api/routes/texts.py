"""Source texts over HTTP: attach an article's text to a source, read it back, and list the
citations it does not verify; every route needs a key with the `sources:text` scope."""

from __future__ import annotations

import base64
import hashlib
from typing import Annotated, Any

from litestar import Request, Response, get, put
from litestar.exceptions import NotFoundException
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import QueryParameter

from api.auth import KEY_STATE, requires
from api.conditional import client_has
from api.dependencies import AppServices
from api.parameters import SlugPath
from api.problems import ApiProblem, problem_specs
from api.source_texts import (
    TextAttachedOut,
    VerificationPage,
    attach_text,
    read_source_text,
    verification_page,
)
from store.scopes import TEXTS

PLAIN = "text/plain; charset=utf-8"
# What store.source_texts.check_text keeps: printable text (tabs and newlines allowed) with
# something in it besides whitespace.
_PRINTABLE = r"[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]"
TEXT_PATTERN = rf"^{_PRINTABLE}*[^\s\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]{_PRINTABLE}*$(?!\n)"
MAX_PAGE = 1000


def _text_of(request: Request[Any, Any, Any], body: bytes) -> str:
    """The body as text: labelled text/plain (UTF-8, the default), and UTF-8 indeed."""
    kind, _, parameters = request.headers.get("content-type", "").partition(";")
    if kind.strip().lower() != "text/plain":
        raise ApiProblem(
            415,
            "unsupported-media-type",
            "Unsupported media type",
            "send the article's text as text/plain; charset=utf-8",
        )
    for parameter in parameters.split(";"):
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in (
            "utf-8",
            "utf8",
        ):
            raise ApiProblem(
                415,
                "unsupported-media-type",
                "Unsupported media type",
                f"the text must be UTF-8, not {value.strip()}",
            )
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ApiProblem.bad_body("body", f"not UTF-8 (at byte {error.start})") from None


@put(
    "/sources/{source:str}/text",
    operation_id="attachSourceText",
    summary="Attach an article's text to a source (replacing any text it had)",
    description=(
        "The body is the article's text (`text/plain; charset=utf-8`). It is kept beside the "
        "log, content-addressed by its SHA-256, which a `SourceTextAttached` event records. "
        "201 when attached; 200 with the same answer when this very text is attached already "
        "(nothing is appended: the request is idempotent by its content, so it needs no "
        "`Idempotency-Key`, and one sent is not used). A different text "
        "replaces the one before (kept for the record). Every quoted citation of the source "
        "is checked against the new text; those it does not hold are listed under "
        "`verification.failed`. Needs the `sources:text` scope."
    ),
    guards=[requires(TEXTS, charge=False)],  # counted in the append's transaction
    status_code=201,
    responses={
        200: ResponseSpec(TextAttachedOut, description="This text was attached already"),
        **problem_specs(400, 401, 403, 404, 413, 415, 422, 429, 503),
    },
    security=[{"bearer": []}],
    tags=["sources"],
)
async def put_source_text(
    request: Request[Any, Any, Any], services: AppServices, source: SlugPath
) -> Response[TextAttachedOut]:
    """Attach the body's text to the source."""
    text = _text_of(request, await request.body())
    created, answer = await attach_text(services, request.state[KEY_STATE], source, text)
    return Response(
        answer,
        status_code=201 if created else 200,
        headers={"Location": f"/v1/sources/{source}/text", "Cache-Control": "no-store"},
    )


@get(
    "/sources/{source:str}/text",
    operation_id="getSourceText",
    summary="A source's text (needs the `sources:text` scope)",
    description=(
        "The article's text as attached, with `ETag` its SHA-256 (304 on `If-None-Match`) and "
        "`Repr-Digest`/`Digest` its SHA-256 in base64. Never cached by shared caches."
    ),
    guards=[requires(TEXTS)],
    responses={
        200: ResponseSpec(
            data_container=str,
            media_type="text/plain",
            description="The text, UTF-8",
            generate_examples=False,
        ),
        304: ResponseSpec(data_container=None, description="Not modified"),
        **problem_specs(400, 401, 403, 404, 503),
    },
    security=[{"bearer": []}],
    tags=["sources"],
)
async def get_source_text(
    request: Request[Any, Any, Any], services: AppServices, source: SlugPath
) -> Response[Any]:
    """The source's text."""
    found = await read_source_text(services, request.state[KEY_STATE], source)
    if found is None:
        raise NotFoundException(f"source {source!r} has no text attached")
    digest = base64.b64encode(hashlib.sha256(found.text.encode()).digest()).decode()
    etag = f'"{found.sha256}"'
    headers = {
        "ETag": etag,
        "Cache-Control": "private, no-cache",
        "Vary": "Authorization",
        "Repr-Digest": f"sha-256=:{digest}:",
        "Digest": f"sha-256={digest}",
    }
    if client_has(request, etag):
        return Response(content=b"", status_code=304, headers=headers)
    return Response(content=found.text.encode(), media_type=PLAIN, headers=headers)


@get(
    "/sources/{source:str}/verification",
    operation_id="getSourceVerification",
    summary="The quotes resting on a source that its text does not verify (a page at a time)",
    description=(
        "How many quotes resting on the source its text verifies (quoted citations of it, and "
        "payload quotes it holds), and the ones it fails (a text attached after them), each "
        "with the passage of the text closest to its quote: quoted citations of it, and payload "
        "quotes that no text of their event's cited sources holds when each of them has one. "
        "Needs the `sources:text` scope."
    ),
    guards=[requires(TEXTS)],
    responses=problem_specs(400, 401, 403, 404, 503),
    security=[{"bearer": []}],
    tags=["sources"],
)
async def get_source_verification(
    request: Request[Any, Any, Any],
    services: AppServices,
    source: SlugPath,
    after: Annotated[
        str | None,
        QueryParameter(
            max_length=40,
            pattern=r"^[0-9]{1,15}\.-?[0-9]{1,6}$(?!\n)",
            description="Cursor: where the last failure seen is (as `next` gives it).",
        ),
    ] = None,
    limit: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE)] = 100,
) -> Response[VerificationPage]:
    """One page of the source's failing citations."""
    cursor = None
    if after is not None:
        position, citation = after.split(".")
        cursor = (int(position), int(citation))
    page = await verification_page(services, request.state[KEY_STATE], source, cursor, limit)
    return Response(page, headers={"Cache-Control": "private, no-cache", "Vary": "Authorization"})
