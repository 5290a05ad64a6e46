"""Readers' votes: stored once per reader, only in the server the answer was given in, and
exported as eval cases `articlebot eval` can load once reviewed."""

from __future__ import annotations

import json

import pytest

from bot.answering.pipeline import Answer, Citation
from bot.evaluation.evaluate import load_dataset
from bot.feedback.export import REVIEW_FLAG, export_cases
from bot.feedback.store import FeedbackStore
from bot.terminal import cli
from index.clean import clean_text
from index.models import Document

GUILD, OTHER_GUILD, CHANNEL = 10, 20, 30


def answer(question: str = "Which Kyiv neighbourhood was hit?", article: str = "sample") -> Answer:
    quote = "A building in the Podil neighborhood of Kyiv was hit."
    return Answer(
        question, "Podil was hit [1].", False, "llm", [Citation(1, article, "Putin rally", 8, quote, None, quote)]
    )


@pytest.fixture
def store(tmp_path) -> FeedbackStore:
    return FeedbackStore(tmp_path / "feedback.sqlite3")


def test_one_vote_per_reader_changeable(store):
    shown = store.record(answer(), GUILD, CHANNEL, ["sample"])
    store.vote(shown, GUILD, user_id=1, up=True)
    again = store.vote(shown, GUILD, user_id=1, up=True)  # the same reader again: still one vote
    assert (again.up, again.down) == (1, 0)
    tally = store.vote(shown, GUILD, user_id=2, up=True)
    assert (tally.up, tally.down) == (2, 0)
    changed = store.vote(shown, GUILD, user_id=1, up=False)
    assert (changed.up, changed.down) == (1, 1)
    [row] = store.answers()
    assert (row.up, row.down, row.article_id, row.disliked) == (1, 1, "sample", False)


def test_a_vote_from_another_server_or_on_an_unknown_id_counts_for_nothing(store):
    shown = store.record(answer(), GUILD, CHANNEL, ["sample"])
    assert store.vote(shown, OTHER_GUILD, user_id=1, up=False) is None
    assert store.vote("0123456789abcdef", GUILD, user_id=1, up=False) is None
    assert store.answers() == []  # nothing was voted on
    assert [a.id for a in store.answers(voted_only=False)] == [shown]


def test_tallies_per_article_stay_in_their_server(store):
    for guild, up in ((GUILD, False), (GUILD, False), (OTHER_GUILD, True)):
        store.vote(store.record(answer(), guild, CHANNEL, ["sample"]), guild, user_id=1, up=up)
    mine = store.tallies_by_article(GUILD)["sample"]
    assert (mine.up, mine.down) == (0, 2)
    theirs = store.tallies_by_article(OTHER_GUILD)["sample"]
    assert (theirs.up, theirs.down) == (1, 0)


def test_disliked_answers_export_as_flagged_eval_cases(store, library, sample_text, tmp_path):
    library.add(Document(text=clean_text(sample_text)), article_id="sample", title="Putin rally")
    disliked = store.record(answer(), GUILD, CHANNEL, ["sample"])
    store.vote(disliked, GUILD, user_id=1, up=False)
    gone = store.record(answer("What about the budget?", article="budget"), GUILD, CHANNEL, ["budget"])
    store.vote(gone, GUILD, user_id=1, up=False)
    result = export_cases([a for a in store.answers() if a.disliked], library, tmp_path / "cases")
    assert (result.cases, result.articles, result.skipped) == (1, 1, 1)
    [case] = [json.loads(line) for line in (tmp_path / "cases" / "questions.jsonl").read_text().splitlines()]
    assert case["question"] == "Which Kyiv neighbourhood was hit?" and case["doc_id"] == "sample"
    assert case["flags"] == [REVIEW_FLAG] and case["votes"] == {"up": 0, "down": 1}
    assert "Podil" in case["bot_cited"][0]
    # Loadable by `articlebot eval`, which skips it until someone has reviewed it…
    dataset = load_dataset(tmp_path / "cases")
    assert list(dataset.articles) == ["sample"] and dataset.questions == []
    assert "Podil" in dataset.articles["sample"][1][0][1]
    # …and then it is an eval case like any other.
    case |= {"flags": [], "answers": ["Podil"], "evidence": "Podil neighborhood"}
    (tmp_path / "cases" / "questions.jsonl").write_text(json.dumps(case) + "\n")
    [question] = load_dataset(tmp_path / "cases").questions
    assert question.answers == ("Podil",) and question.evidence == "Podil neighborhood"


@pytest.mark.slow
def test_the_feedback_commands(config, embedder, library, sample_text, monkeypatch, capsys, tmp_path):
    library.add(Document(text=clean_text(sample_text)), article_id="sample", title="Putin rally")
    store = FeedbackStore(config.data_dir / "feedback.sqlite3")
    store.vote(store.record(answer(), GUILD, CHANNEL, ["sample"]), GUILD, user_id=1, up=False)
    store.vote(store.record(answer("Who spoke?"), GUILD, CHANNEL, ["sample"]), GUILD, user_id=1, up=True)
    monkeypatch.setattr(cli, "load_config", lambda path: config)
    monkeypatch.setattr(cli, "open_library", lambda cfg: library)
    assert cli.main(["feedback", "list"]) == 0
    out = capsys.readouterr().out
    assert "Which Kyiv neighbourhood was hit?" in out and "Who spoke?" not in out and "+0 -1" in out
    assert cli.main(["feedback", "list", "--all", "--json"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 2
    assert cli.main(["feedback", "export", str(tmp_path / "out")]) == 0
    assert capsys.readouterr().out.startswith("wrote 1 case on 1 article to ")
    assert len((tmp_path / "out" / "questions.jsonl").read_text().splitlines()) == 1
