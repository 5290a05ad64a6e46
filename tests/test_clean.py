from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from index.clean import clean_text


def test_sample_loses_share_label_and_fixes_quotes(sample_text):
    text = clean_text(sample_text)
    assert "مشاركة" not in text
    assert text.endswith("with 12 people killed.")
    assert "Russia's delegation" in text
    assert "“" not in text and "”" not in text


def test_mojibake_and_whitespace():
    raw = "CafÃ© owners   said\u00a0it\r\n\r\n\r\nwas  â€œfineâ€\x9d.\n\n\n"
    assert clean_text(raw) == 'Café owners said it\n\nwas "fine".'


def test_boilerplate_lines_dropped_but_real_lines_kept():
    raw = "Share on Facebook\nTweet\nThe share price fell.\nAdvertisement\n***\nRead more"
    assert clean_text(raw) == "The share price fell."


def test_single_newlines_are_paragraphs_when_no_blank_lines():
    assert clean_text("First line.\nSecond line.") == "First line.\n\nSecond line."


@given(st.text())
def test_cleaned_text_is_canonical(raw):
    once = clean_text(raw)
    assert "\n\n\n" not in once and "  " not in once
    assert once == once.strip()


NEWS_TEXT = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126) | st.sampled_from("\n\t“”‘’—é"))


@given(NEWS_TEXT)
def test_cleaning_is_idempotent(raw):
    # On arbitrary Unicode ftfy may read a cleaned "œ®" as mojibake again, so this property is
    # checked on the characters news text is made of.
    once = clean_text(raw)
    assert clean_text(once) == once
