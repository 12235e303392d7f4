"""What the desk's forms offer to pick, from the read models (as /v1/actors, /v1/proposals and
/v1/sources answer): everything registered, as the log stands now."""

from __future__ import annotations

from dataclasses import dataclass

from api.desk.forms import Pickers
from api.services import Services
from store.projection import FOREVER

EVERYTHING = FOREVER - 1


@dataclass(frozen=True, slots=True)
class Registry:
    """Names of actors, titles of proposals and labels of sources, by id."""

    actors: dict[str, str]
    proposals: dict[str, str]
    sources: dict[str, str]

    def pickers(self) -> Pickers:
        """Each kind as options of a select, labelled "Name (id)", sorted by label."""

        def options(named: dict[str, str]) -> tuple[tuple[str, str], ...]:
            return tuple(
                sorted(((i, f"{n} ({i})") for i, n in named.items()), key=lambda o: o[1].lower())
            )

        return Pickers(
            actors=options(self.actors),
            proposals=options(self.proposals),
            sources=options(self.sources),
        )


async def registry(services: Services) -> Registry:
    """Every registered actor, proposal and source, as known now."""
    reads = services.store.reads
    actors = await reads.registry("actor", EVERYTHING, EVERYTHING)
    proposals = await reads.registry("proposal", EVERYTHING, EVERYTHING)
    sources = await reads.sources(EVERYTHING)
    return Registry(
        actors={a["id"]: str(a.get("name") or a["id"]) for a in actors},
        proposals={p["id"]: str(p.get("title") or p["id"]) for p in proposals},
        sources={v.state["payload"]["source"]: _label(v.state["payload"]) for v in sources},
    )


def _label(source: dict[str, str]) -> str:
    headline = source["headline"]
    short = headline if len(headline) <= 80 else headline[:79].rstrip() + "…"
    return f"{source['outlet']}, “{short}”"
