"""Split cleaned article text into passages at sentence boundaries.

Pure functions: text in, spans out. A passage never cuts a sentence; a sentence longer than
`max_words` becomes a passage of its own rather than being cut.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from index.config_errors import require
from index.models import Span


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


# Words that end in a full stop without ending the sentence ("Lt. Gen. Jim Hockenhull").
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof sr jr st mt lt gen maj col capt cpt sgt cmdr adm gov sen rep pres "
    "rev hon vs etc approx dept est inc ltd co corp jan feb mar apr jun jul aug "
    "sep sept oct nov dec".split()
)
# Abbreviations only before a number ("No. 5", "Fig. 2"); "He said no. Then…" ends a sentence.
_NUMBER_ABBREVIATIONS = frozenset({"no", "nos", "fig", "vol", "pp"})
_SENTENCE_END = re.compile(r"""[.!?…]+["'”’)\]]*(?=\s+|$)""")
_NEXT_STARTS_SENTENCE = re.compile(r"""\s+["'“‘(\[]*[A-Z0-9À-ÖØ-Þ]""")
_WORD = re.compile(r"\S+")


def _is_abbreviation(text: str, end_of_punct: int, dot_at: int) -> bool:
    if text[dot_at] != ".":
        return False
    start = dot_at
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    word = text[start:dot_at].strip("\"'“‘(").lower()
    if word in _ABBREVIATIONS:
        return True
    if word in _NUMBER_ABBREVIATIONS:
        return text[end_of_punct:].lstrip()[:1].isdigit()
    # A lone initial ("J. Smith"); dotted acronyms such as "U.N." may end a sentence.
    return len(word) == 1 and text[start:dot_at].strip("\"'“‘(").isupper()


def split_sentences(text: str) -> list[Span]:
    """Sentence spans covering every non-space character of `text`, in order, without overlap."""
    spans: list[Span] = []
    start = _skip_space(text, 0)
    for match in _SENTENCE_END.finditer(text):
        end = match.end()
        if end <= start:
            continue
        at_text_end = text[end:].strip() == ""
        if not at_text_end:
            if not _NEXT_STARTS_SENTENCE.match(text, end):
                continue
            if _is_abbreviation(text, end, match.start()):
                continue
        spans.append(Span(start, end))
        start = _skip_space(text, end)
    if start < len(text) and text[start:].strip():
        spans.append(Span(start, len(text.rstrip())))
    return spans


def _skip_space(text: str, at: int) -> int:
    while at < len(text) and text[at].isspace():
        at += 1
    return at


def count_words(text: str) -> int:
    return len(_WORD.findall(text))


def split_paragraphs(text: str) -> list[Span]:
    """Paragraph spans: blocks separated by one or more blank lines (cleaned text uses '\\n\\n')."""
    spans = []
    for match in re.finditer(r"\S(?:.*?\S)?(?=\s*\n\s*\n|\s*$)", text, flags=re.DOTALL):
        spans.append(Span(match.start(), match.end()))
    return spans


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
