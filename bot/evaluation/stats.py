"""Latency summaries shared by `articlebot eval` and bench/: one definition of p50 and p95."""

from __future__ import annotations

import statistics


def summarize_ms(seconds: list[float], digits: int = 3) -> dict[str, float]:
    """p50 and p95 in milliseconds (statistics.quantiles, inclusive method: p95 of a short list
    stays inside the observed range)."""
    if not seconds:
        return {"p50_ms": 0.0, "p95_ms": 0.0}
    if len(seconds) == 1:
        return {"p50_ms": round(seconds[0] * 1000, digits), "p95_ms": round(seconds[0] * 1000, digits)}
    cuts = statistics.quantiles([s * 1000 for s in seconds], n=100, method="inclusive")
    return {"p50_ms": round(cuts[49], digits), "p95_ms": round(cuts[94], digits)}
