"""BM25 keyword scores over passages (bm25s, English stop words, Snowball stemming)."""

from __future__ import annotations

import logging

import bm25s
import numpy as np
import Stemmer

# bm25s sets its own logger to DEBUG on import; keep its messages at our level.
logging.getLogger("bm25s").setLevel(logging.WARNING)

_STEMMER = Stemmer.Stemmer("english")


def _tokenize(texts: list[str]) -> list[list[str]]:
    tokens: list[list[str]] = bm25s.tokenize(
        texts, stopwords="en", stemmer=_STEMMER, return_ids=False, show_progress=False
    )
    return tokens


class KeywordIndex:
    def __init__(self, texts: list[str]):
        self.size = len(texts)
        self._bm25 = bm25s.BM25()
        if texts:
            self._bm25.index(_tokenize(texts), show_progress=False)

    def scores(self, query: str) -> np.ndarray:
        """A BM25 score for every passage, 0 where no query term occurs."""
        if not self.size:
            return np.zeros(0, dtype=np.float32)
        vocab = self._bm25.vocab_dict
        tokens = [t for t in _tokenize([query])[0] if t in vocab]
        if not tokens:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(tokens), dtype=np.float32)
