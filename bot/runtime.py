"""Build the long-lived objects from the one Config: the place where wiring happens."""

from __future__ import annotations

import logging
from pathlib import Path

from bot.answering.pipeline import Answerer
from bot.config import Config
from bot.feedback.store import FeedbackStore
from bot.feeds.store import FeedStore
from bot.llm.client import LLMClient
from index.embed import Embedder
from index.errors import DuplicateError
from index.ingest import read_file
from index.library import Library
from index.models import Article
from index.rerank import CrossEncoderReranker

log = logging.getLogger(__name__)

SAMPLE_ARTICLE_ID = "sample"


def open_library(config: Config) -> Library:
    reranker = CrossEncoderReranker(threads=config.embedding.threads)
    return Library(config.data_dir, config.chunking, config.search, Embedder(config.embedding), reranker)


def kept_prefixes_dir(data_dir: Path) -> Path:
    """Where warmed articles' KV caches are kept beside an index (llm.kept_prefixes_mib)."""
    return data_dir / "llm-state"


def open_answerer(config: Config, library: Library) -> Answerer:
    return Answerer(
        library, LLMClient(config.llm, config.models_dir, kept_prefixes_dir(config.data_dir)), config.answer
    )


def open_feedback(config: Config) -> FeedbackStore:
    """Readers' votes, in their own SQLite file next to the index (a rebuild never touches them)."""
    return FeedbackStore(config.data_dir / "feedback.sqlite3")


def open_feeds(config: Config) -> FeedStore:
    """Feed subscriptions and the items seen, in their own SQLite file next to the index."""
    return FeedStore(config.data_dir / "feeds.sqlite3")


def ensure_sample_article(library: Library, config: Config) -> Article | None:
    """Index the bundled sample article when the store is empty, so a first run has something to ask."""
    if not config.store.sample_article or library.list_articles():
        return None
    document = read_file(config.path(config.store.sample_article), config.ingest)
    try:
        article = library.add(
            document,
            article_id=SAMPLE_ARTICLE_ID,
            actor="setup",
            title=document.title or "Putin rally amid war in Ukraine (sample)",
        )
    except DuplicateError:
        return None
    log.info("indexed the sample article as %r (%d passages)", article.id, article.passage_count)
    return article
