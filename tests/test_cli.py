from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from bot.terminal import cli
from index.library import Library

from .conftest import SAMPLE

pytestmark = pytest.mark.slow


@pytest.fixture
def run(config, embedder, monkeypatch, capsys):
    """Run `articlebot ARGS` in-process against the test's data dir, reusing the loaded model."""
    monkeypatch.setattr(cli, "load_config", lambda path: config)
    monkeypatch.setattr(cli, "open_library", lambda cfg: Library(cfg.data_dir, cfg.chunking, cfg.search, embedder))

    def invoke(*args: str, stdin: bytes = b"") -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin)))
        code = cli.main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return invoke


def test_add_list_search_remove(run, tmp_path: Path):
    code, out, _ = run("index", "add", str(SAMPLE), "--id", "sample", "--title", "Putin rally")
    assert code == 0 and out.startswith("added sample")
    code, out, _ = run(
        "index",
        "add",
        "-",
        "--title",
        "Budget",
        stdin=b"The council approved the budget on Tuesday after a long debate.",
    )
    assert code == 0 and "added budget" in out

    code, out, _ = run("index", "list", "--json")
    assert [json.loads(line)["id"] for line in out.splitlines()] == ["sample", "budget"]

    code, out, _ = run(
        "search", "--json", "-k", "2", "How many people have fled Ukraine?", "Which Kyiv neighbourhood was hit?"
    )
    first, second = (json.loads(line) for line in out.splitlines())
    assert first["query"] == "How many people have fled Ukraine?"
    assert "3.27 million" in first["passages"][0]["text"]
    assert first["passages"][0]["article"] == "sample" and isinstance(first["passages"][0]["passage"], int)
    assert "Podil" in second["passages"][0]["text"] and len(second["passages"]) == 2

    code, out, _ = run("search", "--article", "budget", "Kyiv")
    assert code == 0 and "sample" not in out

    code, out, _ = run("index", "remove", "budget")
    assert code == 0 and "removed budget" in out
    code, out, _ = run("index", "audit")
    assert [line.split()[2] for line in out.splitlines()] == ["remove", "add", "add"]


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (("index", "add", "/no/such/file.txt"), b"", "no such file"),
        (("index", "add", "-"), b"  \n ", "empty"),
        (("index", "add", "-"), bytes(range(256)) * 8, "binary"),
        (("index", "add", "http://127.0.0.1:9/"), b"", "could not fetch"),
        (("index", "remove", "nope"), b"", "no article with id 'nope'"),
        (("search", "--article", "nope", "x"), b"", "no article with id 'nope'"),
        (("index", "add", str(SAMPLE), "--id", "Bad Id!"), b"", "not allowed"),
    ],
)
def test_bad_input_exits_2_and_changes_nothing(run, library, args, stdin, message):
    code, _, _ = run("index", "add", str(SAMPLE), "--id", "sample")
    generation = library.store.generation()
    code, _out, err = run(*args, stdin=stdin)
    assert code == 2
    assert err.count("\n") == 1 and message in err and err.startswith("articlebot: error:")
    assert library.store.generation() == generation


@pytest.mark.parametrize("args", [("ask", "Where was the rally held?"), ("ask", "--json", "x"), ("chat",)])
def test_a_question_with_no_article_indexed_says_so_before_loading_any_model(run, monkeypatch, args):
    """One line saying how to add an article, at once: no model is loaded to find that out."""

    def open_answerer(config, lib):
        raise AssertionError("the models were loaded for a library with no article")

    monkeypatch.setattr(cli, "open_answerer", open_answerer)
    code, out, err = run(*args)
    assert code == 2 and out == "" and err == f"articlebot: error: {cli.NO_ARTICLES_YET}\n"
    assert "articlebot index add" in err


def test_ask_file_answers_every_line_with_one_model(run, library, monkeypatch, tmp_path: Path):
    from bot.answering.config import AnswerConfig
    from bot.answering.pipeline import Answerer

    from .fakes import ScriptedLLM

    llm = ScriptedLLM("A building in the Podil neighborhood of Kyiv was hit.", "")
    opened: list[Answerer] = []

    def open_answerer(config, lib):
        opened.append(Answerer(lib, llm, AnswerConfig(reask=False)))  # one scripted reply an answer
        return opened[-1]

    monkeypatch.setattr(cli, "open_answerer", open_answerer)
    run("index", "add", str(SAMPLE), "--id", "sample")
    questions = tmp_path / "questions.txt"
    questions.write_text(
        'Which Kyiv neighbourhood was hit?\n\n{"question": "What is Putin\'s favourite food?", "article": "sample"}\n'
    )
    code, out, err = run("ask", "--json", "--file", str(questions))
    assert code == 0, err
    first, second = (json.loads(line) for line in out.splitlines())
    assert first["question"] == "Which Kyiv neighbourhood was hit?" and first["citations"][0]["passage"] == 8
    assert "Podil" in first["citations"][0]["quote"] and "total_s" in first["timings"]
    assert second["refused"] and second["reason"]
    assert len(opened) == 1 and len(llm.requests) == 2

    questions.write_text('Which Kyiv neighbourhood was hit?\n{"question": "x", "article": "nope"}\n')
    code, out, err = run("ask", "--json", "--file", str(questions))
    assert code == 2 and out == "" and "no article with id 'nope'" in err and len(llm.requests) == 2
    questions.write_text("{broken\n")
    code, _, err = run("ask", "--file", str(questions))
    assert code == 2 and "questions.txt:1: expected a question" in err


@pytest.mark.parametrize("stream", [True, False])
def test_ask_one_question_prints_the_answer_and_its_source(run, monkeypatch, stream):
    from bot.answering.config import AnswerConfig
    from bot.answering.pipeline import Answerer

    from .fakes import ScriptedLLM

    llm = ScriptedLLM("A building in the Podil neighborhood of Kyiv was hit.")
    monkeypatch.setattr(cli, "open_answerer", lambda config, lib: Answerer(lib, llm, AnswerConfig(reask=False)))
    run("index", "add", str(SAMPLE), "--id", "sample")
    code, out, err = run("ask", *([] if stream else ["--no-stream"]), "Which", "Kyiv", "neighbourhood", "was", "hit?")
    assert code == 0, err
    assert "Podil" in out and "[1]" in out and "passage 8" in out
