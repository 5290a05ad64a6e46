"""Settings for turning retrieved passages into a checked answer."""

from __future__ import annotations

from dataclasses import dataclass

from index.config_errors import require

FOCUS_MODES = ("windows", "always", "never")


@dataclass(frozen=True)
class AnswerConfig:
    max_question_chars: int = 1000
    min_similarity: float = 0.15
    related_passages: int = 3
    whole_article_max_tokens: int = 3000
    warm_up_step_tokens: int = 100
    window_tokens: int = 3000
    # Show the best passage again before the question: "windows" (of a long article), "always", "never".
    focus_passage: str = "windows"
    # Of the focus passage, the sentences the cross-encoder rates best for the question (in the
    # passage's order); 0 shows the whole passage.
    focus_sentences: int = 0
    subject_check: bool = True
    max_novel_words: int = 1
    min_evidence_score: float = -1.5
    max_decline_probability: float = 0.01
    verify: bool = False
    verify_threshold: float = 0.5
    # Ask the question again from the answer's evidence alone (prompts/reask.txt); decline when the
    # model then answers differently or leans to an empty answer above this probability. Only
    # answers whose relevance score is below reask_below_relevance are asked again.
    reask: bool = True
    reask_max_decline_probability: float = 0.15
    reask_below_relevance: float = 6.5

    def asks_again(self, relevance: float | None) -> bool:
        """Whether answer.reask asks an answer again: unless the relevance check is sure of it
        (bench/reask_gate.py); without a cross-encoder (`relevance` None), always."""
        return self.reask and (relevance is None or relevance < self.reask_below_relevance)

    def __post_init__(self) -> None:
        require(
            10 <= self.max_question_chars <= 4000, "answer.max_question_chars", self.max_question_chars, "10 to 4000"
        )
        require(-1.0 <= self.min_similarity <= 1.0, "answer.min_similarity", self.min_similarity, "-1.0 to 1.0")
        require(0 <= self.related_passages <= 10, "answer.related_passages", self.related_passages, "0 to 10")
        require(
            self.whole_article_max_tokens >= 0,
            "answer.whole_article_max_tokens",
            self.whole_article_max_tokens,
            ">= 0",
        )
        require(
            50 <= self.warm_up_step_tokens <= 100_000, "answer.warm_up_step_tokens", self.warm_up_step_tokens, ">= 50"
        )
        require(self.focus_passage in FOCUS_MODES, "answer.focus_passage", self.focus_passage, " or ".join(FOCUS_MODES))
        require(0 <= self.focus_sentences <= 20, "answer.focus_sentences", self.focus_sentences, "0 to 20")
        require(self.window_tokens >= 0, "answer.window_tokens", self.window_tokens, ">= 0")
        require(0 <= self.max_novel_words <= 20, "answer.max_novel_words", self.max_novel_words, "0 to 20")
        require(
            -20.0 <= self.min_evidence_score <= 20.0, "answer.min_evidence_score", self.min_evidence_score, "-20 to 20"
        )
        require(
            0.0 <= self.max_decline_probability <= 1.0,
            "answer.max_decline_probability",
            self.max_decline_probability,
            "0.0 to 1.0",
        )
        require(0.0 <= self.verify_threshold <= 1.0, "answer.verify_threshold", self.verify_threshold, "0.0 to 1.0")
        require(
            0.0 <= self.reask_max_decline_probability <= 1.0,
            "answer.reask_max_decline_probability",
            self.reask_max_decline_probability,
            "0.0 to 1.0",
        )
        require(
            -20.0 <= self.reask_below_relevance <= 100.0,
            "answer.reask_below_relevance",
            self.reask_below_relevance,
            "-20 to 100",
        )
