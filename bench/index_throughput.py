"""Indexing speed: passages/s of a plain one-at-a-time SentenceTransformer.encode loop against
our batched Embedder at several batch sizes, and of the whole `Library.add` pipeline
(split + embed + SQLite + FAISS) over the public benchmark's articles.

Run: .venv/bin/python bench/index_throughput.py [--data ../shared/eval/squad2-dev-public] [--limit 320]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import print_table, write_result
from index.chunk import ChunkingConfig
from index.embed import Embedder, EmbeddingConfig
from index.library import Library
from index.models import Document
from index.search import SearchConfig

DEFAULT_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "eval" / "squad2-dev-public"


def load_articles(data: Path) -> dict[str, list[str]]:
    articles: dict[str, list[tuple[int, str]]] = defaultdict(list)
    with open(data / "paragraphs.jsonl", encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            articles[row["doc_id"]].append((row["para_index"], row["text"]))
    return {doc: [t for _, t in sorted(paras)] for doc, paras in articles.items()}


def rate(count: int, seconds: float) -> float:
    return round(count / seconds, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--limit", type=int, default=320, help="passages for the encode comparisons")
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 8, 16, 32, 64])
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    articles = load_articles(args.data)
    texts = [t for paras in articles.values() for t in paras][: args.limit]

    embedder = Embedder(EmbeddingConfig(threads=args.threads))
    model = embedder.model
    model.encode(["warm up"])
    start = time.perf_counter()
    for text in texts:
        model.encode(text)
    plain = rate(len(texts), time.perf_counter() - start)
    rows = [["plain encode loop (one at a time)", len(texts), plain, "1.00x"]]
    batched = {}
    for batch in args.batches:
        e = Embedder(EmbeddingConfig(threads=args.threads, batch_size=batch))
        e._model = model
        start = time.perf_counter()
        e.embed_passages(texts)
        batched[batch] = rate(len(texts), time.perf_counter() - start)
        rows.append([f"Embedder batch {batch}", len(texts), batched[batch], f"{batched[batch] / plain:.2f}x"])

    with tempfile.TemporaryDirectory() as tmp:
        library = Library(Path(tmp), ChunkingConfig(), SearchConfig(), embedder)
        start = time.perf_counter()
        count = 0
        for doc_id, paras in articles.items():
            count += library.add(Document(text="\n\n".join(paras), title=doc_id), article_id=None).passage_count
        pipeline = rate(count, time.perf_counter() - start)
    rows.append(
        [f"Library.add, {len(articles)} articles (split+embed+store)", count, pipeline, f"{pipeline / plain:.2f}x"]
    )
    path = write_result(
        "index_throughput",
        {
            "threads": args.threads,
            "passages": len(texts),
            "plain_loop_per_s": plain,
            "batched_per_s": batched,
            "pipeline": {"articles": len(articles), "passages": count, "per_s": pipeline},
        },
    )
    print_table(["method", "passages", "passages/s", "vs plain loop"], rows)
    print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()
