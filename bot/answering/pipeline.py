"""Question → retrieve → prompt → LLM → checked citations → Answer. No Discord, no terminal.

Every front end (CLI, chat, Discord) calls `Answerer.answer` and renders the Answer it gets.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass, field

from bot.answering.citations import CitationChecker, answers_question, content_tokens, parse_answer
from bot.answering.config import AnswerConfig
from bot.answering.guard import looks_like_injection
from bot.answering.prompts import Templates, answer_messages, estimate_tokens, fit_passages, rewrite_messages
from bot.llm.protocol import ChatModel, LLMError
from index.library import Library
from index.models import Passage, SearchHit
from index.text import split_sentences

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


@dataclass(frozen=True)
class Turn:
    question: str
    answer: str


OnSentence = Callable[[str], Awaitable[None] | None]


@dataclass(frozen=True)
class Context:
    passages: list[Passage]
    whole_article: bool


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

    def choose_context(self, hits: list[SearchHit], article_ids: Collection[str] | None, question: str) -> Context:
        """The whole article(s) in scope when they fit — a prompt prefix the server can cache
        across questions — else the retrieved passages, best first, as many as fit."""
        budget = self._budget_tokens(question)
        whole = self.library.passages_of(article_ids)
        whole_cost = sum(estimate_tokens(p.text) + 4 for p in whole)
        if whole and whole_cost <= min(budget, self.config.whole_article_max_tokens):
            return Context(whole, whole_article=True)
        texts = fit_passages([h.passage.text for h in hits], budget)
        return Context([h.passage for h in hits[: len(texts)]], whole_article=False)

    def _citation(self, n: int, passage: Passage, claim: str = "") -> Citation:
        article = self.library.get_article(passage.article_id)
        return Citation(
            n,
            passage.article_id,
            article.title,
            passage.n,
            passage.text,
            article.source_url,
            best_sentence(passage.text, claim),
        )

    def _refusal(
        self, question: str, hits: list[SearchHit], timings: dict[str, float], notice: str | None = None
    ) -> Answer:
        related = [
            self._citation(i, h.passage, question) for i, h in enumerate(hits[: self.config.related_passages], start=1)
        ]
        return Answer(question, REFUSAL, True, "refusal", [], related, notice, timings)

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
        """Answer `question` from the articles in scope; `on_sentence` gets each checked sentence as it streams."""
        start = time.perf_counter()
        question = self.check_question(question)
        timings: dict[str, float] = {}
        if looks_like_injection(question):
            log.info("declined a question that looks like prompt injection")
            return self._refusal(question, [], self._finish(timings, start))
        query = await self.rewrite(history, question)
        timings["rewrite_s"] = time.perf_counter() - start
        hits = await asyncio.to_thread(self.library.search, query, None, article_ids)
        timings["retrieve_s"] = time.perf_counter() - start - timings["rewrite_s"]
        if not hits:
            notice = None if self.library.list_articles() else NO_ARTICLES
            return self._refusal(question, hits, self._finish(timings, start), notice)
        if hits[0].similarity < self.config.min_similarity and hits[0].keyword_rank is None:
            return self._refusal(question, hits, self._finish(timings, start))
        # The user's own words are answered; a follow-up's standalone form rides along so the
        # model knows what "there" or "he" refers to.
        asked = question if query == question else f"{question} (that is: {query})"
        context = await asyncio.to_thread(self.choose_context, hits, article_ids, asked)
        position = {(p.article_id, p.n): i for i, p in enumerate(context.passages, start=1)}
        related = [position[key] for h in hits[:3] if (key := (h.passage.article_id, h.passage.n)) in position]
        messages = answer_messages(self.templates, [p.text for p in context.passages], asked, related)
        checker = CitationChecker([p.text for p in context.passages], self.config.support_threshold)
        try:
            rendered = await self._stream_checked(messages, checker, on_sentence, timings, start)
        except LLMError as exc:
            log.warning("LLM unavailable (%s); answering with quoted sentences", exc)
            return self.quote_answer(question, hits, self._finish(timings, start))
        if not rendered or not answers_question(asked, [s.text for s in checker.kept]):
            return self._refusal(question, hits, self._finish(timings, start))
        citations = [
            self._citation(i, context.passages[n - 1], " ".join(s.text for s in checker.kept if n in s.sources))
            for i, n in enumerate(checker.used, start=1)
        ]
        return Answer(question, " ".join(rendered), False, "llm", citations, [], None, self._finish(timings, start))

    async def _stream_checked(
        self,
        messages,
        checker: CitationChecker,
        on_sentence: OnSentence | None,
        timings: dict[str, float],
        start: float,
    ) -> list[str]:
        """Stream the model's answer and pass on each sentence once it is complete and checked."""
        text, done, rendered = "", 0, []

        async def emit(upto: int) -> None:
            nonlocal done
            for draft in drafts[done:upto]:
                checked = checker.check(draft)
                if checked is not None:
                    sentence = checker.render(checked)
                    rendered.append(sentence)
                    if on_sentence is not None:
                        result = on_sentence(sentence)
                        if asyncio.iscoroutine(result):
                            await result
            done = max(done, upto)

        async for piece in self.llm.stream(messages):
            if not text:
                timings["first_token_s"] = time.perf_counter() - start
            text += piece
            drafts = parse_answer(text)
            # A sentence is final once the next one has begun with a word (not just a marker).
            if len(drafts) > done + 1 and any(ch.isalpha() for ch in drafts[-1].text):
                await emit(len(drafts) - 1)
        drafts = parse_answer(text)
        await emit(len(drafts))
        timings["llm_s"] = time.perf_counter() - start - timings.get("rewrite_s", 0) - timings.get("retrieve_s", 0)
        log.debug("model answer %r → %d sentences kept, %d dropped", text, len(checker.kept), len(checker.dropped))
        return rendered

    @staticmethod
    def _finish(timings: dict[str, float], start: float) -> dict[str, float]:
        timings["total_s"] = time.perf_counter() - start
        return {k: round(v, 4) for k, v in timings.items()}

    async def warm(self, article_ids: Collection[str] | None = None) -> None:
        """Load the embedding model and send the whole-article prefix once, so the server caches
        it before the first real question."""
        await asyncio.to_thread(self.library.warm_up)
        context = self.choose_context([], article_ids, "warm-up")
        if not context.whole_article:
            return
        messages = answer_messages(
            self.templates, [p.text for p in context.passages], "What is this article about?", [1]
        )
        try:
            await self.llm.complete(messages, max_tokens=1)
        except LLMError as exc:
            log.warning("warm-up failed: %s", exc)
