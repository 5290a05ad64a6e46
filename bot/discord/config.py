"""Settings for the Discord front end. The token itself comes from the env var `token_env`."""

from __future__ import annotations

from dataclasses import dataclass, field

from index.config_errors import require


@dataclass(frozen=True)
class DiscordConfig:
    token_env: str = "DISCORD_TOKEN"
    moderator_role: str = ""
    global_articles: tuple[str, ...] = field(default_factory=lambda: ("sample",))
    cooldown_s: float = 10.0
    max_pending_questions: int = 4
    max_attachment_bytes: int = 2_000_000
    answer_mentions: bool = True
    sync_guild_id: int = 0
    shard_count: int = 0
    shard_ids: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        require(bool(self.token_env), "discord.token_env", self.token_env, "the name of an environment variable")
        require(0 <= self.cooldown_s <= 3600, "discord.cooldown_s", self.cooldown_s, "0 to 3600 seconds")
        require(
            1 <= self.max_pending_questions <= 100,
            "discord.max_pending_questions",
            self.max_pending_questions,
            "1 to 100",
        )
        require(
            1 <= self.max_attachment_bytes <= 25_000_000,
            "discord.max_attachment_bytes",
            self.max_attachment_bytes,
            "1 to 25000000",
        )
        require(self.sync_guild_id >= 0, "discord.sync_guild_id", self.sync_guild_id, "0 (global) or a guild id")
        require(
            0 <= self.shard_count <= 10_000, "discord.shard_count", self.shard_count, "0 (Discord decides) to 10000"
        )
        require(
            not self.shard_ids or (self.shard_count > 0 and all(0 <= i < self.shard_count for i in self.shard_ids)),
            "discord.shard_ids",
            self.shard_ids,
            "empty (all shards), or ids below discord.shard_count",
        )
