"""FAISS index files: chosen by corpus size, written beside the old one and swapped in by rename.

The file for store generation G is `vectors.G.faiss`. A loader that finds no file for the
store's current generation (a crash between the SQLite commit and the rename) rebuilds it
from the vectors kept in SQLite, so the two can never disagree.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import time
from pathlib import Path

import faiss
import numpy as np

log = logging.getLogger(__name__)

_STALE_TMP_S = 3600  # a temp file this old belongs to no live writer, whatever its pid says


def build_faiss(vectors: np.ndarray, flat_max: int, hnsw_m: int, hnsw_ef_search: int) -> faiss.Index:
    """Exact inner product up to `flat_max` vectors; HNSW above, where exact search gets slow."""
    count, dim = vectors.shape
    index: faiss.Index
    if count <= flat_max:
        index = faiss.IndexFlatIP(dim)
    else:
        hnsw = faiss.IndexHNSWFlat(dim, hnsw_m, faiss.METRIC_INNER_PRODUCT)
        hnsw.hnsw.efConstruction = max(40, hnsw_m * 2)
        hnsw.hnsw.efSearch = hnsw_ef_search
        index = hnsw
    if count:
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


def index_path(data_dir: Path, generation: int) -> Path:
    return data_dir / f"vectors.{generation}.faiss"


def write_index_atomically(index: faiss.Index, data_dir: Path, generation: int) -> Path:
    final = index_path(data_dir, generation)
    # A name no other process writing the same folder can be using.
    tmp = final.with_name(f"{final.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    faiss.write_index(index, str(tmp))
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, final)
    dir_fd = os.open(data_dir, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    _remove_older(data_dir, generation)
    return final


def _remove_older(data_dir: Path, generation: int) -> None:
    """Delete files of older generations, and temp files their writer left when it died; never a
    newer generation's file or a temp file a live process may still be writing."""
    for path in data_dir.glob("vectors.*.faiss*"):
        parts = path.name.split(".")
        if path.name.endswith(".tmp"):
            with contextlib.suppress(FileNotFoundError):  # its writer may rename it meanwhile
                if _abandoned(path, parts):
                    path.unlink()
        elif len(parts) == 3 and parts[1].isdigit() and int(parts[1]) < generation:
            path.unlink(missing_ok=True)


def _abandoned(path: Path, parts: list[str]) -> bool:
    """A temp file `vectors.G.faiss.PID.RANDOM.tmp` whose writer is dead (or that is so old that
    the pid may have been reused)."""
    if len(parts) != 6 or not parts[3].isdigit():
        return True  # not a name this version writes: a leftover
    if time.time() - path.stat().st_mtime > _STALE_TMP_S:
        return True
    try:
        os.kill(int(parts[3]), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, another user's
    return False


def read_index(data_dir: Path, generation: int, expected_count: int, dim: int) -> faiss.Index | None:
    """The index file for `generation`, or None when it is missing or does not match the store."""
    path = index_path(data_dir, generation)
    if not path.exists():
        return None
    try:
        index = faiss.read_index(str(path))
    except RuntimeError as exc:
        log.warning("unreadable vector file %s (%s); rebuilding it", path, exc)
        return None
    if index.ntotal != expected_count or (expected_count and index.d != dim):
        log.warning("vector file %s holds %d vectors, the store %d; rebuilding it", path, index.ntotal, expected_count)
        return None
    return index
