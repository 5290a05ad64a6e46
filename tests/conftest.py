from __future__ import annotations

import http.server
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import settings

# CI explores the same examples on every run, so a submission cannot fail on a rare draw that a
# developer never saw; locally each run draws new ones (and remembers failures).
settings.register_profile("ci", derandomize=True, deadline=None)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

from bot.config import Config, StoreConfig
from bot.llm.models import resolve_model
from bot.llm.requantize import requantize
from index.chunk import ChunkingConfig
from index.embed import Embedder, EmbeddingConfig
from index.ingest_config import IngestConfig
from index.library import Library
from index.rerank import CrossEncoderReranker
from index.search import SearchConfig

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "seed-article.txt"


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The real all-MiniLM-L6-v2, loaded once per test session (about 6 s)."""
    model = Embedder(EmbeddingConfig(threads=1))
    model.embed_query("warm up")
    return model


@pytest.fixture(scope="session")
def reranker() -> CrossEncoderReranker:
    """The real ms-marco cross-encoder (ONNX), loaded once per test session (under a second)."""
    return CrossEncoderReranker(threads=1)


@pytest.fixture(scope="session")
def smollm2(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The test model's packaged file."""
    return resolve_model("smollm2-135m", tmp_path_factory.mktemp("models"))


@pytest.fixture(scope="session")
def smollm2_q8(smollm2: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The test model with its weights requantized to Q8_0, as the default model is where
    llama.cpp has AMX (~10 s: made once for the tests that read it and the one that runs it)."""
    target = tmp_path_factory.mktemp("q8") / "smollm2-q8_0.gguf"
    requantize(smollm2, target, "Q8_0")
    return target


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return Config(
        base_dir=tmp_path,
        store=StoreConfig(data_dir="data", sample_article=str(SAMPLE)),
        ingest=IngestConfig(allowed_hosts=("127.0.0.1",)),
        chunking=ChunkingConfig(),
        embedding=EmbeddingConfig(threads=1),
        search=SearchConfig(),
    )


@pytest.fixture
def library(config: Config, embedder: Embedder) -> Library:
    return Library(config.data_dir, config.chunking, config.search, embedder)


@pytest.fixture
def sample_text() -> str:
    return SAMPLE.read_text(encoding="utf-8")


@dataclass
class Route:
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    drip_s: float = 0.0  # > 0: the body goes out one byte at a time, this many seconds apart


@dataclass
class LocalSite:
    """A real HTTP server on 127.0.0.1 whose pages a test defines (and which may be hostile)."""

    base: str
    routes: dict[str, Route]
    requested: list[str] = field(default_factory=list)  # every path asked for, in order

    def url(self, path: str) -> str:
        return self.base + path


@pytest.fixture
def site() -> Iterator[LocalSite]:
    routes: dict[str, Route] = {}
    requested: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            requested.append(self.path)
            route = routes.get(self.path)
            if route is None:
                self.send_error(404)
                return
            etag = route.headers.get("ETag")
            if etag and self.headers.get("If-None-Match") == etag:  # what a real server does
                self.send_response(304)
                self.end_headers()
                return
            self.send_response(route.status)
            self.send_header("Content-Type", route.content_type)
            self.send_header("Content-Length", str(len(route.body)))
            for key, value in route.headers.items():
                self.send_header(key, value)
            self.end_headers()
            if not route.drip_s:
                self.wfile.write(route.body)
                return
            try:
                for i in range(len(route.body)):
                    self.wfile.write(route.body[i : i + 1])
                    self.wfile.flush()
                    time.sleep(route.drip_s)
            except OSError:
                pass  # the client gave up: what a drip test wants

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LocalSite(f"http://127.0.0.1:{server.server_address[1]}", routes, requested)
    finally:
        server.shutdown()
        server.server_close()
