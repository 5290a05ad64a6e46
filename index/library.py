"""The index as one object: add, remove, re-index and search articles.

SQLite holds the truth; the FAISS file and the BM25 index are derived from it. Searches read
an immutable snapshot, which is replaced only after a change has fully landed, so a question
asked during a re-index is answered from the old snapshot.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.chunk import ChunkingConfig, chunk_article
from index.embed import TextEmbedder
from index.errors import IngestError
from index.models import Article, AuditEntry, Document, Passage, SearchHit
from index.rerank import Reranker
from index.search import SearchConfig, SearchIndex
from index.store import NewArticle, Store, content_hash
from index.vectors import build_faiss, read_index, write_index_atomically

log = logging.getLogger(__name__)

DB_NAME = "articlebot.sqlite3"
_ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_TITLE_WORDS = 12
MAX_TITLE_CHARS = 200
# C0/C1 controls (ESC starts terminal escape sequences), DEL, and bidi overrides that reorder text.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


@dataclass(frozen=True)
class Snapshot:
    generation: int
    index: SearchIndex
    guild_ids: dict[str, int | None]


def slugify(text: str, limit: int = 48) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    if len(slug) > limit:
        slug = slug[:limit].rsplit("-", 1)[0]
    return slug or "article"


def tidy_title(title: str) -> str:
    """A title fit to show anywhere: control and escape characters dropped, one line, at most
    MAX_TITLE_CHARS characters."""
    title = " ".join(_CONTROL.sub(" ", title).split())
    if len(title) > MAX_TITLE_CHARS:
        title = title[: MAX_TITLE_CHARS - 1].rstrip() + "…"
    return title or "Untitled"


def default_title(document: Document) -> str:
    if document.title:
        return document.title
    words = document.text.split()
    return " ".join(words[:_TITLE_WORDS]) + (" …" if len(words) > _TITLE_WORDS else "")


def check_article_id(article_id: str) -> str:
    if not _ID_PATTERN.fullmatch(article_id):
        raise IngestError(
            f"article id {article_id!r} is not allowed: use 1-64 lower-case letters, digits, '-' or '_', "
            "starting with a letter or digit"
        )
    return article_id


class Library:
    def __init__(
        self,
        data_dir: Path,
        chunking: ChunkingConfig,
        search: SearchConfig,
        embedder: TextEmbedder,
        reranker: Reranker | None = None,
    ):
        self.data_dir = data_dir
        self.reranker = reranker
        self.chunking = chunking
        self.search_config = search
        self.embedder = embedder
        self.store = Store(data_dir / DB_NAME)
        self._write_lock = threading.Lock()
        self._load_lock = threading.Lock()
        self._snapshot: Snapshot | None = None

    def sibling(self, data_dir: Path) -> Library:
        """A Library over another data folder with the same settings and the same loaded model."""
        return Library(data_dir, self.chunking, self.search_config, self.embedder, self.reranker)

    # -- snapshot --------------------------------------------------------------------------

    def _build_snapshot(self) -> Snapshot:
        stored = self.store.load_passages(self.embedder.model_id)
        dim = stored.vectors.shape[1] if len(stored.passages) else self.embedder.dimension
        vectors = read_index(self.data_dir, stored.generation, len(stored.passages), dim)
        if vectors is None:
            log.info(
                "building the vector index for generation %d (%d passages)", stored.generation, len(stored.passages)
            )
            matrix = stored.vectors if len(stored.passages) else np.zeros((0, dim), np.float32)
            cfg = self.search_config
            vectors = build_faiss(matrix, cfg.flat_max_passages, cfg.hnsw_m, cfg.hnsw_ef_search)
            write_index_atomically(vectors, self.data_dir, stored.generation)
        index = SearchIndex(stored.passages, stored.titles, vectors, self.search_config)
        return Snapshot(stored.generation, index, stored.guild_ids)

    def snapshot(self) -> Snapshot:
        """The current snapshot, reloaded when another process (or this one) changed the store."""
        current = self._snapshot
        if current is not None and current.generation == self.store.generation():
            return current
        with self._load_lock:
            if self._snapshot is None or self._snapshot.generation != self.store.generation():
                self._snapshot = self._build_snapshot()
            return self._snapshot

    # -- reads -----------------------------------------------------------------------------

    def list_articles(self) -> list[Article]:
        return self.store.list_articles()

    def get_article(self, article_id: str) -> Article:
        return self.store.get_article(article_id)

    def article_ids(self) -> set[str]:
        return self.store.article_ids()

    def article_text(self, article_id: str) -> str:
        """The cleaned text the article's passages were cut from."""
        return self.store.article_text(article_id)

    def audit_log(self, limit: int = 100) -> list[AuditEntry]:
        return self.store.audit_log(limit)

    def channel_article(self, channel_id: int) -> str | None:
        """The article a channel's questions use by default, if one was set."""
        return self.store.channel_article(channel_id)

    def set_channel_article(self, channel_id: int, guild_id: int, article_id: str, actor: str) -> None:
        self.store.set_channel_article(channel_id, guild_id, article_id, actor)

    def warm_up(self) -> None:
        """Load the embedding and reranking models now rather than on the first question."""
        self.embedder.embed_query("warm-up")
        if self.reranker:
            self.reranker.score("warm-up", ["warm-up"])

    def embed_queries(self, queries: list[str]) -> np.ndarray:
        return self.embedder.embed_passages(queries)

    def articles_for_guild(self, guild_id: int, global_ids: Collection[str] = ()) -> list[Article]:
        """The articles a guild may see: its own plus the global ones — listed in `global_ids` and
        owned by no server (added by the operator from the command line), so no server can claim a
        global id by adding an article under it."""
        return [
            a
            for a in self.store.list_articles()
            if a.guild_id == guild_id or (a.guild_id is None and a.id in global_ids)
        ]

    def titles(self) -> dict[str, str]:
        """Article id → title, from the current snapshot (no database read)."""
        return dict(self.snapshot().index.titles)

    def passages_of(self, article_ids: Collection[str] | None = None) -> list[Passage]:
        """Passages in article order then passage order; all of them when `article_ids` is None."""
        passages = self.snapshot().index.passages
        return passages if article_ids is None else [p for p in passages if p.article_id in article_ids]

    def search(
        self,
        query: str,
        k: int | None = None,
        article_ids: Collection[str] | None = None,
        *,
        query_vector: np.ndarray | None = None,
        weights: tuple[float, float] | None = None,
        rerank: bool = True,
    ) -> list[SearchHit]:
        """Best passages first. `query_vector` skips embedding (batched callers); `weights`
        (dense, keyword) replaces the configured fusion weights (the eval's baselines);
        `rerank=False` keeps the fused order (a caller that reads the whole article anyway)."""
        snap = self.snapshot()
        if not len(snap.index):
            return []
        vector = self.embedder.embed_query(query) if query_vector is None else query_vector
        k = k or self.search_config.k
        candidates = self.search_config.rerank_candidates
        if not (rerank and self.reranker and candidates):
            return snap.index.search(query, vector, k, article_ids, weights)
        hits = snap.index.search(query, vector, max(k, candidates), article_ids, weights)
        scores = self.reranker.score(query, [h.passage.text for h in hits[:candidates]])
        reordered = [hit for _, hit in sorted(zip(scores, hits), key=lambda pair: -pair[0])]
        return (reordered + hits[candidates:])[:k]

    def relevance(self, query: str, texts: list[str]) -> list[float] | None:
        """The cross-encoder's score of each text as an answer to `query`; None without a reranker."""
        return self.reranker.score(query, texts) if self.reranker else None

    # -- writes ----------------------------------------------------------------------------

    def _passages(self, article_id: str, text: str) -> list[Passage]:
        spans = chunk_article(text, self.chunking)
        return [Passage(article_id, n, text[s.start : s.end], s.start, s.end) for n, s in enumerate(spans, start=1)]

    def _vectors_for(self, passages: list[Passage], progress: bool) -> dict[str, np.ndarray]:
        """Vectors for passages not yet in the embedding cache (unchanged text embeds nothing)."""
        hashes = {content_hash(p.text): p.text for p in passages}
        cached = self.store.cached_vectors(list(hashes), self.embedder.model_id)
        todo = [h for h in hashes if h not in cached]
        log.info("%d passages: %d cached, %d to embed", len(hashes), len(hashes) - len(todo), len(todo))
        fresh = self.embedder.embed_passages([hashes[h] for h in todo], progress=progress)
        return dict(zip(todo, fresh))

    def _unique_id(self, base: str) -> str:
        taken = self.store.article_ids()
        candidate, n = base, 2
        while candidate in taken:
            candidate, n = f"{base[:60]}-{n}", n + 1
        return candidate

    def add(
        self,
        document: Document,
        article_id: str | None = None,
        actor: str = "cli",
        guild_id: int | None = None,
        title: str | None = None,
        progress: bool = False,
    ) -> Article:
        title = tidy_title(title or default_title(document))
        with self._write_lock:
            if article_id is not None:
                check_article_id(article_id)
            # Checked now to spare the embedding work, and again in the write's transaction.
            self.store.check_new(article_id, document.text, guild_id)
            article_id = article_id or self._unique_id(slugify(title))
            self._write(article_id, document, title, guild_id, actor, "add", replace=False, progress=progress)
        return self.store.get_article(article_id)

    def _write(
        self,
        article_id: str,
        document: Document,
        title: str,
        guild_id: int | None,
        actor: str,
        action: str,
        replace: bool,
        progress: bool,
    ) -> None:
        passages = self._passages(article_id, document.text)
        vectors = self._vectors_for(passages, progress)
        article = NewArticle(article_id, title, document.source_url, document.published, document.text, guild_id)
        self.store.put_article(article, passages, vectors, self.embedder.model_id, actor, action, replace=replace)
        self.snapshot()  # write the new vector file now, not on the next question

    def reindex(
        self, article_id: str, actor: str = "cli", document: Document | None = None, progress: bool = False
    ) -> Article:
        """Split and embed an article again: its stored text, or `document` (e.g. a re-fetched page)."""
        with self._write_lock:
            current = self.store.get_article(article_id)
            if document is None:
                document = Document(
                    self.store.article_text(article_id), current.title, current.source_url, current.published
                )
            title = tidy_title(document.title or current.title)
            self._write(
                article_id, document, title, current.guild_id, actor, "reindex", replace=True, progress=progress
            )
        return self.store.get_article(article_id)

    def rebuild(self, actor: str = "cli", progress: bool = False) -> list[Article]:
        """Re-split every article with the current chunking config and rebuild the vector index,
        in one transaction: an interrupted rebuild leaves the store as it was."""
        with self._write_lock:
            items = []
            for article in self.store.list_articles():
                text = self.store.article_text(article.id)
                passages = self._passages(article.id, text)
                new = NewArticle(
                    article.id, article.title, article.source_url, article.published, text, article.guild_id
                )
                items.append((new, passages, self._vectors_for(passages, progress)))
            self.store.replace_articles(items, self.embedder.model_id, actor, "rebuild")
            self.snapshot()
        return self.store.list_articles()

    def remove(self, article_id: str, actor: str = "cli") -> Article:
        with self._write_lock:
            article = self.store.get_article(article_id)
            self.store.delete_article(article_id, actor)
            self.snapshot()
        return article
