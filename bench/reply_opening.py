"""The reply's opening `{"answer": "` continued by the model (shipped) against decoded by it under
a JSON-schema grammar (before): time and drafts, side by side on the same questions.

Answers the first N questions of a benchmark's fixed sample (as `articlebot eval --answers-only
--sample N` does, from the kept windows of `--index`) twice, once in each way. The ways alternate
from one question to the next and swap on the second pass, so both see the same questions and the
same drift of a shared machine, and neither reads a prompt the other has just left in the
server's cache. Under the schema the model decodes the opening's 4 tokens one at a time, and the
stream handed to the pipeline starts after them, so `first_token_s` is the first word of the
answer either way.

Run: .venv/bin/python bench/reply_opening.py ../shared/eval/squad2-dev-public
     --index bench/results/eval-500/index [--sample 40] [--name reply_opening]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any

from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import print_table, write_result
from bot.answering.pipeline import Answerer
from bot.answering.prompts import ANSWER_OPENING
from bot.config import load_config
from bot.evaluation import evaluate
from bot.llm.client import LLMClient
from bot.llm.protocol import ChatMessage, Piece
from bot.runtime import kept_prefixes_dir, open_library

# The schema the answer was asked for before the opening was continued.
ANSWER_SCHEMA = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}
WAYS = ("continued", "decoded")


class DecodedOpening:
    """The client as it answered before: a request ending with the reply's opening is sent
    without it, under the JSON-schema grammar, and the model's own opening is left out of the
    stream. Everything else goes to the client as it is."""

    def __init__(self, client: LLMClient):
        self.client = client

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)

    async def stream(
        self,
        messages: list[ChatMessage],
        max_tokens: int | None = None,
        *,
        options: dict[str, Any] | None = None,
        alternatives: int = 0,
    ) -> AsyncGenerator[Piece, None]:
        if messages[-1] != ChatMessage("assistant", ANSWER_OPENING):
            async for piece in self.client.stream(messages, max_tokens, options=options, alternatives=alternatives):
                yield piece
            return
        written = ""
        stream = self.client.stream(
            messages[:-1], max_tokens, options={"json_schema": ANSWER_SCHEMA}, alternatives=alternatives
        )
        async for piece in stream:
            if len(written) < len(ANSWER_OPENING):
                written += piece.text
                if len(written) > len(ANSWER_OPENING):  # a token ran past the opening: its rest is the answer's
                    yield Piece(written[len(ANSWER_OPENING) :], piece.alternatives)
                continue
            yield piece


async def answer_both_ways(
    continued: Answerer, decoded: Answerer, questions: list[evaluate.EvalQuestion]
) -> list[dict[str, Any]]:
    for answerer in (continued, decoded):  # each routes only to windows it knows are read (kept on disk)
        await evaluate.warm_articles(answerer, questions)
    rows = []
    with tqdm(total=2 * len(questions), desc="answers", unit="answer") as progress:
        for second_pass in (0, 1):
            for i, question in enumerate(questions):
                way = WAYS[(i + second_pass) % 2]
                answer = await (continued if way == "continued" else decoded).answer(question.question)
                rows.append({"way": way, "qid": question.qid, "draft": answer.draft, **answer.timings})
                progress.update()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--index", type=Path, required=True, help="the benchmark index (with its kept windows)")
    parser.add_argument("--sample", type=int, default=40)
    parser.add_argument("--name", default="reply_opening")
    args = parser.parse_args()
    config = load_config(None)
    library = open_library(config).sibling(args.index)
    questions = evaluate.select_questions(evaluate.load_dataset(args.dataset), args.sample)
    client = LLMClient(config.llm, config.models_dir, kept_prefixes_dir(library.data_dir))
    continued = Answerer(library, client, config.answer)
    decoded = Answerer(library, DecodedOpening(client), config.answer)
    try:
        rows = asyncio.run(answer_both_ways(continued, decoded, questions))
    finally:
        client.stop()
    drafts = {(r["qid"], r["way"]): r["draft"] for r in rows}
    summary = {
        way: {
            stage: round(sum(r.get(stage, 0.0) for r in rows if r["way"] == way), 1)
            for stage in ("first_token_s", "llm_s", "reask_s", "total_s")
        }
        for way in WAYS
    }
    same = sum(drafts[(q.qid, "continued")] == drafts[(q.qid, "decoded")] for q in questions)
    write_result(
        args.name,
        {
            "dataset": str(args.dataset),
            "questions": len(questions),
            "same_draft": same,
            "seconds": summary,
            "rows": rows,
        },
    )
    print_table(["way", *summary["continued"]], [[way, *summary[way].values()] for way in WAYS])
    print(f"{same} of {len(questions)} drafts the same both ways")


if __name__ == "__main__":
    main()
