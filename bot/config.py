"""Load and validate config.toml once into one typed, immutable Config.

Each section is a frozen dataclass owned by the module that uses it; this module only maps
TOML tables onto them and reports errors by key. Secrets never live here: they come from env
vars, named in the config (e.g. `llm.api_key_env`).
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from bot.answering.config import AnswerConfig
from bot.discord.config import DiscordConfig
from bot.feeds.config import FeedsConfig
from bot.llm.config import LLMConfig
from index.chunk import ChunkingConfig
from index.config_errors import ConfigError, require
from index.embed import EmbeddingConfig
from index.ingest_config import IngestConfig
from index.search import SearchConfig

CONFIG_ENV = "ARTICLEBOT_CONFIG"
DEFAULT_CONFIG = Path("config.toml")

T = TypeVar("T")


@dataclass(frozen=True)
class StoreConfig:
    data_dir: str = "data"
    sample_article: str = "samples/seed-article.txt"


@dataclass(frozen=True)
class Config:
    base_dir: Path = field(default_factory=Path.cwd)
    store: StoreConfig = field(default_factory=StoreConfig)
    ingest: IngestConfig = field(default_factory=IngestConfig)
    chunking: ChunkingConfig = field(default_factory=ChunkingConfig)
    embedding: EmbeddingConfig = field(default_factory=EmbeddingConfig)
    search: SearchConfig = field(default_factory=SearchConfig)
    llm: LLMConfig = field(default_factory=LLMConfig)
    answer: AnswerConfig = field(default_factory=AnswerConfig)
    discord: DiscordConfig = field(default_factory=DiscordConfig)
    feeds: FeedsConfig = field(default_factory=FeedsConfig)

    def path(self, value: str) -> Path:
        """Relative paths in the config are relative to the config file's folder."""
        p = Path(value).expanduser()
        return p if p.is_absolute() else self.base_dir / p

    @property
    def data_dir(self) -> Path:
        return self.path(self.store.data_dir)

    @property
    def models_dir(self) -> Path:
        """Where GGUF files assembled from package parts are kept."""
        return self.data_dir / "models"


def _type_name(tp: Any) -> str:
    return {int: "an integer", float: "a number", str: "a string", bool: "true or false"}.get(tp, str(tp))


def _coerce(key: str, value: Any, tp: Any) -> Any:
    origin = typing.get_origin(tp)
    if origin is tuple:
        item = typing.get_args(tp)[0]  # tuple[X, ...]: every item an X
        valid = isinstance(value, list) and all(isinstance(v, item) and not isinstance(v, bool) for v in value)
        require(valid, key, value, {str: "a list of strings", int: "a list of integers"}[item])
        return tuple(value)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(tp) if a is not type(None)]
        return _coerce(key, value, options[0])
    if tp is float:
        require(isinstance(value, (int, float)) and not isinstance(value, bool), key, value, _type_name(float))
        return float(value)
    if tp is int:
        require(isinstance(value, int) and not isinstance(value, bool), key, value, _type_name(int))
        return value
    require(isinstance(value, tp), key, value, _type_name(tp))
    return value


def _section(name: str, cls: type[T], table: Any) -> T:
    require(isinstance(table, dict), f"[{name}]", table, "a table")
    hints = typing.get_type_hints(cls)
    fields = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(table) - fields)
    if unknown:
        raise ConfigError(f"{name}.{unknown[0]}", table[unknown[0]], f"one of the keys {', '.join(sorted(fields))}")
    values = {key: _coerce(f"{name}.{key}", value, hints[key]) for key, value in table.items()}
    return cls(**values)


def _sections() -> dict[str, type]:
    hints = typing.get_type_hints(Config)
    return {f.name: hints[f.name] for f in dataclasses.fields(Config) if f.name != "base_dir"}


def parse_config(data: dict[str, Any], base_dir: Path) -> Config:
    sections = _sections()
    unknown = sorted(set(data) - set(sections))
    if unknown:
        raise ConfigError(f"[{unknown[0]}]", data[unknown[0]], f"one of the sections {', '.join(sections)}")
    built = {name: _section(name, cls, data.get(name, {})) for name, cls in sections.items()}
    return Config(base_dir=base_dir, **built)


def load_config(path: Path | None = None) -> Config:
    """Read `path`, else $ARTICLEBOT_CONFIG, else ./config.toml (defaults when that is absent)."""
    explicit = path or (Path(os.environ[CONFIG_ENV]) if os.environ.get(CONFIG_ENV) else None)
    target = explicit or DEFAULT_CONFIG
    if not target.exists():
        if explicit:  # named by the user: say where they named it
            where = "--config" if path else f"${CONFIG_ENV}"
            raise ConfigError(where, str(target), "the path of an existing TOML file")
        return Config(base_dir=Path.cwd())
    try:
        data = tomllib.loads(target.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(target), "(file)", f"valid TOML ({exc})") from None
    return parse_config(data, target.resolve().parent)
