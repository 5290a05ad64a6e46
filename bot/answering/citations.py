"""Parse an LLM answer's [n] citations and keep only sentences a cited passage really supports.

Pure functions over strings. A sentence is supported by a passage when most of its content
words (stemmed, stop words removed) occur in it and every number it states occurs in it.
Unsupported or uncited sentences get the passage that does support them, or are dropped;
citations are renumbered in order of first use.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from index.text import NUMBER, content_tokens, key_tokens, split_paragraphs, split_sentences

_MARKER = re.compile(r"\[\s*(\d+(?:\s*[,;]\s*\d+)*)\s*\]")
# A run of markers, also "[1], [2] and [3]": removed as a whole so no stray commas are left.
_MARKER_RUN = re.compile(r"\s*\[\s*\d+(?:\s*[,;]\s*\d+)*\s*\](?:\s*(?:[,;]|and)?\s*\[\s*\d+(?:\s*[,;]\s*\d+)*\s*\])*")
_MARKERS_AFTER_END = re.compile(r"""([.!?]["'”’)]?)((?:\s*[,;]?\s*\[\s*\d+(?:\s*[,;]\s*\d+)*\s*\])+)""")
_PUNCT_RUN = re.compile(r"\s*([,;:]\s*)*([.!?])(?:\s*[.,;:])*$")
_LIST_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")
_REFUSAL = re.compile(
    r"\b(?:doesn'?t|does not|did not|didn'?t|do not|don'?t)\s+(?:say|mention|state|specify|contain|provide|include|answer)"
    r"|\bnot\s+(?:mentioned|stated|specified|provided|included|given)\b"
    r"|\bno\s+(?:information|mention|details?)\b|\bcannot\s+(?:answer|determine|tell)\b|\bunable to\b|\bI don'?t know\b",
    re.IGNORECASE,
)


def answers_question(question: str, sentences: list[str]) -> bool:
    """An answer must share at least one content word with the question; a fluent sentence
    about something else ("3.3 million fled" for "How many soldiers died?") is not an answer."""
    wanted = content_tokens(question)
    return not wanted or bool(wanted & content_tokens(" ".join(sentences)))


def is_refusal(text: str) -> bool:
    return bool(_REFUSAL.search(text))


@dataclass(frozen=True)
class DraftSentence:
    """One sentence of the model's answer: its text without markers and the numbers it cited."""

    text: str
    cited: tuple[int, ...]


def parse_answer(answer: str) -> list[DraftSentence]:
    """Sentences with their [n], [n, m] and [n][m] citations (numbers kept even if out of range)."""
    # "…Ukraine. [1] Next…" → "…Ukraine [1]. Next…": a marker belongs to the sentence before it.
    normalised = _MARKERS_AFTER_END.sub(lambda m: f"{m.group(2)}{m.group(1)}", answer.replace("\r", ""))
    lines = "\n\n".join(_LIST_BULLET.sub("", line) for line in normalised.split("\n"))
    drafts = []
    for para in split_paragraphs(lines):
        chunk = lines[para.start : para.end]
        for span in split_sentences(chunk):
            raw = chunk[span.start : span.end]
            cited = tuple(int(n) for group in _MARKER.findall(raw) for n in re.split(r"[,;]", group))
            text = re.sub(r"\s+([.!?,;:])", r"\1", _MARKER_RUN.sub("", raw))
            text = _PUNCT_RUN.sub(r"\2", " ".join(text.split()))
            if text or cited:
                drafts.append(DraftSentence(text, cited))
    return drafts


def support(sentence_tokens: set[str], passage_tokens: set[str], keys: set[str] = frozenset()) -> float:
    """Share of the sentence's content words found in the passage; 0 if a number or a
    capitalised name (`keys`) is missing from it."""
    if not sentence_tokens or not keys <= passage_tokens:
        return 0.0
    if any(NUMBER.match(t) and t not in passage_tokens for t in sentence_tokens):
        return 0.0
    return len(sentence_tokens & passage_tokens) / len(sentence_tokens)


@dataclass(frozen=True)
class CheckedSentence:
    text: str
    sources: tuple[int, ...]  # context passage numbers (1-based), before renumbering
    repaired: bool  # the model's own citation was wrong or missing


@dataclass
class CitationChecker:
    """Checks sentences one at a time, so a streamed answer can be checked as it arrives."""

    passages: list[str]
    threshold: float = 0.5
    used: list[int] = field(default_factory=list)  # context numbers in order of first citation
    kept: list[CheckedSentence] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._tokens = [content_tokens(p) for p in self.passages]

    def check(self, draft: DraftSentence) -> CheckedSentence | None:
        tokens, keys = content_tokens(draft.text), key_tokens(draft.text)
        repeated = any(k.text == draft.text for k in self.kept)  # small models loop
        if not tokens or repeated or is_refusal(draft.text):
            self.dropped.append(draft.text)
            return None
        valid = [n for n in dict.fromkeys(draft.cited) if 1 <= n <= len(self.passages)]
        supported = tuple(n for n in valid if support(tokens, self._tokens[n - 1], keys) >= self.threshold)
        repaired = False
        if not supported:
            scores = [support(tokens, p, keys) for p in self._tokens]
            best = max(range(len(scores)), key=scores.__getitem__, default=None)
            if best is None or scores[best] < self.threshold:
                self.dropped.append(draft.text)
                return None
            supported, repaired = (best + 1,), True
        for n in supported:
            if n not in self.used:
                self.used.append(n)
        checked = CheckedSentence(draft.text, supported, repaired)
        self.kept.append(checked)
        return checked

    def render(self, sentence: CheckedSentence) -> str:
        """The sentence with its citations renumbered by first use, placed before the final stop."""
        markers = "".join(f"[{self.used.index(n) + 1}]" for n in sentence.sources)
        body, end = (sentence.text[:-1], sentence.text[-1]) if sentence.text[-1:] in ".!?" else (sentence.text, ".")
        return f"{body} {markers}{end}"


@dataclass(frozen=True)
class CheckedAnswer:
    text: str  # "" when nothing survived the check
    used: tuple[int, ...]  # context passage of citation [i + 1]
    dropped: tuple[str, ...]
    repaired: int


def check_answer(answer: str, passages: list[str], threshold: float = 0.5) -> CheckedAnswer:
    checker = CitationChecker(passages, threshold)
    rendered = [checker.render(s) for d in parse_answer(answer) if (s := checker.check(d)) is not None]
    # render() numbers by first use, which check() fixed before each render: one pass is enough.
    return CheckedAnswer(
        " ".join(rendered), tuple(checker.used), tuple(checker.dropped), sum(s.repaired for s in checker.kept)
    )
