"""A payload's quote rests on the texts of the sources its event cites: the first text holding
it verifies it; it is refuted only when every cited source has a text and none holds it; while
one has none, it is merely unverified. The closest passage of a refusal is looked for in each."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from domain.quotes import closest_among, find_quote, normalise, quote_of, rest_quote

PUTIN = normalise("Putin said the idea \u201cis correct\u201d, but questions remain.")
USHAKOV = normalise("Ushakov called it \u2018nothing more than a temporary respite\u2019.")


def test_the_first_cited_text_holding_the_quote_verifies_it() -> None:
    resting = rest_quote("nothing more than a temporary respite", [PUTIN, USHAKOV])
    assert resting.verified and resting.holder == 1 and not resting.refuted
    assert resting.match == find_quote("nothing more than a temporary respite", USHAKOV)
    both = normalise(PUTIN.text + " " + USHAKOV.text)
    assert rest_quote("temporary respite", [both, USHAKOV]).holder == 0


def test_a_quote_no_text_holds_is_refuted_only_when_every_source_has_one() -> None:
    assert rest_quote("a lasting peace", [PUTIN, USHAKOV]).refuted
    pending = rest_quote("a lasting peace", [PUTIN, None])
    assert not pending.verified and not pending.refuted
    assert not rest_quote("a lasting peace", [None]).refuted
    assert not rest_quote("a lasting peace", []).refuted  # resting on nothing, not refuted


def test_a_source_without_a_text_does_not_stop_a_later_text_verifying() -> None:
    resting = rest_quote("questions remain", [None, PUTIN])
    assert resting.verified and resting.holder == 1


@given(st.permutations([0, 1, 2]), st.integers(0, 2))
def test_the_verdict_is_the_first_holder_in_citation_order(order: list[int], held: int) -> None:
    quotes = ["is correct", "temporary respite", "not anywhere at all"]
    texts = [PUTIN, USHAKOV, normalise("A third article, about nothing.")]
    cited = [texts[i] for i in order]
    resting = rest_quote(quotes[held], cited)
    holders = [k for k, t in enumerate(cited) if find_quote(quotes[held], t) is not None]
    assert resting.holder == (holders[0] if holders else None)
    assert resting.refuted == (not holders)


def test_the_closest_passage_of_a_refusal_is_in_the_text_most_like_the_quote() -> None:
    originals = [
        "Putin said the idea \u201cis correct\u201d, but questions remain.",
        "Ushakov called it \u2018nothing more than a temporary respite\u2019.",
    ]
    among = [(o, normalise(o)) for o in originals]
    i, start, end = closest_among("nothing more than a short respite", among)
    assert i == 1 and "temporary respite" in originals[1][start:end]
    i, start, end = closest_among("the idea is right", among)
    assert i == 0 and "idea" in originals[0][start:end]


def test_only_a_string_quote_is_a_payload_quote() -> None:
    assert quote_of({"quote": "said", "summary": "s"}) == "said"
    assert quote_of({"summary": "s"}) is None
    assert quote_of({"quote": None}) is None
