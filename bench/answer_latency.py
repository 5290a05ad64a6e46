"""Answer latency on the sample article with the configured model (default: Qwen2.5-Coder-1.5B):
time to first token, total time and tokens/s for ten questions, after the start-up warm-up
that puts the whole-article prompt prefix into llama.cpp's cache.

With --during-warm-up, a second article (a public SQuAD 2.0 article of ~2,800 words) is added
and warmed in the background, as `/article add` does, while the ten questions are asked: a
question cancels the warm-up step under way (`warm_up_steps_preempted` counts them), and no step
runs between its own requests.

Run: .venv/bin/python bench/answer_latency.py [--config config.toml] [--during-warm-up]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import print_table, summarize_ms, write_result
from bot.answering.pipeline import Answerer
from bot.config import load_config
from bot.evaluation.evaluate import load_dataset
from bot.llm.client import LLMClient
from bot.runtime import kept_prefixes_dir
from index.embed import Embedder
from index.ingest import read_file
from index.library import Library
from index.models import Document
from index.rerank import CrossEncoderReranker

SQUAD = Path(__file__).resolve().parent.parent.parent / "shared" / "eval" / "squad2-dev-public"
WARMED_MEANWHILE = "1973_oil_crisis"  # long enough to be warming through all ten questions

QUESTIONS = [
    "How many people have fled Ukraine?",
    "Which Kyiv neighbourhood was hit?",
    "Where was the rally held?",
    "How many people were at the stadium?",
    "What was Putin wearing?",
    "How long did Putin speak?",
    "What did Medinsky say about NATO?",
    "How many missiles did Ukraine shoot down near Lviv?",
    "How many attacks on hospitals has the WHO confirmed?",
    "Who won the 2018 World Cup?",
]


class CountingLLM:
    """Wraps the real client to count streamed chunks (llama.cpp sends one token a chunk)."""

    def __init__(self, inner: LLMClient):
        self.inner = inner
        self.context_tokens = inner.context_tokens
        self.max_answer_tokens = inner.max_answer_tokens
        self.chunks = 0

    async def stream(self, messages, max_tokens=None, *, options=None, alternatives=0):
        async for piece in self.inner.stream(messages, max_tokens, options=options, alternatives=alternatives):
            self.chunks += 1
            yield piece

    async def complete(self, messages, max_tokens, *, options=None):
        return await self.inner.complete(messages, max_tokens, options=options)

    async def prefill(self, messages, when_idle=False, keep=False, resumes=None, for_question=False):
        await self.inner.prefill(messages, when_idle, keep, resumes, for_question)

    def question(self):
        return self.inner.question()

    def is_kept(self, messages):
        return self.inner.is_kept(messages)

    async def keep_read(self, messages):
        await self.inner.keep_read(messages)

    async def yes_probability(self, messages):
        return await self.inner.yes_probability(messages)

    async def aclose(self):
        await self.inner.aclose()


def squad_article(doc_id: str) -> Document:
    title, paragraphs = load_dataset(SQUAD).articles[doc_id]
    return Document(text="\n\n".join(text for _, text in paragraphs), title=title)


async def measure(answerer: Answerer, llm: CountingLLM, warmed_meanwhile: str | None) -> tuple[float, list[dict]]:
    start = time.perf_counter()
    await answerer.warm(["sample"])
    warm_s = time.perf_counter() - start
    if warmed_meanwhile is not None:
        answerer.warm_in_background([warmed_meanwhile])
    rows = []
    for question in QUESTIONS:
        llm.chunks = 0
        asked = time.perf_counter()
        shown: list[float] = []
        answer = await answerer.answer(
            question, ["sample"], on_sentence=lambda _, at=shown: at.append(time.perf_counter())
        )
        t = answer.timings
        decode_s = max(
            1e-6, t.get("llm_s", 0) - (t.get("first_token_s", 0) - t.get("retrieve_s", 0) - t.get("rewrite_s", 0))
        )
        rows.append(
            {
                "question": question,
                "first_token_s": t.get("first_token_s"),
                # The checked answer reaches the reader (or the refusal does) at this point.
                "first_checked_sentence_s": round((shown[0] if shown else asked + t["total_s"]) - asked, 4),
                "verify_s": t.get("verify_s"),
                "reask_s": t.get("reask_s"),
                "total_s": t["total_s"],
                "tokens": llm.chunks,
                "tokens_per_s": round(llm.chunks / decode_s, 1) if llm.chunks else None,
                "refused": answer.refused,
                "answer": answer.text,
                "reason": answer.reason,
                "draft": answer.draft,
            }
        )
    return warm_s, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", type=Path, default=None)
    parser.add_argument("--name", default="answer_latency", help="result file name under bench/results/")
    parser.add_argument("--during-warm-up", action="store_true", help="ask while another article is being warmed")
    args = parser.parse_args()
    config = load_config(args.config)
    with tempfile.TemporaryDirectory() as tmp:
        reranker = CrossEncoderReranker(threads=config.embedding.threads)
        library = Library(Path(tmp), config.chunking, config.search, Embedder(config.embedding), reranker)
        library.add(read_file(config.path(config.store.sample_article), config.ingest), article_id="sample")
        warmed_meanwhile = None
        if args.during_warm_up:
            warmed_meanwhile = library.add(squad_article(WARMED_MEANWHILE), article_id="meanwhile").id
        # Prefixes kept on disk as the bot keeps them (bot.runtime): the re-ask's instructions are
        # read back from their file after each answer's article.
        llm = CountingLLM(LLMClient(config.llm, config.models_dir, kept_prefixes_dir(Path(tmp))))
        start = time.perf_counter()
        llm.inner.start()
        start_s = time.perf_counter() - start
        try:
            warm_s, rows = asyncio.run(measure(Answerer(library, llm, config.answer), llm, warmed_meanwhile))
        finally:
            llm.inner.stop()
    firsts = [r["first_token_s"] for r in rows if r["first_token_s"] is not None]
    totals = [r["total_s"] for r in rows]
    speeds = [r["tokens_per_s"] for r in rows if r["tokens_per_s"]]
    summary = {
        "model": config.llm.model,
        "threads": config.llm.threads,
        "during_warm_up_of": warmed_meanwhile,
        "server_start_s": round(start_s, 2),
        "warmup_s": round(warm_s, 2),
        "first_token": summarize_ms(firsts),
        "first_checked_sentence": summarize_ms([r["first_checked_sentence_s"] for r in rows]),
        "total": summarize_ms(totals),
        "tokens_per_s_median": round(statistics.median(speeds), 1) if speeds else None,
        "warm_up_steps_preempted": llm.inner.preemptions,
    }
    path = write_result(args.name, {**summary, "questions": rows})
    print_table(
        ["question", "first token s", "total s", "tokens", "tok/s", "refused"],
        [[r["question"], r["first_token_s"], r["total_s"], r["tokens"], r["tokens_per_s"], r["refused"]] for r in rows],
    )
    print(
        f"\nserver start {summary['server_start_s']} s; warm-up (whole-article prefix) {summary['warmup_s']} s; "
        f"first token p50 {summary['first_token']['p50_ms']} ms, first checked sentence p50 "
        f"{summary['first_checked_sentence']['p50_ms']} ms, total p50 {summary['total']['p50_ms']} ms; "
        f"{summary['tokens_per_s_median']} tokens/s\nwritten to {path}"
    )


if __name__ == "__main__":
    main()
