"""A benchmark folder of news-length articles cut from DATASET's long ones, for the path every
public question skips: an article short enough to be read whole (`answer.window_tokens`), with no
focus passage. Each of `--articles` articles (one per source article, from a fixed seed) is a run
of `--paragraphs` consecutive paragraphs; its questions are those whose paragraph is in the run,
outside DATASET's fixed sample (`--per-article`, half answerable and half not where there are
enough). Every question of sample_500 in DATASET stays out, so nothing chosen here was seen there.

Run: .venv/bin/python bench/short_articles.py DATASET OUT [--articles 8] [--paragraphs 6]
     [--per-article 12] [--seed 5]
then: .venv/bin/articlebot eval OUT --answers-only --out DIR
"""

from __future__ import annotations

import argparse
import json
import random
from collections import defaultdict
from pathlib import Path


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line]


def _write(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))


def cut(dataset: Path, out: Path, articles: int, paragraphs: int, per_article: int, seed: int) -> tuple[int, int]:
    """Write OUT; returns (articles, questions) written."""
    by_doc: dict[str, list[dict]] = defaultdict(list)
    for row in _jsonl(dataset / "paragraphs.jsonl"):
        by_doc[row["doc_id"]].append(row)
    fixed = {row["qid"] for row in _jsonl(dataset / "sample_500.jsonl")}
    questions = [q for q in _jsonl(dataset / "questions.jsonl") if q["qid"] not in fixed and not q.get("flags")]
    rng = random.Random(seed)
    out_paragraphs, out_questions = [], []
    for doc in rng.sample(sorted(by_doc), min(articles, len(by_doc))):
        rows = sorted(by_doc[doc], key=lambda r: r["para_index"])
        start = rng.randrange(max(1, len(rows) - paragraphs + 1))
        run = rows[start : start + paragraphs]
        part = f"{doc}_{start}"
        pids = {r["pid"] for r in run}
        for i, r in enumerate(run):
            out_paragraphs.append({**r, "doc_id": part, "doc_title": r.get("doc_title") or doc, "para_index": i})
        own = [q for q in questions if q["gold_pid"] in pids]
        for impossible in (False, True):
            kind = [q for q in own if q["is_impossible"] == impossible]
            out_questions += [{**q, "doc_id": part} for q in rng.sample(kind, min(per_article // 2, len(kind)))]
    out.mkdir(parents=True, exist_ok=True)
    _write(out / "paragraphs.jsonl", out_paragraphs)
    _write(out / "questions.jsonl", out_questions)
    _write(out / "sample_500.jsonl", out_questions)
    return len({p["doc_id"] for p in out_paragraphs}), len(out_questions)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--articles", type=int, default=8)
    parser.add_argument("--paragraphs", type=int, default=6)
    parser.add_argument("--per-article", type=int, default=12)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    n_articles, n_questions = cut(args.dataset, args.out, args.articles, args.paragraphs, args.per_article, args.seed)
    print(f"{n_articles} articles, {n_questions} questions written to {args.out}")


if __name__ == "__main__":
    main()
