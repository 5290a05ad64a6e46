"""One poll of one feed: fetch it (conditionally), parse it, index the new items' articles.

Blocking (network, embedding): front ends run it in a worker thread.
"""

from __future__ import annotations

import calendar
import logging
from dataclasses import dataclass

import feedparser

from bot.feeds.config import FeedsConfig
from bot.feeds.store import Feed, FeedError, FeedStore
from index.errors import DuplicateError, IngestError
from index.fetch import FEED_TYPES, fetch_url
from index.ingest import read_url
from index.ingest_config import IngestConfig
from index.library import Library
from index.models import Article

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FeedItem:
    key: str  # the item's id, else its link: what "seen" is remembered by
    link: str
    title: str
    published: float | None  # seconds since the epoch, when the feed says


@dataclass(frozen=True)
class PollResult:
    feed: Feed
    indexed: list[Article]
    skipped: int  # too old, unreachable or already indexed: seen, never tried again
    not_modified: bool = False
    error: str | None = None  # the feed itself failed: polled again after a back-off


def parse_items(body: bytes, url: str) -> list[FeedItem]:
    """The items of an RSS/Atom document that link somewhere, newest first."""
    parsed = feedparser.parse(body)
    if not parsed.entries and (parsed.bozo or not parsed.get("version")):
        raise FeedError(f"{url} is not an RSS or Atom feed")
    items = []
    for entry in parsed.entries:
        link = entry.get("link")
        if not link:
            continue
        when = entry.get("published_parsed") or entry.get("updated_parsed")
        items.append(
            FeedItem(entry.get("id") or link, link, entry.get("title", ""), calendar.timegm(when) if when else None)
        )
    return sorted(items, key=lambda i: -(i.published or float("inf")))


def check_feed(url: str, ingest: IngestConfig) -> list[FeedItem]:
    """Fetch and parse `url` once (for /feed add): FeedError or IngestError when it is no feed."""
    return parse_items(fetch_url(url, ingest, types=FEED_TYPES).body, url)


def poll_feed(
    feed: Feed, store: FeedStore, library: Library, ingest: IngestConfig, config: FeedsConfig, now: float
) -> PollResult:
    try:
        download = fetch_url(feed.url, ingest, types=FEED_TYPES, etag=feed.etag, last_modified=feed.last_modified)
        items = [] if download.not_modified else parse_items(download.body, feed.url)
    except (IngestError, FeedError) as exc:
        wait = min(config.poll_interval_s * 2 ** (feed.failures + 1), config.max_backoff_s)
        store.failed(feed.id, str(exc), now + wait)
        log.warning("feed %s failed (%s); next poll in %.0f s", feed.url, exc, wait)
        return PollResult(feed, [], 0, error=str(exc))
    indexed: list[Article] = []
    skipped = tried = 0
    by_key = {item.key: item for item in items}
    for key in store.unseen(feed.id, [item.key for item in items]):
        item = by_key[key]
        if item.published is not None and item.published < now - config.max_item_age_days * 86400:
            store.mark_seen(feed.id, key, None)
            skipped += 1
            continue
        if tried == config.max_items_per_poll:
            break  # the rest wait for the next poll
        tried += 1
        try:
            document = read_url(item.link, ingest)
            article = library.add(document, actor=f"feed:{feed.id}", guild_id=feed.guild_id, title=item.title or None)
        except (IngestError, DuplicateError) as exc:
            log.info("feed %s: item %s not indexed: %s", feed.url, item.link, exc)
            store.mark_seen(feed.id, key, None)
            skipped += 1
            continue
        store.mark_seen(feed.id, key, article.id)
        indexed.append(article)
    store.polled(feed.id, now + config.poll_interval_s, download.etag, download.last_modified)
    return PollResult(feed, indexed, skipped, not_modified=download.not_modified)
