"""The [feeds] settings."""

from __future__ import annotations

from dataclasses import dataclass

from index.config_errors import require


@dataclass(frozen=True)
class FeedsConfig:
    poll_interval_s: float = 900.0
    max_feeds_per_server: int = 10
    max_items_per_poll: int = 5
    max_item_age_days: float = 7.0
    max_backoff_s: float = 86400.0
    announce: bool = True

    def __post_init__(self) -> None:
        require(60 <= self.poll_interval_s <= 86400, "feeds.poll_interval_s", self.poll_interval_s, "60 to 86400")
        require(
            1 <= self.max_feeds_per_server <= 1000, "feeds.max_feeds_per_server", self.max_feeds_per_server, "1 to 1000"
        )
        require(1 <= self.max_items_per_poll <= 100, "feeds.max_items_per_poll", self.max_items_per_poll, "1 to 100")
        require(0 < self.max_item_age_days <= 3650, "feeds.max_item_age_days", self.max_item_age_days, "0 to 3650")
        require(
            self.poll_interval_s <= self.max_backoff_s <= 7 * 86400,
            "feeds.max_backoff_s",
            self.max_backoff_s,
            "poll_interval_s to 604800",
        )
