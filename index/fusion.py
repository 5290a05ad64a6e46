"""Reciprocal rank fusion: merge ranked lists by summing weight / (k + rank)."""

from __future__ import annotations

from collections.abc import Sequence


def reciprocal_rank_fusion(rankings: Sequence[tuple[Sequence[int], float]], k: int = 60) -> list[tuple[int, float]]:
    """`rankings` holds (ranked item ids, weight) pairs; returns (id, fused score), best first.

    Ties keep the order in which items were first seen, so the result is deterministic.
    """
    scores: dict[int, float] = {}
    for items, weight in rankings:
        for rank, item in enumerate(items, start=1):
            scores[item] = scores.get(item, 0.0) + weight / (k + rank)
    return sorted(scores.items(), key=lambda pair: -pair[1])
