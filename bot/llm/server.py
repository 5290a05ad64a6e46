"""Run a llama.cpp OpenAI-compatible server (xllamacpp) in a child process on 127.0.0.1.

The child loads the model and serves HTTP; the parent waits for /health, warms the server up,
restarts it if it dies, and shuts it down with terminate → wait → kill.
Child entry point: `python -m bot.llm.server --model PATH --port N --threads T --ctx C`
(the API key comes in the environment, never on the command line).
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

log = logging.getLogger(__name__)

KEY_ENV = "ARTICLEBOT_LLM_SERVER_KEY"
_STOP_GRACE_S = 30.0


def cpu_features() -> list[str]:
    """The instruction sets the installed llama.cpp was compiled for. The prebuilt wheel has AVX2
    at most; `make run` compiles it for the machine's own CPU (AVX-512 where there is one), which
    reads prompts about twice as fast, so the benchmarks record which build ran."""
    import xllamacpp

    return re.findall(r"(\w+) = 1", xllamacpp.get_system_info())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class ServerSpec:
    model_path: Path
    threads: int
    context_tokens: int
    alias: str
    batch_tokens: int = 2048
    slot_dir: Path | None = None  # where /slots/0?action=save|restore keeps KV-cache files
    cache_ram_mib: int = 8192  # llama.cpp's in-memory prompt cache
    lookup_draft_tokens: int = 0  # prompt lookup decoding: tokens drafted from the prompt; 0: off
    lookup_ngram_tokens: int = 3  # ... after a match of this many tokens


class LocalLLMServer:
    """A supervised child process; `ensure_running()` (re)starts it, `stop()` ends it."""

    def __init__(self, spec: ServerSpec, start_timeout_s: float = 180.0):
        self.spec = spec
        self.start_timeout_s = start_timeout_s
        self.api_key = secrets.token_urlsafe(24)  # the port is reachable by other local users
        self.port = 0
        self._process: subprocess.Popen | None = None
        self._lock = threading.Lock()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def ensure_running(self) -> None:
        with self._lock:
            if self.running:
                return
            if self._process is not None:
                log.warning("the local LLM server exited with code %s; restarting it", self._process.returncode)
            self._start()

    def _start(self) -> None:
        self.port = free_port()
        command = [
            sys.executable,
            "-m",
            "bot.llm.server",
            "--model",
            str(self.spec.model_path),
            "--port",
            str(self.port),
            "--threads",
            str(self.spec.threads),
            "--ctx",
            str(self.spec.context_tokens),
            "--alias",
            self.spec.alias,
            "--batch",
            str(self.spec.batch_tokens),
            "--cache-ram",
            str(self.spec.cache_ram_mib),
            "--lookup-draft",
            str(self.spec.lookup_draft_tokens),
            "--lookup-ngram",
            str(self.spec.lookup_ngram_tokens),
        ]
        if self.spec.slot_dir is not None:
            command += ["--slot-dir", str(self.spec.slot_dir)]
        log.info("starting the local LLM server on 127.0.0.1:%d with %s", self.port, self.spec.model_path.name)
        env = os.environ | {KEY_ENV: self.api_key}
        # stdin is a pipe the child watches: when this process ends in any way (SIGKILL included)
        # the pipe closes and the child exits, so no 1 GB server outlives the bot.
        self._process = subprocess.Popen(
            command, env=env, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        self._wait_healthy()

    def _wait_healthy(self) -> None:
        """Called with the lock held; on failure the child is gone and the error says why."""
        deadline = time.monotonic() + self.start_timeout_s
        process = self._process
        assert process is not None
        while time.monotonic() < deadline:
            if process.poll() is not None:
                output = process.stderr.read().decode(errors="replace") if process.stderr else ""
                raise RuntimeError(startup_failure(process.returncode, output))
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/health", timeout=2).status_code == 200:
                    self._drain_stderr()
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self._process = None
        _terminate(process)
        raise RuntimeError(f"the local LLM server did not become healthy within {self.start_timeout_s:g} s")

    def _drain_stderr(self) -> None:
        # llama.cpp logs a lot; an unread pipe would fill up and stall the server.
        process = self._process
        assert process is not None and process.stderr is not None

        def drain() -> None:
            for line in process.stderr:
                log.debug("llama.cpp: %s", line.decode(errors="replace").rstrip())

        threading.Thread(target=drain, daemon=True, name="llm-server-log").start()

    def stop(self) -> None:
        with self._lock:
            process, self._process = self._process, None
        if process is not None:
            _terminate(process)

    def __enter__(self) -> LocalLLMServer:
        self.ensure_running()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def startup_failure(returncode: int, output: str) -> str:
    """Why the server exited while starting: its exit code and the last line it wrote (llama.cpp
    ends with the cause), then its last lines, for the log. Whole lines: a tail cut at a number
    of characters began mid-word ("…(code -6): sity = 3")."""
    lines = [line.rstrip() for line in output.splitlines() if line.strip()]
    cause = lines[-1] if lines else "it wrote nothing"
    return "\n".join([f"the local LLM server exited during start-up (code {returncode}): {cause}", *lines[-20:]])


def _terminate(process: subprocess.Popen) -> None:
    """terminate → wait → kill; returns once the process is gone."""
    if process.stdin is not None:
        process.stdin.close()
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=_STOP_GRACE_S)
    except subprocess.TimeoutExpired:
        log.warning("the local LLM server ignored SIGTERM for %g s; killing it", _STOP_GRACE_S)
        process.kill()
        process.wait()


def _watch_parent() -> None:
    """Exit at once when the parent's end of our stdin closes: the parent is gone (or stopping
    us), and nobody is left to answer — even while the model is still loading."""

    def watch() -> None:
        while sys.stdin.buffer.read(1):
            pass
        os._exit(0)

    threading.Thread(target=watch, daemon=True, name="parent-watch").start()


def _serve(args: argparse.Namespace) -> None:
    import xllamacpp as xlc

    params = xlc.CommonParams()
    params.model.path = args.model
    params.hostnames = ["127.0.0.1"]
    params.port = args.port
    params.n_ctx = args.ctx
    params.n_parallel = 1  # one request at a time: two would fight over the two cores
    params.cpuparams.n_threads = args.threads
    params.cpuparams_batch.n_threads = args.threads
    params.model_alias = {args.alias}
    # Prompt tokens read per step: a request cancelled mid-prompt (its reader left) stops at the
    # end of the current step.
    params.n_batch = args.batch
    params.n_ubatch = min(args.batch, 512)
    params.cache_ram_mib = args.cache_ram
    # Read the weights into memory instead of mapping the file. llama.cpp copies the weights it
    # multiplies into its repacked (AMX or SIMD-interleaved) buffers; a mapped file stays resident
    # beside that copy. Measured with the Q8_0 default: 3.56 GB mapped against 2.23 GB read (the
    # model file's 1.58 GB counted twice), the same prompt and writing speed, start 6.5 s against 2.5 s.
    params.load_mode = xlc.llama_load_mode.LLAMA_LOAD_MODE_NONE
    if args.slot_dir:
        # A prompt's KV cache saved to a file survives a restart of this server: a warm-up
        # restored from it costs a file read instead of re-reading the article.
        params.slot_save_path = os.path.join(args.slot_dir, "")  # llama.cpp appends the file name as is
        params.endpoint_slots = True
    if args.lookup_draft > 0:
        # Drafts come from the prompt itself (no draft model, nothing more to read or keep); they
        # are checked in one batch. With AMX that pays (18 instead of 10.4 tokens/s on the Xeon);
        # without it a batch cost about what it saved (README: answer latency).
        params.speculative.types = [xlc.common_speculative_type.COMMON_SPECULATIVE_TYPE_NGRAM_SIMPLE]
        params.speculative.ngram_simple.size_n = args.lookup_ngram
        params.speculative.ngram_simple.size_m = args.lookup_draft
    key = os.environ.get(KEY_ENV)
    if key:
        params.api_keys = [key]
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    _watch_parent()
    server = xlc.Server(params)  # returns once the model is loaded and HTTP is listening
    stop.wait()
    del server
    os._exit(0)  # skip interpreter teardown, which can hang on the server's threads


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve a GGUF model over the OpenAI HTTP API on 127.0.0.1")
    parser.add_argument("--model", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--ctx", type=int, default=4096)
    parser.add_argument("--alias", default="local")
    parser.add_argument("--batch", type=int, default=2048)
    parser.add_argument("--cache-ram", type=int, default=8192, help="MiB for the in-memory prompt cache")
    parser.add_argument("--lookup-draft", type=int, default=0, help="tokens drafted from the prompt (0: off)")
    parser.add_argument("--lookup-ngram", type=int, default=3, help="tokens that must match to draft")
    parser.add_argument("--slot-dir", default=None, help="directory for saved slot KV caches (enables /slots)")
    _serve(parser.parse_args())


if __name__ == "__main__":
    main()
