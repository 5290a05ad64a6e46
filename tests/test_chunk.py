from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from index.chunk import ChunkingConfig, chunk_article
from index.clean import clean_text
from index.text import _ABBREVIATIONS, count_words, excerpt, split_sentences

WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=9)


@st.composite
def sentence(draw) -> str:
    words = draw(st.lists(WORD, min_size=1, max_size=45))
    words[0] += "x"  # a one-letter sentence ("A.") reads as an initial, by design
    if words[-1] in _ABBREVIATIONS:
        words[-1] += "x"  # "… Mr." before a capital reads as a title, by design
    words[0] = words[0].capitalize()
    if draw(st.booleans()):
        words.insert(
            draw(st.integers(1, len(words))), draw(st.sampled_from(["3.27", "U.S.", "e.g.", "Lviv,", '"quoted"']))
        )
    return " ".join(words) + draw(st.sampled_from([".", "!", "?", '."', ".)"]))


PARAGRAPH = st.lists(sentence(), min_size=1, max_size=30)
ARTICLE = st.lists(PARAGRAPH, min_size=1, max_size=6)
CONFIG = st.builds(
    lambda lo, extra: ChunkingConfig(min_words=lo, max_words=2 * lo + extra),
    st.integers(5, 80),
    st.integers(0, 120),
)


def render(paragraphs: list[list[str]]) -> str:
    return "\n\n".join(" ".join(p) for p in paragraphs)


@given(ARTICLE)
def test_sentences_are_recovered(paragraphs):
    for para in paragraphs:
        text = " ".join(para)
        found = [text[s.start : s.end] for s in split_sentences(text)]
        assert found == para


@settings(max_examples=200)
@given(ARTICLE, CONFIG)
def test_passages_cover_every_sentence_once_in_order(paragraphs, config):
    text = render(paragraphs)
    spans = chunk_article(text, config)
    assert spans, "non-empty text gives at least one passage"
    # In order, without overlap, and starting/ending on text rather than space.
    for a, b in itertools.pairwise(spans):
        assert a.end <= b.start
    for s in spans:
        assert text[s.start : s.end] == text[s.start : s.end].strip()
    # Every sentence lies inside exactly one passage.
    offset = 0
    for para in paragraphs:
        for sent in para:
            start = text.index(sent, offset)
            end = start + len(sent)
            offset = end
            holders = [s for s in spans if s.start <= start and end <= s.end]
            assert len(holders) == 1, sent
    # Nothing is lost: the passages hold every word of the text.
    assert sum(count_words(text[s.start : s.end]) for s in spans) == count_words(text)


@settings(max_examples=200)
@given(ARTICLE, CONFIG)
def test_size_limits(paragraphs, config):
    text = render(paragraphs)
    for s in chunk_article(text, config):
        piece = text[s.start : s.end]
        words = count_words(piece)
        if words > config.max_words:
            assert len(split_sentences(piece)) == 1, "only a single over-long sentence may exceed max_words"


def test_sample_article_is_split_into_passages_of_60_to_160_words(sample_text):
    text = clean_text(sample_text)
    spans = chunk_article(text, ChunkingConfig())
    sizes = [count_words(text[s.start : s.end]) for s in spans]
    assert len(spans) >= 7
    assert all(60 <= n <= 160 for n in sizes), sizes
    assert "\n" not in text  # the sample has no paragraph breaks: splitting is by sentences only


def test_abbreviations_do_not_end_sentences():
    text = "Lt. Gen. Jim Hockenhull warned. Mr. Smith met St. Petersburg officials. J. Doe left. He said no. No. 5 won."
    assert [text[s.start : s.end] for s in split_sentences(text)] == [
        "Lt. Gen. Jim Hockenhull warned.",
        "Mr. Smith met St. Petersburg officials.",
        "J. Doe left.",
        "He said no.",
        "No. 5 won.",
    ]


def test_short_paragraphs_merge_and_breaks_are_kept():
    config = ChunkingConfig(min_words=5, max_words=12)
    text = "One two.\n\nThree four five six seven eight nine ten.\n\nEleven twelve thirteen fourteen fifteen sixteen."
    pieces = [text[s.start : s.end] for s in chunk_article(text, config)]
    assert pieces == [
        "One two.\n\nThree four five six seven eight nine ten.",
        "Eleven twelve thirteen fourteen fifteen sixteen.",
    ]


def test_a_long_quote_is_shown_around_the_words_of_what_it_supports():
    text = "The mayor opened the session at nine. " * 6 + "The new bridge over the river will cost 12 million euros."
    plain = excerpt(text, 120)
    assert plain.startswith("The mayor") and plain.endswith(" …") and "bridge" not in plain
    shown = excerpt(text, 120, around="The bridge will cost 12 million euros.")
    assert len(shown) <= 120 and shown.startswith("… ") and shown.endswith("will cost 12 million euros.")
    assert excerpt("A short quote.", 120, around="anything") == "A short quote."
