from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from bot.answering.citations import (
    CitationChecker,
    DraftSentence,
    answers_question,
    check_answer,
    content_tokens,
    key_tokens,
    parse_answer,
    support,
)

PASSAGES = [
    "UN agencies say 3.27 million people have fled Ukraine since the start of the Russian invasion.",
    "Early morning barrages also hit a residential building in the Podil neighborhood of Kyiv.",
    "Moscow police said more than 200,000 people were in and around the Luzhniki stadium.",
]


def test_parse_marker_forms():
    drafts = parse_answer("A claim [1]. Two at once [1, 3]. Adjacent [2][3]. After the stop. [2] Semi [1; 2].")
    assert drafts == [
        DraftSentence("A claim.", (1,)),
        DraftSentence("Two at once.", (1, 3)),
        DraftSentence("Adjacent.", (2, 3)),
        DraftSentence("After the stop.", (2,)),
        DraftSentence("Semi.", (1, 2)),
    ]


def test_marker_lists_leave_no_stray_punctuation():
    assert parse_answer("Made by steam turbines [1], [2], [3].") == [
        DraftSentence("Made by steam turbines.", (1, 2, 3))
    ]
    assert parse_answer("There are 129 MSPs [1] and [2].") == [DraftSentence("There are 129 MSPs.", (1, 2))]
    assert parse_answer("Used in mills, and mines. [1][2]") == [DraftSentence("Used in mills, and mines.", (1, 2))]


def test_bullets_and_lines_are_sentences():
    drafts = parse_answer("- Podil was hit [2]\n- 3.27 million fled [1]")
    assert [d.cited for d in drafts] == [(2,), (1,)]


def test_wrong_and_out_of_range_citations_are_repaired_then_renumbered():
    answer = "A building in the Podil neighborhood of Kyiv was hit [9]. 3.27 million people have fled Ukraine [3]."
    checked = check_answer(answer, PASSAGES)
    assert checked.text == (
        "A building in the Podil neighborhood of Kyiv was hit [1]. 3.27 million people have fled Ukraine [2]."
    )
    assert checked.used == (2, 1)
    assert checked.repaired == 2


def test_unsupported_claims_are_dropped():
    checked = check_answer(
        "Russia won the 2018 FIFA World Cup. [1] About 200,000 people were at the Luzhniki stadium [3].", PASSAGES
    )
    assert checked.text == "About 200,000 people were at the Luzhniki stadium [1]."
    assert checked.used == (3,)
    assert checked.dropped == ("Russia won the 2018 FIFA World Cup.",)


def test_wrong_number_or_name_is_not_supported():
    assert check_answer("3.3 million people have fled Ukraine [1].", PASSAGES).text == ""
    assert check_answer("The Podil neighborhood of Lviv was hit [2].", PASSAGES).text == ""


def test_refusals_filler_and_repeats_are_dropped():
    checked = check_answer("Sure! The article doesn't say. Podil was hit [2]. Podil was hit [2].", PASSAGES)
    assert checked.text == "Podil was hit [1]."


def test_answer_must_share_words_with_question():
    assert not answers_question("How many Russian soldiers died?", ["3.27 million people have fled Ukraine."])
    assert answers_question("How many people fled?", ["3.27 million people have fled Ukraine."])


def test_support_requires_numbers_and_names():
    passage = content_tokens(PASSAGES[0])
    assert support(content_tokens("3.27 million fled"), passage) == 1.0
    assert support(content_tokens("4 million fled"), passage) == 0.0
    sentence = "Putin says 3.27 million fled"
    assert support(content_tokens(sentence), passage, key_tokens(sentence)) == 0.0


SENTENCE_WORDS = st.lists(
    st.sampled_from("people fled Ukraine Podil Kyiv stadium police million barrages hit Moscow".split()),
    min_size=1,
    max_size=8,
)


@given(st.lists(st.tuples(SENTENCE_WORDS, st.lists(st.integers(-2, 6), max_size=3)), max_size=6))
def test_every_kept_citation_is_valid_and_supporting(parts):
    answer = " ".join(" ".join(words).capitalize() + "".join(f"[{n}]" for n in cites) + "." for words, cites in parts)
    checker = CitationChecker(PASSAGES)
    checked = check_answer(answer, PASSAGES)
    numbers = [int(n) for n in re.findall(r"\[(\d+)\]", checked.text)]
    # Citations are 1..len(used), numbered in order of first use.
    seen: list[int] = []
    for n in numbers:
        if n not in seen:
            seen.append(n)
    assert seen == list(range(1, len(checked.used) + 1))
    assert all(1 <= p <= len(PASSAGES) for p in checked.used)
    # Each kept sentence is supported by each passage it cites.
    for sentence in re.findall(r"[^.]*?\[[\d\]\[]+\]\.", checked.text):
        cited = [checked.used[int(n) - 1] for n in re.findall(r"\[(\d+)\]", sentence)]
        body = re.sub(r"\s*\[\d+\]", "", sentence)
        for p in cited:
            assert support(content_tokens(body), checker._tokens[p - 1], key_tokens(body)) >= checker.threshold
