"""RFC 9457 problem documents: every error the API returns, mapped to HTTP in this one place."""

from __future__ import annotations

import logging
import re
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import (
    ClientException,
    HTTPException,
    MethodNotAllowedException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    SerializationException,
    ValidationException,
)
from litestar.openapi.datastructures import ResponseSpec
from litestar.status_codes import HTTP_413_REQUEST_ENTITY_TOO_LARGE

from domain.errors import DomainError, InvalidEvent
from store.errors import (
    AlreadyRegistered,
    DatabaseUnavailable,
    DuplicateEventConflict,
    FieldError,
    InvalidSubmission,
    RateLimited,
    StaleExpectedVersion,
    UnknownSource,
)

PROBLEM_JSON = "application/problem+json"
_MISSING = re.compile(r"Missing required (?P<where>\w+) parameter '(?P<name>[^']+)'")
TYPE_BASE = "https://diplomatic-timeline.org/problems/"
log = logging.getLogger("timeline.api")


class PassageOut(msgspec.Struct, frozen=True, omit_defaults=True):
    """A short excerpt of a source's text and where it is (character offsets, half-open);
    `source` names the source whose text it is when a quote rests on several (a payload's)."""

    start: int
    end: int
    text: str
    source: str | None = None


class FieldProblem(msgspec.Struct, frozen=True, omit_defaults=True):
    """One offending field, by JSON path, and what is wrong with it; a quote not found in its
    source's text comes with the closest passage of that text."""

    field: str
    message: str
    passage: PassageOut | None = None


class Problem(msgspec.Struct, frozen=True, omit_defaults=True):
    """An RFC 9457 problem document."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[FieldProblem] | None = None
    current_version: int | None = None


class ApiProblem(Exception):
    """An error the API answers with a problem document of its own type."""

    def __init__(
        self,
        status: int,
        slug: str,
        title: str,
        detail: str,
        *,
        headers: dict[str, str] | None = None,
        errors: list[FieldProblem] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status, self.slug, self.title, self.detail = status, slug, title, detail
        self.headers = headers or {}
        self.errors = errors

    @classmethod
    def bad_parameter(cls, field: str, message: str) -> ApiProblem:
        """A 400 naming one query, path or header parameter."""
        return cls._naming(400, "invalid-parameter", "Invalid parameter", field, message)

    @classmethod
    def bad_body(cls, field: str, message: str) -> ApiProblem:
        """A 422 naming one field of a well-formed body."""
        return cls._naming(422, "invalid-request", "The request is invalid", field, message)

    @classmethod
    def _naming(cls, status: int, slug: str, title: str, field: str, message: str) -> ApiProblem:
        return cls(
            status, slug, title, f"{field}: {message}", errors=[FieldProblem(field, message)]
        )


def problem_response(
    request: Request[Any, Any, Any] | None,
    status: int,
    slug: str,
    title: str,
    detail: str,
    *,
    errors: list[FieldProblem] | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response[Problem]:
    """A problem document response."""
    body = Problem(
        type=TYPE_BASE + slug,
        title=title,
        status=status,
        detail=detail,
        instance=None if request is None else request.url.path,
        errors=errors,
        **extra,
    )
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def handle_exception(request: Request[Any, Any, Any], error: Exception) -> Response[Problem]:
    """Map any exception to its problem document; unknown ones become a logged 500."""
    match error:
        case ApiProblem():
            return problem_response(
                request,
                error.status,
                error.slug,
                error.title,
                error.detail,
                errors=error.errors,
                headers=error.headers,
            )
        case InvalidSubmission():
            # A registration of an id registered already conflicts with the log: a 409.
            status, slug, title = (
                (409, "already-registered", "Already registered")
                if isinstance(error, AlreadyRegistered)
                else (422, "invalid-request", "The request is invalid")
            )
            return problem_response(
                request,
                status,
                slug,
                title,
                str(error),  # its fields and messages, joined
                errors=[_field_problem(e) for e in error.errors],
            )
        case InvalidEvent():
            return problem_response(
                request,
                422,
                "invalid-request",
                "The request is invalid",
                error.message,
                errors=[FieldProblem(error.field, error.message)],
            )
        case StaleExpectedVersion():
            return problem_response(
                request,
                409,
                "stale-expected-version",
                "The stream has moved on",
                str(error),
                current_version=error.current,
            )
        case RateLimited():
            return problem_response(
                request,
                429,
                "rate-limited",
                "Too many writes",
                str(error),
                headers={
                    "Retry-After": str(error.retry_after),
                    "RateLimit-Policy": f"{error.limit};w={error.seconds}",
                },
            )
        case DuplicateEventConflict():
            return problem_response(
                request, 409, "duplicate-event", "Event id already used", str(error)
            )
        # Every store maps a database it cannot reach to this (store.boundary).
        case DatabaseUnavailable():
            return problem_response(
                request,
                503,
                "database-unavailable",
                "The database is unavailable",
                "the database cannot be reached; retry shortly",
                headers={"Retry-After": "5"},
            )
        case DomainError():
            return problem_response(
                request, 422, "invalid-request", "The request is invalid", str(error)
            )
        case ValidationException():
            return _validation_problem(request, error)
        case NotAuthorizedException():
            return problem_response(
                request,
                401,
                "unauthorized",
                "Authentication required",
                error.detail,
                headers={"WWW-Authenticate": 'Bearer realm="timeline"'},
            )
        case PermissionDeniedException():
            return problem_response(request, 403, "forbidden", "Not allowed", error.detail)
        case UnknownSource():
            return problem_response(request, 404, "not-found", "Not found", str(error))
        case NotFoundException():
            return problem_response(request, 404, "not-found", "Not found", error.detail)
        case MethodNotAllowedException():
            return problem_response(
                request,
                405,
                "method-not-allowed",
                "Method not allowed",
                error.detail,
                headers=error.headers,
            )
        case HTTPException() if error.status_code == HTTP_413_REQUEST_ENTITY_TOO_LARGE:
            return problem_response(
                request,
                413,
                "body-too-large",
                "Request body too large",
                "the request body is over the 1 MiB limit",
            )
        case RecursionError() | UnicodeDecodeError():
            # msgspec's decoder raises these for JSON nested too deep or bytes that are not UTF-8
            return problem_response(
                request,
                400,
                "malformed-json",
                "Malformed JSON",
                "the body is not JSON this API can read: nested too deep, or not UTF-8",
            )
        case ClientException() if isinstance(error.__cause__, SerializationException):
            return problem_response(
                request,
                400,
                "malformed-json",
                "Malformed JSON",
                f"the body is not JSON: {error.detail}",
            )
        case HTTPException() if error.status_code < 500:
            return problem_response(
                request,
                error.status_code,
                "bad-request",
                "Bad request",
                error.detail,
                headers=error.headers,
            )
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=error)
    return problem_response(
        request, 500, "internal-error", "Internal error", "something failed on our side"
    )


def _field_problem(error: FieldError) -> FieldProblem:
    passage = error.passage
    return FieldProblem(
        error.field,
        error.message,
        None
        if passage is None
        else PassageOut(passage.start, passage.end, passage.text, passage.source),
    )


def _validation_problem(
    request: Request[Any, Any, Any], error: ValidationException
) -> Response[Problem]:
    extra = error.extra if isinstance(error.extra, list) else []
    errors = [
        FieldProblem(
            _as_sent(request, str(item.get("key") or "body")),
            _readable(str(item.get("message") or "invalid")),
        )
        for item in extra
        if isinstance(item, dict)
    ]
    missing = _MISSING.match(error.detail)
    if missing and not errors:
        errors = [
            FieldProblem(
                missing.group("name"), f"the {missing.group('where')} parameter is required"
            )
        ]
    in_body = any(isinstance(i, dict) and i.get("source") == "body" for i in extra)
    if error.detail.startswith("JSON is malformed") or (not extra and "JSON" in error.detail):
        return problem_response(request, 400, "malformed-json", "Malformed JSON", error.detail)
    detail = "; ".join(f"{e.field}: {e.message}" for e in errors) or error.detail
    if in_body:
        return problem_response(
            request, 422, "invalid-request", "The request is invalid", detail, errors=errors
        )
    return problem_response(
        request, 400, "invalid-parameter", "Invalid parameter", detail, errors=errors
    )


def _as_sent(request: Request[Any, Any, Any], key: str) -> str:
    """A parameter as the client names it (a header by its header name, `Idempotency-Key`,
    not the handler's `idempotency_key`)."""
    try:
        field = request.route_handler.parsed_fn_signature.parameters.get(key)
    except AttributeError:  # not a route's error (a lifespan's, say)
        return key
    kwarg = getattr(field, "kwarg_definition", None)
    for alias in ("header", "query", "name"):
        if named := getattr(kwarg, alias, None):
            return str(named)
    return key


_REGEX = re.compile(r"^Expected `str` matching regex .*$")


def _readable(message: str) -> str:
    """A validator's message without the regular expression it quotes (which says nothing to
    a person, and the API document describes the form)."""
    if _REGEX.match(message):
        return "is not in the form it takes (see its description in /v1/openapi.json)"
    return message


def problem_specs(*statuses: int) -> dict[int, ResponseSpec]:
    """OpenAPI response entries documenting problem documents for these statuses."""
    return {
        status: ResponseSpec(
            data_container=Problem,
            media_type=PROBLEM_JSON,
            description=_DESCRIPTIONS.get(status, "A problem document"),
        )
        for status in statuses
    }


_DESCRIPTIONS = {
    400: "Malformed JSON or an invalid query parameter",
    401: "No key, or an unknown or revoked one",
    403: "The key lacks the scope this operation needs",
    404: "No such resource",
    409: "A stale expected_version, or an event id used for other content",
    413: "The body is over 1 MiB",
    414: "The query string is over 8 KiB",
    415: "The body is not labelled application/json",
    422: "A well-formed body that breaks the schema; `errors` names each field",
    431: "The headers are over 16 KiB",
    429: "The key made too many writes in this window; retry after Retry-After seconds",
    503: "The database is unavailable; retry after Retry-After seconds",
}
