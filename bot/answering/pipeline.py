"""Question → retrieve → prompt → LLM → checked citations → Answer. No Discord, no terminal.

Every front end (CLI, chat, Discord) calls `Answerer.answer` and renders the Answer it gets.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import math
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass, field

from bot.answering.config import AnswerConfig
from bot.answering.evidence import (
    Evidence,
    article_header,
    check_reply,
    closed_reply,
    decline_probability,
    parse_model_answer,
    reask_reason,
    relevance_parts,
    settled_reask,
)
from bot.answering.guard import steering_reason
from bot.answering.prompts import (
    ANSWER_OPENING,
    ANSWER_REST_GRAMMAR,
    DOUBT_OPENING,
    Templates,
    answer_messages,
    article_system_message,
    estimate_tokens,
    fit_passages,
    reask_messages,
    reask_prefix,
    rewrite_messages,
    verify_messages,
)
from bot.llm.protocol import ChatMessage, ChatModel, LLMError, Piece
from index.library import Library
from index.models import Passage, SearchHit
from index.store import content_hash
from index.text import content_tokens, split_sentences

log = logging.getLogger(__name__)

REFUSAL = "The article doesn't say."
NO_ARTICLES = "No articles are indexed yet, so there is nothing to answer from."
LLM_DOWN_NOTICE = (
    "The language model is unavailable right now; these are the closest sentences, quoted from the article."
)
_PROMPT_OVERHEAD_TOKENS = 400  # system rules, fences and the answer instruction
_REWRITE_MAX_TOKENS = 64
ALTERNATIVES = 10  # tokens weighed where the model decides to answer, for `decline_probability`
REASK_MAX_TOKENS = 60  # the few words of the sentence that answer (answer.reask)
WARM_UP_QUESTION = "What is this about?"  # any question: only the article before it is reused


class QuestionError(ValueError):
    """The question cannot be asked as it is (empty, too long); the message says why."""


@dataclass(frozen=True)
class Citation:
    n: int
    article_id: str
    article_title: str
    passage: int
    text: str
    source_url: str | None
    quote: str = ""  # the passage's sentence that best matches what was cited, for excerpts
    claim: str = ""  # what it is cited for (the answer; the question, for related reading): a long
    # quote is shown around its words


@dataclass(frozen=True)
class Answer:
    question: str
    text: str  # carries the [n] markers; the refusal text when refused
    refused: bool
    mode: str  # "llm", "quote" (LLM unavailable) or "refusal"
    citations: list[Citation]
    related: list[Citation] = field(default_factory=list)  # closest passages, offered on a refusal
    notice: str | None = None
    timings: dict[str, float] = field(default_factory=dict)
    reason: str | None = None  # why the bot declined (for logs and the eval; never shown to users)
    draft: str | None = None  # the model's own reply, before the checks (for logs and the eval)
    verified: float | None = None  # the verification pass's p(yes), when it ran
    seen: tuple[tuple[str, int], ...] = ()  # (article, passage) of each passage in the prompt, in order
    decline_p: float | None = None  # the probability the model gave to declining (`decline_probability`)
    # Cosine similarity of the passage retrieval ranked first (what answer.min_similarity weighs);
    # None when nothing was searched. The eval plots declining by it.
    similarity: float | None = None


@dataclass(frozen=True)
class Turn:
    question: str
    answer: str


# Called with the answer's text once it is checked and settled: a front end never shows
# anything that a later check could take back.
OnSentence = Callable[[str], Awaitable[None] | None]


@dataclass(frozen=True)
class Context:
    passages: list[Passage]
    # The passage retrieval ranks first, shown to the model again just before the question
    # (answer.focus_passage).
    focus: Passage | None = None


@dataclass(frozen=True)
class ContextChoice:
    context: Context
    warm_later: list[str] = field(default_factory=list)  # articles worth warming for next time
    read_first: bool = False  # a prefix not read yet: warm (and keep) it before the question


def scored_sentences(passage: str, wanted: set[str]) -> list[tuple[int, str]]:
    """Each sentence of `passage` with the number of `wanted` content words it contains."""
    sentences = [passage[s.start : s.end] for s in split_sentences(passage)] or [passage]
    return [(len(wanted & content_tokens(sentence)), sentence) for sentence in sentences]


def best_in_order(items: Sequence[str], scores: Sequence[float], keep: int) -> list[str]:
    """The `keep` items with the highest scores, in their original order (ties: the earlier)."""
    chosen = sorted(sorted(range(len(items)), key=lambda i: -scores[i])[:keep])
    return [items[i] for i in chosen]


def best_sentence(passage: str, claim: str) -> str:
    """The sentence of `passage` sharing most words with `claim` (the first one when none do)."""
    return max(scored_sentences(passage, content_tokens(claim)), key=lambda pair: pair[0])[1]


class Answerer:
    def __init__(self, library: Library, llm: ChatModel, config: AnswerConfig, templates: Templates | None = None):
        self.library = library
        self.llm = llm
        self.config = config
        self.templates = templates or Templates.load()
        # Prefixes the server has read (by content, so a re-indexed article is warmed again).
        # llama.cpp keeps each one in its host-memory prompt cache (llm.cache_ram_mib).
        self._warm_prefixes: set[str] = set()
        self._warming: set[str] = set()
        self._warm_tasks: set[asyncio.Task[None]] = set()
        self._reask_warm = False

    # -- pieces -----------------------------------------------------------------------------

    def check_question(self, question: str) -> str:
        question = " ".join(question.split())
        if not question:
            raise QuestionError("the question is empty: ask something about the article")
        if len(question) > self.config.max_question_chars:
            raise QuestionError(
                f"the question is {len(question):,} characters long; please keep it under "
                f"{self.config.max_question_chars:,} (answer.max_question_chars)"
            )
        return question

    def _budget_tokens(self, question: str) -> int:
        return (
            self.llm.context_tokens - self.llm.max_answer_tokens - _PROMPT_OVERHEAD_TOKENS - estimate_tokens(question)
        )

    def _prefix_key(self, context: Context) -> str:
        return content_hash(article_system_message(self.templates, [p.text for p in context.passages]).content)

    def _is_warm(self, context: Context) -> bool:
        """Whether the server has read this context's prefix, or can read it back from disk: kept
        by an earlier process too (a one-off `articlebot ask` after another, or after `chat`)."""
        key = self._prefix_key(context)
        if key in self._warm_prefixes:
            return True
        try:
            kept = self.llm.is_kept(
                answer_messages(self.templates, [p.text for p in context.passages], WARM_UP_QUESTION)
            )
        except LLMError:  # the server cannot start: the answer then says so, or quotes the article
            return False
        if kept:
            self._warm_prefixes.add(key)
        return kept

    def windows(self, article_id: str) -> list[Context]:
        """The article as the model reads it: whole, or when longer than answer.window_tokens, in
        windows of consecutive passages, each a prefix of its own (warmed and kept on its own)."""
        return [Context(w) for w in split_windows(self.library.passages_of([article_id]), self.config.window_tokens)]

    def _window_for(self, passage: Passage, question: str) -> tuple[Context, bool] | None:
        """(the window holding `passage`, with it as its focus as answer.focus_passage says;
        whether the server has read it or kept it on disk). None when it does not fit with the
        question, or when it is unread and too long to read during a live question: a window of
        a longer article, or an article over answer.whole_article_max_tokens."""
        windows = self.windows(passage.article_id)
        for window in windows:
            if passage in window.passages:
                cost = _prefix_tokens(window.passages)
                if cost > self._budget_tokens(question):
                    return None
                warm = self._is_warm(window)
                if not warm and (len(windows) > 1 or cost > self.config.whole_article_max_tokens):
                    return None
                return self._focused(window, passage, whole=len(windows) == 1), warm
        return None

    def choose_context(
        self, hits: list[SearchHit], article_ids: Collection[str] | None, question: str
    ) -> ContextChoice:
        """The context to answer from. The window holding the passage retrieval ranks first (a
        long article's part; else the whole article) when the server has read it or kept it
        (**routing**), or when it is a whole article short enough to read now — read first as a
        warm-up and kept, so that the next question, and the next process, reads it back. Else
        the retrieved passages, and that article is warmed for next time."""
        top = hits[0].passage if hits else None
        found = self._window_for(top, question) if top is not None else None
        if found is None:
            return ContextChoice(self.retrieved_context(hits, question), [top.article_id] if top is not None else [])
        window, warm = found
        return ContextChoice(window, read_first=not warm)

    def _focused(self, context: Context, top: Passage | None, whole: bool) -> Context:
        """`context` with the passage retrieval ranks first as its focus, as answer.focus_passage
        says: for a window of a longer article, for any context, or never."""
        mode = self.config.focus_passage
        if top is None or top not in context.passages or mode == "never" or (mode == "windows" and whole):
            return context
        return dataclasses.replace(context, focus=top)

    def _focus_excerpt(self, question: str, context: Context) -> tuple[int, str] | None:
        """(the focus passage's number in the context, what of it is shown): its sentences the
        cross-encoder rates best for the question, as answer.focus_sentences says. Each token
        of it is read again for every question, so fewer sentences answer sooner."""
        if context.focus is None:
            return None
        n, keep = context.passages.index(context.focus) + 1, self.config.focus_sentences
        if keep == 0:
            return n, context.focus.text
        sentences = [context.focus.text[s.start : s.end] for s in split_sentences(context.focus.text)]
        if len(sentences) <= keep:
            return n, context.focus.text
        scores = self.library.relevance(question, sentences)
        if scores is None:  # no cross-encoder: the sentences sharing most words with the question
            wanted = content_tokens(question)
            scores = [float(len(wanted & content_tokens(sentence))) for sentence in sentences]
        return n, " ".join(best_in_order(sentences, scores, keep))

    def _needs_ranking(self, article_ids: Collection[str] | None, question: str) -> bool:
        """Reranking orders passages and picks the article or window to route to; one article
        that goes into the prompt whole needs neither."""
        ids = list(self.library.titles() if article_ids is None else article_ids)  # snapshot: no DB read
        if len(ids) != 1:
            return True
        windows = self.windows(ids[0])
        return len(windows) != 1 or self._window_for(windows[0].passages[0], question) is None

    def retrieved_context(self, hits: list[SearchHit], question: str) -> Context:
        """The retrieved passages, best first, as many as fit."""
        texts = fit_passages([h.passage.text for h in hits], self._budget_tokens(question))
        chosen = [h.passage for h in hits[: len(texts)]]
        return Context(chosen)

    def _citation(self, n: int, passage: Passage, claim: str = "", quote: str | None = None) -> Citation:
        """Citation [n] of `passage`; its excerpt is `quote` (the evidence, verbatim) when given,
        else the passage's sentence closest to `claim`."""
        article = self.library.get_article(passage.article_id)
        return Citation(
            n,
            passage.article_id,
            article.title,
            passage.n,
            passage.text,
            article.source_url,
            quote if quote is not None else best_sentence(passage.text, claim),
            claim,
        )

    def _refusal(
        self,
        question: str,
        hits: list[SearchHit],
        timings: dict[str, float],
        notice: str | None = None,
        reason: str | None = None,
        draft: str | None = None,
    ) -> Answer:
        related = [
            self._citation(i, h.passage, question) for i, h in enumerate(hits[: self.config.related_passages], start=1)
        ]
        if reason:
            log.info("declined %r: %s (model said %r)", question, reason, draft)
        similarity = hits[0].similarity if hits else None
        return Answer(
            question, REFUSAL, True, "refusal", [], related, notice, timings, reason, draft, similarity=similarity
        )

    async def rewrite(self, history: Sequence[Turn], question: str) -> str:
        """A standalone version of a follow-up question: retrieval uses it, and the model sees it
        beside the user's own words."""
        if not history:
            return question
        turns = [(t.question, t.answer) for t in history[-3:]]
        try:
            rewritten = (
                await self.llm.complete(rewrite_messages(self.templates, turns, question), _REWRITE_MAX_TOKENS)
            ).strip()
        except LLMError as exc:
            log.warning("question rewrite failed (%s); using the conversation's last question too", exc)
            rewritten = ""
        rewritten = rewritten.splitlines()[0].strip() if rewritten else ""
        if not rewritten or len(rewritten) > 3 * max(len(question), 100):
            return f"{history[-1].question} {question}"
        return rewritten

    def quote_answer(self, question: str, hits: list[SearchHit], timings: dict[str, float]) -> Answer:
        """Without an LLM: the sentences from the top passages that share most words with the question."""
        wanted = content_tokens(question)
        scored = [
            (overlap, -rank, sentence, hit.passage)
            for rank, hit in enumerate(hits[:3])
            for overlap, sentence in scored_sentences(hit.passage.text, wanted)
        ]
        best = [s for s in sorted(scored, key=lambda s: (s[0], s[1]), reverse=True)[:2] if s[0] > 0]
        if not best:
            return self._refusal(question, hits, timings, LLM_DOWN_NOTICE)
        citations: list[Citation] = []
        parts = []
        for _, _, sentence, passage in best:
            numbers = [c.n for c in citations if c.article_id == passage.article_id and c.passage == passage.n]
            if not numbers:
                citations.append(self._citation(len(citations) + 1, passage, sentence))
                numbers = [len(citations)]
            parts.append(f"“{sentence}” [{numbers[0]}]")
        return Answer(
            question,
            " ".join(parts),
            False,
            "quote",
            citations,
            [],
            LLM_DOWN_NOTICE,
            timings,
            similarity=hits[0].similarity,
        )

    # -- the pipeline ---------------------------------------------------------------------

    async def answer(
        self,
        question: str,
        article_ids: Collection[str] | None = None,
        history: Sequence[Turn] = (),
        on_sentence: OnSentence | None = None,
    ) -> Answer:
        """Answer `question` from the articles in scope; `on_sentence` gets the answer once it is checked."""
        async with self.llm.question():  # no warm-up step between this question's requests
            return await self._answer(question, article_ids, history, on_sentence)

    async def _answer(
        self,
        question: str,
        article_ids: Collection[str] | None,
        history: Sequence[Turn],
        on_sentence: OnSentence | None,
    ) -> Answer:
        start = time.perf_counter()
        question = self.check_question(question)
        timings: dict[str, float] = {}
        if reason := steering_reason(question):
            return await asyncio.to_thread(self._refusal, question, [], self._finish(timings, start), reason=reason)
        query = await self.rewrite(history, question)
        timings["rewrite_s"] = time.perf_counter() - start
        # The user's own words are answered; a follow-up's standalone form rides along so the
        # model knows what "there" or "he" refers to.
        asked = question if query == question else f"{question} (that is: {query})"
        rerank = await asyncio.to_thread(self._needs_ranking, article_ids, asked)
        hits = await asyncio.to_thread(self.library.search, query, None, article_ids, rerank=rerank)
        timings["retrieve_s"] = time.perf_counter() - start - timings["rewrite_s"]
        if not hits:
            notice = None if await asyncio.to_thread(self.library.list_articles) else NO_ARTICLES
            return await asyncio.to_thread(
                self._refusal, question, hits, self._finish(timings, start), notice, "nothing to search"
            )
        if hits[0].similarity < self.config.min_similarity and hits[0].keyword_rank is None:
            return await asyncio.to_thread(
                self._refusal, question, hits, self._finish(timings, start), reason="no passage is close"
            )
        choice = await asyncio.to_thread(self.choose_context, hits, article_ids, asked)
        context = choice.context
        if choice.read_first:
            # Read as a warm-up and kept on disk, not inside this question's request: the next
            # question — also in the next process, e.g. the next `articlebot ask` — reads the
            # article back in milliseconds instead of again.
            await self._prefill(Context(context.passages), at_once=True)
        self.warm_in_background(choice.warm_later, when_idle=True)
        passages = [p.text for p in context.passages]
        seen = tuple((p.article_id, p.n) for p in context.passages)
        try:
            focus = await asyncio.to_thread(self._focus_excerpt, asked, context)
            messages = answer_messages(self.templates, passages, asked, focus)
            raw = await self._generate(messages, timings, start)
            # Asked at once, before the checks, so that every draft's doubt is recorded: a replay
            # of changed checks (bench/doubt_threshold.py) needs it for drafts they declined. (It
            # was first moved here because a warm-up step let in while the checks ran left the
            # server to read the whole prompt again, 4–21 s: bench/results/doubt-signal-cold60.json.
            # `answer()`'s question() now keeps warm-ups out.)
            doubt = await self._doubt(messages, timings) if self._weighs_doubt(raw) else None
            headers = await asyncio.to_thread(article_headers, self.library, context.passages)
            checked = check_reply(asked, raw, passages, headers, self.config.subject_check, self.config.max_novel_words)
            relevance = None
            if isinstance(checked, tuple):
                scored = await asyncio.to_thread(evidence_relevance, self.library, asked, checked[1].text)
                relevance = scored.whole if scored is not None else None
                if scored is not None and scored.best < self.config.min_evidence_score:
                    checked = f"the supporting sentence does not answer the question (relevance {scored.best:.1f})"
            if isinstance(checked, tuple) and doubt is not None and doubt > self.config.max_decline_probability:
                checked = f"the model itself leaned to 'the article doesn't say' (p = {doubt:.3f})"
            if isinstance(checked, tuple) and self.config.asks_again(relevance):
                # A focus passage read for this question would be pushed out of the server by the
                # re-ask's prompt: kept first, a follow-up on the same passage resumes after it
                # (a question after a re-ask read it again: first token 5.2 s against 1.6 s).
                checked = await self._reask(
                    asked, checked, context.passages, timings, keeps=messages if context.focus else None
                )
            verified = None
            if isinstance(checked, tuple) and self.config.verify:
                verified = await self._verify(asked, passages, checked[0], timings)
                if verified < self.config.verify_threshold:
                    checked = f"the verification judged it unsupported (p(yes) = {verified:.2f})"
        except LLMError as exc:
            log.warning("LLM unavailable (%s); answering with quoted sentences", exc)
            return await asyncio.to_thread(self.quote_answer, question, hits, self._finish(timings, start))
        if isinstance(checked, str):
            refusal = await asyncio.to_thread(
                self._refusal, question, hits, self._finish(timings, start), reason=checked, draft=raw
            )
            return dataclasses.replace(refusal, verified=verified, seen=seen, decline_p=doubt)
        answer, evidence = checked
        passage = context.passages[evidence.passage]
        citation = await asyncio.to_thread(self._citation, 1, passage, answer, evidence.text)
        text = _with_marker(answer, 1)
        if on_sentence is not None:
            result = on_sentence(text)
            if asyncio.iscoroutine(result):
                await result
        timings = self._finish(timings, start)
        return Answer(
            question,
            text,
            False,
            "llm",
            [citation],
            [],
            None,
            timings,
            draft=raw,
            verified=verified,
            seen=seen,
            decline_p=doubt,
            similarity=hits[0].similarity,
        )

    async def _generate(self, messages: list[ChatMessage], timings: dict[str, float], start: float) -> str:
        """The model's whole JSON reply (streamed, so the first token's time is known). The
        stream is closed as soon as the answer's string is: the brace and the end token that
        follow would cost more decoding steps and add nothing."""
        reply = ANSWER_OPENING
        async with contextlib.aclosing(answer_request(self.llm, messages)) as streamed:
            async for piece in streamed:
                if reply == ANSWER_OPENING:
                    timings["first_token_s"] = time.perf_counter() - start
                reply += piece.text
                if (whole := closed_reply(reply)) is not None:
                    reply = whole
                    break
        timings["llm_s"] = time.perf_counter() - start - timings.get("rewrite_s", 0) - timings.get("retrieve_s", 0)
        return reply

    def _weighs_doubt(self, raw: str) -> bool:
        """Whether the model's doubt is asked about its reply `raw`: when it is a check at all,
        and the reply is an answer (an empty one declined by itself)."""
        return self.config.max_decline_probability < 1.0 and bool((parse_model_answer(raw) or "").strip())

    async def _doubt(self, messages: list[ChatMessage], timings: dict[str, float]) -> float | None:
        """The model's p(empty answer) to `messages` (`empty_answer_probability`), asked right
        after its reply to them, so the server reads one token more."""
        began = time.perf_counter()
        doubt = await empty_answer_probability(self.llm, messages)
        timings["doubt_s"] = time.perf_counter() - began
        return doubt

    async def _reask(
        self,
        question: str,
        checked: tuple[str, Evidence],
        passages: list[Passage],
        timings: dict[str, float],
        keeps: list[ChatMessage] | None = None,
    ) -> tuple[str, Evidence] | str:
        """The checked answer, or why asking the question again from its evidence alone — the
        sentences and the one before them, no article around them — undoes it: the model then
        answers something else, or leans to an empty answer (bench/reask_evidence.py). `keeps`:
        the question's messages, whose reading is kept before the re-ask replaces it."""
        began = time.perf_counter()
        if keeps is not None:
            await self.llm.keep_read(keeps)
        await self._warm_reask(for_question=True)
        answer, evidence = checked
        title = self.library.titles().get(passages[evidence.passage].article_id, "")
        messages = reask_messages(self.templates, title, evidence.context, question)
        again = await read_reask(self.llm, messages, question, answer)
        limit = self.config.reask_max_decline_probability
        reason = reask_reason(question, answer, again, None, limit)
        if reason is None and limit < 1.0:
            reason = reask_reason(question, answer, again, await empty_answer_probability(self.llm, messages), limit)
        timings["reask_s"] = time.perf_counter() - began
        return reason or checked

    async def _warm_reask(self, for_question: bool = False) -> None:
        """Have the server read and keep the re-ask's instructions (once): the re-ask's prompt
        shares nothing with the article the answer was read after, so without a kept prefix
        each re-ask read its ~250 tokens of instructions again (9.7 s p50 on the 2-core Xeon);
        restored from its file, only the evidence and question are read. `for_question`: read
        for a re-ask that waits for it."""
        if self._reask_warm:
            return
        prefix = reask_prefix(self.templates)
        if not await asyncio.to_thread(self.llm.is_kept, prefix):
            try:
                await self.llm.prefill(prefix, keep=True, for_question=for_question)
            except LLMError as exc:  # the re-ask itself then reads them (or fails and says so)
                log.warning("could not warm the re-ask's instructions: %s", exc)
                return
        self._reask_warm = True

    async def _verify(self, question: str, passages: list[str], answer: str, timings: dict[str, float]) -> float:
        """The same model, after the same cached article, judges the answer: its p(yes)."""
        began = time.perf_counter()
        yes = await self.llm.yes_probability(verify_messages(self.templates, passages, question, answer))
        timings["verify_s"] = time.perf_counter() - began
        return yes

    @staticmethod
    def _finish(timings: dict[str, float], start: float) -> dict[str, float]:
        timings["total_s"] = time.perf_counter() - start
        return {k: round(v, 4) for k, v in timings.items()}

    async def warm(self, article_ids: Collection[str] | None = None, when_idle: bool = False) -> None:
        """Load the models, then have the server read each article's windows (a short article's
        one window is the whole article), each a prefix of its own reused by every scope that
        routes to it, behind live questions (with `when_idle`: only while no questions come)."""
        await asyncio.to_thread(self.library.warm_up)
        if self.config.reask:
            await self._warm_reask()
        ids = sorted(article_ids) if article_ids is not None else sorted(self.library.article_ids())
        budget = self._budget_tokens("a question of average length")
        for article_id in ids:
            for window in await asyncio.to_thread(self.windows, article_id):
                if _prefix_tokens(window.passages) <= budget:
                    await self._prefill(window, when_idle)

    async def _prefill(self, context: Context, when_idle: bool = False, at_once: bool = False) -> None:
        """Have the server read the context's prefix a few passages more at a time: each step is
        a prefix of the next (llama.cpp resumes from its cache), `answer.warm_up_step_tokens` at a
        time; a question that comes in cancels the step under way (`PriorityGate.preemptible`).
        `at_once`: in one request, for a question that waits for this prefix anyway (on the 2-core
        EPYC the sample article took ~62 s in steps of 100 tokens, bench/answer_latency.py's
        warm-up, and ~55 s in one, bench/cli_ask.py's first ask)."""
        if await asyncio.to_thread(self._is_warm, context):
            return  # read, or kept on disk by an earlier warm-up (also before a restart): read back on its first question
        began = time.perf_counter()
        texts = [p.text for p in context.passages]
        ends = [len(texts)] if at_once else _steps([estimate_tokens(t) for t in texts], self.config.warm_up_step_tokens)
        previous = None
        try:
            for end in ends:
                messages = answer_messages(self.templates, texts[:end], WARM_UP_QUESTION)
                # `at_once` is a question's own read, which it waits for: inside its `question()`.
                await self.llm.prefill(
                    messages, when_idle, keep=end == len(texts), resumes=previous, for_question=at_once
                )
                previous = messages
        except LLMError as exc:
            log.warning("warm-up failed: %s", exc)
            return
        self._warm_prefixes.add(self._prefix_key(context))
        log.info("warmed %s in %.1f s", context.passages[0].article_id, time.perf_counter() - began)

    def warm_in_background(self, article_ids: Collection[str], when_idle: bool = False) -> None:
        """Warm these articles in the background, behind questions (at most one warm-up task
        per article): a new or re-indexed article between questions; a routing miss (`when_idle`:
        it may never be asked about again) only while no questions come."""
        for article_id in article_ids:
            if article_id in self._warming:
                continue
            self._warming.add(article_id)
            task = asyncio.get_running_loop().create_task(self._warm_one(article_id, when_idle))
            self._warm_tasks.add(task)  # held so the running task is not garbage-collected
            task.add_done_callback(self._warm_tasks.discard)

    async def _warm_one(self, article_id: str, when_idle: bool) -> None:
        try:
            await self.warm([article_id], when_idle)
        finally:
            self._warming.discard(article_id)


@dataclass(frozen=True)
class Relevance:
    """The cross-encoder's scores of a question against an answer's supporting sentences."""

    whole: float  # all of them: answer.reask asks again below answer.reask_below_relevance
    best: float  # their best part (`relevance_parts`): declined below answer.min_evidence_score


def evidence_relevance(library: Library, question: str, evidence: str) -> Relevance | None:
    """How well `evidence` answers `question` (None without a cross-encoder): a true sentence
    about a neighbouring question — how long they spoke, for what he said — scores low. A long
    run-on "sentence" passes the check by its best part; the re-ask's gate still weighs it as a
    whole: an answer drawn from one part of a long sentence is one to ask again."""
    # Scored apart: the int8 cross-encoder's scores move a little with what shares their batch.
    whole = library.relevance(question, [evidence])
    if whole is None:
        return None
    parts = relevance_parts(evidence)
    part_scores = (library.relevance(question, parts) or []) if parts else []
    return Relevance(whole[0], max([whole[0], *part_scores]))


def answer_request(
    llm: ChatModel, messages: list[ChatMessage], max_tokens: int | None = None
) -> AsyncGenerator[Piece, None]:
    """The model's reply to `messages`, streamed from inside its answer's string: the request ends
    with the reply's opening (`ANSWER_OPENING`) as the assistant's own words, which llama.cpp
    continues, and a grammar lets the model write only the rest of the JSON reply. Under
    a JSON-schema grammar the model wrote the opening itself, though nothing else was allowed:
    4 tokens decoded one by one (~0.4 s on 2 cores, in every answer and re-ask); continued, they
    are read with the prompt, and the model weighs the same tokens after them (up to rounding:
    bench/reply_opening.py)."""
    return llm.stream(
        [*messages, ChatMessage("assistant", ANSWER_OPENING)],
        max_tokens,
        options={"grammar": ANSWER_REST_GRAMMAR},
    )


async def read_reask(llm: ChatModel, messages: list[ChatMessage], question: str, answer: str) -> str:
    """The model's reply to the re-ask `messages` of `answer`. The reply is read only until its
    verdict is settled (`settled_reask`): the words after the first one that agrees with the
    answer change nothing and cost ~0.1 s each on 2 cores."""
    again = ANSWER_OPENING
    async with contextlib.aclosing(answer_request(llm, messages, REASK_MAX_TOKENS)) as streamed:
        async for piece in streamed:
            again += piece.text
            if (settled := settled_reask(question, answer, again)) is not None:
                again = settled
                break
    return again


async def empty_answer_probability(llm: ChatModel, messages: list[ChatMessage]) -> float | None:
    """The probability the model gives to an empty answer — its own "the article doesn't say" —
    to `messages` (an answer's or a re-ask's): one token read where it decides whether to answer
    (`DOUBT_OPENING`). After a reply to the same messages the server has read all but that token,
    so it costs one decoding step (~0.1 s on 2 cores). None when the server weighs no
    alternatives."""
    async with contextlib.aclosing(
        llm.stream([*messages, ChatMessage("assistant", DOUBT_OPENING)], 1, alternatives=ALTERNATIVES)
    ) as streamed:
        pieces = [piece async for piece in streamed]
    return decline_probability(pieces)


def article_headers(library: Library, passages: list[Passage]) -> list[str]:
    """The `article_header` of each passage's article (from the library's in-memory snapshot)."""
    titles = library.titles()
    headers = {
        article: article_header(titles.get(article, ""), [p.text for p in library.passages_of([article])])
        for article in {p.article_id for p in passages}
    }
    return [headers[p.article_id] for p in passages]


def _prefix_tokens(passages: list[Passage]) -> int:
    """Estimated tokens of the passages rendered into a prompt (each with its number)."""
    return sum(estimate_tokens(p.text) + 4 for p in passages)


def split_windows(passages: list[Passage], max_tokens: int) -> list[list[Passage]]:
    """`passages` cut into as few runs of consecutive passages as keep each at about `max_tokens`
    or less (0: one run), of about equal length: a cut falls where the running total passes the
    next equal share, so a window exceeds the bound by half a passage at most."""
    total = _prefix_tokens(passages)
    if not passages or max_tokens <= 0 or total <= max_tokens:
        return [passages] if passages else []
    count = math.ceil(total / max_tokens)
    windows: list[list[Passage]] = [[]]
    used = 0
    for passage in passages:
        cost = _prefix_tokens([passage])
        if windows[-1] and used + cost / 2 > total * len(windows) / count:
            windows.append([])
        windows[-1].append(passage)
        used += cost
    return windows


def _steps(costs: list[int], step: int) -> list[int]:
    """Passage counts at which a warm-up sends its growing prefix: each step adds about `step`
    tokens (at least one passage), and the last one is the whole article."""
    ends, since = [], 0
    for i, cost in enumerate(costs, start=1):
        since += cost
        if since >= step:
            ends.append(i)
            since = 0
    if not ends or ends[-1] != len(costs):
        ends.append(len(costs))
    return ends


def _with_marker(sentence: str, n: int) -> str:
    """The answer sentence with its citation marker before the final stop: "… Lviv [1]."."""
    sentence = sentence.strip()
    body, end = (sentence[:-1], sentence[-1]) if sentence[-1:] in ".!?" else (sentence, ".")
    return f"{body.rstrip()} [{n}]{end}"
