"""Plain-text rendering of answers for the terminal (ask, chat)."""

from __future__ import annotations

import textwrap

from bot.answering.pipeline import Answer, Citation
from index.text import excerpt


def format_sources(citations: list[Citation], heading: str) -> str:
    if not citations:
        return ""
    lines = [heading]
    for c in citations:
        link = f" <{c.source_url}>" if c.source_url else ""
        lines.append(f"  [{c.n}] {c.article_title} — passage {c.passage}{link}")
        lines.append(textwrap.indent(textwrap.fill(excerpt(c.quote or c.text, around=c.claim), 92), "      "))
    return "\n".join(lines)


def format_answer(answer: Answer, include_text: bool = True) -> str:
    parts = []
    if answer.notice:
        parts.append(f"({answer.notice})")
    if include_text:
        parts.append(textwrap.fill(answer.text, 96))
    if answer.citations:
        parts.append(format_sources(answer.citations, "Sources:"))
    if answer.related:
        parts.append(format_sources(answer.related, "Related reading:"))
    return "\n".join(parts)


def answer_json(answer: Answer) -> dict:
    return {
        "question": answer.question,
        "answer": answer.text,
        "refused": answer.refused,
        "mode": answer.mode,
        "citations": [
            {"n": c.n, "article": c.article_id, "passage": c.passage, "text": c.text, "quote": c.quote}
            for c in answer.citations
        ],
        "related": [{"article": c.article_id, "passage": c.passage, "text": c.text} for c in answer.related],
        "notice": answer.notice,
        "reason": answer.reason,
        "timings": answer.timings,
    }
