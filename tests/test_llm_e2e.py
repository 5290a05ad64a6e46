"""End to end with real parts: the xllamacpp server in a child process, the real openai client
over HTTP with streaming, the real index. SmolLM2-135M only checks the plumbing: the assertions
are about structure (server up, chunks streamed, citations valid or a refusal), not wording."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from bot.answering.config import AnswerConfig
from bot.answering.evidence import closed_reply, parse_model_answer
from bot.answering.pipeline import ALTERNATIVES, Answerer, answer_request, empty_answer_probability
from bot.answering.prompts import ANSWER_OPENING, DOUBT_OPENING, answer_messages, reask_messages
from bot.llm import server as server_module
from bot.llm.client import LLMClient
from bot.llm.config import LLMConfig
from bot.llm.models import resolve_model
from bot.llm.protocol import ChatMessage, LLMError
from bot.terminal import cli
from index.clean import clean_text
from index.models import Document

from .fakes import ScriptedLLM

pytestmark = pytest.mark.slow

# One thread: make test runs the tests on two workers, and llama.cpp's threads wait on each other
# when another process takes a core (pytest --durations on two workers: two of these tests took
# 66 s and 61 s with two threads, 33 s and 31 s with one; 20 s each with two threads alone).
SMALL = LLMConfig(
    model="smollm2-135m",
    threads=1,
    context_tokens=4096,
    max_answer_tokens=48,
    timeout_s=30,
    retries=1,
    start_timeout_s=60,
)


@pytest.fixture(scope="module")
def llm(tmp_path_factory):
    client = LLMClient(SMALL, tmp_path_factory.mktemp("models"))
    client.start()
    yield client
    assert client.server is not None
    process = client.server._process
    client.stop()
    assert process is not None and process.poll() is not None  # the child really exited


@pytest.fixture
def indexed(library, sample_text):
    library.add(Document(text=clean_text(sample_text)), article_id="sample", title="Putin rally")
    return library


@pytest.fixture
def short(library):
    """A short article: a quick warm-up (the sample article's takes most of a test)."""
    text = "Early morning barrages hit a residential building in the Podil neighborhood of Kyiv. " * 3
    library.add(Document(text=text, title="Kyiv"), article_id="kyiv")
    return library


def test_server_is_up_and_guarded(llm):
    server = llm.server
    assert server is not None and server.running
    assert httpx.get(f"http://127.0.0.1:{server.port}/health").status_code == 200
    # The port is bound to loopback and needs the key this process generated.
    assert httpx.get(f"{server.base_url}/models").status_code == 401
    models = httpx.get(f"{server.base_url}/models", headers={"Authorization": f"Bearer {server.api_key}"}).json()
    assert [m["id"] for m in models["data"]] == ["smollm2-135m"]


def test_the_server_holds_one_copy_of_the_weights(llm):
    """The model file is read, not mapped: llama.cpp repacks the weights into buffers of its own,
    and a mapped file stayed resident beside them (the Q8_0 default counted 1.6 GB twice)."""
    server = llm.server
    assert server is not None and server.pid is not None
    mapped = Path(f"/proc/{server.pid}/maps").read_text()
    assert str(server.spec.model_path.resolve()) not in mapped


async def test_streams_chunks_through_openai_client(llm):
    pieces = [p async for p in llm.stream([ChatMessage("user", "Count from one to ten.")], max_tokens=24)]
    assert len(pieces) > 3 and "".join(p.text for p in pieces).strip()
    assert not any(p.alternatives for p in pieces)  # only when asked for


def test_one_client_serves_one_event_loop_after_another(llm):
    """Each `asyncio.run` (a CLI command, a test) is a new event loop; the client's pooled HTTP
    connections belong to the loop that opened them, and reusing one from the next loop failed
    ("Event loop is closed", seen once in a clean-clone `make test`): each loop gets its own pool."""
    messages = [ChatMessage("user", "Reply with the word yes.")]

    async def ask() -> object:
        assert "".join([p.text async for p in llm.stream(messages, 4)])
        return llm._client  # the openai client, with its connection pool

    first, second = asyncio.run(ask()), asyncio.run(ask())
    assert first is not None and second is not first


async def test_the_model_continues_the_replys_opening_read_as_prompt(llm):
    """`answer_request`'s last message, the reply's opening, is read with the prompt (its tokens
    and nothing more: no end of turn, no new assistant turn after it), not written by the model."""
    messages = [ChatMessage("user", "Where was the rally held?")]

    def post(path: str, body: dict) -> dict:
        assert llm.server is not None
        headers = {"Authorization": f"Bearer {llm.server.api_key}"}
        return httpx.post(
            f"{llm.server.base_url.removesuffix('/v1')}{path}", headers=headers, json=body, timeout=60
        ).json()

    def prompt_tokens(sent: list[ChatMessage]) -> int:
        body = {"model": SMALL.model, "messages": [m.as_dict() for m in sent], "max_tokens": 1}
        return int(post("/v1/chat/completions", body)["usage"]["prompt_tokens"])

    scripted = ScriptedLLM("Moscow")
    assert [p async for p in answer_request(scripted, messages)]
    [request] = scripted.requests
    opening = post("/tokenize", {"content": ANSWER_OPENING})["tokens"]
    assert prompt_tokens(request) - prompt_tokens(messages) == len(opening) > 0
    # The model's p(empty answer) is read where a token of its reply begins, whether it answers or
    # declines with an empty string: after ANSWER_OPENING, a token spanning its end (` ""`) is one
    # the model can never write, and the probability read 0.
    doubt_opening = post("/tokenize", {"content": DOUBT_OPENING})["tokens"]
    for reply in ('{"answer": "Moscow"}', '{"answer": ""}'):
        assert post("/tokenize", {"content": reply})["tokens"][: len(doubt_opening)] == doubt_opening, reply


async def test_streamed_pieces_carry_the_tokens_the_model_weighed(llm):
    """What `decline_probability` reads: at each piece, the likeliest tokens with their
    probabilities; at temperature 0 the piece is the likeliest of them."""
    messages = [ChatMessage("user", "Reply with a JSON object whose answer is the word yes.")]
    pieces = [p async for p in answer_request(llm, messages, 16)]
    # The grammar let the model write only the rest of the JSON reply: its string closes.
    assert parse_model_answer(closed_reply(ANSWER_OPENING + "".join(p.text for p in pieces)) or "") is not None
    assert not any(p.alternatives for p in pieces)  # the answer itself weighs none: the doubt is asked apart
    pieces = [p async for p in llm.stream(messages, 4, alternatives=ALTERNATIVES)]
    assert pieces and all(0 < len(p.alternatives) <= ALTERNATIVES for p in pieces)
    for piece in pieces:
        probabilities = [prob for _, prob in piece.alternatives]
        assert all(0.0 <= prob <= 1.0 for prob in probabilities) and sum(probabilities) <= 1.0 + 1e-6
    doubt = await empty_answer_probability(llm, messages)
    assert doubt is not None and 0.0 <= doubt <= 1.0


async def test_answers_come_back_as_json_with_valid_citations_or_refuse(llm, indexed):
    answerer = Answerer(indexed, llm, AnswerConfig())
    await answerer.warm()
    parsed = 0
    for question in (
        "How many people have fled Ukraine?",
        "Which Kyiv neighbourhood was hit?",
        "Who won the 2018 World Cup?",
    ):
        streamed: list[str] = []
        answer = await answerer.answer(question, on_sentence=streamed.append)
        assert answer.mode in ("llm", "refusal")
        # The model continued the reply's opening under the server's grammar, sent through the openai client.
        if parse_model_answer(answer.draft or "") is not None:
            parsed += 1
        if answer.refused:
            assert answer.citations == [] and answer.related and streamed == []
            continue
        assert streamed == [answer.text]
        numbers = {int(n) for n in re.findall(r"\[(\d+)\]", answer.text)}
        assert numbers == {c.n for c in answer.citations} == set(range(1, len(answer.citations) + 1))
        for c in answer.citations:
            assert c.article_id == "sample" and c.quote in c.text and c.text in indexed.article_text("sample")
        assert answer.timings["first_token_s"] > 0
        # The model's own doubt was weighed, and was low enough, before the answer was shown.
        assert answer.decline_p is not None and 0.0 <= answer.decline_p <= AnswerConfig().max_decline_probability
    assert parsed == 3


async def test_crashed_server_is_restarted(llm):
    server = llm.server
    killed = server._process
    os.kill(killed.pid, signal.SIGKILL)
    killed.wait()
    assert not server.running
    reply = await llm.complete([ChatMessage("user", "Say hi.")], max_tokens=8)
    assert reply.strip() and server.running and server._process.pid != killed.pid


async def timings_after_restore(llm: LLMClient, messages: list[ChatMessage]) -> dict:
    """The server's own timings for `messages` sent straight to it right after the client restored
    their kept prefix: `cache_n` counts the prompt tokens that came from the cache."""
    await llm._restore_kept(llm._kept_name(messages))
    assert llm.server is not None
    return httpx.post(
        f"{llm.server.base_url}/chat/completions",
        headers={"Authorization": f"Bearer {llm.server.api_key}"},
        json={"model": SMALL.model, "messages": [m.as_dict() for m in messages], "max_tokens": 1},
        timeout=60,
    ).json()["timings"]


async def test_a_warmed_article_is_kept_on_disk_and_read_back_after_a_restart(short, tmp_path):
    """The warm-up keeps the article's KV cache in a file; a new client and server (a restarted
    bot) read it back on the first question instead of reading the article again."""
    models, state = tmp_path / "models", tmp_path / "state"
    before = LLMClient(SMALL, models, state)
    try:
        # The re-ask's instructions, kept too, are the next test's.
        await Answerer(short, before, AnswerConfig(reask=False)).warm(["kyiv"])
    finally:
        before.stop()
    [kept] = state.glob("*.kv")
    assert kept.stat().st_size > 1_000_000

    after = LLMClient(SMALL, models, state)
    answerer = Answerer(short, after, AnswerConfig(reask=False))
    try:
        await answerer.warm(["kyiv"])  # kept: nothing is read now
        assert after.restores == 0 and after.server is not None
        await answerer.answer("Which Kyiv neighbourhood was hit?", ["kyiv"])
        await answerer.answer("What did the barrages hit?", ["kyiv"])
        assert after.restores == 1  # read back once; the second question found it in the slot
        # What a restore gives a fresh server: a request with the kept prompt finds it all cached.
        after.stop()
        await after.complete([ChatMessage("user", "Say hi.")], max_tokens=4)  # restarted, slot empty
        messages = answer_messages(answerer.templates, [p.text for p in short.passages_of(["kyiv"])], "Hi?")
        timings = await timings_after_restore(after, messages)
        assert timings["cache_n"] > 0.9 * (timings["cache_n"] + timings["prompt_n"])
    finally:
        after.stop()


@pytest.mark.parametrize("draft_tokens", [8, 0])
def test_the_server_drafts_from_the_prompt_as_configured(tmp_path, draft_tokens):
    """llm.lookup_draft_tokens reaches llama.cpp: its slots speculate (prompt lookup) or not."""
    config = dataclasses.replace(SMALL, lookup_draft_tokens=draft_tokens)
    client = LLMClient(config, tmp_path / "models", tmp_path / "state")  # a state dir opens /slots
    try:
        client.start()
        server = client.server
        assert server is not None
        slots = httpx.get(
            f"http://127.0.0.1:{server.port}/slots", headers={"Authorization": f"Bearer {server.api_key}"}
        ).json()
        assert [slot["speculative"] for slot in slots] == [draft_tokens > 0]
    finally:
        client.stop()


async def test_the_reask_reads_its_instructions_back_after_the_article(short, tmp_path):
    """answer.reask's prompt shares nothing with the article's: its instructions are warmed and kept
    in a file of their own, and a re-ask after an answer (the slot holding the article) reads them
    back rather than reading them again; so does the next answer its article."""
    models, state = tmp_path / "models", tmp_path / "state"
    llm = LLMClient(SMALL, models, state)
    answerer = Answerer(short, llm, AnswerConfig(reask=True))
    try:
        await answerer.warm(["kyiv"])
        assert len(list(state.glob("*.kv"))) == 2  # the article and the re-ask's instructions
        question = "Which Kyiv neighbourhood was hit?"
        answering = answer_messages(answerer.templates, [p.text for p in short.passages_of(["kyiv"])], question)
        reasking = reask_messages(answerer.templates, "Kyiv", "A building in Podil was hit.", question)
        await llm.complete(answering, 4)
        restores = llm.restores
        await llm.complete(reasking, 4)
        assert llm.restores == restores + 1  # the instructions read back
        await llm.complete(answering, 4)
        assert llm.restores == restores + 2  # and the article for the next question
        # What the instructions' file gives the slot: their tokens come from the cache.
        timings = await timings_after_restore(llm, reasking)
        assert timings["cache_n"] > len(answerer.templates.reask) / 6  # a token is ~4 characters
    finally:
        llm.stop()


async def test_what_a_question_read_is_kept_before_a_reask_pushes_it_out(indexed, tmp_path):
    """A question's focus passage is read after its kept window; `keep_read` saves the slot over
    the window's file before the re-ask's prompt replaces it, so the same passage asked about
    again comes from the cache, and a question on another passage still shares the window."""
    llm = LLMClient(SMALL, tmp_path / "models", tmp_path / "state")
    answerer = Answerer(indexed, llm, AnswerConfig(reask=True))
    texts = [p.text for p in indexed.passages_of(["sample"])]
    window, question = texts[:2], "Which Kyiv neighbourhood was hit?"
    focused = answer_messages(answerer.templates, window, question, (2, texts[8]))
    try:
        await llm.prefill(focused[:1], keep=True)
        await answerer._warm_reask()
        await llm.complete(focused, 4)  # the focus passage and question read after the window
        await llm.keep_read(focused)
        await llm.complete(reask_messages(answerer.templates, "Putin rally", texts[8], question), 4)
        again = await timings_after_restore(llm, focused)
        assert again["prompt_n"] < 10  # only the end of the prompt is read again
        other = answer_messages(answerer.templates, window, "Who spoke?", (1, texts[0]))
        assert (await timings_after_restore(llm, other))["cache_n"] > len(window[0]) / 6
    finally:
        llm.stop()


async def test_a_warm_up_step_overwritten_by_a_restore_is_parked_and_resumed(indexed, tmp_path):
    """llama.cpp's restore overwrites the slot without caching what it held: a warm-up step there
    is saved aside first, and the warm-up's next step reads it back instead of starting over."""
    client = LLMClient(SMALL, tmp_path / "models", tmp_path / "state")
    texts = [p.text for p in indexed.passages_of(["sample"])]
    templates = Answerer(indexed, client, AnswerConfig()).templates
    kept = answer_messages(templates, texts[:2], "Hi?")
    step1, step2 = (answer_messages(templates, texts[:n], "Hi?") for n in (4, 6))
    try:
        await client.prefill(kept, keep=True)
        await client.prefill(step1)  # a warm-up of another prefix, one step in
        await client.complete(kept[:1] + [ChatMessage("user", "Who spoke?")], max_tokens=4)  # restores `kept`
        assert client.restores == 1 and len(client._parked) == 1  # step1 was saved aside first
        await client.prefill(step2, resumes=step1)
        assert client.restores == 2 and client._parked == set()  # step1 read back, its file gone
        assert len(list((tmp_path / "state").glob("*.kv"))) == 1  # only the kept prefix stays
    finally:
        client.stop()


async def test_a_question_preempts_a_warm_up_step_which_then_resumes(indexed, tmp_path):
    """A question that comes in while a warm-up step is read cancels it: the server stops at the
    end of a batch, the question is answered, and the step is sent again once it is done, from
    what the server had read (parked, then read back), until the article is kept."""
    client = LLMClient(dataclasses.replace(SMALL, batch_tokens=32), tmp_path / "models", tmp_path / "state")
    texts = [p.text for p in indexed.passages_of(["sample"])]
    templates = Answerer(indexed, client, AnswerConfig()).templates
    asked, whole = answer_messages(templates, texts[:1], "Hi?"), answer_messages(templates, texts, "Hi?")
    try:
        await client.prefill(asked, keep=True)  # the article the question is about, kept
        stepping = asyncio.create_task(client.prefill(whole, keep=True))  # ~1,700 tokens to read
        await asyncio.sleep(0.5)
        async with client.question():
            await client.complete(asked[:1] + [ChatMessage("user", "Who spoke?")], max_tokens=4)
        assert not stepping.done()  # the question did not wait for the whole step
        await stepping
        assert client.preemptions == 1
        assert client.restores == 2  # the question's article, then the preempted step's part
        assert client.is_kept(whole)
    finally:
        client.stop()


async def test_unreachable_endpoint_falls_back_to_quotes(indexed, monkeypatch):
    monkeypatch.setenv("TEST_KEY", "secret-value")
    dead = LLMConfig(base_url="http://127.0.0.1:9/v1", model="x", api_key_env="TEST_KEY", retries=1, timeout_s=2)
    client = LLMClient(dead, indexed.data_dir)
    with pytest.raises(LLMError) as info:
        await client.complete([ChatMessage("user", "hi")], max_tokens=4)
    assert "secret-value" not in str(info.value)
    answer = await Answerer(indexed, client, AnswerConfig()).answer("How many people have fled Ukraine?")
    assert answer.mode == "quote" and answer.notice and answer.citations


def _children(pid: int) -> list[int]:
    """Live child processes of `pid`, from /proc (Linux)."""
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        if f"\nPPid:\t{pid}\n" in text and "\nState:\tZ" not in text:
            found.append(int(status.parent.name))
    return found


def _gone(pid: int, within_s: float) -> bool:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            return True
        if "\nState:\tZ" in state:
            return True
        time.sleep(0.1)
    return False


def _cli_config(tmp_path: Path, model: str = "smollm2-135m") -> Path:
    """A config file for the command line: its own data folder, no sample article, the model."""
    config = tmp_path / "config.toml"
    config.write_text(
        f'[store]\ndata_dir = "{tmp_path / "data"}"\nsample_article = ""\n'
        f'[llm]\nmodel = "{model}"\nthreads = 1\nstart_timeout_s = 60.0\n'
    )
    return config


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL])
def test_no_llm_server_outlives_the_bot(tmp_path, how):
    """`articlebot llm serve` killed by SIGTERM or SIGKILL: its llama.cpp child goes too."""
    config = _cli_config(tmp_path)
    exe = Path(sys.executable).parent / "articlebot"
    bot = subprocess.Popen(
        [exe, "--config", str(config), "llm", "serve"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        assert bot.stdout is not None and "serving" in bot.stdout.readline()
        [server] = _children(bot.pid)
        bot.send_signal(how)
        bot.wait(timeout=30)
        assert _gone(server, within_s=20), f"the llama.cpp server {server} outlived the bot ({how.name})"
    finally:
        bot.kill()


def test_a_server_that_never_gets_healthy_is_killed_and_reported(tmp_path, monkeypatch):
    """The start-up deadline passes: ensure_running raises (no deadlock on its own lock), the child
    is gone, and a later call tries again instead of hanging."""
    monkeypatch.setattr(server_module.httpx, "get", lambda *a, **k: (_ for _ in ()).throw(httpx.ConnectError("no")))
    spec = server_module.ServerSpec(resolve_model("smollm2-135m", tmp_path), 2, 2048, alias="local")
    server = server_module.LocalLLMServer(spec, start_timeout_s=2)
    outcome: list[BaseException | None] = []

    def start() -> None:
        try:
            server.ensure_running()
            outcome.append(None)
        except RuntimeError as exc:
            outcome.append(exc)

    before = set(_children(os.getpid()))  # the module's own server may be running
    worker = threading.Thread(target=start, daemon=True)
    worker.start()
    worker.join(timeout=45)
    assert not worker.is_alive(), "ensure_running deadlocked"
    assert isinstance(outcome[0], RuntimeError) and "did not become healthy" in str(outcome[0])
    assert all(_gone(pid, 20) for pid in set(_children(os.getpid())) - before)
    assert not server.running


def test_llm_check_has_the_model_write_and_names_the_build(tmp_path, capsys):
    """`articlebot llm check`, which `make run` runs on the llama.cpp it compiled: the model
    writes, and the file it ran and the instruction sets the build uses are named."""
    assert cli.main(["--config", str(_cli_config(tmp_path)), "llm", "check"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("smollm2-135m (SmolLM2-135M-Instruct.Q4_1.gguf) answered ")
    assert f"(llama.cpp built for {' '.join(server_module.cpu_features())})" in out


def test_llama_cpp_writes_with_a_requantized_model(tmp_path, capsys, smollm2_q8):
    """The default model is a requantized file where llama.cpp has AMX: llama.cpp must load such a file and write with it
    (here SmolLM2's Q4_1 weights in Q8_0)."""
    assert cli.main(["--config", str(_cli_config(tmp_path, str(smollm2_q8))), "llm", "check"]) == 0
    assert " answered " in capsys.readouterr().out


def test_llm_check_fails_with_one_line_when_the_server_dies(tmp_path, capsys):
    """A server that dies while loading (as a build using instructions the machine refuses does):
    exit 1 and one line, so that `make run` goes back to the prebuilt llama.cpp."""
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF" + b"\0" * 64)
    assert cli.main(["--config", str(_cli_config(tmp_path, str(broken))), "llm", "check"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("articlebot: error: the local LLM did not answer:") and "exited during start-up" in err
