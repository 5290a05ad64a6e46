"""The Discord front end, on discord.py.

Owns: `client` (the bot: intents, command sync, start-up), `services` (what cogs share: the
core services, cooldowns, the in-flight cap, which articles a server sees, mention policy),
`ask` (/ask, and mention → thread → follow-ups), `articles` (/article commands and the
moderator gate), `feedback` (the 👍 / 👎 buttons), `format` (answers as Discord markdown, split at 2,000 characters), `config`
(the [discord] settings).
May import: `bot.answering`, `bot.feedback`, `index`, discord.py. The core never imports this package.
"""
