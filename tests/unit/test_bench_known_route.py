"""The HTTP benchmark's floor of a miss: the position route again, its answers' bytes known."""

from __future__ import annotations

from bench.app import KNOWN_ROOT, position_known
from tests.clock import FrozenClock
from tests.databases import SqliteDatabases
from tests.support.api import serving

PATH = "/proposals/us-30-day-ceasefire-2025/positions/russia"


async def test_the_known_route_answers_the_position_route_s_bytes_and_headers(
    sqlite_databases: SqliteDatabases, clock: FrozenClock
) -> None:
    """Same body, ETag and Cache-Control as the API's own answer to the same query, from the
    first request on; later requests at other known_at get those bytes again (not read)."""
    async with serving(sqlite_databases.fresh(), clock, seeded=True) as api:
        api.client.app.register(position_known)
        query = {"as_of": "2025-03-14T12:00:00Z", "known_at": "2026-01-01T13:00:00Z"}
        real = await api.client.get("/v1" + PATH, params=query)
        known = await api.client.get(KNOWN_ROOT + PATH, params=query)
        assert real.status_code == known.status_code == 200
        assert known.content == real.content
        assert known.json()["stance"] == "conditional"
        for header in ("etag", "cache-control", "content-type", "content-length"):
            assert known.headers[header] == real.headers[header]
        later = await api.client.get(
            KNOWN_ROOT + PATH, params={**query, "known_at": "2026-01-01T14:00:00Z"}
        )
        assert later.content == known.content
        refused = await api.client.get(KNOWN_ROOT + PATH, params={"as_of": "soon"})
        assert refused.status_code == 400
