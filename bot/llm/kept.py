"""Prompt prefixes kept on disk: llama.cpp slot files that outlive a restart of its server.

A warmed article's KV cache is saved (`POST /slots/0?action=save`) under a name derived from the
model and the prompt's first message (the system message that holds the article): a later
request that starts with the same message restores it (`action=restore`, ~10–20 ms for a
1,800-token article against ~26 s to read it again, measured with the default model) instead of
reading the article from scratch — also after the bot and its server restarted. The files are
~29 KB a token (Qwen2.5-1.5B, f16 cache); the least recently used go beyond `max_bytes`.

Only file bookkeeping lives here (pure, synchronous, small); the client does the HTTP.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

SUFFIX = ".kv"


@dataclass(frozen=True)
class KeptPrefixes:
    directory: Path
    max_bytes: int

    def name_for(self, model_id: str, first_message: str) -> str:
        """The file name a prompt beginning with `first_message` is kept under, for this model."""
        digest = hashlib.sha256(f"{model_id}\0{first_message}".encode()).hexdigest()[:32]
        return digest + SUFFIX

    def exists(self, name: str) -> bool:
        return (self.directory / name).is_file()

    def touch(self, name: str) -> None:
        """Mark `name` as just used (eviction keeps the most recently used)."""
        with contextlib.suppress(OSError):  # gone meanwhile: nothing to mark (and nothing created)
            os.utime(self.directory / name)

    def forget(self, name: str) -> None:
        (self.directory / name).unlink(missing_ok=True)

    def evict(self, keep: str) -> list[str]:
        """Delete the least recently used files until the rest fit `max_bytes`; never `keep`.
        Returns the names deleted."""
        files = sorted(
            (p for p in self.directory.glob(f"*{SUFFIX}") if p.is_file()),
            key=lambda p: p.stat().st_mtime,
            reverse=True,
        )
        total, deleted = 0, []
        for path in files:
            size = path.stat().st_size
            if path.name != keep and total + size > self.max_bytes:
                path.unlink(missing_ok=True)
                deleted.append(path.name)
            else:
                total += size
        if deleted:
            log.info("dropped %d kept prompt prefixes (over %d MiB)", len(deleted), self.max_bytes >> 20)
        return deleted
