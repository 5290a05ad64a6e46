"""/article show: an article's passages one page at a time, so a moderator sees how it was split
and what "passage 8" in a source line is.

The ◀ / ▶ buttons are dynamic items carrying the article and the passage to show
(`passages:<article>:<n>`): stateless, they work after a restart, and a click is checked again
(the article must be one this server can use) — a forged id shows nothing.
"""

from __future__ import annotations

import asyncio
import re

import discord

from bot.discord.format import escape_text
from bot.discord.services import NO_MENTIONS, ScopeError, Services
from index.text import excerpt

PASSAGE_CHARS = 1700  # a page is one passage; the header and escaping stay under 2,000


def passage_page(services: Services, guild_id: int, article_id: str, n: int) -> tuple[str, discord.ui.View]:
    """Passage `n` of an article this server can use, and the buttons to its neighbours.
    Raises ScopeError (a user message) for an article the server cannot see."""
    services.scope_for(guild_id, (), article_id)  # same visibility as /ask article:
    passages = services.library.passages_of([article_id])
    if not passages:
        raise ScopeError(f"`{article_id}` has no passages")
    n = min(max(n, 1), len(passages))
    passage = passages[n - 1]
    title = services.library.titles().get(article_id, article_id)
    text = (
        f"`{article_id}` — **{escape_text(title)}** · passage {passage.n} of {len(passages)}\n"
        f"> {escape_text(excerpt(passage.text, PASSAGE_CHARS))}"
    )
    view = discord.ui.View(timeout=None)
    view.add_item(PageButton(article_id, n - 1, "◀", disabled=n == 1))
    view.add_item(PageButton(article_id, n + 1, "▶", disabled=n == len(passages)))
    return text, view


class PageButton(
    discord.ui.DynamicItem[discord.ui.Button], template=r"passages:(?P<article>[a-z0-9_-]{1,64}):(?P<n>\d{1,6})"
):
    def __init__(self, article_id: str, n: int, label: str = "·", disabled: bool = False):
        super().__init__(
            discord.ui.Button(
                label=label,
                style=discord.ButtonStyle.secondary,
                custom_id=f"passages:{article_id}:{max(n, 0)}",
                disabled=disabled,
            )
        )
        self.article_id = article_id
        self.n = n

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str], /
    ) -> PageButton:
        return cls(match["article"], int(match["n"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        services = getattr(interaction.client, "services", None)
        if not isinstance(services, Services) or interaction.guild_id is None:
            return
        try:
            text, view = await asyncio.to_thread(passage_page, services, interaction.guild_id, self.article_id, self.n)
        except ScopeError as exc:
            await interaction.response.send_message(exc.sentence(), ephemeral=True, allowed_mentions=NO_MENTIONS)
            return
        await interaction.response.edit_message(content=text, view=view, allowed_mentions=NO_MENTIONS)
