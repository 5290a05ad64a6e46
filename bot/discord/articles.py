"""/article add|remove|list|reindex|use — moderators manage this server's articles (behind the
moderator gate of `moderators`)."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from pathlib import PurePath

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord.feedback import DOWN, UP
from bot.discord.format import escape_text
from bot.discord.moderators import ModeratorGate, NotModerator
from bot.discord.passages import passage_page
from bot.discord.services import NO_MENTIONS, ScopeError, Services, actor_name
from index.errors import DuplicateError, IngestError, NotFoundError
from index.ingest import document_from_bytes, document_from_text, read_url
from index.models import Article, Document
from index.text import counted

log = logging.getLogger(__name__)

FILE_TYPES = (".txt", ".md", ".markdown", ".html", ".htm")
USER_ERRORS = (IngestError, DuplicateError, NotFoundError, ScopeError)


def _describe(article: Article, global_ids: tuple[str, ...]) -> str:
    scope = " (global)" if article.guild_id is None and article.id in global_ids else ""
    link = f" <{article.source_url}>" if article.source_url else ""
    return f"`{article.id}` — {escape_text(article.title)} ({counted(article.passage_count, 'passage')}){scope}{link}"


_LINK = re.compile(r"https?://[^\s<>|)\]]+")


def index_link_menu(cog: ArticleCommands) -> app_commands.ContextMenu:
    """The message context menu "Index this link" (moderators), bound to the /article cog."""
    menu = app_commands.ContextMenu(name="Index this link", callback=cog.index_link)
    menu.default_permissions = discord.Permissions(manage_guild=True)
    menu.guild_only = True
    return menu


@app_commands.default_permissions(manage_guild=True)
@app_commands.guild_only()
class ArticleCommands(
    ModeratorGate,
    commands.GroupCog,
    group_name="article",
    group_description="Manage this server's articles (moderators)",
):
    def __init__(self, services: Services):
        self.services = services
        super().__init__()

    def _own_article(self, interaction: discord.Interaction, article_id: str) -> Article:
        """An article this guild added (global ones are managed from the command line)."""
        article = self.services.library.get_article(article_id)
        if article.guild_id != interaction.guild_id:
            raise ScopeError(f"there is no article `{article_id}` added in this server")
        return article

    def _targets(self, interaction: discord.Interaction, article_id: str | None) -> list[Article]:
        """The article `article_id` of this guild, or all of this guild's articles."""
        if article_id:
            return [self._own_article(interaction, article_id)]
        return [a for a in self.services.library.list_articles() if a.guild_id == interaction.guild_id]

    async def _document(self, url: str | None, file: discord.Attachment | None, text: str | None) -> Document:
        given = [x for x in (url, file, text) if x]
        if len(given) != 1:
            raise IngestError("give exactly one of url:, file: or text:")
        ingest = self.services.ingest
        if url:
            return await asyncio.to_thread(read_url, url, ingest)
        if file:
            suffix = PurePath(file.filename).suffix.lower()
            if suffix not in FILE_TYPES:
                raise IngestError(f"{file.filename} is not a {', '.join(FILE_TYPES)} file")
            limit = self.services.discord.max_attachment_bytes
            if file.size > limit:
                raise IngestError(f"{file.filename} is {file.size:,} bytes; the limit is {limit:,}")
            data = await file.read()
            return await asyncio.to_thread(document_from_bytes, data, ingest, what=file.filename, name=file.filename)
        return await asyncio.to_thread(document_from_text, text or "", ingest, what="the pasted text")

    @app_commands.command(name="add", description="Add an article from a URL, a file or pasted text")
    @app_commands.describe(
        url="http(s) link to the article",
        file="a .txt, .md or .html file",
        text="the article text",
        title="title to show (default: the page's)",
        id="short id (default: from the title)",
    )
    async def add(
        self,
        interaction: discord.Interaction,
        url: str | None = None,
        file: discord.Attachment | None = None,
        text: str | None = None,
        title: str | None = None,
        id: str | None = None,
    ) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        await self._add(interaction, lambda: self._document(url, file, text), title, id)

    async def _add(
        self,
        interaction: discord.Interaction,
        read: Callable[[], Awaitable[Document]],
        title: str | None = None,
        article_id: str | None = None,
    ) -> None:
        """Read, index and report an article for this server (the interaction is deferred)."""
        try:
            document = await read()
            await interaction.edit_original_response(content=f"Indexing {len(document.text.split()):,} words…")
            article = await asyncio.to_thread(
                self.services.library.add,
                document,
                article_id=article_id,
                actor=actor_name(interaction),
                guild_id=interaction.guild_id,
                title=title,
            )
        except USER_ERRORS as exc:
            await self._reply(interaction, f"Could not add the article: {exc}. Nothing was changed.")
            return
        log.info("added article %s for guild %s", article.id, interaction.guild_id)
        await self._reply(interaction, f"Added {_describe(article, self.services.discord.global_articles)}.")
        self.services.answerer.warm_in_background([article.id])

    async def index_link(self, interaction: discord.Interaction, message: discord.Message) -> None:
        """The message menu "Index this link": the first http(s) link of a message, as /article add url: would."""
        try:
            await self.interaction_check(interaction)  # a context menu is outside the group's gate
        except NotModerator as exc:
            await self._reply(interaction, f"Sorry, {exc}.")
            return
        link = _LINK.search(message.content)
        if link is None:
            await self._reply(interaction, "That message has no http(s) link to index.")
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        await self._add(interaction, lambda: asyncio.to_thread(read_url, link.group(), self.services.ingest))

    @app_commands.command(name="remove", description="Remove an article and its passages")
    @app_commands.describe(id="the article's id (from /article list)")
    async def remove(self, interaction: discord.Interaction, id: str) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)  # a large index takes a while
        try:
            self._own_article(interaction, id)
            article = await asyncio.to_thread(self.services.library.remove, id, actor_name(interaction))
        except USER_ERRORS as exc:
            await self._reply(interaction, f"Could not remove it: {exc}.")
            return
        await self._reply(interaction, f"Removed `{article.id}` — {escape_text(article.title)}.")

    @app_commands.command(name="list", description="List the articles questions here are answered from")
    async def list_articles(self, interaction: discord.Interaction) -> None:
        assert interaction.guild_id is not None
        articles = await asyncio.to_thread(
            self.services.library.articles_for_guild, interaction.guild_id, self.services.discord.global_articles
        )
        default = self.services.library.channel_article(interaction.channel_id or 0)
        votes = await asyncio.to_thread(self.services.feedback.tallies_by_article, interaction.guild_id)
        lines = [
            _describe(a, self.services.discord.global_articles)
            + (f" · {UP} {votes[a.id].up} {DOWN} {votes[a.id].down}" if a.id in votes else "")
            + (" ← this channel's default" if a.id == default else "")
            for a in articles
        ]
        await self._reply(
            interaction, "\n".join(lines)[:1900] if lines else "No articles yet: add one with `/article add`."
        )

    @app_commands.command(name="show", description="Page through an article's passages, numbered as sources cite them")
    @app_commands.describe(id="the article's id (from /article list)", passage="the passage to start at (default 1)")
    async def show(self, interaction: discord.Interaction, id: str, passage: app_commands.Range[int, 1] = 1) -> None:
        assert interaction.guild_id is not None
        try:
            text, view = await asyncio.to_thread(passage_page, self.services, interaction.guild_id, id, passage)
        except ScopeError as exc:
            await self._reply(interaction, exc.sentence())
            return
        await interaction.response.send_message(text, view=view, ephemeral=True, allowed_mentions=NO_MENTIONS)

    @app_commands.command(
        name="reindex", description="Fetch and split an article again (all of this server's when no id)"
    )
    @app_commands.describe(id="the article's id (from /article list); all of this server's when empty")
    async def reindex(self, interaction: discord.Interaction, id: str | None = None) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        done: list[Article] = []
        try:
            targets = await asyncio.to_thread(self._targets, interaction, id)
            for n, article in enumerate(targets, start=1):
                await interaction.edit_original_response(content=f"Re-indexing {n}/{len(targets)}: `{article.id}`…")
                document = (
                    await asyncio.to_thread(read_url, article.source_url, self.services.ingest)
                    if article.source_url
                    else None
                )
                done.append(
                    await asyncio.to_thread(
                        self.services.library.reindex, article.id, actor_name(interaction), document
                    )
                )
        except USER_ERRORS as exc:
            await self._reply(interaction, f"Could not re-index: {exc}. Articles not yet re-indexed are unchanged.")
            return
        finally:
            self.services.answerer.warm_in_background([a.id for a in done])  # new text, new prefix
        await self._reply(
            interaction,
            f"Re-indexed {len(done)} article(s): "
            + ", ".join(f"`{a.id}` ({counted(a.passage_count, 'passage')})" for a in done)
            if done
            else "This server has no articles of its own to re-index.",
        )

    @app_commands.command(name="use", description="Make an article this channel's default for /ask and mentions")
    @app_commands.describe(id="the article's id (from /article list)")
    async def use(self, interaction: discord.Interaction, id: str) -> None:
        assert interaction.guild_id is not None and interaction.channel_id is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            scope = await asyncio.to_thread(self.services.scope_for, interaction.guild_id, (), id)
            await asyncio.to_thread(
                self.services.library.set_channel_article,
                interaction.channel_id,
                interaction.guild_id,
                scope[0],
                actor_name(interaction),
            )
        except USER_ERRORS as exc:
            await self._reply(interaction, f"Could not set it: {exc}.")
            return
        await self._reply(interaction, f"Questions in this channel now use `{id}` by default.")
