"""The conversation side of articlebot: question → retrieve → prompt → LLM → checked reply.

Sub-packages, one side each (arrows are the only imports allowed):
- `answering/` — the core pipeline: prompts, the injection guard, citation checking, the
  Answerer. Imports `index` and the LLM *protocol* only; never Discord or the terminal.
- `llm/` — the language model: the openai client, the supervised local llama.cpp server, the
  packaged model files. Imports nothing else of the project.
- `discord/` — the Discord front end (discord.py): client, /ask and mentions, moderator
  commands, message formatting. Imports `answering`, `index`.
- `feedback/` — readers' 👍 / 👎 on answers: stored, summarised per article, exported as eval
  cases. Imports `answering` (the Answer type), `index`.
- `feeds/` — RSS/Atom subscriptions whose new items index themselves. Imports `index`.
- `terminal/` — the `articlebot` command line and its plain-text rendering.
- `evaluation/` — `articlebot eval`: benchmark loading, metrics, latency summaries.
Top-level modules: `config` (the one validated Config), `runtime` (wiring objects from it).
"""
