"""Feed subscriptions and the items already seen, in one SQLite file next to the index.

An item is recorded the first time a poll sees it, whether its article could be indexed or not,
so each item is tried once and only once. Each feed keeps its HTTP validators (ETag,
Last-Modified) and its back-off state.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from index.store import SchemaFile, writing

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feeds (
    id INTEGER PRIMARY KEY,
    guild_id INTEGER,            -- NULL: added from the command line (articles owned by no server)
    channel_id INTEGER,          -- where to announce new articles; NULL: nowhere
    url TEXT NOT NULL,
    added_by TEXT NOT NULL,
    added_at REAL NOT NULL,
    etag TEXT,
    last_modified TEXT,
    failures INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    next_poll REAL NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX IF NOT EXISTS feeds_per_server ON feeds (COALESCE(guild_id, 0), url);
CREATE TABLE IF NOT EXISTS items (
    feed_id INTEGER NOT NULL REFERENCES feeds(id) ON DELETE CASCADE,
    key TEXT NOT NULL,            -- the item's id, else its link
    article_id TEXT,             -- NULL: seen but not indexed (too old, failed, a duplicate)
    seen_at REAL NOT NULL,
    PRIMARY KEY (feed_id, key)
);
"""


class FeedError(ValueError):
    """A feed command that cannot be done as asked; the message says why (one line)."""


@dataclass(frozen=True)
class Feed:
    id: int
    guild_id: int | None
    channel_id: int | None
    url: str
    added_by: str
    added_at: float
    etag: str | None
    last_modified: str | None
    failures: int
    last_error: str | None
    next_poll: float


class FeedStore(SchemaFile):
    schema = _SCHEMA

    def add(self, url: str, guild_id: int | None, channel_id: int | None, actor: str, cap: int) -> Feed:
        """Subscribe; FeedError when the server has the feed already or `cap` feeds."""
        with writing(self.path) as db:  # the checks and the insert as one step, under the write lock
            count = db.execute("SELECT COUNT(*) FROM feeds WHERE guild_id IS ?", (guild_id,)).fetchone()[0]
            if db.execute("SELECT 1 FROM feeds WHERE guild_id IS ? AND url = ?", (guild_id, url)).fetchone():
                raise FeedError(f"{url} is already a feed here")
            if count >= cap:
                raise FeedError(f"there are {count} feeds here already, the most allowed (feeds.max_feeds_per_server)")
            cursor = db.execute(
                "INSERT INTO feeds (guild_id, channel_id, url, added_by, added_at) VALUES (?, ?, ?, ?, ?)",
                (guild_id, channel_id, url, actor, time.time()),
            )
            feed_id = cursor.lastrowid
        return self.get(feed_id or 0)

    def get(self, feed_id: int) -> Feed:
        with self._connect() as db:
            row = db.execute("SELECT * FROM feeds WHERE id = ?", (feed_id,)).fetchone()
        if row is None:
            raise FeedError(f"there is no feed {feed_id}")
        return Feed(*row)

    def feeds(self, guild_id: int | None = None, everywhere: bool = False) -> list[Feed]:
        """The feeds of one server (None: those added from the command line), or of all."""
        query, args = (
            ("SELECT * FROM feeds", ()) if everywhere else ("SELECT * FROM feeds WHERE guild_id IS ?", (guild_id,))
        )
        with self._connect() as db:
            return [Feed(*row) for row in db.execute(query + " ORDER BY id", args).fetchall()]

    def remove(self, feed_id: int, guild_id: int | None) -> Feed:
        """Unsubscribe (the articles it indexed stay); FeedError when `guild_id` has no such feed."""
        feed = self.get(feed_id)
        if feed.guild_id != guild_id:
            raise FeedError(f"there is no feed {feed_id} here")
        with self._connect() as db:
            db.execute("DELETE FROM feeds WHERE id = ?", (feed_id,))
        return feed

    def due(self, now: float) -> list[Feed]:
        with self._connect() as db:
            rows = db.execute("SELECT * FROM feeds WHERE next_poll <= ? ORDER BY next_poll", (now,)).fetchall()
        return [Feed(*row) for row in rows]

    def unseen(self, feed_id: int, keys: list[str]) -> list[str]:
        """`keys` (in order) that no poll of this feed has seen."""
        with self._connect() as db:
            seen = {row[0] for row in db.execute("SELECT key FROM items WHERE feed_id = ?", (feed_id,))}
        return [k for k in keys if k not in seen]

    def mark_seen(self, feed_id: int, key: str, article_id: str | None) -> None:
        with self._connect() as db:
            db.execute("INSERT OR IGNORE INTO items VALUES (?, ?, ?, ?)", (feed_id, key, article_id, time.time()))

    def polled(self, feed_id: int, next_poll: float, etag: str | None = None, last_modified: str | None = None) -> None:
        """A poll succeeded: keep the validators, clear the failures."""
        with self._connect() as db:
            db.execute(
                "UPDATE feeds SET etag = COALESCE(?, etag), last_modified = COALESCE(?, last_modified), "
                "failures = 0, last_error = NULL, next_poll = ? WHERE id = ?",
                (etag, last_modified, next_poll, feed_id),
            )

    def failed(self, feed_id: int, error: str, next_poll: float) -> None:
        with self._connect() as db:
            db.execute(
                "UPDATE feeds SET failures = failures + 1, last_error = ?, next_poll = ? WHERE id = ?",
                (error, next_poll, feed_id),
            )
