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
from bot.llm.gate import BACKGROUND, IDLE, QUESTION, Preempted, PriorityGate
from bot.llm.kept import KeptPrefixes
from bot.llm.models import resolve_model
from bot.llm.protocol import ChatMessage, LLMError, Piece
from bot.llm.server import LocalLLMServer, ServerSpec, cpu_features

log = logging.getLogger(__name__)


class LLMClient:
    def __init__(self, config: LLMConfig, models_dir: Path, state_dir: Path | None = None):
        """`state_dir`: where warmed prompt prefixes are kept across restarts (local server only;
        none kept without it or with llm.kept_prefixes_mib = 0)."""
        self.config = config
        self.models_dir = models_dir
        self.kept = (
            KeptPrefixes(state_dir, config.kept_prefixes_mib << 20)
            if state_dir is not None and config.is_local and config.kept_prefixes_mib > 0
            else None
        )
        self.restores = 0  # kept prefixes read back into the server (for logs and tests)
        self.preemptions = 0  # warm-up steps cancelled by a question, then sent again
        self._model_id = ""
        self._slot_holds: str | None = None  # the kept-prefix name of the prompt the server's slot holds
        # A warm-up step only the slot holds (not kept), and steps saved aside ("parked") because a
        # restore was about to overwrite the slot: llama.cpp's restore does not move what the slot
        # held into its prompt cache, so without parking the warm-up would start over (measured:
        # add → warm 54 s → 119 s, questions meanwhile p95 5.6 s → 21 s).
        self._slot_partial: list[ChatMessage] | None = None
        self._parked: set[str] = set()
        self._http: httpx.AsyncClient | None = None
        self.server: LocalLLMServer | None = None
        self._client: openai.AsyncOpenAI | None = None
        self._client_url = ""
        self._gate: PriorityGate | None = None
        self._loop: asyncio.AbstractEventLoop | None = None  # the loop _http, _client and _gate belong to

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
            path = resolve_model(self.config.model, self.models_dir, cpu_features)
            self._model_id = f"{path.name}:{path.stat().st_size}"  # a kept KV cache fits this model only
            if self.kept is not None:
                self.kept.directory.mkdir(parents=True, exist_ok=True)
            spec = ServerSpec(
                path,
                self.config.threads,
                self.config.context_tokens,
                self.config.model,
                self.config.batch_tokens,
                self.kept.directory if self.kept is not None else None,
                self.config.cache_ram_mib,
                self.config.lookup_draft_tokens,
                self.config.lookup_ngram_tokens,
            )
            self.server = LocalLLMServer(spec, self.config.start_timeout_s)
        self.server.ensure_running()

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()

    async def aclose(self) -> None:
        """Close the HTTP connection pools opened in the running event loop. To be awaited before
        that loop ends: `stop` runs after it, when they can no longer be closed, and their sockets
        would be left to the garbage collector."""
        if self._loop is not asyncio.get_running_loop():
            return  # opened in a loop that has ended: its connections died with it
        client, http = self._client, self._http
        self._client, self._http = None, None
        if client is not None:
            await client.close()
        if http is not None:
            await http.aclose()

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
            self._slot_holds, self._slot_partial = None, None  # a new server holds nothing yet
            # openai retries connection errors, 408/409/429 and 5xx with exponential backoff.
            self._client = openai.AsyncOpenAI(
                base_url=url,
                api_key=key,
                max_retries=self.config.retries,
                timeout=httpx.Timeout(self.config.timeout_s, connect=min(10.0, self.config.timeout_s)),
            )
            self._client_url = url
        return self._client

    def _bind_to_running_loop(self) -> None:
        """Drop what belongs to another event loop — the HTTP connection pools and the gate — when
        a new one uses this client (another `asyncio.run`; each test): their connections and
        waiters died with the old loop, and reusing a pooled connection raises "Event loop is
        closed"."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._loop = loop
            self._client, self._http, self._gate = None, None, None

    def _the_gate(self) -> PriorityGate:
        if self._gate is None:  # created inside the running event loop that will use it
            self._gate = PriorityGate(self.config.max_concurrent, self.config.warm_up_after_idle_s)
        return self._gate

    @contextlib.asynccontextmanager
    async def question(self) -> AsyncIterator[None]:
        """Around all the requests of one question (`PriorityGate.question`)."""
        self._bind_to_running_loop()
        async with self._the_gate().question():
            yield

    @contextlib.asynccontextmanager
    async def _request(
        self, messages: list[ChatMessage], priority: int = QUESTION, resumes: list[ChatMessage] | None = None
    ) -> AsyncIterator[openai.AsyncOpenAI]:
        """The client, inside the concurrency gate, with the kept prefix `messages` start with
        (or the parked warm-up step they `resume`) restored first; any failure in the block
        becomes an LLMError."""
        self._bind_to_running_loop()
        async with self._the_gate().hold(priority):
            try:
                client = await self._openai()
                name = self._kept_name(messages)
                await self._restore_kept(name, resumes)
                self._slot_holds, self._slot_partial = None, None  # in flux until the request is done
                try:
                    yield client
                except GeneratorExit:  # the reader stopped early, after the prompt was read
                    self._slot_holds = name
                    raise
                self._slot_holds = name
            except LLMError:
                raise
            except (openai.OpenAIError, httpx.HTTPError, RuntimeError) as exc:
                raise LLMError(f"{exc.__class__.__name__}: {exc}") from exc

    # -- kept prefixes ----------------------------------------------------------------------

    def _kept_name(self, messages: list[ChatMessage]) -> str | None:
        if self.kept is None or not messages or not self._model_id:
            return None
        return self.kept.name_for(self._model_id, messages[0].content)

    def is_kept(self, messages: list[ChatMessage]) -> bool:
        """True when a prompt starting like `messages` is kept on disk: it is read back, not re-read."""
        if self.kept is not None and not self._model_id:
            self.start()  # the model's identity is part of the name (blocking, once)
        name = self._kept_name(messages)
        return name is not None and self.kept is not None and self.kept.exists(name)

    async def _slots(self, action: str, name: str) -> httpx.Response:
        assert self.server is not None
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=httpx.Timeout(self.config.timeout_s))
        return await self._http.post(
            f"http://127.0.0.1:{self.server.port}/slots/0",
            params={"action": action},
            json={"filename": name},
            headers={"Authorization": f"Bearer {self.server.api_key}"},
        )

    async def _restore_kept(self, own: str | None, resumes: list[ChatMessage] | None = None) -> None:
        """Load into the server's slot the kept prefix named `own` (that of the request's
        messages) — or, for a warm-up step, the parked step it `resumes` — unless the slot holds
        it already. A warm-up step the slot holds is parked first. A file that does not load is
        dropped (a cache)."""
        if self.kept is None:
            return
        parked = self._kept_name(resumes) if resumes is not None else None
        name = parked if parked in self._parked else own
        if name is None or name == self._slot_holds or not self.kept.exists(name):
            return
        if self._slot_partial is not None:
            await self._park(self._slot_partial)
        reply = await self._slots("restore", name)
        if reply.status_code != 200 or name in self._parked:  # a parked step has served: read back once
            self._parked.discard(name)
            self.kept.forget(name)
        else:
            self.kept.touch(name)
        if reply.status_code != 200:
            log.warning("could not restore kept prefix %s (%s): %s", name, reply.status_code, reply.text[:200])
            return
        self.restores += 1
        log.debug("restored kept prefix %s", name)

    async def keep_read(self, messages: list[ChatMessage]) -> None:
        """See `ChatModel.keep_read`: the slot is saved over the kept file of the prefix `messages`
        start with (~0.12 s for 2,500 tokens here), only while it holds a prompt starting with it."""
        async with self._the_gate().hold(QUESTION):
            name = self._kept_name(messages)
            if name is None or name != self._slot_holds or self.kept is None or not self.kept.exists(name):
                return
            try:
                await self._keep(messages)
            except httpx.HTTPError as exc:  # a cache: the next request reads the rest again
                log.warning("could not keep what the server read: %s", exc)

    async def _park(self, messages: list[ChatMessage]) -> None:
        """Save the warm-up step the slot holds, so that its next step resumes from it."""
        name = self._kept_name(messages)
        if name is not None and (await self._slots("save", name)).status_code == 200:
            self._parked.add(name)
        self._slot_partial = None

    async def _keep(self, messages: list[ChatMessage]) -> None:
        """Save what the slot holds (the prompt just read) under the name of `messages`."""
        name = self._kept_name(messages)
        if name is None or self.kept is None:
            return
        reply = await self._slots("save", name)
        if reply.status_code != 200:
            log.warning("could not keep prefix %s (%s): %s", name, reply.status_code, reply.text[:200])
            return
        await asyncio.to_thread(self.kept.evict, name)

    async def stream(
        self,
        messages: list[ChatMessage],
        max_tokens: int | None = None,
        *,
        options: dict[str, Any] | None = None,
        alternatives: int = 0,
    ) -> AsyncGenerator[Piece, None]:
        """Yield the answer as it is generated (see `ChatModel.stream`); raise LLMError on any failure."""
        scoring = {"logprobs": True, "top_logprobs": alternatives} if alternatives else {}
        async with self._request(messages) as client:
            stream = await client.chat.completions.create(
                model=self.config.model,
                messages=[m.as_dict() for m in messages],
                max_tokens=max_tokens or self.config.max_answer_tokens,
                temperature=self.config.temperature,
                stream=True,
                extra_body=options or None,
                **scoring,
            )
            finished = False
            # Closed on the way out, also when the caller stops reading early (the answer's
            # string has closed): else the response is left to the garbage collector mid-read.
            async with stream:
                async for chunk in stream:
                    if not chunk.choices:
                        continue
                    choice = chunk.choices[0]
                    if choice.delta.content:
                        scored = choice.logprobs.content if choice.logprobs and choice.logprobs.content else []
                        weighed = (
                            tuple((c.token, math.exp(c.logprob)) for c in scored[0].top_logprobs) if scored else ()
                        )
                        yield Piece(choice.delta.content, weighed)
                    finished = finished or choice.finish_reason is not None
            if not finished:
                # A connection closed mid-answer can look like a normal end of the stream.
                raise LLMError("the answer stream ended before the model finished")

    async def complete(
        self, messages: list[ChatMessage], max_tokens: int, *, options: dict[str, Any] | None = None
    ) -> str:
        return "".join([piece.text async for piece in self.stream(messages, max_tokens=max_tokens, options=options)])

    async def prefill(
        self,
        messages: list[ChatMessage],
        when_idle: bool = False,
        keep: bool = False,
        resumes: list[ChatMessage] | None = None,
        for_question: bool = False,
    ) -> None:
        """Have the server read `messages` (and cache them), after any waiting question; with
        `when_idle`, only once questions have stopped coming (llm.warm_up_after_idle_s); with
        `keep`, also kept on disk (see `is_kept`). `resumes`: the previous step of the same
        warm-up, whose prompt these messages extend. `for_question`: for the question being
        answered, as one of its own requests (a warm-up would wait for it to be done)."""
        priority = QUESTION if for_question else IDLE if when_idle else BACKGROUND
        while True:
            try:
                async with self._request(messages, priority, resumes) as client:
                    read = client.chat.completions.create(
                        model=self.config.model, messages=[m.as_dict() for m in messages], max_tokens=1, temperature=0.0
                    )
                    await (read if priority == QUESTION else self._the_gate().preemptible(read))
                    if keep:
                        await self._keep(messages)  # inside the gate: the slot still holds exactly this prompt
            except Preempted:
                # The slot holds the step this one resumes (or none) and what the server read of
                # this one before it stopped: parked like a finished step, under the name the
                # retry restores, it is read back and only the rest is read.
                self._slot_partial = resumes if resumes is not None else messages
                self.preemptions += 1
                log.debug("a question preempted a warm-up step")
                continue
            break
        if not keep:
            self._slot_partial = messages  # set after the gate is left (it clears it); nothing ran since

    async def yes_probability(self, messages: list[ChatMessage]) -> float:
        """P(yes) / (P(yes) + P(no)) for the first token of the reply, from the server's log
        probabilities (before the grammar that limits the reply to yes or no, so both are seen)."""
        async with self._request(messages) as client:
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
