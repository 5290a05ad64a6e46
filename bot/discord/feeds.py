"""/feed add|list|remove — moderators subscribe a server to news feeds; the bot polls them.

A background loop looks for due feeds every minute (each feed is polled every
`feeds.poll_interval_s`, failing ones with a back-off), indexes new items for the feed's server
and, when the feed names a channel, says "Indexed: <title>" there. Feeds added from the command
line (no server) are polled by `articlebot feed poll`, not here.
"""

from __future__ import annotations

import asyncio
import logging
import time

import discord
from discord import app_commands
from discord.ext import commands, tasks

from bot.discord.format import indexed_announcement
from bot.discord.moderators import ModeratorGate
from bot.discord.services import NO_MENTIONS, Services, actor_name, send_retrying
from bot.feeds.poll import PollResult, check_feed, poll_feed
from bot.feeds.store import Feed, FeedError
from index.errors import IngestError
from index.text import counted

log = logging.getLogger(__name__)

DUE_CHECK_S = 60.0


def _describe(feed: Feed, now: float) -> str:
    where = f" → <#{feed.channel_id}>" if feed.channel_id else ""
    state = (
        f" · failing ({feed.failures}×: {feed.last_error}); next try in {max(0, feed.next_poll - now) / 60:.0f} min"
        if feed.failures
        else ""
    )
    return f"`{feed.id}` <{feed.url}>{where}{state}"


@app_commands.default_permissions(manage_guild=True)
@app_commands.guild_only()
class FeedCommands(
    ModeratorGate,
    commands.GroupCog,
    group_name="feed",
    group_description="News feeds whose new articles are added here (moderators)",
):
    what = "manage feeds"

    def __init__(self, bot: commands.Bot, services: Services):
        self.bot = bot
        self.services = services
        self._polling = asyncio.Lock()  # the loop and a direct call never poll the same feed twice
        super().__init__()

    async def cog_load(self) -> None:
        self.poll_loop.start()

    async def cog_unload(self) -> None:
        self.poll_loop.cancel()

    @tasks.loop(seconds=DUE_CHECK_S)
    async def poll_loop(self) -> None:
        try:
            await self.poll_due()
        except Exception:  # a bad poll must not end the loop for every other feed
            log.exception("polling feeds failed")

    @poll_loop.before_loop
    async def _ready(self) -> None:
        await self.bot.wait_until_ready()

    async def poll_due(self) -> list[PollResult]:
        """Poll every due feed of the servers this process serves; announce what was indexed."""
        async with self._polling:
            due = await asyncio.to_thread(self.services.feeds.due, time.time())
            results = []
            for feed in due:
                if feed.guild_id is None or self.bot.get_guild(feed.guild_id) is None:
                    continue  # a command-line feed, or another shard's server
                result = await asyncio.to_thread(
                    poll_feed,
                    feed,
                    self.services.feeds,
                    self.services.library,
                    self.services.ingest,
                    self.services.feed_config,
                    time.time(),
                )
                results.append(result)
                if result.indexed:
                    self.services.answerer.warm_in_background([a.id for a in result.indexed])
                    await self._announce(feed, result)
            return results

    async def _announce(self, feed: Feed, result: PollResult) -> None:
        if not self.services.feed_config.announce or feed.channel_id is None:
            return
        channel = self.bot.get_channel(feed.channel_id)
        if not isinstance(channel, discord.abc.Messageable):
            return
        for article in result.indexed:
            text = indexed_announcement(article.title, article.id)
            try:
                await send_retrying(lambda text=text: channel.send(text, allowed_mentions=NO_MENTIONS))
            except discord.HTTPException as exc:
                log.warning("could not announce in channel %s: %s", feed.channel_id, exc)
                return

    @app_commands.command(name="add", description="Subscribe this server to an RSS or Atom feed")
    @app_commands.describe(
        url="the feed's http(s) address", channel="where to say when a new article is indexed (optional)"
    )
    async def add(self, interaction: discord.Interaction, url: str, channel: discord.TextChannel | None = None) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        config = self.services.feed_config
        try:
            items = await asyncio.to_thread(check_feed, url, self.services.ingest)
            feed = await asyncio.to_thread(
                self.services.feeds.add,
                url,
                interaction.guild_id,
                channel.id if channel else None,
                actor_name(interaction),
                config.max_feeds_per_server,
            )
        except (IngestError, FeedError) as exc:
            await self._reply(interaction, f"Could not add the feed: {exc}. Nothing was changed.")
            return
        await self._reply(
            interaction,
            f"Added feed {_describe(feed, time.time())} ({counted(len(items), 'item')} now). Items from the last "
            f"{config.max_item_age_days:g} days are indexed within a minute, then new ones every "
            f"{config.poll_interval_s / 60:g} min.",
        )

    @app_commands.command(name="list", description="List this server's feeds")
    async def list_feeds(self, interaction: discord.Interaction) -> None:
        feeds = await asyncio.to_thread(self.services.feeds.feeds, interaction.guild_id)
        now = time.time()
        lines = [_describe(f, now) for f in feeds]
        await self._reply(interaction, "\n".join(lines)[:1900] if lines else "No feeds yet: add one with `/feed add`.")

    @app_commands.command(name="remove", description="Unsubscribe from a feed (its articles stay)")
    @app_commands.describe(id="the feed's number (from /feed list)")
    async def remove(self, interaction: discord.Interaction, id: int) -> None:
        try:
            feed = await asyncio.to_thread(self.services.feeds.remove, id, interaction.guild_id)
        except FeedError as exc:
            await self._reply(interaction, f"Could not remove it: {exc}.")
            return
        await self._reply(interaction, f"Removed feed `{feed.id}` <{feed.url}>; its articles stay.")
