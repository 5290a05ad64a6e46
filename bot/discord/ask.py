"""/ask and mention → thread → follow-ups."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
from collections import OrderedDict
from collections.abc import Callable

import discord
from discord import app_commands
from discord.ext import commands

from bot.answering.pipeline import Answer, OnSentence, QuestionError, Turn
from bot.discord.feedback import view_for
from bot.discord.format import announced_article, escape_answer, format_answer
from bot.discord.live import LiveReply, OriginalResponse, poster
from bot.discord.services import NO_MENTIONS, ScopeError, Services, actor_name

log = logging.getLogger(__name__)

THREAD_NAME_CHARS = 90
MAX_TURNS_KEPT = 6
SORRY = "Sorry, something went wrong while answering. Please try again in a moment."
# Threads whose follow-ups are remembered (each keeps MAX_TURNS_KEPT short turns): bounded memory.
MAX_CONVERSATIONS = 1000
BUSY = "I'm answering other questions right now; please ask again in a minute."


def ask_about_menu(cog: AskCog) -> app_commands.ContextMenu:
    """The message context menu "Ask about this article" (everyone), bound to the ask cog."""
    menu = app_commands.ContextMenu(name="Ask about this article", callback=cog.ask_about)
    menu.guild_only = True
    return menu


class AskCog(commands.Cog):
    def __init__(self, bot: commands.Bot, services: Services):
        self.bot = bot
        self.services = services
        # thread id → turns, for follow-ups; the least recently used threads are forgotten first.
        self.conversations: OrderedDict[int, list[Turn]] = OrderedDict()
        # Discord enforces the question's cap in the client. The cap is configuration, so it is set
        # on this instance's copy of the command: discord.py has no public setter, and a string
        # option's max_value is sent as its max_length.
        params = self.ask._params
        params["question"] = dataclasses.replace(
            params["question"], min_value=1, max_value=services.answerer.config.max_question_chars
        )

    def _remember(self, thread_id: int, turns: list[Turn]) -> None:
        self.conversations[thread_id] = turns
        self.conversations.move_to_end(thread_id)
        while len(self.conversations) > MAX_CONVERSATIONS:
            self.conversations.popitem(last=False)

    # -- shared gatekeeping --------------------------------------------------------------------

    async def _gatekeep(
        self, user_id: int, question: str, resolve_scope: Callable[[], list[str]]
    ) -> tuple[list[str], str | None]:
        """(scope, None) to go ahead, or ([], a message saying why not). The cooldown starts
        only for a question that will be answered."""
        try:
            self.services.answerer.check_question(question)
            scope = await asyncio.to_thread(resolve_scope)  # reads the store: off the event loop
        except QuestionError as exc:
            return [], f"Sorry, {exc}."
        except ScopeError as exc:
            return [], exc.sentence()
        wait = self.services.cooldown_remaining(user_id)
        if wait > 0:
            return [], f"Please wait {wait:.0f} s before asking again."
        return scope, None

    async def _answer(
        self, question: str, scope: list[str], history: list[Turn], on_sentence: OnSentence
    ) -> Answer | None:
        """The answer, or None when too many questions are already being answered."""
        if not self.services.in_flight.try_enter():
            return None
        try:
            return await self.services.answerer.answer(question, scope, history, on_sentence=on_sentence)
        finally:
            self.services.in_flight.leave()

    async def _reply(
        self, question: str, scope: list[str], history: list[Turn], live: LiveReply
    ) -> tuple[str, Answer | None]:
        """The whole text to show, and the answer when there is one (never an exception).
        Checked sentences are shown on `live` as they settle, before the sources exist."""
        try:
            answer = await self._answer(question, scope, history, lambda text: live.show(escape_answer(text)))
        except Exception:
            log.exception("answering %r failed", question)
            return SORRY, None
        return (format_answer(answer), answer) if answer else (BUSY, None)

    async def _votes(
        self, answer: Answer | None, guild_id: int, channel_id: int, scope: list[str]
    ) -> discord.ui.View | None:
        """👍 / 👎 for an answer (a refusal too: a wrong "the article doesn't say" is worth a vote);
        none for the busy and error messages."""
        return await view_for(self.services.feedback, answer, guild_id, channel_id, scope) if answer else None

    # -- /ask -------------------------------------------------------------------------------

    @app_commands.command(name="ask", description="Ask a question about this server's articles")
    @app_commands.describe(question="What do you want to know?", article="Only this article (id from /article list)")
    @app_commands.guild_only()
    async def ask(self, interaction: discord.Interaction, question: str, article: str | None = None) -> None:
        guild_id = interaction.guild_id or 0
        scope, problem = await self._gatekeep(
            interaction.user.id,
            question,
            lambda: self.services.scope_for(guild_id, _channel_ids(interaction.channel), article),
        )
        if problem is not None:
            await interaction.response.send_message(problem, ephemeral=True, allowed_mentions=NO_MENTIONS)
            return
        try:
            await interaction.response.defer(thinking=True)
        except discord.NotFound:  # the 3 s window passed (e.g. the event loop was stalled): nothing can be sent
            log.warning("interaction %s expired before it could be deferred", interaction.id)
            return
        live = LiveReply(poster(interaction.followup.send, wait=True), first=OriginalResponse(interaction))
        text, answer = await self._reply(question, scope, [], live)
        view = await self._votes(answer, guild_id, interaction.channel_id or 0, scope)
        try:
            await live.finish(text, view)
        except discord.HTTPException as exc:
            log.warning("could not send the answer to interaction %s: %s", interaction.id, exc)

    @ask.autocomplete("article")
    async def _article_choices(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        if interaction.guild is None:
            return []
        articles = await asyncio.to_thread(
            self.services.library.articles_for_guild, interaction.guild.id, self.services.discord.global_articles
        )
        current = current.lower()
        return [
            app_commands.Choice(name=f"{a.id} — {a.title}"[:100], value=a.id)
            for a in articles
            if current in a.id or current in a.title.lower()
        ][:25]

    # -- "Ask about this article" on a feed announcement -----------------------------------

    async def ask_about(self, interaction: discord.Interaction, message: discord.Message) -> None:
        """A thread on the bot's "Indexed:" message whose questions are answered from that article."""
        me = self.bot.user
        article_id = announced_article(message.content) if me and message.author.id == me.id else None
        if article_id is None or interaction.guild_id is None:
            await interaction.response.send_message(
                "Use this on one of my “Indexed:” messages; for other questions, `/ask`.",
                ephemeral=True,
                allowed_mentions=NO_MENTIONS,
            )
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        guild_id = interaction.guild_id
        try:
            await asyncio.to_thread(self.services.scope_for, guild_id, (), article_id)
            thread = message.thread or await message.create_thread(
                name=f"Questions: {self.services.library.titles().get(article_id, article_id)}"[:THREAD_NAME_CHARS]
            )
            await asyncio.to_thread(
                self.services.library.set_channel_article, thread.id, guild_id, article_id, actor_name(interaction)
            )
        except ScopeError as exc:
            text = exc.sentence()
        except discord.Forbidden:
            text = "I may not create threads here; ask with `/ask` and `article:` instead."
        else:
            text = f"Ask in {thread.mention}: questions there are answered from `{article_id}`."
        await interaction.edit_original_response(content=text, allowed_mentions=NO_MENTIONS)

    # -- mentions and threads -----------------------------------------------------------------

    def _question_from_mention(self, message: discord.Message) -> str:
        assert self.bot.user is not None
        return re.sub(rf"<@!?{self.bot.user.id}>", "", message.content).strip()

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        if message.author.bot or message.guild is None or self.bot.user is None:
            return
        channel = message.channel
        in_our_thread = isinstance(channel, discord.Thread) and channel.owner_id == self.bot.user.id
        mentioned = self.services.discord.answer_mentions and self.bot.user in message.mentions
        question = self._question_from_mention(message) if in_our_thread or mentioned else ""
        if not question:
            return
        guild_id = message.guild.id
        scope, problem = await self._gatekeep(
            message.author.id, question, lambda: self.services.scope_for(guild_id, _channel_ids(channel), None)
        )
        try:
            if problem is not None:
                await message.reply(problem, allowed_mentions=NO_MENTIONS, mention_author=False)
                return
            target: discord.abc.Messageable = channel
            if not in_our_thread:
                try:
                    target = await message.create_thread(name=question[:THREAD_NAME_CHARS] or "question")
                except discord.Forbidden:
                    log.warning("no permission to create threads in channel %s; answering in the channel", channel.id)
            history = self.conversations.get(target.id, []) if isinstance(target, discord.Thread) else []
            live = LiveReply(poster(target.send))
            async with target.typing():
                text, answer = await self._reply(question, scope, history, live)
            if isinstance(target, discord.Thread) and answer is not None:
                self._remember(target.id, (history + [Turn(question, answer.text)])[-MAX_TURNS_KEPT:])
            view = await self._votes(answer, guild_id, target.id, scope)
            await live.finish(text, view)
        except discord.Forbidden:
            log.warning("missing permissions to answer in channel %s of guild %s", channel.id, message.guild.id)
        except discord.HTTPException as exc:
            log.warning("could not answer a mention: %s", exc)


def _channel_ids(channel: discord.abc.Snowflake | None) -> list[int]:
    """Where a question's default article is looked up: a thread's own, then its channel's."""
    if isinstance(channel, discord.Thread):
        return [channel.id, channel.parent_id]
    return [channel.id] if channel is not None else []
