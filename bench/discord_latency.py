"""How soon a /ask answer appears in Discord: the real bot (discord.py, unmodified) on SimCord's
in-process Discord (REST + gateway), the configured local model, the sample article warmed.

For each of the ten questions of bench/answer_latency.py, the time from the slash command to the
end of the interaction, by which the deferred reply has been edited to the checked answer (its
first visible sentence: nothing is shown before the checks pass) — an upper bound on when a
reader sees it.

Run: .venv/bin/python bench/discord_latency.py [--config config.toml]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sys
import tempfile
import time
from pathlib import Path

import simcord

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.answer_latency import QUESTIONS
from bench.common import print_table, summarize_ms, write_result
from bot.answering.pipeline import Answerer
from bot.config import Config, load_config
from bot.discord.client import ArticleBot
from bot.discord.services import Services
from bot.feedback.store import FeedbackStore
from bot.feeds.store import FeedStore
from bot.llm.client import LLMClient
from index.embed import Embedder
from index.ingest import read_file
from index.library import Library
from index.rerank import CrossEncoderReranker


async def measure(services: Services) -> list[dict]:
    async with simcord.run(ArticleBot(services)) as env:
        guild = env.create_guild("Bench")
        channel = guild.create_text_channel("general")
        reader = guild.add_member(env.create_user("reader"))
        await services.answerer.warm(["sample"])
        rows = []
        for question in QUESTIONS:
            asked = time.perf_counter()
            result = await reader.slash(channel, "ask", question=question)
            shown_s = time.perf_counter() - asked
            text = result.response.content if result.response else ""
            rows.append({"question": question, "answer_shown_s": round(shown_s, 4), "answer": text.split("\n")[0]})
        return rows


def open_services(config: Config, tmp: Path, llm: LLMClient) -> Services:
    reranker = CrossEncoderReranker(threads=config.embedding.threads)
    library = Library(tmp, config.chunking, config.search, Embedder(config.embedding), reranker)
    library.add(read_file(config.path(config.store.sample_article), config.ingest), article_id="sample")
    return Services(
        library,
        Answerer(library, llm, config.answer),
        config.ingest,
        dataclasses.replace(config.discord, cooldown_s=0, global_articles=("sample",), shard_count=1),
        FeedbackStore(tmp / "feedback.sqlite3"),
        FeedStore(tmp / "feeds.sqlite3"),
        config.feeds,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=None)
    args = parser.parse_args()
    config = load_config(args.config)
    with tempfile.TemporaryDirectory() as tmp:
        llm = LLMClient(config.llm, config.models_dir)
        try:
            rows = asyncio.run(measure(open_services(config, Path(tmp), llm)))
        finally:
            llm.stop()
    summary = summarize_ms([r["answer_shown_s"] for r in rows])
    path = write_result("discord_latency", {"model": config.llm.model, "answer_shown": summary, "questions": rows})
    print_table(
        ["question", "answer shown s", "answer"], [[r["question"], r["answer_shown_s"], r["answer"][:60]] for r in rows]
    )
    print(
        f"\n/ask → answer shown in Discord: p50 {summary['p50_ms']} ms, p95 {summary['p95_ms']} ms\nwritten to {path}"
    )


if __name__ == "__main__":
    main()
