"""Settings for the LLM: which endpoint and model, and the limits every request runs under."""

from __future__ import annotations

from dataclasses import dataclass

from index.config_errors import require

LOCAL = "local"


@dataclass(frozen=True)
class LLMConfig:
    base_url: str = LOCAL
    model: str = "qwen2.5-coder-1.5b"
    api_key_env: str = "OPENAI_API_KEY"
    threads: int = 2
    context_tokens: int = 12288
    batch_tokens: int = 256
    max_answer_tokens: int = 150
    temperature: float = 0.0
    timeout_s: float = 60.0
    retries: int = 2
    start_timeout_s: float = 180.0
    max_concurrent: int = 1
    warm_up_after_idle_s: float = 3.0
    kept_prefixes_mib: int = 4096  # disk for warmed articles' KV caches, kept across restarts; 0: none
    # llama.cpp's in-memory prompt cache (its default is 8 GiB): the kept files hold the warmed
    # articles, so memory only needs room for a few other prompts (README: memory).
    cache_ram_mib: int = 512
    # Prompt lookup decoding (llama.cpp's ngram-simple speculation): when the last
    # `lookup_ngram_tokens` tokens written also occur in the prompt, the up to `lookup_draft_tokens`
    # that followed them there are checked in one batch. An answer copies the article, so runs of
    # it are accepted at once (README: answer latency). 0 drafts: off.
    lookup_draft_tokens: int = 8
    lookup_ngram_tokens: int = 3

    def __post_init__(self) -> None:
        require(
            self.base_url == LOCAL or self.base_url.startswith(("http://", "https://")),
            "llm.base_url",
            self.base_url,
            '"local" or an http(s) URL of an OpenAI-compatible API',
        )
        require(bool(self.model), "llm.model", self.model, "a model name (or a .gguf path when base_url is local)")
        require(1 <= self.threads <= 64, "llm.threads", self.threads, "1 to 64")
        require(512 <= self.context_tokens <= 131072, "llm.context_tokens", self.context_tokens, "512 to 131072")
        require(32 <= self.batch_tokens <= 8192, "llm.batch_tokens", self.batch_tokens, "32 to 8192")
        require(16 <= self.max_answer_tokens <= 4096, "llm.max_answer_tokens", self.max_answer_tokens, "16 to 4096")
        require(0.0 <= self.temperature <= 2.0, "llm.temperature", self.temperature, "0.0 to 2.0")
        require(self.timeout_s > 0, "llm.timeout_s", self.timeout_s, "a number > 0")
        require(0 <= self.retries <= 10, "llm.retries", self.retries, "0 to 10")
        require(self.start_timeout_s > 0, "llm.start_timeout_s", self.start_timeout_s, "a number > 0")
        require(1 <= self.max_concurrent <= 64, "llm.max_concurrent", self.max_concurrent, "1 to 64")
        require(
            0 <= self.warm_up_after_idle_s <= 600, "llm.warm_up_after_idle_s", self.warm_up_after_idle_s, "0 to 600"
        )

        require(0 <= self.lookup_draft_tokens <= 64, "llm.lookup_draft_tokens", self.lookup_draft_tokens, "0 to 64")
        require(1 <= self.lookup_ngram_tokens <= 16, "llm.lookup_ngram_tokens", self.lookup_ngram_tokens, "1 to 16")
        require(0 <= self.kept_prefixes_mib <= 1 << 20, "llm.kept_prefixes_mib", self.kept_prefixes_mib, "0 to 1048576")

    @property
    def is_local(self) -> bool:
        return self.base_url == LOCAL
