"""The model's recorded replies of an `articlebot eval` run, with the passages it read: what the
scripts that re-judge replies (ablation.py, relevance_threshold.py, second_attempt.py,
reask_evidence.py, reask_declined.py, second_chance.py) start from. The checks are pure functions of a reply and its
passages, so changing a check never needs a new model run to be measured.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from bot.answering.pipeline import REASK_MAX_TOKENS, answer_request, article_headers, empty_answer_probability
from bot.answering.prompts import ANSWER_OPENING, Templates, reask_messages
from bot.config import Config
from bot.evaluation.evaluate import EvalQuestion, load_dataset
from bot.llm.client import LLMClient
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


def run_arguments(description: str, name: str) -> argparse.ArgumentParser:
    """The arguments of a script that asks the model again about one eval run's replies:
    DATASET EVAL_DIR [--index DIR] [--name NAME]; `replies_of_run` reads them."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("dataset", type=Path)
    parser.add_argument("eval_dir", type=Path)
    parser.add_argument("--index", type=Path, help="the index the eval ran on (default: EVAL_DIR/index)")
    parser.add_argument("--name", default=name)
    return parser


def replies_of_run(args: argparse.Namespace, config: Config) -> tuple[Library, list[RecordedReply]]:
    """The index and the recorded replies named by `run_arguments`."""
    library = replay_library(args.index or args.eval_dir / "index", config)
    questions = {q.qid: q for q in load_dataset(args.dataset).questions}
    return library, recorded_replies([args.eval_dir], questions, library)


@dataclass(frozen=True)
class AskedAgain:
    """A recorded reply's question to ask again from a few sentences only, as answer.reask asks."""

    reply: RecordedReply
    draft: str | None  # the recorded reply's answer
    passage: int  # the index, in the reply's context, of the passage the sentences come from
    sentences: str


def ask_again(config: Config, todo: list[AskedAgain], desc: str) -> list[tuple[str, float | None]]:
    """Each question asked again from only its sentences (`reask_messages`), read whole: the reply
    (raw JSON) and the model's p(empty answer). Starts and stops the model: one LLM job at a time."""

    async def ask_all(llm: LLMClient) -> list[tuple[str, float | None]]:
        templates, out = Templates.load(), []
        for item in tqdm(todo, desc=desc, unit="question"):
            reply = item.reply
            messages = reask_messages(templates, reply.titles[item.passage], item.sentences, reply.question.question)
            pieces = [piece async for piece in answer_request(llm, messages, REASK_MAX_TOKENS)]
            doubt = await empty_answer_probability(llm, messages)
            out.append((ANSWER_OPENING + "".join(p.text for p in pieces), doubt))
        return out

    llm = LLMClient(config.llm, config.models_dir)
    llm.start()
    try:
        return asyncio.run(ask_all(llm))
    finally:
        llm.stop()


def asked_again_row(item: AskedAgain, again: str, doubt: float | None, verdict: str) -> dict:
    """A result row of a script that asked recorded replies' questions again."""
    question = item.reply.question
    return {
        "qid": question.qid,
        "question": question.question,
        "unanswerable": question.is_impossible,
        "draft": item.draft,
        "sentences": item.sentences,
        "again": again,
        "decline_p": doubt,
        "verdict": verdict,
    }
