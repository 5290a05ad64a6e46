"""Which answers to ask again (answer.reask_below_relevance): the re-ask costs a second model
request, so it is asked only when the cross-encoder's score of question ↔ supporting sentence is
below a threshold — an answer the relevance check is sure of is shown without it.

Reads the rows of `bench/reask_evidence.py` runs (each answer the shipped checks let through,
asked again, with whether answer.reask's rule declines it), scores each answer's supporting
sentence as the pipeline does, and counts, for each threshold, the share of answers asked again
and the right and wrong answers the re-ask then declines. The threshold chosen is the highest
that asks again at most half of the answers, so the median answer is not slowed by it. No LLM.

Run: .venv/bin/python bench/reask_gate.py DATASET REASK_JSON [REASK_JSON ...] --index DIR
     [--name reask-gate]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ablation import reask_outcome, shown_answers
from bench.common import print_table, write_result
from bench.recorded import recorded_replies, replay_library
from bot.config import load_config
from bot.evaluation.evaluate import load_dataset

THRESHOLDS = [x / 2 for x in range(-3, 25)]  # -1.5 (the relevance check's own floor) to 12
MAX_ASKED = 0.5


def gate_rows(scored: list[dict]) -> list[dict]:
    """For each threshold: answers asked again, and the right and wrong ones the re-ask declines."""
    rows = []
    for threshold in THRESHOLDS:
        asked = [r for r in scored if r["relevance"] < threshold]
        rows.append(
            {
                "threshold": threshold,
                "asked": len(asked),
                "asked_share": round(len(asked) / len(scored), 3) if scored else 0.0,
                "right_declined": sum(r["declined"] and r["right"] for r in asked),
                "wrong_declined": sum(r["declined"] and not r["right"] for r in asked),
            }
        )
    return rows


def main() -> None:
    config = load_config(None)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", type=Path)
    parser.add_argument("reask_runs", type=Path, nargs="+", help="JSON files written by bench/reask_evidence.py")
    parser.add_argument("--index", type=Path, required=True, help="the index the eval runs answered from")
    parser.add_argument("--name", default="reask-gate")
    args = parser.parse_args()
    library = replay_library(args.index, config)
    questions = {q.qid: q for q in load_dataset(args.dataset).questions}
    scored = []
    for path in args.reask_runs:
        run = json.loads(path.read_text())
        again = {row["qid"]: row for row in run["rows"]}
        replies = recorded_replies([Path(run["eval_dir"])], questions, library)
        for item in shown_answers(replies, library, config.answer.min_evidence_score):
            relevance, declined = reask_outcome(item, again[item.reply.question.qid], library, config.answer)
            scored.append(
                {"qid": item.reply.question.qid, "right": item.right, "declined": declined, "relevance": relevance}
            )
    rows = gate_rows(scored)
    chosen = max((r for r in rows if r["asked_share"] <= MAX_ASKED), key=lambda r: r["threshold"])
    write_result(
        args.name,
        {"reask_runs": [str(p) for p in args.reask_runs], "answers": len(scored), "chosen": chosen, "rows": rows},
    )
    print_table(
        ["asked again below", "asked", "share", "right declined", "wrong declined"],
        [[r["threshold"], r["asked"], r["asked_share"], r["right_declined"], r["wrong_declined"]] for r in rows],
    )
    print(
        f"\nthe highest threshold asking at most {MAX_ASKED:.0%} of {len(scored)} answers again: {chosen['threshold']}"
    )


if __name__ == "__main__":
    main()
