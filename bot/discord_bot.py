"""The discord.py client: a thin front end over the Answerer and the Library.

Everything the bot sends goes out with AllowedMentions.none(); slash commands sync in setup_hook.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import discord
from discord import app_commands
from discord.ext import commands

from bot.answer import Answerer
from bot.discord_config import DiscordConfig
from bot.limits import Cooldown, InFlight
from index.ingest_config import IngestConfig
from index.library import Library

log = logging.getLogger(__name__)

NO_MENTIONS = discord.AllowedMentions.none()


@dataclass
class Services:
    library: Library
    answerer: Answerer
    ingest: IngestConfig
    discord: DiscordConfig


def actor_name(interaction_or_message: discord.Interaction | discord.Message) -> str:
    """Who changed the index, for the audit log: guild, user id and name."""
    user = interaction_or_message.user if isinstance(interaction_or_message, discord.Interaction) else interaction_or_message.author
    guild = interaction_or_message.guild
    return f"discord:guild={guild.id if guild else 0}:user={user.id}:{user.name}"


class ArticleTree(app_commands.CommandTree):
    async def on_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        # Refused checks were already answered by the cog's error handler; a traceback is noise.
        if isinstance(error, app_commands.CheckFailure):
            log.info("refused /%s for user %s: %s", interaction.command.qualified_name if interaction.command else "?",
                     interaction.user.id, error)
            return
        log.error("slash command failed", exc_info=error)


class ArticleBot(commands.Bot):
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
        )
        self.services = services
        self.cooldown = Cooldown(services.discord.cooldown_s)
        self.in_flight = InFlight(services.discord.max_pending_questions)

    def scope_for(self, guild_id: int, channel_id: int | None, article: str | None) -> list[str]:
        """Article ids a question in this guild/channel may use; raises LookupError with a user message."""
        visible = [a.id for a in self.services.library.articles_for_guild(guild_id, self.services.discord.global_articles)]
        if article:
            if article not in visible:
                raise LookupError(f"there is no article `{article}` in this server; `/article list` shows them")
            return [article]
        if channel_id is not None:
            default = self.services.library.store.channel_article(channel_id)
            if default in visible:
                return [default]
        if not visible:
            raise LookupError("no articles have been added in this server yet; a moderator can add one with `/article add`")
        return visible

    async def setup_hook(self) -> None:
        from bot.discord_articles import ArticleCommands
        from bot.discord_ask import AskCog

        await self.add_cog(AskCog(self))
        await self.add_cog(ArticleCommands(self))
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
