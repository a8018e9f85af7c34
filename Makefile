# lmrec: `make demo` runs the main job, `make test` the test suite (lint included).
# Both create .venv on first use; re-running is fast when nothing changed.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
ML100K ?= ../shared/data/ml-100k
DEMO_OUT ?= runs/demo
TORCH_VERSION := 2.13.0
PIP := $(BIN)/pip --disable-pip-version-check -q

.PHONY: install demo test lint format bench clean

install: $(STAMP)

# CPU torch first: a plain `torch` requirement would pull a multi-GB CUDA build.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip
	$(PIP) install torch==$(TORCH_VERSION)
	$(PIP) install -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/lmrec demo --ml100k $(ML100K) --out $(DEMO_OUT)

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	# a SyntaxWarning (e.g. a string literal followed by "(", which calls it) fails the build
	$(BIN)/python -W error -c "import pathlib; [compile(p.read_text(), str(p), 'exec') for d in ('src', 'tests', 'benchmarks') for p in pathlib.Path(d).rglob('*.py')]"
	$(BIN)/mypy
	$(BIN)/lint-imports

test: lint
	$(BIN)/python -m pytest -q

format: $(STAMP)
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

bench: $(STAMP)
	$(BIN)/python benchmarks/ml100k.py --ml100k $(ML100K)

clean:
	rm -rf $(VENV) runs .pytest_cache .mypy_cache .ruff_cache
