"""Prompt templates (files in prompts/) rendered into chat messages within a token budget.

The system message holds the rules and the article's passages; the user message holds the
question, after the passage it most likely concerns when one is given (a focus). So llama.cpp's
prompt cache reuses the whole system message across questions on the same article (and for the
verification request), and only the user message's tokens are new. The re-ask
(answer.reask) is the exception: a prompt of its own, with no article in it.
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
_FENCE = re.compile(r"</?\s*(?:passages|article|sentence)\s*>", re.IGNORECASE)
# The reply the model must give: `{"answer": "one short sentence"}`. A request ends with its
# opening as the assistant's own words, which llama.cpp continues (`answer_request`).
ANSWER_OPENING = '{"answer": "'
# Where the model decides whether to answer at all: before the string's quote. It declines with
# one token, ` ""` (the string opened and closed at once), which spans the end of ANSWER_OPENING,
# so after that opening it can never weigh it: p(empty answer) read 0 there in nearly every
# answer. `empty_answer_probability` asks for this one token separately instead: continuing from
# here would write the quote itself, and that made every answer ~1 s slower on 2 cores (prompt
# lookup drafted the few-shot examples after it; bench/results/answer_latency-epyc-doubt-continued.json).
DOUBT_OPENING = '{"answer":'
# The rest of the reply as llama.cpp's grammar for the JSON schema {"answer": string} (other keys
# allowed) has it: the string's characters, its closing quote, then the brace or a comma and
# another key. The bot stops reading at the quote, but what may follow it matters: the model
# often closes the string with a token holding more than the quote (`"}`, `",`), and a grammar
# without them made it write on instead ("Lviv" became "Lviv, close to the Polish border.").
ANSWER_REST_GRAMMAR = r"""root ::= char* "\"" space ("}" space | "," space "\"" char*)
char ::= [^"\\\x7F\x00-\x1F] | [\\] (["\\bfnrt] | "u" [0-9a-fA-F]{4})
space ::= | " " | "\n"{1,2} [ \t]{0,20}"""


def estimate_tokens(text: str) -> int:
    return int(len(text) / CHARS_PER_TOKEN) + 1


@dataclass(frozen=True)
class Templates:
    system: str
    passages: str
    question: str
    focus: str
    verify: str
    rewrite: str
    reask: str

    @classmethod
    def load(cls, directory: Path = PROMPTS_DIR) -> Templates:
        def read(name: str) -> str:
            return (directory / f"{name}.txt").read_text(encoding="utf-8").strip()

        return cls(
            read("system"),
            read("passages"),
            read("question"),
            read("focus"),
            read("verify"),
            read("rewrite"),
            read("reask"),
        )


def fence_passage(text: str) -> str:
    """Passage text with anything that could close the data fence neutralised."""
    return _FENCE.sub("", text).replace("\n\n", "\n")


def render_passages(texts: list[str]) -> str:
    return "\n\n".join(f"[{i}] {fence_passage(t)}" for i, t in enumerate(texts, start=1))


def article_system_message(templates: Templates, passages: list[str]) -> ChatMessage:
    """The cached prefix: the rules, then the article's passages fenced as data."""
    block = templates.passages.format(passages=render_passages(passages))
    return ChatMessage("system", templates.system + "\n\n" + block)


def answer_messages(
    templates: Templates, passages: list[str], question: str, focus: tuple[int, str] | None = None
) -> list[ChatMessage]:
    """The cached article prefix, then the question: every token after the prefix is read again
    for each question. `focus` (its number in the prefix, its text) is a passage shown again
    before the question."""
    asked = templates.question.format(question=question)
    if focus is not None:
        asked = templates.focus.format(n=focus[0], passage=fence_passage(focus[1])) + "\n\n" + asked
    return [article_system_message(templates, passages), ChatMessage("user", asked)]


def verify_messages(templates: Templates, passages: list[str], question: str, answer: str) -> list[ChatMessage]:
    """A yes/no check of an answer, after the same cached prefix as the answer itself."""
    check = templates.verify.format(question=question, answer=answer)
    return [article_system_message(templates, passages), ChatMessage("user", check)]


def reask_messages(templates: Templates, title: str, evidence: str, question: str) -> list[ChatMessage]:
    """The question again, with only the sentences that support its answer (and the one before
    them): a prompt of its own, without the article's neighbouring facts to answer from."""
    quoted = f'From an article titled "{fence_passage(title)}":\n<sentence>\n{fence_passage(evidence)}\n</sentence>'
    return [*reask_prefix(templates), ChatMessage("user", f"{quoted}\nQuestion: {question}")]


def reask_prefix(templates: Templates) -> list[ChatMessage]:
    """The instructions every re-ask starts with: read once and kept like an article's prefix, so
    a re-ask reads only its evidence and question."""
    return [ChatMessage("system", templates.reask)]


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
