"""The one way the API appends: a batch as `POST /v1/events` takes it, checked, submitted
with the key that records it, and answered once per Idempotency-Key. The desk's forms come
through here too, in-process."""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec
from litestar import MediaType, Request, Response

from api.bodies import strict_body
from api.dependencies import AppServices
from api.problems import PROBLEM_JSON, ApiProblem, handle_exception
from api.schemas import AppendedOut, AppendIn, AppendOut
from domain.canonical import canonical_bytes
from domain.valid_time import format_instant, to_micros
from store.errors import RateLimited, ReservationLost, StoreError
from store.idempotency import Recorded
from store.keys import ApiKey
from store.ports import AppendResult, IdempotentAnswer
from store.submission import submit


async def append(
    request: Request[Any, Any, Any],
    services: AppServices,
    key: ApiKey,
    data: Any,
    idempotency_key: str | None,
) -> Response[Any]:
    """Append the batch `data` (parsed JSON) for `key`; a repeated Idempotency-Key with the same
    body gets the first response again. Bad input raises (ApiProblem, StoreError) unless an
    Idempotency-Key records the refusal, which is then answered as a problem response."""
    body = strict_body(data, AppendIn)
    if idempotency_key is None:
        return _appended(await _submit(services, key, body, request))
    return await _idempotently(services, key, idempotency_key, data, body, request)


async def _submit(
    services: AppServices,
    key: ApiKey,
    body: AppendIn,
    request: Request[Any, Any, Any],
    answer: IdempotentAnswer | None = None,
) -> AppendResult:
    limiter = services.rate_limiter
    result = await submit(
        services.store,
        services.clock,
        stream=body.stream,
        events=[msgspec.to_builtins(e) for e in body.events],
        expected_version=body.expected_version,
        metadata={"recorded_by": key.name, "key_id": key.id, **_correlation(request)},
        charge=None if limiter is None else limiter.charge(key.id, services.clock()),
        answer=answer,
    )
    request.app.state.notifier.notify(result.events[-1].position)
    return result


def _correlation(request: Request[Any, Any, Any]) -> dict[str, str]:
    value = request.headers.get("x-correlation-id") or request.headers.get("x-request-id") or ""
    printable = "".join(c for c in value[:200] if "\x21" <= c <= "\x7e")
    return {"correlation_id": printable} if printable else {}


async def _idempotently(
    services: AppServices,
    key: ApiKey,
    idempotency_key: str,
    data: Any,
    body: AppendIn,
    request: Request[Any, Any, Any],
) -> Response[Any]:
    request_hash = hashlib.sha256(canonical_bytes(data)).hexdigest()
    reserved_at = services.clock()
    seen = await services.idempotency.reserve(key.id, idempotency_key, request_hash, reserved_at)
    if seen is not None:
        return _seen_before(seen, request_hash)
    # The answer is recorded by the append's own transaction: a crash after the commit leaves
    # it recorded, and the retry replays it instead of appending the events a second time.
    answer = IdempotentAnswer(key.id, idempotency_key, to_micros(reserved_at), _recorded)
    try:
        response = _appended(await _submit(services, key, body, request, answer))
    except ReservationLost:
        # Ours was taken for abandoned and another request now holds the key: it runs, not we.
        raise _in_progress() from None
    except StoreError as error:
        problem = handle_exception(request, error)
        status = problem.status_code or 500
        if status >= 500 or isinstance(error, RateLimited):  # a retry may succeed: not final
            await services.idempotency.release(key.id, idempotency_key, reserved_at)
        else:
            await services.idempotency.complete(
                key.id,
                idempotency_key,
                reserved_at,
                status,
                msgspec.to_builtins(problem.content),
            )
        return problem
    except BaseException:
        await services.idempotency.release(key.id, idempotency_key, reserved_at)
        raise
    request.app.state.crash_after_commit.maybe()  # the reliability drill's fault, else nothing
    return response


def _seen_before(seen: Recorded, request_hash: str) -> Response[Any]:
    """The answer to a retry of a request already made under its Idempotency-Key."""
    if seen.request_hash != request_hash:
        raise ApiProblem(
            422,
            "idempotency-key-reused",
            "Idempotency-Key reused",
            "this Idempotency-Key was used with a different body",
        )
    if seen.pending:
        raise _in_progress()
    return Response(
        seen.response,
        status_code=seen.status_code,
        media_type=PROBLEM_JSON if seen.status_code >= 400 else MediaType.JSON,
        headers={"Idempotent-Replayed": "true"},
    )


def _in_progress() -> ApiProblem:
    return ApiProblem(
        409,
        "idempotency-request-in-progress",
        "Request in progress",
        "the first request with this Idempotency-Key has not finished; retry shortly",
        headers={"Retry-After": "1"},
    )


def _recorded(result: AppendResult) -> tuple[int, dict[str, Any]]:
    """The status and body an append answers with, as its Idempotency-Key records them."""
    response = _appended(result)
    return response.status_code or 201, msgspec.to_builtins(response.content)


def _appended(result: AppendResult) -> Response[AppendOut]:
    out = AppendOut(
        stream=result.stream,
        stream_version=result.stream_version,
        events=[
            AppendedOut(
                id=e.id,
                position=e.position,
                stream_version=e.stream_version,
                recorded_at=format_instant(e.recorded_at),
            )
            for e in result.events
        ],
    )
    return Response(
        out,
        status_code=200 if result.duplicate else 201,
        headers={"Location": f"/v1/events/{result.events[0].id}"},
    )
