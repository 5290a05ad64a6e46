"""LiveReply's pacing and message layout, with messages recorded in memory (SimCord tests in
test_discord.py cover the same class over Discord's wire protocol)."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field

import discord
import pytest

from bot.discord.live import LiveReply


@dataclass
class Recorded:
    """A message: every content it showed, with the loop time of each post or edit."""

    log: list[tuple[float, int, str, bool]]
    index: int
    contents: list[str] = field(default_factory=list)

    async def edit(self, *, content: str = "", view: discord.ui.View | None = None) -> Recorded:
        self.contents.append(content)
        self.log.append((asyncio.get_running_loop().time(), self.index, content, view is not None))
        return self


def live_reply(first: bool = True, interval_s: float = 0.3, settle_s: float = 0.05) -> tuple[LiveReply, list]:
    log: list[tuple[float, int, str, bool]] = []
    messages: list[Recorded] = []

    async def post(content: str, view: discord.ui.View | None) -> Recorded:
        messages.append(Recorded(log, len(messages)))
        return await messages[-1].edit(content=content, view=view)

    if first:
        messages.append(Recorded(log, 0))
    return LiveReply(post, messages[0] if first else None, interval_s=interval_s, settle_s=settle_s), log


async def test_edits_are_an_interval_apart_and_parts_meanwhile_are_folded_in():
    reply, log = live_reply()
    reply.show("One.")
    await asyncio.sleep(0.1)  # shown after settling
    reply.show("One. Two.")
    await asyncio.sleep(0.02)
    reply.show("One. Two. Three.")  # arrives before Two is shown: Two is never shown alone
    await asyncio.sleep(0.4)
    await reply.finish("One. Two. Three.\n\nSources", discord.ui.View())
    assert [(i, text, has_view) for _, i, text, has_view in log] == [
        (0, "One.", False),
        (0, "One. Two. Three.", False),
        (0, "One. Two. Three.\n\nSources", True),
    ]
    times = [t for t, *_ in log]
    assert all(b - a >= 0.3 - 0.01 for a, b in itertools.pairwise(times))


async def test_a_final_text_right_behind_a_part_goes_out_in_the_same_edit():
    reply, log = live_reply()
    reply.show("One.")
    await reply.finish("One.\n\nSources")
    assert [text for _, _, text, _ in log] == ["One.\n\nSources"]
    assert reply.edits == 1


@pytest.mark.parametrize("first", [True, False])
async def test_a_long_answer_continues_in_new_messages_with_the_view_on_the_last(first):
    reply, log = live_reply(first=first)
    sentence = "A sentence of a long answer [1]. "
    reply.show(sentence * 40)  # one message
    await asyncio.sleep(0.1)
    await reply.finish(sentence * 130, discord.ui.View())  # three messages
    assert [(i, len(text) <= 2000, has_view) for _, i, text, has_view in log] == [
        (0, True, False),
        (0, True, False),
        (1, True, False),
        (2, True, True),
    ]
    assert " ".join(text for _, i, text, _ in log[1:]).split() == (sentence * 130).split()


async def test_nothing_is_shown_after_finish():
    reply, log = live_reply()
    await reply.finish("Done.")
    with pytest.raises(RuntimeError):
        reply.show("Later.")
    assert [text for _, _, text, _ in log] == ["Done."]


async def test_a_final_text_does_not_wait_for_the_settling_of_a_part():
    reply, log = live_reply(settle_s=0.5)
    loop = asyncio.get_running_loop()
    began = loop.time()
    reply.show("One.")
    await reply.finish("One.\n\nSources")
    assert [text for _, _, text, _ in log] == ["One.\n\nSources"] and log[0][0] - began < 0.1
