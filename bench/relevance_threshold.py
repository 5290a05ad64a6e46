"""Choose the relevance threshold (answer.min_evidence_score) on the model's recorded replies.

Every reply the word-level checks let through (bot/answering/evidence.py) is scored the way the
shipped relevance check scores it — the cross-encoder on question ↔ supporting sentence — and
each threshold is counted by what it would decline: right answers (gold, cited to the evidence)
against wrong ones (an answer to an unanswerable question, or without the gold). The threshold
chosen is the one where declining gains most: each wrong answer it declines counts 1, each right
answer it declines (a false refusal) costs `--refusal-cost` (default 2). Why a refusal weighs more:
issue #10's targets allow 5% of answerable questions declined against 40% of unanswerable ones
answered; weighed the other way round (a wrong answer worth 2 refusals), the sweep on the tuning
runs would pick +5.5, declining 45 of their 158 right answers.
Choose it on runs outside sample_500 (bench/tuning_split.py) and score sample_500 with it
(bench/ablation.py); a question asked in several runs counts once (its first run).

Run: .venv/bin/python bench/relevance_threshold.py DATASET EVAL_DIR [EVAL_DIR ...] --index DIR
     [--refusal-cost 2] [--name relevance-threshold]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ablation import judged_row
from bench.common import RESULTS, print_table, write_result
from bench.recorded import recorded_replies, replay_library
from bot.answering.evidence import check_reply
from bot.answering.pipeline import evidence_relevance
from bot.config import load_config
from bot.evaluation.evaluate import load_dataset
from index.library import Library

THRESHOLDS = [x / 2 for x in range(-16, 13)]  # -8.0 … 6.0, the cross-encoder's logits


def scored_replies(eval_dirs: list[Path], dataset: Path, library: Library) -> list[tuple[float, bool]]:
    """(relevance score, right) of each question's reply that passes the word-level checks."""
    questions = {q.qid: q for q in load_dataset(dataset).questions}
    out = []
    for reply in recorded_replies(eval_dirs, questions, library):
        if reply.draft is None:
            continue
        checked = check_reply(reply.question.question, reply.draft, reply.texts, reply.headers)
        if isinstance(checked, str):
            continue
        answer, evidence = checked
        scored = evidence_relevance(library, reply.question.question, evidence.text)
        assert scored is not None, "the library is built with the cross-encoder (main)"
        row = judged_row(reply.question, (answer, evidence.passage), reply.context)
        out.append((scored.best, row["gold"] and row["cited"]))
    return out


def sweep(replies: list[tuple[float, bool]], refusal_cost: float) -> tuple[list[dict], float]:
    """What each threshold declines, and the threshold where declining gains most (the lowest
    of equals)."""
    rows = []
    for threshold in THRESHOLDS:
        right = sum(1 for score, ok in replies if score < threshold and ok)
        wrong = sum(1 for score, ok in replies if score < threshold and not ok)
        rows.append(
            {
                "threshold": threshold,
                "right_declined": right,
                "wrong_declined": wrong,
                "gain": wrong - refusal_cost * right,
            }
        )
    best = max(rows, key=lambda r: (r["gain"], -r["threshold"]))
    return rows, best["threshold"]


def plot(rows: list[dict], chosen: float, current: float, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    xs = [r["threshold"] for r in rows]
    ax.plot(xs, [r["wrong_declined"] for r in rows], marker="s", label="wrong answers declined")
    ax.plot(xs, [r["right_declined"] for r in rows], marker="o", label="right answers declined")
    ax.axvline(current, color="grey", linestyle=":", label=f"previous ({current})")
    ax.axvline(chosen, color="black", linestyle="--", label=f"chosen ({chosen})")
    ax.set_xlabel("decline when relevance(question, supporting sentence) < threshold")
    ax.set_ylabel("answers declined")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    config = load_config(None)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", type=Path)
    parser.add_argument("eval_dirs", type=Path, nargs="+")
    parser.add_argument("--index", type=Path, required=True, help="the index the eval runs used")
    parser.add_argument(
        "--refusal-cost", type=float, default=2.0, help="wrong answers declined a right answer declined is worth"
    )
    parser.add_argument("--name", default="relevance-threshold")
    parser.add_argument("--previous", type=float, default=-5.0, help="the threshold to compare with, in the plot")
    args = parser.parse_args()
    library = replay_library(args.index, config)
    replies = scored_replies(args.eval_dirs, args.dataset, library)
    rows, chosen = sweep(replies, args.refusal_cost)
    write_result(
        args.name,
        {
            "eval_dirs": [str(d) for d in args.eval_dirs],
            "replies": len(replies),
            "right": sum(ok for _, ok in replies),
            "refusal_cost": args.refusal_cost,
            "chosen": chosen,
            "sweep": rows,
        },
    )
    plot(rows, chosen, args.previous, RESULTS / f"{args.name}.png")
    print(f"{len(replies)} replies pass the word-level checks, {sum(ok for _, ok in replies)} right; chosen: {chosen}")
    print_table(
        ["threshold", "right declined", "wrong declined", f"wrong - {args.refusal_cost} x right"],
        [[r["threshold"], r["right_declined"], r["wrong_declined"], r["gain"]] for r in rows],
    )


if __name__ == "__main__":
    main()
