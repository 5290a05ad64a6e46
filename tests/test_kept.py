"""The bookkeeping of kept prompt prefixes (the files themselves are written by llama.cpp: see
test_llm_e2e.py for a real save and restore across a server restart)."""

from __future__ import annotations

import os

from bot.llm.kept import KeptPrefixes


def test_names_depend_on_the_model_and_the_first_message_only(tmp_path):
    kept = KeptPrefixes(tmp_path, 1 << 20)
    name = kept.name_for("model-a:123", "<article>…</article>")
    assert name == kept.name_for("model-a:123", "<article>…</article>") and name.endswith(".kv")
    assert name != kept.name_for("model-b:123", "<article>…</article>")
    assert name != kept.name_for("model-a:123", "<article>other</article>")


def test_the_least_recently_used_files_go_first_and_the_one_just_kept_stays(tmp_path):
    kept = KeptPrefixes(tmp_path, 250)
    for age, name in enumerate(["new.kv", "old.kv", "older.kv"]):
        (tmp_path / name).write_bytes(b"x" * 100)
        os.utime(tmp_path / name, (1_000_000 - age * 10, 1_000_000 - age * 10))
    kept.touch("older.kv")  # just used: now the newest
    assert kept.evict(keep="new.kv") == ["old.kv"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new.kv", "older.kv"]
    huge = KeptPrefixes(tmp_path, 10)
    assert huge.evict(keep="new.kv") == ["older.kv"] and kept.exists("new.kv")  # never the one just kept


def test_marking_a_file_gone_meanwhile_does_not_bring_it_back(tmp_path):
    kept = KeptPrefixes(tmp_path, 1 << 20)
    kept.touch("gone.kv")
    assert not kept.exists("gone.kv")
