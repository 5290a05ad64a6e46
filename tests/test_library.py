from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from index import library as library_module
from index.chunk import ChunkingConfig
from index.clean import clean_text
from index.errors import DuplicateError, IngestError, NotFoundError
from index.library import Library
from index.models import Document
from index.vectors import index_path, write_index_atomically

pytestmark = pytest.mark.slow

OTHER = Document(
    text=(
        "The city council approved a new budget for public libraries on Tuesday. The plan adds "
        "funding for longer opening hours and two new branches in the eastern districts.\n\n"
        "Council members said the libraries had seen record visitor numbers last year, with "
        "children's reading programmes growing fastest."
    ),
    title="Council funds libraries",
    source_url="https://example.org/libraries",
)


def add_sample(library: Library, sample_text: str):
    return library.add(Document(text=clean_text(sample_text)), article_id="sample", title="Sample")


def reopen(library: Library) -> Library:
    return Library(library.data_dir, library.chunking, library.search_config, library.embedder)


def test_sample_article_ranking(library, sample_text):
    add_sample(library, sample_text)
    podil = library.search("Which Kyiv neighbourhood was hit?")[0]
    assert "Podil" in podil.passage.text
    fled = library.search("How many people have fled Ukraine?")[0]
    assert "3.27 million" in fled.passage.text


def test_round_trip_spans_and_metadata(library, sample_text):
    article = add_sample(library, sample_text)
    other = library.add(OTHER, actor="alice", guild_id=42)
    assert other.id == "council-funds-libraries"
    assert other.source_url == OTHER.source_url and other.guild_id == 42 and other.added_by == "alice"

    fresh = reopen(library)
    assert [a.id for a in fresh.list_articles()] == ["sample", "council-funds-libraries"]
    text = fresh.store.article_text("sample")
    stored = fresh.store.load_passages(fresh.embedder.model_id)
    assert len(stored.passages) == article.passage_count + other.passage_count
    for p in stored.passages:
        source = fresh.store.article_text(p.article_id)
        assert source[p.start : p.end] == p.text
    assert [p.n for p in stored.passages if p.article_id == "sample"] == list(range(1, article.passage_count + 1))
    assert text == clean_text(sample_text)


def test_search_scoped_to_articles(library, sample_text):
    add_sample(library, sample_text)
    library.add(OTHER)
    hits = library.search("library opening hours", k=3, article_ids=["sample"])
    assert hits and all(h.passage.article_id == "sample" for h in hits)
    assert library.search("library opening hours", k=1)[0].passage.article_id == "council-funds-libraries"
    assert library.search("anything", article_ids=["no-such-article"]) == []


def test_reindex_unchanged_text_embeds_nothing(library, sample_text, monkeypatch):
    add_sample(library, sample_text)
    calls = []
    original = library.embedder.embed_passages
    monkeypatch.setattr(
        library.embedder, "embed_passages", lambda texts, progress=False: calls.append(len(texts)) or original(texts)
    )
    library.reindex("sample")
    library.rebuild()
    assert calls == [0, 0]
    assert "Podil" in library.search("Which Kyiv neighbourhood was hit?")[0].passage.text


def test_remove_removes_vectors(library, sample_text):
    add_sample(library, sample_text)
    library.add(OTHER)
    library.remove("sample", actor="bob")
    assert [a.id for a in library.list_articles()] == ["council-funds-libraries"]
    snap = reopen(library).snapshot()
    assert snap.index.vectors.ntotal == len(snap.index) == library.get_article("council-funds-libraries").passage_count
    assert all(h.passage.article_id != "sample" for h in library.search("Podil Kyiv", k=10))
    audit = library.store.audit_log()
    assert (audit[0].actor, audit[0].action, audit[0].article_id) == ("bob", "remove", "sample")


def test_errors_change_nothing(library, sample_text):
    add_sample(library, sample_text)
    generation = library.store.generation()
    with pytest.raises(DuplicateError):
        library.add(OTHER, article_id="sample")
    with pytest.raises(DuplicateError, match="already indexed as article 'sample'"):
        library.add(Document(text=clean_text(sample_text)))
    with pytest.raises(NotFoundError):
        library.remove("nope")
    assert library.store.generation() == generation
    assert len(library.list_articles()) == 1


def test_crash_before_swap_keeps_a_loadable_index(library, sample_text, monkeypatch):
    add_sample(library, sample_text)
    before = library.store.generation()

    dead = subprocess.Popen(["true"])
    dead.wait()

    def crash(index, data_dir, generation):
        # Die after the new file is half-written beside the old one, before the rename.
        (data_dir / f"vectors.{generation}.faiss.{dead.pid}.0badcafe.tmp").write_bytes(b"partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(library_module, "write_index_atomically", crash)
    with pytest.raises(KeyboardInterrupt):
        library.add(OTHER)
    monkeypatch.undo()

    # The process that crashed still serves its old snapshot...
    assert library._snapshot is not None and library._snapshot.generation == before
    # ...and a restart finds SQLite ahead of the vector file and rebuilds it from stored vectors.
    fresh = reopen(library)
    assert fresh.search("library opening hours", k=1)[0].passage.article_id == "council-funds-libraries"
    assert index_path(fresh.data_dir, fresh.store.generation()).exists()
    assert not list(fresh.data_dir.glob("*.tmp"))


def test_corrupt_vector_file_is_rebuilt(library, sample_text):
    add_sample(library, sample_text)
    index_path(library.data_dir, library.store.generation()).write_bytes(b"garbage")
    assert "Podil" in reopen(library).search("Which Kyiv neighbourhood was hit?")[0].passage.text


def test_sqlite_uses_wal(library, sample_text):
    add_sample(library, sample_text)
    with sqlite3.connect(library.store.path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_hnsw_above_the_flat_limit(config, embedder, sample_text):
    import dataclasses

    import faiss

    search = dataclasses.replace(config.search, flat_max_passages=3, hnsw_ef_search=77)
    big = Library(config.data_dir, config.chunking, search, embedder)
    add_sample(big, sample_text)
    snap = reopen(big).snapshot()
    assert isinstance(snap.index.vectors, faiss.IndexHNSW) and snap.index.vectors.hnsw.efSearch == 77
    assert "Podil" in big.search("Which Kyiv neighbourhood was hit?")[0].passage.text
    assert all(h.passage.article_id == "sample" for h in big.search("Kyiv", article_ids=["sample"]))


def test_reranking_reorders_the_fused_hits_and_can_be_skipped(library, reranker, sample_text):
    library.add(Document(text=clean_text(sample_text)), article_id="sample")
    question = "How many people have fled Ukraine?"
    fused = library.search(question, 5)
    reranked = library.sibling(library.data_dir)
    reranked.reranker = reranker
    hits = reranked.search(question, 5)
    assert [h.passage.n for h in reranked.search(question, 5, rerank=False)] == [h.passage.n for h in fused]
    scores = reranker.score(question, [h.passage.text for h in hits])
    assert scores == sorted(scores, reverse=True)  # best first by the cross-encoder
    assert {h.passage.n for h in hits} <= {h.passage.n for h in library.search(question, 10)}
    assert [h.passage.n for h in hits] != [h.passage.n for h in fused]


def test_ids_must_match_whole_and_titles_are_tidied(library):
    with pytest.raises(IngestError, match="not allowed"):
        library.add(OTHER, article_id="abc\n")
    article = library.add(OTHER, title="\x1b[2J\x1b[31mRed\x07 " + "word" * 1_000_000)
    assert len(article.title) <= library_module.MAX_TITLE_CHARS and article.title.startswith("[2J [31mRed word")
    assert not any(ord(c) < 32 or 0x7F <= ord(c) < 0xA0 for c in article.title)


def test_servers_never_see_each_others_articles_through_duplicates(library):
    secret = library.add(OTHER, article_id="secret-budget", guild_id=1)
    mine = library.add(OTHER, guild_id=2)  # the same text, in another server: allowed, its own id
    assert mine.id != secret.id and mine.guild_id == 2
    with pytest.raises(DuplicateError, match="secret-budget"):
        library.add(OTHER, guild_id=1)  # in its own server, a duplicate is still named
    assert [a.id for a in library.articles_for_guild(2)] == [mine.id]


def test_a_global_id_cannot_be_claimed_from_a_server(library):
    claimed = library.add(OTHER, article_id="sample", guild_id=7)
    assert library.articles_for_guild(8, global_ids=("sample",)) == []
    assert [a.id for a in library.articles_for_guild(7, global_ids=("sample",))] == [claimed.id]


def test_a_failed_rebuild_changes_nothing(library, sample_text, monkeypatch):
    add_sample(library, sample_text)
    library.add(OTHER)
    before = library.store.load_passages(library.embedder.model_id).passages
    finer = Library(
        library.data_dir, ChunkingConfig(min_words=10, max_words=30), library.search_config, library.embedder
    )
    real = finer._vectors_for
    calls = []

    def fail_on_second(passages, progress):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("killed mid-rebuild")
        return real(passages, progress)

    monkeypatch.setattr(finer, "_vectors_for", fail_on_second)
    with pytest.raises(RuntimeError):
        finer.rebuild()
    assert reopen(library).store.load_passages(library.embedder.model_id).passages == before
    monkeypatch.setattr(finer, "_vectors_for", real)
    finer.rebuild()
    assert len(finer.store.load_passages(library.embedder.model_id).passages) > len(before)


def test_a_vector_write_leaves_other_writers_files_alone(library, sample_text):
    add_sample(library, sample_text)
    generation = library.store.generation()
    theirs = library.data_dir / f"vectors.{generation + 1}.faiss.{os.getpid()}.beef.tmp"  # a live writer
    newer = index_path(library.data_dir, generation + 1)
    older = index_path(library.data_dir, generation - 1)
    for path in (theirs, newer, older):
        path.write_bytes(b"x")
    write_index_atomically(library.snapshot().index.vectors, library.data_dir, generation)
    assert theirs.exists() and newer.exists() and not older.exists()


def test_two_processes_adding_the_same_text_store_it_once(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(f'[store]\ndata_dir = "{tmp_path / "data"}"\nsample_article = ""\n')
    article = tmp_path / "article.txt"
    article.write_text(OTHER.text)
    exe = Path(sys.executable).parent / "articlebot"
    adders = [
        subprocess.Popen(
            [exe, "--config", str(config), "index", "add", str(article)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = [(p.wait(timeout=120), p.stderr.read()) for p in adders]  # type: ignore[union-attr]
    assert sorted(code for code, _ in results) == [0, 2], results
    [(_, refusal)] = [r for r in results if r[0] == 2]
    assert refusal.count("\n") == 1 and "already indexed" in refusal
    listed = subprocess.run([exe, "--config", str(config), "index", "list"], capture_output=True, text=True)
    assert len(listed.stdout.strip().splitlines()) == 1  # one article
