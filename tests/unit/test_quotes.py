"""Quotes are found in a source's text through one normalisation: any span of a text, written
again with other quote marks, dashes, spacing and case, is found where it is; one character
changed so that it no longer occurs, it is not."""

from __future__ import annotations

from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from domain.quotes import _EDGES, EXCERPT, closest_passage, find_quote, fragments, normalise

TEXT = (
    "Putin said: \u201cThe idea itself is correct \u2014 and we support it.\u201d\n\n"
    "Ushakov called it \u2018nothing more than a temporary respite\u2019 for Ukraine\u2019s army."
)


def test_typographic_marks_dashes_and_spacing_are_read_alike() -> None:
    found = find_quote('"The idea itself is  correct - and we support it."', normalise(TEXT))
    assert found is not None
    assert TEXT[found.start : found.end] == "The idea itself is correct \u2014 and we support it"


def test_an_ellipsis_leaves_words_out_and_its_fragments_must_come_in_order() -> None:
    text = normalise(TEXT)
    found = find_quote("The idea \u2026 we support it", text)
    assert found is not None
    assert [TEXT[s:e] for s, e in found.fragments] == ["The idea", "we support it"]
    assert (found.start, found.end) == (found.fragments[0][0], found.fragments[-1][1])
    assert find_quote("we support it ... The idea", text) is None


def test_a_bracketed_clarification_is_not_looked_for() -> None:
    text = normalise(TEXT)
    found = find_quote(
        "[Ushakov] called it 'nothing more than a temporary respite' for [Kyiv]",
        text,
    )
    assert found is not None
    assert find_quote("Ushakov called it nothing more than a lasting peace", text) is None


def test_case_is_folded_but_the_span_points_at_the_text_as_written() -> None:
    found = find_quote("USHAKOV CALLED IT", normalise(TEXT))
    assert found is not None
    assert TEXT[found.start : found.end] == "Ushakov called it"


def test_the_tightest_span_is_found_when_a_short_fragment_occurs_everywhere() -> None:
    text = "the cat sat; then the dog barked at the cat"
    found = find_quote("[T]he ... dog barked", normalise(text))
    assert found is not None
    assert text[found.start : found.end] == "he dog barked"


def test_a_quote_of_omissions_alone_has_nothing_to_find() -> None:
    assert fragments("... [sic] \u2026") == ()
    assert find_quote("...", normalise(TEXT)) is None


def test_the_closest_passage_is_a_short_excerpt_near_the_misquote() -> None:
    start, end = closest_passage(
        "nothing more than a temporary pause", TEXT * 20, normalise(TEXT * 20)
    )
    assert end - start <= EXCERPT
    assert "nothing more than a temporary" in (TEXT * 20)[start:end]


ALPHABET = st.sampled_from(
    [
        *"abcdefghij ABC,;:!?.'\"-\n\t",
        "\u2019",
        "\u201c",
        "\u201d",
        "\u2014",
        "\u2013",
        "\u00a0",
        "\ufb01",
        "\u00df",
        "\u00e9",
    ]
)
texts = st.lists(ALPHABET, min_size=1, max_size=120).map("".join)
# Words without full stops (an ellipsis would split a quote), at least a quote's length.
WORDS = st.sampled_from([*"abcdefghij ABC,'-", "\u2019", "\u201c", "\u2014", "\u00df"])
long_texts = st.lists(WORDS, min_size=8, max_size=120).map("".join)


def _expected_span(text: str, start: int, end: int) -> tuple[int, int] | None:
    """The span a quote of text[start:end] is found at: its normalised characters, trimmed of
    spaces and of the punctuation a quote's edges may change."""
    normalised = normalise(text)
    inside = [i for i, s in enumerate(normalised.starts) if start <= s < end]
    while inside and normalised.text[inside[0]] in _EDGES:
        inside.pop(0)
    while inside and normalised.text[inside[-1]] in _EDGES:
        inside.pop()
    return normalised.original(inside[0], inside[-1] + 1) if inside else None


TYPOGRAPHIC = {"'": "\u2019", '"': "\u201d", "-": "\u2014", " ": " \n ", "\u2019": "'"}


@settings(max_examples=300, deadline=None)
@given(texts, st.data())
@example("x \u201chello\u201d", None)
def test_any_span_of_a_text_written_again_is_found_there(text: str, data: st.DataObject) -> None:
    if data is None:  # the explicit example: the whole text
        start, end, swaps, upper = 0, len(text), True, True
    else:
        start = data.draw(st.integers(0, len(text) - 1))
        end = data.draw(st.integers(start + 1, len(text)))
        swaps, upper = data.draw(st.booleans()), data.draw(st.booleans())
    quote = text[start:end]
    assume("..." not in normalise(quote).text)
    if swaps:
        quote = "".join(TYPOGRAPHIC.get(c, c) for c in quote)
    if upper:
        quote = quote.upper()
    expected = _expected_span(text, start, end)
    assume(expected is not None)
    normalised = normalise(text)
    found = find_quote(quote, normalised)
    assert found is not None
    [part] = fragments(quote)
    first = normalised.text.find(part)
    if normalised.text.find(part, first + 1) < 0:  # it occurs once: there
        assert (found.start, found.end) == expected
    else:  # elsewhere too: at a span that holds it (a ligature's span holds both its letters)
        assert part in normalise(text[found.start : found.end]).text


@settings(max_examples=300, deadline=None)
@given(long_texts, st.data())
def test_a_changed_character_that_makes_the_quote_absent_is_not_found(
    text: str, data: st.DataObject
) -> None:
    start = data.draw(st.integers(0, len(text) - 8))
    end = data.draw(st.integers(start + 8, len(text)))
    quote = text[start:end]
    assume(len(fragments(quote)) == 1)
    at = data.draw(st.integers(0, len(quote) - 1))
    changed = quote[:at] + data.draw(st.sampled_from("klmnopqrstuvwxyz")) + quote[at + 1 :]
    parts = fragments(changed)
    assume(len(parts) == 1 and parts[0] not in normalise(text).text)
    assert find_quote(changed, normalise(text)) is None
