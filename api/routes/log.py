"""The log itself: verify its hash chain (tamper evidence)."""

from __future__ import annotations

from litestar import get

from api.dependencies import AppServices
from api.problems import problem_specs
from api.schemas import ChainVerificationOut


@get(
    "/log/verify",
    operation_id="verifyLog",
    summary="Recompute the log's hash chain and say where, if anywhere, it breaks",
    description=(
        "Checks, in position order, each event's hash against its content and its "
        "predecessor's hash, from the last position an earlier check found intact (`since`) "
        "to the head: each event is checked once, so the cost is that of the events appended "
        "since. A broken chain is a finding, not a request error: the answer is 200 with "
        "`ok: false` and the first broken position. `timeline verify` re-checks the whole log."
    ),
    responses=problem_specs(503),
    tags=["meta"],
)
async def verify_log(services: AppServices) -> ChainVerificationOut:
    """The chain as found now; a 503 when the database is down."""
    report = await services.store.verify_chain_since_checkpoint()
    return ChainVerificationOut(
        ok=report.ok,
        since=report.since,
        checked=report.checked,
        head=report.head,
        head_hash=report.head_hash,
        first_broken=report.first_broken,
    )
