from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.recorded import RecordedReply
from bench.relevance_threshold import sweep
from bench.second_attempt import agreed, combined
from bot.config import Config
from bot.evaluation.evaluate import EvalQuestion
from bot.evaluation.squad import contains_answer, exact_match, normalize_answer, token_f1
from bot.llm.config import LLMConfig
from bot.terminal import cli
from index.library import Library
from index.models import Passage
from index.rerank import CrossEncoderReranker

SLICE = Path(__file__).resolve().parent / "data" / "squad-slice"


def test_squad_normalisation_and_scores():
    assert normalize_answer("The  Normans, of France!") == "normans of france"
    assert exact_match("the France", ["France", "in France"]) == 1.0
    assert token_f1("in the 10th century", ["10th and 11th centuries"]) == pytest.approx(2 / 7)
    assert contains_answer("They lived in France [1].", ["France"]) and not contains_answer("Francesca", ["France"])


def test_relevance_threshold_is_where_declining_gains_most():
    # (relevance score, right). A right answer declined costing two wrong ones declined, declining
    # below -2.5 gains 1 and below 0 gains 3 - 2 * 1 = 1: the lower threshold is chosen.
    replies = [(-3.0, False), (-1.0, True), (-0.5, False), (-0.2, False), (1.0, True), (1.5, True), (1.8, False)]
    rows, chosen = sweep(replies, refusal_cost=2.0)
    assert chosen == -2.5
    at = {r["threshold"]: r for r in rows}
    assert (at[0.0]["right_declined"], at[0.0]["wrong_declined"], at[0.0]["gain"]) == (1, 3, 1)
    assert at[2.0]["gain"] == 4 - 2 * 3
    # A false refusal weighed as one wrong answer: declining below 0 gains 2.
    assert sweep(replies, refusal_cost=1.0)[1] == 0.0


def test_a_second_attempt_stands_for_a_declined_first_and_as_a_filter_keeps_agreeing_answers():
    passage = Passage("a", 1, "The fire broke out on Monday in the old mill.", 0, 45)

    def reply(qid: str, question: str, draft: str) -> RecordedReply:
        q = EvalQuestion(qid, question, "a", "a#0", ("Monday",), False)
        return RecordedReply(q, {"draft": json.dumps({"answer": draft})}, [passage], ["A"], ["A"])

    first = {
        "kept": (reply("kept", "When did the fire break out?", "On Monday."), ("On Monday.", 0)),
        "agrees": (reply("agrees", "When was the fire?", "Monday night."), None),
        "differs": (reply("differs", "When did it start?", "On Sunday."), None),
    }
    second = {qid: (reply(qid, r.question.question, "On Monday."), ("On Monday.", 0)) for qid, (r, _) in first.items()}
    second["kept"] = (reply("kept", "When did the fire break out?", "On Tuesday."), ("On Tuesday.", 0))
    rows = combined(first, second, agreeing=False)
    assert [r["answered"] and r["gold"] for r in rows] == [True, True, True]
    rows = combined(first, second, agreeing=True)
    assert [r["answered"] for r in rows] == [True, True, False]
    # As a filter: the first answer stands only when the second says the same ("Tuesday" does not).
    assert [r["answered"] for r in agreed(first, second)] == [False, False, False]
    second["kept"] = (reply("kept", "When did the fire break out?", "Monday."), ("Monday.", 0))
    assert [r["answered"] for r in agreed(first, second)] == [True, False, False]


@pytest.mark.slow
def test_eval_on_a_two_article_slice(tmp_path, embedder, monkeypatch, capsys):
    config = Config(
        base_dir=tmp_path, llm=LLMConfig(model="smollm2-135m", threads=1, max_answer_tokens=48, start_timeout_s=60)
    )
    monkeypatch.setattr(cli, "load_config", lambda path: config)
    reranker = CrossEncoderReranker(threads=1)
    monkeypatch.setattr(
        cli, "open_library", lambda cfg: Library(cfg.data_dir, cfg.chunking, cfg.search, embedder, reranker)
    )
    out = tmp_path / "eval"
    assert cli.main(["eval", str(SLICE), "--sample", "4", "--out", str(out)]) == 0
    report = json.loads((out / "eval.json").read_text())
    assert report["articles"] == 2 and report["passages"] >= 8
    for method in ("hybrid + rerank", "hybrid", "dense", "bm25"):
        r = report["retrieval"][method]
        assert (
            r["questions"] == (7 if method == "hybrid + rerank" else 20)
            and 0.5 <= r["recall@10"] <= 1.0
            and r["recall@1"] <= r["recall@5"] <= r["recall@10"]
        )
    answers = report["answers"]
    assert answers["questions"] == 4 and answers["answerable"] == 2 and answers["unanswerable"] == 2
    records = [json.loads(line) for line in (out / "answers.jsonl").read_text().splitlines()]
    assert len(records) == 4 and "total_s" in answers["latency"]
    # Warmed as a running bot's articles are: each question read its article (both are under
    # answer.window_tokens: one window, the whole article) from the server's cache, and the
    # warmed prefixes are kept on disk for the next run.
    assert report["warmed"] and list((out / "index" / "llm-state").glob("*.kv"))
    bench = Library(out / "index", config.chunking, config.search, embedder)
    for r in (r for r in records if r["seen"]):
        article = r["seen"][0][0]
        assert [tuple(s) for s in r["seen"]] == [(article, p.n) for p in bench.passages_of([article])]
    # The report is computed from the very answers written beside it.
    unanswerable = [r for r in records if r["is_impossible"]]
    assert answers["unanswerable_declined"] == sum(r["refused"] for r in unanswerable) / len(unanswerable)
    cited = [flag for r in records if not r["is_impossible"] for flag in r["citations_with_gold_answer"]]
    assert answers["citation_precision"] == (round(sum(cited) / len(cited), 4) if cited else 0.0)
    assert (out / "tradeoff.png").read_bytes()[:4] == b"\x89PNG"
    row = "| hybrid + rerank (7 q) |"
    assert row in (out / "eval.md").read_text() and row in capsys.readouterr().out


def test_eval_refuses_a_folder_that_is_not_a_benchmark(tmp_path, config, embedder, monkeypatch, capsys):
    monkeypatch.setattr(cli, "load_config", lambda path: config)
    monkeypatch.setattr(cli, "open_library", lambda cfg: Library(cfg.data_dir, cfg.chunking, cfg.search, embedder))
    assert cli.main(["eval", str(tmp_path), "--retrieval-only"]) == 2
    assert "not a benchmark folder" in capsys.readouterr().err
