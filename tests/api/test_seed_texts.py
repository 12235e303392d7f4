"""`timeline seed --texts DIR`: the five articles (../shared/seeds/, beside the checkout; the
repository holds none) attach to their sources by hash, and every quoted citation of the seed
data verifies against them, with a span that reads as the quote."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from api.seeding import seed_texts, text_files
from domain.quotes import fragments, normalise
from seeds.dataset import load_text_manifest
from tests.support.api import Api

ARTICLES = Path(__file__).resolve().parents[2].parent / "shared" / "seeds"
needs_articles = pytest.mark.skipif(
    not any(ARTICLES.glob("*.txt")), reason=f"the seed articles are not at {ARTICLES}"
)


def test_the_manifest_lists_one_text_for_each_seed_source() -> None:
    manifest = load_text_manifest()
    assert sorted(manifest.values()) == sorted(
        [
            "unidentified-2025-03-13",
            "notus-2025-03-13",
            "us-daily-2025-03-13",
            "euromaidan-press-2025-03-13",
            "rt-2025-03-13",
        ]
    )
    assert all(len(digest) == 64 for digest in manifest)


async def test_files_attach_by_hash_and_the_rest_are_reported(seeded: Api) -> None:
    files = {"a.txt": b"An article of our own.", "b.txt": b"Another, listed nowhere."}
    manifest = {
        "5f4bd14a0ca7c40b7b9b5a6bd0f3bd1e3d1f9c1c0f7a1b63d5dd1e0e44a0c6b1": "x",
        hashlib.sha256(b"An article of our own.").hexdigest(): "notus-2025-03-13",
    }
    report = await seed_texts(seeded.services.store, seeded.services.clock, files, manifest)
    assert report.attached == {"notus-2025-03-13": "a.txt"}
    assert report.unmatched == ("b.txt",)
    assert report.missing == ("x",)
    assert report.failed > 0  # the seed's quotes of NOTUS are not in this made-up text
    again = await seed_texts(seeded.services.store, seeded.services.clock, files, manifest)
    assert again.attached == {} and again.already == {"notus-2025-03-13": "a.txt"}


def _reads_as(span: str, quote: str) -> bool:
    """Whether a span of a text starts and ends as a quote's first and last fragments."""
    parts = fragments(quote)
    read = normalise(span).text
    return read.startswith(parts[0]) and read.endswith(parts[-1])


@needs_articles
async def test_every_seed_quote_verifies_against_the_articles(seeded: Api) -> None:
    report = await seed_texts(seeded.services.store, seeded.services.clock, text_files(ARTICLES))
    assert len(report.attached) == 5 and report.missing == () and report.failed == 0
    texts = {}
    for source in report.attached:
        shown = (await seeded.client.get(f"/v1/sources/{source}")).json()["text"]
        texts[shown["sha256"]] = await seeded.services.store.reads.text(shown["sha256"])
    cited = payloads = 0
    url: str | None = "/v1/events?limit=1000"
    while url:
        page = (await seeded.client.get(url)).json()
        for event in page["items"]:
            for citation in event["sources"]:
                if "quote" not in citation:
                    continue
                cited += 1
                assert citation["verified"] is True, citation
                span = citation["span"]
                text = texts[citation["sha256"]]
                assert _reads_as(text[span["start"] : span["end"]], citation["quote"]), citation
            quote = event["payload"].get("quote")
            if quote is None:
                assert event["quote_check"] is None, event
                continue
            payloads += 1
            check = event["quote_check"]
            assert check["verified"] is True, (event["payload"], check)
            assert check["source"] in {c["source"] for c in event["sources"]}
            span = check["span"]
            assert _reads_as(texts[check["sha256"]][span["start"] : span["end"]], quote), check
        url = page["next"]
    assert (cited, payloads) == (56, 10)
    # The timeline shows each event as it now stands, with the same checks.
    timeline = (await seeded.client.get("/v1/timeline?limit=1000")).json()["items"]
    shown = [e["quote_check"] for e in timeline if e["payload"].get("quote") is not None]
    assert shown and all(check["verified"] is True for check in shown)
