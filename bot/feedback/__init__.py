"""Readers' votes on answers (👍 / 👎): stored, summarised per article, exported as eval cases.

Owns: `store` (the SQLite file of answers shown and the votes on them), `export` (disliked answers
→ an eval dataset folder in the format of `articlebot eval`). Front ends record an answer when
they show it and a vote when a reader gives one; the command line lists and exports them.
May import: `bot.answering` (the Answer type), `index`. Never Discord: the Discord buttons live in
`bot.discord.feedback` and call this package.
"""
