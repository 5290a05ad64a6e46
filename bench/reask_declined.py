"""Asking again the answers the support check declined (measured, not shipped): could the re-ask
win back right answers that "no sentence of the article supports"?

Most such drafts are right answers that restate the question in other words than the article
(bench/ablation.py). For each recorded draft the support check declined, the sentence of the
prompt's passages sharing most of the words the draft adds to the question (then most of the
question's) is the candidate. The question goes to the model again with only that sentence and
the one before it, as answer.reask asks (`reask_messages`). Its reply would be shown, cited to its
own supporting sentence, when it is not empty and not doubted (answer.reask_max_decline_probability),
agrees with the declined draft (`reask_agreement`), and passes every check an answer passes
(`check_reply`, the relevance check). Counts the right and wrong answers that would be shown.

Run (one LLM job at a time): .venv/bin/python bench/reask_declined.py DATASET EVAL_DIR --index DIR
     [--name reask-declined]
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ablation import judge_again
from bench.common import print_table, write_result
from bench.recorded import AskedAgain, RecordedReply, ask_again, asked_again_row, replies_of_run, run_arguments
from bot.answering.config import AnswerConfig
from bot.answering.evidence import check_reply, parse_model_answer, reask_agreement
from bot.config import load_config
from index.library import Library
from index.text import content_tokens, split_sentences

UNSUPPORTED = "no sentence of the article supports the answer"


def candidate(reply: RecordedReply, answer: str) -> tuple[int, str] | None:
    """(passage, the sentence before and the sentence) sharing most of the words `answer` adds to
    the question, then most of the question's; None when no sentence has one of the added words."""
    question = content_tokens(reply.question.question)
    added = content_tokens(answer) - question
    best: tuple[tuple[int, int], int, str] | None = None
    for index, text in enumerate(reply.texts):
        sentences = split_sentences(text)
        for i, span in enumerate(sentences):
            tokens = content_tokens(text[span.start : span.end])
            rank = (len(added & tokens), len(question & tokens))
            if rank[0] and (best is None or rank > best[0]):
                before = sentences[i - 1].start if i else span.start
                best = (rank, index, text[before : span.end])
    return (best[1], best[2]) if best else None


def verdict(
    reply: RecordedReply, draft: str, again: str, doubt: float | None, library: Library, config: AnswerConfig
) -> str:
    """What would become of the re-ask's reply `again` to a declined `draft`."""
    question = reply.question.question
    if not (parse_model_answer(again) or "").strip() or (doubt or 0.0) > config.reask_max_decline_probability:
        return "declined again"
    if (kind := reask_agreement(question, draft, again)) != "agrees":
        return f"the re-ask {kind}"
    return judge_again(reply, again, library, config.min_evidence_score)


def main() -> None:
    config = load_config(None)
    args = run_arguments(__doc__.splitlines()[0], "reask-declined").parse_args()
    library, replies = replies_of_run(args, config)
    todo = []
    for reply in replies:
        draft = parse_model_answer(reply.draft or "")
        if (
            draft is None
            or check_reply(reply.question.question, reply.draft or "", reply.texts, reply.headers) != UNSUPPORTED
        ):
            continue
        if (found := candidate(reply, draft)) is not None:
            todo.append(AskedAgain(reply, draft, *found))
    second = ask_again(config, todo, "re-asking")
    rows = [
        asked_again_row(item, again, doubt, verdict(item.reply, item.draft or "", again, doubt, library, config.answer))
        for item, (again, doubt) in zip(todo, second)
    ]
    counts = Counter(row["verdict"] for row in rows)
    write_result(
        args.name, {"eval_dir": str(args.eval_dir), "asked": len(rows), "verdicts": dict(counts), "rows": rows}
    )
    print_table(["the declined draft, asked again", "answers"], [[kind, n] for kind, n in counts.most_common()])


if __name__ == "__main__":
    main()
