"""The answering core: question → retrieval → prompt → LLM → checked citations → Answer.

Owns: `pipeline` (the Answerer and the Answer it returns), `prompts` (templates → chat
messages, token budgets), `evidence` (the checks: the article sentence that supports an answer,
whether it is about what was asked, the model's own doubt), `places` (the countries a text names
by their capital), `guard` (questions that try to steer the bot), `config` (the
[answer] settings).
May import: `index` (the Library, the text module), `bot.llm.protocol` and countryinfo's table.
Never Discord, never the terminal — every front end renders the Answer this package returns.
"""
