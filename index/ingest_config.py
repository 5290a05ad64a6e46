"""Limits that apply to everything a moderator feeds in (files, stdin, pasted text, URLs)."""

from __future__ import annotations

from dataclasses import dataclass, field

from index.config_errors import require


@dataclass(frozen=True)
class IngestConfig:
    max_bytes: int = 5_000_000
    max_words: int = 200_000
    url_timeout_s: float = 15.0
    fetch_deadline_s: float = 60.0
    max_redirects: int = 5
    allowed_hosts: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        require(self.max_bytes > 0, "ingest.max_bytes", self.max_bytes, "an integer > 0")
        require(self.max_words > 0, "ingest.max_words", self.max_words, "an integer > 0")
        require(self.url_timeout_s > 0, "ingest.url_timeout_s", self.url_timeout_s, "a number > 0")
        require(self.fetch_deadline_s > 0, "ingest.fetch_deadline_s", self.fetch_deadline_s, "a number > 0")
        require(0 <= self.max_redirects <= 20, "ingest.max_redirects", self.max_redirects, "0 to 20")
