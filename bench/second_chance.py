"""A second chance for a declined question (measured): asked again from the one sentence that
best answers the question, would the model get right what its first reply got wrong?

The model's wrong first replies often answer from the wrong place of a long window ("a missile
attack" for the theater that an airstrike hit), and the checks decline them. For each recorded
reply the shipped word checks and relevance check decline, or whose recorded doubt is above
answer.max_decline_probability (not the guard's or retrieval's declines: the model was asked), the
candidate is the sentence of the prompt's passages the cross-encoder rates best for the question,
among the `SHORTLIST` sharing most words with it. The question goes to the model again with only
that sentence and the one before it, as answer.reask asks (`reask_messages`). Its reply would be
shown, cited to its own supporting sentence, when it is not empty, passes every check an answer
passes (`check_reply`, the relevance check) and its p(empty answer) is at most the threshold
(reported at answer.max_decline_probability and answer.reask_max_decline_probability). Counts the
right and wrong answers that would be shown.

Run (one LLM job at a time): .venv/bin/python bench/second_chance.py DATASET EVAL_DIR --index DIR
     [--name second-chance]
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ablation import SHIPPED, judge_again, judge_reply
from bench.common import print_table, write_result
from bench.recorded import AskedAgain, RecordedReply, ask_again, asked_again_row, replies_of_run, run_arguments
from bot.answering.config import AnswerConfig
from bot.answering.evidence import parse_model_answer
from bot.answering.pipeline import evidence_relevance
from bot.config import load_config
from index.library import Library
from index.text import content_tokens, split_sentences

SHORTLIST = 5  # sentences the cross-encoder scores (~40 ms each on 2 cores)


def best_sentence(reply: RecordedReply, library: Library) -> tuple[int, str] | None:
    """(passage, the sentence before and the sentence) the cross-encoder rates best for the
    question, among the SHORTLIST sharing most of its words; None when none shares one."""
    question = reply.question.question
    asked = content_tokens(question)
    shared = []
    for index, text in enumerate(reply.texts):
        sentences = split_sentences(text)
        for i, span in enumerate(sentences):
            if n := len(asked & content_tokens(text[span.start : span.end])):
                before = sentences[i - 1].start if i else span.start
                shared.append((n, index, text[span.start : span.end], text[before : span.end]))
    shortlist = sorted(shared, key=lambda s: -s[0])[:SHORTLIST]
    if not shortlist:
        return None
    scored = [(evidence_relevance(library, question, sentence), index, run) for _, index, sentence, run in shortlist]
    _, index, run = max(scored, key=lambda s: s[0].best if s[0] else 0.0)
    return index, run


def verdict(reply: RecordedReply, again: str, library: Library, config: AnswerConfig) -> str:
    """What would become of the second reply `again` (doubt aside)."""
    if not (parse_model_answer(again) or "").strip():
        return "declined again"
    return judge_again(reply, again, library, config.min_evidence_score)


def declined(reply: RecordedReply, library: Library, config: AnswerConfig) -> bool:
    """Whether the shipped checks (the doubt included, as recorded) decline a reply the model gave."""
    if reply.draft is None:
        return False
    doubt = reply.record.get("decline_p")
    return judge_reply(SHIPPED, reply, library, config.min_evidence_score) is None or (
        doubt is not None and doubt > config.max_decline_probability
    )


def main() -> None:
    config = load_config(None)
    args = run_arguments(__doc__.splitlines()[0], "second-chance").parse_args()
    library, replies = replies_of_run(args, config)
    todo = [
        AskedAgain(reply, parse_model_answer(reply.draft or ""), *found)
        for reply in tqdm(replies, desc="choosing sentences", unit="reply")
        if declined(reply, library, config.answer) and (found := best_sentence(reply, library)) is not None
    ]
    second = ask_again(config, todo, "second chance")
    rows = [
        asked_again_row(item, again, doubt, verdict(item.reply, again, library, config.answer))
        for item, (again, doubt) in zip(todo, second)
    ]
    table = []
    for limit in (config.answer.max_decline_probability, config.answer.reask_max_decline_probability):
        counts = Counter(row["verdict"] if (row["decline_p"] or 0.0) <= limit else "doubted" for row in rows)
        table += [[limit, kind, n] for kind, n in sorted(counts.items())]
    write_result(args.name, {"eval_dir": str(args.eval_dir), "asked": len(rows), "rows": rows})
    print_table(["max p(empty)", "the declined question, asked again", "answers"], table)


if __name__ == "__main__":
    main()
