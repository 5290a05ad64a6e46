"""A reply that grows as the answer settles: the same messages edited, never a retraction.

The answering pipeline hands over text only once it is checked (`OnSentence`), so everything a
`LiveReply` shows stays; `finish` adds the rest (sources, vote buttons). Edits of one reply are at
least `interval_s` apart (Discord's rate limits; a reader cannot follow faster) and a part that
arrives meanwhile is folded into the next edit. A 429 is waited out and the edit sent again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import discord

from bot.discord.format import split_message
from bot.discord.services import NO_MENTIONS, send_retrying

log = logging.getLogger(__name__)


class Editable(Protocol):
    """A message already on Discord (a followup, a channel message, the deferred response)."""

    async def edit(self, *, content: str = ..., view: discord.ui.View | None = ...) -> Any: ...


# Posts a new message (content, view or None) and returns it, so it can be edited later.
PostMessage = Callable[[str, discord.ui.View | None], Awaitable[Editable]]


@dataclass
class OriginalResponse:
    """The deferred ("thinking…") response of an interaction, as an `Editable`."""

    interaction: discord.Interaction

    async def edit(self, *, content: str = "", view: discord.ui.View | None = None) -> Any:
        return await self.interaction.edit_original_response(content=content, view=view, allowed_mentions=NO_MENTIONS)


def poster(send: Callable[..., Awaitable[Editable]], **fixed: Any) -> PostMessage:
    """A `PostMessage` over a send method (`channel.send`, or `interaction.followup.send` with
    `wait=True` so that it returns the message): mentions off, no link previews."""

    async def post(content: str, view: discord.ui.View | None) -> Editable:
        extra = {"view": view} if view is not None else {}
        return await send(content, allowed_mentions=NO_MENTIONS, suppress_embeds=True, **fixed, **extra)

    return post


@dataclass
class LiveReply:
    """One answer on Discord, in as many messages as its text needs (2,000 characters each).

    `post` makes a new message; `first`, when given, is a message already there to fill first
    (the deferred response). Call `show` with the settled text so far, then `finish` once.
    """

    post: PostMessage
    first: Editable | None = None
    interval_s: float = 1.0
    # A part is held this long before it is shown, so that a final text right behind it goes
    # out in the same edit instead of a second edit a full interval later.
    settle_s: float = 0.15
    edits: int = 0  # messages posted or edited so far (for logs and tests)
    _messages: list[Editable] = field(default_factory=list)
    _shown: list[tuple[str, bool]] = field(default_factory=list)  # (content, has view) per message
    _latest: str = ""
    _view: discord.ui.View | None = None
    _final: bool = False
    _applied: tuple[str, bool] | None = None  # the text last put on Discord, and whether it was final
    _last_edit: float = float("-inf")
    _pending: asyncio.Task[None] | None = None
    _sleeping: bool = False  # the pending edit is still waiting (it may be cancelled safely)

    def __post_init__(self) -> None:
        if self.first is not None:
            self._messages.append(self.first)
            self._shown.append(("", False))

    def show(self, text: str) -> None:
        """Show `text` (all of the answer settled so far) soon; never blocks."""
        if self._final:
            raise RuntimeError("the reply is already finished")
        self._latest = text
        if self._pending is None or self._pending.done():
            self._sleeping = True  # from now: a task not yet started has sent nothing either
            self._pending = asyncio.create_task(self._flush(self.settle_s))

    async def finish(self, text: str, view: discord.ui.View | None = None) -> None:
        """Show the whole answer, with `view` under its last message; returns once it is on Discord.
        Raises the HTTPException of an edit Discord refused (other than 429, waited out)."""
        self._latest, self._view, self._final = text, view, True
        if self._pending is not None:
            if self._sleeping:  # nothing sent yet: this edit replaces it, without its wait
                self._pending.cancel()
                await asyncio.wait([self._pending])
            else:
                await self._pending  # an edit on its way; raises what it raised
        await self._flush(0.0)

    async def _flush(self, settle_s: float) -> None:
        """After `settle_s` and the rest of the interval since the last edit, show the newest text."""
        if self._applied == (self._latest, self._final):
            return  # a finish whose text the pending edit already showed
        loop = asyncio.get_running_loop()
        try:
            await asyncio.sleep(settle_s)
            await asyncio.sleep(max(0.0, self._last_edit + self.interval_s - loop.time()))
        finally:
            self._sleeping = False
        text, final = self._latest, self._final
        if self._applied == (text, final):
            return
        await self._apply(text, self._view if final else None)
        self._applied = (text, final)
        self._last_edit = loop.time()

    async def _apply(self, text: str, view: discord.ui.View | None) -> None:
        chunks = split_message(text) or [text]
        for i, chunk in enumerate(chunks):
            view_here = view if i == len(chunks) - 1 else None
            if i < len(self._messages):
                if self._shown[i] == (chunk, view_here is not None):
                    continue
                message = self._messages[i]
                await send_retrying(lambda m=message, c=chunk, v=view_here: m.edit(content=c, view=v))
                self._shown[i] = (chunk, view_here is not None)
            else:
                self._messages.append(await send_retrying(lambda c=chunk, v=view_here: self.post(c, v)))
                self._shown.append((chunk, view_here is not None))
            self.edits += 1
