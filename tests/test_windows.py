from __future__ import annotations

from bot.answering.pipeline import split_windows
from bot.answering.prompts import estimate_tokens
from index.models import Passage


def passages(*words: int) -> list[Passage]:
    return [Passage("a", n, "word " * count, 0, 0) for n, count in enumerate(words, start=1)]


def cost(window: list[Passage]) -> int:
    return sum(estimate_tokens(p.text) + 4 for p in window)


def test_a_short_article_is_one_window_and_zero_turns_windows_off():
    article = passages(100, 100, 100)
    assert split_windows(article, 10_000) == [article]
    assert split_windows(article, 0) == [article]
    assert split_windows([], 100) == []


def test_a_long_article_is_cut_into_as_few_windows_of_about_equal_length_as_fit():
    article = passages(*[100] * 10)  # ~160 tokens each, ~1,600 in all
    windows = split_windows(article, 700)
    assert [p for w in windows for p in w] == article  # consecutive, nothing lost or repeated
    assert len(windows) == 3 and {len(w) for w in windows} <= {3, 4}
    half = cost(article[:1]) / 2
    assert all(cost(w) <= 700 + half for w in windows)


def test_a_passage_longer_than_the_bound_is_a_window_of_its_own():
    windows = split_windows(passages(20, 2000, 20), 300)
    assert [[p.n for p in w] for w in windows] == [[1], [2], [3]]
