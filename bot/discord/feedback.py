"""👍 / 👎 under every answer: persistent buttons that keep working after a restart.

The buttons are discord.py dynamic items: the answer id and the vote travel in the custom id
(`feedback:up:<id>`), so any bot process rebuilds the button from a click without having kept
a view in memory. The vote goes to the FeedbackStore, which refuses an id from another server.
"""

from __future__ import annotations

import asyncio
import logging
import re

import discord

from bot.answering.pipeline import Answer
from bot.discord.services import NO_MENTIONS, Services
from bot.feedback.store import ANSWER_ID_CHARS, FeedbackStore

log = logging.getLogger(__name__)

UP, DOWN = "👍", "👎"


class FeedbackButton(
    discord.ui.DynamicItem[discord.ui.Button],
    template=rf"feedback:(?P<vote>up|down):(?P<id>[0-9a-f]{{{ANSWER_ID_CHARS}}})",
):
    def __init__(self, up: bool, answer_id: str):
        super().__init__(
            discord.ui.Button(
                emoji=UP if up else DOWN,
                style=discord.ButtonStyle.secondary,
                custom_id=f"feedback:{'up' if up else 'down'}:{answer_id}",
            )
        )
        self.up = up
        self.answer_id = answer_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str], /
    ) -> FeedbackButton:
        return cls(match["vote"] == "up", match["id"])

    async def callback(self, interaction: discord.Interaction) -> None:
        services = getattr(interaction.client, "services", None)
        if not isinstance(services, Services) or interaction.guild_id is None:
            return
        try:
            tally = await asyncio.to_thread(
                services.feedback.vote, self.answer_id, interaction.guild_id, interaction.user.id, self.up
            )
        except Exception:
            log.exception("could not record a vote on answer %s", self.answer_id)
            text = "Sorry, your vote could not be recorded; please try again in a moment."
        else:
            text = (
                "This answer is not on record here, so the vote was not counted."
                if tally is None
                else f"Thanks: your {UP if self.up else DOWN} is recorded (click the other button to change it)."
            )
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_MENTIONS)


def feedback_view(answer_id: str) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(FeedbackButton(True, answer_id))
    view.add_item(FeedbackButton(False, answer_id))
    return view


async def view_for(
    store: FeedbackStore, answer: Answer, guild_id: int, channel_id: int, scope: list[str]
) -> discord.ui.View | None:
    """Vote buttons for an answer about to be shown (it is recorded first); None, and the answer
    goes out without buttons, when it cannot be recorded."""
    try:
        answer_id = await asyncio.to_thread(store.record, answer, guild_id, channel_id, scope)
    except Exception:
        log.exception("could not record an answer for feedback")
        return None
    return feedback_view(answer_id)
