"""The house rules of the layout: the core never loads Discord, packages import only what their
docstrings allow, no import circles, and a data folder from the last release still opens."""

from __future__ import annotations

import ast
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from index.errors import StoreVersionError
from index.library import Library
from index.store import SCHEMA_VERSION

from .conftest import ROOT, SAMPLE

# package → the project packages its modules may import (besides their own).
ALLOWED = {
    "index": {"index"},
    "bot.llm": {"bot.llm", "index"},
    "bot.answering": {"bot.answering", "bot.llm.protocol", "index"},
    "bot.evaluation": {"bot.evaluation", "bot.answering", "bot.llm", "index"},
    "bot.feedback": {"bot.feedback", "bot.answering", "index"},
    "bot.feeds": {"bot.feeds", "index"},
    "bot.discord": {"bot.discord", "bot.answering", "bot.feedback", "bot.feeds", "bot.llm", "index"},
}
CORE = ("index", "bot.answering", "bot.llm", "bot.evaluation", "bot.feedback", "bot.feeds")


def _modules() -> dict[str, set[str]]:
    """module name → the project modules it imports (at any depth of the file)."""
    graph: dict[str, set[str]] = {}
    for path in [*ROOT.glob("index/**/*.py"), *ROOT.glob("bot/**/*.py")]:
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        imports: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                imports.add(node.module)
            elif isinstance(node, ast.Import):
                imports.update(alias.name for alias in node.names)
        graph[name] = imports
    return graph


def _package(module: str) -> str | None:
    return next((p for p in sorted(ALLOWED, key=len, reverse=True) if module == p or module.startswith(p + ".")), None)


def test_packages_import_only_what_they_may():
    graph = _modules()
    wrong = []
    for module, imports in graph.items():
        package = _package(module)
        if package is None:
            continue
        for imported in imports:
            if imported.split(".")[0] == "discord" and package in CORE:
                wrong.append(f"{module} imports {imported}")
            if imported.split(".")[0] in ("bot", "index") and not any(
                imported == a or imported.startswith(a + ".") for a in ALLOWED[package]
            ):
                wrong.append(f"{module} imports {imported}")
    assert not wrong, wrong


def test_no_import_circles():
    graph = _modules()
    project = {m: {i for i in imports if i in graph} for m, imports in graph.items()}
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done

    def visit(module: str, path: list[str]) -> list[str] | None:
        state[module] = 1
        for target in project[module]:
            if state.get(target) == 1:
                return path + [module, target]
            if target not in state and (circle := visit(target, path + [module])):
                return circle
        state[module] = 2
        return None

    for module in project:
        if module not in state:
            assert (circle := visit(module, [])) is None, " → ".join(circle)


@pytest.mark.slow
def test_the_installed_command_runs_offline_and_never_loads_discord(tmp_path: Path):
    """The `articlebot` script pip installed, with the model hub switched off: index, list, search
    and ask, in one process (each start imports torch and sentence-transformers, ~12 s on 2 cores),
    which must not load discord.py."""
    config = tmp_path / "config.toml"
    # An LLM endpoint nothing listens on: `ask` goes through the whole pipeline to the quote fallback.
    config.write_text(
        textwrap.dedent(f"""
        [store]
        data_dir = "{tmp_path / "data"}"
        sample_article = ""
        [embedding]
        threads = 1
        [llm]
        base_url = "http://127.0.0.1:9/v1"
        retries = 0
        timeout_s = 2.0
    """)
    )
    script = textwrap.dedent(f"""
        import runpy, sys
        def articlebot(*args):
            sys.argv = ["articlebot", "--config", {str(config)!r}, *args]
            try:
                runpy.run_path({str(Path(sys.executable).parent / "articlebot")!r}, run_name="__main__")
            except SystemExit as stopped:
                assert stopped.code == 0, (args, stopped.code)
        articlebot("index", "add", {str(SAMPLE)!r}, "--id", "sample")
        articlebot("index", "list")
        articlebot("search", "How many people have fled Ukraine?")
        articlebot("ask", "--json", "Which Kyiv neighbourhood was hit?")
        print("LOADED", sorted(m for m in sys.modules if m == "discord" or m.startswith("discord.")))
    """)
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": "/usr/bin:/bin", "OPENAI_API_KEY": "unused", "HOME": str(tmp_path), "HF_HUB_OFFLINE": "1"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    best = done.stdout.split("? How many people have fled Ukraine?")[1].split("2. ")[0]
    assert "3.27 million" in best or "3.3 million people to flee" in best  # the article says both
    assert '"mode": "quote"' in done.stdout  # the ask really ran (and fell back to quoting)
    assert "LOADED []" in done.stdout, done.stdout[-500:]


@pytest.mark.slow
def test_a_data_folder_from_release_0_1_0_opens(tmp_path: Path, embedder):
    data = tmp_path / "data"
    shutil.copytree(ROOT / "tests" / "data" / "release-0.1.0", data)
    with sqlite3.connect(data / "articlebot.sqlite3") as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 0  # 0.1.0 did not version its schema
    library = Library(data, _config().chunking, _config().search, embedder)
    assert library.store.schema_version() == SCHEMA_VERSION
    [article] = library.list_articles()
    assert (article.id, article.guild_id, article.passage_count) == ("flood", 42, 1)
    assert library.channel_article(7) == "flood"
    assert "340 homes" in library.search("How many homes were evacuated?")[0].passage.text
    # Opening again is a no-op; a file from a newer articlebot is refused with a clear message.
    Library(data, _config().chunking, _config().search, embedder)
    with sqlite3.connect(data / "articlebot.sqlite3") as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StoreVersionError, match="newer than this articlebot"):
        Library(data, _config().chunking, _config().search, embedder)


def _config():
    from bot.config import Config

    return Config()
