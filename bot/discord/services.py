"""What the Discord cogs share: the core services, abuse limits, scope rules, mention policy.

Imports the core (index, answering) and discord.py; never the client or the cogs, so cogs and
client import this module and not each other.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import discord
from discord.ext import commands

from bot.answering.pipeline import Answerer
from bot.discord.config import DiscordConfig
from bot.feedback.store import FeedbackStore
from bot.feeds.config import FeedsConfig
from bot.feeds.store import FeedStore
from index.ingest_config import IngestConfig
from index.library import Library

log = logging.getLogger(__name__)
T = TypeVar("T")
NO_MENTIONS = discord.AllowedMentions.none()


_SEND_ATTEMPTS = 4
_MAX_RETRY_WAIT_S = 10.0


async def send_retrying(send: Callable[[], Awaitable[T]]) -> T:
    """`send()`, tried again after the wait Discord asks for when it answers 429: discord.py
    retries rate limits itself, but gives one up (RateLimited, or a 429 HTTPException) when the
    wait is long or the limit is global — and an answer must not be lost to that."""
    for _ in range(_SEND_ATTEMPTS - 1):
        try:
            return await send()
        except discord.RateLimited as exc:
            wait = exc.retry_after
        except discord.HTTPException as exc:
            if exc.status != 429:
                raise
            wait = _retry_after(exc)
        log.warning("Discord rate limit (429); sending again in %.1f s", wait)
        await asyncio.sleep(min(max(wait, 0.5), _MAX_RETRY_WAIT_S))
    return await send()  # the last attempt: its error, if any, is the caller's


def _retry_after(exc: discord.HTTPException) -> float:
    headers = getattr(exc.response, "headers", None) or {}
    try:
        return float(headers.get("Retry-After", 1.0))
    except ValueError:
        return 1.0


class ScopeError(Exception):
    """The article asked for is not one this server can use; the message says so to the user.
    Not a LookupError: a KeyError or IndexError bug must surface as a bug, not as this message."""

    def sentence(self) -> str:
        """The message as the user reads it: a capital first letter (the rest as written: an
        article id keeps its case) and a full stop."""
        text = str(self)
        return f"{text[:1].upper()}{text[1:]}."


def user_cooldown(seconds: float) -> commands.CooldownMapping[int]:
    """One question per `seconds` per user id: discord.py's own bucket map (it also forgets
    stale users). Keyed by the user id so /ask and mentions share one bucket per member."""
    return commands.CooldownMapping(commands.Cooldown(1, seconds), type=lambda user_id: user_id)


@dataclass
class InFlight:
    """Counts questions being answered; `try_enter` refuses above the cap instead of queueing
    (discord.py's max_concurrency queues or raises per command; the cap here spans /ask and mentions)."""

    cap: int
    count: int = 0

    def try_enter(self) -> bool:
        if self.count >= self.cap:
            return False
        self.count += 1
        return True

    def leave(self) -> None:
        self.count = max(0, self.count - 1)


@dataclass
class Services:
    library: Library
    answerer: Answerer
    ingest: IngestConfig
    discord: DiscordConfig
    feedback: FeedbackStore
    feeds: FeedStore
    feed_config: FeedsConfig
    cooldown: commands.CooldownMapping[int] | None = field(init=False)  # None: no cooldown
    in_flight: InFlight = field(init=False)

    def __post_init__(self) -> None:
        self.cooldown = user_cooldown(self.discord.cooldown_s) if self.discord.cooldown_s > 0 else None
        self.in_flight = InFlight(self.discord.max_pending_questions)

    def cooldown_remaining(self, user_id: int) -> float:
        """0 when the user may ask now (and the cooldown starts), else the seconds left."""
        if self.cooldown is None:
            return 0.0
        bucket = self.cooldown.get_bucket(user_id)
        return (bucket.update_rate_limit() or 0.0) if bucket is not None else 0.0

    def scope_for(self, guild_id: int, channel_ids: Sequence[int], article: str | None) -> list[str]:
        """Article ids a question in this guild may use: `article`, else the default of the first of
        `channel_ids` that has one (a thread, then its channel), else all the server's articles.
        Raises ScopeError with a user message."""
        visible = [a.id for a in self.library.articles_for_guild(guild_id, self.discord.global_articles)]
        if article:
            if article not in visible:
                raise ScopeError(f"there is no article `{article}` in this server; `/article list` shows them")
            return [article]
        for channel_id in channel_ids:
            default = self.library.channel_article(channel_id)
            if default in visible:
                return [default]
        if not visible:
            raise ScopeError(
                "no articles have been added in this server yet; a moderator can add one with `/article add`"
            )
        return visible


def actor_name(interaction_or_message: discord.Interaction | discord.Message) -> str:
    """Who changed the index, for the audit log: guild, user id and name."""
    user = (
        interaction_or_message.user
        if isinstance(interaction_or_message, discord.Interaction)
        else interaction_or_message.author
    )
    guild = interaction_or_message.guild
    return f"discord:guild={guild.id if guild else 0}:user={user.id}:{user.name}"
