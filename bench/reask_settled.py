"""Reading the re-ask's reply only until its verdict is settled (`settled_reask`): the same verdict
as the whole reply, for how much less of it?

Replays the recorded second replies of bench/reask_evidence.py (no LLM): each reply is fed to
`settled_reask` one character at a time, as a stream would bring it, and the verdict of
`reask_reason` on what was read when it settled is set against its verdict on the whole reply.

Run: .venv/bin/python bench/reask_settled.py REASK_JSON [REASK_JSON ...] [--name reask-settled]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import print_table, write_result
from bot.answering.evidence import reask_reason, settled_reask
from bot.config import load_config


def read_until_settled(question: str, answer: str, again: str) -> str:
    """What the re-ask reads of the reply `again` streamed a character at a time."""
    for end in range(1, len(again) + 1):
        if (settled := settled_reask(question, answer, again[:end])) is not None:
            return settled
    return again


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reasked", type=Path, nargs="+", help="bench/reask_evidence.py's JSON files")
    parser.add_argument("--name", default="reask-settled")
    args = parser.parse_args()
    limit = load_config(None).answer.reask_max_decline_probability
    rows = []
    for path in args.reasked:
        for row in json.loads(path.read_text())["rows"]:
            read = read_until_settled(row["question"], row["answer"], row["again"])
            verdicts = [
                reask_reason(row["question"], row["answer"], reply, row["decline_p"], limit) is None
                for reply in (row["again"], read)
            ]
            rows.append(
                {"file": path.name, "whole": len(row["again"]), "read": len(read), "same": verdicts[0] == verdicts[1]}
            )
    whole, read = sum(r["whole"] for r in rows), sum(r["read"] for r in rows)
    summary = {
        "replies": len(rows),
        "same_verdict": sum(r["same"] for r in rows),
        "characters": whole,
        "characters_read": read,
        "share_not_read": round(1 - read / max(1, whole), 3),
    }
    write_result(args.name, {"reasked": [str(p) for p in args.reasked], **summary})
    print_table(list(summary), [list(summary.values())])


if __name__ == "__main__":
    main()
