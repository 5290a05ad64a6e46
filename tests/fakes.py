"""Test doubles for the LLM, for unit tests of the answer pipeline (the e2e tests use the real server)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

from bot.answering.prompts import ANSWER_OPENING, DOUBT_OPENING
from bot.llm.config import LLMConfig
from bot.llm.protocol import ChatMessage, ChatModel, LLMError, Piece


class ScriptedLLM(ChatModel):
    """Streams scripted replies word by word; an LLMError in the script is raised instead."""

    def __init__(self, *replies: str | LLMError, config: LLMConfig | None = None):
        self.replies = list(replies)
        self.config = config or LLMConfig()
        self.requests: list[list[ChatMessage]] = []
        self.read: list[str] = []  # of each request's reply, what its reader took before it stopped
        self.warmups: list[list[ChatMessage]] = []
        self.verifications: list[list[ChatMessage]] = []
        self.yes = 1.0  # what the verification pass answers
        self.kept: set[str] = set()  # first messages of prompts prefilled with keep=True
        self.doubt = 0.0  # the probability the scripted model gives to an empty answer
        self.doubted: list[list[ChatMessage]] = []  # requests for that probability alone, not scripted
        self.kept_reads: list[list[ChatMessage]] = []  # keep_read calls

    @property
    def context_tokens(self) -> int:
        return self.config.context_tokens

    @property
    def max_answer_tokens(self) -> int:
        return self.config.max_answer_tokens

    async def stream(
        self,
        messages: list[ChatMessage],
        max_tokens: int | None = None,
        *,
        options: dict[str, Any] | None = None,
        alternatives: int = 0,
    ) -> AsyncIterator[Piece]:
        if messages[-1] == ChatMessage("assistant", DOUBT_OPENING):
            # One token where the model decides to answer, weighed against an empty string.
            self.doubted.append(messages)
            yield Piece(' "', ((' "', 1.0 - self.doubt), (' ""', self.doubt)) if alternatives else ())
            return
        self.requests.append(messages)
        reply = self.replies.pop(0) if self.replies else ""
        if isinstance(reply, LLMError):
            raise reply
        if messages[-1] == ChatMessage("assistant", ANSWER_OPENING):
            # The model continues the reply's opening: a "{…" reply goes out as it is after the
            # opening (a broken one, cut short), any other is the answer's string, closed.
            reply = reply.removeprefix(ANSWER_OPENING) if reply.startswith("{") else json.dumps(reply)[1:]
        self.read.append("")
        pieces = [Piece(word if i == 0 else " " + word) for i, word in enumerate(reply.split(" "))]
        for piece in pieces:
            self.read[-1] += piece.text
            yield piece

    async def complete(
        self, messages: list[ChatMessage], max_tokens: int, *, options: dict[str, Any] | None = None
    ) -> str:
        return "".join([piece.text async for piece in self.stream(messages, max_tokens, options=options)])

    async def prefill(
        self,
        messages: list[ChatMessage],
        when_idle: bool = False,
        keep: bool = False,
        resumes: list[ChatMessage] | None = None,
        for_question: bool = False,
    ) -> None:
        self.warmups.append(messages)
        if keep:
            self.kept.add(messages[0].content)

    @contextlib.asynccontextmanager
    async def question(self) -> AsyncIterator[None]:
        yield

    def is_kept(self, messages: list[ChatMessage]) -> bool:
        return messages[0].content in self.kept

    async def keep_read(self, messages: list[ChatMessage]) -> None:
        self.kept_reads.append(messages)

    async def yes_probability(self, messages: list[ChatMessage]) -> float:
        self.verifications.append(messages)
        return self.yes

    def stop(self) -> None:
        pass

    async def aclose(self) -> None:
        pass
