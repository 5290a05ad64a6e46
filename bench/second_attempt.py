"""A second attempt when the first is declined: asking the model again, another way (the window
without the focus passage, or retrieved passages instead of the window), for the questions whose
first reply the checks declined. Would it add more right answers than wrong ones?

Both attempts are eval runs on the same questions with different settings; their recorded replies
are judged by the shipped checks (ablation.py's shipped row), with no LLM. Rows: each attempt
alone; the first, else the second; the first, else the second only when the second's answer
shares a word (beyond the question's) with the first's declined draft — the model saying the same
thing twice. And the other way round, as a filter: the first only when the second agrees with
it (a second call for every answer). Scored like ablation.py, "wrong answers shown" last.

Run: .venv/bin/python bench/second_attempt.py DATASET --first EVAL_DIR [...] --second EVAL_DIR [...]
     --index DIR [--name second-attempt]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ablation import SHIPPED, judge_reply, judged_row, score
from bench.common import print_table, write_result
from bench.recorded import RecordedReply, recorded_replies, replay_library
from bot.answering.evidence import added_words
from bot.config import load_config
from bot.evaluation.evaluate import load_dataset

Verdict = tuple[str, int | None] | None


def _added(reply: RecordedReply) -> set[str]:
    return added_words(reply.question.question, reply.draft or "")


def combined(
    first: dict[str, tuple[RecordedReply, Verdict]],
    second: dict[str, tuple[RecordedReply, Verdict]],
    agreeing: bool,
) -> list[dict]:
    """Each question judged by its first attempt, or when that is declined by its second (with
    `agreeing`, only when the second's answer repeats a word the first's draft added)."""
    rows = []
    for qid, (reply, verdict) in first.items():
        if verdict is None and qid in second:
            other, other_verdict = second[qid]
            if other_verdict is not None and (not agreeing or _added(reply) & _added(other)):
                reply, verdict = other, other_verdict
        rows.append(judged_row(reply.question, verdict, reply.context))
    return rows


def agreed(
    first: dict[str, tuple[RecordedReply, Verdict]], second: dict[str, tuple[RecordedReply, Verdict]]
) -> list[dict]:
    """Each question judged by its first attempt, declined when the second attempt's draft does
    not repeat a word the first's answer added."""
    rows = []
    for qid, (reply, verdict) in first.items():
        if verdict is not None and (qid not in second or not _added(reply) & _added(second[qid][0])):
            verdict = None
        rows.append(judged_row(reply.question, verdict, reply.context))
    return rows


def main() -> None:
    config = load_config(None)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--first", type=Path, nargs="+", required=True, help="eval runs of the first attempt")
    parser.add_argument("--second", type=Path, nargs="+", required=True, help="eval runs of the second attempt")
    parser.add_argument("--index", type=Path, required=True, help="the index the eval runs used")
    parser.add_argument("--name", default="second-attempt")
    args = parser.parse_args()
    library = replay_library(args.index, config)
    questions = {q.qid: q for q in load_dataset(args.dataset).questions}
    judged = {}
    for attempt, eval_dirs in (("first", args.first), ("second", args.second)):
        judged[attempt] = {
            reply.question.qid: (reply, judge_reply(SHIPPED, reply, library, config.answer.min_evidence_score))
            for reply in recorded_replies(eval_dirs, questions, library)
        }
    first, second = judged["first"], judged["second"]
    results = {
        "first attempt alone": score([judged_row(r.question, v, r.context) for r, v in first.values()]),
        "second attempt alone": score([judged_row(r.question, v, r.context) for r, v in second.values()]),
        "first, else second": score(combined(first, second, agreeing=False)),
        "first, else second when they agree": score(combined(first, second, agreeing=True)),
        "first, only when second agrees": score(agreed(first, second)),
    }
    write_result(
        args.name, {"first": [str(d) for d in args.first], "second": [str(d) for d in args.second], "rows": results}
    )
    print_table(
        ["attempts", "right & cited", "answerable declined", "unanswerable declined", "wrong answers shown"],
        [
            [name, f"{r['right_and_cited']}/{r['answerable']}", r["answerable_declined"], r["unanswerable_declined"]]
            + [r["invented"]]
            for name, r in results.items()
        ],
    )


if __name__ == "__main__":
    main()
