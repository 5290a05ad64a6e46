"""The model's recorded replies of an `articlebot eval` run, with the passages it read: what the
scripts that re-judge replies (ablation.py, relevance_threshold.py, second_attempt.py,
reask_evidence.py) start from. The checks are pure functions of a reply and its passages, so
changing a check never needs a new model run to be measured.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from bot.answering.pipeline import article_headers
from bot.config import Config
from bot.evaluation.evaluate import EvalQuestion
from index.embed import Embedder
from index.library import Library
from index.models import Passage
from index.rerank import CrossEncoderReranker


def replay_library(index: Path, config: Config) -> Library:
    """The index an eval run answered from, with the cross-encoder the relevance check scores with."""
    return Library(index, config.chunking, config.search, Embedder(config.embedding), CrossEncoderReranker())


@dataclass(frozen=True)
class RecordedReply:
    question: EvalQuestion
    record: dict  # the eval's answers.jsonl line: "draft" is the model's raw reply, None when declined before it
    context: list[Passage]  # the passages of the prompt, in order (the record's "seen")
    titles: list[str]  # the title of each passage's article
    headers: list[str]  # the `article_header` of each passage's article

    @property
    def draft(self) -> str | None:
        return self.record.get("draft") or None

    @property
    def texts(self) -> list[str]:
        return [p.text for p in self.context]


def recorded_replies(
    eval_dirs: Iterable[Path], questions: dict[str, EvalQuestion], library: Library
) -> list[RecordedReply]:
    """Every record of the runs' answers.jsonl, in order; a question in several runs counts once
    (its first run). `library` is the index the runs answered from."""
    titles = library.titles()
    passages = {(p.article_id, p.n): p for p in library.passages_of(None)}
    seen: set[str] = set()
    out = []
    for eval_dir in eval_dirs:
        for line in (eval_dir / "answers.jsonl").read_text().splitlines():
            record = json.loads(line)
            if record["qid"] in seen:
                continue
            seen.add(record["qid"])
            context = [passages[(article, n)] for article, n in record.get("seen") or []]
            out.append(
                RecordedReply(
                    questions[record["qid"]],
                    record,
                    context,
                    [titles[p.article_id] for p in context],
                    article_headers(library, context),
                )
            )
    return out
