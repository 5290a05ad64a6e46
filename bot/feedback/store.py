"""The answers a front end showed and the readers' votes on them, in one SQLite file.

One vote per reader per answer; voting again replaces it (a changed mind, not a second vote).
Answers are keyed by a random id that travels in the buttons' custom ids, and every vote checks
that it comes from the server the answer was given in, so a copied or forged id gets nowhere.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass

from bot.answering.pipeline import Answer
from index.store import SchemaFile

ANSWER_ID_CHARS = 16  # hex digits of a random 64-bit id: unguessable, and short in a custom id

_SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    id TEXT PRIMARY KEY,
    created REAL NOT NULL,
    guild_id INTEGER NOT NULL,
    channel_id INTEGER NOT NULL,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    refused INTEGER NOT NULL,
    citations TEXT NOT NULL,  -- JSON: [{"n", "article_id", "passage", "quote"}]
    scope TEXT NOT NULL       -- JSON: the article ids the question was asked over
);
CREATE TABLE IF NOT EXISTS votes (
    answer_id TEXT NOT NULL REFERENCES answers(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL,
    up INTEGER NOT NULL,
    at REAL NOT NULL,
    PRIMARY KEY (answer_id, user_id)
);
"""


@dataclass(frozen=True)
class CitedPassage:
    n: int
    article_id: str
    passage: int
    quote: str


@dataclass(frozen=True)
class ShownAnswer:
    """An answer as a reader saw it, with its votes."""

    id: str
    created: float
    guild_id: int
    channel_id: int
    question: str
    answer: str
    refused: bool
    citations: tuple[CitedPassage, ...]
    scope: tuple[str, ...]
    up: int = 0
    down: int = 0

    @property
    def disliked(self) -> bool:
        return self.down > self.up

    @property
    def article_id(self) -> str | None:
        """The article the answer came from (its first citation), or the only one it was asked over."""
        if self.citations:
            return self.citations[0].article_id
        return self.scope[0] if len(self.scope) == 1 else None


@dataclass(frozen=True)
class Tally:
    up: int
    down: int


class FeedbackStore(SchemaFile):
    schema = _SCHEMA

    def record(self, answer: Answer, guild_id: int, channel_id: int, scope: list[str]) -> str:
        """Keep an answer about to be shown; returns the id its vote buttons carry."""
        answer_id = secrets.token_hex(ANSWER_ID_CHARS // 2)
        citations = [
            {"n": c.n, "article_id": c.article_id, "passage": c.passage, "quote": c.quote or c.text}
            for c in answer.citations
        ]
        with self._connect() as db:
            db.execute(
                "INSERT INTO answers VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    answer_id,
                    time.time(),
                    guild_id,
                    channel_id,
                    answer.question,
                    answer.text,
                    int(answer.refused),
                    json.dumps(citations),
                    json.dumps(scope),
                ),
            )
        return answer_id

    def vote(self, answer_id: str, guild_id: int, user_id: int, up: bool) -> Tally | None:
        """Record (or change) `user_id`'s vote; the answer's tally after it, or None when there is
        no answer `answer_id` given in `guild_id`."""
        with self._connect() as db:
            found = db.execute("SELECT 1 FROM answers WHERE id = ? AND guild_id = ?", (answer_id, guild_id)).fetchone()
            if found is None:
                return None
            db.execute(
                "INSERT INTO votes VALUES (?, ?, ?, ?) "
                "ON CONFLICT(answer_id, user_id) DO UPDATE SET up = excluded.up, at = excluded.at",
                (answer_id, user_id, int(up), time.time()),
            )
            row = db.execute(
                "SELECT COALESCE(SUM(up), 0), COALESCE(SUM(1 - up), 0) FROM votes WHERE answer_id = ?", (answer_id,)
            ).fetchone()
        return Tally(row[0], row[1])

    def answers(self, guild_id: int | None = None, voted_only: bool = True) -> list[ShownAnswer]:
        """Answers with their tallies, newest first: of one server, or of all; by default only
        those someone voted on."""
        query = (
            "SELECT a.*, COALESCE(SUM(v.up), 0), COALESCE(SUM(1 - v.up), 0) FROM answers a "
            "LEFT JOIN votes v ON v.answer_id = a.id "
            + ("WHERE a.guild_id = ? " if guild_id is not None else "")
            + "GROUP BY a.id "
            + ("HAVING COUNT(v.user_id) > 0 " if voted_only else "")
            + "ORDER BY a.created DESC"
        )
        with self._connect() as db:
            rows = db.execute(query, (guild_id,) if guild_id is not None else ()).fetchall()
        return [
            ShownAnswer(
                row[0],
                row[1],
                row[2],
                row[3],
                row[4],
                row[5],
                bool(row[6]),
                tuple(CitedPassage(**c) for c in json.loads(row[7])),
                tuple(json.loads(row[8])),
                row[9],
                row[10],
            )
            for row in rows
        ]

    def tallies_by_article(self, guild_id: int) -> dict[str, Tally]:
        """👍 and 👎 per article, over the answers given in `guild_id`."""
        totals: dict[str, Tally] = {}
        for shown in self.answers(guild_id):
            if shown.article_id is not None:
                before = totals.get(shown.article_id, Tally(0, 0))
                totals[shown.article_id] = Tally(before.up + shown.up, before.down + shown.down)
        return totals
