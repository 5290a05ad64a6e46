"""News feeds: each new item is indexed once and only once, through the same safe fetcher; an
unchanged feed costs a 304; a failing feed backs off; caps hold. Offline: a local HTTP server
whose feed gains items between polls."""

from __future__ import annotations

import time
from email.utils import formatdate

import pytest

from bot.feeds.config import FeedsConfig
from bot.feeds.poll import check_feed, poll_feed
from bot.feeds.store import FeedError, FeedStore
from index.errors import IngestError
from index.ingest_config import IngestConfig

from .conftest import Route

pytestmark = pytest.mark.slow

LOCAL = IngestConfig(allowed_hosts=("127.0.0.1",))
CONFIG = FeedsConfig(max_items_per_poll=2)
GUILD = 42
STORY = (
    "<html><head><title>{title}</title></head><body><article><p>{text} The council met on Tuesday and "
    "voted after a long debate about the city's libraries, parks and roads.</p></article></body></html>"
)


def rss(site, items: list[tuple[str, str, float]]) -> bytes:
    entries = "".join(
        f"<item><title>{title}</title><link>{site.url(path)}</link><guid>{path}</guid>"
        f"<pubDate>{formatdate(when)}</pubDate></item>"
        for title, path, when in items
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>News</title>{entries}</channel></rss>'.encode()


def story(site, path: str, title: str, text: str) -> None:
    site.routes[path] = Route(body=STORY.format(title=title, text=text).encode())


@pytest.fixture
def store(tmp_path) -> FeedStore:
    return FeedStore(tmp_path / "feeds.sqlite3")


def test_new_items_are_indexed_once_and_only_once(site, store, library):
    now = time.time()
    story(site, "/a", "Budget passes", "The budget passed.")
    story(site, "/b", "Bridge reopens", "The bridge reopened.")
    site.routes["/feed"] = Route(
        content_type="application/rss+xml", body=rss(site, [("Budget passes", "/a", now - 60)])
    )
    feed = store.add(site.url("/feed"), GUILD, None, "test", cap=10)
    first = poll_feed(feed, store, library, LOCAL, CONFIG, now)
    assert [a.title for a in first.indexed] == ["Budget passes"] and first.indexed[0].guild_id == GUILD
    # The feed gains an item: only that one is fetched and indexed.
    site.routes["/feed"] = Route(
        content_type="application/rss+xml",
        body=rss(site, [("Bridge reopens", "/b", now), ("Budget passes", "/a", now - 60)]),
    )
    site.requested.clear()
    second = poll_feed(store.get(feed.id), store, library, LOCAL, CONFIG, now + 1)
    assert [a.title for a in second.indexed] == ["Bridge reopens"] and "/a" not in site.requested
    third = poll_feed(store.get(feed.id), store, library, LOCAL, CONFIG, now + 2)
    assert third.indexed == [] and sorted(a.title for a in library.list_articles()) == [
        "Bridge reopens",
        "Budget passes",
    ]


def test_an_unchanged_feed_answers_304_and_nothing_is_fetched(site, store, library):
    now = time.time()
    story(site, "/a", "Budget passes", "The budget passed.")
    site.routes["/feed"] = Route(
        content_type="application/rss+xml", body=rss(site, [("Budget passes", "/a", now)]), headers={"ETag": '"v1"'}
    )
    feed = store.add(site.url("/feed"), GUILD, None, "test", cap=10)
    poll_feed(feed, store, library, LOCAL, CONFIG, now)
    assert store.get(feed.id).etag == '"v1"'
    site.requested.clear()
    again = poll_feed(store.get(feed.id), store, library, LOCAL, CONFIG, now + 1)
    assert again.not_modified and site.requested == ["/feed"]


def test_caps_old_items_and_failing_links(site, store, library):
    now = time.time()
    for n in range(4):
        story(site, f"/s{n}", f"Story {n}", f"Story number {n} of the day, about topic {n}.")
    items = [(f"Story {n}", f"/s{n}", now - n) for n in range(4)]
    items += [("Old news", "/old", now - 30 * 86400), ("Gone", "/gone", now - 10)]
    site.routes["/feed"] = Route(content_type="application/rss+xml", body=rss(site, items))
    feed = store.add(site.url("/feed"), GUILD, None, "test", cap=10)
    first = poll_feed(feed, store, library, LOCAL, CONFIG, now)
    assert [a.title for a in first.indexed] == ["Story 0", "Story 1"]  # max_items_per_poll, newest first
    assert "/old" not in site.requested  # too old: never fetched
    second = poll_feed(store.get(feed.id), store, library, LOCAL, CONFIG, now + 1)
    assert [a.title for a in second.indexed] == ["Story 2", "Story 3"]
    third = poll_feed(store.get(feed.id), store, library, LOCAL, CONFIG, now + 2)
    assert third.indexed == [] and third.skipped == 2  # "/gone" answers 404 and "/old" is too old: both seen
    site.requested.clear()
    assert poll_feed(store.get(feed.id), store, library, LOCAL, CONFIG, now + 3).indexed == []
    assert site.requested == ["/feed"]  # nothing is tried twice
    with pytest.raises(FeedError, match="already a feed here"):
        store.add(site.url("/feed"), GUILD, None, "test", cap=10)
    with pytest.raises(FeedError, match=r"feeds\.max_feeds_per_server"):
        store.add(site.url("/other"), GUILD, None, "test", cap=1)


def test_a_failing_feed_backs_off_and_recovers(site, store, library):
    now = time.time()
    site.routes["/feed"] = Route(status=500)
    feed = store.add(site.url("/feed"), GUILD, None, "test", cap=10)
    failed = poll_feed(feed, store, library, LOCAL, CONFIG, now)
    assert failed.error and "HTTP 500" in failed.error
    state = store.get(feed.id)
    assert state.failures == 1 and state.next_poll == pytest.approx(now + 2 * CONFIG.poll_interval_s)
    assert store.due(now + CONFIG.poll_interval_s) == []
    poll_feed(state, store, library, LOCAL, CONFIG, now)
    assert store.get(feed.id).next_poll == pytest.approx(now + 4 * CONFIG.poll_interval_s)
    site.routes["/feed"] = Route(content_type="application/rss+xml", body=rss(site, []))
    poll_feed(store.get(feed.id), store, library, LOCAL, CONFIG, now)
    assert store.get(feed.id).failures == 0


def test_private_addresses_and_non_feeds_are_refused(site, store):
    with pytest.raises(IngestError, match=r"private|not public|loopback|refus"):
        check_feed("http://127.0.0.1:9/feed", IngestConfig())  # the bot's own network, not allowed here
    site.routes["/page"] = Route(body=b"<html><body><p>Just a page.</p></body></html>")
    with pytest.raises(FeedError, match="not an RSS or Atom feed"):
        check_feed(site.url("/page"), LOCAL)


def test_an_item_linking_to_a_private_address_is_never_fetched(site, store, library):
    now = time.time()
    site.routes["/feed"] = Route(
        content_type="application/rss+xml",
        body=rss(site, []).replace(
            b"</channel>",
            f"<item><title>x</title><link>http://169.254.169.254/latest/meta-data/</link>"
            f"<pubDate>{formatdate(now)}</pubDate></item></channel>".encode(),
        ),
    )
    feed = store.add(site.url("/feed"), GUILD, None, "test", cap=10)
    result = poll_feed(feed, store, library, LOCAL, CONFIG, now)
    assert result.indexed == [] and result.skipped == 1 and library.list_articles() == []


def test_the_feed_commands(site, config, library, monkeypatch, capsys):
    import dataclasses

    from bot.terminal import cli

    config = dataclasses.replace(config, ingest=LOCAL)
    monkeypatch.setattr(cli, "load_config", lambda path: config)
    monkeypatch.setattr(cli, "open_library", lambda cfg: library)
    story(site, "/a", "Budget passes", "The budget passed.")
    site.routes["/feed"] = Route(
        content_type="application/rss+xml", body=rss(site, [("Budget passes", "/a", time.time())])
    )
    assert cli.main(["feed", "add", site.url("/feed")]) == 0
    assert capsys.readouterr().out.startswith("added feed 1: ")
    assert cli.main(["feed", "add", site.url("/a")]) == 2
    assert "not an RSS or Atom feed" in capsys.readouterr().err
    assert cli.main(["feed", "poll"]) == 0
    assert "indexed budget-passes" in capsys.readouterr().out
    assert cli.main(["feed", "list"]) == 0
    assert "(command line)" in capsys.readouterr().out
    assert cli.main(["feed", "remove", "1"]) == 0 and cli.main(["feed", "remove", "1"]) == 2
    assert "there is no feed 1" in capsys.readouterr().err
