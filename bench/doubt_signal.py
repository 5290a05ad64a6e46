"""Is the model's doubt read by one request (`empty_answer_probability`, since the fourteenth
session) the signal the runs before the seventh session recorded? For the questions two eval runs
share and both recorded a p(empty answer) for: the correlation of their log10 p, each run's
median, and how long the new run's one-token requests took (`doubt_s`). No LLM is started.

Run: .venv/bin/python bench/doubt_signal.py NEW_EVAL_DIR OLD_EVAL_DIR [--name doubt-signal]
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import write_result

FLOOR = 1e-6  # log10 of a p the server rounded to 0


def recorded(eval_dir: Path) -> dict[str, dict]:
    return {row["qid"]: row for row in map(json.loads, (eval_dir / "answers.jsonl").read_text().splitlines())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("new", type=Path)
    parser.add_argument("old", type=Path)
    parser.add_argument("--name", default="doubt-signal")
    args = parser.parse_args()
    new, old = recorded(args.new), recorded(args.old)
    pairs = [
        (row["decline_p"], old[qid]["decline_p"])
        for qid, row in new.items()
        if row.get("decline_p") is not None and old.get(qid, {}).get("decline_p") is not None
    ]
    probes = sorted(row["timings"]["doubt_s"] for row in new.values() if "doubt_s" in row.get("timings", {}))
    logs = [(math.log10(max(a, FLOOR)), math.log10(max(b, FLOOR))) for a, b in pairs]
    result = {
        "new": str(args.new),
        "old": str(args.old),
        "questions": len(pairs),
        "correlation_log10": round(statistics.correlation(*zip(*logs)), 3) if len(logs) > 2 else None,
        "median_new": statistics.median(a for a, _ in pairs) if pairs else None,
        "median_old": statistics.median(b for _, b in pairs) if pairs else None,
        "probes": len(probes),
        "probe_s": {
            "p50": statistics.median(probes) if probes else None,
            "over_1s": sum(s > 1.0 for s in probes),
            "max": probes[-1] if probes else None,
        },
    }
    write_result(args.name, result)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
