from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import Config, load_config, parse_config
from index.config_errors import ConfigError
from index.search import SearchConfig

ROOT = Path(__file__).resolve().parent.parent


def test_shipped_config_matches_the_defaults():
    loaded = load_config(ROOT / "config.toml")
    assert loaded == Config(base_dir=ROOT)


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"search": {"k": 0}}, "search.k"),
        ({"search": {"k": "five"}}, "search.k"),
        ({"search": {"colour": 1}}, "search.colour"),
        ({"chunking": {"min_words": 100, "max_words": 120}}, "chunking.max_words"),
        ({"ingest": {"allowed_hosts": "localhost"}}, "ingest.allowed_hosts"),
        ({"embeddings": {}}, "[embeddings]"),
        ({"answer": {"focus_passage": True}}, "answer.focus_passage"),
        ({"answer": {"focus_sentences": -1}}, "answer.focus_sentences"),
        ({"answer": {"reask_max_decline_probability": 1.5}}, "answer.reask_max_decline_probability"),
        ({"answer": {"reask_below_relevance": 500}}, "answer.reask_below_relevance"),
    ],
)
def test_bad_values_name_the_key(data, key):
    with pytest.raises(ConfigError) as info:
        parse_config(data, Path("."))
    assert info.value.key == key
    assert key in str(info.value)


def test_relative_paths_resolve_against_the_config_file(tmp_path: Path):
    path = tmp_path / "c.toml"
    path.write_text('[store]\ndata_dir = "d"\n[search]\nk = 3\ndense_weight = 2\n')
    config = load_config(path)
    assert config.data_dir == tmp_path / "d"
    assert config.search == SearchConfig(k=3, dense_weight=2.0)


def test_missing_explicit_config_is_an_error_naming_where_it_was_set(tmp_path: Path, monkeypatch):
    with pytest.raises(ConfigError, match=r"--config .*existing TOML"):
        load_config(tmp_path / "nope.toml")
    monkeypatch.setenv("ARTICLEBOT_CONFIG", str(tmp_path / "gone.toml"))
    with pytest.raises(ConfigError, match=r"\$ARTICLEBOT_CONFIG = .*gone.toml"):
        load_config()


def test_shards_are_configured_and_checked(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text("[discord]\nshard_count = 4\nshard_ids = [0, 1]\n")
    loaded = load_config(config)
    assert (loaded.discord.shard_count, loaded.discord.shard_ids) == (4, (0, 1))
    for bad in ("shard_ids = [5]\nshard_count = 4", 'shard_ids = ["a"]\nshard_count = 2', "shard_ids = [0]"):
        config.write_text(f"[discord]\n{bad}\n")
        with pytest.raises(ConfigError, match="shard_ids"):
            load_config(config)
