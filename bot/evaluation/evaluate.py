"""`articlebot eval`: retrieval and answer quality on a SQuAD-style benchmark, with baselines.

Each benchmark article is indexed the way the bot indexes one (its paragraphs as given), every
question is asked over the whole corpus, and a passage counts as the gold paragraph when its
span overlaps it (passages may merge short paragraphs or split long ones).
"""

from __future__ import annotations

import json
import logging
import re
import statistics
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from bot.answering.pipeline import Answerer
from bot.evaluation.squad import contains_answer, exact_match, token_f1
from bot.evaluation.stats import summarize_ms
from index.clean import clean_text
from index.library import Library, slugify
from index.models import Document

log = logging.getLogger(__name__)

K = 10
# (fusion weights, rerank): None is the shipped fusion from config.toml; "hybrid + rerank" is what
# users get when the articles in scope are too long for one prompt.
METHODS: dict[str, tuple[tuple[float, float] | None, bool]] = {
    "hybrid + rerank": (None, True),
    "hybrid": (None, False),
    "dense": ((1.0, 0.0), False),
    "bm25": ((0.0, 1.0), False),
}
# The cross-encoder costs ~0.3 s a question: it is scored on every third question (968 of the
# public set's 2,904), which keeps `--retrieval-only` to a few minutes.
RERANK_EVERY = 3


@dataclass(frozen=True)
class EvalQuestion:
    qid: str
    question: str
    doc_id: str
    gold_pid: str
    answers: tuple[str, ...]
    is_impossible: bool
    evidence: str = ""  # verbatim text of the supporting sentence, when the benchmark gives it
    kind: str = ""  # "answerable", "not in the article", "abuse" (seed-article-dev); "" for SQuAD


@dataclass(frozen=True)
class Dataset:
    articles: dict[str, tuple[str, list[tuple[str, str]]]]  # doc_id → (title, [(pid, text)])
    questions: list[EvalQuestion]
    sample: list[str]  # qids of the fixed LLM sample


def _jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def load_dataset(path: Path) -> Dataset:
    paragraphs: dict[str, list[tuple[int, str, str]]] = defaultdict(list)
    titles: dict[str, str] = {}
    for row in _jsonl(path / "paragraphs.jsonl"):
        paragraphs[row["doc_id"]].append((row["para_index"], row["pid"], row["text"]))
        titles[row["doc_id"]] = row.get("doc_title") or row["doc_id"]
    articles = {doc: (titles[doc], [(pid, text) for _, pid, text in sorted(rows)]) for doc, rows in paragraphs.items()}
    questions = [
        EvalQuestion(
            r["qid"],
            r["question"],
            r["doc_id"],
            r["gold_pid"],
            tuple(r.get("answers") or ()),
            bool(r["is_impossible"]),
            r.get("evidence") or "",
            r.get("kind") or ("unanswerable" if r["is_impossible"] else "answerable"),
        )
        for r in _jsonl(path / "questions.jsonl")
        if not r.get("flags") and r["doc_id"] in articles  # flagged: duplicated with conflicting labels
    ]
    sample_path = path / "sample_500.jsonl"
    sample = [r["qid"] for r in _jsonl(sample_path)] if sample_path.exists() else [q.qid for q in questions]
    return Dataset(articles, questions, sample)


def index_dataset(dataset: Dataset, library: Library) -> dict[tuple[str, int], set[str]]:
    """Index each article (reusing what the data dir already holds) → passage key → paragraph ids."""
    have = library.article_ids()
    mapping: dict[tuple[str, int], set[str]] = {}
    for doc_id, (title, paras) in tqdm(dataset.articles.items(), desc="indexing", unit="article"):
        article_id = slugify(doc_id)
        cleaned = [(pid, clean_text(text)) for pid, text in paras]
        text, spans = "", []
        for pid, para in cleaned:
            if text:
                text += "\n\n"
            spans.append((pid, len(text), len(text) + len(para)))
            text += para
        if article_id not in have:
            library.add(Document(text=text, title=title), article_id=article_id, actor="eval")
        for passage in library.passages_of([article_id]):
            mapping[(article_id, passage.n)] = {pid for pid, a, b in spans if a < passage.end and passage.start < b}
    return mapping


def retrieval_metrics(
    library: Library, questions: list[EvalQuestion], mapping: dict[tuple[str, int], set[str]]
) -> dict:
    answerable = [q for q in questions if not q.is_impossible]
    start = time.perf_counter()
    vectors = library.embed_queries([q.question for q in answerable])
    embed_s = (time.perf_counter() - start) / max(1, len(answerable))
    results = {}
    for method, (weights, rerank) in METHODS.items():
        if rerank and library.reranker is None:
            continue
        ranks, times = [], []
        pairs = list(zip(answerable, vectors))[:: RERANK_EVERY if rerank else 1]
        for q, vector in tqdm(pairs, desc=f"retrieval {method}", unit="q"):
            t = time.perf_counter()
            hits = library.search(q.question, K, query_vector=vector, weights=weights, rerank=rerank)
            times.append(time.perf_counter() - t)
            rank = next(
                (
                    i
                    for i, h in enumerate(hits, 1)
                    if q.gold_pid in mapping.get((h.passage.article_id, h.passage.n), ())
                ),
                None,
            )
            ranks.append(rank)
        n = max(1, len(ranks))
        results[method] = {
            "questions": len(ranks),
            **{f"recall@{k}": round(sum(1 for r in ranks if r and r <= k) / n, 4) for k in (1, 5, 10)},
            "mrr@10": round(sum(1 / r for r in ranks if r) / n, 4),
            "search": summarize_ms(times),
        }
    results["query_embedding_ms_per_question"] = round(embed_s * 1000, 2)
    return results


_MARKER = re.compile(r"\s*\[\d+\]")
_PINGS = re.compile(r"@(?:everyone|here)\b|<@[!&]?\d+>", re.IGNORECASE)


def _squashed(text: str) -> str:
    return " ".join(text.split()).lower()


async def warm_articles(answerer: Answerer, questions: list[EvalQuestion]) -> float:
    """Have the server read the articles these questions are about (whole, or a long one in
    windows), as a running bot does once an article is added (`Answerer.warm`); seconds taken.
    Kept files make a rerun read nothing."""
    began = time.perf_counter()
    for doc_id in tqdm(sorted({q.doc_id for q in questions}), desc="warming", unit="article"):
        await answerer.warm([slugify(doc_id)])
    return time.perf_counter() - began


async def answer_records(answerer: Answerer, questions: list[EvalQuestion], mapping) -> list[dict]:
    records = []
    for q in tqdm(questions, desc="answers", unit="q"):
        answer = await answerer.answer(q.question)
        plain = _MARKER.sub("", answer.text)
        cited_pids = [mapping.get((c.article_id, c.passage), set()) for c in answer.citations]
        # A cited passage is precise when it holds the evidence sentence (or, without one, a gold string).
        precise = [
            _squashed(q.evidence) in _squashed(c.text) if q.evidence else contains_answer(c.text, list(q.answers))
            for c in answer.citations
        ]
        records.append(
            {
                "qid": q.qid,
                "question": q.question,
                "is_impossible": q.is_impossible,
                "answer": answer.text,
                "mode": answer.mode,
                "refused": answer.refused,
                "top_similarity": round(answer.similarity or 0.0, 4),
                "contains_gold": (not q.is_impossible) and contains_answer(plain, list(q.answers)),
                "em": exact_match(plain, list(q.answers)) if not q.is_impossible else 0.0,
                "f1": token_f1(plain, list(q.answers)) if not q.is_impossible else 0.0,
                "citations_with_gold_answer": precise,
                "cites_gold_paragraph": any(q.gold_pid in pids for pids in cited_pids),
                "cites_evidence": bool(q.evidence) and any(precise),
                "evidence_given": bool(q.evidence),
                "kind": q.kind,
                "pings": bool(_PINGS.search(answer.text)),
                "reason": answer.reason,
                "draft": answer.draft,
                "verified": answer.verified,
                "decline_p": answer.decline_p,
                "seen": answer.seen,
                "timings": answer.timings,
            }
        )
    return records


def answer_metrics(records: list[dict]) -> dict:
    answerable = [r for r in records if not r["is_impossible"]]
    unanswerable = [r for r in records if r["is_impossible"]]
    answered = [r for r in answerable if not r["refused"]]
    cited = [flag for r in answerable for flag in r["citations_with_gold_answer"]]

    def share(items: list, pred) -> float:
        return round(sum(1 for x in items if pred(x)) / len(items), 4) if items else 0.0

    timings: dict[str, list[float]] = defaultdict(list)
    for r in records:
        for stage, seconds in r["timings"].items():
            timings[stage].append(seconds)

    def right(r: dict) -> bool:
        """Answered with a gold string, citing the evidence sentence (or, without one, the gold paragraph)."""
        cited = r["cites_evidence"] if r["evidence_given"] else r["cites_gold_paragraph"]
        return not r["refused"] and r["contains_gold"] and cited

    kinds = sorted({r.get("kind", "") for r in unanswerable})
    return {
        "questions": len(records),
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "answerable_right_and_cited": share(answerable, right),
        "answer_contains_gold": share(answerable, lambda r: r["contains_gold"]),
        "exact_match": round(statistics.fmean(r["em"] for r in answerable), 4) if answerable else 0.0,
        "f1": round(statistics.fmean(r["f1"] for r in answerable), 4) if answerable else 0.0,
        "unanswerable_declined": share(unanswerable, lambda r: r["refused"]),
        "answerable_wrongly_declined": share(answerable, lambda r: r["refused"]),
        "citation_precision": round(sum(cited) / len(cited), 4) if cited else 0.0,
        "citation_recall": share(answered, lambda r: r["cites_gold_paragraph"]),
        "fallback_answers": share(records, lambda r: r["mode"] == "quote"),
        "declined_by_kind": {
            kind: share([r for r in unanswerable if r.get("kind") == kind], lambda r: r["refused"] and not r["pings"])
            for kind in kinds
        },
        "decline_reasons": dict(Counter(r.get("reason") or "" for r in records if r["refused"]).most_common()),
        "latency": {stage: summarize_ms(values) for stage, values in timings.items()},
    }


def tradeoff(records: list[dict], steps: int = 21) -> list[dict]:
    """Declining also when the top passage's cosine is below t: how answers and declines move with t."""
    answerable = [r for r in records if not r["is_impossible"]]
    unanswerable = [r for r in records if r["is_impossible"]]
    points = []
    for i in range(steps):
        t = round(i / (steps - 1) * 0.8, 3)
        points.append(
            {
                "threshold": t,
                "answerable_correct": round(
                    sum(1 for r in answerable if not r["refused"] and r["top_similarity"] >= t and r["contains_gold"])
                    / max(1, len(answerable)),
                    4,
                ),
                "unanswerable_declined": round(
                    sum(1 for r in unanswerable if r["refused"] or r["top_similarity"] < t) / max(1, len(unanswerable)),
                    4,
                ),
            }
        )
    return points


def plot_tradeoff(points: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    xs = [p["threshold"] for p in points]
    ax.plot(xs, [p["answerable_correct"] for p in points], marker="o", label="answerable: answered with gold")
    ax.plot(xs, [p["unanswerable_declined"] for p in points], marker="s", label="unanswerable: declined")
    ax.set_xlabel("decline when top passage cosine < threshold")
    ax.set_ylabel("share of questions")
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left")
    ax.set_title("Answer / decline trade-off")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def markdown_report(report: dict) -> str:
    lines: list[str] = []
    if "retrieval" in report:
        lines += [
            "### Retrieval (answerable questions, whole corpus)",
            "",
            "| method | recall@1 | recall@5 | recall@10 | MRR@10 | search p50 ms | search p95 ms |",
            "|---|---|---|---|---|---|---|",
        ]
        for method in (m for m in METHODS if m in report["retrieval"]):
            m = report["retrieval"][method]
            lines.append(
                f"| {method} ({m['questions']} q) | {m['recall@1']} | {m['recall@5']} | {m['recall@10']} | {m['mrr@10']} | {m['search']['p50_ms']} | {m['search']['p95_ms']} |"
            )
        lines.append(
            f"\nQuery embedding: {report['retrieval']['query_embedding_ms_per_question']} ms a question (batched)."
        )
    if "answers" in report:
        a = report["answers"]
        lines += [
            *([""] if lines else []),
            f"### Answers ({a['questions']} questions: {a['answerable']} answerable, {a['unanswerable']} unanswerable; model {report.get('model')})",
            "",
            "| metric | value |",
            "|---|---|",
        ]
        for key in (
            "answer_contains_gold",
            "exact_match",
            "f1",
            "unanswerable_declined",
            "answerable_wrongly_declined",
            "citation_precision",
            "citation_recall",
            "fallback_answers",
        ):
            lines.append(f"| {key.replace('_', ' ')} | {a[key]} |")
        if report.get("warmed"):
            lines.append(
                f"\nArticles warmed first (whole or in windows, into the model's cache): {report['warm_up_s']} s."
            )
        if "answering_s" in report:
            lines.append(f"\nAll {a['questions']} questions answered in {report['answering_s']} s.")
        lines += ["", "| stage | p50 ms | p95 ms |", "|---|---|---|"]
        for stage, p in a["latency"].items():
            lines.append(f"| {stage} | {p['p50_ms']} | {p['p95_ms']} |")
    return "\n".join(lines) + "\n"


def select_questions(dataset: Dataset, sample: int | None) -> list[EvalQuestion]:
    """The fixed LLM sample (first N of it, alternating answerable/unanswerable so any N stays
    balanced), asked grouped by gold paragraph: questions on one paragraph retrieve much the same
    passages, so the next prompt starts with a prefix the server has just read and cached."""
    by_id = {q.qid: q for q in dataset.questions}
    pool = [by_id[qid] for qid in dataset.sample if qid in by_id]
    answerable = [q for q in pool if not q.is_impossible]
    unanswerable = [q for q in pool if q.is_impossible]
    mixed = (
        [q for pair in zip(answerable, unanswerable) for q in pair]
        + answerable[len(unanswerable) :]
        + unanswerable[len(answerable) :]
    )
    chosen = mixed[:sample] if sample else mixed
    return sorted(chosen, key=lambda q: (q.doc_id, q.gold_pid))
