"""News feeds that index themselves: RSS/Atom subscriptions per server, polled for new items.

Owns: `config` (the [feeds] settings), `store` (subscriptions, their HTTP validators and back-off,
and the items already seen, in SQLite), `poll` (fetch a feed through the safe fetcher, parse it
with feedparser, index each new item's linked article). Front ends decide when to poll and
where to announce: the Discord cog (`bot.discord.feeds`) and `articlebot feed poll`.
May import: `index`. Never Discord.
"""
