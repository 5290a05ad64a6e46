"""Which answer checks earn their place: the same model replies, judged with checks switched on
one at a time.

The checks are pure functions of the model's reply (bot/answering/evidence.py), so one
`articlebot eval` run gives every row: this script re-reads its answers.jsonl (the model's raw
reply is kept in "draft") and its index, and re-applies each set of checks. No LLM is started.
The verification pass (a second model call) cannot be replayed: its row comes from an eval run
with `answer.verify = true`, passed with --verified. Nor can the re-ask's second reply: its row
(answer.reask, on the shipped checks) comes from bench/reask_evidence.py's JSON for the same run,
passed with --reasked.

Run: .venv/bin/python bench/ablation.py EVAL_DIR DATASET [--verified EVAL_DIR] [--reasked JSON] [--name NAME]
     [--max-doubt P] [--index DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import print_table, write_result
from bench.recorded import RecordedReply, recorded_replies, replay_library
from bot.answering.config import AnswerConfig
from bot.answering.evidence import (
    Evidence,
    adds_negation,
    attribute,
    check_reply,
    is_refusal,
    not_an_answer,
    parse_model_answer,
    reask_reason,
)
from bot.answering.pipeline import evidence_relevance
from bot.config import load_config
from bot.evaluation.evaluate import load_dataset
from bot.evaluation.squad import contains_answer
from index.library import Library
from index.text import content_tokens

UNLIMITED = 10_000  # novel words allowed when the support check is off
WORD_CHECKS, TITLE_ONLY, SHIPPED = (
    "word-level checks",
    "+ relevance, names from the title only",
    "+ relevance, topic names",
)
STEPS = ["model only", "+ answer type", "+ support", "+ support, negation", WORD_CHECKS, TITLE_ONLY, SHIPPED]


def judge(
    step: str,
    question: str,
    raw: str,
    passages: list[str],
    headers: tuple[list[str], list[str]],
    library: Library,
    min_score: float,
) -> tuple[str, int | None] | None:
    """(answer, the cited passage) if the reply stands under the checks of `step`, else None;
    `headers` are (the titles, the article headers) of the passages' articles and `min_score` the
    relevance threshold (answer.min_evidence_score)."""
    if step in (WORD_CHECKS, TITLE_ONLY, SHIPPED):
        checked = check_reply(question, raw, passages, headers[1] if step == SHIPPED else headers[0])
        if isinstance(checked, str):
            return None
        if step != WORD_CHECKS:
            scored = evidence_relevance(library, question, checked[1].text)
            if scored is not None and scored.best < min_score:
                return None
        return checked[0], checked[1].passage
    answer = parse_model_answer(raw)
    if answer is None or not content_tokens(answer) or is_refusal(answer):
        return None
    if step != "model only" and not_an_answer(question, answer):
        return None
    strict = step in ("+ support", "+ support, negation")
    evidence = attribute(answer, question, passages, 1 if strict else UNLIMITED, headers[1])
    if strict and evidence is None:
        return None
    if step == "+ support, negation" and evidence is not None and adds_negation(answer, evidence.text):
        return None
    return answer, evidence.passage if evidence else None


def judge_reply(step: str, reply: RecordedReply, library: Library, min_score: float) -> tuple[str, int | None] | None:
    """`judge` on a recorded reply; None also when it was declined before the model (by the guard
    or retrieval: no draft)."""
    if reply.draft is None:
        return None
    return judge(
        step, reply.question.question, reply.draft, reply.texts, (reply.titles, reply.headers), library, min_score
    )


@dataclass(frozen=True)
class ShownAnswer:
    """A recorded reply the shipped checks let through, as answer.reask would ask it again."""

    reply: RecordedReply
    answer: str
    evidence: Evidence
    title: str  # of the evidence's article
    right: bool  # holds the gold and cites the evidence


def shown_answers(replies: list[RecordedReply], library: Library, min_score: float) -> list[ShownAnswer]:
    """The recorded replies that the shipped checks let through (the ones answer.reask asks again)."""
    shown = []
    for reply in replies:
        verdict = judge_reply(SHIPPED, reply, library, min_score)
        if verdict is None:
            continue
        checked = check_reply(reply.question.question, reply.draft or "", reply.texts, reply.headers)
        assert not isinstance(checked, str), "the shipped checks passed it"
        row = judged_row(reply.question, verdict, reply.context)
        title = reply.titles[checked[1].passage]
        shown.append(ShownAnswer(reply, verdict[0], checked[1], title, row["gold"] and row["cited"]))
    return shown


def reask_outcome(item: ShownAnswer, again: dict, library: Library, config: AnswerConfig) -> tuple[float, bool]:
    """The relevance score of a shown answer's supporting sentence (answer.reask asks again only
    below answer.reask_below_relevance), and whether the model's recorded second reply `again` (a
    row of bench/reask_evidence.py) declines it when asked."""
    question = item.reply.question.question
    scored = evidence_relevance(library, question, item.evidence.text)
    assert scored is not None, "replay_library loads the cross-encoder"
    limit = config.reask_max_decline_probability
    return scored.whole, reask_reason(question, item.answer, again["again"], again["decline_p"], limit) is not None


def score(rows: list[dict]) -> dict:
    answerable = [r for r in rows if not r["impossible"]]
    others = [r for r in rows if r["impossible"]]
    right = sum(1 for r in answerable if r["answered"] and r["gold"] and r["cited"])
    answered = [r for r in answerable if r["answered"]]
    return {
        "answerable": len(answerable),
        "right_and_cited": right,
        "right_and_cited_share": round(right / max(1, len(answerable)), 4),
        # The eval's headline metrics (answer_metrics), one citation an answer.
        "answer_contains_gold": round(sum(r["gold"] for r in answered) / max(1, len(answerable)), 4),
        "citation_precision": round(sum(r["cited"] for r in answered) / max(1, len(answered)), 4),
        "answerable_declined": round(sum(not r["answered"] for r in answerable) / max(1, len(answerable)), 4),
        "unanswerable_declined": round(sum(not r["answered"] for r in others) / max(1, len(others)), 4),
        "invented": sum(r["answered"] for r in others) + sum(r["answered"] and not r["gold"] for r in answerable),
    }


def main() -> None:
    config = load_config(None)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("eval_dir", type=Path)
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--verified", type=Path, help="an eval run made with answer.verify = true")
    parser.add_argument(
        "--reasked", type=Path, help="bench/reask_evidence.py's JSON for this run: the re-ask's row (answer.reask)"
    )
    parser.add_argument("--name", default="ablation")
    parser.add_argument(
        "--index", type=Path, help="the index the eval ran on, when it was given --index (default: EVAL_DIR/index)"
    )
    parser.add_argument(
        "--max-doubt",
        type=float,
        default=config.answer.max_decline_probability,
        help="the row with the model's doubt: decline above this p(decline) (default: answer.max_decline_probability)",
    )
    args = parser.parse_args()
    library = replay_library(args.index or args.eval_dir / "index", config)
    questions = {q.qid: q for q in load_dataset(args.dataset).questions}
    replies = recorded_replies([args.eval_dir], questions, library)
    results = {}
    shipped = []  # (question, the shipped checks' verdict, the prompt's passages, p(decline)) of each record
    for step in STEPS:
        rows = []
        for reply in replies:
            verdict = judge_reply(step, reply, library, config.answer.min_evidence_score)
            rows.append(judged_row(reply.question, verdict, reply.context))
            if step == SHIPPED:
                shipped.append((reply.question, verdict, reply.context, reply.record.get("decline_p")))
        results[step] = score(rows)
    if any(r.record.get("decline_p") is not None for r in replies):
        # The shipped checks, and the model's own doubt on top (its p(empty answer), recorded by the run).
        rows = [
            judged_row(q, None if doubt is not None and doubt > args.max_doubt else verdict, context)
            for q, verdict, context, doubt in shipped
        ]
        results[f"+ the model's doubt (p(decline) ≤ {args.max_doubt})"] = score(rows)
    if args.reasked:
        again = {row["qid"]: row for row in json.loads(args.reasked.read_text())["rows"]}
        declined = {
            item.reply.question.qid
            for item in shown_answers(replies, library, config.answer.min_evidence_score)
            if (outcome := reask_outcome(item, again[item.reply.question.qid], library, config.answer))[1]
            and config.answer.asks_again(outcome[0])
        }
        rows = [judged_row(q, None if q.qid in declined else verdict, context) for q, verdict, context, _ in shipped]
        results[f"+ asked again from the evidence, below relevance {config.answer.reask_below_relevance} (shipped)"] = (
            score(rows)
        )
    if args.verified:
        verified = [json.loads(line) for line in (args.verified / "answers.jsonl").read_text().splitlines()]
        rows = [
            {
                "impossible": questions[r["qid"]].is_impossible,
                "answered": not r["refused"],
                "gold": r["contains_gold"],
                "cited": r["cites_evidence"] if r["evidence_given"] else r["cites_gold_paragraph"],
            }
            for r in verified
        ]
        results["checks + LLM verification (separate run)"] = score(rows)
    write_result(args.name, {"eval_dir": str(args.eval_dir), "dataset": str(args.dataset), "steps": results})
    print_table(
        [
            "checks",
            "right & cited",
            "contains gold",
            "answerable declined",
            "unanswerable declined",
            "citation precision",
            "invented",
        ],
        [
            [
                step,
                f"{r['right_and_cited']}/{r['answerable']}",
                r["answer_contains_gold"],
                r["answerable_declined"],
                r["unanswerable_declined"],
                r["citation_precision"],
                r["invented"],
            ]
            for step, r in results.items()
        ],
    )


def judge_again(reply: RecordedReply, again: str, library: Library, min_score: float) -> str:
    """What becomes of a second reply `again` to a recorded reply's question, shown in its place
    if it passes every check an answer passes: "fails the checks", "shown, right" (it holds the
    gold and cites the evidence) or "shown, wrong"."""
    question = reply.question.question
    checked = check_reply(question, again, reply.texts, reply.headers)
    if isinstance(checked, str):
        return "fails the checks"
    scored = evidence_relevance(library, question, checked[1].text)
    if scored is not None and scored.best < min_score:
        return "fails the checks"
    row = judged_row(reply.question, (checked[0], checked[1].passage), reply.context)
    return "shown, right" if row["gold"] and row["cited"] else "shown, wrong"


def judged_row(question, verdict, context) -> dict:
    """How a reply stands under a set of checks: answered, holding the gold, citing the evidence."""
    answered = verdict is not None
    answer, passage = verdict if verdict else ("", None)
    cited_text = context[passage].text if passage is not None else ""
    if question.evidence:
        cited = " ".join(question.evidence.split()).lower() in " ".join(cited_text.split()).lower()
    else:
        cited = contains_answer(cited_text, list(question.answers))
    return {
        "impossible": question.is_impossible,
        "answered": answered,
        "gold": answered and not question.is_impossible and contains_answer(answer, list(question.answers)),
        "cited": answered and cited,
    }


if __name__ == "__main__":
    main()
