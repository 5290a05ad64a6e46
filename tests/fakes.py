"""Test doubles for the LLM, for unit tests of the answer pipeline (the e2e tests use the real server)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from bot.llm import LLMError
from bot.llm_config import LLMConfig
from bot.prompts import ChatMessage


class ScriptedLLM:
    """Streams scripted replies word by word; an LLMError in the script is raised instead."""

    def __init__(self, *replies: str | LLMError, config: LLMConfig | None = None):
        self.replies = list(replies)
        self.config = config or LLMConfig()
        self.requests: list[list[ChatMessage]] = []
        self.warmups: list[list[ChatMessage]] = []

    async def stream(self, messages: list[ChatMessage], max_tokens: int | None = None) -> AsyncIterator[str]:
        if max_tokens == 1:  # a cache warm-up, not a question: it takes no scripted reply
            self.warmups.append(messages)
            return
        self.requests.append(messages)
        reply = self.replies.pop(0) if self.replies else "The article doesn't say."
        if isinstance(reply, LLMError):
            raise reply
        for i, word in enumerate(reply.split(" ")):
            yield word if i == 0 else " " + word

    async def complete(self, messages: list[ChatMessage], max_tokens: int) -> str:
        return "".join([piece async for piece in self.stream(messages, max_tokens)])

    def stop(self) -> None:
        pass
