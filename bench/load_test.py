"""Bounded load test: concurrent questions for a fixed time through the core (Answerer) and
through the Discord front end (the real discord.py client on SimCord). Reports throughput,
p95 latency, errors (must be 0) and memory over the run (must stay flat).

The LLM is the scripted stand-in from the tests by default, so the numbers measure our code
(retrieval, checking, Discord plumbing), not the model; `--llm` uses the configured model.
Run: .venv/bin/python bench/load_test.py [--seconds 60] [--concurrency 8] [--llm]
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import print_table, summarize_ms, write_result
from bot.answering.pipeline import Answerer
from bot.config import load_config
from bot.discord.client import ArticleBot
from bot.discord.services import Services
from bot.feedback.store import FeedbackStore
from bot.llm.client import LLMClient
from index.embed import Embedder
from index.ingest import read_file
from index.library import Library
from tests.fakes import ScriptedLLM

QUESTIONS = [
    "How many people have fled Ukraine?",
    "Which Kyiv neighbourhood was hit?",
    "Where was the rally held?",
    "What was Putin wearing?",
    "How long did Putin speak?",
    "Who won the 2018 World Cup?",
]
REPLY = (
    "A building in the Podil neighborhood of Kyiv was hit [8]. Kyiv Mayor Vitali Klitschko said 19 were wounded [8]."
)


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize() / 2**20


class EndlessScript(ScriptedLLM):
    async def stream(self, messages, max_tokens=None, **request):
        self.replies = [REPLY]
        async for piece in super().stream(messages, max_tokens, **request):
            yield piece
        self.requests.clear()


async def drive(name: str, ask, seconds: float, concurrency: int) -> dict:
    latencies, errors, memory = [], [], []
    deadline = time.monotonic() + seconds

    async def worker(i: int) -> None:
        n = i
        while time.monotonic() < deadline:
            question = QUESTIONS[n % len(QUESTIONS)]
            n += concurrency
            start = time.perf_counter()
            try:
                await ask(question, i)
                latencies.append(time.perf_counter() - start)
            except Exception as exc:  # counted, not raised: the run must finish and report
                errors.append(f"{type(exc).__name__}: {exc}")

    async def sample_memory() -> None:
        while time.monotonic() < deadline:
            memory.append(round(rss_mb(), 1))
            await asyncio.sleep(max(1.0, seconds / 20))

    started = time.perf_counter()
    await asyncio.gather(sample_memory(), *(worker(i) for i in range(concurrency)))
    elapsed = time.perf_counter() - started
    return {
        "front_end": name,
        "seconds": round(elapsed, 1),
        "concurrency": concurrency,
        "answered": len(latencies),
        "per_s": round(len(latencies) / elapsed, 2),
        **summarize_ms(latencies),
        "errors": len(errors),
        "error_samples": errors[:3],
        "rss_mb_first": memory[0] if memory else None,
        "rss_mb_last": memory[-1] if memory else None,
        "rss_mb_peak": max(memory) if memory else None,
    }


async def run_core(answerer: Answerer, seconds: float, concurrency: int) -> dict:
    async def ask(question: str, worker: int) -> None:
        answer = await answerer.answer(question, ["sample"])
        assert answer.text

    return await drive("core (Answerer)", ask, seconds, concurrency)


async def run_discord(services: Services, seconds: float, concurrency: int) -> dict:
    import simcord

    bot = ArticleBot(services)
    services.cooldown = None
    async with simcord.run(bot, settle_timeout=120) as env:
        guild = env.create_guild()
        channel = guild.create_text_channel("general")
        members = [guild.add_member(env.create_user(f"user{i}")) for i in range(concurrency)]

        async def ask(question: str, worker: int) -> None:
            result = await members[worker].slash(channel, "ask", question=question)
            if result.response is None or not result.response.content:
                raise RuntimeError("no reply")

        # Each simulated slash command settles before the next, so this side runs one at a time.
        return await drive("Discord (SimCord)", ask, seconds, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--llm", action="store_true", help="use the configured LLM instead of the scripted one")
    args = parser.parse_args()
    config = load_config()
    with tempfile.TemporaryDirectory() as tmp:
        library = Library(Path(tmp), config.chunking, config.search, Embedder(config.embedding))
        library.add(read_file(config.path(config.store.sample_article), config.ingest), article_id="sample")
        llm = LLMClient(config.llm, config.models_dir) if args.llm else EndlessScript()
        answerer = Answerer(library, llm, config.answer)
        asyncio.run(answerer.warm(["sample"]))
        rows = [asyncio.run(run_core(answerer, args.seconds, args.concurrency))]
        services = Services(
            library, answerer, config.ingest, config.discord, FeedbackStore(Path(tmp) / "feedback.sqlite3")
        )
        rows.append(asyncio.run(run_discord(services, args.seconds, args.concurrency)))
        if args.llm:
            llm.stop()
    path = write_result("load_test", {"llm": config.llm.model if args.llm else "scripted", "results": rows})
    print_table(
        ["front end", "s", "answered", "per s", "p50 ms", "p95 ms", "errors", "RSS MB first/last/peak"],
        [
            [
                r["front_end"],
                r["seconds"],
                r["answered"],
                r["per_s"],
                r["p50_ms"],
                r["p95_ms"],
                r["errors"],
                f"{r['rss_mb_first']}/{r['rss_mb_last']}/{r['rss_mb_peak']}",
            ]
            for r in rows
        ],
    )
    print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()
