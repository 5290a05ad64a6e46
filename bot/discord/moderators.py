"""The moderator gate shared by the /article and /feed groups.

Two gates: `default_permissions(manage_guild)` on each group hides it from members by default,
and `ModeratorGate.interaction_check` refuses anyone without Manage Server or the configured
moderator role, even when a server admin has opened the commands to everyone.
"""

from __future__ import annotations

import logging

import discord
from discord import app_commands

from bot.discord.services import NO_MENTIONS, Services, send_retrying

log = logging.getLogger(__name__)


class NotModerator(app_commands.CheckFailure):
    pass


class ModeratorGate:
    """Mixed into a GroupCog (first in its bases): the check, the error reply, ephemeral replies."""

    services: Services
    what = "manage articles"  # "only moderators … can <what>"

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        member = interaction.user
        role = self.services.discord.moderator_role
        if isinstance(member, discord.Member) and (
            member.guild_permissions.manage_guild or (role and any(r.name == role for r in member.roles))
        ):
            return True
        raise NotModerator(
            "only moderators (Manage Server" + (f" or the {role} role" if role else "") + f") can {self.what}"
        )

    async def cog_app_command_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        if isinstance(error, NotModerator):
            message = f"Sorry, {error}."
        else:
            original = getattr(error, "original", error)
            log.error("moderator command failed", exc_info=original)
            message = "Sorry, that failed unexpectedly; nothing was changed. Please try again."
        await self._reply(interaction, message)

    async def _reply(self, interaction: discord.Interaction, text: str) -> None:
        if interaction.response.is_done():
            await send_retrying(lambda: interaction.edit_original_response(content=text, allowed_mentions=NO_MENTIONS))
        else:
            await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_MENTIONS)
