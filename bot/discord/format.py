"""Pure text shaping for Discord: answer + sources as markdown, and splitting at 2,000 characters."""

from __future__ import annotations

import re

from discord.utils import escape_markdown, escape_mentions

from bot.answering.pipeline import Answer, Citation
from index.text import excerpt

DISCORD_LIMIT = 2000
_MD_MARKERS = ("```", "**", "__", "~~", "`", "*", "_")
_ATOMIC = re.compile(r"\[\d+\]|<https?://[^>\s]+>|https?://\S+")


def escape_text(text: str) -> str:
    """Article text is shown as text: no markdown, no masked links, no mentions."""
    text = escape_mentions(escape_markdown(text, ignore_links=False))
    # [n] is ours: article text must not forge a citation marker (discord.py leaves brackets alone).
    return re.sub(r"(?<!\\)([\[\]])", r"\\\1", text)


def _source_line(c: Citation) -> str:
    link = f" <{c.source_url}>" if c.source_url else ""
    return f"[{c.n}] **{escape_text(c.article_title)}**, passage {c.passage}{link}\n> {escape_text(excerpt(c.quote or c.text, 300, around=c.claim))}"


def format_answer(answer: Answer) -> str:
    parts = []
    if answer.notice:
        parts.append(f"*{escape_text(answer.notice)}*")
    parts.append(escape_answer(answer.text))
    if answer.citations:
        parts.append("**Sources**\n" + "\n".join(_source_line(c) for c in answer.citations))
    if answer.related:
        parts.append("**Related reading**\n" + "\n".join(_source_line(c) for c in answer.related))
    return "\n\n".join(parts)


def escape_answer(text: str) -> str:
    """Escape the model's text but keep its [n] citation markers readable."""
    pieces = re.split(r"(\[\d+\])", text)
    return "".join(p if re.fullmatch(r"\[\d+\]", p) else escape_text(p) for p in pieces)


INDEXED_PREFIX = "Indexed: "
# The article id of an announcement; ids are [a-z0-9_-] (index.library), escaped titles carry no backtick.
_ANNOUNCED_ID = re.compile(r"\(`([a-z0-9][a-z0-9_-]{0,63})`\), from a feed\.")


def indexed_announcement(title: str, article_id: str) -> str:
    """What the bot posts when a feed item is indexed; `announced_article` reads the id back."""
    return (
        f"{INDEXED_PREFIX}**{escape_text(title)}** (`{article_id}`), from a feed. Ask about it with `/ask`, "
        "or open this message's Apps menu → *Ask about this article* for a thread on it."
    )


def announced_article(content: str) -> str | None:
    """The article id of an `indexed_announcement` text, else None."""
    match = _ANNOUNCED_ID.search(content) if content.startswith(INDEXED_PREFIX) else None
    return match.group(1) if match else None


def _protected_ranges(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in _ATOMIC.finditer(text)]


def _markdown_balanced(prefix: str) -> bool:
    """True when every markdown span opened in `prefix` is closed (escaped markers ignored)."""
    stripped = re.sub(r"\\.", "", prefix)
    for marker in _MD_MARKERS:
        count = stripped.count(marker)
        stripped = stripped.replace(marker, "")
        if count % 2:
            return False
    return True


def _cut_points(text: str) -> list[tuple[int, int]]:
    """(position, priority) pairs where a message may end: 3 paragraph, 2 line, 1 sentence, 0 word."""
    points = []
    for m in re.finditer(r"\n\s*\n|\n|(?<=[.!?])\s+|\s+", text):
        kind = (
            3
            if m.group().count("\n") >= 2
            else 2
            if "\n" in m.group()
            else 1
            if m.start() and text[m.start() - 1] in ".!?"
            else 0
        )
        points.append((m.start(), kind))
    return points


def split_message(text: str, limit: int = DISCORD_LIMIT) -> list[str]:
    """Chunks of at most `limit` characters, cut at the best boundary that does not break a
    citation, a link or a markdown span. Whitespace at the cuts is dropped."""
    text = text.strip()
    if len(text) <= limit:
        return [text] if text else []
    protected = _protected_ranges(text)
    safe = [(pos, kind) for pos, kind in _cut_points(text) if not any(a < pos < b for a, b in protected)]
    chunks, start = [], 0
    while len(text) - start > limit:
        window = [(p, k) for p, k in safe if start < p <= start + limit and _markdown_balanced(text[start:p])]
        if not window:
            window = [(p, k) for p, k in safe if start < p <= start + limit]
        if window:
            best = (
                max(k for p, k in window if p >= start + limit // 2)
                if any(p >= start + limit // 2 for p, _ in window)
                else None
            )
            candidates = [p for p, k in window if best is None or (k == best and p >= start + limit // 2)]
            cut = max(candidates)
        else:
            cut = start + limit  # one unbroken run longer than a message: no choice but to cut it
        chunks.append(text[start:cut].strip())
        start = cut
        while start < len(text) and text[start].isspace():
            start += 1
    if start < len(text):
        chunks.append(text[start:].strip())
    return [c for c in chunks if c]
