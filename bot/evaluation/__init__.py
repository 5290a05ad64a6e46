"""`articlebot eval`: retrieval and answer quality on SQuAD-style benchmark folders.

Owns: `evaluate` (loading, indexing, metrics, plots), `squad` (the official SQuAD answer
normalisation), `stats` (latency percentiles, shared with bench/).
May import: `bot.answering`, `index`.
"""
