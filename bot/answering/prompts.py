"""Prompt templates (files in prompts/) rendered into chat messages within a token budget.

The stable part comes first — the system rules, then the passages — and the question last, so
llama.cpp's prompt cache reuses everything but the question when the passages do not change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from bot.llm.protocol import ChatMessage

PROMPTS_DIR = Path(__file__).resolve().parents[2] / "prompts"
# A rough, deliberately high count for English under common BPE vocabularies: being over is
# safe (a prompt a little shorter than it could be), being under overflows the context.
CHARS_PER_TOKEN = 3.2
_FENCE = re.compile(r"</?\s*passages\s*>", re.IGNORECASE)


def estimate_tokens(text: str) -> int:
    return int(len(text) / CHARS_PER_TOKEN) + 1


@dataclass(frozen=True)
class Templates:
    system: str
    passages: str
    answer: str
    rewrite: str

    @classmethod
    def load(cls, directory: Path = PROMPTS_DIR) -> Templates:
        def read(name: str) -> str:
            return (directory / f"{name}.txt").read_text(encoding="utf-8").strip()

        return cls(read("system"), read("passages"), read("answer"), read("rewrite"))


def fence_passage(text: str) -> str:
    """Passage text with anything that could close the data fence neutralised."""
    return _FENCE.sub("", text).replace("\n\n", "\n")


def render_passages(texts: list[str]) -> str:
    return "\n\n".join(f"[{i}] {fence_passage(t)}" for i, t in enumerate(texts, start=1))


def answer_messages(templates: Templates, passages: list[str], question: str, related: list[int]) -> list[ChatMessage]:
    """`related` are the passage numbers retrieval ranked highest: a hint placed after the
    passages, so it costs no prompt-cache reuse."""
    block = templates.passages.format(passages=render_passages(passages))
    hint = ", ".join(f"[{n}]" for n in related) or "[1]"
    return [
        ChatMessage("system", templates.system),
        ChatMessage(
            "user",
            block
            + "\n\n"
            + templates.answer.format(question=question, related=hint, first=related[0] if related else 1),
        ),
    ]


def rewrite_messages(templates: Templates, turns: list[tuple[str, str]], question: str) -> list[ChatMessage]:
    conversation = "\n".join(f"User: {q}\nBot: {a}" for q, a in turns)
    return [ChatMessage("user", templates.rewrite.format(conversation=conversation, question=question))]


def fit_passages(texts: list[str], budget_tokens: int) -> list[str]:
    """The longest prefix of `texts` (best first) whose rendering fits `budget_tokens`."""
    kept: list[str] = []
    used = 0
    for text in texts:
        cost = estimate_tokens(f"[{len(kept) + 1}] {text}\n\n")
        if used + cost > budget_tokens:
            break
        kept.append(text)
        used += cost
    return kept
