"""A benchmark folder for choosing thresholds: the same articles and questions as DATASET, but
with its fixed LLM sample replaced by questions *outside* that sample (half answerable, half
not, drawn with a fixed seed). A threshold chosen on this split is then scored on the fixed
sample it never saw.

Run: .venv/bin/python bench/tuning_split.py DATASET OUT [--size 200] [--seed 7]
then: .venv/bin/articlebot eval OUT --answers-only --index bench/results/eval-500/index --out DIR
(sharing the index of an earlier run of the same articles reuses its warm-ups).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
from pathlib import Path


def split(dataset: Path, out: Path, size: int, seed: int) -> list[dict]:
    """Write OUT (DATASET's articles and questions, another sample) and return that sample."""
    questions = [json.loads(line) for line in (dataset / "questions.jsonl").read_text().splitlines() if line]
    fixed = {json.loads(line)["qid"] for line in (dataset / "sample_500.jsonl").read_text().splitlines() if line}
    outside = [q for q in questions if q["qid"] not in fixed and not q.get("flags")]
    rng = random.Random(seed)
    chosen = [
        q
        for impossible in (False, True)
        for q in rng.sample([q for q in outside if q["is_impossible"] == impossible], size // 2)
    ]
    out.mkdir(parents=True, exist_ok=True)
    for name in ("paragraphs.jsonl", "questions.jsonl"):
        shutil.copyfile(dataset / name, out / name)
    (out / "sample_500.jsonl").write_text("".join(json.dumps(q, ensure_ascii=False) + "\n" for q in chosen))
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--size", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    chosen = split(args.dataset, args.out, args.size, args.seed)
    print(f"{len(chosen)} questions outside {args.dataset / 'sample_500.jsonl'} written to {args.out}")


if __name__ == "__main__":
    main()
