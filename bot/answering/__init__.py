"""The answering core: question → retrieval → prompt → LLM → checked citations → Answer.

Owns: `pipeline` (the Answerer and the Answer it returns), `prompts` (templates → chat
messages, token budgets), `citations` (parsing [n] and checking each sentence against its
passage), `verify` (does a sentence answer the question, and does its passage support it),
`guard` (questions that try to steer the bot), `config` (the [answer] settings).
May import: `index` (the Library, the text module) and `bot.llm.protocol`. Never Discord,
never the terminal — every front end renders the Answer this package returns.
"""
