"""Disliked answers → a folder `articlebot eval` can run, in the format of the sample article's
development set (`paragraphs.jsonl`: each article as one paragraph; `questions.jsonl`: one case
per answer).

A reader's 👎 says the answer was wrong, not what the right one is: each case carries the bot's
answer and the tally, `answers` empty and the flag "needs review", which `articlebot eval` skips.
Someone who knows the article fills in `answers` and `evidence` (or sets `is_impossible` when the
article does not say) and removes the flag: from then on it is an eval case like any other.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from bot.feedback.store import ShownAnswer
from index.errors import NotFoundError
from index.library import Library

REVIEW_FLAG = "needs review"


@dataclass(frozen=True)
class ExportResult:
    cases: int
    articles: int
    skipped: int  # answers whose article has been removed since


def eval_case(shown: ShownAnswer, article_id: str) -> dict:
    return {
        "qid": f"feedback-{shown.id}",
        "question": shown.question,
        "doc_id": article_id,
        "gold_pid": f"{article_id}#0",
        "answers": [],
        "evidence": "",
        "is_impossible": False,
        "kind": "answerable",
        "flags": [REVIEW_FLAG],
        "bot_answer": shown.answer,
        "bot_declined": shown.refused,
        "bot_cited": [c.quote for c in shown.citations],
        "votes": {"up": shown.up, "down": shown.down},
    }


def export_cases(answers: list[ShownAnswer], library: Library, out: Path) -> ExportResult:
    """Write `out/questions.jsonl` and `out/paragraphs.jsonl` for `answers` (their articles as
    they are indexed now)."""
    cases, paragraphs, skipped = [], {}, 0
    for shown in answers:
        article_id = shown.article_id
        if article_id is None:
            skipped += 1
            continue
        if article_id not in paragraphs:
            try:
                article = library.get_article(article_id)
            except NotFoundError:
                skipped += 1
                continue
            paragraphs[article_id] = {
                "pid": f"{article_id}#0",
                "doc_id": article_id,
                "doc_title": article.title,
                "para_index": 0,
                "text": library.article_text(article_id),
            }
        cases.append(eval_case(shown, article_id))
    out.mkdir(parents=True, exist_ok=True)
    (out / "questions.jsonl").write_text("".join(json.dumps(c) + "\n" for c in cases), encoding="utf-8")
    (out / "paragraphs.jsonl").write_text("".join(json.dumps(p) + "\n" for p in paragraphs.values()), encoding="utf-8")
    return ExportResult(len(cases), len(paragraphs), skipped)
