"""What the answering core needs from a language model, and nothing more.

`ChatModel` is the seam: the real `bot.llm.client.LLMClient` implements it, and so do the
test fakes. Answering imports this module only, never the client or the server.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Protocol


class LLMError(RuntimeError):
    """The model could not be reached or gave no usable output (after retries)."""


@dataclass(frozen=True)
class ChatMessage:
    role: str
    content: str

    def as_dict(self) -> dict[str, str]:
        return {"role": self.role, "content": self.content}


@dataclass(frozen=True)
class Piece:
    """A streamed piece of the reply (llama.cpp sends one token a piece) and, when the request
    asked for them, the likeliest tokens the model weighed at its place, with their probabilities
    (before any grammar narrowed the choice)."""

    text: str
    alternatives: tuple[tuple[str, float], ...] = ()


class ChatModel(Protocol):
    @property
    def context_tokens(self) -> int:
        """Prompt plus answer must fit in this many tokens."""
        ...

    @property
    def max_answer_tokens(self) -> int: ...

    def stream(
        self,
        messages: list[ChatMessage],
        max_tokens: int | None = None,
        *,
        options: dict[str, Any] | None = None,
        alternatives: int = 0,
    ) -> AsyncGenerator[Piece, None]:
        """The answer as it is generated, with up to `alternatives` of the tokens weighed at each
        piece (0: none; a server that gives none gives none); raises LLMError on any failure.
        `options` are extra request fields the server understands (e.g. llama.cpp's `grammar`)."""
        ...

    async def complete(
        self, messages: list[ChatMessage], max_tokens: int, *, options: dict[str, Any] | None = None
    ) -> str: ...

    async def prefill(
        self,
        messages: list[ChatMessage],
        when_idle: bool = False,
        keep: bool = False,
        resumes: list[ChatMessage] | None = None,
        for_question: bool = False,
    ) -> None:
        """Let the server read and cache `messages` in the background, after any waiting question
        (with `when_idle`: only once questions have stopped coming for a while; with `keep`: also
        kept where it outlives a restart, when the model can). `resumes`: the previous step of
        the same warm-up, whose prompt `messages` extend. `for_question`: read now, for the
        question being answered (inside `question()`), which waits for it."""
        ...

    def question(self) -> AbstractAsyncContextManager[None]:
        """Around all the requests of one question: no background warm-up is let in between
        them."""
        ...

    def is_kept(self, messages: list[ChatMessage]) -> bool:
        """True when a prompt starting like `messages` was kept (`prefill(keep=True)`): a request
        starting the same way is read back from it rather than read again."""
        ...

    async def keep_read(self, messages: list[ChatMessage]) -> None:
        """Keep what the server has just read for a question asked with `messages` — their kept
        prefix and all that followed it — under that prefix's name, when the model can: a later
        request starting like them resumes from all of it. Called before a request of another
        prefix pushes it out of the server."""
        ...

    async def yes_probability(self, messages: list[ChatMessage]) -> float:
        """P(yes) / (P(yes) + P(no)) of the model's one-word reply to a yes/no question."""
        ...

    async def aclose(self) -> None:
        """Close the connections opened in the running event loop, before it ends."""
        ...
