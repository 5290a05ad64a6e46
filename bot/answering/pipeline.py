"""Question → retrieve → prompt → LLM → checked citations → Answer. No Discord, no terminal.

Every front end (CLI, chat, Discord) calls `Answerer.answer` and renders the Answer it gets.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass, field

from bot.answering.config import AnswerConfig
from bot.answering.evidence import Evidence, check_reply
from bot.answering.guard import steering_reason
from bot.answering.prompts import (
    ANSWER_SCHEMA,
    Templates,
    answer_messages,
    estimate_tokens,
    fit_passages,
    rewrite_messages,
    verify_messages,
)
from bot.llm.protocol import ChatMessage, ChatModel, LLMError
from index.library import Library
from index.models import Passage, SearchHit
from index.text import content_tokens, split_sentences

log = logging.getLogger(__name__)

REFUSAL = "The article doesn't say."
NO_ARTICLES = "No articles are indexed yet, so there is nothing to answer from."
LLM_DOWN_NOTICE = (
    "The language model is unavailable right now; these are the closest sentences, quoted from the article."
)
_PROMPT_OVERHEAD_TOKENS = 400  # system rules, fences and the answer instruction
_REWRITE_MAX_TOKENS = 64


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
    whole_article: bool
    titles: list[str]  # the title of each passage's article


def scored_sentences(passage: str, wanted: set[str]) -> list[tuple[int, str]]:
    """Each sentence of `passage` with the number of `wanted` content words it contains."""
    sentences = [passage[s.start : s.end] for s in split_sentences(passage)] or [passage]
    return [(len(wanted & content_tokens(sentence)), sentence) for sentence in sentences]


def best_sentence(passage: str, claim: str) -> str:
    """The sentence of `passage` sharing most words with `claim` (the first one when none do)."""
    return max(scored_sentences(passage, content_tokens(claim)), key=lambda pair: pair[0])[1]


class Answerer:
    def __init__(self, library: Library, llm: ChatModel, config: AnswerConfig, templates: Templates | None = None):
        self.library = library
        self.llm = llm
        self.config = config
        self.templates = templates or Templates.load()

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

    def whole_article_context(self, article_ids: Collection[str] | None, question: str) -> Context | None:
        """The whole article(s) in scope when they fit: a prompt prefix the server can cache
        across questions."""
        whole = self.library.passages_of(article_ids)
        whole_cost = sum(estimate_tokens(p.text) + 4 for p in whole)
        if whole and whole_cost <= min(self._budget_tokens(question), self.config.whole_article_max_tokens):
            return Context(whole, True, self._titles(whole))
        return None

    def retrieved_context(self, hits: list[SearchHit], question: str) -> Context:
        """The retrieved passages, best first, as many as fit."""
        texts = fit_passages([h.passage.text for h in hits], self._budget_tokens(question))
        chosen = [h.passage for h in hits[: len(texts)]]
        return Context(chosen, False, self._titles(chosen))

    def _titles(self, passages: list[Passage]) -> list[str]:
        titles = self.library.titles()
        return [titles.get(p.article_id, "") for p in passages]

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
        return Answer(question, REFUSAL, True, "refusal", [], related, notice, timings, reason, draft)

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
        return Answer(question, " ".join(parts), False, "quote", citations, [], LLM_DOWN_NOTICE, timings)

    # -- the pipeline ---------------------------------------------------------------------

    async def answer(
        self,
        question: str,
        article_ids: Collection[str] | None = None,
        history: Sequence[Turn] = (),
        on_sentence: OnSentence | None = None,
    ) -> Answer:
        """Answer `question` from the articles in scope; `on_sentence` gets the answer once it is checked."""
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
        whole = await asyncio.to_thread(self.whole_article_context, article_ids, asked)
        # Reranking orders the passages the prompt will hold; a whole-article prompt holds them all.
        hits = await asyncio.to_thread(self.library.search, query, None, article_ids, rerank=whole is None)
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
        context = whole if whole is not None else await asyncio.to_thread(self.retrieved_context, hits, asked)
        passages = [p.text for p in context.passages]
        seen = tuple((p.article_id, p.n) for p in context.passages)
        position = {(p.article_id, p.n): i for i, p in enumerate(context.passages, start=1)}
        related = [position[key] for h in hits[:2] if (key := (h.passage.article_id, h.passage.n)) in position]
        try:
            messages = answer_messages(self.templates, passages, asked, related)
            raw = await self._generate(messages, timings, start)
            checked = check_reply(
                asked, raw, passages, context.titles, self.config.subject_check, self.config.max_novel_words
            )
            if isinstance(checked, tuple):
                checked = await self._relevant(asked, checked)
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
            return dataclasses.replace(refusal, verified=verified, seen=seen)
        answer, evidence = checked
        citation = await asyncio.to_thread(self._citation, 1, context.passages[evidence.passage], quote=evidence.text)
        text = _with_marker(answer, 1)
        if on_sentence is not None:
            result = on_sentence(text)
            if asyncio.iscoroutine(result):
                await result
        timings = self._finish(timings, start)
        return Answer(
            question, text, False, "llm", [citation], [], None, timings, draft=raw, verified=verified, seen=seen
        )

    async def _generate(self, messages: list[ChatMessage], timings: dict[str, float], start: float) -> str:
        """The model's whole JSON reply (streamed, so the first token's time is known)."""
        reply = ""
        async for piece in self.llm.stream(messages, options={"json_schema": ANSWER_SCHEMA}):
            if not reply:
                timings["first_token_s"] = time.perf_counter() - start
            reply += piece
        timings["llm_s"] = time.perf_counter() - start - timings.get("rewrite_s", 0) - timings.get("retrieve_s", 0)
        return reply

    async def _relevant(self, question: str, checked: tuple[str, Evidence]) -> tuple[str, Evidence] | str:
        """The checked answer, or why its evidence does not answer the question: the cross-encoder
        scores the question against the supporting sentence (a true sentence about a neighbouring
        question — how long they spoke, for what he said — scores low)."""
        scores = await asyncio.to_thread(self.library.relevance, question, [checked[1].text])
        if scores is not None and scores[0] < self.config.min_evidence_score:
            return f"the supporting sentence does not answer the question (relevance {scores[0]:.1f})"
        return checked

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

    async def warm(self, article_ids: Collection[str] | None = None) -> None:
        """Load the embedding model and send the whole-article prefix once, so the server caches
        it before the first real question."""
        await asyncio.to_thread(self.library.warm_up)
        context = await asyncio.to_thread(self.whole_article_context, article_ids, "warm-up")
        if context is None:
            return
        messages = answer_messages(
            self.templates, [p.text for p in context.passages], "What is this article about?", [1]
        )
        try:
            await self.llm.complete(messages, max_tokens=1)
        except LLMError as exc:
            log.warning("warm-up failed: %s", exc)


def _with_marker(sentence: str, n: int) -> str:
    """The answer sentence with its citation marker before the final stop: "… Lviv [1]."."""
    sentence = sentence.strip()
    body, end = (sentence[:-1], sentence[-1]) if sentence[-1:] in ".!?" else (sentence, ".")
    return f"{body.rstrip()} [{n}]{end}"
