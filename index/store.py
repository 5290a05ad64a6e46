"""The SQLite file that is the source of truth: articles, passages, embedding cache, audit log.

Every change runs in one transaction and bumps `generation`, which names the FAISS file that
matches it; see index/vectors.py.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from index.errors import DuplicateError, NotFoundError, StoreVersionError
from index.models import Article, AuditEntry, Passage

log = logging.getLogger(__name__)

# Ordered migrations: step i brings a file from user_version i to i + 1. Never edit a released
# step; append a new one. Version 1 is the schema of release 0.1.0 (created with IF NOT EXISTS
# because 0.1.0 files carry user_version 0 and already hold these tables).
_V1 = """
CREATE TABLE IF NOT EXISTS articles(
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    source_url TEXT,
    published TEXT,
    text TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    guild_id INTEGER,
    added_at TEXT NOT NULL,
    added_by TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS passages(
    -- AUTOINCREMENT: an id is never reused, so a stale vector file cannot pass for a new one.
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    article_id TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    n INTEGER NOT NULL,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    text TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    UNIQUE(article_id, n)
);
CREATE TABLE IF NOT EXISTS embeddings(
    content_hash TEXT NOT NULL,
    model TEXT NOT NULL,
    vector BLOB NOT NULL,
    PRIMARY KEY(content_hash, model)
);
CREATE TABLE IF NOT EXISTS audit(
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    article_id TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS channel_articles(
    channel_id INTEGER PRIMARY KEY,
    guild_id INTEGER NOT NULL,
    article_id TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE
);
INSERT OR IGNORE INTO meta(key, value) VALUES ('generation', '0');
"""
MIGRATIONS: tuple[tuple[str, ...], ...] = (tuple(part for part in _V1.split(";\n") if part.strip()),)
SCHEMA_VERSION = len(MIGRATIONS)


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class NewArticle:
    id: str
    title: str
    source_url: str | None
    published: str | None
    text: str
    guild_id: int | None


# An article to write with its passages and the vectors not yet in the embedding cache.
ArticleWrite = tuple[NewArticle, list[Passage], dict[str, np.ndarray]]


@dataclass(frozen=True)
class StoredPassages:
    """All passages in id order with their vectors: what a search index is built from."""

    generation: int
    passages: list[Passage]
    titles: dict[str, str]
    guild_ids: dict[str, int | None]
    vectors: np.ndarray


@contextmanager
def connect(path: Path) -> Iterator[sqlite3.Connection]:
    """One short-lived connection per operation: safe from any thread, and a transaction that
    raises is rolled back as a whole. Also used by the bot's own small SQLite files."""
    db = sqlite3.connect(path, timeout=30)
    try:
        db.execute("PRAGMA foreign_keys=ON")
        with db:
            yield db
    finally:
        db.close()


@contextmanager
def writing(path: Path) -> Iterator[sqlite3.Connection]:
    """A write transaction that holds SQLite's write lock from its first statement, so what it
    checks (an id is free, a text is new) still holds when it writes — even against another
    process writing the same file."""
    db = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        db.execute("PRAGMA foreign_keys=ON")
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
    finally:
        db.close()


class SchemaFile:
    """A small SQLite file of the bot's own (votes, feeds): `schema` is created if missing, and
    each call opens its own short connection, so it is safe from worker threads."""

    schema = ""

    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with connect(path) as db:
            db.executescript(self.schema)

    def _connect(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        return connect(self.path)


class Store:
    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
        self._migrate()

    def _migrate(self) -> None:
        """Bring the file up to SCHEMA_VERSION, one step per transaction; refuse a newer file."""
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            while True:
                # BEGIN IMMEDIATE takes the write lock before the version is read, so two processes
                # starting at once cannot both run the same step.
                db.execute("BEGIN IMMEDIATE")
                try:
                    version = db.execute("PRAGMA user_version").fetchone()[0]
                    if version > SCHEMA_VERSION:
                        raise StoreVersionError(
                            f"{self.path} has schema version {version}, newer than this "
                            f"articlebot's {SCHEMA_VERSION}: upgrade articlebot"
                        )
                    if version == SCHEMA_VERSION:
                        db.execute("COMMIT")
                        return
                    for statement in MIGRATIONS[version]:
                        db.execute(statement)
                    db.execute(f"PRAGMA user_version = {version + 1}")
                    db.execute("COMMIT")
                except BaseException:
                    db.execute("ROLLBACK")
                    raise
                log.info("migrated %s to schema version %d", self.path.name, version + 1)
        finally:
            db.close()

    def schema_version(self) -> int:
        with self._connect() as db:
            return int(db.execute("PRAGMA user_version").fetchone()[0])

    def _connect(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        return connect(self.path)

    def _writing(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        return writing(self.path)

    def generation(self) -> int:
        with self._connect() as db:
            return int(db.execute("SELECT value FROM meta WHERE key='generation'").fetchone()[0])

    @staticmethod
    def _bump(db: sqlite3.Connection) -> None:
        db.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key='generation'")

    @staticmethod
    def _audit(db: sqlite3.Connection, actor: str, action: str, article_id: str, detail: str) -> None:
        db.execute(
            "INSERT INTO audit(at, actor, action, article_id, detail) VALUES (?, ?, ?, ?, ?)",
            (utc_now(), actor, action, article_id, detail),
        )

    # -- reads -----------------------------------------------------------------------------

    _ARTICLE_COLUMNS = "a.id, a.title, a.source_url, a.published, a.added_at, a.added_by, a.guild_id"

    def _article_rows(self, where: str = "", args: tuple[object, ...] = ()) -> list[Article]:
        with self._connect() as db:
            rows = db.execute(
                f"SELECT {self._ARTICLE_COLUMNS}, (SELECT COUNT(*) FROM passages p WHERE p.article_id = a.id) "
                f"FROM articles a {where} ORDER BY a.rowid",
                args,
            ).fetchall()
        return [Article(*row) for row in rows]

    def list_articles(self) -> list[Article]:
        return self._article_rows()

    def get_article(self, article_id: str) -> Article:
        rows = self._article_rows("WHERE a.id = ?", (article_id,))
        if not rows:
            raise NotFoundError(article_id)
        return rows[0]

    def article_text(self, article_id: str) -> str:
        with self._connect() as db:
            row = db.execute("SELECT text FROM articles WHERE id = ?", (article_id,)).fetchone()
        if row is None:
            raise NotFoundError(article_id)
        return str(row[0])

    def check_new(self, article_id: str | None, text: str, guild_id: int | None) -> None:
        """DuplicateError when `article_id` is taken, or when `guild_id` can already see this text
        (its own articles and the global ones: another server's copy is never named)."""
        with self._connect() as db:
            self._check_new(db, article_id, text, guild_id)

    @staticmethod
    def _check_new(db: sqlite3.Connection, article_id: str | None, text: str, guild_id: int | None) -> None:
        # The text first: when two writers race with the same text, the loser hears why.
        row = db.execute(
            "SELECT id FROM articles WHERE content_hash = ? AND (guild_id IS NULL OR guild_id IS ?)",
            (content_hash(text), guild_id),
        ).fetchone()
        if row:
            raise DuplicateError(f"this text is already indexed as article {row[0]!r}")
        if article_id is not None and db.execute("SELECT 1 FROM articles WHERE id = ?", (article_id,)).fetchone():
            raise DuplicateError(
                f"an article with id {article_id!r} already exists; remove it first or pick another id"
            )

    def article_ids(self) -> set[str]:
        with self._connect() as db:
            return {row[0] for row in db.execute("SELECT id FROM articles")}

    def cached_vectors(self, hashes: list[str], model: str) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        with self._connect() as db:
            for i in range(0, len(hashes), 500):
                batch = hashes[i : i + 500]
                marks = ",".join("?" * len(batch))
                for h, blob in db.execute(
                    f"SELECT content_hash, vector FROM embeddings WHERE model = ? AND content_hash IN ({marks})",
                    (model, *batch),
                ):
                    found[h] = np.frombuffer(blob, dtype=np.float32)
        return found

    def load_passages(self, model: str) -> StoredPassages:
        with self._connect() as db:
            generation = int(db.execute("SELECT value FROM meta WHERE key='generation'").fetchone()[0])
            rows = db.execute(
                "SELECT p.article_id, p.n, p.text, p.start, p.end, e.vector FROM passages p "
                "LEFT JOIN embeddings e ON e.content_hash = p.content_hash AND e.model = ? ORDER BY p.id",
                (model,),
            ).fetchall()
            articles = db.execute("SELECT id, title, guild_id FROM articles").fetchall()
        missing = [f"{r[0]}#{r[1]}" for r in rows if r[5] is None]
        if missing:
            raise RuntimeError(f"passages without a {model} vector: {missing[:5]}; run `articlebot index rebuild`")
        passages = [Passage(article_id=r[0], n=r[1], text=r[2], start=r[3], end=r[4]) for r in rows]
        vectors = (
            np.vstack([np.frombuffer(r[5], dtype=np.float32) for r in rows]) if rows else np.zeros((0, 0), np.float32)
        )
        return StoredPassages(
            generation=generation,
            passages=passages,
            titles={a[0]: a[1] for a in articles},
            guild_ids={a[0]: a[2] for a in articles},
            vectors=vectors,
        )

    def channel_article(self, channel_id: int) -> str | None:
        with self._connect() as db:
            row = db.execute("SELECT article_id FROM channel_articles WHERE channel_id = ?", (channel_id,)).fetchone()
        return row[0] if row else None

    def audit_log(self, limit: int = 100) -> list[AuditEntry]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT at, actor, action, article_id, detail FROM audit ORDER BY id DESC LIMIT ?", (limit,)
            ).fetchall()
        return [AuditEntry(*row) for row in rows]

    # -- writes ----------------------------------------------------------------------------

    def put_article(
        self,
        article: NewArticle,
        passages: list[Passage],
        vectors: dict[str, np.ndarray],
        model: str,
        actor: str,
        action: str,
        replace: bool = False,
    ) -> None:
        """Insert (or, with `replace`, swap in) an article with its passages, in one transaction.
        A new article whose id is taken, or whose text its server already has, is refused with
        DuplicateError — checked inside the transaction, so two writers cannot both add it."""
        with self._writing() as db:
            if not replace:
                self._check_new(db, article.id, article.text, article.guild_id)
            self._put(db, (article, passages, vectors), model, actor, action, replace)
            self._bump(db)

    def replace_articles(
        self,
        items: list[ArticleWrite],
        model: str,
        actor: str,
        action: str,
    ) -> None:
        """Swap in new passages for several existing articles at once: all or none of them."""
        with self._writing() as db:
            for item in items:
                self._put(db, item, model, actor, action, replace=True)
            self._bump(db)

    def _put(
        self, db: sqlite3.Connection, item: ArticleWrite, model: str, actor: str, action: str, replace: bool
    ) -> None:
        article, passages, vectors = item
        if replace:
            db.execute("DELETE FROM passages WHERE article_id = ?", (article.id,))
        sql = (
            "INSERT INTO articles(id, title, source_url, published, text, content_hash, guild_id, added_at, added_by) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        )
        if replace:
            # Updated in place, so the article keeps its rowid (list order) and added_at.
            sql += (
                " ON CONFLICT(id) DO UPDATE SET title=excluded.title, source_url=excluded.source_url, "
                "published=excluded.published, text=excluded.text, content_hash=excluded.content_hash"
            )
        db.execute(
            sql,
            (
                article.id,
                article.title,
                article.source_url,
                article.published,
                article.text,
                content_hash(article.text),
                article.guild_id,
                utc_now(),
                actor,
            ),
        )
        db.executemany(
            "INSERT INTO passages(article_id, n, start, end, text, content_hash) VALUES (?, ?, ?, ?, ?, ?)",
            [(p.article_id, p.n, p.start, p.end, p.text, content_hash(p.text)) for p in passages],
        )
        db.executemany(
            "INSERT OR IGNORE INTO embeddings(content_hash, model, vector) VALUES (?, ?, ?)",
            [(h, model, v.astype(np.float32).tobytes()) for h, v in vectors.items()],
        )
        self._audit(db, actor, action, article.id, f"{len(passages)} passages; title={article.title!r}")

    def set_channel_article(self, channel_id: int, guild_id: int, article_id: str, actor: str) -> None:
        with self._connect() as db:
            db.execute(
                "INSERT INTO channel_articles(channel_id, guild_id, article_id) VALUES (?, ?, ?) "
                "ON CONFLICT(channel_id) DO UPDATE SET article_id = excluded.article_id",
                (channel_id, guild_id, article_id),
            )
            self._audit(db, actor, "use", article_id, f"default article of channel {channel_id}")

    def delete_article(self, article_id: str, actor: str) -> None:
        with self._connect() as db:
            cur = db.execute("DELETE FROM articles WHERE id = ?", (article_id,))
            if cur.rowcount == 0:
                raise NotFoundError(article_id)
            self._audit(db, actor, "remove", article_id, "")
            self._bump(db)
