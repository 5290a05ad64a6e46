"""End to end with real parts: the xllamacpp server in a child process, the real openai client
over HTTP with streaming, the real index. SmolLM2-135M only checks the plumbing: the assertions
are about structure (server up, chunks streamed, citations valid or a refusal), not wording."""

from __future__ import annotations

import os
import re
import signal

import httpx
import pytest

from bot.answering.config import AnswerConfig
from bot.answering.evidence import parse_model_answer
from bot.answering.pipeline import Answerer
from bot.llm.client import LLMClient
from bot.llm.config import LLMConfig
from bot.llm.protocol import ChatMessage, LLMError
from index.clean import clean_text
from index.models import Document

pytestmark = pytest.mark.slow

SMALL = LLMConfig(
    model="smollm2-135m",
    threads=2,
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


def test_server_is_up_and_guarded(llm):
    server = llm.server
    assert server is not None and server.running
    assert httpx.get(f"http://127.0.0.1:{server.port}/health").status_code == 200
    # The port is bound to loopback and needs the key this process generated.
    assert httpx.get(f"{server.base_url}/models").status_code == 401
    models = httpx.get(f"{server.base_url}/models", headers={"Authorization": f"Bearer {server.api_key}"}).json()
    assert [m["id"] for m in models["data"]] == ["smollm2-135m"]


async def test_streams_chunks_through_openai_client(llm):
    pieces = [p async for p in llm.stream([ChatMessage("user", "Count from one to ten.")], max_tokens=24)]
    assert len(pieces) > 3 and "".join(pieces).strip()


async def test_answers_come_back_as_schema_json_with_valid_citations_or_refuse(llm, indexed):
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
        # The server's JSON-schema grammar, sent through the openai client, shaped the reply.
        parsed += parse_model_answer(answer.draft or "") is not None
        if answer.refused:
            assert answer.citations == [] and answer.related and streamed == []
            continue
        assert streamed == [answer.text]
        numbers = {int(n) for n in re.findall(r"\[(\d+)\]", answer.text)}
        assert numbers == {c.n for c in answer.citations} == set(range(1, len(answer.citations) + 1))
        for c in answer.citations:
            assert c.article_id == "sample" and c.quote in c.text and c.text in indexed.article_text("sample")
        assert answer.timings["first_token_s"] > 0
    assert parsed == 3


async def test_crashed_server_is_restarted(llm):
    server = llm.server
    killed = server._process
    os.kill(killed.pid, signal.SIGKILL)
    killed.wait()
    assert not server.running
    reply = await llm.complete([ChatMessage("user", "Say hi.")], max_tokens=8)
    assert reply.strip() and server.running and server._process.pid != killed.pid


async def test_unreachable_endpoint_falls_back_to_quotes(indexed, monkeypatch):
    monkeypatch.setenv("TEST_KEY", "secret-value")
    dead = LLMConfig(base_url="http://127.0.0.1:9/v1", model="x", api_key_env="TEST_KEY", retries=1, timeout_s=2)
    client = LLMClient(dead, indexed.data_dir)
    with pytest.raises(LLMError) as info:
        await client.complete([ChatMessage("user", "hi")], max_tokens=4)
    assert "secret-value" not in str(info.value)
    answer = await Answerer(indexed, client, AnswerConfig()).answer("How many people have fled Ukraine?")
    assert answer.mode == "quote" and answer.notice and answer.citations
