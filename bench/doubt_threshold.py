"""The model's own doubt as a check: answers declined when the model gave an empty answer more
than a threshold (answer.max_decline_probability), replayed on recorded runs. No LLM is started.

Each run's answers.jsonl keeps the model's p(empty answer) ("decline_p") where it was read where
the model decides whether to answer — runs made before the seventh session (the reply's opening
was then decoded; since, and until the fourteenth, it read 0 in nearly every answer). Per run and
threshold: the shipped checks with the re-ask (its recorded second replies, bench/reask_evidence.py)
and the doubt on top. Then a learned gate for comparison: a logistic regression over what the
checks measure of an answer the word checks let through (its relevance scores, the words it adds,
the question's words its evidence holds, whether it is verbatim, and the doubt), trained on the
runs given with --train and scored on the others at the threshold that keeps the training runs'
right answers — with and without the doubt among its inputs.

Run: .venv/bin/python bench/doubt_threshold.py ../shared/eval/squad2-dev-public
     --run bench/results/eval-tuning-focus bench/results/reask-evidence-tuning.json
     --run bench/results/eval-tuning2-focus bench/results/reask-evidence-tuning2.json
     --run bench/results/eval-500 bench/results/reask-evidence-500.json
     --train eval-tuning-focus eval-tuning2-focus --index bench/results/eval-500/index
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ablation import SHIPPED, judge_reply, judged_row, reask_outcome, score, shown_answers
from bench.common import print_table, write_result
from bench.recorded import RecordedReply, recorded_replies, replay_library
from bot.answering.evidence import check_reply
from bot.answering.pipeline import evidence_relevance
from bot.config import load_config
from bot.evaluation.evaluate import load_dataset
from index.library import Library
from index.text import content_tokens

THRESHOLDS = (1.0, 0.02, 0.01, 0.007, 0.005, 0.003, 0.002)


def doubt_of(reply: RecordedReply) -> float:
    return reply.record.get("decline_p") or 0.0


Verdict = tuple[str, int | None] | None  # `judge`'s: (answer, cited passage), or None when declined
Row = tuple[RecordedReply, tuple[list[float], tuple[str, int]] | None]  # a reply and its `features`


def threshold_rows(
    replies: list[RecordedReply], shipped: dict[str, Verdict], reasked: dict, library: Library, config
) -> dict[str, dict]:
    """Per threshold, the shipped checks (`shipped`: each reply's verdict) and the re-ask with the
    doubt on top (answers whose re-ask was not recorded stand as the checks left them)."""
    declined = set()
    for item in shown_answers(replies, library, config.answer.min_evidence_score):
        if (again := reasked.get(item.reply.question.qid)) is None:
            continue
        relevance, reask_declines = reask_outcome(item, again, library, config.answer)
        if reask_declines and config.answer.asks_again(relevance):
            declined.add(item.reply.question.qid)
    verdicts = [(r, shipped[r.question.qid]) for r in replies]
    out = {}
    for limit in THRESHOLDS:
        rows = [
            judged_row(r.question, None if r.question.qid in declined or doubt_of(r) > limit else v, r.context)
            for r, v in verdicts
        ]
        out[str(limit)] = score(rows)
    return out


def features(reply: RecordedReply, library: Library) -> tuple[list[float], tuple[str, int]] | None:
    """The learned gate's inputs for a reply the word checks let through, the doubt last, and its
    verdict (None when they do not)."""
    checked = check_reply(reply.question.question, reply.draft or "", reply.texts, reply.headers)
    if reply.draft is None or isinstance(checked, str):
        return None
    answer, evidence = checked
    question = reply.question.question
    relevance = evidence_relevance(library, question, evidence.text)
    assert relevance is not None, "replay_library loads the cross-encoder"
    asked, added = content_tokens(question), content_tokens(answer) - content_tokens(question)
    row = [
        relevance.whole,
        relevance.best,
        len(asked & content_tokens(evidence.text)) / max(1, len(asked)),
        min(len(added), 10),
        float(answer.lower().rstrip(".") in evidence.text.lower()),
    ]
    return [*row, doubt_of(reply)], (answer, evidence.passage)


def learned_gate(train_rows: list[Row], test_rows: list[Row], shipped: dict[str, Verdict], with_doubt: bool) -> dict:
    """The learned gate fitted on `train_rows`, at the highest threshold that keeps the shipped
    checks' right answers there, scored on both; `with_doubt` False leaves out the last input."""
    inputs = slice(None) if with_doubt else slice(None, -1)

    def judged(rows, accept) -> dict:
        return score(
            [judged_row(r.question, f[1] if f and ok else None, r.context) for (r, f), ok in zip(rows, accept)]
        )

    fitted = [
        (f[0][inputs], (j := judged_row(r.question, f[1], r.context))["gold"] and j["cited"])
        for r, f in train_rows
        if f
    ]
    scaler = StandardScaler().fit([x for x, _ in fitted])
    model = LogisticRegression(max_iter=2000).fit(scaler.transform([x for x, _ in fitted]), [y for _, y in fitted])

    def probabilities(rows) -> list[float]:
        return [float(model.predict_proba(scaler.transform([f[0][inputs]]))[0, 1]) if f else 0.0 for _, f in rows]

    p_train, p_test = probabilities(train_rows), probabilities(test_rows)
    keep = score([judged_row(r.question, shipped[r.question.qid], r.context) for r, _ in train_rows])
    chosen = max(
        (
            t
            for t in np.arange(0.05, 0.95, 0.01)
            if judged(train_rows, [p >= t for p in p_train])["right_and_cited"] >= keep["right_and_cited"]
        ),
        default=0.05,
    )
    return {
        "threshold": round(float(chosen), 2),
        "train": judged(train_rows, [p >= chosen for p in p_train]),
        "test": judged(test_rows, [p >= chosen for p in p_test]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--run", nargs=2, action="append", required=True, metavar=("EVAL_DIR", "REASK_JSON"), type=Path)
    parser.add_argument("--train", nargs="+", required=True, help="names of the runs the learned gate is fitted on")
    parser.add_argument("--index", type=Path, required=True, help="the index the runs answered from")
    parser.add_argument("--name", default="doubt-threshold")
    args = parser.parse_args()
    config = load_config(None)
    library = replay_library(args.index, config)
    questions = {q.qid: q for q in load_dataset(args.dataset).questions}
    results: dict[str, dict] = {}
    train: list[Row] = []
    test: list[Row] = []
    shipped: dict[str, Verdict] = {}
    for eval_dir, reask_json in args.run:
        replies = recorded_replies([eval_dir], questions, library)
        shipped |= {r.question.qid: judge_reply(SHIPPED, r, library, config.answer.min_evidence_score) for r in replies}
        reasked = {row["qid"]: row for row in json.loads(reask_json.read_text())["rows"]}
        results[eval_dir.name] = threshold_rows(replies, shipped, reasked, library, config)
        (train if eval_dir.name in args.train else test).extend((r, features(r, library)) for r in replies)

    def as_shipped(rows: list[Row]) -> dict:
        return score([judged_row(r.question, shipped[r.question.qid], r.context) for r, _ in rows])

    gates = {
        "shipped checks (no re-ask)": {"train": as_shipped(train), "test": as_shipped(test)},
        "learned gate": learned_gate(train, test, shipped, with_doubt=True),
        "learned gate without the doubt": learned_gate(train, test, shipped, with_doubt=False),
    }
    write_result(args.name, {"dataset": str(args.dataset), "thresholds": results, "gates": gates})
    print_table(
        ["run", "p(empty) above which declined", "right & cited", "invented", "unanswerable declined"],
        [
            [run, limit, f"{r['right_and_cited']}/{r['answerable']}", r["invented"], r["unanswerable_declined"]]
            for run, rows in results.items()
            for limit, r in rows.items()
        ],
    )
    print_table(
        [
            "instead of the relevance threshold",
            "threshold",
            "train: right & cited",
            "invented",
            "test: right & cited",
            "invented",
        ],
        [
            [
                name,
                g.get("threshold", ""),
                g["train"]["right_and_cited"],
                g["train"]["invented"],
                g["test"]["right_and_cited"],
                g["test"]["invented"],
            ]
            for name, g in gates.items()
        ],
    )


if __name__ == "__main__":
    main()
