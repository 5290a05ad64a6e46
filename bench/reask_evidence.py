"""Verification by asking again from the evidence alone (answer.reask): would the model, shown
only the sentences that support an answer (with the sentence before them), decline or answer
differently when the answer is wrong?

Every reply of an eval run that the shipped checks let through is asked again, as answer.reask
asks it (`reask_messages`, prompts/reask.txt): the supporting sentences and the question in a
short prompt of their own (no article, so no neighbouring facts to answer from), with the same
`{"answer": ...}` grammar and the same kind of declining examples as the answering prompt. For
each reply it records the model's p(empty answer) (`decline_probability`) and how the new answer
stands to the first (`reask_agreement`), then counts right and wrong answers by each signal, and
by answer.reask's rule: declined when the new answer differs or is empty, or p(empty) is above
answer.reask_max_decline_probability.

Run (one LLM job at a time): .venv/bin/python bench/reask_evidence.py DATASET EVAL_DIR --index DIR
     [--name reask-evidence]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ablation import SHIPPED, judge_reply, judged_row
from bench.common import print_table, write_result
from bench.recorded import RecordedReply, recorded_replies, replay_library
from bot.answering.evidence import Evidence, check_reply, decline_probability, reask_agreement, reask_reason
from bot.answering.pipeline import ALTERNATIVES, REASK_MAX_TOKENS
from bot.answering.prompts import ANSWER_SCHEMA, Templates, reask_messages
from bot.config import load_config
from bot.evaluation.evaluate import EvalQuestion, load_dataset
from bot.llm.client import LLMClient
from index.library import Library


@dataclass(frozen=True)
class ShownAnswer:
    """A recorded reply the shipped checks let through, as answer.reask would ask it again."""

    reply: RecordedReply
    answer: str
    evidence: Evidence
    title: str  # of the evidence's article
    right: bool  # holds the gold and cites the evidence


def shown_answers(
    eval_dir: Path, questions: dict[str, EvalQuestion], library: Library, min_score: float
) -> list[ShownAnswer]:
    """The run's replies that the shipped checks let through (the ones answer.reask asks again)."""
    shown = []
    for reply in recorded_replies([eval_dir], questions, library):
        verdict = judge_reply(SHIPPED, reply, library, min_score)
        if verdict is None:
            continue
        checked = check_reply(reply.question.question, reply.draft or "", reply.texts, reply.headers)
        assert not isinstance(checked, str), "the shipped checks passed it"
        row = judged_row(reply.question, verdict, reply.context)
        title = reply.titles[checked[1].passage]
        shown.append(ShownAnswer(reply, verdict[0], checked[1], title, row["gold"] and row["cited"]))
    return shown


async def reask(llm: LLMClient, shown: list[ShownAnswer]) -> list[dict]:
    rows = []
    templates = Templates.load()
    for item in tqdm(shown, desc="re-asking", unit="answer"):
        reply, answer, right = item.reply, item.answer, item.right
        messages = reask_messages(templates, item.title, item.evidence.context, reply.question.question)
        stream = llm.stream(
            messages, REASK_MAX_TOKENS, options={"json_schema": ANSWER_SCHEMA}, alternatives=ALTERNATIVES
        )
        pieces = [p async for p in stream]
        again = "".join(p.text for p in pieces)
        rows.append(
            {
                "qid": reply.question.qid,
                "question": reply.question.question,
                "right": right,
                "answer": answer,
                "again": again,
                "decline_p": decline_probability(pieces),
                "agreement": reask_agreement(reply.question.question, answer, again),
            }
        )
    return rows


def main() -> None:
    config = load_config(None)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", type=Path)
    parser.add_argument("eval_dir", type=Path)
    parser.add_argument("--index", type=Path, help="the index the eval ran on (default: EVAL_DIR/index)")
    parser.add_argument("--name", default="reask-evidence")
    args = parser.parse_args()
    library = replay_library(args.index or args.eval_dir / "index", config)
    questions = {q.qid: q for q in load_dataset(args.dataset).questions}
    answered = shown_answers(args.eval_dir, questions, library, config.answer.min_evidence_score)
    llm = LLMClient(config.llm, config.models_dir)
    llm.start()
    try:
        rows = asyncio.run(reask(llm, answered))
    finally:
        llm.stop()
    limit = config.answer.reask_max_decline_probability
    counts = Counter((r["right"], r["agreement"]) for r in rows)
    declined = Counter(r["right"] for r in rows if (r["decline_p"] or 0.0) > limit)
    rule = Counter(
        r["right"] for r in rows if reask_reason(r["question"], r["answer"], r["again"], r["decline_p"], limit)
    )
    summary = {
        "answers": len(rows),
        "right": sum(r["right"] for r in rows),
        "by_agreement": {
            kind: {"right": counts[(True, kind)], "wrong": counts[(False, kind)]}
            for kind in ("agrees", "neutral", "differs", "declined")
        },
        "decline_p_above": {"limit": limit, "right": declined[True], "wrong": declined[False]},
        "declined_by_reask": {"right": rule[True], "wrong": rule[False]},
    }
    write_result(args.name, {"eval_dir": str(args.eval_dir), **summary, "rows": rows})
    print_table(
        ["asked again, the model…", "right answers", "wrong answers"],
        [[kind, v["right"], v["wrong"]] for kind, v in summary["by_agreement"].items()]
        + [
            [f"p(empty) > {limit}", declined[True], declined[False]],
            ["answer.reask declines", rule[True], rule[False]],
        ],
    )


if __name__ == "__main__":
    main()
