"""Hybrid search over one immutable snapshot of the corpus: FAISS dense + BM25, fused by RRF."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import faiss
import numpy as np

from index.config_errors import require
from index.fusion import reciprocal_rank_fusion
from index.keyword import KeywordIndex
from index.models import Passage, SearchHit


@dataclass(frozen=True)
class SearchConfig:
    k: int = 3
    dense_weight: float = 1.0
    keyword_weight: float = 1.3
    rrf_k: int = 10
    candidates: int = 50
    flat_max_passages: int = 100_000
    hnsw_m: int = 32
    hnsw_ef_search: int = 1024
    rerank_candidates: int = 10  # fused hits the cross-encoder reorders; 0 turns reranking off

    def __post_init__(self) -> None:
        require(1 <= self.k <= 100, "search.k", self.k, "1 to 100")
        require(self.dense_weight >= 0, "search.dense_weight", self.dense_weight, "a number >= 0")
        require(self.keyword_weight >= 0, "search.keyword_weight", self.keyword_weight, "a number >= 0")
        require(
            self.dense_weight + self.keyword_weight > 0,
            "search.dense_weight",
            self.dense_weight,
            "dense_weight + keyword_weight > 0",
        )
        require(self.rrf_k >= 1, "search.rrf_k", self.rrf_k, "an integer >= 1")
        require(self.candidates >= self.k, "search.candidates", self.candidates, f">= search.k ({self.k})")
        require(self.flat_max_passages >= 0, "search.flat_max_passages", self.flat_max_passages, ">= 0")
        require(4 <= self.hnsw_m <= 128, "search.hnsw_m", self.hnsw_m, "4 to 128")
        require(self.hnsw_ef_search >= 1, "search.hnsw_ef_search", self.hnsw_ef_search, ">= 1")
        require(0 <= self.rerank_candidates <= 100, "search.rerank_candidates", self.rerank_candidates, "0 to 100")


class SearchIndex:
    """Read-only: a new corpus gets a new SearchIndex, so searches in flight are never disturbed."""

    def __init__(self, passages: list[Passage], titles: dict[str, str], vectors: faiss.Index, config: SearchConfig):
        self.passages = passages
        self.titles = titles
        self.vectors = vectors
        self.config = config
        if isinstance(vectors, faiss.IndexHNSW):
            vectors.hnsw.efSearch = config.hnsw_ef_search  # a file keeps the value it was built with
        self.keywords = KeywordIndex([p.text for p in passages])
        self._positions_by_article: dict[str, np.ndarray] = {}
        for article_id in titles:
            self._positions_by_article[article_id] = np.array(
                [i for i, p in enumerate(passages) if p.article_id == article_id], dtype=np.int64
            )

    def __len__(self) -> int:
        return len(self.passages)

    def _allowed_positions(self, article_ids: Collection[str] | None) -> np.ndarray | None:
        if article_ids is None:
            return None
        parts = [self._positions_by_article.get(a, np.zeros(0, np.int64)) for a in article_ids]
        return np.concatenate(parts) if parts else np.zeros(0, np.int64)

    def _dense(
        self, query_vector: np.ndarray, limit: int, allowed: np.ndarray | None
    ) -> tuple[list[int], dict[int, float]]:
        params = None
        if allowed is not None:
            selector = faiss.IDSelectorBatch(allowed)
            if isinstance(self.vectors, faiss.IndexHNSW):
                # Both exist at run time; faiss's SWIG stubs lack them.
                params = faiss.SearchParametersHNSW(  # type: ignore[attr-defined]
                    sel=selector, efSearch=max(self.config.hnsw_ef_search, limit)
                )
            else:
                params = faiss.SearchParameters(sel=selector)  # type: ignore[call-arg]
        scores, ids = self.vectors.search(query_vector.reshape(1, -1).astype(np.float32), limit, params=params)
        ranked = [int(i) for i in ids[0] if i >= 0]
        return ranked, {int(i): float(s) for i, s in zip(ids[0], scores[0]) if i >= 0}

    def _keyword(self, query: str, limit: int, allowed: np.ndarray | None) -> list[int]:
        scores = self.keywords.scores(query)
        if allowed is not None:
            masked = np.zeros_like(scores)
            masked[allowed] = scores[allowed]
            scores = masked
        candidates = np.flatnonzero(scores > 0)
        if len(candidates) > limit:
            candidates = candidates[np.argpartition(-scores[candidates], limit)[:limit]]
        return [int(i) for i in candidates[np.argsort(-scores[candidates], kind="stable")]]

    def _similarity(self, query_vector: np.ndarray, position: int) -> float:
        return float(np.dot(self.vectors.reconstruct(position), query_vector))

    def search(
        self,
        query: str,
        query_vector: np.ndarray,
        k: int,
        article_ids: Collection[str] | None = None,
        weights: tuple[float, float] | None = None,
    ) -> list[SearchHit]:
        """`weights` (dense, keyword) overrides the configured fusion, for baselines in the eval."""
        dense_weight, keyword_weight = weights or (self.config.dense_weight, self.config.keyword_weight)
        allowed = self._allowed_positions(article_ids)
        available = len(self.passages) if allowed is None else len(allowed)
        limit = min(max(self.config.candidates, k), available)
        if limit == 0 or not query.strip():
            return []
        dense_ranked, similarity = self._dense(query_vector, limit, allowed)
        keyword_ranked = self._keyword(query, limit, allowed)
        fused = reciprocal_rank_fusion(
            [(dense_ranked, dense_weight), (keyword_ranked, keyword_weight)],
            k=self.config.rrf_k,
        )
        dense_rank = {pos: r for r, pos in enumerate(dense_ranked, start=1)}
        keyword_rank = {pos: r for r, pos in enumerate(keyword_ranked, start=1)}
        hits = []
        for position, score in fused[:k]:
            passage = self.passages[position]
            cosine = similarity[position] if position in similarity else self._similarity(query_vector, position)
            hits.append(
                SearchHit(
                    passage=passage,
                    article_title=self.titles.get(passage.article_id, passage.article_id),
                    score=score,
                    similarity=cosine,
                    dense_rank=dense_rank.get(position),
                    keyword_rank=keyword_rank.get(position),
                )
            )
        return hits
