"""Split cleaned article text into passages at sentence boundaries.

Pure functions: text in, spans out. A passage never cuts a sentence; a sentence longer than
`max_words` becomes a passage of its own rather than being cut.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from index.config_errors import require
from index.models import Span
from index.text import count_words, split_paragraphs, split_sentences


@dataclass(frozen=True)
class ChunkingConfig:
    min_words: int = 60
    max_words: int = 160

    def __post_init__(self) -> None:
        require(self.min_words >= 1, "chunking.min_words", self.min_words, "an integer >= 1")
        require(
            self.max_words >= 2 * self.min_words,
            "chunking.max_words",
            self.max_words,
            f"an integer >= 2 * chunking.min_words ({2 * self.min_words})",
        )


def _pack_sentences(words: list[int], max_words: int) -> list[tuple[int, int]]:
    """Group consecutive sentences (given their word counts) into balanced runs.

    Returns [first, last) index pairs. Each run holds at most `max_words` unless it is a single
    sentence. Runs aim at an even share of the paragraph so no tiny tail is left over.
    """
    total = sum(words)
    parts = max(1, math.ceil(total / max_words))
    target = total / parts
    runs: list[tuple[int, int]] = []
    first, size = 0, 0
    for i, w in enumerate(words):
        if i > first and (size + w > max_words or abs(size + w - target) > abs(size - target)):
            runs.append((first, i))
            first, size = i, 0
        size += w
    runs.append((first, len(words)))
    return runs


def chunk_article(text: str, config: ChunkingConfig) -> list[Span]:
    """Passage spans for `text`: paragraphs kept, long ones split, short ones merged."""
    pieces: list[tuple[Span, int]] = []  # (span, words)
    for para in split_paragraphs(text):
        sentences = split_sentences(text[para.start : para.end])
        sentences = [Span(para.start + s.start, para.start + s.end) for s in sentences]
        words = [count_words(text[s.start : s.end]) for s in sentences]
        if sum(words) <= config.max_words:
            pieces.append((Span(para.start, para.end), sum(words)))
            continue
        for first, last in _pack_sentences(words, config.max_words):
            span = Span(sentences[first].start, sentences[last - 1].end)
            pieces.append((span, sum(words[first:last])))
    return _merge_short(pieces, config)


def _merge_short(pieces: list[tuple[Span, int]], config: ChunkingConfig) -> list[Span]:
    """Join a piece shorter than min_words with its neighbour when the pair stays within max_words."""
    merged: list[tuple[Span, int]] = []
    for span, words in pieces:
        if merged:
            prev_span, prev_words = merged[-1]
            short = words < config.min_words or prev_words < config.min_words
            if short and prev_words + words <= config.max_words:
                merged[-1] = (Span(prev_span.start, span.end), prev_words + words)
                continue
        merged.append((span, words))
    return [span for span, _ in merged]
