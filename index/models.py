"""Typed records that cross module boundaries in the index package."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Document:
    """Text ready to be split, with whatever metadata the source carried."""

    text: str
    title: str | None = None
    source_url: str | None = None
    published: str | None = None


@dataclass(frozen=True)
class Span:
    """A half-open character range [start, end) in an article's cleaned text."""

    start: int
    end: int


@dataclass(frozen=True)
class Passage:
    """One retrievable piece of an article; `n` counts from 1 in article order."""

    article_id: str
    n: int
    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Article:
    id: str
    title: str
    source_url: str | None
    published: str | None
    added_at: str
    added_by: str
    guild_id: int | None
    passage_count: int


@dataclass(frozen=True)
class SearchHit:
    passage: Passage
    article_title: str
    score: float
    similarity: float  # cosine of the query and passage vectors
    dense_rank: int | None
    keyword_rank: int | None


@dataclass(frozen=True)
class AuditEntry:
    at: str
    actor: str
    action: str
    article_id: str
    detail: str
