"""Child process for the SIGKILL test: re-indexes articles in a loop until it is killed.

A deterministic hash embedder stands in for the model so the child starts in a fraction of a
second; everything else (SQLite, FAISS files, atomic swaps) is the real code.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import numpy as np

from index.chunk import ChunkingConfig
from index.library import Library
from index.models import Document
from index.search import SearchConfig


class HashEmbedder:
    model_id = "hash-64"
    dimension = 64

    def embed_passages(self, texts, progress=False):
        rows = [
            np.frombuffer(hashlib.sha512(t.encode()).digest(), dtype=np.uint8)[:64].astype(np.float32) for t in texts
        ]
        matrix = np.vstack(rows) if rows else np.zeros((0, 64), np.float32)
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        return matrix / np.where(norms == 0, 1, norms)

    def embed_query(self, text):
        return self.embed_passages([text])[0]


def article(i: int, round_: int) -> Document:
    sentences = [f"Article {i} round {round_} sentence {j} says something about topic {j % 7}." for j in range(60)]
    return Document(text="\n\n".join(" ".join(sentences[k : k + 6]) for k in range(0, 60, 6)), title=f"Article {i}")


def open_library(data_dir: Path) -> Library:
    return Library(data_dir, ChunkingConfig(min_words=10, max_words=40), SearchConfig(), HashEmbedder())


def main() -> None:
    library = open_library(Path(sys.argv[1]))
    for i in range(3):
        if f"a{i}" not in library.store.article_ids():
            library.add(article(i, 0), article_id=f"a{i}")
    print("ready", flush=True)
    round_ = 1
    while True:
        for i in range(3):
            library.reindex(f"a{i}", document=article(i, round_))
        round_ += 1


if __name__ == "__main__":
    main()
