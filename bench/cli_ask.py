"""One-off questions from the command line: `articlebot ask` run a few times in a row, each a new
process (imports, the LLM server's start, the article read or read back), on a fresh data folder
holding only the sample article — what a new user meets after `articlebot index add`.

Each ask's wall time is measured from outside, with the answer and the timings `ask --json`
reports. The model file is shared with the repo's data folder (linked), so it is not assembled again.

Run (one LLM job at a time): .venv/bin/python bench/cli_ask.py [--asks 3] [--name cli_ask]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import print_table, write_result
from bot.config import load_config

REPO = Path(__file__).resolve().parent.parent
QUESTIONS = ["Which Kyiv neighbourhood was hit?", "How many people have fled Ukraine?", "Where was the rally held?"]


def timed(command: list[str]) -> tuple[float, str]:
    """(wall seconds, stdout) of a command that must succeed."""
    began = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - began
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    return elapsed, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--asks", type=int, default=3)
    parser.add_argument("--name", default="cli_ask")
    args = parser.parse_args()
    models = load_config(REPO / "config.toml").models_dir
    with tempfile.TemporaryDirectory(prefix="cli-ask-") as tmp:
        data = Path(tmp) / "data"
        data.mkdir()
        if models.is_dir():
            (data / "models").symlink_to(models)
        config = Path(tmp) / "config.toml"
        config.write_text('[store]\ndata_dir = "data"\n')
        articlebot = [sys.executable, "-m", "bot", "--config", str(config)]
        add_s, _ = timed([*articlebot, "index", "add", str(REPO / "samples" / "seed-article.txt")])
        asks = []
        for n in range(args.asks):
            question = QUESTIONS[n % len(QUESTIONS)]
            wall_s, out = timed([*articlebot, "ask", "--json", question])
            reply = json.loads(out.splitlines()[-1])
            asks.append(
                {
                    "question": question,
                    "wall_s": round(wall_s, 2),
                    "answer": reply["answer"],
                    "refused": reply["refused"],
                    "timings": reply["timings"],
                }
            )
            print(f"ask {n + 1}: {wall_s:.1f} s  {reply['answer']}", flush=True)
    write_result(args.name, {"index_add_s": round(add_s, 2), "asks": asks})
    print_table(
        ["ask", "wall s", "answered in s (timings.total_s)", "answer"],
        [[n + 1, a["wall_s"], a["timings"].get("total_s"), a["answer"][:60]] for n, a in enumerate(asks)],
    )


if __name__ == "__main__":
    main()
