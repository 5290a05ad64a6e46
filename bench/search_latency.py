"""Dense search latency by corpus size: exact IndexFlatIP vs HNSW (as built by index/vectors.py).

Vectors are synthetic but clustered (random vectors have no neighbourhoods, which makes any
approximate index look worse than on real embeddings). Queries are perturbed corpus points.
Run: .venv/bin/python bench/search_latency.py [--sizes 1000 100000 1000000]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import faiss
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import print_table, summarize_ms, write_result
from index.vectors import build_faiss

DIM = 384


def clustered_vectors(n: int, rng: np.random.Generator, clusters: int = 1000) -> np.ndarray:
    centres = rng.standard_normal((clusters, DIM)).astype(np.float32)
    vectors = centres[rng.integers(0, clusters, n)] + 0.6 * rng.standard_normal((n, DIM)).astype(np.float32)
    faiss.normalize_L2(vectors)
    return vectors


def time_queries(index: faiss.Index, queries: np.ndarray, k: int = 10) -> tuple[list[float], np.ndarray]:
    times, found = [], []
    for q in queries:
        start = time.perf_counter()
        _, ids = index.search(q.reshape(1, -1), k)
        times.append(time.perf_counter() - start)
        found.append(ids[0])
    return times, np.array(found)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000, 1_000_000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--ef", type=int, nargs="+", default=[64, 256, 1024], help="HNSW efSearch values to measure")
    parser.add_argument(
        "--threads", type=int, default=1, help="FAISS threads (1: one query at a time, as the bot runs)"
    )
    args = parser.parse_args()
    faiss.omp_set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    rows, results = [], []
    for n in args.sizes:
        vectors = clustered_vectors(n, rng)
        queries = vectors[rng.integers(0, n, args.queries)] + 0.05 * rng.standard_normal((args.queries, DIM)).astype(
            np.float32
        )
        faiss.normalize_L2(queries)
        flat = build_faiss(vectors, flat_max=n, hnsw_m=32, hnsw_ef_search=256)
        flat_times, truth = time_queries(flat, queries)
        start = time.perf_counter()
        hnsw = build_faiss(vectors, flat_max=0, hnsw_m=32, hnsw_ef_search=256)
        build_s = time.perf_counter() - start
        entry = {"passages": n, "flat": summarize_ms(flat_times) | {"bytes_per_vector": DIM * 4}, "hnsw32": {}}
        for ef in args.ef:
            hnsw.hnsw.efSearch = ef
            hnsw_times, approx = time_queries(hnsw, queries)
            recall = float(np.mean([len(set(a) & set(t)) / 10 for a, t in zip(approx, truth)]))
            entry["hnsw32"][f"ef{ef}"] = summarize_ms(hnsw_times) | {"recall_at_10": round(recall, 4)}
            rows.append(
                [
                    f"{n:,}",
                    entry["flat"]["p50_ms"],
                    entry["flat"]["p95_ms"],
                    ef,
                    entry["hnsw32"][f"ef{ef}"]["p50_ms"],
                    entry["hnsw32"][f"ef{ef}"]["p95_ms"],
                    round(recall, 4),
                    round(build_s, 1),
                ]
            )
        entry["hnsw32"] |= {"build_s": round(build_s, 1), "bytes_per_vector": DIM * 4 + 32 * 2 * 4 + 8}
        results.append(entry)
        print(f"done {n:,}", file=sys.stderr)
    path = write_result("search_latency", {"threads": args.threads, "dim": DIM, "results": results})
    print_table(
        [
            "passages",
            "flat p50 ms",
            "flat p95 ms",
            "HNSW efSearch",
            "HNSW p50 ms",
            "HNSW p95 ms",
            "HNSW recall@10",
            "HNSW build s",
        ],
        rows,
    )
    print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()
