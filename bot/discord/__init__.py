"""The Discord front end, on discord.py.

Owns: `client` (the bot: intents, command sync, start-up), `services` (what cogs share: the
core services, cooldowns, the in-flight cap, which articles a server sees, mention policy),
`ask` (/ask, and mention → thread → follow-ups), `articles` (/article commands), `feeds` (/feed
commands and the polling loop), `moderators` (the gate both groups share), `feedback` (the
👍 / 👎 buttons), `format` (answers as Discord markdown, split at 2,000 characters), `config`
(the [discord] settings).
May import: `bot.answering`, `bot.feedback`, `bot.feeds`, `index`, discord.py. The core never
imports this package.
"""
