"""Many articles at once: first-token and total time when questions rotate over six articles of
different lengths (the sample plus five from the public SQuAD 2.0 half, up to ~4,000 words),
after their warm-ups; then a seventh article is added while questions keep arriving; then the
bot restarts (a new LLM client, server and answerer over the same data folder) and is asked
about the added article and again about the six.

Further articles (~1,200 words each, from the same half) are indexed and warmed beside the six
until `--articles` are indexed, so memory is measured at that size.

Reports first-token and total p50/p95 per phase, the warm-up time of each article, the time
from adding an article to its first fast (routed, whole-article) answer, the time from the
restart to the added article's first answer (and whether its prefix was read back from the
kept file), and the peak RSS of this process and of each llama.cpp server.

Run: .venv/bin/python bench/multi_article.py [--questions 60] [--articles 20] [--seed 7]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import random
import resource
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import print_table, summarize_ms, write_result
from bot.answering.pipeline import Answerer
from bot.config import load_config
from bot.evaluation.evaluate import Dataset, load_dataset
from bot.llm.client import LLMClient
from index.embed import Embedder
from index.ingest import read_file
from index.library import Library
from index.models import Document
from index.rerank import CrossEncoderReranker

SQUAD = Path(__file__).resolve().parent.parent.parent / "shared" / "eval" / "squad2-dev-public"
SEED = SQUAD.parent / "seed-article-dev"


@dataclass(frozen=True)
class Piece:
    article_id: str
    doc_id: str
    paragraphs: int | None  # N paragraphs from `start`; None: the whole document
    start: int = 0


ARTICLES = [
    Piece("islamism-short", "Islamism", 4),
    Piece("packet-switching-medium", "Packet_switching", 12),
    Piece("oil-crisis", "1973_oil_crisis", None),
    Piece("harvard", "Harvard_University", None),
    Piece("normans", "Normans", None),
]
ADDED_LATER = Piece("scottish-parliament", "Scottish_Parliament", 10)
# Filler for the memory measurement: 10 paragraphs (~1,200 words) of the other documents, then
# of the longest ones again further on.
FILLER = [
    Piece(doc.lower().replace("_", "-") + f"-{start}", doc, 10, start)
    for doc, start in [
        ("Computational_complexity_theory", 0),
        ("Huguenot", 0),
        ("Steam_engine", 0),
        ("Imperialism", 0),
        ("French_and_Indian_War", 0),
        ("Force", 0),
        ("Immune_system", 0),
        ("Warsaw", 0),
        ("Yuan_dynasty", 0),
        ("European_Union_law", 0),
        ("Warsaw", 20),
        ("Yuan_dynasty", 20),
        ("European_Union_law", 20),
    ]
]


def _document(piece: Piece, dataset: Dataset) -> tuple[Document, set[str]]:
    _, paragraphs = dataset.articles[piece.doc_id]  # in their order in the article
    chosen = paragraphs[piece.start :][: piece.paragraphs]
    text = "\n\n".join(text for _, text in chosen)
    return Document(text=text, title=piece.doc_id.replace("_", " ")), {pid for pid, _ in chosen}


def _questions(piece: Piece, pids: set[str], dataset: Dataset, n: int, rng: random.Random) -> list[dict]:
    own = [q for q in dataset.questions if q.gold_pid in pids and not q.is_impossible]
    return [{"question": q.question, "article": piece.article_id} for q in rng.sample(own, min(n, len(own)))]


def _rss_mb(pid: int) -> float | None:
    """Peak resident memory of a process (VmHWM), in MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


async def _ask(answerer: Answerer, item: dict, scoped: bool, phase: str) -> dict:
    scope = [item["article"]] if scoped else None
    answer = await answerer.answer(item["question"], scope)
    t = answer.timings
    return {
        "phase": phase,
        "question": item["question"],
        "article": item["article"],
        "scoped": scoped,
        "first_token_s": t.get("first_token_s"),
        "total_s": t["total_s"],
        "whole_article": bool(answer.seen) and len({a for a, _ in answer.seen}) == 1 and len(answer.seen) > 3,
        "cited_article": answer.citations[0].article_id if answer.citations else None,
        "refused": answer.refused,
    }


async def run(answerer: Answerer, library: Library, items: list[dict], later: tuple[Document, list[dict]]) -> dict:
    warm: dict[str, float] = {}
    for article_id in sorted(library.article_ids()):
        began = time.perf_counter()
        await answerer.warm([article_id])
        warm[article_id] = round(time.perf_counter() - began, 1)
    rows = [await _ask(answerer, item, i % 2 == 0, "rotating") for i, item in enumerate(items)]
    # Phase 2: a new article arrives; questions on the others keep coming while it warms up, and
    # every third question (or any, once it is warm) is about the new article.
    document, its_questions = later
    added_at = time.perf_counter()
    library.add(document, article_id=ADDED_LATER.article_id)
    answerer.warm_in_background([ADDED_LATER.article_id])  # what /article add does
    first_fast_s = None
    others = itertools.cycle(items)
    for n in itertools.count(1):
        rows.append(await _ask(answerer, next(others), False, "while warming"))
        if n % 3 == 0 or not answerer._warming:
            row = await _ask(answerer, its_questions[n % len(its_questions)], False, "added article")
            rows.append(row)
            if row["whole_article"]:
                first_fast_s = round(time.perf_counter() - added_at, 1)
                break
        if n >= 60:
            break
    return {"warm_up_s": warm, "add_to_first_fast_answer_s": first_fast_s, "rows": rows}


async def after_restart(answerer: Answerer, llm: LLMClient, items: list[dict], later: list[dict]) -> dict:
    """A restarted bot: its start-up warm-up, then the added article's first question, then the
    rotation again. Times count from the new server's start."""
    began = time.perf_counter()
    await asyncio.to_thread(llm.start)
    started_s = time.perf_counter() - began
    await answerer.warm()  # what the bot does on start: every article, kept ones read back later
    warmed_s = time.perf_counter() - began
    first = await _ask(answerer, later[0], False, "after restart: added article")
    first_answer_s = time.perf_counter() - began
    rows = [first] + [await _ask(answerer, item, i % 2 == 0, "after restart") for i, item in enumerate(items[:12])]
    return {
        "server_start_s": round(started_s, 1),
        "start_up_warm_s": round(warmed_s - started_s, 1),
        "restart_to_added_article_answer_s": round(first_answer_s, 1),
        "added_article_first_token_s": first["first_token_s"],
        "added_article_whole": first["whole_article"],
        "restores": llm.restores,
        "rows": rows,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=60)
    parser.add_argument("--articles", type=int, default=20, help="articles indexed in all (for memory)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    config = load_config(None)
    rng = random.Random(args.seed)
    dataset = load_dataset(SQUAD)
    with tempfile.TemporaryDirectory() as tmp:
        reranker = CrossEncoderReranker(threads=config.embedding.threads)
        library = Library(Path(tmp), config.chunking, config.search, Embedder(config.embedding), reranker)
        library.add(read_file(config.path(config.store.sample_article), config.ingest), article_id="sample")
        per_article = args.questions // (len(ARTICLES) + 1) + 1
        answerable = [q for q in load_dataset(SEED).questions if not q.is_impossible]
        items = [{"question": q.question, "article": "sample"} for q in rng.sample(answerable, per_article)]
        sizes = {"sample": len(library.article_text("sample").split())}
        for piece in ARTICLES:
            document, pids = _document(piece, dataset)
            library.add(document, article_id=piece.article_id)
            sizes[piece.article_id] = len(document.text.split())
            items += _questions(piece, pids, dataset, per_article, rng)
        rng.shuffle(items)
        items = items[: args.questions]
        for piece in FILLER[: max(0, args.articles - len(ARTICLES) - 2)]:
            library.add(_document(piece, dataset)[0], article_id=piece.article_id)
            sizes[piece.article_id] = len(library.article_text(piece.article_id).split())
        later_document, later_pids = _document(ADDED_LATER, dataset)
        later = (later_document, _questions(ADDED_LATER, later_pids, dataset, 3, rng))
        sizes[ADDED_LATER.article_id] = len(later_document.text.split())
        state = Path(tmp) / "llm-state"
        llm = LLMClient(config.llm, config.models_dir, state)
        llm.start()
        try:
            result = asyncio.run(run(Answerer(library, llm, config.answer), library, items, later))
            server_pid = llm.server.pid if llm.server else None
            server_rss = _rss_mb(server_pid) if server_pid else None
        finally:
            llm.stop()
        restarted = LLMClient(config.llm, config.models_dir, state)
        try:
            restart = asyncio.run(
                after_restart(Answerer(library, restarted, config.answer), restarted, items, later[1])
            )
            restarted_pid = restarted.server.pid if restarted.server else None
            restarted_rss = _rss_mb(restarted_pid) if restarted_pid else None
        finally:
            restarted.stop()
        kept_mb = round(sum(f.stat().st_size for f in state.glob("*.kv")) / 2**20, 1)
    rows = result.pop("rows") + restart.pop("rows")
    phases = {}
    for phase in ("rotating", "while warming", "added article", "after restart"):
        chosen = [r for r in rows if r["phase"] == phase]
        phases[phase] = {
            "questions": len(chosen),
            "first_token": summarize_ms([r["first_token_s"] for r in chosen if r["first_token_s"] is not None]),
            "total": summarize_ms([r["total_s"] for r in chosen]),
            "whole_article_share": round(sum(r["whole_article"] for r in chosen) / max(1, len(chosen)), 3),
            "refused_share": round(sum(r["refused"] for r in chosen) / max(1, len(chosen)), 3),
        }
    summary = {
        "model": config.llm.model,
        "context_tokens": config.llm.context_tokens,
        "article_words": sizes,
        **result,
        "phases": phases,
        "articles_indexed": len(sizes),
        "restart": restart,
        "kept_prefixes_mb": kept_mb,
        "peak_rss_mb": {
            "bot": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "llm_server": server_rss,
            "llm_server_after_restart": restarted_rss,
        },
    }
    path = write_result("multi_article", {**summary, "questions": rows})
    print_table(
        ["phase", "questions", "first token p50 ms", "p95 ms", "total p50 ms", "p95 ms", "whole article"],
        [
            [
                name,
                p["questions"],
                p["first_token"]["p50_ms"],
                p["first_token"]["p95_ms"],
                p["total"]["p50_ms"],
                p["total"]["p95_ms"],
                p["whole_article_share"],
            ]
            for name, p in phases.items()
        ],
    )
    print(f"\nwarm-ups (s): {result['warm_up_s']}\nadd → first fast answer: {result['add_to_first_fast_answer_s']} s")
    print(f"after restart: {restart}")
    print(f"peak RSS: {summary['peak_rss_mb']}\nwritten to {path}")


if __name__ == "__main__":
    main()
