"""The `articlebot` command line: a thin layer over index/ and bot/."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import logging
import os
import signal
import sys
import textwrap
import threading
import time
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import Any, TypeVar

from bot.answering.pipeline import Answer, Answerer, QuestionError, Turn
from bot.config import Config, load_config
from bot.feedback.export import REVIEW_FLAG, export_cases
from bot.feedback.store import ShownAnswer
from bot.feeds.poll import check_feed, poll_feed
from bot.feeds.store import FeedError
from bot.llm.models import ModelUnavailable
from bot.llm.protocol import ChatModel
from bot.runtime import ensure_sample_article, kept_prefixes_dir, open_answerer, open_feedback, open_feeds, open_library
from bot.terminal.render import answer_json, format_answer
from index.config_errors import ConfigError
from index.errors import DuplicateError, IngestError, NotFoundError
from index.ingest import read_source
from index.library import Library
from index.models import Article, SearchHit
from index.text import counted, excerpt

T = TypeVar("T")
log = logging.getLogger(__name__)

EXIT_USAGE = 2
NO_ARTICLES_YET = "no articles yet: add one with `articlebot index add PATH|URL|-`"
USER_ERRORS = (IngestError, NotFoundError, DuplicateError, ConfigError, QuestionError, ModelUnavailable, FeedError)


def _print_article(article: Article, verb: str = "") -> None:
    prefix = f"{verb} " if verb else ""
    source = f"  <{article.source_url}>" if article.source_url else ""
    print(f"{prefix}{article.id}  {counted(article.passage_count, 'passage')}  {article.title}{source}")


def _hit_json(hit: SearchHit) -> dict:
    return {
        "article": hit.passage.article_id,
        "passage": hit.passage.n,
        "text": hit.passage.text,
        "score": round(hit.score, 6),
    }


def _print_hits(query: str, hits: list[SearchHit]) -> None:
    print(f"? {query}")
    if not hits:
        print("  (no passages found)")
    for rank, hit in enumerate(hits, start=1):
        print(
            f"  {rank}. {hit.passage.article_id} #{hit.passage.n}  score {hit.score:.4f}  cosine {hit.similarity:.3f}"
        )
        print(textwrap.indent(textwrap.fill(hit.passage.text, width=96), "     "))
    print()


# -- commands ---------------------------------------------------------------------------------


def cmd_index_add(args: argparse.Namespace, config: Config, library: Library) -> int:
    document = read_source(args.source, config.ingest, stdin=sys.stdin.buffer)
    article = library.add(
        document, article_id=args.id, title=args.title, actor=args.actor, progress=sys.stderr.isatty()
    )
    _print_article(article, "added")
    return 0


def cmd_index_list(args: argparse.Namespace, config: Config, library: Library) -> int:
    articles = library.list_articles()
    if args.json:
        for a in articles:
            print(
                json.dumps(
                    {
                        "id": a.id,
                        "title": a.title,
                        "passages": a.passage_count,
                        "source_url": a.source_url,
                        "published": a.published,
                        "added_at": a.added_at,
                        "added_by": a.added_by,
                    }
                )
            )
        return 0
    if not articles:
        print(NO_ARTICLES_YET)
    for article in articles:
        _print_article(article)
    return 0


def cmd_index_remove(args: argparse.Namespace, config: Config, library: Library) -> int:
    _print_article(library.remove(args.id, actor=args.actor), "removed")
    return 0


def cmd_index_rebuild(args: argparse.Namespace, config: Config, library: Library) -> int:
    articles = library.rebuild(actor=args.actor, progress=sys.stderr.isatty())
    print(f"rebuilt {len(articles)} articles, {counted(sum(a.passage_count for a in articles), 'passage')}")
    return 0


def cmd_index_audit(args: argparse.Namespace, config: Config, library: Library) -> int:
    for entry in library.audit_log(args.limit):
        print(f"{entry.at}  {entry.actor:<16} {entry.action:<8} {entry.article_id}  {entry.detail}")
    return 0


def _check_article(library: Library, article_id: str | None) -> list[str] | None:
    if article_id is None:
        return None
    library.get_article(article_id)  # raises NotFoundError with a clear message
    return [article_id]


def cmd_search(args: argparse.Namespace, config: Config, library: Library) -> int:
    scope = _check_article(library, args.article)
    for query in args.queries:
        hits = library.search(query, k=args.k, article_ids=scope)
        if args.json:
            print(json.dumps({"query": query, "passages": [_hit_json(h) for h in hits]}, ensure_ascii=False))
        else:
            _print_hits(query, hits)
    return 0


async def _ask_one(
    answerer: Answerer, question: str, scope: list[str] | None, stream: bool, history: list[Turn] | None = None
) -> Answer:
    printed = False

    def show(sentence: str) -> None:
        nonlocal printed
        print(sentence, end=" ", flush=True)
        printed = True

    answer = await answerer.answer(question, scope, history or [], on_sentence=show if stream else None)
    if printed:
        print()
    print(format_answer(answer, include_text=not printed or answer.mode != "llm"))
    return answer


def read_batch(path: Path, library: Library, default: str | None) -> list[tuple[str, list[str] | None]]:
    """(question, scope) for each line of a batch file: a question, or a JSON object
    {"question": ..., "article": ...} (article optional). Checked whole before any is answered."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise IngestError(f"cannot read the question file {path}: {exc.__class__.__name__}") from None
    batch = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        question, article = line.strip(), default
        if question.startswith("{"):
            try:
                row = json.loads(question)
                question, article = str(row["question"]), row.get("article", default)
            except (json.JSONDecodeError, KeyError, TypeError):
                raise IngestError(
                    f'{path}:{number}: expected a question or {{"question": ..., "article": ...}}'
                ) from None
        batch.append((question, _check_article(library, article)))
    if not batch:
        raise IngestError(f"{path} holds no questions")
    return batch


def cmd_ask(args: argparse.Namespace, config: Config, library: Library) -> int:
    if bool(args.question) == bool(args.file):
        raise QuestionError("give either a QUESTION or --file FILE")
    _require_articles(library)
    scope = _check_article(library, args.article)
    batch = read_batch(args.file, library, args.article) if args.file else [(" ".join(args.question), scope)]
    answerer = open_answerer(config, library)
    for question, _ in batch:
        answerer.check_question(question)  # every question is checked before the model starts

    async def run() -> None:
        if await asyncio.to_thread(library.list_articles):
            await _start_together(answerer, library)
        if args.json or args.file:
            # One model start-up for the whole batch; one JSON object a line, in the file's order.
            for question, articles in batch:
                answer = await answerer.answer(question, articles)
                print(json.dumps(answer_json(answer), ensure_ascii=False), flush=True)
        else:
            await _ask_one(answerer, batch[0][0], scope, stream=not args.no_stream)

    run_with_model(answerer.llm, run())
    return 0


def run_with_model(llm: ChatModel, work: Coroutine[Any, Any, T]) -> T:
    """Run `work` in a new event loop, close the model's connections before that loop ends, then
    stop the model's server (also when `work` fails or is interrupted)."""

    async def closing() -> T:
        try:
            return await work
        finally:
            await llm.aclose()

    try:
        return asyncio.run(closing())
    finally:
        llm.stop()


async def _start_together(answerer: Answerer, library: Library) -> None:
    """Start the LLM server while the embedding models load: a one-off command otherwise waits
    for one after the other (~6 s and ~9 s on 2 cores). A server that does not start is left to
    the answer, which then says so or quotes the article."""
    from bot.llm.client import LLMClient
    from bot.llm.protocol import LLMError

    async def start_llm() -> None:
        if isinstance(answerer.llm, LLMClient):
            with contextlib.suppress(LLMError, ModelUnavailable):
                await asyncio.to_thread(answerer.llm.start)

    await asyncio.gather(start_llm(), asyncio.to_thread(library.warm_up))


def _chat(answerer: Answerer, scope: list[str] | None) -> int:
    """A REPL: follow-ups are rewritten with the conversation for retrieval; the original is answered."""
    print("articlebot chat: ask about the indexed articles. Empty line or Ctrl-D quits; /new forgets the conversation.")
    history: list[Turn] = []

    async def loop() -> None:
        print("Loading the models and reading the article once (up to a minute on first start)…", flush=True)
        await answerer.warm(scope)
        while True:
            try:
                question = (await asyncio.to_thread(input, "you> ")).strip()
            except EOFError:
                print()
                return
            if not question:
                return
            if question == "/new":
                history.clear()
                continue
            try:
                answer = await _ask_one(answerer, question, scope, stream=True, history=history)
            except QuestionError as exc:
                print(f"articlebot: {exc}")
                continue
            history.append(Turn(question, answer.text))
            print()

    run_with_model(answerer.llm, loop())
    return 0


def cmd_chat(args: argparse.Namespace, config: Config, library: Library) -> int:
    _require_articles(library)
    return _chat(open_answerer(config, library), _check_article(library, args.article))


def _require_articles(library: Library) -> None:
    """With no article indexed a question has nothing to be answered from: saying so at once
    spares loading the models first (~15 s on 2 cores)."""
    if not library.list_articles():
        raise QuestionError(NO_ARTICLES_YET)


def _no_local_server(config: Config) -> bool:
    if config.llm.is_local:
        return False
    print(f"articlebot: llm.base_url is {config.llm.base_url}; there is no local server to run", file=sys.stderr)
    return True


def cmd_llm_check(args: argparse.Namespace, config: Config, library: Library) -> int:
    """Start the local server and have the model write a few tokens. `make run` runs this after
    compiling llama.cpp for the machine's CPU and goes back to the prebuilt build when it fails
    (a build can use instructions a virtual machine does not let run)."""
    from bot.llm.client import LLMClient
    from bot.llm.protocol import ChatMessage, LLMError
    from bot.llm.server import cpu_features

    if _no_local_server(config):
        return EXIT_USAGE
    client = LLMClient(config.llm, config.models_dir)
    began = time.perf_counter()
    try:
        client.start()
        reply = run_with_model(client, client.complete([ChatMessage("user", "Reply with the word OK.")], max_tokens=4))
    except (LLMError, RuntimeError) as exc:  # a server that died while loading or answering
        first, *rest = str(exc).splitlines() or [""]
        print(f"articlebot: error: the local LLM did not answer: {first}", file=sys.stderr)
        log.info("the server's last words:\n%s", "\n".join(rest))  # shown with -v
        return 1
    finally:
        client.stop()  # also when it failed to start (stopping twice is a no-op)
    model_file = client.server.spec.model_path.name if client.server is not None else config.llm.model
    print(
        f"{config.llm.model} ({model_file}) answered {reply.strip()!r} in {time.perf_counter() - began:.1f} s"
        f" (llama.cpp built for {' '.join(cpu_features())})"
    )
    return 0


def cmd_llm_serve(args: argparse.Namespace, config: Config, library: Library) -> int:
    if _no_local_server(config):
        return EXIT_USAGE
    client = open_answerer(config, library).llm
    client.start()
    assert client.server is not None
    print(f"serving {config.llm.model} at {client.server.base_url} (API key in this process only); Ctrl-C stops it")
    try:
        while True:
            time.sleep(1)
            client.server.ensure_running()  # the supervisor: a crashed server comes back
    except KeyboardInterrupt:
        pass
    finally:
        client.stop()
    return 0


def cmd_eval(args: argparse.Namespace, config: Config, library: Library) -> int:
    from bot.answering.pipeline import Answerer
    from bot.evaluation import evaluate
    from bot.llm.client import LLMClient
    from bot.llm.server import cpu_features

    if not (args.dataset / "paragraphs.jsonl").is_file() or not (args.dataset / "questions.jsonl").is_file():
        raise IngestError(f"{args.dataset} is not a benchmark folder (paragraphs.jsonl and questions.jsonl expected)")
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    dataset = evaluate.load_dataset(args.dataset)
    # A data dir of its own: the benchmark never mixes with the bot's articles, and reruns reuse it.
    bench_library = library.sibling(args.index or out / "index")
    mapping = evaluate.index_dataset(dataset, bench_library)
    report: dict = {"dataset": str(args.dataset), "articles": len(dataset.articles), "passages": len(mapping)}
    if not args.answers_only:
        report["retrieval"] = evaluate.retrieval_metrics(bench_library, dataset.questions, mapping)
    if not args.retrieval_only:
        questions = evaluate.select_questions(dataset, args.sample)
        # Warmed like a running bot's articles (kept in the benchmark's own data dir, so a rerun
        # reads nothing again); --cold measures a bot whose articles were never warmed.
        state_dir = None if args.cold else kept_prefixes_dir(bench_library.data_dir)
        answerer = Answerer(bench_library, LLMClient(config.llm, config.models_dir, state_dir), config.answer)

        async def warm_then_answer() -> list[dict]:
            if not args.cold:
                report["warm_up_s"] = round(await evaluate.warm_articles(answerer, questions), 1)
            began = time.perf_counter()
            answered = await evaluate.answer_records(answerer, questions, mapping)
            report["answering_s"] = round(time.perf_counter() - began, 1)
            return answered

        records = run_with_model(answerer.llm, warm_then_answer())
        report["warmed"] = not args.cold
        report["model"] = config.llm.model
        if config.llm.is_local:
            report["llama_cpp"] = cpu_features()
        report["answers"] = evaluate.answer_metrics(records)
        report["tradeoff"] = evaluate.tradeoff(records)
        evaluate.plot_tradeoff(report["tradeoff"], out / "tradeoff.png")
        with open(out / "answers.jsonl", "w", encoding="utf-8") as fh:
            fh.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    (out / "eval.json").write_text(json.dumps(report, indent=2) + "\n")
    table = evaluate.markdown_report(report)
    (out / "eval.md").write_text(table)
    print(table)
    print(f"written to {out}/eval.json and eval.md")
    return 0


def cmd_run(args: argparse.Namespace, config: Config, library: Library) -> int:
    ensure_sample_article(library, config)
    token = os.environ.get(config.discord.token_env, "").strip()
    if not token:
        print(
            f"articlebot: no {config.discord.token_env} set; starting the terminal chat instead of Discord.",
            file=sys.stderr,
        )
        return _chat(open_answerer(config, library), None)
    return _discord(config, library, token)


def _discord(config: Config, library: Library, token: str) -> int:
    import aiohttp
    import discord

    from bot.discord.client import run_discord
    from bot.discord.services import Services

    services = Services(
        library,
        open_answerer(config, library),
        config.ingest,
        config.discord,
        open_feedback(config),
        open_feeds(config),
        config.feeds,
    )
    try:
        run_with_model(services.answerer.llm, run_discord(services, token))
    except discord.LoginFailure:
        print(
            f"articlebot: error: Discord rejected the token in {config.discord.token_env}; "
            "copy it again from the Developer Portal (Bot → Reset Token)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    except discord.PrivilegedIntentsRequired:
        print(
            "articlebot: error: Discord refused the Message Content intent; switch it on in the Developer "
            "Portal (Bot → Privileged Gateway Intents), or set discord.answer_mentions = false",
            file=sys.stderr,
        )
        return EXIT_USAGE
    except (OSError, aiohttp.ClientError) as exc:
        print(
            f"articlebot: error: could not reach Discord ({exc.__class__.__name__}); check the network", file=sys.stderr
        )
        return 1
    return 0


def _voted_answers(config: Config, every: bool) -> list[ShownAnswer]:
    """The answers readers voted on (`every`), or only those they disliked; newest first."""
    answers = open_feedback(config).answers()
    return answers if every else [a for a in answers if a.disliked]


def cmd_feedback_list(args: argparse.Namespace, config: Config, library: Library) -> int:
    answers = _voted_answers(config, every=args.all)
    if args.json:
        for a in answers:
            print(json.dumps(dataclasses.asdict(a)))
        return 0
    if not answers:
        print("no votes yet" if args.all else "no disliked answers (--all lists every voted answer)")
    for a in answers:
        when = time.strftime("%Y-%m-%d %H:%M", time.gmtime(a.created))
        print(f"{a.id}  {when}  +{a.up} -{a.down}  [{a.article_id or '?'}]  {a.question}\n    → {excerpt(a.answer)}")
    return 0


def cmd_feedback_export(args: argparse.Namespace, config: Config, library: Library) -> int:
    answers = _voted_answers(config, every=args.all)
    result = export_cases(answers, library, args.out)
    print(
        f"wrote {counted(result.cases, 'case')} on {counted(result.articles, 'article')} to {args.out} "
        f"(flagged {REVIEW_FLAG!r}: fill in answers and evidence, then drop the flag)"
        + (f"; skipped {result.skipped} whose article is gone" if result.skipped else "")
    )
    return 0


def cmd_feed_add(args: argparse.Namespace, config: Config, library: Library) -> int:
    items = check_feed(args.url, config.ingest)
    feed = open_feeds(config).add(args.url, args.guild, None, f"cli:{args.actor}", config.feeds.max_feeds_per_server)
    print(f"added feed {feed.id}: {feed.url} ({counted(len(items), 'item')}); `articlebot feed poll` indexes new ones")
    return 0


def cmd_feed_list(args: argparse.Namespace, config: Config, library: Library) -> int:
    feeds = open_feeds(config).feeds(args.guild, everywhere=args.all)
    if not feeds:
        print("no feeds yet: add one with `articlebot feed add URL`")
    for feed in feeds:
        owner = f"server {feed.guild_id}" if feed.guild_id is not None else "command line"
        failing = f"  failing {feed.failures}×: {feed.last_error}" if feed.failures else ""
        print(f"{feed.id}  {feed.url}  ({owner}){failing}")
    return 0


def cmd_feed_remove(args: argparse.Namespace, config: Config, library: Library) -> int:
    feed = open_feeds(config).remove(args.id, args.guild)
    print(f"removed feed {feed.id}: {feed.url} (its articles stay)")
    return 0


def cmd_feed_poll(args: argparse.Namespace, config: Config, library: Library) -> int:
    """Poll the feeds that are due (all of them with --all), e.g. from cron when the bot is not running."""
    store = open_feeds(config)
    now = time.time()
    feeds = store.feeds(everywhere=True) if args.all else store.due(now)
    for feed in feeds:
        result = poll_feed(feed, store, library, config.ingest, config.feeds, now)
        state = (
            f"failed: {result.error}"
            if result.error
            else "not modified"
            if result.not_modified
            else f"indexed {', '.join(a.id for a in result.indexed) or 'nothing new'}"
            + (f"; skipped {result.skipped}" if result.skipped else "")
        )
        print(f"{feed.id}  {feed.url}: {state}")
    return 0


# -- parser -----------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="articlebot", description="Answer questions about news articles, with citations."
    )
    parser.add_argument("--config", type=Path, help="config file (default: $ARTICLEBOT_CONFIG or ./config.toml)")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging (-vv for debug)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    index = commands.add_parser("index", help="add, list, remove and rebuild articles")
    index_commands = index.add_subparsers(dest="index_command", required=True, metavar="ACTION")
    actor = {"default": os.environ.get("USER", "cli"), "help": "who is making the change, for the audit log"}

    add = index_commands.add_parser("add", help="add an article from a file, an http(s) URL, or - for stdin")
    add.add_argument("source", metavar="PATH|URL|-")
    add.add_argument("--title", help="title (default: the page's title or the first words)")
    add.add_argument("--id", help="article id (default: made from the title)")
    add.add_argument("--actor", **actor)
    add.set_defaults(run=cmd_index_add)

    lst = index_commands.add_parser("list", help="list indexed articles")
    lst.add_argument("--json", action="store_true", help="one JSON object per line")
    lst.set_defaults(run=cmd_index_list)

    remove = index_commands.add_parser("remove", help="remove an article and its vectors")
    remove.add_argument("id")
    remove.add_argument("--actor", **actor)
    remove.set_defaults(run=cmd_index_remove)

    rebuild = index_commands.add_parser("rebuild", help="re-split every article and rebuild the vector index")
    rebuild.add_argument("--actor", **actor)
    rebuild.set_defaults(run=cmd_index_rebuild)

    audit = index_commands.add_parser("audit", help="show the latest index changes: who, when, what")
    audit.add_argument("--limit", type=int, default=50)
    audit.set_defaults(run=cmd_index_audit)

    search = commands.add_parser("search", help="show the passages that best match each query")
    search.add_argument("-k", type=int, default=None, help="passages per query (default: search.k)")
    search.add_argument("--article", help="search only this article id")
    search.add_argument("--json", action="store_true", help="one JSON object per line per query")
    search.add_argument("queries", nargs="+", metavar="QUERY")
    search.set_defaults(run=cmd_search)

    ask = commands.add_parser("ask", help="answer one question with checked citations")
    ask.add_argument("--article", help="answer from this article id only")
    ask.add_argument("--json", action="store_true", help="print one JSON object")
    ask.add_argument("--no-stream", action="store_true", help="print the answer when it is complete")
    ask.add_argument(
        "--file",
        type=Path,
        help="answer every question in FILE (one a line, or JSON lines "
        '{"question": ..., "article": ...}); prints one JSON object a line',
    )
    ask.add_argument("question", nargs="*", metavar="QUESTION")
    ask.set_defaults(run=cmd_ask)

    chat = commands.add_parser("chat", help="ask questions in a conversation (follow-ups understood)")
    chat.add_argument("--article", help="answer from this article id only")
    chat.set_defaults(run=cmd_chat)

    llm = commands.add_parser("llm", help="the local LLM server")
    llm_commands = llm.add_subparsers(dest="llm_command", required=True, metavar="ACTION")
    serve = llm_commands.add_parser("serve", help="run the local llama.cpp server alone (until Ctrl-C)")
    serve.set_defaults(run=cmd_llm_serve)
    check = llm_commands.add_parser("check", help="start the local server and have the model write a few tokens")
    check.set_defaults(run=cmd_llm_check)

    ev = commands.add_parser("eval", help="measure retrieval and answer quality on a SQuAD-style benchmark")
    ev.add_argument(
        "dataset", type=Path, metavar="DATASET", help="folder with paragraphs.jsonl, questions.jsonl, sample_500.jsonl"
    )
    ev.add_argument("--sample", type=int, default=None, help="answer only the first N questions of the fixed sample")
    only = ev.add_mutually_exclusive_group()
    only.add_argument("--retrieval-only", action="store_true", help="skip the LLM: retrieval metrics only")
    only.add_argument(
        "--answers-only",
        action="store_true",
        help="skip the retrieval metrics (~7 min on the public set): answers only",
    )
    ev.add_argument(
        "--cold",
        action="store_true",
        help="do not warm the articles first: every question reads its retrieved passages afresh (a bot "
        "just started on articles it never warmed); by default each article is read whole into the model's "
        "cache first, as a running bot does once an article is added",
    )
    ev.add_argument(
        "--index",
        type=Path,
        help="data dir for the benchmark's index and warmed articles (default: OUT/index); runs on the "
        "same articles may share one, so the articles are warmed once",
    )
    ev.add_argument(
        "--out", type=Path, default=Path("bench/results/eval"), help="folder for eval.json, eval.md, tradeoff.png"
    )
    ev.set_defaults(run=cmd_eval)

    feedback = commands.add_parser("feedback", help="readers' 👍 / 👎 votes on answers")
    feedback_commands = feedback.add_subparsers(dest="feedback_command", required=True, metavar="ACTION")
    fb_list = feedback_commands.add_parser("list", help="disliked answers, newest first")
    fb_list.add_argument("--all", action="store_true", help="every answer someone voted on")
    fb_list.add_argument("--json", action="store_true", help="one JSON object per line")
    fb_list.set_defaults(run=cmd_feedback_list)
    fb_export = feedback_commands.add_parser(
        "export", help="write disliked answers as eval cases (questions.jsonl + paragraphs.jsonl) to OUT"
    )
    fb_export.add_argument("out", type=Path, metavar="OUT", help="folder to write")
    fb_export.add_argument("--all", action="store_true", help="every answer someone voted on")
    fb_export.set_defaults(run=cmd_feedback_export)

    feed = commands.add_parser("feed", help="RSS/Atom feeds whose new items are indexed")
    feed_commands = feed.add_subparsers(dest="feed_command", required=True, metavar="ACTION")
    guild = {"type": int, "default": None, "help": "the Discord server id (default: feeds of the command line)"}
    feed_add = feed_commands.add_parser("add", help="subscribe to a feed (it is fetched once to check it)")
    feed_add.add_argument("url")
    feed_add.add_argument("--guild", **guild)
    feed_add.add_argument("--actor", **actor)
    feed_add.set_defaults(run=cmd_feed_add)
    feed_list = feed_commands.add_parser("list", help="list feeds")
    feed_list.add_argument("--guild", **guild)
    feed_list.add_argument("--all", action="store_true", help="the feeds of every server too")
    feed_list.set_defaults(run=cmd_feed_list)
    feed_remove = feed_commands.add_parser("remove", help="unsubscribe (the articles stay)")
    feed_remove.add_argument("id", type=int)
    feed_remove.add_argument("--guild", **guild)
    feed_remove.set_defaults(run=cmd_feed_remove)
    feed_poll = feed_commands.add_parser("poll", help="poll the feeds that are due now and index new items")
    feed_poll.add_argument("--all", action="store_true", help="every feed, due or not")
    feed_poll.set_defaults(run=cmd_feed_poll)

    run = commands.add_parser("run", help="index the sample article if the store is empty, then start the bot")
    run.set_defaults(run=cmd_run)
    return parser


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # SIGTERM (kill, systemd, docker stop) shuts down like Ctrl-C: cleanly


def main(argv: Sequence[str] | None = None) -> int:
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _interrupt)
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=[logging.WARNING, logging.INFO, logging.DEBUG][min(args.verbose, 2)],
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if getattr(args, "k", None) is not None and not 1 <= args.k <= 100:
        parser.error("-k must be between 1 and 100")
    try:
        config = load_config(args.config)
        return args.run(args, config, open_library(config))
    except USER_ERRORS as exc:
        print(f"articlebot: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
