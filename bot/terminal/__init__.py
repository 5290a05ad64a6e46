"""The `articlebot` command line: `index`, `search`, `ask`, `chat`, `eval`, `llm serve`, `run`.

Owns: `cli` (argument parsing and one function per command), `render` (answers as plain text
and JSON). May import everything; loads discord.py only for `run` with a Discord token.
"""
