"""The language model behind the answers.

Owns: `protocol` (ChatModel, ChatMessage, LLMError: what answering depends on), `client` (the
openai AsyncOpenAI client with retries and streaming), `server` (starting and supervising the
local llama.cpp server in a child process), `models` (assembling GGUF files from PyPI
packages), `config` (the [llm] settings).
May import: `index.config_errors` only. Nothing here knows about articles or Discord.
"""
