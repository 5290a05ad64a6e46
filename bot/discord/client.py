"""The discord.py client: a thin front end over the Answerer and the Library.

Everything the bot sends goes out with AllowedMentions.none(); slash commands sync in setup_hook.
"""

from __future__ import annotations

import asyncio
import logging

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord.articles import ArticleCommands, index_link_menu
from bot.discord.ask import AskCog, ask_about_menu
from bot.discord.feedback import FeedbackButton
from bot.discord.feeds import FeedCommands
from bot.discord.passages import PageButton
from bot.discord.services import NO_MENTIONS, Services

log = logging.getLogger(__name__)


class ArticleTree(app_commands.CommandTree):
    async def on_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        # Refused checks were already answered by the cog's error handler; a traceback is noise.
        if isinstance(error, app_commands.CheckFailure):
            log.info(
                "refused /%s for user %s: %s",
                interaction.command.qualified_name if interaction.command else "?",
                interaction.user.id,
                error,
            )
            return
        log.error("slash command failed", exc_info=error)


class ArticleBot(commands.AutoShardedBot):
    def __init__(self, services: Services):
        intents = discord.Intents.default()
        # Reading a mention's text needs the privileged Message Content intent; slash commands do not.
        intents.message_content = services.discord.answer_mentions
        super().__init__(
            command_prefix=lambda bot, message: [],  # no prefix commands: slash commands and mentions only
            intents=intents,
            allowed_mentions=NO_MENTIONS,
            help_command=None,
            tree_cls=ArticleTree,
            # Discord requires shards past 2,500 servers; one process runs many. Several processes
            # on one machine split them with discord.shard_ids (README: Discord, big communities).
            shard_count=services.discord.shard_count or None,
            shard_ids=list(services.discord.shard_ids) or None,
        )
        self.services = services

    async def setup_hook(self) -> None:
        ask = AskCog(self, self.services)
        await self.add_cog(ask)
        self.tree.add_command(ask_about_menu(ask))
        articles = ArticleCommands(self.services)
        await self.add_cog(articles)
        self.tree.add_command(index_link_menu(articles))
        await self.add_cog(FeedCommands(self, self.services))
        # Buttons of messages sent before this process started keep working.
        self.add_dynamic_items(FeedbackButton, PageButton)
        guild_id = self.services.discord.sync_guild_id
        if guild_id:
            guild = discord.Object(id=guild_id)
            self.tree.copy_global_to(guild=guild)
            await self.tree.sync(guild=guild)
        else:
            await self.tree.sync()
        log.info("slash commands synced")

    async def on_ready(self) -> None:
        log.info("logged in as %s (%s) in %d guilds", self.user, self.user.id if self.user else "?", len(self.guilds))


async def run_discord(services: Services, token: str) -> None:
    discord.VoiceClient.warn_nacl = False  # the bot never joins voice
    discord.VoiceClient.warn_dave = False
    bot = ArticleBot(services)
    # Load the models before the first question rather than on it.
    warm = asyncio.create_task(services.answerer.warm(list(services.discord.global_articles) or None))
    try:
        async with bot:
            await bot.start(token)
    finally:
        warm.cancel()
