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
     [--name reask-evidence] [--known EARLIER_JSON]  (rows of an earlier run for the same answers are reused)
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections import Counter
from pathlib import Path

from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ablation import ShownAnswer, shown_answers
from bench.common import print_table, write_result
from bench.recorded import replies_of_run, run_arguments
from bot.answering.evidence import reask_agreement, reask_reason
from bot.answering.pipeline import empty_answer_probability, read_reask
from bot.answering.prompts import Templates, reask_messages
from bot.config import load_config
from bot.llm.client import LLMClient


async def reask(llm: LLMClient, shown: list[ShownAnswer], known: dict[tuple[str, str, str | None], dict]) -> list[dict]:
    """A row for each shown answer: `known` rows (by question, answer and evidence) are reused."""
    rows = []
    templates = Templates.load()
    for item in tqdm(shown, desc="re-asking", unit="answer"):
        reply, answer, right = item.reply, item.answer, item.right
        row = known.get((reply.question.qid, answer, item.evidence.context)) or known.get(
            (reply.question.qid, answer, None)
        )
        if row is not None:
            question = reply.question.question
            rows.append({**row, "question": question, "right": right, "evidence": item.evidence.context})
            continue
        messages = reask_messages(templates, item.title, item.evidence.context, reply.question.question)
        again = await read_reask(llm, messages, reply.question.question, answer)
        doubt = await empty_answer_probability(llm, messages)
        rows.append(
            {
                "qid": reply.question.qid,
                "question": reply.question.question,
                "right": right,
                "answer": answer,
                "evidence": item.evidence.context,
                "again": again,
                "decline_p": doubt,
                "agreement": reask_agreement(reply.question.question, answer, again),
            }
        )
    return rows


def known_rows(path: Path | None) -> dict[tuple[str, str, str | None], dict]:
    """The rows of an earlier run by (question id, answer, evidence). Rows written before the
    evidence was recorded (evidence None) stand for the same answer on any evidence."""
    if path is None:
        return {}
    return {(row["qid"], row["answer"], row.get("evidence")): row for row in json.loads(path.read_text())["rows"]}


def main() -> None:
    config = load_config(None)
    parser = run_arguments(__doc__.splitlines()[0], "reask-evidence")
    parser.add_argument(
        "--known",
        type=Path,
        help="an earlier run's JSON: its rows for the same answer and evidence are not asked again",
    )
    args = parser.parse_args()
    library, replies = replies_of_run(args, config)
    answered = shown_answers(replies, library, config.answer.min_evidence_score)
    llm = LLMClient(config.llm, config.models_dir)
    llm.start()
    try:
        rows = asyncio.run(reask(llm, answered, known_rows(args.known)))
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
