"""Proposals and every party's position on them: as of a valid time, as known at another."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

import msgspec
from litestar import Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.params import QueryParameter

from api.dependencies import AppServices
from api.parameters import AsOf, From, KnownAt, SlugPath, To, Tz
from api.read_schemas import (
    Change,
    DiffOut,
    HistoriesOut,
    HistoryOut,
    PositionOut,
    ProposalOut,
    ProposalPage,
    ProposalSummary,
    VoiceChange,
)
from api.reading import (
    ReadTime,
    cached,
    cached_json,
    cached_read_responses,
    moment,
    read_time,
)
from domain.positions import Pair, unstated
from domain.valid_time import format_instant, from_micros, to_micros
from domain.vocabulary import SLUG_PATTERN

READ_ERRORS = cached_read_responses(400, 404, 503)


@get(
    "/proposals",
    operation_id="listProposals",
    summary="Proposals tabled by as_of, as known at known_at",
    responses=cached_read_responses(400, 503),
    tags=["positions"],
)
async def list_proposals(
    request: Request[Any, Any, Any],
    services: AppServices,
    as_of: AsOf = None,
    known_at: KnownAt = None,
    tz: Tz = "UTC",
) -> Response[ProposalPage]:
    """Every proposal with its current terms."""
    when = await read_time(services, as_of, known_at, tz)
    proposals = await _proposals(services, when)
    items = [ProposalSummary(**p) for p in proposals.values()]
    body = ProposalPage(items=items, next=None, **when.echo())
    return cached(request, body, when.settled)


@get(
    "/proposals/{proposal:str}",
    operation_id="getProposal",
    summary="A proposal with every party's position",
    responses=READ_ERRORS,
    tags=["positions"],
)
async def get_proposal(
    request: Request[Any, Any, Any],
    services: AppServices,
    proposal: SlugPath,
    as_of: AsOf = None,
    known_at: KnownAt = None,
    tz: Tz = "UTC",
) -> Response[ProposalOut]:
    """The proposal, its terms, and each party's position (unstated ones included)."""
    when = await read_time(services, as_of, known_at, tz)
    await _exists(services, f"proposal:{proposal}")
    found = (await _proposals(services, when, proposal)).get(proposal) or _untabled(proposal)
    states = await services.store.proposal_positions(
        proposal, when.as_of_micros, when.known_at_micros
    )
    parties = await services.store.parties(proposal, when.known_at_micros)
    body = {
        **found,
        "positions": [states.get(a) or unstated((a, proposal)) for a in sorted(parties)],
        **when.echo(),
    }
    return cached(request, body, when.settled)


@get(
    "/proposals/{proposal:str}/positions/{actor:str}",
    operation_id="getPosition",
    summary="One party's position on a proposal as of a valid time, as known at another",
    responses=READ_ERRORS,
    tags=["positions"],
)
async def get_position(
    request: Request[Any, Any, Any],
    services: AppServices,
    proposal: SlugPath,
    actor: SlugPath,
    as_of: AsOf = None,
    known_at: KnownAt = None,
    tz: Tz = "UTC",
) -> Response[PositionOut]:
    """Stance, speaker, since, conditions, sources, voices; `unstated` when nothing is known."""
    when = await read_time(services, as_of, known_at, tz)
    pair = await _pair(services, actor, proposal)
    # The state as stored, the API's own JSON: sent on with the times, never decoded.
    state = await services.store.position_json(pair, when.as_of_micros, when.known_at_micros)
    body = when.echoed_after(state or msgspec.json.encode(unstated(pair)))
    return cached_json(request, body, when.settled)


@get(
    "/proposals/{proposal:str}/positions/{actor:str}/history",
    operation_id="getPositionHistory",
    summary="A position's changes with their valid intervals, as known at known_at",
    responses=READ_ERRORS,
    tags=["positions"],
)
async def get_position_history(
    request: Request[Any, Any, Any],
    services: AppServices,
    proposal: SlugPath,
    actor: SlugPath,
    known_at: KnownAt = None,
    tz: Tz = "UTC",
) -> Response[HistoryOut]:
    """Each segment of valid time over which the position held."""
    when = await read_time(services, None, known_at, tz)
    pair = await _pair(services, actor, proposal)
    body = await _history(services, pair, when)
    return cached(request, body, when.known_settled)


@get(
    "/proposals/{proposal:str}/histories",
    operation_id="getProposalHistories",
    summary="Every party's position changes on a proposal, as known at known_at",
    description=(
        "What `…/positions/{actor}/history` answers, for each party at once, ordered by actor: "
        "one request where a page drawing every party's lane would make one per party."
    ),
    responses=READ_ERRORS,
    tags=["positions"],
)
async def get_proposal_histories(
    request: Request[Any, Any, Any],
    services: AppServices,
    proposal: SlugPath,
    known_at: KnownAt = None,
    tz: Tz = "UTC",
    limit: Annotated[int, QueryParameter(ge=1, le=200, description="Parties per page.")] = 50,
    after: Annotated[
        str | None,
        QueryParameter(
            pattern=SLUG_PATTERN, max_length=100, description="The parties after this actor."
        ),
    ] = None,
) -> Response[HistoriesOut]:
    """Each party's segments of valid time, a page of parties at a time."""
    when = await read_time(services, None, known_at, tz)
    await _exists(services, f"proposal:{proposal}")
    parties = sorted(await services.store.parties(proposal, when.known_at_micros))
    chosen = [actor for actor in parties if after is None or actor > after]
    page = chosen[:limit]
    items = [await _history(services, (actor, proposal), when) for actor in page]
    next_url = None
    if len(chosen) > limit:
        query = {**request.url.query_params.dict(), "after": [page[-1]]}
        encoded = urlencode([(k, v) for k, values in query.items() for v in values])
        next_url = f"/v1/proposals/{proposal}/histories?{encoded}"
    body = {
        "proposal": proposal,
        "known_at": format_instant(when.known_at),
        "items": items,
        "next": next_url,
    }
    return cached(request, body, when.known_settled)


async def _history(services: AppServices, pair: Pair, when: ReadTime) -> dict[str, Any]:
    segments = await services.store.position_history(pair, when.known_at_micros)
    items = [
        {
            **s.state,
            "valid_from": format_instant(from_micros(s.valid_from)),
            "valid_to": None if s.valid_to is None else format_instant(from_micros(s.valid_to)),
        }
        for s in segments
    ]
    return {
        "actor": pair[0],
        "proposal": pair[1],
        "known_at": format_instant(when.known_at),
        "items": items,
    }


@get(
    "/proposals/{proposal:str}/positions/{actor:str}/diff",
    operation_id="getPositionDiff",
    summary="What changed in a position between two valid times",
    responses=READ_ERRORS,
    tags=["positions"],
)
async def get_position_diff(
    request: Request[Any, Any, Any],
    services: AppServices,
    proposal: SlugPath,
    actor: SlugPath,
    from_: From,
    to: To,
    known_at: KnownAt = None,
    tz: Tz = "UTC",
) -> Response[DiffOut]:
    """Stance, speaker, conditions and voices that differ between `from` and `to`."""
    when = await read_time(services, None, known_at, tz)
    # Either order is a diff: from a later time back to an earlier one reads it in reverse.
    start, end = moment(from_, tz, "from"), moment(to, tz, "to")
    pair = await _pair(services, actor, proposal)
    known = when.known_at_micros
    before = await services.store.position(pair, to_micros(start), known) or unstated(pair)
    after = await services.store.position(pair, to_micros(end), known) or unstated(pair)
    body = _diff(before, after)
    body.update(
        actor=actor,
        proposal=proposal,
        known_at=format_instant(when.known_at),
        **{"from": format_instant(start), "to": format_instant(end)},
    )
    settled = when.known_settled and end < services.clock()
    return cached(request, body, settled)


def _diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    def change(field: str) -> Change | None:
        if before[field] == after[field]:
            return None
        return Change(before=before[field], after=after[field])

    old = {c["id"]: c for c in before["conditions"]}
    new = {c["id"]: c for c in after["conditions"]}
    voices_before = {v["speaker"]: v["stance"] for v in before["voices"]}
    voices_after = {v["speaker"]: v["stance"] for v in after["voices"]}
    voices = [
        VoiceChange(speaker=s, before=voices_before.get(s), after=voices_after.get(s))
        for s in sorted(set(voices_before) | set(voices_after))
        if voices_before.get(s) != voices_after.get(s)
    ]
    body: dict[str, Any] = {
        "stance": change("stance"),
        "speaker": change("speaker"),
        "contested": change("contested"),
        "conditions_added": [c for i, c in new.items() if old.get(i) != c],
        "conditions_removed": [c for i, c in old.items() if new.get(i) != c],
        "voices": voices,
    }
    body["changed"] = any(
        body[k] for k in ("stance", "speaker", "contested", "conditions_added")
    ) or bool(body["conditions_removed"] or voices)
    return body


async def _exists(services: AppServices, registration: str) -> None:
    if not await services.store.registered([registration]):
        kind, _, name = registration.partition(":")
        raise NotFoundException(f"no {kind} {name!r}")


async def _pair(services: AppServices, actor: str, proposal: str) -> Pair:
    known = await services.store.registered([f"proposal:{proposal}", f"actor:{actor}"])
    for kind, name in (("proposal", proposal), ("actor", actor)):
        if f"{kind}:{name}" not in known:
            raise NotFoundException(f"no {kind} {name!r}")
    return (actor, proposal)


async def _proposals(
    services: AppServices, when: ReadTime, proposal: str | None = None
) -> dict[str, Any]:
    found = await services.store.reads.registry(
        "proposal", when.as_of_micros, when.known_at_micros, proposal
    )
    return {p["id"]: p for p in found}


def _untabled(proposal: str) -> dict[str, Any]:
    return {
        "id": proposal,
        "title": "",
        "proposer": "",
        "terms": [],
        "tabled_at": "",
        "amended_at": None,
        "based_on": [],
    }
