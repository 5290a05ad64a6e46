"""The LLM as the answer pipeline sees it: an async, streaming chat client over the openai package.

With `llm.base_url = "local"` it starts and supervises the bundled llama.cpp server (restarting
it if it died); otherwise it talks to any OpenAI-compatible endpoint with the key from the env
var named in `llm.api_key_env`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
from collections.abc import AsyncGenerator, AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import openai

from bot.llm.config import LLMConfig
from bot.llm.gate import BACKGROUND, IDLE, QUESTION, PriorityGate
from bot.llm.models import resolve_model
from bot.llm.protocol import ChatMessage, LLMError
from bot.llm.server import LocalLLMServer, ServerSpec

log = logging.getLogger(__name__)


class LLMClient:
    def __init__(self, config: LLMConfig, models_dir: Path):
        self.config = config
        self.models_dir = models_dir
        self.server: LocalLLMServer | None = None
        self._client: openai.AsyncOpenAI | None = None
        self._client_url = ""
        self._gate: PriorityGate | None = None

    @property
    def model_name(self) -> str:
        return self.config.model

    @property
    def context_tokens(self) -> int:
        return self.config.context_tokens

    @property
    def max_answer_tokens(self) -> int:
        return self.config.max_answer_tokens

    def start(self) -> None:
        """Blocking: resolve the model and start the local server (no-op for a remote endpoint)."""
        if not self.config.is_local:
            return
        if self.server is None:
            path = resolve_model(self.config.model, self.models_dir)
            spec = ServerSpec(
                path, self.config.threads, self.config.context_tokens, self.config.model, self.config.batch_tokens
            )
            self.server = LocalLLMServer(spec, self.config.start_timeout_s)
        self.server.ensure_running()

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()

    async def _openai(self) -> openai.AsyncOpenAI:
        if self.config.is_local:
            await asyncio.to_thread(self.start)  # restarts a crashed server
            assert self.server is not None
            url, key = self.server.base_url, self.server.api_key
        else:
            url, key = self.config.base_url, os.environ.get(self.config.api_key_env, "")
            if not key:
                raise LLMError(f"set the API key in the environment variable {self.config.api_key_env}")
        if self._client is None or self._client_url != url:
            if self._client is not None:
                await self._client.close()  # the restarted server has a new port: free the old pool
            # openai retries connection errors, 408/409/429 and 5xx with exponential backoff.
            self._client = openai.AsyncOpenAI(
                base_url=url,
                api_key=key,
                max_retries=self.config.retries,
                timeout=httpx.Timeout(self.config.timeout_s, connect=min(10.0, self.config.timeout_s)),
            )
            self._client_url = url
        return self._client

    def _the_gate(self) -> PriorityGate:
        if self._gate is None:  # created inside the running event loop that will use it
            self._gate = PriorityGate(self.config.max_concurrent, self.config.warm_up_after_idle_s)
        return self._gate

    @contextlib.asynccontextmanager
    async def _request(self, priority: int = QUESTION) -> AsyncIterator[openai.AsyncOpenAI]:
        """The client, inside the concurrency gate; any failure in the block becomes an LLMError."""
        async with self._the_gate().hold(priority):
            try:
                yield await self._openai()
            except LLMError:
                raise
            except (openai.OpenAIError, httpx.HTTPError, RuntimeError) as exc:
                raise LLMError(f"{exc.__class__.__name__}: {exc}") from exc

    async def stream(
        self, messages: list[ChatMessage], max_tokens: int | None = None, *, options: dict[str, Any] | None = None
    ) -> AsyncGenerator[str, None]:
        """Yield the answer's text as it is generated; raise LLMError on any failure."""
        async with self._request() as client:
            stream = await client.chat.completions.create(
                model=self.config.model,
                messages=[m.as_dict() for m in messages],
                max_tokens=max_tokens or self.config.max_answer_tokens,
                temperature=self.config.temperature,
                stream=True,
                extra_body=options or None,
            )
            finished = False
            # Closed on the way out, also when the caller stops reading early (the answer's
            # string has closed): else the response is left to the garbage collector mid-read.
            async with stream:
                async for chunk in stream:
                    if not chunk.choices:
                        continue
                    if chunk.choices[0].delta.content:
                        yield chunk.choices[0].delta.content
                    finished = finished or chunk.choices[0].finish_reason is not None
            if not finished:
                # A connection closed mid-answer can look like a normal end of the stream.
                raise LLMError("the answer stream ended before the model finished")

    async def complete(
        self, messages: list[ChatMessage], max_tokens: int, *, options: dict[str, Any] | None = None
    ) -> str:
        return "".join([piece async for piece in self.stream(messages, max_tokens=max_tokens, options=options)])

    async def prefill(self, messages: list[ChatMessage], when_idle: bool = False) -> None:
        """Have the server read `messages` (and cache them), after any waiting question; with
        `when_idle`, only once questions have stopped coming (llm.warm_up_after_idle_s)."""
        async with self._request(IDLE if when_idle else BACKGROUND) as client:
            await client.chat.completions.create(
                model=self.config.model, messages=[m.as_dict() for m in messages], max_tokens=1, temperature=0.0
            )

    async def yes_probability(self, messages: list[ChatMessage]) -> float:
        """P(yes) / (P(yes) + P(no)) for the first token of the reply, from the server's log
        probabilities (before the grammar that limits the reply to yes or no, so both are seen)."""
        async with self._request() as client:
            reply = await client.chat.completions.create(
                model=self.config.model,
                messages=[m.as_dict() for m in messages],
                max_tokens=1,
                temperature=0.0,
                logprobs=True,
                top_logprobs=10,
                extra_body={"grammar": 'root ::= "yes" | "no" | "Yes" | "No"'},
            )
        logprobs = reply.choices[0].logprobs if reply.choices else None
        if not logprobs or not logprobs.content:
            raise LLMError("the server returned no log probabilities")
        mass = {"yes": 0.0, "no": 0.0}
        for candidate in logprobs.content[0].top_logprobs:
            word = candidate.token.strip().lower()
            if word in mass:
                mass[word] += math.exp(candidate.logprob)
        total = mass["yes"] + mass["no"]
        return mass["yes"] / total if total else 0.5
