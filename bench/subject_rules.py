"""How often an answer check would decline, measured on supporting sentences instead of model
replies: for the public benchmark's questions *outside* sample_500 (so a rule chosen here is not
chosen on the questions it is scored on), the gold sentence of each answerable question and the
sentence holding the plausible (wrong) answer of each unanswerable one.

A check earns its place when it declines many of the unanswerable questions' sentences and few
of the answerable ones'. No LLM, no model: seconds.

Run: .venv/bin/python bench/subject_rules.py [DATASET]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import print_table, write_result
from bot.answering.evidence import article_header, missing_number, off_topic, opposite_word
from index.text import NUMBER, STOP_WORDS, TOKEN, content_tokens, normalise, split_sentences

_HOW_MANY_REST = re.compile(r"\bhow\s+(?:many|much)\s+[^\W\d_]+\s+(.*)", re.IGNORECASE)


def counted_happening_missing(question: str, evidence: str) -> bool:
    """A candidate check, not shipped (it declined 24% of answerable "how many" questions'
    sentences for 44% of unanswerable ones): the first content word after what a "how many"
    question counts ("How many people *survived*") must be in the evidence."""
    match = _HOW_MANY_REST.search(question)
    if match is None:
        return False
    for word in TOKEN.findall(match.group(1)):
        if word.lower() not in STOP_WORDS and not word[0].isupper() and not NUMBER.match(word):
            return normalise(word) not in content_tokens(evidence)
    return False


# rule name → declines(question, sentence, the article's header)
RULES: dict[str, Callable[[str, str, str], bool]] = {
    "subject (shipped: header = title + topic names)": lambda q, s, h: off_topic(q, s, f"{h}. {s}") is not None,
    "subject, title only": lambda q, s, h: off_topic(q, s, f"{h.split('|')[0]}. {s}") is not None,
    "how many: what happened to the counted (not shipped)": lambda q, s, h: counted_happening_missing(q, s),
    "an opposite word in the evidence (part of the shipped subject check)": lambda q, s, h: (
        opposite_word(q, s) is not None
    ),
    "a number the question writes, not in the evidence (part of the shipped subject check)": lambda q, s, h: (
        missing_number(q, f"{h}. {s}") is not None
    ),
}


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _sentence(paragraph: str, start: int) -> str | None:
    for span in split_sentences(paragraph):
        if span.start <= start < span.end:
            return paragraph[span.start : span.end]
    return None


def pairs(dataset: Path) -> list[tuple[str, str, str, bool]]:
    """(question, its supporting or plausible sentence, "title|header" of its article,
    is_impossible) outside sample_500."""
    rows = _jsonl(dataset / "paragraphs.jsonl")
    paragraphs = {r["pid"]: r["text"] for r in rows}
    titles = {r["doc_id"]: r.get("doc_title") or r["doc_id"] for r in rows}
    headers = {
        doc: f"{title}|" + article_header(title, [r["text"] for r in rows if r["doc_id"] == doc])
        for doc, title in titles.items()
    }
    sample = {q["qid"] for q in _jsonl(dataset / "sample_500.jsonl")}
    out = []
    for q in _jsonl(dataset / "questions.jsonl"):
        if q["qid"] in sample or q["flags"]:
            continue
        paragraph = paragraphs[q["gold_pid"]]
        if q["is_impossible"]:
            found = paragraph.find(q["plausible_answers"][0]) if q["plausible_answers"] else -1
            start = found
        else:
            start = q["answer_starts"][0]
        if start >= 0 and (sentence := _sentence(paragraph, start)):
            out.append((q["question"], sentence, headers[q["doc_id"]], q["is_impossible"]))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", type=Path, nargs="?", default=Path("../shared/eval/squad2-dev-public"))
    args = parser.parse_args()
    rows = pairs(args.dataset)
    results = {}
    for name, declines in RULES.items():
        for subset, keep in (
            ("all", lambda q: True),
            ("how many/much", lambda q: "how many" in q.lower() or "how much" in q.lower()),
        ):
            chosen = [(q, s, h, imp) for q, s, h, imp in rows if keep(q)]
            answerable = [(q, s, h.split("|", 1)[1] if "shipped" in name else h) for q, s, h, imp in chosen if not imp]
            unanswerable = [(q, s, h.split("|", 1)[1] if "shipped" in name else h) for q, s, h, imp in chosen if imp]
            results[f"{name} — {subset}"] = {
                "answerable": len(answerable),
                "unanswerable": len(unanswerable),
                "answerable_declined": round(sum(declines(*pair) for pair in answerable) / max(1, len(answerable)), 4),
                "unanswerable_declined": round(
                    sum(declines(*pair) for pair in unanswerable) / max(1, len(unanswerable)), 4
                ),
            }
    write_result("subject_rules", {"dataset": str(args.dataset), "rules": results})
    print_table(
        ["rule — questions", "answerable", "unanswerable", "answerable declined", "unanswerable declined"],
        [
            [k, r["answerable"], r["unanswerable"], r["answerable_declined"], r["unanswerable_declined"]]
            for k, r in results.items()
        ],
    )


if __name__ == "__main__":
    main()
